//! package-janitor: delete or restore the GitHub Packages versions a policy selects, and report it.

pub mod config;
pub mod plan;
pub mod version;
