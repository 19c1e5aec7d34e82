//! package-janitor: delete or restore the GitHub Packages versions a policy selects, and report it.

pub mod config;
pub mod execute;
pub mod github;
pub mod images;
pub mod inspect;
pub mod owner;
pub mod plan;
pub mod registry;
pub mod report;
pub mod run;
pub mod version;
