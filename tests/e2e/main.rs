//! End-to-end tests: the real binary against the stateful fake GitHub API.

mod bad_inputs;
mod filters;
mod harness;
mod images;
mod limits;
mod owners;
mod refusals;
mod restore;
mod state;
