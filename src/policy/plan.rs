//! The pure planner: versions + policy + now → a decision and a reason for every version.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::model::image::{Relation, Role, short_digest, short_tags};
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome};
use crate::model::version::{PackageType, Version};
use crate::policy::order::{self, VersionKey};
use crate::policy::rules::{OrderBy, Policy, Rule, TagState};
use crate::policy::storage::Held;

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
    /// `order-by: version`: one of the `keep-latest` highest versions that passed every
    /// filter (1 = highest).
    KeptHighest(usize),
    /// `rules`: among the `keep` newest (or highest, by `order`) matches of this rule (of
    /// its `group`, when the rule has `group-by`); the first rule that keeps it.
    KeptBy {
        rule: String,
        keep: usize,
        group: Option<String>,
        order: OrderBy,
    },
    /// `order-by: version`: none of its tags (or its name) is a version of the package's
    /// ecosystem (`label` shows them, or `untagged`), so it is kept and takes no slot; with
    /// `rules`, the rule that orders by version.
    NotAVersion { label: String, rule: Option<String> },
    /// `keep-referenced`: a file of the workspace names it (`place` is the first such
    /// `file:line`, with how many other places).
    Referenced(String),
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
    /// Container, `untag`: the policy selected it for some of its tags, and its other tags
    /// match no rule: these tags are removed, and the image is kept by the others (see
    /// `policy::untag`).
    Untag(Vec<String>),
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
            Reason::KeptHighest(rank) => {
                write!(f, "kept by keep-latest (#{rank} highest version)")
            }
            Reason::KeptBy {
                rule,
                keep,
                group,
                order,
            } => {
                let which = match order {
                    OrderBy::Pushed => "newest",
                    OrderBy::Version => "highest versions",
                };
                write!(f, "kept by rule {rule}: among the {keep} {which}")?;
                match group {
                    Some(group) => write!(f, " of group `{group}`"),
                    None => Ok(()),
                }
            }
            Reason::NotAVersion { label, rule } => {
                write!(f, "not a version: {label}")?;
                match rule {
                    Some(rule) => write!(f, " (rule {rule} orders by version)"),
                    None => Ok(()),
                }
            }
            Reason::Referenced(place) => write!(f, "referenced by {place}"),
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
            Reason::Untag(tags) => write!(
                f,
                "kept by its other tags; untag removes {}",
                tags.join(", ")
            ),
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
    /// goes with an image or is kept as part of one, the image's rule (see [`carry_rules`]).
    pub rule: Option<usize>,
}

/// One rule's name and how many versions pass its filters. What each rule decided in the
/// end is each version's [`PlannedVersion::rule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTally {
    /// The rule's name, or `#N`.
    pub label: String,
    /// Versions that pass the rule's own filters (its `exclude-tag-regex`, `tag-state`,
    /// `tag-regex`, `older-than` and `group-by`), whatever the global filters
    /// (`keep-referenced`, `version-ids`, `exclude-tag-regex`, `deleted-within`) and the other
    /// rules say: a version several rules match counts for each.
    pub matched: usize,
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
    /// Container packages whose manifests were read: the blobs each version lists, from
    /// which the run tells what the plan frees ([`crate::policy::storage`]). Boxed, so that
    /// a plan without them stays small.
    pub blobs: Option<Box<Held>>,
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

    /// What happened to `planned`, one of this plan's versions: the report's entry, with
    /// its relation, reason and rule.
    pub fn entry(&self, planned: &PlannedVersion, outcome: Outcome) -> Entry {
        Entry {
            version: planned.version.clone(),
            outcome,
            relation: planned.relation.clone(),
            reason: planned.reason.to_string(),
            rule: self.rule_label(planned).map(str::to_owned),
        }
    }
}

/// Decide every version. Pure: the same inputs always give the same plan, whatever the
/// order of `versions` (ids are unique, so the sort below is total). Every version takes a
/// `keep-latest` slot; [`plan_images`] plans with image slots instead.
///
/// The filters AND together and run in this order; the first that rejects a version names
/// its [`Reason`]:
/// 0. `keep-referenced`: a version the workspace names is kept, whatever else the policy
///    says ([`Reason::Referenced`]), and takes no slot.
/// 1. `version-ids` does not list its id.
/// 2. `exclude-tag-regex` matches one of its labels (see [`Version::labels`]).
/// 3. The rule's filters (each rule of `rules`, or the flat inputs' one rule), see
///    [`rule_match`]: its own `exclude-tag-regex`, `tag-state`, `tag-regex`, `older-than`,
///    `group-by`. With `rules`, a version no rule matches gets [`Reason::NoRuleMatches`].
/// 4. `deleted-within`, restore mode only: not deleted, or deleted before
///    `now - deleted-within`. Deleted exactly at that instant, or in the future, is within.
/// 5. Each rule then ranks its matches per group of equal `group-by` captures: newest first
///    (`order-by: pushed`), or highest version first (`order-by: version`, see
///    [`order`]; equal versions newest first). The first `keep-latest` that are images are
///    kept by it, ranked from 1, the rest are selected by it. With `order-by: version`, a
///    match that is not a version is kept by the rule ([`Reason::NotAVersion`]) and takes
///    no slot. A version is acted on when a rule selects it and no rule keeps it: keeping
///    wins. The first rule that keeps (or else selects) it names it.
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
        })
        .collect();
    // Steps 0 to 4: a version the filters decide is decided in place; the matches of the
    // others go into one vector, in plan order (one vector, not one per version: a plan
    // may hold 100k versions).
    let filters = Filters {
        policy,
        rules: &rules,
        named,
        package_type,
        mode,
        now,
    };
    let mut matches: Vec<Match> = Vec::new();
    for (index, planned) in versions.iter_mut().enumerate() {
        let decided = filters.standing(index, &planned.version, &mut matches, &mut tallies);
        planned.decision = Decision::Keep;
        planned.reason = decided.unwrap_or(Reason::Selected);
        planned.relation = None;
        planned.rule = None;
    }
    let takes_slot =
        |index: usize| images.is_none_or(|ids| ids.contains(&versions[index].version.id));
    let read_here =
        |index: usize| confirmed.is_none_or(|ids| ids.contains(&versions[index].version.id));
    // Step 5, rule by rule: rank its matches, then give the slots.
    for (rule_index, rule) in rules.iter().enumerate() {
        let mut ranked: Vec<usize> = (0..matches.len())
            .filter(|&at| matches[at].rule == rule_index)
            .collect();
        if rule.order_by == OrderBy::Version {
            // Highest first; equal versions (and those that are none) in push order, as
            // the matches already are: the sort is stable.
            ranked.sort_by(|&a, &b| matches[b].key.cmp(&matches[a].key));
        }
        // The slots taken in each group (`None`: the rule has no `group-by`).
        let mut taken: HashMap<Option<String>, usize> = HashMap::new();
        // In each group, the matches ranked above that take a slot and were read in this
        // run, whether kept or not: the ones this run is sure rank above.
        let mut sure: HashMap<Option<String>, usize> = HashMap::new();
        for at in ranked {
            let found = &mut matches[at];
            let image = takes_slot(found.version);
            let slots = taken.entry(found.group.clone()).or_insert(0);
            found.fate = if image && rule.order_by == OrderBy::Version && found.key.is_none() {
                Fate::NotAVersion
            } else if image && *slots < rule.keep_latest {
                *slots += 1;
                Fate::Kept(*slots)
            } else {
                Fate::Selected
            };
            if image && found.fate != Fate::NotAVersion {
                let above = sure.entry(found.group.clone()).or_insert(0);
                found.slots_sure = *above >= rule.keep_latest;
                *above += usize::from(read_here(found.version));
            }
        }
    }
    for of_one in matches.chunk_by(|a, b| a.version == b.version) {
        let Some(planned) = of_one
            .first()
            .and_then(|found| versions.get_mut(found.version))
        else {
            continue;
        };
        let fresh = confirmed.is_none_or(|ids| ids.contains(&planned.version.id));
        let (decision, reason, rule) = decide(of_one, &rules, &tallies, named, fresh);
        planned.decision = decision;
        planned.reason = reason;
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
        blobs: None,
    }
}

/// One rule's match of a version, and what the rule's ranking made of it.
struct Match {
    /// The version's index in the plan.
    version: usize,
    rule: usize,
    /// The `group-by` capture, `None` when the rule has none.
    group: Option<String>,
    /// `order-by: version`: the version the rule ranks it by, if it is one (boxed: most
    /// rules order by push, and a plan may hold 100k matches).
    key: Option<Box<VersionKey>>,
    /// `order-by: version` and not a version: the labels it showed the rule, for
    /// [`Reason::NotAVersion`]; empty otherwise.
    label: String,
    fate: Fate,
    /// At least `keep-latest` matches that take a slot and were read in this run rank
    /// above it in its group (always, when every version was read in this run).
    slots_sure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Kept, ranked from 1 within its group.
    Kept(usize),
    /// `order-by: version`, and not a version: kept without a slot.
    NotAVersion,
    Selected,
}

/// What steps 0 to 4 of [`plan`] read: the same for every version of a plan.
struct Filters<'a> {
    policy: &'a Policy,
    rules: &'a [Rule],
    named: bool,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
}

impl Filters<'_> {
    /// Steps 0 to 4 for the version at `index`: the reason it is kept when the filters
    /// decide it; otherwise `None`, and its matches pushed onto `matches`. Every rule whose
    /// own filters it passes counts it in `tallies`, whatever the global filters say.
    fn standing(
        &self,
        index: usize,
        version: &Version,
        matches: &mut Vec<Match>,
        tallies: &mut [RuleTally],
    ) -> Option<Reason> {
        let Filters {
            policy,
            rules,
            named,
            package_type,
            mode,
            now,
        } = *self;
        let first_match = matches.len();
        let mut first_rejection = None;
        for (rule_index, rule) in rules.iter().enumerate() {
            match rule_match(version, rule, package_type, now) {
                Ok(ranking) => {
                    if let Some(tally) = tallies.get_mut(rule_index) {
                        tally.matched += 1;
                    }
                    matches.push(Match {
                        version: index,
                        rule: rule_index,
                        group: ranking.group,
                        key: ranking.key.map(Box::new),
                        label: ranking.label,
                        fate: Fate::Selected,
                        slots_sure: true,
                    });
                }
                Err(reason) => {
                    first_rejection.get_or_insert(reason);
                }
            }
        }
        if let Some(pinned) = policy.referenced.pinning(version) {
            matches.truncate(first_match);
            let place = match pinned.others {
                0 => pinned.place.to_string(),
                others => format!(
                    "{} and {others} other place{}",
                    pinned.place,
                    if others == 1 { "" } else { "s" }
                ),
            };
            return Some(Reason::Referenced(place));
        }
        if let Some(reason) = reject_global(version, policy, package_type) {
            matches.truncate(first_match);
            return Some(reason);
        }
        if matches.len() == first_match {
            return Some(match first_rejection {
                Some(reason) if !named => reason,
                _ => Reason::NoRuleMatches,
            });
        }
        if let Some(reason) = reject_deleted(version, policy, mode, now) {
            matches.truncate(first_match);
            return Some(reason);
        }
        None
    }
}

/// Step 5 of [`plan`] for a version the rules matched: kept by the first rule that keeps it,
/// else acted on, named by the first rule that selects it; but kept as unconfirmed when it
/// was not read in this run (`fresh`), or when the matches ranked above it that this run
/// read do not fill some rule's `keep-latest` (see [`plan_confirmed`]).
fn decide(
    matches: &[Match],
    rules: &[Rule],
    tallies: &[RuleTally],
    named: bool,
    fresh: bool,
) -> (Decision, Reason, Option<usize>) {
    let first = matches.first().map(|found| found.rule);
    for found in matches {
        let rule = &rules[found.rule];
        let label = || tallies[found.rule].label.clone();
        let reason = match found.fate {
            Fate::Selected => continue,
            Fate::NotAVersion => Reason::NotAVersion {
                label: found.label.clone(),
                rule: named.then(label),
            },
            Fate::Kept(_) if named => Reason::KeptBy {
                rule: label(),
                keep: rule.keep_latest,
                group: found.group.clone(),
                order: rule.order_by,
            },
            Fate::Kept(rank) => match rule.order_by {
                OrderBy::Pushed => Reason::KeptLatest(rank),
                OrderBy::Version => Reason::KeptHighest(rank),
            },
        };
        return (Decision::Keep, reason, Some(found.rule));
    }
    if !fresh {
        return (
            Decision::Keep,
            Reason::Unconfirmed(Unconfirmed::NotListed),
            first,
        );
    }
    if matches.iter().any(|found| !found.slots_sure) {
        return (
            Decision::Keep,
            Reason::Unconfirmed(Unconfirmed::KeepLatest),
            first,
        );
    }
    let reason = match first {
        Some(first) if named => Reason::SelectedBy(tallies[first].label.clone()),
        _ => Reason::Selected,
    };
    (Decision::Act, reason, first)
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

/// How a rule that matches a version ranks it.
struct Ranking {
    group: Option<String>,
    key: Option<VersionKey>,
    /// What [`Reason::NotAVersion`] shows when there is no `key` with `order-by: version`.
    label: String,
}

/// Whether `version` passes every filter of `rule` (tag, age, state and `group-by`), as
/// `untag` asks of each of its tags alone (see `policy::untag`).
pub(crate) fn passes_rule(
    version: &Version,
    rule: &Rule,
    package_type: PackageType,
    now: SystemTime,
) -> bool {
    rule_match(version, rule, package_type, now).is_ok()
}

/// Step 3 of [`plan`]: whether `version` passes the rule's filters, and if so how the rule
/// ranks it; otherwise the first filter that rejects it:
/// - the rule's `exclude-tag-regex` matches one of its labels;
/// - `tag-state` asks for the other state. Only container and docker versions have tags,
///   so for other types `tag-state` is ignored (config rejects it for them anyway);
/// - `tag-regex` matches none of its labels. An untagged container version has no labels,
///   so it never matches: the digest is never matched;
/// - `order-by: version` and an untagged container version: it has no version to rank, so
///   the rule does not match it (other rules may);
/// - `older-than`: updated after `now - older-than`. A version updated exactly at that
///   instant is old enough. Timestamps in the future (clock skew) are simply too recent;
/// - `group-by` matches none of its labels.
///
/// Its group is the capture of `group-by` on a label (empty when the group did not take
/// part): ordered by push, the first label (in GitHub's order) that `group-by` matches;
/// ordered by version, the label with the highest version among those that `tag-regex` and
/// `group-by` both match, which is also the version it is ranked by.
fn rule_match(
    version: &Version,
    rule: &Rule,
    package_type: PackageType,
    now: SystemTime,
) -> Result<Ranking, Reason> {
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
    if rule.order_by == OrderBy::Version && labels.is_empty() {
        return Err(Reason::NotAVersion {
            label: "untagged".to_owned(),
            rule: None,
        });
    }
    if let Some(older_than) = rule.older_than
        && !at_or_before(version.updated_at, now, older_than)
    {
        return Err(Reason::TooRecent);
    }
    let capture = |label: &str| -> Option<String> {
        let group_by = rule.group_by.as_ref()?;
        let captures = group_by.captures(label)?;
        Some(captures.get(1).map_or("", |m| m.as_str()).to_owned())
    };
    let first_group = match &rule.group_by {
        Some(_) => Some(
            labels
                .iter()
                .find_map(|label| capture(label))
                .ok_or(Reason::NoTagMatch)?,
        ),
        None => None,
    };
    if rule.order_by == OrderBy::Pushed {
        return Ok(Ranking {
            group: first_group,
            key: None,
            label: String::new(),
        });
    }
    let candidates: Vec<&String> = labels
        .iter()
        .filter(|label| rule.tag_regex.as_ref().is_none_or(|r| r.is_match(label)))
        .filter(|label| rule.group_by.as_ref().is_none_or(|g| g.is_match(label)))
        .collect();
    // The highest version among them; of equal ones, the first.
    let highest = candidates
        .iter()
        .filter_map(|label| Some((order::parse(package_type, label)?, *label)))
        .fold(
            None,
            |best: Option<(VersionKey, &String)>, (key, label)| match best {
                Some((best_key, best_label)) if best_key >= key => Some((best_key, best_label)),
                _ => Some((key, label)),
            },
        );
    let shown: Vec<String> = if candidates.is_empty() {
        labels.to_vec()
    } else {
        candidates.into_iter().cloned().collect()
    };
    Ok(match highest {
        Some((key, label)) => Ranking {
            group: capture(label).or(first_group),
            key: Some(key),
            label: String::new(),
        },
        None => Ranking {
            group: first_group,
            key: None,
            label: short_tags(&shown),
        },
    })
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
/// a platform manifest gets the index's), a version kept as part of a kept image carries
/// that image's rule, and an orphan the plan kept but `delete-orphans` deletes carries none.
/// So each version is the report's under one rule: the one that decided its image.
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
    // A kept image's parts: follow `parent` up to the image the policy kept. The chain is
    // bounded, as a hostile registry could make a cycle of references.
    let part_of: HashMap<u64, u64> = plan
        .versions
        .iter()
        .filter_map(|planned| match planned.reason {
            Reason::PartOfKept { parent, .. } => Some((planned.version.id, parent)),
            _ => None,
        })
        .collect();
    for planned in &mut plan.versions {
        let mut image = planned.version.id;
        for _ in 0..MAX_IMAGE_DEPTH {
            match part_of.get(&image) {
                Some(&parent) => image = parent,
                None => break,
            }
        }
        if image != planned.version.id && !part_of.contains_key(&image) {
            planned.rule = rule_of.get(&image).copied().flatten();
        }
    }
    plan
}

/// Levels of images within images followed to find a kept part's image: an index, its
/// platform manifests, their signatures and attestations are three.
const MAX_IMAGE_DEPTH: usize = 16;

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
mod tests;
