//! Shared vocabulary that the policy, the clients, the run and the reports all import; it
//! imports nothing else of ours, so every arrow points into it.

pub mod image;
pub mod manifest;
pub mod mode;
pub mod outcome;
pub mod plan_file;
pub mod reference;
pub mod untag;
pub mod version;
