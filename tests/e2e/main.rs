//! End-to-end tests: the real binary against the stateful fake GitHub API.

mod harness;
mod filters;
