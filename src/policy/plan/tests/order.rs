//! Tests of `order-by: version` in the planner: highest versions kept, what is not a version
//! kept without a slot, images ranked by their highest version tag, groups, and ties.

use super::*;
use crate::testing::signature_tag;

/// A version of a package without tags, named `name`, `pushed_ago` days ago.
fn named(id: u64, name: &str, pushed_ago: i64) -> Version {
    version(id, name, &[], days(pushed_ago))
}

/// An image tagged `tags`, pushed `pushed_ago` days ago.
fn image(id: u64, tags: &[&str], pushed_ago: i64) -> Version {
    version(id, &digest(id), tags, days(pushed_ago))
}

fn by_version(keep_latest: usize) -> Policy {
    Policy {
        keep_latest,
        order_by: OrderBy::Version,
        ..Policy::default()
    }
}

fn not_a_version(label: &str, rule: Option<&str>) -> Reason {
    Reason::NotAVersion {
        label: label.to_owned(),
        rule: rule.map(str::to_owned),
    }
}

fn kept_highest_by(rule: &str, keep: usize, group: Option<&str>) -> Reason {
    Reason::KeptBy {
        rule: rule.to_owned(),
        keep,
        group: group.map(str::to_owned),
        order: OrderBy::Version,
    }
}

/// (id, reason) of each version, by id.
fn by_id(plan: &Plan) -> Vec<(u64, Reason)> {
    let mut reasons = reasons(plan);
    reasons.sort_by_key(|(id, _)| *id);
    reasons
}

#[test]
fn a_hotfix_pushed_after_a_release_does_not_push_the_release_out() {
    // Pushed oldest first: 1.4.5, 2.0.0, 1.4.6, then the hotfix 1.4.7 and a backport 1.3.9.
    let versions = vec![
        named(1, "1.4.5", 50),
        named(2, "2.0.0", 40),
        named(3, "1.4.6", 30),
        named(4, "1.4.7", 20),
        named(5, "1.3.9", 10),
    ];
    let pushed = plan(
        versions.clone(),
        &Policy {
            keep_latest: 3,
            ..Policy::default()
        },
        PackageType::Npm,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        pushed.find(2).map(|planned| planned.decision),
        Some(Decision::Act),
        "by push, 2.0.0 is not among the 3 newest"
    );
    let by_version = plan(
        versions,
        &by_version(3),
        PackageType::Npm,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&by_version),
        vec![
            (1, Reason::Selected),
            (2, Reason::KeptHighest(1)),
            (3, Reason::KeptHighest(3)),
            (4, Reason::KeptHighest(2)),
            (5, Reason::Selected),
        ]
    );
    assert_eq!(
        Reason::KeptHighest(1).to_string(),
        "kept by keep-latest (#1 highest version)"
    );
}

#[test]
fn what_is_not_a_version_is_kept_and_takes_no_slot() {
    let versions = vec![
        image(1, &["latest"], 1),
        image(2, &["v1.2.0", "latest-stable"], 2),
        image(3, &["edge", "sha-1a2b"], 3),
        image(4, &["v1.1.0"], 4),
        image(5, &["v1.0.0"], 5),
    ];
    let plan = plan(
        versions,
        &by_version(2),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&plan),
        vec![
            (1, not_a_version("latest", None)),
            (2, Reason::KeptHighest(1)),
            (3, not_a_version("edge, sha-1a2b", None)),
            (4, Reason::KeptHighest(2)),
            (5, Reason::Selected),
        ]
    );
    assert_eq!(
        not_a_version("edge, sha-1a2b", None).to_string(),
        "not a version: edge, sha-1a2b"
    );
}

#[test]
fn an_image_is_ranked_by_its_highest_version_tag() {
    // Image 2 carries the floating tags too; 1.10.0 is above 1.9.3 numerically.
    let versions = vec![
        image(1, &["1.9.3"], 1),
        image(2, &["1", "1.10", "1.10.0", "v1.2.0"], 9),
        image(3, &["1.9.2"], 5),
    ];
    let plan = plan(
        versions,
        &by_version(1),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&plan),
        vec![
            (1, Reason::Selected),
            (2, Reason::KeptHighest(1)),
            (3, Reason::Selected)
        ]
    );
}

#[test]
fn the_latest_patch_of_each_minor_is_kept_whatever_was_pushed_last() {
    let patches = Rule {
        keep_latest: 1,
        group_by: regex(r"^v?(\d+\.\d+)\."),
        order_by: OrderBy::Version,
        ..rule("patches")
    };
    // The backport v1.0.2 was pushed after v1.0.3, and v1.1.0 after v1.1.1.
    let versions = vec![
        image(1, &["v1.0.3"], 9),
        image(2, &["v1.0.2"], 3),
        image(3, &["v1.1.1"], 8),
        image(4, &["v1.1.0"], 2),
        image(5, &["2.0.0"], 7),
        image(6, &["v1.0.10"], 20),
    ];
    let plan = plan(
        versions,
        &with_rules(vec![patches]),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&plan),
        vec![
            (1, selected_by("patches")),
            (2, selected_by("patches")),
            (3, kept_highest_by("patches", 1, Some("1.1"))),
            (4, selected_by("patches")),
            (5, kept_highest_by("patches", 1, Some("2.0"))),
            (6, kept_highest_by("patches", 1, Some("1.0"))),
        ]
    );
    assert_eq!(
        kept_highest_by("patches", 1, Some("1.1")).to_string(),
        "kept by rule patches: among the 1 highest versions of group `1.1`"
    );
    assert_eq!(
        plan.rules[0],
        RuleTally {
            label: "patches".to_owned(),
            matched: 6,
        }
    );
    assert_eq!(kept_by_rule(&plan, 0), 3);
}

/// How many versions the plan keeps under rule `index`.
fn kept_by_rule(plan: &Plan, index: usize) -> usize {
    plan.versions
        .iter()
        .filter(|planned| planned.decision == Decision::Keep && planned.rule == Some(index))
        .count()
}

#[test]
fn releases_and_pre_releases_each_keep_their_own_highest() {
    let releases = Rule {
        tag_regex: regex(r"^v\d+\.\d+\.\d+$"),
        keep_latest: 2,
        order_by: OrderBy::Version,
        ..rule("releases")
    };
    let pre_releases = Rule {
        tag_regex: regex(r"^v\d+\.\d+\.\d+-"),
        keep_latest: 1,
        order_by: OrderBy::Version,
        ..rule("pre-releases")
    };
    let versions = vec![
        image(1, &["v2.1.0-rc.2"], 1),
        image(2, &["v2.1.0-rc.10"], 2),
        image(3, &["v2.0.0"], 3),
        image(4, &["v1.9.0"], 4),
        image(5, &["v1.8.0"], 5),
        image(6, &["v2.0.0-rc.1"], 6),
        image(7, &["v2.2.0-beta.1"], 7),
    ];
    let plan = plan(
        versions,
        &with_rules(vec![releases, pre_releases]),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&plan),
        vec![
            (1, selected_by("pre-releases")),
            (2, selected_by("pre-releases")),
            (3, kept_highest_by("releases", 2, None)),
            (4, kept_highest_by("releases", 2, None)),
            (5, selected_by("releases")),
            (6, selected_by("pre-releases")),
            (7, kept_highest_by("pre-releases", 1, None)),
        ]
    );
}

#[test]
fn equal_versions_are_ranked_by_push_and_each_takes_a_slot() {
    // v1.0.0 and 1.0.0 are one version on two images; 1.0.0+a and 1.0.0+b too.
    let cases: Vec<(PackageType, Vec<Version>)> = vec![
        (
            PackageType::Container,
            vec![image(1, &["v1.0.0"], 10), image(2, &["1.0.0"], 5)],
        ),
        (
            PackageType::Npm,
            vec![named(1, "1.0.0+a", 10), named(2, "1.0.0+b", 5)],
        ),
        (
            PackageType::Nuget,
            vec![named(1, "1.0", 10), named(2, "1.0.0.0", 5)],
        ),
    ];
    for (package_type, versions) in cases {
        let plan = plan(versions, &by_version(1), package_type, Mode::Delete, now());
        assert_eq!(
            by_id(&plan),
            vec![(1, Reason::Selected), (2, Reason::KeptHighest(1))],
            "{package_type}: the newer push of equal versions is kept"
        );
    }
}

#[test]
fn each_ecosystem_ranks_its_own_version_names() {
    // (type, names from the lowest version up, each pushed later than the one after it)
    let cases: Vec<(PackageType, Vec<&str>)> = vec![
        (PackageType::Npm, vec!["1.0.0-rc.1", "1.0.0", "1.0.1"]),
        (
            PackageType::Maven,
            vec!["1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0.1-SNAPSHOT"],
        ),
        (
            PackageType::Nuget,
            vec!["1.0.0-beta", "1.0.0", "1.0.0.1", "1.0.1"],
        ),
        (
            PackageType::Rubygems,
            vec!["1.0.0.pre", "1.0.0.rc1", "1.0.0", "1.0.1"],
        ),
    ];
    for (package_type, names) in cases {
        let count = names.len() as u64;
        // The lowest version is pushed last, so push order is the reverse of version order.
        let versions: Vec<Version> = names
            .iter()
            .zip(1u64..)
            .map(|(name, id)| named(id, name, id as i64))
            .collect();
        let plan = plan(versions, &by_version(2), package_type, Mode::Delete, now());
        let kept: Vec<u64> = by_id(&plan)
            .into_iter()
            .filter(|(_, reason)| matches!(reason, Reason::KeptHighest(_)))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(kept, vec![count - 1, count], "{package_type}: {names:?}");
    }
}

#[test]
fn with_rules_a_version_rule_keeps_what_it_cannot_rank_and_skips_untagged_images() {
    let releases = Rule {
        keep_latest: 1,
        order_by: OrderBy::Version,
        ..rule("releases")
    };
    let old = Rule {
        older_than: age(days(3)),
        ..rule("old")
    };
    let versions = vec![
        image(1, &["v2.0.0"], 10),
        image(2, &["v1.0.0"], 11),
        image(3, &["nightly"], 12),
        image(4, &[], 13),
    ];
    let plan = plan(
        versions,
        &with_rules(vec![releases, old]),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&plan),
        vec![
            (1, kept_highest_by("releases", 1, None)),
            (2, selected_by("releases")),
            (3, not_a_version("nightly", Some("releases"))),
            (4, selected_by("old")),
        ]
    );
    assert_eq!(
        not_a_version("nightly", Some("releases")).to_string(),
        "not a version: nightly (rule releases orders by version)"
    );
    assert_eq!(plan.rules[0].matched, 3, "the untagged image is no match");
    assert_eq!(kept_by_rule(&plan, 0), 2);
}

#[test]
fn without_rules_an_untagged_image_is_not_a_version() {
    let plan = plan(
        vec![image(1, &[], 10), image(2, &["1.0.0"], 11)],
        &by_version(0),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        by_id(&plan),
        vec![(1, not_a_version("untagged", None)), (2, Reason::Selected)]
    );
}

#[test]
fn images_only_take_slots_and_what_follows_an_image_is_not_judged_a_version() {
    // Image 1 and its platform manifest 2 (untagged) and signature 3 (not a version).
    let signature = signature_tag(1);
    let versions = vec![
        image(1, &["v1.0.0"], 10),
        image(2, &[], 10),
        image(3, &[signature.as_str()], 10),
        image(4, &["v0.9.0"], 20),
    ];
    let first = plan(
        versions,
        &by_version(1),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let images: HashSet<u64> = [1, 4].into_iter().collect();
    let plan = plan_images(
        first,
        &by_version(1),
        PackageType::Container,
        Mode::Delete,
        now(),
        &images,
        None,
    );
    assert_eq!(
        by_id(&plan),
        vec![
            (1, Reason::KeptHighest(1)),
            (2, not_a_version("untagged", None)),
            (3, Reason::Selected),
            (4, Reason::Selected),
        ]
    );
}

#[test]
fn ordered_by_version_only_higher_versions_read_in_this_run_let_a_lower_one_go() {
    // Pushed oldest first: 3.0.0 (known only from the state file), then 1.0.0, then 2.0.0.
    // keep-latest 1 by version keeps 3.0.0; whether 2.0.0 and 1.0.0 may go depends on
    // whether the versions ranked above them were read in this run.
    let versions = vec![
        named(1, "3.0.0", 30),
        named(2, "1.0.0", 20),
        named(3, "2.0.0", 10),
    ];
    let unsure = Reason::Unconfirmed(Unconfirmed::KeepLatest);
    let table = [
        (
            "every version read: the two lower ones go",
            vec![1, 2, 3],
            vec![
                (1, Reason::KeptHighest(1)),
                (2, Reason::Selected),
                (3, Reason::Selected),
            ],
        ),
        (
            "3.0.0 not read: 2.0.0 may be the highest, so it stays; 1.0.0 still has 2.0.0 above",
            vec![2, 3],
            vec![
                (1, Reason::KeptHighest(1)),
                (2, Reason::Selected),
                (3, unsure.clone()),
            ],
        ),
        (
            "2.0.0 not read: it is not acted on; 1.0.0 has 3.0.0, read, above",
            vec![1, 2],
            vec![
                (1, Reason::KeptHighest(1)),
                (2, Reason::Selected),
                (3, Reason::Unconfirmed(Unconfirmed::NotListed)),
            ],
        ),
    ];
    for (name, read, expected) in table {
        let read: HashSet<u64> = read.into_iter().collect();
        let plan = plan_confirmed(
            versions.clone(),
            &by_version(1),
            PackageType::Npm,
            Mode::Delete,
            now(),
            Some(&read),
        );
        assert_eq!(by_id(&plan), expected, "{name}");
    }
}
