//! End-to-end tests: the real binary against the stateful fake GitHub API.

mod filters;
mod harness;
mod owners;
mod restore;
