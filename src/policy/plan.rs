//! The pure planner: versions + policy + now → a decision and a reason for every version.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::config::{Mode, Policy, Rule, TagState};
use crate::model::image::{Relation, Role, short_digest};
use crate::model::version::{PackageType, Version};

/// What the run will do with a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Delete it (delete mode) or restore it (restore mode).
    Act,
    /// Leave it alone.
    Keep,
}

/// Why a version got its decision. The first filter that rejects a version names the reason.
/// `Selected` and `KeptLatest` are the flat inputs' one rule; `SelectedBy`, `KeptBy` and
/// `NoRuleMatches` name the rules of the `rules` input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Passed every filter and is not among the `keep-latest` newest.
    Selected,
    /// `rules`: selected by this rule (the first that selects it), and kept by none.
    SelectedBy(String),
    /// `rules`: it passes the filters of no rule.
    NoRuleMatches,
    /// Its id is not in `version-ids`.
    NotInVersionIds,
    /// Container/docker: listed without its tag metadata, so its tags are unknown; only
    /// `version-ids` can select it (unknown means keep).
    TagsUnknown,
    /// One of its tags (or its version name) matches `exclude-tag-regex`; the match is kept.
    Excluded(String),
    /// It is tagged or untagged, and `tag-state` asks for the other.
    TagState(TagState),
    /// None of its tags (or its version name) matches `tag-regex`.
    NoTagMatch,
    /// Updated more recently than `older-than` allows.
    TooRecent,
    /// Restore mode: deleted longer ago than `deleted-within`, or with no deletion time.
    DeletedTooLongAgo,
    /// One of the `keep-latest` newest versions that passed every filter (1 = newest).
    KeptLatest(usize),
    /// `rules`: among the `keep` newest matches of this rule (of its `group`, when the rule
    /// has `group-by`); the first rule that keeps it.
    KeptBy {
        rule: String,
        keep: usize,
        group: Option<String>,
    },
    /// Container: part of an image the plan keeps (`image` describes that image, `parent`
    /// is its version id, for the report's tree of kept versions).
    PartOfKept {
        role: Role,
        image: String,
        parent: u64,
    },
    /// Container: goes with an image the plan deletes.
    PartOfDeleted { role: Role, image: String },
    /// Container, `delete-orphans`: untagged or an artifact, and no kept image references it;
    /// for an artifact whose subject is gone, that subject's digest.
    Orphan(Option<String>),
    /// Container: untagged, and the manifest of this kept version could not be read, so
    /// nothing untagged is deleted in this run.
    FailClosed(u64),
    /// Container: its own manifest could not be read (the reason is given), so what it is
    /// and what it references are unknown; only `version-ids` naming it lets it go.
    Unreadable(String),
    /// Container: part of an image tagged in the registry in this run whose version is not
    /// in the listing (restored, or on a listing page not read in this run).
    PartOfUnlisted { role: Role, image: String },
    /// With a `state-file`: the policy would act on it, but this run's own reads do not
    /// confirm what it would act on (see [`Unconfirmed`]); the next run decides it.
    Unconfirmed(Unconfirmed),
}

/// Why a version the policy would act on is not confirmed by this run's reads. The state
/// file says where to look and what was seen before; it never decides what is acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unconfirmed {
    /// Its own listing page was not read in this run: its tags, or whether it still
    /// exists, are known only from the state file.
    NotListed,
    /// Read in this run, but fewer than `keep-latest` newer matches were: the newer
    /// versions known only from the state file may be gone or retagged, so it may be one
    /// of the newest that `keep-latest` keeps.
    KeepLatest,
    /// Something this run needed to read about the package could not be read whole (the
    /// reason is given).
    Unread(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Selected => f.write_str("matches the policy"),
            Reason::SelectedBy(rule) => write!(f, "selected by rule {rule}"),
            Reason::NoRuleMatches => f.write_str("matches no rule"),
            Reason::NotInVersionIds => f.write_str("not in version-ids"),
            Reason::TagsUnknown => f.write_str(
                "tags unknown: listed without tag metadata, so kept (only version-ids can select it)",
            ),
            Reason::Excluded(label) => write!(f, "`{label}` matches exclude-tag-regex"),
            Reason::TagState(TagState::Tagged) => f.write_str("untagged, tag-state is tagged"),
            Reason::TagState(TagState::Untagged) => f.write_str("tagged, tag-state is untagged"),
            Reason::TagState(TagState::Any) => f.write_str("tag-state"),
            Reason::NoTagMatch => f.write_str("no tag matches tag-regex"),
            Reason::TooRecent => f.write_str("updated more recently than older-than"),
            Reason::DeletedTooLongAgo => f.write_str("deleted before deleted-within"),
            Reason::KeptLatest(rank) => write!(f, "kept by keep-latest (#{rank} newest)"),
            Reason::KeptBy { rule, keep, group } => {
                write!(f, "kept by rule {rule}: among the {keep} newest")?;
                match group {
                    Some(group) => write!(f, " of group `{group}`"),
                    None => Ok(()),
                }
            }
            Reason::PartOfKept { role, image, .. } => write!(f, "{role} of kept image {image}"),
            Reason::PartOfDeleted { role, image } => write!(f, "{role} of deleted image {image}"),
            Reason::Orphan(None) => f.write_str("orphan: no kept image references it"),
            Reason::Orphan(Some(subject)) => write!(
                f,
                "orphan: its subject {} no longer exists",
                short_digest(subject)
            ),
            Reason::FailClosed(id) => {
                write!(f, "fail closed: manifest of kept version {id} unreadable")
            }
            Reason::Unreadable(why) => write!(f, "manifest unreadable: {why}"),
            Reason::PartOfUnlisted { role, image } => write!(
                f,
                "{role} of kept image {image}, tagged in the registry but not in this run's listing"
            ),
            Reason::Unconfirmed(Unconfirmed::NotListed) => f.write_str(
                "not confirmed by this run's listing: its listing page was not read in this run",
            ),
            Reason::Unconfirmed(Unconfirmed::KeepLatest) => f.write_str(
                "not confirmed by this run's listing: the newer versions keep-latest counts were not all read in this run",
            ),
            Reason::Unconfirmed(Unconfirmed::Unread(why)) => {
                write!(f, "not confirmed by this run's reads: {why}")
            }
        }
    }
}

/// One version with its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVersion {
    pub version: Version,
    pub decision: Decision,
    pub reason: Reason,
    /// Container: the images this version belongs to, when it is acted on with them. The
    /// executor acts on it only after every parent was acted on successfully.
    pub relation: Option<Relation>,
    /// The rule (index into [`Plan::rules`]) that kept or selected it; for a version that
    /// goes with an image, the image's rule (see [`carry_rules`]).
    pub rule: Option<usize>,
}

/// What one rule did, counted before keeping wins over selecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTally {
    /// The rule's name, or `#N`.
    pub label: String,
    /// Versions that passed all its filters (and the global ones).
    pub matched: usize,
    /// Matches among its `keep-latest` newest images.
    pub kept: usize,
    /// The other matches.
    pub selected: usize,
}

/// The plan for one package: every listed version, newest first (by `updated_at`, then id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub versions: Vec<PlannedVersion>,
    /// The selected versions (indexes into `versions`) in the order the executor acts on
    /// them: oldest first, except that a version's parents come before it.
    pub order: Vec<usize>,
    /// One tally per rule, numbered from 1 in this order.
    pub rules: Vec<RuleTally>,
}

impl Plan {
    /// The versions to act on, in execution order (see [`Plan::order`]): oldest first, so
    /// that a run cut short by the rate limit has removed the oldest versions, and parents
    /// before their children, so that an index GitHub refuses to delete keeps its children.
    pub fn selected(&self) -> impl Iterator<Item = &PlannedVersion> {
        self.order
            .iter()
            .filter_map(|&index| self.versions.get(index))
    }

    /// The version with this id, if listed.
    pub fn find(&self, id: u64) -> Option<&PlannedVersion> {
        self.versions
            .iter()
            .find(|planned| planned.version.id == id)
    }

    /// The name (or `#N`) of the rule that kept or selected `planned`.
    pub fn rule_label(&self, planned: &PlannedVersion) -> Option<&str> {
        let tally = self.rules.get(planned.rule?)?;
        Some(&tally.label)
    }
}

/// Decide every version. Pure: the same inputs always give the same plan, whatever the
/// order of `versions` (ids are unique, so the sort below is total). Every version takes a
/// `keep-latest` slot; [`plan_images`] plans with image slots instead.
///
/// The filters AND together and run in this order; the first that rejects a version names
/// its [`Reason`]:
/// 1. `version-ids` does not list its id.
/// 2. `exclude-tag-regex` matches one of its labels (see [`Version::labels`]).
/// 3. The rule's filters (each rule of `rules`, or the flat inputs' one rule), see
///    [`rule_match`]: its own `exclude-tag-regex`, `tag-state`, `tag-regex`, `older-than`,
///    `group-by`. With `rules`, a version no rule matches gets [`Reason::NoRuleMatches`].
/// 4. `deleted-within`, restore mode only: not deleted, or deleted before
///    `now - deleted-within`. Deleted exactly at that instant, or in the future, is within.
/// 5. Each rule then ranks its matches newest first, per group of equal `group-by`
///    captures: the first `keep-latest` that are images are kept by it, ranked from 1, the
///    rest are selected by it. A version is acted on when a rule selects it and no rule
///    keeps it: keeping wins. The first rule that keeps (or else selects) it names it.
///
/// Regexes match unanchored (`is_match`). The plan lists versions newest first by
/// `updated_at`, ties broken by the higher id.
pub fn plan(
    versions: Vec<Version>,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
) -> Plan {
    plan_confirmed(versions, policy, package_type, mode, now, None)
}

/// [`plan`] for a listing partly taken from the state file: `confirmed` holds the ids of
/// the versions this run read itself (`None`: all of them). Acting needs two more things:
/// - the version itself was read in this run; otherwise it is kept as
///   [`Unconfirmed::NotListed`];
/// - for every rule it matches with `keep-latest` N, at least N newer matches that take a
///   slot were read in this run. Versions known only from the state file may be gone or
///   retagged, and only versions read in this run are sure to be newer matches; otherwise
///   it is kept as [`Unconfirmed::KeepLatest`].
///
/// When every version was read in this run, the plan is exactly [`plan`]'s.
pub fn plan_confirmed(
    versions: Vec<Version>,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
    confirmed: Option<&HashSet<u64>>,
) -> Plan {
    plan_in(
        Vec::new(),
        versions,
        policy,
        package_type,
        mode,
        now,
        confirmed,
    )
}

/// [`plan_confirmed`] in `room` (emptied first), the buffer of an earlier plan: a run that
/// plans twice reuses the first plan's memory (25 MB at 100k versions) rather than
/// freeing it and asking for as much again.
pub fn plan_in(
    mut room: Vec<PlannedVersion>,
    versions: Vec<Version>,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
    confirmed: Option<&HashSet<u64>>,
) -> Plan {
    room.clear();
    room.reserve_exact(versions.len());
    room.extend(versions.into_iter().map(|version| PlannedVersion {
        version,
        decision: Decision::Keep,
        reason: Reason::Selected,
        relation: None,
        rule: None,
    }));
    rank(room, policy, package_type, mode, now, None, confirmed)
}

/// Container: plan `plan`'s versions again, `keep-latest` counting images. Only the ids in
/// `images` (top-level images, see `images::top_level_images`) take a slot; any other
/// match of a rule (a platform or attestation manifest, an artifact) is selected by it, and
/// the image graph then makes it follow its image. `confirmed` as in [`plan_confirmed`].
pub fn plan_images(
    plan: Plan,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
    images: &HashSet<u64>,
    confirmed: Option<&HashSet<u64>>,
) -> Plan {
    // Decided again in place: at 100k versions a second plan would be 25 MB more.
    rank(
        plan.versions,
        policy,
        package_type,
        mode,
        now,
        Some(images),
        confirmed,
    )
}

/// Whether the policy may select any of `versions`: some version passes the global
/// filters and every filter of a rule (ignoring `keep-latest`, which only keeps more).
/// When it is `false`, no plan of these versions acts on anything, and nothing else need
/// be read to decide.
pub fn may_select(
    versions: &[Version],
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
) -> bool {
    let rules = policy.rules();
    versions.iter().any(|version| {
        reject_global(version, policy, package_type).is_none()
            && reject_deleted(version, policy, mode, now).is_none()
            && rules
                .iter()
                .any(|rule| rule_match(version, rule, package_type, now).is_ok())
    })
}

/// [`plan_confirmed`], with slots for the ids in `images` only when it is given. Every
/// decision, reason, relation and rule in `versions` is replaced.
fn rank(
    mut versions: Vec<PlannedVersion>,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
    images: Option<&HashSet<u64>>,
    confirmed: Option<&HashSet<u64>>,
) -> Plan {
    versions.sort_by(|a, b| {
        let (a, b) = (&a.version, &b.version);
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let rules = policy.rules();
    let named = !policy.rules.is_empty();
    let mut tallies: Vec<RuleTally> = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| RuleTally {
            label: rule.label(index + 1),
            matched: 0,
            kept: 0,
            selected: 0,
        })
        .collect();
    // Per rule, the slots taken in each group (`None`: the rule has no `group-by`).
    let mut taken: Vec<HashMap<Option<String>, usize>> = vec![HashMap::new(); rules.len()];
    // Per rule and group, the matches that take a slot and were read in this run, whether
    // kept or not: the newer matches this run is sure of.
    let mut sure: Vec<HashMap<Option<String>, usize>> = vec![HashMap::new(); rules.len()];
    let read_here = |version: &Version| confirmed.is_none_or(|ids| ids.contains(&version.id));
    let mut decide = |version: &Version| -> (Decision, Reason, Option<usize>) {
        if let Some(reason) = reject_global(version, policy, package_type) {
            return (Decision::Keep, reason, None);
        }
        let mut matches = Vec::new();
        let mut first_rejection = None;
        for (index, rule) in rules.iter().enumerate() {
            match rule_match(version, rule, package_type, now) {
                Ok(group) => matches.push((index, group)),
                Err(reason) => {
                    first_rejection.get_or_insert(reason);
                }
            }
        }
        let Some(&(first, _)) = matches.first() else {
            let reason = match first_rejection {
                Some(reason) if !named => reason,
                _ => Reason::NoRuleMatches,
            };
            return (Decision::Keep, reason, None);
        };
        if let Some(reason) = reject_deleted(version, policy, mode, now) {
            return (Decision::Keep, reason, None);
        }
        let image = images.is_none_or(|ids| ids.contains(&version.id));
        let fresh = read_here(version);
        let mut kept = None;
        let mut slots_sure = true;
        for (index, group) in matches {
            let tally = &mut tallies[index];
            tally.matched += 1;
            if image {
                let newer = sure[index].entry(group.clone()).or_insert(0);
                slots_sure &= *newer >= rules[index].keep_latest;
                *newer += usize::from(fresh);
            }
            let slots = taken[index].entry(group.clone()).or_insert(0);
            if image && *slots < rules[index].keep_latest {
                *slots += 1;
                tally.kept += 1;
                kept.get_or_insert((index, *slots, group));
            } else {
                tally.selected += 1;
            }
        }
        match kept {
            Some((index, rank, group)) => {
                let reason = if named {
                    Reason::KeptBy {
                        rule: tallies[index].label.clone(),
                        keep: rules[index].keep_latest,
                        group,
                    }
                } else {
                    Reason::KeptLatest(rank)
                };
                (Decision::Keep, reason, Some(index))
            }
            None if !fresh => (
                Decision::Keep,
                Reason::Unconfirmed(Unconfirmed::NotListed),
                Some(first),
            ),
            None if !slots_sure => (
                Decision::Keep,
                Reason::Unconfirmed(Unconfirmed::KeepLatest),
                Some(first),
            ),
            None if named => (
                Decision::Act,
                Reason::SelectedBy(tallies[first].label.clone()),
                Some(first),
            ),
            None => (Decision::Act, Reason::Selected, Some(first)),
        }
    };
    for planned in &mut versions {
        let (decision, reason, rule) = decide(&planned.version);
        planned.decision = decision;
        planned.reason = reason;
        planned.relation = None;
        planned.rule = rule;
    }
    let order = (0..versions.len())
        .rev()
        .filter(|&index| versions[index].decision == Decision::Act)
        .collect();
    Plan {
        versions,
        order,
        rules: tallies,
    }
}

/// Steps 1 and 2 of [`plan`]: `version-ids` and the global `exclude-tag-regex`.
fn reject_global(version: &Version, policy: &Policy, package_type: PackageType) -> Option<Reason> {
    if let Some(ids) = &policy.version_ids
        && !ids.contains(&version.id)
    {
        return Some(Reason::NotInVersionIds);
    }
    if package_type.has_tags() && !version.tags_known && policy.version_ids.is_none() {
        return Some(Reason::TagsUnknown);
    }
    let labels = version.labels(package_type);
    if let Some(exclude) = &policy.exclude_tag_regex
        && let Some(label) = labels.iter().find(|label| exclude.is_match(label))
    {
        return Some(Reason::Excluded(label.clone()));
    }
    None
}

/// Step 3 of [`plan`]: whether `version` passes the rule's filters, and if so its group
/// (`None` when the rule has no `group-by`); otherwise the first filter that rejects it:
/// - the rule's `exclude-tag-regex` matches one of its labels;
/// - `tag-state` asks for the other state. Only container and docker versions have tags,
///   so for other types `tag-state` is ignored (config rejects it for them anyway);
/// - `tag-regex` matches none of its labels. An untagged container version has no labels,
///   so it never matches: the digest is never matched;
/// - `older-than`: updated after `now - older-than`. A version updated exactly at that
///   instant is old enough. Timestamps in the future (clock skew) are simply too recent;
/// - `group-by` matches none of its labels. Otherwise the first label (in GitHub's order)
///   that matches gives the group: its capture (empty when the group did not take part).
fn rule_match(
    version: &Version,
    rule: &Rule,
    package_type: PackageType,
    now: SystemTime,
) -> Result<Option<String>, Reason> {
    let labels = version.labels(package_type);
    if let Some(exclude) = &rule.exclude_tag_regex
        && let Some(label) = labels.iter().find(|label| exclude.is_match(label))
    {
        return Err(Reason::Excluded(label.clone()));
    }
    if package_type.has_tags() {
        // Named by version-ids, but no tag-state can be judged on unknown tags.
        if !version.tags_known && rule.tag_state != TagState::Any {
            return Err(Reason::TagsUnknown);
        }
        let rejected = match rule.tag_state {
            TagState::Any => false,
            TagState::Tagged => version.tags.is_empty(),
            TagState::Untagged => !version.tags.is_empty(),
        };
        if rejected {
            return Err(Reason::TagState(rule.tag_state));
        }
    }
    if let Some(tag_regex) = &rule.tag_regex
        && !labels.iter().any(|label| tag_regex.is_match(label))
    {
        return Err(Reason::NoTagMatch);
    }
    if let Some(older_than) = rule.older_than
        && !at_or_before(version.updated_at, now, older_than)
    {
        return Err(Reason::TooRecent);
    }
    let Some(group_by) = &rule.group_by else {
        return Ok(None);
    };
    labels
        .iter()
        .find_map(|label| group_by.captures(label))
        .map(|captures| Some(captures.get(1).map_or("", |m| m.as_str()).to_owned()))
        .ok_or(Reason::NoTagMatch)
}

/// Step 4 of [`plan`]: restore mode's `deleted-within`.
fn reject_deleted(
    version: &Version,
    policy: &Policy,
    mode: Mode,
    now: SystemTime,
) -> Option<Reason> {
    if mode == Mode::Restore
        && let Some(deleted_within) = policy.deleted_within
        && version
            .deleted_at
            .is_none_or(|deleted_at| before(deleted_at, now, deleted_within))
    {
        return Some(Reason::DeletedTooLongAgo);
    }
    None
}

/// Keeps every version `plan` would act on, as [`Unconfirmed::Unread`] for `why`: what the
/// decision needed could not be read in this run.
pub fn hold(mut plan: Plan, why: &str) -> Plan {
    for &index in &plan.order {
        if let Some(planned) = plan.versions.get_mut(index) {
            planned.decision = Decision::Keep;
            planned.reason = Reason::Unconfirmed(Unconfirmed::Unread(why.to_string()));
            planned.relation = None;
        }
    }
    plan.order.clear();
    plan
}

/// Container, after the image graph adjusted the plan: a version that goes with an image
/// carries that image's rule (its first parent's, in execution order so that a signature of
/// a platform manifest gets the index's), and an orphan the plan kept but `delete-orphans`
/// deletes carries none.
pub fn carry_rules(mut plan: Plan) -> Plan {
    let mut rule_of: HashMap<u64, Option<usize>> = plan
        .versions
        .iter()
        .map(|planned| (planned.version.id, planned.rule))
        .collect();
    for &index in &plan.order {
        let Some(planned) = plan.versions.get_mut(index) else {
            continue;
        };
        let parent = planned
            .relation
            .as_ref()
            .and_then(|relation| relation.parents.first());
        if let Some(parent) = parent {
            planned.rule = rule_of.get(parent).copied().flatten();
            rule_of.insert(planned.version.id, planned.rule);
        } else if matches!(planned.reason, Reason::Orphan(_)) {
            planned.rule = None;
        }
    }
    plan
}

/// `delete-orphans`: whether an orphan may be deleted whatever `tag-state`, `tag-regex` and
/// `keep-latest` said. `version-ids`, `exclude-tag-regex` and `older-than` still protect it
/// (a push in progress uploads the children before the index that references them), and
/// unknown tags protect it unless `version-ids` names it.
///
/// With `rules`, an orphan must be older than the longest `older-than` of any rule.
pub fn orphan_may_go(version: &Version, policy: &Policy, now: SystemTime) -> bool {
    let listed = match &policy.version_ids {
        Some(ids) => ids.contains(&version.id),
        None => version.tags_known,
    };
    let excluded = policy
        .exclude_tag_regex
        .as_ref()
        .is_some_and(|exclude| version.tags.iter().any(|tag| exclude.is_match(tag)));
    let older_than = if policy.rules.is_empty() {
        policy.older_than
    } else {
        policy.rules.iter().filter_map(|rule| rule.older_than).max()
    };
    let old_enough =
        older_than.is_none_or(|older_than| at_or_before(version.updated_at, now, older_than));
    listed && !excluded && old_enough
}

/// Whether `time` is at or before `now - age`. When `now - age` is earlier than `SystemTime`
/// can represent, nothing is that old.
fn at_or_before(time: SystemTime, now: SystemTime, age: Duration) -> bool {
    now.checked_sub(age).is_some_and(|cutoff| time <= cutoff)
}

/// Whether `time` is strictly before `now - age`. When `now - age` is earlier than
/// `SystemTime` can represent, nothing is before it.
fn before(time: SystemTime, now: SystemTime, age: Duration) -> bool {
    now.checked_sub(age).is_some_and(|cutoff| time < cutoff)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::UNIX_EPOCH;

    use regex::Regex;

    use super::*;
    use crate::model::image::Role;

    const DAY: u64 = 86_400;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_000 * DAY)
    }

    /// `seconds` before `now()`; negative is in the future.
    fn ago(seconds: i64) -> SystemTime {
        if seconds >= 0 {
            now() - Duration::from_secs(seconds.unsigned_abs())
        } else {
            now() + Duration::from_secs(seconds.unsigned_abs())
        }
    }

    fn days(n: i64) -> i64 {
        n * DAY as i64
    }

    fn version(id: u64, name: &str, tags: &[&str], updated_ago: i64) -> Version {
        Version {
            id,
            name: name.to_owned(),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
            created_at: ago(updated_ago),
            updated_at: ago(updated_ago),
            deleted_at: None,
        }
    }

    fn deleted(mut version: Version, deleted_ago: i64) -> Version {
        version.deleted_at = Some(ago(deleted_ago));
        version
    }

    fn regex(pattern: &str) -> Option<Regex> {
        Some(Regex::new(pattern).expect("test regex"))
    }

    fn ids(list: &[u64]) -> Option<BTreeSet<u64>> {
        Some(list.iter().copied().collect())
    }

    fn age(seconds: i64) -> Option<Duration> {
        Some(Duration::from_secs(seconds.unsigned_abs()))
    }

    /// (id, reason) per planned version, in plan order.
    fn reasons(plan: &Plan) -> Vec<(u64, Reason)> {
        plan.versions
            .iter()
            .map(|planned| (planned.version.id, planned.reason.clone()))
            .collect()
    }

    fn decide_one(
        version: Version,
        policy: &Policy,
        package_type: PackageType,
        mode: Mode,
    ) -> PlannedVersion {
        let mut planned = plan(vec![version], policy, package_type, mode, now()).versions;
        assert_eq!(planned.len(), 1);
        planned.remove(0)
    }

    fn digest(id: u64) -> String {
        format!("sha256:{id:064x}")
    }

    #[test]
    fn every_filter_names_its_own_reason() {
        use Mode::{Delete, Restore};
        use PackageType::{Container, Docker, Npm};
        let tagged = |tags: &[&str]| version(1, &digest(1), tags, days(60));
        let untagged = || version(1, &digest(1), &[], days(60));
        let npm = |name: &str| version(1, name, &[], days(60));
        let table: Vec<(&str, Policy, PackageType, Mode, Version, Reason)> = vec![
            (
                "no filter selects everything",
                Policy::default(),
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::Selected,
            ),
            (
                "an id outside version-ids is kept",
                Policy {
                    version_ids: ids(&[2, 3]),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::NotInVersionIds,
            ),
            (
                "an id inside version-ids is selected",
                Policy {
                    version_ids: ids(&[1, 2]),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::Selected,
            ),
            (
                "an empty version-ids list selects nothing",
                Policy {
                    version_ids: ids(&[]),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::NotInVersionIds,
            ),
            (
                "exclude-tag-regex names the tag it matched",
                Policy {
                    exclude_tag_regex: regex("^latest$"),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1", "latest"]),
                Reason::Excluded("latest".into()),
            ),
            (
                "exclude-tag-regex matches an npm version name",
                Policy {
                    exclude_tag_regex: regex("-beta"),
                    ..Policy::default()
                },
                Npm,
                Delete,
                npm("2.0.0-beta.1"),
                Reason::Excluded("2.0.0-beta.1".into()),
            ),
            (
                "tag-state tagged keeps an untagged version",
                Policy {
                    tag_state: TagState::Tagged,
                    ..Policy::default()
                },
                Container,
                Delete,
                untagged(),
                Reason::TagState(TagState::Tagged),
            ),
            (
                "tag-state untagged keeps a tagged version",
                Policy {
                    tag_state: TagState::Untagged,
                    ..Policy::default()
                },
                Docker,
                Delete,
                tagged(&["v1"]),
                Reason::TagState(TagState::Untagged),
            ),
            (
                "tag-state tagged selects a tagged version",
                Policy {
                    tag_state: TagState::Tagged,
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::Selected,
            ),
            (
                "tag-state untagged selects an untagged version",
                Policy {
                    tag_state: TagState::Untagged,
                    ..Policy::default()
                },
                Container,
                Delete,
                untagged(),
                Reason::Selected,
            ),
            (
                "tag-state is ignored for types without tags",
                Policy {
                    tag_state: TagState::Tagged,
                    ..Policy::default()
                },
                Npm,
                Delete,
                npm("1.0.0"),
                Reason::Selected,
            ),
            (
                "tag-regex matching no tag keeps the version",
                Policy {
                    tag_regex: regex("^pr-"),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1", "main"]),
                Reason::NoTagMatch,
            ),
            (
                "tag-regex matching any one tag selects the version",
                Policy {
                    tag_regex: regex("^pr-"),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1", "pr-7"]),
                Reason::Selected,
            ),
            (
                "tag-regex is unanchored",
                Policy {
                    tag_regex: regex("pr-"),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["my-pr-7"]),
                Reason::Selected,
            ),
            (
                "older-than keeps a version updated too recently",
                Policy {
                    older_than: age(days(90)),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::TooRecent,
            ),
            (
                "older-than selects a version updated long enough ago",
                Policy {
                    older_than: age(days(30)),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::Selected,
            ),
            (
                "older-than counts a version exactly at the boundary as old enough",
                Policy {
                    older_than: age(days(60)),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::Selected,
            ),
            (
                "older-than keeps a version one second short of the boundary",
                Policy {
                    older_than: age(days(60) + 1),
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::TooRecent,
            ),
            (
                "deleted-within keeps a version deleted too long ago",
                Policy {
                    deleted_within: age(days(7)),
                    ..Policy::default()
                },
                Container,
                Restore,
                deleted(tagged(&["v1"]), days(10)),
                Reason::DeletedTooLongAgo,
            ),
            (
                "deleted-within keeps a version with no deletion time",
                Policy {
                    deleted_within: age(days(7)),
                    ..Policy::default()
                },
                Container,
                Restore,
                tagged(&["v1"]),
                Reason::DeletedTooLongAgo,
            ),
            (
                "deleted-within selects a recent deletion",
                Policy {
                    deleted_within: age(days(7)),
                    ..Policy::default()
                },
                Container,
                Restore,
                deleted(tagged(&["v1"]), days(2)),
                Reason::Selected,
            ),
            (
                "deleted-within counts a deletion exactly at the boundary as within",
                Policy {
                    deleted_within: age(days(7)),
                    ..Policy::default()
                },
                Container,
                Restore,
                deleted(tagged(&["v1"]), days(7)),
                Reason::Selected,
            ),
            (
                "deleted-within is ignored in delete mode",
                Policy {
                    deleted_within: age(days(7)),
                    ..Policy::default()
                },
                Container,
                Delete,
                deleted(tagged(&["v1"]), days(10)),
                Reason::Selected,
            ),
            (
                "keep-latest keeps the newest match",
                Policy {
                    keep_latest: 1,
                    ..Policy::default()
                },
                Container,
                Delete,
                tagged(&["v1"]),
                Reason::KeptLatest(1),
            ),
        ];
        for (case, policy, package_type, mode, version, reason) in table {
            let planned = decide_one(version, &policy, package_type, mode);
            assert_eq!(planned.reason, reason, "{case}");
            let decision = if reason == Reason::Selected {
                Decision::Act
            } else {
                Decision::Keep
            };
            assert_eq!(planned.decision, decision, "{case}");
        }
    }

    #[test]
    fn the_first_rejecting_filter_names_the_reason() {
        // Fails every filter: not listed, excluded, tagged, no `v` tag, recent, deleted long ago.
        let candidate = deleted(version(9, &digest(9), &["latest"], days(1)), days(100));
        let everything = Policy {
            version_ids: ids(&[1]),
            exclude_tag_regex: regex("^latest$"),
            tag_state: TagState::Untagged,
            tag_regex: regex("^v"),
            older_than: age(days(30)),
            deleted_within: age(days(7)),
            keep_latest: 5,
            rules: Vec::new(),
        };
        // Each row lifts one more filter than the row before.
        type Lift = fn(&mut Policy);
        let table: Vec<(Lift, Reason)> = vec![
            (|_| {}, Reason::NotInVersionIds),
            (|p| p.version_ids = None, Reason::Excluded("latest".into())),
            (
                |p| p.exclude_tag_regex = None,
                Reason::TagState(TagState::Untagged),
            ),
            (|p| p.tag_state = TagState::Any, Reason::NoTagMatch),
            (|p| p.tag_regex = None, Reason::TooRecent),
            (|p| p.older_than = None, Reason::DeletedTooLongAgo),
            (|p| p.deleted_within = None, Reason::KeptLatest(1)),
            (|p| p.keep_latest = 0, Reason::Selected),
        ];
        let mut policy = everything;
        for (lift, reason) in table {
            lift(&mut policy);
            let planned = decide_one(
                candidate.clone(),
                &policy,
                PackageType::Container,
                Mode::Restore,
            );
            assert_eq!(planned.reason, reason, "with {policy:?}");
        }
    }

    #[test]
    fn filters_combine_with_and() {
        let policy = Policy {
            tag_regex: regex("^pr-"),
            older_than: age(days(30)),
            ..Policy::default()
        };
        let versions = vec![
            version(1, &digest(1), &["pr-1"], days(40)),
            version(2, &digest(2), &["pr-2"], days(10)),
            version(3, &digest(3), &["main"], days(40)),
            version(4, &digest(4), &["main"], days(10)),
            version(5, &digest(5), &[], days(40)),
        ];
        let plan = plan(
            versions,
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        assert_eq!(
            reasons(&plan),
            vec![
                (4, Reason::NoTagMatch),
                (2, Reason::TooRecent),
                (5, Reason::NoTagMatch),
                (3, Reason::NoTagMatch),
                (1, Reason::Selected),
            ]
        );
    }

    #[test]
    fn keep_latest_ranks_only_versions_that_passed_every_filter() {
        let versions = vec![
            version(10, &digest(10), &["latest"], days(1)),
            version(11, &digest(11), &["a"], days(5)),
            // Same update time: the higher id counts as newer.
            version(12, &digest(12), &["b"], days(7)),
            version(13, &digest(13), &["c"], days(7)),
            version(14, &digest(14), &["d"], days(9)),
            version(15, &digest(15), &["e"], days(12)),
        ];
        let policy = |keep_latest| Policy {
            exclude_tag_regex: regex("^latest$"),
            keep_latest,
            ..Policy::default()
        };
        let table: &[(usize, &[(u64, Reason)])] = &[
            (
                0,
                &[
                    (10, Reason::Excluded("latest".into())),
                    (11, Reason::Selected),
                    (13, Reason::Selected),
                    (12, Reason::Selected),
                    (14, Reason::Selected),
                    (15, Reason::Selected),
                ],
            ),
            (
                3,
                &[
                    (10, Reason::Excluded("latest".into())),
                    (11, Reason::KeptLatest(1)),
                    (13, Reason::KeptLatest(2)),
                    (12, Reason::KeptLatest(3)),
                    (14, Reason::Selected),
                    (15, Reason::Selected),
                ],
            ),
            (
                99,
                &[
                    (10, Reason::Excluded("latest".into())),
                    (11, Reason::KeptLatest(1)),
                    (13, Reason::KeptLatest(2)),
                    (12, Reason::KeptLatest(3)),
                    (14, Reason::KeptLatest(4)),
                    (15, Reason::KeptLatest(5)),
                ],
            ),
        ];
        for (keep_latest, expected) in table {
            let plan = plan(
                versions.clone(),
                &policy(*keep_latest),
                PackageType::Container,
                Mode::Delete,
                now(),
            );
            assert_eq!(
                reasons(&plan),
                expected.to_vec(),
                "keep-latest {keep_latest}"
            );
        }
    }

    #[test]
    fn exclude_protects_latest_whatever_else_would_select_it() {
        let table: Vec<Policy> = vec![
            Policy::default(),
            Policy {
                tag_regex: regex("."),
                ..Policy::default()
            },
            Policy {
                tag_regex: regex("^latest$"),
                ..Policy::default()
            },
            Policy {
                version_ids: ids(&[1]),
                ..Policy::default()
            },
            Policy {
                older_than: age(0),
                tag_state: TagState::Tagged,
                ..Policy::default()
            },
        ];
        for policy in table {
            let policy = Policy {
                exclude_tag_regex: regex("^latest$"),
                ..policy
            };
            let candidate = version(1, &digest(1), &["v3", "latest"], days(400));
            let planned = decide_one(candidate, &policy, PackageType::Container, Mode::Delete);
            assert_eq!(planned.decision, Decision::Keep, "{policy:?}");
            assert_eq!(
                planned.reason,
                Reason::Excluded("latest".into()),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn tag_regexes_never_match_a_container_digest() {
        let table: &[(PackageType, &str)] = &[
            (PackageType::Container, "^sha256"),
            (PackageType::Container, "sha256:"),
            (PackageType::Container, "."),
            (PackageType::Container, ""),
            (PackageType::Docker, "^sha256"),
        ];
        for (package_type, pattern) in table {
            let untagged = || version(1, &digest(1), &[], days(60));
            let selecting = Policy {
                tag_regex: regex(pattern),
                ..Policy::default()
            };
            let planned = decide_one(untagged(), &selecting, *package_type, Mode::Delete);
            assert_eq!(
                planned.reason,
                Reason::NoTagMatch,
                "{package_type} tag-regex {pattern:?}"
            );
            let excluding = Policy {
                exclude_tag_regex: regex(pattern),
                ..Policy::default()
            };
            let planned = decide_one(untagged(), &excluding, *package_type, Mode::Delete);
            assert_eq!(
                planned.reason,
                Reason::Selected,
                "{package_type} exclude {pattern:?}"
            );
        }
    }

    #[test]
    fn versions_without_tags_match_by_their_version_name() {
        let table: &[(PackageType, &str, &str, Reason)] = &[
            (PackageType::Npm, "1.2.3", r"^1\.", Reason::Selected),
            (PackageType::Npm, "2.0.0", r"^1\.", Reason::NoTagMatch),
            (PackageType::Npm, "1.0.0-rc.1", "-rc", Reason::Selected),
            (
                PackageType::Maven,
                "1.0-SNAPSHOT",
                "SNAPSHOT$",
                Reason::Selected,
            ),
            (PackageType::Nuget, "3.1.0", "^3", Reason::Selected),
            (PackageType::Rubygems, "0.9.1", "^1", Reason::NoTagMatch),
        ];
        for (package_type, name, pattern, reason) in table {
            let policy = Policy {
                tag_regex: regex(pattern),
                ..Policy::default()
            };
            let planned = decide_one(
                version(1, name, &[], days(1)),
                &policy,
                *package_type,
                Mode::Delete,
            );
            assert_eq!(&planned.reason, reason, "{package_type} {name} ~ {pattern}");
        }
    }

    #[test]
    fn the_plan_does_not_depend_on_input_order() {
        let versions = vec![
            version(1, &digest(1), &["pr-1"], days(50)),
            version(2, &digest(2), &["pr-2"], days(40)),
            version(3, &digest(3), &["pr-3"], days(40)),
            version(4, &digest(4), &[], days(45)),
            version(5, &digest(5), &["latest"], days(41)),
            version(6, &digest(6), &["pr-6"], days(2)),
        ];
        let policy = Policy {
            tag_regex: regex("^pr-"),
            exclude_tag_regex: regex("^latest$"),
            older_than: age(days(30)),
            keep_latest: 1,
            ..Policy::default()
        };
        let expected = plan(
            versions.clone(),
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        assert_eq!(
            reasons(&expected),
            vec![
                (6, Reason::TooRecent),
                (3, Reason::KeptLatest(1)),
                (2, Reason::Selected),
                (5, Reason::Excluded("latest".into())),
                (4, Reason::NoTagMatch),
                (1, Reason::Selected),
            ]
        );
        let mut reversed = versions.clone();
        reversed.reverse();
        let mut rotated = versions.clone();
        rotated.rotate_left(2);
        let mut by_id_desc = versions.clone();
        by_id_desc.sort_by_key(|version| std::cmp::Reverse(version.id));
        for order in [reversed, rotated, by_id_desc] {
            let ids: Vec<u64> = order.iter().map(|version| version.id).collect();
            let planned = plan(order, &policy, PackageType::Container, Mode::Delete, now());
            assert_eq!(planned, expected, "input order {ids:?}");
        }
    }

    #[test]
    fn future_timestamps_and_huge_durations_do_not_panic() {
        let far_future = days(365 * 10_000);
        let table: Vec<(&str, Policy, Version, Reason)> = vec![
            (
                "updated in the future is too recent",
                Policy {
                    older_than: age(days(1)),
                    ..Policy::default()
                },
                version(1, "1.0.0", &[], -3_600),
                Reason::TooRecent,
            ),
            (
                "updated in the far future is too recent even for older-than 0",
                Policy {
                    older_than: age(0),
                    ..Policy::default()
                },
                version(1, "1.0.0", &[], -far_future),
                Reason::TooRecent,
            ),
            (
                "an older-than beyond any representable time keeps everything",
                Policy {
                    older_than: Some(Duration::MAX),
                    ..Policy::default()
                },
                version(1, "1.0.0", &[], days(900)),
                Reason::TooRecent,
            ),
            (
                "deleted in the future is within deleted-within",
                Policy {
                    deleted_within: age(days(1)),
                    ..Policy::default()
                },
                deleted(version(1, "1.0.0", &[], days(5)), -3_600),
                Reason::Selected,
            ),
            (
                "a deleted-within beyond any representable time includes every deletion",
                Policy {
                    deleted_within: Some(Duration::MAX),
                    ..Policy::default()
                },
                deleted(version(1, "1.0.0", &[], days(900)), days(900)),
                Reason::Selected,
            ),
        ];
        for (case, policy, version, reason) in table {
            let planned = decide_one(version, &policy, PackageType::Npm, Mode::Restore);
            assert_eq!(planned.reason, reason, "{case}");
        }
    }

    #[test]
    fn an_empty_input_gives_an_empty_plan() {
        let policies = [
            Policy::default(),
            Policy {
                keep_latest: 3,
                older_than: age(days(1)),
                ..Policy::default()
            },
        ];
        for policy in policies {
            let plan = plan(
                Vec::new(),
                &policy,
                PackageType::Container,
                Mode::Delete,
                now(),
            );
            assert!(plan.versions.is_empty() && plan.order.is_empty());
            assert_eq!(plan.selected().count(), 0);
            let tallies: Vec<usize> = plan
                .rules
                .iter()
                .flat_map(|tally| [tally.matched, tally.kept, tally.selected])
                .collect();
            assert_eq!(tallies, vec![0, 0, 0], "one rule, the flat inputs'");
        }
    }

    #[test]
    fn selected_lists_the_versions_to_act_on_oldest_first() {
        let versions = vec![
            version(1, "1.0.0", &[], days(30)),
            version(2, "2.0.0", &[], days(20)),
            version(3, "3.0.0", &[], days(10)),
            version(4, "4.0.0", &[], days(5)),
        ];
        let policy = Policy {
            keep_latest: 1,
            ..Policy::default()
        };
        let plan = plan(versions, &policy, PackageType::Npm, Mode::Delete, now());
        let selected: Vec<u64> = plan.selected().map(|planned| planned.version.id).collect();
        assert_eq!(selected, vec![1, 2, 3]);
    }

    #[test]
    fn orphans_stay_protected_by_version_ids_exclusions_and_older_than() {
        let orphan = version(7, &digest(7), &["sha256-x.sig"], days(40));
        let table: Vec<(&str, Policy, bool)> = vec![
            ("no filter lets it go", Policy::default(), true),
            (
                "tag-state and keep-latest do not protect it",
                Policy {
                    tag_state: TagState::Untagged,
                    keep_latest: 5,
                    tag_regex: regex("^v"),
                    ..Policy::default()
                },
                true,
            ),
            (
                "old enough for older-than",
                Policy {
                    older_than: age(days(30)),
                    ..Policy::default()
                },
                true,
            ),
            (
                "too recent for older-than",
                Policy {
                    older_than: age(days(50)),
                    ..Policy::default()
                },
                false,
            ),
            (
                "listed in version-ids",
                Policy {
                    version_ids: ids(&[7]),
                    ..Policy::default()
                },
                true,
            ),
            (
                "not listed in version-ids",
                Policy {
                    version_ids: ids(&[8]),
                    ..Policy::default()
                },
                false,
            ),
            (
                "excluded by exclude-tag-regex",
                Policy {
                    exclude_tag_regex: regex(r"\.sig$"),
                    ..Policy::default()
                },
                false,
            ),
        ];
        for (name, policy, expected) in table {
            assert_eq!(orphan_may_go(&orphan, &policy, now()), expected, "{name}");
        }
    }

    #[test]
    fn only_what_this_run_read_is_acted_on_and_only_it_fills_keep_latest() {
        // Five untagged images, 1 the newest; the policy keeps the 2 newest.
        let versions: Vec<Version> = (1..=5).map(|id| aged(id, &[])).collect();
        let policy = Policy {
            keep_latest: 2,
            ..Policy::default()
        };
        let unread = Reason::Unconfirmed(Unconfirmed::NotListed);
        let slots = Reason::Unconfirmed(Unconfirmed::KeepLatest);
        /// What the case is, the ids read in this run (`None`: all), and the reasons.
        type Case<'a> = (&'a str, Option<&'a [u64]>, &'a [(u64, Reason)]);
        let table: &[Case] = &[
            (
                "everything read: the plan of `plan`",
                None,
                &[
                    (1, Reason::KeptLatest(1)),
                    (2, Reason::KeptLatest(2)),
                    (3, Reason::Selected),
                    (4, Reason::Selected),
                    (5, Reason::Selected),
                ],
            ),
            (
                "the newest two read: the rest are sure to be older",
                Some(&[1, 2, 4, 5]),
                &[
                    (1, Reason::KeptLatest(1)),
                    (2, Reason::KeptLatest(2)),
                    (3, unread.clone()),
                    (4, Reason::Selected),
                    (5, Reason::Selected),
                ],
            ),
            (
                "the newest not read: 1 may be gone, so 3 may be the second newest",
                Some(&[2, 3, 4, 5]),
                &[
                    (1, Reason::KeptLatest(1)),
                    (2, Reason::KeptLatest(2)),
                    (3, slots.clone()),
                    (4, Reason::Selected),
                    (5, Reason::Selected),
                ],
            ),
            (
                "nothing read: nothing acted on",
                Some(&[]),
                &[
                    (1, Reason::KeptLatest(1)),
                    (2, Reason::KeptLatest(2)),
                    (3, unread.clone()),
                    (4, unread.clone()),
                    (5, unread),
                ],
            ),
        ];
        for (name, read, expected) in table {
            let read: Option<HashSet<u64>> = read.map(|ids| ids.iter().copied().collect());
            let plan = plan_confirmed(
                versions.clone(),
                &policy,
                PackageType::Container,
                Mode::Delete,
                now(),
                read.as_ref(),
            );
            assert_eq!(reasons(&plan), expected.to_vec(), "{name}");
            let acted: Vec<u64> = plan.selected().map(|p| p.version.id).collect();
            let selected: Vec<u64> = expected
                .iter()
                .filter(|(_, reason)| *reason == Reason::Selected)
                .map(|(id, _)| *id)
                .rev()
                .collect();
            assert_eq!(acted, selected, "{name}: oldest first");
        }
    }

    #[test]
    fn may_select_is_false_only_when_no_version_passes_the_filters_of_any_rule() {
        let versions = vec![aged(1, &["v1"]), aged(2, &["pr-2"])];
        let table = [
            (
                "tag-state untagged, all tagged",
                Policy {
                    tag_state: TagState::Untagged,
                    ..Policy::default()
                },
                false,
            ),
            (
                "tag-regex matching one",
                Policy {
                    tag_regex: regex("^pr-"),
                    ..Policy::default()
                },
                true,
            ),
            (
                "keep-latest keeps all, still may select",
                Policy {
                    keep_latest: 10,
                    ..Policy::default()
                },
                true,
            ),
            (
                "excluded",
                Policy {
                    exclude_tag_regex: regex("."),
                    ..Policy::default()
                },
                false,
            ),
        ];
        for (name, policy, expected) in table {
            let may = may_select(
                &versions,
                &policy,
                PackageType::Container,
                Mode::Delete,
                now(),
            );
            assert_eq!(may, expected, "{name}");
            let acts = !plan(
                versions.clone(),
                &policy,
                PackageType::Container,
                Mode::Delete,
                now(),
            )
            .order
            .is_empty();
            assert!(
                may || !acts,
                "{name}: may_select is never false when the plan acts"
            );
        }
    }

    #[test]
    fn holding_a_plan_keeps_everything_it_would_act_on_with_why() {
        let versions: Vec<Version> = (1..=3).map(|id| aged(id, &[])).collect();
        let held = hold(
            plan(
                versions,
                &Policy::default(),
                PackageType::Container,
                Mode::Delete,
                now(),
            ),
            "the tag list could not be read",
        );
        assert!(held.order.is_empty());
        assert!(held.versions.iter().all(|planned| {
            planned.decision == Decision::Keep
                && planned.reason.to_string()
                    == "not confirmed by this run's reads: the tag list could not be read"
        }));
    }

    /// A rule with only a name; tests set the fields they need.
    fn rule(name: &str) -> Rule {
        Rule {
            name: Some(name.to_owned()).filter(|name| !name.is_empty()),
            ..Rule::default()
        }
    }

    fn with_rules(rules: Vec<Rule>) -> Policy {
        Policy {
            rules,
            ..Policy::default()
        }
    }

    /// A container version `id` days old, so a higher id is older.
    fn aged(id: u64, tags: &[&str]) -> Version {
        version(id, &digest(id), tags, days(id as i64))
    }

    fn kept_by(rule: &str, keep: usize, group: Option<&str>) -> Reason {
        Reason::KeptBy {
            rule: rule.to_owned(),
            keep,
            group: group.map(str::to_owned),
        }
    }

    fn selected_by(rule: &str) -> Reason {
        Reason::SelectedBy(rule.to_owned())
    }

    #[test]
    fn each_rule_keeps_its_newest_matches_per_group_and_selects_the_rest() {
        let releases = || Rule {
            tag_regex: regex(r"^v\d+\.\d+\.\d+$"),
            ..rule("releases")
        };
        // (case, rules, versions, (id, reason) in plan order)
        type Case = (&'static str, Vec<Rule>, Vec<Version>, Vec<(u64, Reason)>);
        let table: Vec<Case> = vec![
            (
                "keep-latest keeps the N newest matches",
                vec![Rule {
                    keep_latest: 2,
                    ..releases()
                }],
                vec![
                    aged(1, &["v1.0.2"]),
                    aged(2, &["v1.0.1"]),
                    aged(3, &["v1.0.0"]),
                ],
                vec![
                    (1, kept_by("releases", 2, None)),
                    (2, kept_by("releases", 2, None)),
                    (3, selected_by("releases")),
                ],
            ),
            (
                "group-by keeps the N newest of every group",
                vec![Rule {
                    keep_latest: 1,
                    group_by: regex(r"^v(\d+\.\d+)\."),
                    ..releases()
                }],
                vec![
                    aged(1, &["v1.1.1"]),
                    aged(2, &["v1.0.1"]),
                    aged(3, &["v1.1.0"]),
                    aged(4, &["v1.0.0"]),
                ],
                vec![
                    (1, kept_by("releases", 1, Some("1.1"))),
                    (2, kept_by("releases", 1, Some("1.0"))),
                    (3, selected_by("releases")),
                    (4, selected_by("releases")),
                ],
            ),
            (
                "a group with fewer than N matches keeps them all",
                vec![Rule {
                    keep_latest: 2,
                    group_by: regex(r"^v(\d+)\."),
                    ..releases()
                }],
                vec![
                    aged(1, &["v2.0.0"]),
                    aged(2, &["v1.0.2"]),
                    aged(3, &["v1.0.1"]),
                    aged(4, &["v1.0.0"]),
                ],
                vec![
                    (1, kept_by("releases", 2, Some("2"))),
                    (2, kept_by("releases", 2, Some("1"))),
                    (3, kept_by("releases", 2, Some("1"))),
                    (4, selected_by("releases")),
                ],
            ),
            (
                "the first tag that matches group-by gives the group; none matching is no match",
                vec![Rule {
                    keep_latest: 1,
                    group_by: regex(r"^v(\d+)\."),
                    ..rule("majors")
                }],
                vec![
                    aged(1, &["latest", "v2.0.0", "v1.9.0"]),
                    aged(2, &["v1.0.0", "v2.0.1"]),
                    aged(3, &["v2.0.2"]),
                    aged(4, &["nightly"]),
                ],
                vec![
                    (1, kept_by("majors", 1, Some("2"))),
                    (2, kept_by("majors", 1, Some("1"))),
                    (3, selected_by("majors")),
                    (4, Reason::NoRuleMatches),
                ],
            ),
            (
                "an unnamed rule is named by its number, from 1",
                vec![
                    Rule {
                        tag_regex: regex("^dev-"),
                        ..rule("")
                    },
                    Rule {
                        tag_state: TagState::Untagged,
                        older_than: age(days(7)),
                        ..rule("")
                    },
                ],
                vec![aged(1, &[]), aged(8, &[]), aged(9, &["dev-9"])],
                vec![
                    (1, Reason::NoRuleMatches),
                    (8, selected_by("#2")),
                    (9, selected_by("#1")),
                ],
            ),
            (
                "a rule's own exclude-tag-regex only stops that rule",
                vec![
                    Rule {
                        tag_regex: regex("^pr-"),
                        exclude_tag_regex: regex("^pr-1$"),
                        ..rule("prs")
                    },
                    Rule {
                        tag_regex: regex("^pr-1$"),
                        ..rule("pr one")
                    },
                ],
                vec![aged(1, &["pr-1"]), aged(2, &["pr-2"])],
                vec![(1, selected_by("pr one")), (2, selected_by("prs"))],
            ),
        ];
        for (case, rules, versions, expected) in table {
            let plan = plan(
                versions,
                &with_rules(rules),
                PackageType::Container,
                Mode::Delete,
                now(),
            );
            assert_eq!(reasons(&plan), expected, "{case}");
            for planned in &plan.versions {
                let acts = matches!(planned.reason, Reason::SelectedBy(_));
                let decision = if acts { Decision::Act } else { Decision::Keep };
                assert_eq!(planned.decision, decision, "{case}: {planned:?}");
            }
        }
    }

    #[test]
    fn keeping_wins_over_selecting_and_the_first_rule_names_the_decision() {
        let rules = vec![
            Rule {
                tag_regex: regex(r"^v"),
                older_than: age(days(10)),
                ..rule("old releases")
            },
            Rule {
                tag_regex: regex(r"^v"),
                keep_latest: 2,
                ..rule("newest")
            },
            Rule {
                tag_regex: regex(r"^v1"),
                keep_latest: 5,
                ..rule("v1 line")
            },
        ];
        let versions = vec![
            aged(20, &["v2.1"]),
            aged(30, &["v2.0"]),
            aged(40, &["v1.1"]),
            aged(50, &["v0.9"]),
            aged(5, &["v3.0"]),
        ];
        let plan = plan(
            versions,
            &with_rules(rules),
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        assert_eq!(
            reasons(&plan),
            vec![
                (5, kept_by("newest", 2, None)),
                (20, kept_by("newest", 2, None)),
                (30, selected_by("old releases")),
                (40, kept_by("v1 line", 5, None)),
                (50, selected_by("old releases")),
            ]
        );
        let selected: Vec<u64> = plan.selected().map(|p| p.version.id).collect();
        assert_eq!(selected, vec![50, 30]);
        let labels: Vec<Option<&str>> = plan
            .versions
            .iter()
            .map(|planned| plan.rule_label(planned))
            .collect();
        assert_eq!(
            labels,
            vec![
                Some("newest"),
                Some("newest"),
                Some("old releases"),
                Some("v1 line"),
                Some("old releases"),
            ]
        );
        // Counted before keeping wins: "old releases" selected 4, of which 2 survive.
        let tallies: Vec<(&str, usize, usize, usize)> = plan
            .rules
            .iter()
            .map(|t| (t.label.as_str(), t.matched, t.kept, t.selected))
            .collect();
        assert_eq!(
            tallies,
            vec![
                ("old releases", 4, 0, 4),
                ("newest", 5, 2, 3),
                ("v1 line", 1, 1, 0),
            ]
        );
    }

    #[test]
    fn global_filters_apply_to_every_rule_and_excluded_versions_take_no_slot() {
        let policy = Policy {
            exclude_tag_regex: regex("^latest$"),
            version_ids: ids(&[1, 2, 3, 5]),
            ..with_rules(vec![Rule {
                tag_state: TagState::Tagged,
                keep_latest: 1,
                ..rule("tagged")
            }])
        };
        let versions = vec![
            aged(1, &["latest", "v4"]),
            aged(2, &["v3"]),
            aged(3, &["v2"]),
            aged(4, &["v1"]),
            aged(5, &[]),
        ];
        let plan = plan(
            versions,
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        assert_eq!(
            reasons(&plan),
            vec![
                (1, Reason::Excluded("latest".into())),
                (2, kept_by("tagged", 1, None)),
                (3, selected_by("tagged")),
                (4, Reason::NotInVersionIds),
                (5, Reason::NoRuleMatches),
            ]
        );
    }

    #[test]
    fn keep_latest_counts_images_when_the_image_graph_says_which_versions_are_images() {
        // v3's index (3) with a platform manifest (4) and v3's cosign signature (2, newest);
        // then v2 (5) and v1 (6). Only 3, 5 and 6 are top-level images.
        let signature = format!("sha256-{:064x}.sig", 3);
        let versions = vec![
            aged(2, &[signature.as_str()]),
            aged(3, &["v3"]),
            aged(4, &[]),
            aged(5, &["v2"]),
            aged(6, &["v1"]),
        ];
        let images: HashSet<u64> = [3, 5, 6].into();
        let flat = Policy {
            tag_state: TagState::Tagged,
            keep_latest: 3,
            ..Policy::default()
        };
        let named = with_rules(vec![Rule {
            tag_state: TagState::Tagged,
            keep_latest: 3,
            ..rule("tagged")
        }]);
        let by_versions = plan(
            versions.clone(),
            &flat,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        assert_eq!(
            reasons(&by_versions),
            vec![
                (2, Reason::KeptLatest(1)),
                (3, Reason::KeptLatest(2)),
                (4, Reason::TagState(TagState::Tagged)),
                (5, Reason::KeptLatest(3)),
                (6, Reason::Selected),
            ],
            "without the graph the signature takes a slot, as before"
        );
        let table: Vec<(&Policy, Vec<(u64, Reason)>)> = vec![
            (
                &flat,
                vec![
                    (2, Reason::Selected),
                    (3, Reason::KeptLatest(1)),
                    (4, Reason::TagState(TagState::Tagged)),
                    (5, Reason::KeptLatest(2)),
                    (6, Reason::KeptLatest(3)),
                ],
            ),
            (
                &named,
                vec![
                    (2, selected_by("tagged")),
                    (3, kept_by("tagged", 3, None)),
                    (4, Reason::NoRuleMatches),
                    (5, kept_by("tagged", 3, None)),
                    (6, kept_by("tagged", 3, None)),
                ],
            ),
        ];
        for (policy, expected) in table {
            let versions_plan = plan(
                versions.clone(),
                policy,
                PackageType::Container,
                Mode::Delete,
                now(),
            );
            let by_images = plan_images(
                versions_plan,
                policy,
                PackageType::Container,
                Mode::Delete,
                now(),
                &images,
                None,
            );
            assert_eq!(reasons(&by_images), expected);
        }
    }

    #[test]
    fn what_goes_with_an_image_carries_the_image_rule_and_a_kept_orphan_none() {
        let policy = with_rules(vec![
            Rule {
                tag_regex: regex("^v"),
                ..rule("releases")
            },
            Rule {
                tag_state: TagState::Untagged,
                keep_latest: 5,
                ..rule("untagged")
            },
        ]);
        let versions = vec![aged(1, &["v1"]), aged(2, &[]), aged(3, &[]), aged(4, &[])];
        let mut planned = plan(
            versions,
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        // What the image graph makes of it: 2 is v1's platform manifest, 3 that manifest's
        // signature, 4 an orphan that delete-orphans deletes.
        let go_with = |parent: u64, role: Role| {
            (
                Decision::Act,
                Some(Relation {
                    parents: vec![parent],
                    role,
                }),
            )
        };
        let graph = [
            (1, (Decision::Act, None)),
            (2, go_with(1, Role::Platform("linux/amd64".into()))),
            (3, go_with(2, Role::Signature)),
            (4, (Decision::Act, None)),
        ];
        for (id, (decision, relation)) in graph {
            let Some(version) = planned.versions.iter_mut().find(|p| p.version.id == id) else {
                panic!("version {id} is planned");
            };
            version.decision = decision;
            version.relation = relation;
            if id == 4 {
                version.reason = Reason::Orphan(None);
            }
        }
        planned.order = vec![0, 1, 2, 3];
        let carried = carry_rules(planned);
        let labels: Vec<(u64, Option<&str>)> = carried
            .versions
            .iter()
            .map(|p| (p.version.id, carried.rule_label(p)))
            .collect();
        assert_eq!(
            labels,
            vec![
                (1, Some("releases")),
                (2, Some("releases")),
                (3, Some("releases")),
                (4, None),
            ]
        );
    }

    #[test]
    fn with_rules_an_orphan_must_be_older_than_every_rule_older_than() {
        let orphan = version(7, &digest(7), &[], days(10));
        let table: Vec<(&str, Vec<Rule>, bool)> = vec![
            (
                "no rule has older-than",
                vec![Rule {
                    keep_latest: 1,
                    ..rule("a")
                }],
                true,
            ),
            (
                "older than each",
                vec![
                    Rule {
                        older_than: age(days(7)),
                        ..rule("a")
                    },
                    Rule {
                        older_than: age(days(3)),
                        ..rule("b")
                    },
                ],
                true,
            ),
            (
                "younger than one",
                vec![
                    Rule {
                        older_than: age(days(7)),
                        ..rule("a")
                    },
                    Rule {
                        older_than: age(days(14)),
                        ..rule("b")
                    },
                ],
                false,
            ),
        ];
        for (case, rules, expected) in table {
            assert_eq!(
                orphan_may_go(&orphan, &with_rules(rules), now()),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn a_version_with_unknown_tags_is_selected_only_by_its_id() {
        use PackageType::{Container, Docker, Npm};
        let unknown = || Version {
            tags_known: false,
            ..version(7, &digest(7), &[], days(60))
        };
        let table: Vec<(&str, Policy, PackageType, Reason)> = vec![
            (
                "no filter keeps it",
                Policy::default(),
                Container,
                Reason::TagsUnknown,
            ),
            (
                "tag-state untagged keeps it: empty is not untagged",
                Policy {
                    tag_state: TagState::Untagged,
                    ..Policy::default()
                },
                Container,
                Reason::TagsUnknown,
            ),
            (
                "a docker version keeps it too",
                Policy::default(),
                Docker,
                Reason::TagsUnknown,
            ),
            (
                "version-ids naming it selects it",
                Policy {
                    version_ids: ids(&[7]),
                    ..Policy::default()
                },
                Container,
                Reason::Selected,
            ),
            (
                "version-ids with a tag-state still keeps it",
                Policy {
                    version_ids: ids(&[7]),
                    tag_state: TagState::Untagged,
                    ..Policy::default()
                },
                Container,
                Reason::TagsUnknown,
            ),
            (
                "version-ids not naming it keeps it as not listed",
                Policy {
                    version_ids: ids(&[8]),
                    ..Policy::default()
                },
                Container,
                Reason::NotInVersionIds,
            ),
            (
                "an npm version has no tags to know",
                Policy::default(),
                Npm,
                Reason::Selected,
            ),
        ];
        for (case, policy, package_type, reason) in table {
            let planned = decide_one(unknown(), &policy, package_type, Mode::Delete);
            assert_eq!(planned.reason, reason, "{case}");
        }
    }

    #[test]
    fn an_orphan_with_unknown_tags_goes_only_when_version_ids_names_it() {
        let orphan = Version {
            tags_known: false,
            ..version(7, &digest(7), &[], days(60))
        };
        let table = [
            ("no version-ids", None, false),
            ("version-ids naming it", ids(&[7]), true),
            ("version-ids naming another", ids(&[8]), false),
        ];
        for (case, version_ids, expected) in table {
            let policy = Policy {
                version_ids,
                ..Policy::default()
            };
            assert_eq!(orphan_may_go(&orphan, &policy, now()), expected, "{case}");
        }
    }
}
