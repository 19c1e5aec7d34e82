//! What a run says of its plan file: the plan a dry run wrote, or the plan a run applied
//! and how what was done compares with it. Plain values, kept apart from the report's
//! types so that the report can hold one without importing how it is told.

use std::fmt::Write as _;
use std::time::SystemTime;

/// What a run's summary and log say of its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanNote {
    /// A dry run wrote its plan.
    Written(Written),
    /// A dry run was to write a plan and did not: why. The run fails.
    NotWritten(String),
    /// A run applied a plan: how what was done compares with it.
    Applied(Comparison),
}

/// A plan a dry run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The plan file and its Markdown, as given (relative to the workspace).
    pub path: String,
    pub markdown_path: String,
    pub deletions: usize,
    pub packages: usize,
    pub fingerprint: String,
    pub expires_at: SystemTime,
}

/// A plan applied, and what came of each version it named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub path: String,
    pub made_at: Option<SystemTime>,
    pub expires_at: Option<SystemTime>,
    /// Versions the plan named.
    pub planned: usize,
    pub deleted: usize,
    /// Planned, and skipped because they changed since the plan (or are no longer selected).
    pub changed: usize,
    /// Planned, and skipped for another reason (GitHub's refusals, an image not deleted).
    pub skipped: usize,
    pub failed: usize,
    /// Planned, and not tried: the rate limit, a cancel, or a package not listed.
    pub left: usize,
    /// Selected by today's policy, not named by the plan: not deleted.
    pub not_in_plan: usize,
}

impl Comparison {
    /// `5 planned, 3 deleted, 1 skipped as changed since the plan, 1 left for the next run`;
    /// the counts after `deleted` only when they are not zero.
    pub fn counts(&self) -> String {
        let mut parts = vec![
            format!("{} planned", self.planned),
            format!("{} deleted", self.deleted),
        ];
        for (count, what) in [
            (self.changed, "skipped as changed since the plan"),
            (self.skipped, "skipped"),
            (self.failed, "failed"),
            (self.left, "left for the next run"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {what}"));
            }
        }
        let mut line = parts.join(", ");
        if self.not_in_plan > 0 {
            let were = if self.not_in_plan == 1 { "was" } else { "were" };
            let _ = write!(
                line,
                "; {} selected by today's policy but not in the plan {were} not deleted",
                self.not_in_plan
            );
        }
        line
    }
}
