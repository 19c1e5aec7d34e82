//! Tests of the planner: every filter, rule and reason, table by table; version order and
//! references in their own files beside this one.

mod order;
mod referenced;

use std::collections::BTreeSet;

use regex::Regex;

use super::*;
use crate::model::image::Role;
use crate::model::reference::{Place, Reference, Referenced, Target};
use crate::testing::{DAY, digest, now};

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

fn tag(tag: &str) -> Target {
    Target::Tag(tag.to_owned())
}

/// What references at (repository, target, file, line) pin of `acme/app`.
fn referenced(references: &[(&str, Target, &str, usize)]) -> Referenced {
    let references: Vec<Reference> = references
        .iter()
        .map(|(repository, target, file, line)| Reference {
            repository: (*repository).to_owned(),
            target: target.clone(),
            place: Place {
                file: (*file).to_owned(),
                line: *line,
            },
        })
        .collect();
    Referenced::for_repository(&references, "acme/app")
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
    // Fails every filter: referenced, not listed, excluded, tagged, no `v` tag, recent,
    // deleted long ago.
    let candidate = deleted(version(9, &digest(9), &["latest"], days(1)), days(100));
    let everything = Policy {
        referenced: referenced(&[("acme/app", tag("latest"), "deploy/prod.yaml", 12)]),
        version_ids: ids(&[1]),
        exclude_tag_regex: regex("^latest$"),
        tag_state: TagState::Untagged,
        tag_regex: regex("^v"),
        older_than: age(days(30)),
        deleted_within: age(days(7)),
        keep_latest: 5,
        order_by: OrderBy::Pushed,
        rules: Vec::new(),
    };
    // Each row lifts one more filter than the row before.
    type Lift = fn(&mut Policy);
    let table: Vec<(Lift, Reason)> = vec![
        (|_| {}, Reason::Referenced("deploy/prod.yaml:12".to_owned())),
        (
            |p| p.referenced = Referenced::default(),
            Reason::NotInVersionIds,
        ),
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
        let tallies: Vec<usize> = plan.rules.iter().map(|tally| tally.matched).collect();
        assert_eq!(tallies, vec![0], "one rule, the flat inputs'");
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
        order: OrderBy::Pushed,
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
    // Matches of each rule's own filters, overlapping: "old releases" matches 4, of which
    // it decides 2 (the others are kept by "newest" and "v1 line").
    let tallies: Vec<(&str, usize)> = plan
        .rules
        .iter()
        .map(|t| (t.label.as_str(), t.matched))
        .collect();
    assert_eq!(
        tallies,
        vec![("old releases", 4), ("newest", 5), ("v1 line", 1)]
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
    // The rule's own filters pass every tagged version, those the global filters keep too.
    assert_eq!(plan.rules[0].matched, 4);
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
fn the_parts_of_a_kept_image_carry_the_rule_that_kept_the_image() {
    let policy = with_rules(vec![
        Rule {
            tag_regex: regex("^v"),
            keep_latest: 1,
            ..rule("releases")
        },
        Rule {
            tag_state: TagState::Untagged,
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
    // What the image graph makes of it: 2 is v1's platform manifest and 3 that manifest's
    // signature, both kept with v1; 4 is an untagged image of its own, selected.
    let part = |role: Role, parent: u64| Reason::PartOfKept {
        role,
        image: format!("image {parent}"),
        parent,
    };
    for (id, reason) in [
        (2, part(Role::Platform("linux/amd64".into()), 1)),
        (3, part(Role::Signature, 2)),
    ] {
        let Some(version) = planned.versions.iter_mut().find(|p| p.version.id == id) else {
            panic!("version {id} is planned");
        };
        version.decision = Decision::Keep;
        version.reason = reason;
    }
    planned
        .order
        .retain(|&index| planned.versions[index].decision == Decision::Act);
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
            (4, Some("untagged")),
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
