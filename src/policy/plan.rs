//! The pure planner: versions + policy + now → a decision and a reason for every version.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::config::{Mode, Policy, TagState};
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Passed every filter and is not among the `keep-latest` newest.
    Selected,
    /// Its id is not in `version-ids`.
    NotInVersionIds,
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
    /// Container: part of an image the plan keeps (`image` describes that image).
    PartOfKept { role: Role, image: String },
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
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Selected => f.write_str("matches the policy"),
            Reason::NotInVersionIds => f.write_str("not in version-ids"),
            Reason::Excluded(label) => write!(f, "`{label}` matches exclude-tag-regex"),
            Reason::TagState(TagState::Tagged) => f.write_str("untagged, tag-state is tagged"),
            Reason::TagState(TagState::Untagged) => f.write_str("tagged, tag-state is untagged"),
            Reason::TagState(TagState::Any) => f.write_str("tag-state"),
            Reason::NoTagMatch => f.write_str("no tag matches tag-regex"),
            Reason::TooRecent => f.write_str("updated more recently than older-than"),
            Reason::DeletedTooLongAgo => f.write_str("deleted before deleted-within"),
            Reason::KeptLatest(rank) => write!(f, "kept by keep-latest (#{rank} newest)"),
            Reason::PartOfKept { role, image } => write!(f, "{role} of kept image {image}"),
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
}

/// The plan for one package: every listed version, newest first (by `updated_at`, then id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub versions: Vec<PlannedVersion>,
    /// The selected versions (indexes into `versions`) in the order the executor acts on
    /// them: oldest first, except that a version's parents come before it.
    pub order: Vec<usize>,
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
}

/// Decide every version. Pure: the same inputs always give the same plan, whatever the
/// order of `versions` (ids are unique, so the sort below is total).
///
/// The filters AND together and run in this order; the first that rejects a version names
/// its [`Reason`]:
/// 1. `version-ids` does not list its id.
/// 2. `exclude-tag-regex` matches one of its labels (see [`Version::labels`]).
/// 3. `tag-state` asks for the other state. Only container and docker versions have tags,
///    so for other types `tag-state` is ignored (config rejects it for them anyway).
/// 4. `tag-regex` matches none of its labels. An untagged container version has no labels,
///    so it never matches: the digest is never matched.
/// 5. `older-than`: updated after `now - older-than`. A version updated exactly at that
///    instant is old enough. Timestamps in the future (clock skew) are simply too recent.
/// 6. `deleted-within`, restore mode only: not deleted, or deleted before
///    `now - deleted-within`. Deleted exactly at that instant, or in the future, is within.
/// 7. Of the versions left, the `keep-latest` newest are kept, ranked from 1.
///
/// Regexes match unanchored (`is_match`). The plan lists versions newest first by
/// `updated_at`, ties broken by the higher id.
pub fn plan(
    mut versions: Vec<Version>,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
) -> Plan {
    versions.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    let mut kept = 0;
    let versions = versions
        .into_iter()
        .map(|version| {
            let (decision, reason) = match reject(&version, policy, package_type, mode, now) {
                Some(reason) => (Decision::Keep, reason),
                None if kept < policy.keep_latest => {
                    kept += 1;
                    (Decision::Keep, Reason::KeptLatest(kept))
                }
                None => (Decision::Act, Reason::Selected),
            };
            PlannedVersion {
                version,
                decision,
                reason,
                relation: None,
            }
        })
        .collect::<Vec<_>>();
    let order = (0..versions.len())
        .rev()
        .filter(|&index| versions[index].decision == Decision::Act)
        .collect();
    Plan { versions, order }
}

/// The reason the first failing filter (steps 1–6 of [`plan`]) gives, or `None` if all pass.
fn reject(
    version: &Version,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
) -> Option<Reason> {
    if let Some(ids) = &policy.version_ids
        && !ids.contains(&version.id)
    {
        return Some(Reason::NotInVersionIds);
    }
    let labels = version.labels(package_type);
    if let Some(exclude) = &policy.exclude_tag_regex
        && let Some(label) = labels.iter().find(|label| exclude.is_match(label))
    {
        return Some(Reason::Excluded(label.clone()));
    }
    if package_type.has_tags() {
        let rejected = match policy.tag_state {
            TagState::Any => false,
            TagState::Tagged => version.tags.is_empty(),
            TagState::Untagged => !version.tags.is_empty(),
        };
        if rejected {
            return Some(Reason::TagState(policy.tag_state));
        }
    }
    if let Some(tag_regex) = &policy.tag_regex
        && !labels.iter().any(|label| tag_regex.is_match(label))
    {
        return Some(Reason::NoTagMatch);
    }
    if let Some(older_than) = policy.older_than
        && !at_or_before(version.updated_at, now, older_than)
    {
        return Some(Reason::TooRecent);
    }
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

/// `delete-orphans`: whether an orphan may be deleted whatever `tag-state`, `tag-regex` and
/// `keep-latest` said. `version-ids`, `exclude-tag-regex` and `older-than` still protect it
/// (a push in progress uploads the children before the index that references them).
pub fn orphan_may_go(version: &Version, policy: &Policy, now: SystemTime) -> bool {
    let listed = policy
        .version_ids
        .as_ref()
        .is_none_or(|ids| ids.contains(&version.id));
    let excluded = policy
        .exclude_tag_regex
        .as_ref()
        .is_some_and(|exclude| version.tags.iter().any(|tag| exclude.is_match(tag)));
    let old_enough = policy
        .older_than
        .is_none_or(|older_than| at_or_before(version.updated_at, now, older_than));
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
            assert_eq!(plan, Plan::default());
            assert_eq!(plan.selected().count(), 0);
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
}
