//! package-janitor: delete or restore the GitHub Packages versions a policy selects, and report it.
//!
//! The flow runs one way: [`config`] → [`policy`] → [`run`] (over the [`github`] and
//! [`registry`] clients) → [`report`]; [`model`] is the vocabulary they share, and
//! [`transport`] what the two clients share. Neither imports anything else of ours, and
//! `tests/architecture.rs` fails when two modules import each other.

pub mod config;
pub mod github;
pub mod model;
pub mod owner;
pub mod policy;
pub mod references;
pub mod registry;
pub mod report;
pub mod run;
pub mod state;
#[cfg(test)]
mod testing;
pub mod transport;
pub mod workspace_file;
