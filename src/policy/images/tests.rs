//! Tests of the image graph: what each manifest shape keeps, deletes and orders, case by case.

use std::time::Duration;

use regex::Regex;

use super::*;
use crate::model::mode::Mode;
use crate::model::version::PackageType;
use crate::policy::rules::TagState;
use crate::testing::{DAY, digest, now, signature_tag, version};

/// A version listed without tag metadata.
fn unknown_tags(id: u64) -> Version {
    Version {
        tags_known: false,
        ..version(id, &[])
    }
}

fn image() -> Manifest {
    Manifest::default()
}

/// An index listing `(id, platform)`; platform `None` lists a nested index.
fn index(children: &[(u64, Option<&str>)]) -> Manifest {
    Manifest {
        is_index: true,
        children: children
            .iter()
            .map(|(id, platform)| Child {
                digest: digest(*id),
                platform: platform.map(str::to_string),
                ..Child::default()
            })
            .collect(),
        ..Manifest::default()
    }
}

/// `index` plus a buildx attestation entry `attestation` for `subject`.
fn with_attestation(mut manifest: Manifest, attestation: u64, subject: u64) -> Manifest {
    manifest.children.push(Child {
        digest: digest(attestation),
        attests: Some(digest(subject)),
        ..Child::default()
    });
    manifest
}

fn github_attestation(subject: u64) -> Manifest {
    Manifest {
        artifact_type: Some("application/vnd.dev.sigstore.bundle.v0.3+json".into()),
        subject: Some(digest(subject)),
        ..Manifest::default()
    }
}

/// A referrers index (the `sha256-<digest>` tag's index) listing the artifacts `listed`.
fn referrers(listed: &[u64]) -> Manifest {
    Manifest {
        is_index: true,
        children: listed
            .iter()
            .map(|id| Child {
                digest: digest(*id),
                artifact_type: Some("application/vnd.dev.sigstore.bundle.v0.3+json".into()),
                ..Child::default()
            })
            .collect(),
        ..Manifest::default()
    }
}

fn policy(tag_state: TagState) -> Policy {
    Policy {
        tag_state,
        ..Policy::default()
    }
}

struct Case {
    name: &'static str,
    versions: Vec<Version>,
    /// Manifests by id; versions missing here are read as images, `unreadable` fail.
    manifests: Vec<(u64, Manifest)>,
    unreadable: Vec<u64>,
    policy: Policy,
    delete_orphans: bool,
    /// Ids acted on, in execution order.
    acted: Vec<u64>,
    /// (id, reason as displayed) for the versions the case is about.
    reasons: Vec<(u64, &'static str)>,
}

fn find(plan: &Plan, id: u64) -> Option<&PlannedVersion> {
    plan.versions
        .iter()
        .find(|planned| planned.version.id == id)
}

fn run(case: &Case) -> Plan {
    let mut manifests: Manifests = case.versions.iter().map(|v| (v.id, Ok(image()))).collect();
    for (id, manifest) in &case.manifests {
        manifests.insert(*id, Ok(manifest.clone()));
    }
    for id in &case.unreadable {
        manifests.insert(*id, Err("GET … answered 500".into()));
    }
    let planned = plan::plan(
        case.versions.clone(),
        &case.policy,
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let rules = Rules {
        policy: &case.policy,
        now: now(),
        delete_orphans: case.delete_orphans,
    };
    adjust(planned, &manifests, &rules)
}

fn cases() -> Vec<Case> {
    let buildx = || {
        vec![(
            1,
            with_attestation(
                with_attestation(
                    index(&[(2, Some("linux/amd64")), (3, Some("linux/arm64"))]),
                    4,
                    2,
                ),
                5,
                3,
            ),
        )]
    };
    let buildx_versions = || {
        vec![
            version(1, &["v1"]),
            version(2, &[]),
            version(3, &[]),
            version(4, &[]),
            version(5, &[]),
        ]
    };
    vec![
        Case {
            name: "an untagged cleanup keeps the platform and attestation manifests of a tagged index",
            versions: [buildx_versions(), vec![version(6, &[])]].concat(),
            manifests: buildx(),
            unreadable: vec![],
            policy: policy(TagState::Untagged),
            delete_orphans: false,
            acted: vec![6],
            reasons: vec![
                (
                    2,
                    "platform manifest linux/amd64 of kept image sha256:000000000000… (v1)",
                ),
                (
                    4,
                    "attestation manifest of kept image sha256:000000000000… (v1)",
                ),
                (6, "matches the policy"),
            ],
        },
        Case {
            name: "deleting a tagged index deletes its children after it",
            versions: [buildx_versions(), vec![version(0, &["v2"])]].concat(),
            manifests: buildx(),
            unreadable: vec![],
            policy: Policy {
                tag_regex: Some(Regex::new("^v1$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: false,
            acted: vec![1, 5, 4, 3, 2],
            reasons: vec![
                (1, "matches the policy"),
                (
                    3,
                    "platform manifest linux/arm64 of deleted image sha256:000000000000… (v1)",
                ),
                (
                    5,
                    "attestation manifest of deleted image sha256:000000000000… (v1)",
                ),
                (0, "no tag matches tag-regex"),
            ],
        },
        Case {
            name: "a child shared by a kept and a deleted index is kept",
            versions: vec![
                version(1, &["new"]),
                version(2, &["old"]),
                version(3, &[]),
                version(4, &[]),
            ],
            manifests: vec![
                (1, index(&[(3, Some("linux/amd64"))])),
                (
                    2,
                    index(&[(3, Some("linux/amd64")), (4, Some("linux/arm64"))]),
                ),
            ],
            unreadable: vec![],
            policy: Policy {
                tag_regex: Some(Regex::new("^old$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: false,
            acted: vec![2, 4],
            reasons: vec![
                (
                    3,
                    "platform manifest linux/amd64 of kept image sha256:000000000000… (new)",
                ),
                (
                    4,
                    "platform manifest linux/arm64 of deleted image sha256:000000000000… (old)",
                ),
            ],
        },
        Case {
            name: "a signature goes with its deleted image even when tagged versions are spared",
            versions: vec![
                version(1, &["v1"]),
                version(2, &[]),
                version(3, &[&signature_tag(1)]),
                version(4, &[&signature_tag(2)]),
            ],
            manifests: vec![],
            unreadable: vec![],
            policy: policy(TagState::Untagged),
            delete_orphans: false,
            acted: vec![2, 4],
            reasons: vec![
                (
                    3,
                    "cosign signature of kept image sha256:000000000000… (v1)",
                ),
                (4, "cosign signature of deleted image sha256:000000000000…"),
            ],
        },
        Case {
            name: "nested indexes, referrers and github attestations follow their image",
            versions: vec![
                version(1, &["v1"]),
                version(2, &[]),
                version(3, &[]),
                version(4, &[]),
                version(5, &[&format!("sha256-{:064x}", 1)]),
            ],
            manifests: vec![
                (1, index(&[(2, None)])),
                (2, index(&[(3, Some("linux/amd64"))])),
                (4, github_attestation(1)),
                (
                    5,
                    Manifest {
                        is_index: true,
                        children: vec![Child {
                            digest: digest(4),
                            artifact_type: Some(
                                "application/vnd.dev.sigstore.bundle.v0.3+json".into(),
                            ),
                            ..Child::default()
                        }],
                        ..Manifest::default()
                    },
                ),
            ],
            unreadable: vec![],
            policy: Policy::default(),
            delete_orphans: false,
            acted: vec![1, 5, 4, 2, 3],
            reasons: vec![
                (
                    2,
                    "child manifest of deleted image sha256:000000000000… (v1)",
                ),
                (
                    3,
                    "platform manifest linux/amd64 of deleted image sha256:000000000000…",
                ),
                (
                    4,
                    "artifact attestation of deleted image sha256:000000000000… (v1)",
                ),
                (
                    5,
                    "referrers index of deleted image sha256:000000000000… (v1)",
                ),
            ],
        },
        Case {
            name: "without delete-orphans the policy alone decides orphans",
            versions: vec![
                version(1, &["v1"]),
                version(2, &[]),
                version(3, &[&signature_tag(99)]),
            ],
            manifests: vec![],
            unreadable: vec![],
            policy: policy(TagState::Tagged),
            delete_orphans: false,
            acted: vec![3, 1],
            reasons: vec![
                (2, "untagged, tag-state is tagged"),
                (3, "matches the policy"),
            ],
        },
        Case {
            name: "delete-orphans deletes ghosts and signatures of missing images",
            versions: vec![
                version(1, &["v1"]),
                version(2, &[]),
                version(3, &[&signature_tag(99)]),
            ],
            manifests: vec![],
            unreadable: vec![],
            policy: Policy {
                tag_regex: Some(Regex::new("^v").expect("regex")),
                keep_latest: 1,
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![3, 2],
            reasons: vec![
                (1, "kept by keep-latest (#1 newest)"),
                (2, "orphan: no kept image references it"),
                (
                    3,
                    "orphan: its subject sha256:000000000000… no longer exists",
                ),
            ],
        },
        Case {
            name: "delete-orphans still respects older-than",
            versions: vec![version(1, &["v1"]), version(2, &[]), version(40, &[])],
            manifests: vec![],
            unreadable: vec![],
            policy: Policy {
                older_than: Some(Duration::from_secs(30 * DAY)),
                tag_state: TagState::Tagged,
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![40],
            reasons: vec![
                (2, "untagged, tag-state is tagged"),
                (40, "orphan: no kept image references it"),
            ],
        },
        Case {
            name: "exclude-tag-regex protects a signature whose image is deleted",
            versions: vec![version(1, &["v1"]), version(2, &[&signature_tag(1)])],
            manifests: vec![],
            unreadable: vec![],
            policy: Policy {
                exclude_tag_regex: Some(Regex::new(r"\.sig$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: false,
            acted: vec![1],
            reasons: vec![(
                2,
                "`sha256-0000000000000000000000000000000000000000000000000000000000000001.sig` matches exclude-tag-regex",
            )],
        },
        Case {
            name: "an unreadable kept manifest keeps every untagged version",
            versions: vec![
                version(1, &["v1"]),
                version(2, &[]),
                version(3, &["old"]),
                version(4, &[]),
                version(5, &[&signature_tag(2)]),
            ],
            manifests: vec![(3, index(&[(4, Some("linux/amd64"))]))],
            unreadable: vec![1],
            policy: Policy {
                exclude_tag_regex: Some(Regex::new("^v1$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![3],
            reasons: vec![
                (2, "fail closed: manifest of kept version 1 unreadable"),
                (4, "fail closed: manifest of kept version 1 unreadable"),
                (5, "fail closed: manifest of kept version 1 unreadable"),
            ],
        },
        Case {
            name: "a version with unknown tags is neither a child that goes with its index nor an orphan",
            versions: vec![
                version(1, &["old"]),
                unknown_tags(2),
                version(3, &[]),
                unknown_tags(7),
            ],
            manifests: vec![(
                1,
                index(&[(2, Some("linux/amd64")), (3, Some("linux/arm64"))]),
            )],
            unreadable: vec![],
            policy: Policy {
                tag_regex: Some(Regex::new("^old$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![1, 3],
            reasons: vec![
                (
                    2,
                    "tags unknown: listed without tag metadata, so kept (only version-ids can select it)",
                ),
                (
                    7,
                    "tags unknown: listed without tag metadata, so kept (only version-ids can select it)",
                ),
            ],
        },
        Case {
            name: "an unreadable manifest keeps its version, selected or not, and fails closed",
            versions: vec![version(1, &["v1"]), version(2, &["old"]), version(3, &[])],
            manifests: vec![],
            unreadable: vec![2],
            policy: Policy {
                tag_regex: Some(Regex::new("^old$").expect("regex")),
                tag_state: TagState::Any,
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![],
            reasons: vec![
                (2, "manifest unreadable: GET … answered 500"),
                (3, "fail closed: manifest of kept version 2 unreadable"),
            ],
        },
        Case {
            name: "version-ids alone lets a version with an unreadable manifest go",
            versions: vec![version(1, &["v1"]), version(2, &["old"]), version(3, &[])],
            manifests: vec![],
            unreadable: vec![2],
            policy: Policy {
                version_ids: Some([2].into_iter().collect()),
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![2],
            reasons: vec![(2, "matches the policy"), (3, "not in version-ids")],
        },
        Case {
            name: "a selected index whose manifest is unreadable is kept, and so are its children",
            versions: vec![
                version(1, &["v1"]),
                version(2, &["old"]),
                version(3, &[]),
                version(4, &[&signature_tag(2)]),
            ],
            manifests: vec![],
            unreadable: vec![2],
            policy: Policy {
                tag_regex: Some(Regex::new("^old$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![],
            reasons: vec![
                (2, "manifest unreadable: GET … answered 500"),
                (3, "fail closed: manifest of kept version 2 unreadable"),
                (
                    4,
                    "cosign signature of kept image sha256:000000000000… (old)",
                ),
            ],
        },
        Case {
            name: "an artifact linked only by its unreadable manifest is kept, not an orphan",
            versions: vec![version(1, &["v1"]), version(2, &[]), version(3, &[])],
            manifests: vec![],
            unreadable: vec![2],
            policy: policy(TagState::Untagged),
            delete_orphans: true,
            acted: vec![],
            reasons: vec![
                (2, "manifest unreadable: GET … answered 500"),
                (3, "fail closed: manifest of kept version 2 unreadable"),
            ],
        },
        Case {
            name: "a release tagged after an untagged image's signature stays when that image goes",
            versions: vec![
                version(1, &[]),
                version(2, &["v1.0.0", "latest", &signature_tag(1)]),
                version(3, &[&signature_tag(1)]),
            ],
            manifests: vec![],
            unreadable: vec![],
            policy: policy(TagState::Untagged),
            delete_orphans: false,
            acted: vec![1, 3],
            reasons: vec![
                (2, "tagged, tag-state is untagged"),
                (3, "cosign signature of deleted image sha256:000000000000…"),
            ],
        },
        Case {
            name: "a bogus signature tag on a release does not make it an orphan",
            versions: vec![
                version(1, &["v1.0.0", &format!("sha256-{}.sig", "0".repeat(64))]),
                version(2, &[&format!("sha256-{}.sig", "0".repeat(64))]),
                version(3, &["v2", "sha256-abc.sig"]),
            ],
            manifests: vec![],
            unreadable: vec![],
            policy: Policy {
                tag_regex: Some(Regex::new("^nothing$").expect("regex")),
                ..Policy::default()
            },
            delete_orphans: true,
            acted: vec![2],
            reasons: vec![
                (1, "no tag matches tag-regex"),
                (
                    2,
                    "orphan: its subject sha256:000000000000… no longer exists",
                ),
                (3, "no tag matches tag-regex"),
            ],
        },
        Case {
            name: "a release whose manifest names a subject is still a release",
            versions: vec![version(1, &[]), version(2, &["v1"])],
            manifests: vec![(2, github_attestation(1))],
            unreadable: vec![],
            policy: policy(TagState::Untagged),
            delete_orphans: true,
            acted: vec![1],
            reasons: vec![(2, "tagged, tag-state is untagged")],
        },
    ]
}

#[test]
fn the_image_graph_decides_every_version_with_a_reason() {
    for case in cases() {
        let plan = run(&case);
        let acted: Vec<u64> = plan.selected().map(|p| p.version.id).collect();
        assert_eq!(acted, case.acted, "{}", case.name);
        for (id, reason) in &case.reasons {
            let planned = find(&plan, *id).expect("listed");
            assert_eq!(planned.reason.to_string(), *reason, "{}: {id}", case.name);
        }
    }
}

#[test]
fn manifests_held_once_by_digest_decide_every_case_as_manifests_by_id_do() {
    for case in cases() {
        let by_id = run(&case);
        let mut known = HashMap::new();
        let mut unreadable = HashMap::new();
        for version in &case.versions {
            if case.unreadable.contains(&version.id) {
                unreadable.insert(version.id, "GET … answered 500".to_string());
                continue;
            }
            let manifest = case
                .manifests
                .iter()
                .find(|(id, _)| *id == version.id)
                .map_or_else(image, |(_, manifest)| manifest.clone());
            known.insert(version.name.clone(), manifest);
        }
        let manifests = ByDigest {
            known: &known,
            unreadable: &unreadable,
        };
        let planned = plan::plan(
            case.versions.clone(),
            &case.policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        let rules = Rules {
            policy: &case.policy,
            now: now(),
            delete_orphans: case.delete_orphans,
        };
        let by_digest = adjust(planned, &manifests, &rules);
        assert_eq!(by_digest.versions, by_id.versions, "{}", case.name);
        assert_eq!(by_digest.order, by_id.order, "{}", case.name);
    }
}

#[test]
fn by_digest_an_unreadable_version_keeps_its_reason_and_an_unknown_one_was_not_read() {
    let known = HashMap::from([(digest(1), image())]);
    let unreadable = HashMap::from([(2, "GET … answered 500".to_string())]);
    let manifests = ByDigest {
        known: &known,
        unreadable: &unreadable,
    };
    let same_digest = Version {
        id: 9,
        ..version(1, &[])
    };
    let table = [
        (version(1, &[]), Some(Ok(&image()))),
        (same_digest, Some(Ok(&image()))),
        (version(2, &[]), Some(Err("GET … answered 500"))),
        (version(3, &[]), None),
    ];
    for (version, expected) in table {
        assert_eq!(
            manifests.lookup(&version),
            expected,
            "version {}",
            version.id
        );
    }
}

#[test]
fn everything_that_goes_with_an_image_names_all_its_parents() {
    let case = &cases()[1];
    let plan = run(case);
    let child = find(&plan, 2).expect("listed");
    assert_eq!(
        child.relation,
        Some(Relation {
            parents: vec![1],
            role: Role::Platform("linux/amd64".into()),
        })
    );
    assert_eq!(find(&plan, 1).expect("listed").relation, None);
}

#[test]
fn cosign_and_referrers_tags_name_their_subject() {
    let hex = "ab".repeat(32);
    let table = [
        (format!("sha256-{hex}.sig"), Some(Role::Signature)),
        (format!("sha256-{hex}.att"), Some(Role::CosignAttestation)),
        (format!("sha256-{hex}.sbom"), Some(Role::Sbom)),
        (format!("sha256-{hex}"), Some(Role::Referrers)),
        (format!("sha256-{hex}.txt"), None),
        ("sha256-abc.sig".to_string(), None),
        ("v1".to_string(), None),
    ];
    for (tag, role) in table {
        let expected = role.map(|role| (format!("sha256:{hex}"), role));
        assert_eq!(tag_subject(&tag), expected, "{tag}");
    }
}

#[test]
fn only_versions_whose_every_tag_is_an_artifact_tag_may_be_artifacts() {
    let signature = signature_tag(1);
    let referrers = format!("sha256-{:064x}", 1);
    let table: [(&[&str], bool); 7] = [
        (&[], true),
        (&[&signature], true),
        (&[&signature, &referrers], true),
        (&["v1.0.0", "latest", &signature], false),
        (&["latest"], false),
        (&["sha256-abc.sig"], false),
        (&[&signature, "sha256-abc.sig"], false),
    ];
    for (tags, expected) in table {
        let tags: Vec<String> = tags.iter().map(|tag| tag.to_string()).collect();
        assert_eq!(may_be_artifact(&tags), expected, "{tags:?}");
    }
}

#[test]
fn restoring_an_index_brings_back_its_children_and_tagged_artifacts() {
    let mut deleted: Vec<Version> = vec![
        version(1, &["v1"]),
        version(2, &[]),
        version(3, &[&signature_tag(1)]),
        version(4, &[]),
        version(5, &["v0", &signature_tag(1)]),
    ];
    for version in &mut deleted {
        version.deleted_at = Some(now());
    }
    let planned = plan::plan(
        deleted.clone(),
        &Policy::default(),
        PackageType::Container,
        Mode::Restore,
        now(),
    );
    let manifest = index(&[(2, Some("linux/amd64"))]);
    let done: HashSet<u64> = [1].into_iter().collect();
    let followers: Vec<(u64, Role)> =
        restore_followers(&deleted[0], Some(&manifest), &planned, &done)
            .into_iter()
            .map(|(version, role)| (version.id, role))
            .collect();
    assert_eq!(
        followers,
        vec![
            (2, Role::Platform("linux/amd64".into())),
            (3, Role::Signature)
        ]
    );
    let unread = restore_followers(&deleted[0], None, &planned, &done);
    assert_eq!(
        unread.len(),
        1,
        "without the manifest only tags are followed"
    );
}

#[test]
fn what_this_run_did_not_read_is_kept_with_what_it_references() {
    // 10 is an untagged index of 1 and 2; 3 an untagged orphan; 20 a tagged index of 4
    // and 5 that the listing does not have (restored, or on a page not read). A higher
    // id is older.
    let versions: Vec<Version> = [10, 1, 2, 3, 4, 5]
        .iter()
        .map(|id| version(*id, &[]))
        .collect();
    let mut manifests: Manifests = versions.iter().map(|v| (v.id, Ok(image()))).collect();
    manifests.insert(10, Ok(index(&[(1, Some("linux/amd64")), (2, None)])));
    let restored = Unlisted {
        digest: digest(20),
        tags: vec!["v1".to_string()],
        manifest: index(&[(4, Some("linux/amd64")), (5, Some("linux/arm64"))]),
    };
    let policy = policy(TagState::Untagged);
    let rules = Rules {
        policy: &policy,
        now: now(),
        delete_orphans: false,
    };
    let adjusted = |read: ReadHere<'_>| {
        let planned = plan::plan_confirmed(
            versions.clone(),
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
            read.confirmed,
        );
        adjust_read(planned, &manifests, &rules, read)
    };
    let all = adjusted(ReadHere::default());
    assert_eq!(
        all.selected().map(|p| p.version.id).collect::<Vec<_>>(),
        [10, 5, 4, 3, 2, 1],
        "everything read, nothing unlisted: all untagged go, oldest first"
    );
    let unread_index: HashSet<u64> = [1, 2, 3, 4, 5].into();
    let plan = adjusted(ReadHere {
        confirmed: Some(&unread_index),
        unlisted: std::slice::from_ref(&restored),
    });
    assert_eq!(
        plan.selected().map(|p| p.version.id).collect::<Vec<_>>(),
        [3],
        "only the orphan this run read and no image needs"
    );
    let reason = |id: u64| {
        plan.find(id)
            .map(|planned| planned.reason.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        reason(10),
        "not confirmed by this run's listing: its listing page was not read in this run"
    );
    assert!(reason(1).contains("of kept image"), "{}", reason(1));
    assert_eq!(
        reason(4),
        format!(
            "platform manifest linux/amd64 of kept image `v1` ({}), tagged in the registry but not in this run's listing",
            short_digest(&digest(20))
        )
    );
    let tops = top_level_images(&plan, &manifests, std::slice::from_ref(&restored));
    assert!(!tops.contains(&4) && !tops.contains(&5), "{tops:?}");
}

#[test]
fn only_top_level_images_take_a_keep_latest_slot() {
    // 1: tagged index of 2 (amd64), 3 (arm64) and attestation 4; 5: v1's signature;
    // 6: an untagged ghost image; 7: an untagged index whose manifest cannot be read,
    // hiding its child 8; 9: an untagged GitHub attestation of 1; 10: a signature whose
    // subject is gone.
    let versions = vec![
        version(1, &["v1"]),
        version(2, &[]),
        version(3, &[]),
        version(4, &[]),
        version(5, &[signature_tag(1).as_str()]),
        version(6, &[]),
        version(7, &[]),
        version(8, &[]),
        version(9, &[]),
        version(10, &[signature_tag(99).as_str()]),
    ];
    let plan = plan::plan(
        versions,
        &Policy::default(),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let mut manifests: Manifests = plan
        .versions
        .iter()
        .map(|planned| (planned.version.id, Ok(image())))
        .collect();
    let v1 = with_attestation(
        index(&[(2, Some("linux/amd64")), (3, Some("linux/arm64"))]),
        4,
        2,
    );
    manifests.insert(1, Ok(v1));
    manifests.insert(7, Err("500".into()));
    manifests.insert(9, Ok(github_attestation(1)));
    let mut images: Vec<u64> = top_level_images(&plan, &manifests, &[])
        .into_iter()
        .collect();
    images.sort_unstable();
    assert_eq!(images, vec![1, 6, 7, 8]);
}

/// 1: the release `v1`; 2 and 3: GitHub attestations of it; 4: its referrers index, tagged
/// `sha256-<digest of 1>`, listing both; 5: the index that tag pointed at before 3 was
/// added, untagged now, still listing 2.
fn attested_release() -> (Vec<Version>, Manifests) {
    let referrers_tag = format!("sha256-{:064x}", 1);
    let versions = vec![
        version(1, &["v1"]),
        version(2, &[]),
        version(3, &[]),
        version(4, &[referrers_tag.as_str()]),
        version(5, &[]),
    ];
    let manifests: Manifests = [
        (1, image()),
        (2, github_attestation(1)),
        (3, github_attestation(1)),
        (4, referrers(&[2, 3])),
        (5, referrers(&[2])),
    ]
    .into_iter()
    .map(|(id, manifest)| (id, Ok(manifest)))
    .collect();
    (versions, manifests)
}

#[test]
fn a_stale_referrers_index_goes_with_its_subject_and_takes_its_attestations_along() {
    let (versions, manifests) = attested_release();
    let policy = Policy {
        tag_regex: Some(Regex::new("^v1$").expect("regex")),
        ..Policy::default()
    };
    for delete_orphans in [false, true] {
        let planned = plan::plan(
            versions.clone(),
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        let rules = Rules {
            policy: &policy,
            now: now(),
            delete_orphans,
        };
        let plan = adjust(planned, &manifests, &rules);
        let mut acted: Vec<u64> = plan.selected().map(|p| p.version.id).collect();
        assert_eq!(acted.first(), Some(&1), "the subject goes first");
        acted.sort_unstable();
        assert_eq!(
            acted,
            vec![1, 2, 3, 4, 5],
            "delete-orphans: {delete_orphans}"
        );
        let reason = |id: u64| find(&plan, id).expect("listed").reason.to_string();
        assert_eq!(
            reason(5),
            "referrers index of deleted image sha256:000000000000… (v1)"
        );
        assert!(
            reason(2).starts_with("artifact attestation of deleted image"),
            "{}",
            reason(2)
        );
    }
}

#[test]
fn a_stale_referrers_index_of_a_kept_image_is_kept_with_it_and_is_no_image_of_its_own() {
    let (versions, manifests) = attested_release();
    // Everything untagged is selected: v1 is kept, so are its attestations and both indexes.
    let policy = policy(TagState::Untagged);
    let planned = plan::plan(
        versions,
        &policy,
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let mut images: Vec<u64> = top_level_images(&planned, &manifests, &[])
        .into_iter()
        .collect();
    images.sort_unstable();
    assert_eq!(
        images,
        vec![1],
        "neither referrers index takes a keep-latest slot"
    );
    let rules = Rules {
        policy: &policy,
        now: now(),
        delete_orphans: true,
    };
    let plan = adjust(planned, &manifests, &rules);
    assert_eq!(plan.selected().count(), 0);
    let reason = |id: u64| find(&plan, id).expect("listed").reason.to_string();
    assert_eq!(
        reason(5),
        "referrers index of kept image sha256:000000000000… (v1)"
    );
    assert!(reason(2).contains("of kept image"), "{}", reason(2));
}

#[test]
fn an_untagged_index_is_a_referrers_index_only_when_every_entry_declares_one_subject() {
    // 1 and 6: releases; 2: an attestation of 1, 7 one of 6; 3: an index of 2 and 7 (two
    // subjects); 4: an index of 2 and the plain image 8; 5: an index of 9, which is not in
    // the package. None of 3, 4, 5 is a referrers index: each stays an image of its own.
    let versions = vec![
        version(1, &["v1"]),
        version(2, &[]),
        version(3, &[]),
        version(4, &[]),
        version(5, &[]),
        version(6, &["v2"]),
        version(7, &[]),
        version(8, &[]),
    ];
    let manifests: Manifests = [
        (1, image()),
        (2, github_attestation(1)),
        (3, referrers(&[2, 7])),
        (4, index(&[(2, None), (8, Some("linux/amd64"))])),
        (5, referrers(&[9])),
        (6, image()),
        (7, github_attestation(6)),
        (8, image()),
    ]
    .into_iter()
    .map(|(id, manifest)| (id, Ok(manifest)))
    .collect();
    let planned = plan::plan(
        versions,
        &Policy::default(),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let mut images: Vec<u64> = top_level_images(&planned, &manifests, &[])
        .into_iter()
        .collect();
    images.sort_unstable();
    assert_eq!(images, vec![1, 3, 4, 5, 6]);
}
