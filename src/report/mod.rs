//! What a run did, and the three ways it is told: log, outputs and step summary.

pub mod audit;
pub mod log;
pub mod outputs;
pub mod sanitize;
pub mod summary;
pub mod terminal;

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::version::Version;
use crate::policy::plan::{Decision, Plan, Reason};

/// One package's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    pub name: String,
    /// Versions listed (active in delete mode, deleted in restore mode).
    pub listed: usize,
    /// Versions kept, counted by the input (or image rule) that kept them.
    pub kept: BTreeMap<&'static str, usize>,
    /// What each rule did, numbered from 1.
    pub rules: Vec<RuleReport>,
    /// `rules`: the versions a rule's `keep-latest` kept, newest first, each with its reason
    /// ("kept by rule releases: among the 30 newest").
    pub kept_by_rules: Vec<(Version, String)>,
    /// The selected versions, oldest first, with what happened to each.
    pub entries: Vec<Entry>,
    /// Set when the package could not be listed; then there are no entries.
    pub error: Option<String>,
    /// Set when the package was not listed because the primary budget ran out; the next
    /// run lists it. Not a failure.
    pub left: Option<String>,
    /// Set when the package itself was acted on: deleted whole, or restored.
    pub whole: Option<PackageEntry>,
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
        let mut kept_by_rules = Vec::new();
        for planned in &plan.versions {
            if planned.decision == Decision::Keep && !acted.contains(&planned.version.id) {
                *kept.entry(kept_by(&planned.reason)).or_insert(0) += 1;
                if let Reason::KeptBy { .. } = planned.reason {
                    kept_by_rules.push((planned.version.clone(), planned.reason.to_string()));
                }
            }
        }
        let rules = plan
            .rules
            .iter()
            .map(|tally| RuleReport {
                label: tally.label.clone(),
                matched: tally.matched,
                kept: tally.kept,
                selected: tally.selected,
                acted_on: entries
                    .iter()
                    .filter(|entry| entry.outcome.is_acted_on())
                    .filter(|entry| entry.rule.as_deref() == Some(tally.label.as_str()))
                    .count(),
            })
            .collect();
        PackageReport {
            name: name.to_string(),
            listed: plan.versions.len(),
            kept,
            rules,
            kept_by_rules,
            entries,
            error: None,
            left: None,
            whole: None,
            undecided: 0,
        }
    }

    /// The same report, with what happened to the package itself.
    pub fn with_whole(self, whole: Option<PackageEntry>) -> PackageReport {
        PackageReport { whole, ..self }
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
            rules: Vec::new(),
            kept_by_rules: Vec::new(),
            entries: Vec::new(),
            error: None,
            left: None,
            whole: None,
            undecided: 0,
        }
    }
}

/// One rule's counts for a package. `kept` and `selected` are the rule's own ranking, before
/// keeping wins over selecting; `acted_on` counts the versions deleted (or restored, or that
/// would be in a dry run) in the end under this rule, with those that went with its images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    /// The rule's name, or `#N`.
    pub label: String,
    pub matched: usize,
    pub kept: usize,
    pub selected: usize,
    pub acted_on: usize,
}

/// The input whose rule kept a version.
fn kept_by(reason: &Reason) -> &'static str {
    match reason {
        Reason::Selected | Reason::SelectedBy(_) => "selected",
        Reason::NoRuleMatches => "no rule matches",
        Reason::NotInVersionIds => "version-ids",
        Reason::TagsUnknown => "tags unknown",
        Reason::Excluded(_) => "exclude-tag-regex",
        Reason::TagState(_) => "tag-state",
        Reason::NoTagMatch => "tag-regex",
        Reason::TooRecent => "older-than",
        Reason::DeletedTooLongAgo => "deleted-within",
        Reason::KeptLatest(_) | Reason::KeptBy { .. } => "keep-latest",
        Reason::PartOfKept { .. } => "part of a kept image",
        Reason::FailClosed(_) => "fail closed",
        Reason::Unreadable(_) => "manifest unreadable",
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
    /// Ids in `version-ids` neither acted on nor skipped: not found, or kept by the policy.
    pub not_found: usize,
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
    /// Set when the run ended before it was through: cancelled, or an error after changes
    /// began. What was done is still reported; the run fails.
    pub interrupted: Option<String>,
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
            let whole_failed = package
                .whole
                .as_ref()
                .is_some_and(|whole| matches!(whole.outcome, Outcome::Failed(_)));
            totals.packages_failed += usize::from(whole_failed);
            totals.left += package.undecided;
            for entry in &package.entries {
                match entry.outcome {
                    Outcome::Skipped(_) => totals.skipped += 1,
                    Outcome::Failed(_) => totals.failed += 1,
                    Outcome::Left(_) => totals.left += 1,
                    Outcome::NotFound(_) => totals.not_found += 1,
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

    /// A run succeeds when nothing failed, nothing was refused, it was not interrupted and
    /// every id asked for was found; work left for the next run is not a failure.
    pub fn succeeded(&self) -> bool {
        let totals = self.totals();
        self.refusal.is_none()
            && self.interrupted.is_none()
            && totals.failed == 0
            && totals.packages_failed == 0
            && totals.not_found == 0
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

/// RFC 3339 in whole seconds, the form GitHub uses. Times RFC 3339 cannot write (before
/// 1970 or after 9999, which only a hostile answer gives) are named, never a panic.
pub fn timestamp(time: SystemTime) -> String {
    /// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    const LAST_SECOND: u64 = 253_402_300_799;
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(since) if since.as_secs() <= LAST_SECOND => {
            humantime::format_rfc3339_seconds(time).to_string()
        }
        Ok(_) => "after 9999-12-31T23:59:59Z".to_string(),
        Err(_) => "before 1970-01-01T00:00:00Z".to_string(),
    }
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
    fn timestamps_outside_rfc_3339_are_named_instead_of_panicking() {
        let epoch = std::time::UNIX_EPOCH;
        let cases = [
            (epoch, "1970-01-01T00:00:00Z"),
            (
                epoch - Duration::from_secs(1),
                "before 1970-01-01T00:00:00Z",
            ),
            (
                epoch + Duration::from_secs(253_402_300_799),
                "9999-12-31T23:59:59Z",
            ),
            (
                epoch + Duration::from_secs(253_402_300_800),
                "after 9999-12-31T23:59:59Z",
            ),
        ];
        for (time, expected) in cases {
            assert_eq!(timestamp(time), expected);
        }
    }

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
