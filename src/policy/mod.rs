//! Pure decisions: the rules of a run, the policy plan (rules → a decision and a reason per
//! version) and the image graph that keeps container images whole. No I/O, and nothing of
//! ours but the shared vocabulary in `model`: the configuration builds the rules.

pub mod audit;
pub mod images;
pub mod plan;
pub mod rules;
pub mod untag;
