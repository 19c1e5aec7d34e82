//! What a run did, and the three ways it is told: log, outputs and step summary.

pub mod log;
pub mod outputs;
pub mod summary;

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use crate::model::outcome::{Entry, Outcome};
use crate::policy::plan::{Decision, Plan, Reason};

/// One package's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    pub name: String,
    /// Versions listed (active in delete mode, deleted in restore mode).
    pub listed: usize,
    /// Versions kept, counted by the input (or image rule) that kept them.
    pub kept: BTreeMap<&'static str, usize>,
    /// The selected versions, oldest first, with what happened to each.
    pub entries: Vec<Entry>,
    /// Set when the package could not be listed; then there are no entries.
    pub error: Option<String>,
    /// Set when the package was not listed because the primary budget ran out; the next
    /// run lists it. Not a failure.
    pub left: Option<String>,
    /// Versions not yet decided because the listing spans runs (`state-file`): counted in
    /// `left-count`, so that it is never 0 while work is left.
    pub undecided: usize,
}

impl PackageReport {
    /// A report for a listed and planned package and what was done with it. Versions the
    /// plan kept but that a restore brought back with their image are entries, not kept.
    pub fn planned(name: &str, plan: &Plan, entries: Vec<Entry>) -> PackageReport {
        let acted: HashSet<u64> = entries.iter().map(|entry| entry.version.id).collect();
        let mut kept = BTreeMap::new();
        for planned in &plan.versions {
            if planned.decision == Decision::Keep && !acted.contains(&planned.version.id) {
                *kept.entry(kept_by(&planned.reason)).or_insert(0) += 1;
            }
        }
        PackageReport {
            name: name.to_string(),
            listed: plan.versions.len(),
            kept,
            entries,
            error: None,
            left: None,
            undecided: 0,
        }
    }

    pub fn failed(name: &str, error: String) -> PackageReport {
        PackageReport {
            error: Some(error),
            ..PackageReport::empty(name)
        }
    }

    /// Not listed: the primary budget ran out first.
    pub fn left(name: &str, reason: String) -> PackageReport {
        PackageReport {
            left: Some(reason),
            ..PackageReport::empty(name)
        }
    }

    fn empty(name: &str) -> PackageReport {
        PackageReport {
            name: name.to_string(),
            listed: 0,
            kept: BTreeMap::new(),
            entries: Vec::new(),
            error: None,
            left: None,
            undecided: 0,
        }
    }
}

/// The input whose rule kept a version.
fn kept_by(reason: &Reason) -> &'static str {
    match reason {
        Reason::Selected => "selected",
        Reason::NotInVersionIds => "version-ids",
        Reason::Excluded(_) => "exclude-tag-regex",
        Reason::TagState(_) => "tag-state",
        Reason::NoTagMatch => "tag-regex",
        Reason::TooRecent => "older-than",
        Reason::DeletedTooLongAgo => "deleted-within",
        Reason::KeptLatest(_) => "keep-latest",
        Reason::PartOfKept { .. } => "part of a kept image",
        Reason::FailClosed(_) => "fail closed",
        Reason::PartOfDeleted { .. } | Reason::Orphan(_) => "selected",
    }
}

/// Totals over every package of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub listed: usize,
    pub selected: usize,
    pub acted_on: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Selected versions not tried because the primary budget ran out, and versions not yet
    /// decided because their listing spans runs.
    pub left: usize,
    pub packages_failed: usize,
    /// Packages not listed because the primary budget ran out.
    pub packages_left: usize,
}

/// Everything a run reports, whatever way it is told.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub packages: Vec<PackageReport>,
    /// Set when the run refused to change anything (max-versions exceeded).
    pub refusal: Option<String>,
    /// Set when the primary budget ran out before every package was even found; not a
    /// failure.
    pub stopped: Option<String>,
    pub now: SystemTime,
}

impl RunReport {
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for package in &self.packages {
            totals.listed += package.listed;
            totals.selected += package.entries.len();
            totals.packages_failed += usize::from(package.error.is_some());
            totals.packages_left += usize::from(package.left.is_some());
            totals.left += package.undecided;
            for entry in &package.entries {
                match entry.outcome {
                    Outcome::Skipped(_) => totals.skipped += 1,
                    Outcome::Failed(_) => totals.failed += 1,
                    Outcome::Left(_) => totals.left += 1,
                    _ => totals.acted_on += 1,
                }
            }
        }
        totals
    }

    /// Whether the primary budget cut the run short: some work is left for the next run.
    pub fn cut_short(&self) -> bool {
        let totals = self.totals();
        self.stopped.is_some() || totals.left > 0 || totals.packages_left > 0
    }

    /// A run succeeds when nothing failed and nothing was refused; work left for the next
    /// run is not a failure.
    pub fn succeeded(&self) -> bool {
        let totals = self.totals();
        self.refusal.is_none() && totals.failed == 0 && totals.packages_failed == 0
    }

    /// Every entry with the package it belongs to, in report order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.packages.iter().flat_map(|package| {
            package
                .entries
                .iter()
                .map(move |entry| (package.name.as_str(), entry))
        })
    }
}

/// RFC 3339 in whole seconds, the form GitHub uses.
pub fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A short age such as `45d`, `3h` or `12m`, for tables.
pub fn age(now: SystemTime, then: SystemTime) -> String {
    let seconds = now
        .duration_since(then)
        .map(|age| age.as_secs())
        .unwrap_or(0);
    match seconds {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s => format!("{}m", s / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000_000);
        let cases = [
            (0, "0m"),
            (59, "0m"),
            (60 * 5, "5m"),
            (3_600 * 3, "3h"),
            (86_400 * 45 + 10, "45d"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(age(now, now - Duration::from_secs(seconds)), expected);
        }
        assert_eq!(
            age(now, now + Duration::from_secs(60)),
            "0m",
            "future times are age 0"
        );
    }
}
