//! Tests of the untag split: which selected images keep their place, which tags go, and how
//! `keep-latest`, rules, artifact tags and the image graph bear on it.

use std::collections::HashSet;
use std::time::Duration;

use regex::Regex;

use super::*;
use crate::model::manifest::{Child, Manifest};
use crate::model::mode::Mode;
use crate::policy::images::{self, Manifests, Rules};
use crate::policy::plan;
use crate::policy::rules::TagState;
use crate::testing::{DAY, digest, now, signature_tag, version};

fn regex(pattern: &str) -> Option<Regex> {
    Some(Regex::new(pattern).expect("regex"))
}

/// `tag-regex: ^sha-`, `older-than: 30d`: the issue's policy.
fn sha_tags_after_30_days() -> Policy {
    Policy {
        tag_regex: regex("^sha-"),
        older_than: Some(Duration::from_secs(30 * DAY)),
        ..Policy::default()
    }
}

/// Plans `versions` as a container run with `untag` would: images counted, tags split,
/// then the image graph over `manifests` (every other version a plain image).
fn untag_plan(versions: Vec<Version>, policy: &Policy, manifests: Vec<(u64, Manifest)>) -> Plan {
    let mut read: Manifests = versions
        .iter()
        .map(|v| (v.id, Ok(Manifest::default())))
        .collect();
    for (id, manifest) in manifests {
        read.insert(id, Ok(manifest));
    }
    let planned = plan::plan(
        versions,
        policy,
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let top_level = images::top_level_images(&planned, &read, &[]);
    let planned = plan::plan_images(
        planned,
        policy,
        PackageType::Container,
        Mode::Delete,
        now(),
        &top_level,
        None,
    );
    let split = keep_by_other_tags(planned, policy, PackageType::Container, now(), &read);
    let rules = Rules {
        policy,
        now: now(),
        delete_orphans: false,
    };
    images::adjust(split, &read, &rules)
}

/// (id, tags removed) for every version whose tags go.
fn removed(plan: &Plan) -> Vec<(u64, Vec<&str>)> {
    tags_to_remove(plan)
        .map(|(planned, tags)| {
            (
                planned.version.id,
                tags.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

fn acted(plan: &Plan) -> Vec<u64> {
    plan.selected().map(|planned| planned.version.id).collect()
}

struct Case {
    name: &'static str,
    versions: Vec<Version>,
    policy: Policy,
    /// Ids deleted, oldest first.
    acted: Vec<u64>,
    /// (id, tags removed), newest first.
    removed: Vec<(u64, Vec<&'static str>)>,
}

#[test]
fn untagging_splits_only_the_selected_images_that_carry_tags_no_rule_selects() {
    let releases = Policy {
        rules: vec![
            Rule {
                name: Some("sha builds".into()),
                tag_regex: regex("^sha-"),
                older_than: Some(Duration::from_secs(30 * DAY)),
                ..Rule::default()
            },
            Rule {
                name: Some("releases".into()),
                tag_regex: regex(r"^v\d"),
                keep_latest: 1,
                ..Rule::default()
            },
        ],
        ..Policy::default()
    };
    let cases = [
        Case {
            name: "sha tags go from double-tagged releases, which stay; sha-only builds go whole",
            versions: vec![
                version(10, &["sha-new", "v1.2.0"]),
                version(40, &["sha-a", "v1.1.0"]),
                version(41, &["sha-b"]),
                version(42, &["v1.0.0", "sha-c", "sha-d"]),
            ],
            policy: sha_tags_after_30_days(),
            acted: vec![41],
            removed: vec![(40, vec!["sha-a"]), (42, vec!["sha-c", "sha-d"])],
        },
        Case {
            name: "an image whose every tag matches is deleted as without untag",
            versions: vec![version(40, &["sha-a", "sha-b"]), version(41, &["v1"])],
            policy: sha_tags_after_30_days(),
            acted: vec![40],
            removed: vec![],
        },
        Case {
            name: "exclude-tag-regex keeps the whole image with every tag",
            versions: vec![version(40, &["sha-a", "v1.1.0"])],
            policy: Policy {
                exclude_tag_regex: regex("^v"),
                ..sha_tags_after_30_days()
            },
            acted: vec![],
            removed: vec![],
        },
        Case {
            name: "an artifact tag is never removed, so such an image is decided as without untag",
            versions: vec![
                version(40, &["sha-a", &signature_tag(1)]),
                version(41, &["sha-b", "latest", &signature_tag(2)]),
            ],
            policy: Policy {
                tag_regex: regex("^sha"),
                ..Policy::default()
            },
            acted: vec![41, 40],
            removed: vec![],
        },
        Case {
            name: "an image left with artifact tags only would become an artifact: deleted as before",
            versions: vec![version(40, &["sha-a", &signature_tag(1)])],
            policy: sha_tags_after_30_days(),
            acted: vec![40],
            removed: vec![],
        },
        Case {
            name: "keep-latest keeps the newest matching images with every tag; older ones lose their matching tags",
            versions: vec![
                version(1, &["sha-1", "v5"]),
                version(2, &["sha-2"]),
                version(3, &["sha-3", "v4"]),
                version(4, &["sha-4"]),
                version(5, &["sha-5", "v3"]),
            ],
            policy: Policy {
                tag_regex: regex("^sha-"),
                keep_latest: 2,
                ..Policy::default()
            },
            acted: vec![4],
            removed: vec![(3, vec!["sha-3"]), (5, vec!["sha-5"])],
        },
        Case {
            name: "a release past its rule's keep-latest matches with every tag: deleted whole",
            versions: vec![
                version(35, &["sha-new", "v2.0.0"]),
                version(40, &["sha-old", "v1.0.0"]),
            ],
            policy: releases.clone(),
            acted: vec![40],
            removed: vec![],
        },
        Case {
            name: "a release its rule keeps keeps its sha tag too: keeping wins",
            versions: vec![version(40, &["sha-old", "v1.0.0"])],
            policy: releases,
            acted: vec![],
            removed: vec![],
        },
        Case {
            name: "kept tags that a rule would match once alone keep the image as before",
            versions: vec![version(40, &["sha-a", "v1"])],
            policy: Policy {
                rules: vec![
                    Rule {
                        tag_regex: regex("^sha-"),
                        ..Rule::default()
                    },
                    Rule {
                        tag_regex: regex("^v"),
                        exclude_tag_regex: regex("^sha-"),
                        keep_latest: 5,
                        ..Rule::default()
                    },
                ],
                ..Policy::default()
            },
            acted: vec![40],
            removed: vec![],
        },
        Case {
            name: "a single tag is never removed, and unknown tags are never split",
            versions: vec![
                version(40, &["sha-a"]),
                Version {
                    tags_known: false,
                    ..version(41, &["sha-b", "v1"])
                },
            ],
            policy: Policy {
                version_ids: Some([40, 41].into()),
                ..sha_tags_after_30_days()
            },
            acted: vec![41, 40],
            removed: vec![],
        },
    ];
    for case in cases {
        let plan = untag_plan(case.versions, &case.policy, Vec::new());
        assert_eq!(acted(&plan), case.acted, "{}", case.name);
        assert_eq!(removed(&plan), case.removed, "{}", case.name);
        for (id, _) in &case.removed {
            let planned = plan.find(*id).expect("listed");
            assert_eq!(planned.decision, Decision::Keep, "{}", case.name);
        }
    }
}

#[test]
fn after_untagging_the_next_run_changes_nothing() {
    let versions = vec![
        version(1, &["sha-1", "v5"]),
        version(2, &["sha-2"]),
        version(3, &["sha-3", "v4"]),
        version(4, &["sha-4"]),
        version(5, &["sha-5", "v3"]),
    ];
    let policy = Policy {
        tag_regex: regex("^sha-"),
        keep_latest: 2,
        ..Policy::default()
    };
    let first = untag_plan(versions.clone(), &policy, Vec::new());
    let gone: HashSet<u64> = acted(&first).into_iter().collect();
    let after: Vec<Version> = versions
        .into_iter()
        .filter(|version| !gone.contains(&version.id))
        .map(|mut version| {
            if let Some((_, tags)) =
                tags_to_remove(&first).find(|(p, _)| p.version.id == version.id)
            {
                version.tags.retain(|tag| !tags.contains(tag));
            }
            version
        })
        .collect();
    let second = untag_plan(after, &policy, Vec::new());
    assert_eq!(acted(&second), Vec::<u64>::new());
    assert_eq!(removed(&second), Vec::new());
}

#[test]
fn a_multi_arch_index_whose_tags_are_split_keeps_its_platform_manifests() {
    let index = Manifest {
        is_index: true,
        children: [(2, "linux/amd64"), (3, "linux/arm64")]
            .into_iter()
            .map(|(id, platform)| Child {
                digest: digest(id),
                platform: Some(platform.into()),
                ..Child::default()
            })
            .collect(),
        ..Manifest::default()
    };
    let versions = vec![
        version(40, &["sha-a", "v1.1.0"]),
        version(41, &[]),
        version(42, &[]),
    ];
    let versions = versions
        .into_iter()
        .zip([1, 2, 3])
        .map(|(version, id)| Version {
            id,
            name: digest(id),
            ..version
        })
        .collect();
    let policy = Policy {
        tag_state: TagState::Any,
        ..sha_tags_after_30_days()
    };
    let plan = untag_plan(versions, &policy, vec![(1, index)]);
    assert_eq!(acted(&plan), Vec::<u64>::new());
    assert_eq!(removed(&plan), vec![(1, vec!["sha-a"])]);
    for id in [2, 3] {
        let planned = plan.find(id).expect("listed");
        assert_eq!(planned.decision, Decision::Keep);
        assert!(
            planned.reason.to_string().contains("of kept image"),
            "{}",
            planned.reason
        );
    }
}

#[test]
fn an_image_whose_manifest_cannot_be_read_keeps_every_tag() {
    let versions = vec![version(40, &["sha-a", "v1"])];
    let policy = sha_tags_after_30_days();
    let planned = plan::plan(
        versions,
        &policy,
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let read: Manifests = [(40, Err("GET … answered 500".to_string()))].into();
    let split = keep_by_other_tags(planned, &policy, PackageType::Container, now(), &read);
    let rules = Rules {
        policy: &policy,
        now: now(),
        delete_orphans: false,
    };
    let plan = images::adjust(split, &read, &rules);
    assert_eq!(removed(&plan), Vec::new());
    assert_eq!(acted(&plan), Vec::<u64>::new());
}

#[test]
fn the_reason_names_the_tags_that_go() {
    let plan = untag_plan(
        vec![version(40, &["sha-a", "sha-b", "v1"])],
        &sha_tags_after_30_days(),
        Vec::new(),
    );
    let planned = plan.find(40).expect("listed");
    assert_eq!(
        planned.reason.to_string(),
        "kept by its other tags; untag removes sha-a, sha-b"
    );
    assert_eq!(plan.rule_label(planned), Some("#1"));
}
