//! What a run did, and the three ways it is told: log, outputs and step summary.

pub mod audit;
pub mod log;
pub mod outputs;
pub mod plan;
pub mod plan_note;
pub mod publish;
pub mod sanitize;
pub mod storage;
pub mod summary;
pub mod terminal;
pub mod text;

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use crate::model::image::Role;
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::untag::{TagEntry, TagOutcome};
use crate::model::version::Version;
use crate::policy::plan::{Decision, Plan, Reason};
use crate::policy::storage::{Note, Size, Storage};

/// Kept versions listed per package, newest first; the rest are only counted. A package
/// may keep 100k versions, and the summary shows far fewer rows than this anyway.
const MAX_KEPT_LISTED: usize = 1_000;

/// One package's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    pub name: String,
    /// Versions listed (active in delete mode, deleted in restore mode).
    pub listed: usize,
    /// Versions kept, counted by the input (or image rule) that kept them.
    pub kept: BTreeMap<&'static str, usize>,
    /// What each rule decided, numbered from 1 (empty without `rules`).
    pub rules: Vec<RuleReport>,
    /// What no rule decided: versions the global filters keep, that match no rule, or
    /// orphans. With [`PackageReport::rules`], every listed version is counted once.
    pub outside_rules: Fate,
    /// The kept versions, newest first, each with why (the first [`MAX_KEPT_LISTED`]; `kept`
    /// counts them all). The same list for the flat inputs and for `rules`.
    pub kept_versions: Vec<KeptVersion>,
    /// The selected versions, oldest first, with what happened to each.
    pub entries: Vec<Entry>,
    /// The versions kept because a file of the workspace names them (`keep-referenced`),
    /// newest first: the `json` output lists them too.
    pub referenced: Vec<KeptVersion>,
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
    /// Delete mode, once planned: what the cleanup frees (or would) and what stays.
    pub storage: Option<Storage>,
    /// Container packages: the manifests this run could not read, tagged versions first,
    /// then newest first (the first [`MAX_KEPT_LISTED`]; `unreadable_count` counts them all).
    pub unreadable: Vec<UnreadableManifest>,
    pub unreadable_count: usize,
    /// Tags `untag` removed from images that stay, or `restore-tags` put back.
    pub tags: Vec<TagEntry>,
}

impl PackageReport {
    /// A report for a listed and planned package and what was done with it. Versions the
    /// plan kept but that a restore brought back with their image are entries, not kept.
    pub fn planned(name: &str, plan: &Plan, entries: Vec<Entry>) -> PackageReport {
        let acted: HashSet<u64> = entries.iter().map(|entry| entry.version.id).collect();
        let mut kept = BTreeMap::new();
        let mut kept_versions = Vec::new();
        let mut rules: Vec<RuleReport> = plan
            .rules
            .iter()
            .map(|tally| RuleReport {
                label: tally.label.clone(),
                matched: tally.matched,
                fate: Fate::default(),
            })
            .collect();
        let mut outside_rules = Fate::default();
        let mut referenced = Vec::new();
        for planned in &plan.versions {
            if planned.decision == Decision::Keep && !acted.contains(&planned.version.id) {
                *kept.entry(kept_by(&planned.reason)).or_insert(0) += 1;
                let row = planned.rule.and_then(|index| rules.get_mut(index));
                match row {
                    Some(rule) => rule.fate.kept += 1,
                    None => outside_rules.kept += 1,
                }
                if matches!(planned.reason, Reason::Referenced(_)) {
                    referenced.push(KeptVersion {
                        version: planned.version.clone(),
                        reason: planned.reason.to_string(),
                        image: None,
                    });
                }
                if kept_versions.len() < MAX_KEPT_LISTED {
                    let image = match &planned.reason {
                        Reason::PartOfKept { role, parent, .. } => Some((*parent, role.clone())),
                        _ => None,
                    };
                    kept_versions.push(KeptVersion {
                        version: planned.version.clone(),
                        reason: planned.reason.to_string(),
                        image,
                    });
                }
            }
        }
        // Entries name their rule by label, as the `json` output does; labels are unique.
        for entry in &entries {
            if matches!(entry.outcome, Outcome::NotFound(_)) {
                continue;
            }
            let row = entry
                .rule
                .as_deref()
                .and_then(|label| rules.iter_mut().find(|rule| rule.label == label));
            let fate = match row {
                Some(rule) => &mut rule.fate,
                None => &mut outside_rules,
            };
            fate.selected += 1;
            fate.acted_on += usize::from(entry.outcome.is_acted_on());
        }
        PackageReport {
            name: name.to_string(),
            listed: plan.versions.len(),
            kept,
            rules,
            outside_rules,
            kept_versions,
            entries,
            referenced,
            error: None,
            left: None,
            whole: None,
            undecided: 0,
            storage: None,
            unreadable: Vec::new(),
            unreadable_count: 0,
            tags: Vec::new(),
        }
    }

    /// The same report, with the manifests `plan`'s versions had that could not be read,
    /// each with why (`reasons`, by version id) and whether the version stays.
    pub fn with_unreadable(self, plan: &Plan, reasons: &BTreeMap<u64, String>) -> PackageReport {
        let acted = self.acted_on();
        let found = plan
            .versions
            .iter()
            .filter_map(|planned| Some((planned, reasons.get(&planned.version.id)?)));
        let (tagged, untagged): (Vec<_>, Vec<_>) =
            found.partition(|(planned, _)| !planned.version.tags.is_empty());
        let unreadable = tagged
            .into_iter()
            .chain(untagged)
            .take(MAX_KEPT_LISTED)
            .map(|(planned, why)| UnreadableManifest {
                version: planned.version.clone(),
                why: why.clone(),
                kept: !acted.contains(&planned.version.id),
            })
            .collect();
        PackageReport {
            unreadable,
            unreadable_count: reasons.len(),
            ..self
        }
    }

    /// The ids of the versions acted on (done, or that would be in a dry run).
    pub fn acted_on(&self) -> HashSet<u64> {
        self.entries
            .iter()
            .filter(|entry| entry.outcome.is_acted_on())
            .map(|entry| entry.version.id)
            .collect()
    }

    /// How many versions were kept, listed in `kept_versions` or not.
    pub fn kept_count(&self) -> usize {
        self.kept.values().sum()
    }

    /// The same report, with what happened to the package itself.
    pub fn with_whole(self, whole: Option<PackageEntry>) -> PackageReport {
        PackageReport { whole, ..self }
    }

    /// The same report, with what happened to its tags (`untag`, `restore-tags`).
    pub fn with_tags(self, tags: Vec<TagEntry>) -> PackageReport {
        PackageReport { tags, ..self }
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
            outside_rules: Fate::default(),
            kept_versions: Vec::new(),
            entries: Vec::new(),
            referenced: Vec::new(),
            error: None,
            left: None,
            whole: None,
            undecided: 0,
            storage: None,
            unreadable: Vec::new(),
            unreadable_count: 0,
            tags: Vec::new(),
        }
    }
}

/// A version whose manifest could not be read in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableManifest {
    pub version: Version,
    /// Why, as the registry client says it.
    pub why: String,
    /// Whether the version stays (always, unless `version-ids` named it).
    pub kept: bool,
}

/// A version the plan kept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptVersion {
    pub version: Version,
    /// The plan's reason ("updated more recently than older-than").
    pub reason: String,
    /// When it is kept as part of a kept image: that image's id, and what it is to it.
    pub image: Option<(u64, Role)>,
}

/// One rule's counts for a package: how many versions pass its filters, and what became of
/// the versions it decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    /// The rule's name, or `#N`.
    pub label: String,
    /// Versions that pass the rule's own filters, whatever the global filters and the
    /// other rules say (see [`crate::policy::plan::RuleTally`]): not a share of the listing.
    pub matched: usize,
    pub fate: Fate,
}

/// What became of the versions one rule decided (the first rule that keeps a version, else
/// the first that selects it; the parts of an image go with the image's rule). Over the
/// rules and [`PackageReport::outside_rules`], `kept` adds up to the package's kept versions
/// and `selected` to its selected ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fate {
    /// Kept in the end: kept by the rule, or selected by it but held (by a kept image, an
    /// unreadable manifest, or a read this run could not make).
    pub kept: usize,
    /// Selected in the end: acted on, or tried, skipped, failed or left for the next run.
    pub selected: usize,
    /// Of `selected`, the versions deleted (or restored, or that would be in a dry run).
    pub acted_on: usize,
}

impl Fate {
    /// Both counts added, for totals.
    pub fn plus(self, other: Fate) -> Fate {
        Fate {
            kept: self.kept + other.kept,
            selected: self.selected + other.selected,
            acted_on: self.acted_on + other.acted_on,
        }
    }
}

/// What kept a version, as it reads after "kept because of": an input's name, or a cause.
fn kept_by(reason: &Reason) -> &'static str {
    match reason {
        Reason::Selected | Reason::SelectedBy(_) => "selected",
        Reason::NoRuleMatches => "no rule matching",
        Reason::NotInVersionIds => "version-ids",
        Reason::TagsUnknown => "unknown tags",
        Reason::Excluded(_) => "exclude-tag-regex",
        Reason::TagState(_) => "tag-state",
        Reason::NoTagMatch => "tag-regex",
        Reason::TooRecent => "older-than",
        Reason::DeletedTooLongAgo => "deleted-within",
        Reason::KeptLatest(_) | Reason::KeptHighest(_) | Reason::KeptBy { .. } => "keep-latest",
        Reason::NotAVersion { .. } => "not a version",
        Reason::Referenced(_) => "keep-referenced",
        Reason::PartOfKept { .. } | Reason::PartOfUnlisted { .. } => "a kept image",
        Reason::Unconfirmed(_) => "not confirmed in this run",
        Reason::FailClosed(_) => "fail closed",
        Reason::Unreadable(_) => "an unreadable manifest",
        Reason::PartOfDeleted { .. } | Reason::Orphan(_) => "selected",
        Reason::Untag(_) => "untag",
    }
}

/// `1 version`, `2 versions`, `0 versions`: a count with its noun in correct English. Every
/// count the log and the summary show goes through here.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Binary units past bytes, each 1024 times the last.
const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/// `512 B`, `1.5 KiB`, `3.0 GiB`: bytes in the largest binary unit that keeps the number
/// under 1024, with one decimal, rounded to the nearest tenth.
pub fn bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let (mut scale, mut unit) = (1024u128, 0);
    let tenths = loop {
        let tenths = (u128::from(bytes) * 10 + scale / 2) / scale;
        if tenths < 10_240 || unit == UNITS.len() - 1 {
            break tenths;
        }
        scale *= 1024;
        unit += 1;
    };
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// The headline's part: `freed 1.5 KiB` or `would free 1.5 KiB`.
pub fn freed_part(freed: Size, dry_run: bool) -> String {
    let verb = if dry_run { "would free" } else { "freed" };
    match freed {
        Size::Exact(exact) => format!("{verb} {}", bytes(exact)),
        Size::Partial(counted) => format!("{verb} {}, not all counted", bytes(counted)),
        Size::Unknown => format!("{verb} an unknown size"),
    }
}

/// `kept because of older-than: 2, tag-state: 7`: each cause of keeping with its count.
pub fn kept_because(kept: &BTreeMap<&'static str, usize>) -> String {
    let causes: Vec<String> = kept
        .iter()
        .map(|(cause, count)| format!("{cause}: {count}"))
        .collect();
    format!("kept because of {}", causes.join(", "))
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
    /// decided because their listing spans runs or could not be made.
    pub left: usize,
    /// Of `left`, the versions not yet decided (not listed, or listed but not planned).
    pub undecided: usize,
    /// Ids in `version-ids` neither acted on nor skipped: not found, or kept by the policy.
    pub not_found: usize,
    /// Listed versions the plan kept.
    pub kept: usize,
    pub packages_failed: usize,
    /// Packages not listed because the primary budget ran out.
    pub packages_left: usize,
    /// Tags removed, or put back (or that would be, in a dry run).
    pub tags_done: usize,
    /// Images that tags were removed from (or would be).
    pub tags_images: usize,
    pub tags_skipped: usize,
    /// Tags someone pushed under while they were being removed.
    pub tags_superseded: usize,
    pub tags_failed: usize,
    pub tags_left: usize,
}

/// Why a run refused to change anything: the input whose limit was passed, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `max-versions` or `max-percent`.
    pub input: &'static str,
    pub message: String,
}

/// Everything a run reports, whatever way it is told.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub packages: Vec<PackageReport>,
    /// Set when the run refused to change anything (max-versions or max-percent exceeded).
    pub refusal: Option<Refusal>,
    /// Set when the primary budget ran out before every package was even found; not a
    /// failure.
    pub stopped: Option<String>,
    /// Set when the run ended before it was through: cancelled, or an error after changes
    /// began. What was done is still reported; the run fails.
    pub interrupted: Option<String>,
    pub now: SystemTime,
    /// With `plan-file`: the plan a dry run wrote, or the plan applied and what came of it.
    pub plan: Option<plan_note::PlanNote>,
}

impl RunReport {
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for package in &self.packages {
            totals.listed += package.listed;
            totals.selected += package.entries.len();
            totals.kept += package.kept_count();
            totals.packages_failed += usize::from(package.error.is_some());
            totals.packages_left += usize::from(package.left.is_some());
            let whole_failed = package
                .whole
                .as_ref()
                .is_some_and(|whole| matches!(whole.outcome, Outcome::Failed(_)));
            totals.packages_failed += usize::from(whole_failed);
            totals.left += package.undecided;
            totals.undecided += package.undecided;
            for entry in &package.entries {
                match entry.outcome {
                    Outcome::Skipped(_) => totals.skipped += 1,
                    Outcome::Failed(_) => totals.failed += 1,
                    Outcome::Left(_) => totals.left += 1,
                    Outcome::NotFound(_) => totals.not_found += 1,
                    _ => totals.acted_on += 1,
                }
            }
            let mut images = HashSet::new();
            for entry in &package.tags {
                match &entry.outcome {
                    TagOutcome::Removed | TagOutcome::WouldRemove => {
                        totals.tags_done += 1;
                        images.insert(entry.id);
                    }
                    TagOutcome::Restored
                    | TagOutcome::RestoredOffPlaceholder(_)
                    | TagOutcome::WouldRestore => totals.tags_done += 1,
                    TagOutcome::Skipped(_) => totals.tags_skipped += 1,
                    TagOutcome::Superseded(_) => totals.tags_superseded += 1,
                    TagOutcome::Failed(_) => totals.tags_failed += 1,
                    TagOutcome::Left(_) => totals.tags_left += 1,
                }
            }
            totals.tags_images += images.len();
        }
        totals
    }

    /// Whether the primary budget cut the run short: some work is left for the next run.
    pub fn cut_short(&self) -> bool {
        let totals = self.totals();
        self.stopped.is_some()
            || totals.left > 0
            || totals.packages_left > 0
            || totals.tags_left > 0
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
            && totals.tags_failed == 0
            && !matches!(self.plan, Some(plan_note::PlanNote::NotWritten(_)))
    }

    /// What happened to tags, when any were in play: `3 tags removed from 2 images, the
    /// images kept` (`untag`), `2 tags restored` (`restore-tags`), with what was not done.
    pub fn tags_line(&self, mode: Mode, dry_run: bool) -> Option<String> {
        let totals = self.totals();
        let any = totals.tags_done
            + totals.tags_skipped
            + totals.tags_superseded
            + totals.tags_failed
            + totals.tags_left;
        if any == 0 {
            return None;
        }
        let tags = plural(totals.tags_done, "tag");
        let mut line = match (mode, dry_run) {
            (Mode::Restore, false) => format!("{tags} restored"),
            (Mode::Restore, true) => format!("{tags} would be restored"),
            (_, dry) => format!(
                "{tags} {} from {}, the images kept",
                if dry { "would be removed" } else { "removed" },
                plural(totals.tags_images, "image")
            ),
        };
        let rest = [
            (totals.tags_skipped, "skipped"),
            (
                totals.tags_superseded,
                "pushed again meanwhile and left alone",
            ),
            (totals.tags_failed, "failed"),
            (totals.tags_left, "left for the next run"),
        ];
        for (count, what) in rest {
            if count > 0 {
                line.push_str(&format!(", {} {what}", plural(count, "tag")));
            }
        }
        Some(line)
    }

    /// The one line with the numbers that matter, first in the summary and last in the log
    /// alike: `6 selected, 6 deleted, 12 kept (18 versions listed in 1 package)`. Selected
    /// and done are always said; the other counts only when they are not zero.
    pub fn headline(&self, mode: Mode, dry_run: bool) -> String {
        let totals = self.totals();
        let selected = totals.selected - totals.not_found;
        let done = if dry_run {
            format!("{} would be {}", totals.acted_on, mode.past_tense())
        } else {
            format!("{} {}", totals.acted_on, mode.past_tense())
        };
        let mut parts = vec![format!("{selected} selected"), done];
        let counts = [
            (totals.skipped, "skipped".to_string()),
            (totals.failed, "failed".to_string()),
            (totals.left, "left for the next run".to_string()),
            (
                totals.not_found,
                format!(
                    "{} not found",
                    if totals.not_found == 1 { "id" } else { "ids" }
                ),
            ),
            (totals.kept, "kept".to_string()),
        ];
        for (count, what) in counts {
            if count > 0 {
                parts.push(format!("{count} {what}"));
            }
        }
        if totals.packages_failed > 0 {
            parts.push(format!(
                "{} failed",
                plural(totals.packages_failed, "package")
            ));
        }
        if totals.packages_left > 0 {
            parts.push(format!(
                "{} left for the next run",
                plural(totals.packages_left, "package")
            ));
        }
        if let Some((freed, _)) = self.storage() {
            parts.push(freed_part(freed, dry_run));
        }
        let listed = match mode {
            Mode::Delete | Mode::Audit => "version",
            Mode::Restore => "deleted version",
        };
        format!(
            "{} ({} listed in {})",
            parts.join(", "),
            plural(totals.listed, listed),
            plural(self.packages.len(), "package")
        )
    }

    /// What the run freed (or would) and what stays, over every package: `None` when no
    /// package has sizes (restore mode, packages GitHub gives no sizes for, none listed). A
    /// package not listed changed nothing: it freed nothing, and what it holds is unknown.
    pub fn storage(&self) -> Option<(Size, Size)> {
        let has_sizes = |storage: &Storage| {
            !storage
                .notes
                .iter()
                .any(|note| matches!(note, Note::NoSizes(_)))
        };
        if !self
            .packages
            .iter()
            .any(|package| package.storage.as_ref().is_some_and(has_sizes))
        {
            return None;
        }
        let figures = self.packages.iter().map(|package| match &package.storage {
            Some(storage) => (storage.freed, storage.kept),
            None => (Size::Exact(0), Size::Unknown),
        });
        figures.reduce(|(freed, kept), (more_freed, more_kept)| {
            (freed.plus(more_freed), kept.plus(more_kept))
        })
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
    use crate::testing::image_at;
    use std::time::Duration;

    fn version(id: u64) -> Version {
        image_at(id, &[], SystemTime::UNIX_EPOCH)
    }

    /// A run over `packages` packages, the first with one entry per outcome and `kept`
    /// versions kept by older-than.
    fn run(packages: usize, outcomes: &[Outcome], kept: usize) -> RunReport {
        let entries: Vec<Entry> = (1..)
            .zip(outcomes)
            .map(|(id, outcome)| Entry {
                version: version(id),
                outcome: outcome.clone(),
                relation: None,
                reason: "matches the policy".to_string(),
                rule: None,
            })
            .collect();
        let mut first = PackageReport::empty("app");
        first.listed = entries.len() + kept;
        first.entries = entries;
        if kept > 0 {
            first.kept.insert("older-than", kept);
        }
        let mut packages: Vec<PackageReport> = (1..packages)
            .map(|n| PackageReport::empty(&format!("lib{n}")))
            .collect();
        packages.insert(0, first);
        RunReport {
            packages,
            refusal: None,
            stopped: None,
            interrupted: None,
            now: SystemTime::UNIX_EPOCH,
            plan: None,
        }
    }

    #[test]
    fn plurals_read_as_english_for_zero_one_and_two() {
        let cases = [
            (0, "version", "0 versions"),
            (1, "version", "1 version"),
            (2, "version", "2 versions"),
            (1, "package", "1 package"),
            (2, "package", "2 packages"),
        ];
        for (count, noun, expected) in cases {
            assert_eq!(plural(count, noun), expected);
        }
    }

    #[test]
    fn the_headline_says_the_numbers_that_matter_in_correct_english() {
        let deleted = Outcome::Deleted;
        let skipped = Outcome::Skipped("last version".to_string());
        let failed = Outcome::Failed("500".to_string());
        let left = Outcome::Left("rate limit".to_string());
        let cases = [
            (
                run(1, &[], 0),
                Mode::Delete,
                false,
                "0 selected, 0 deleted (0 versions listed in 1 package)",
            ),
            (
                run(1, &[Outcome::Deleted], 0),
                Mode::Delete,
                false,
                "1 selected, 1 deleted (1 version listed in 1 package)",
            ),
            (
                run(2, &[Outcome::WouldDelete, Outcome::WouldDelete], 12),
                Mode::Delete,
                true,
                "2 selected, 2 would be deleted, 12 kept (14 versions listed in 2 packages)",
            ),
            (
                run(1, &[Outcome::Restored], 1),
                Mode::Restore,
                false,
                "1 selected, 1 restored, 1 kept (2 deleted versions listed in 1 package)",
            ),
            (
                run(1, &[Outcome::WouldRestore], 0),
                Mode::Restore,
                true,
                "1 selected, 1 would be restored (1 deleted version listed in 1 package)",
            ),
            (
                run(
                    1,
                    &[
                        deleted,
                        skipped,
                        failed,
                        left,
                        Outcome::NotFound("x".into()),
                    ],
                    2,
                ),
                Mode::Delete,
                false,
                "4 selected, 1 deleted, 1 skipped, 1 failed, 1 left for the next run, 1 id not found, 2 kept (7 versions listed in 1 package)",
            ),
        ];
        for (report, mode, dry_run, expected) in cases {
            assert_eq!(report.headline(mode, dry_run), expected);
        }
    }

    #[test]
    fn failed_and_unlisted_packages_are_counted_in_the_headline() {
        let mut report = run(3, &[], 0);
        report.packages[1].error = Some("404".to_string());
        report.packages[2].left = Some("rate limit".to_string());
        assert_eq!(
            report.headline(Mode::Delete, false),
            "0 selected, 0 deleted, 1 package failed, 1 package left for the next run (0 versions listed in 3 packages)"
        );
    }

    #[test]
    fn sizes_read_in_binary_units_with_one_decimal_rounded_to_the_nearest_tenth() {
        let cases = [
            (0, "0 B"),
            (1, "1 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1535, "1.5 KiB"),
            (1587, "1.5 KiB"),
            (1588, "1.6 KiB"),
            (1_048_575, "1.0 MiB"),
            (1_048_576, "1.0 MiB"),
            (29_126_484, "27.8 MiB"),
            (1_073_741_824, "1.0 GiB"),
            (1_610_612_736, "1.5 GiB"),
            (1 << 40, "1.0 TiB"),
            (1 << 53, "8.0 PiB"),
            (u64::MAX, "16384.0 PiB"),
        ];
        for (count, expected) in cases {
            assert_eq!(bytes(count), expected, "{count} bytes");
        }
    }

    #[test]
    fn the_headlines_storage_part_says_when_a_figure_is_partial_or_unknown() {
        let cases = [
            (freed_part(Size::Exact(1536), true), "would free 1.5 KiB"),
            (freed_part(Size::Exact(0), false), "freed 0 B"),
            (
                freed_part(Size::Partial(1536), false),
                "freed 1.5 KiB, not all counted",
            ),
            (
                freed_part(Size::Unknown, true),
                "would free an unknown size",
            ),
        ];
        for (shown, expected) in cases {
            assert_eq!(shown, expected);
        }
    }

    #[test]
    fn kept_counts_read_as_kept_because_of_the_input() {
        let kept = BTreeMap::from([("older-than", 2), ("a kept image", 3)]);
        assert_eq!(
            kept_because(&kept),
            "kept because of a kept image: 3, older-than: 2"
        );
    }

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

    /// A run of one package whose tags had `outcomes`, on images 1 and 2 alternately.
    fn with_tags(outcomes: &[TagOutcome]) -> RunReport {
        let mut report = run(1, &[], 0);
        report.packages[0].tags = outcomes
            .iter()
            .enumerate()
            .map(|(n, outcome)| TagEntry {
                id: Some(1 + n as u64 % 2),
                digest: format!("sha256:{n}"),
                tag: format!("sha-{n}"),
                tags: Vec::new(),
                outcome: outcome.clone(),
                reason: "kept by its other tags".to_string(),
                rule: None,
                placeholder: None,
            })
            .collect();
        report
    }

    #[test]
    fn the_tag_line_counts_tags_and_images_and_says_what_was_not_done() {
        let removed = TagOutcome::Removed;
        let cases = [
            (vec![], Mode::Delete, false, None),
            (
                vec![removed.clone(), removed.clone(), removed.clone()],
                Mode::Delete,
                false,
                Some("3 tags removed from 2 images, the images kept"),
            ),
            (
                vec![TagOutcome::WouldRemove],
                Mode::Delete,
                true,
                Some("1 tag would be removed from 1 image, the images kept"),
            ),
            (
                vec![
                    removed.clone(),
                    TagOutcome::Skipped("moved".into()),
                    TagOutcome::Superseded("sha256:b".into()),
                    TagOutcome::Failed("500".into()),
                    TagOutcome::Left("cancelled".into()),
                ],
                Mode::Delete,
                false,
                Some(
                    "1 tag removed from 1 image, the images kept, 1 tag skipped, 1 tag pushed again meanwhile and left alone, 1 tag failed, 1 tag left for the next run",
                ),
            ),
            (
                vec![
                    TagOutcome::Restored,
                    TagOutcome::RestoredOffPlaceholder("sha256:p".into()),
                ],
                Mode::Restore,
                false,
                Some("2 tags restored"),
            ),
            (
                vec![TagOutcome::WouldRestore],
                Mode::Restore,
                true,
                Some("1 tag would be restored"),
            ),
        ];
        for (outcomes, mode, dry_run, expected) in cases {
            let report = with_tags(&outcomes);
            assert_eq!(
                report.tags_line(mode, dry_run).as_deref(),
                expected,
                "{outcomes:?}"
            );
        }
    }

    #[test]
    fn a_failed_tag_fails_the_run_and_a_tag_left_cuts_it_short() {
        let cases = [
            (TagOutcome::Removed, true, false),
            (TagOutcome::Superseded("sha256:b".into()), true, false),
            (TagOutcome::Skipped("moved".into()), true, false),
            (TagOutcome::Failed("placeholder left".into()), false, false),
            (TagOutcome::Left("rate limit".into()), true, true),
        ];
        for (outcome, succeeded, cut_short) in cases {
            let report = with_tags(std::slice::from_ref(&outcome));
            assert_eq!(report.succeeded(), succeeded, "{outcome:?}");
            assert_eq!(report.cut_short(), cut_short, "{outcome:?}");
        }
    }
}
