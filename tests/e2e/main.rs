//! End-to-end tests: the real binary against the stateful fake GitHub API.

mod audit;
mod bad_inputs;
mod cli;
mod connection;
mod filters;
mod fresh;
mod harness;
mod hostile_client;
mod hostile_output;
mod hostile_registry;
mod hostile_server;
mod images;
mod limits;
mod order;
mod owners;
mod packages;
mod plans;
mod real_registry;
mod references;
mod refusals;
mod restore;
mod rules;
mod scopes;
mod state;
mod summary;
mod untag;
