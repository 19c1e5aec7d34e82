//! Pure decisions: the rules of a run, the policy plan (rules → a decision and a reason per
//! version), the version order of each ecosystem, and the image graph that keeps container
//! images whole. No I/O, and nothing of
//! ours but the shared vocabulary in `model`: the configuration builds the rules.

pub mod apply;
pub mod audit;
pub mod images;
pub mod order;
pub mod plan;
pub mod rules;
pub mod storage;
pub mod untag;
