//! Pure decisions: the policy plan (rules → a decision and a reason per version) and the
//! image graph that keeps container images whole. No I/O.

pub mod audit;
pub mod images;
pub mod plan;
