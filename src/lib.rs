//! package-janitor: delete or restore the GitHub Packages versions a policy selects, and report it.
//!
//! The flow runs one way: [`config`] → [`policy`] → [`run`] (over the [`github`] and
//! [`registry`] clients) → [`report`]; [`model`] is the vocabulary they share.

pub mod config;
pub mod github;
pub mod model;
pub mod owner;
pub mod policy;
pub mod registry;
pub mod report;
pub mod run;
pub mod state;
pub mod workspace_file;
