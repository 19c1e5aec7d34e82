//! Tests of `keep-referenced` in the planner: a version the workspace names is kept whatever
//! the rest of the policy says, takes no slot, and its image keeps what goes with it.

use super::*;
use crate::model::manifest::{Child, Manifest};
use crate::policy::images::{self, Manifests, Rules};

fn image(id: u64, tags: &[&str], pushed_ago: i64) -> Version {
    version(id, &digest(id), tags, days(pushed_ago))
}

fn pinned_by(place: &str) -> Reason {
    Reason::Referenced(place.to_owned())
}

#[test]
fn a_referenced_version_is_kept_whatever_the_policy_and_takes_no_slot() {
    let referenced = referenced(&[
        ("acme/app", tag("v1"), "deploy/prod.yaml", 12),
        ("acme/app", tag("v1"), "compose.yml", 3),
        ("acme/app", tag("v1"), "z.yml", 1),
        ("acme/app", Target::Digest(digest(3)), "k8s/app.yaml", 9),
        ("acme/other", tag("v2"), "compose.yml", 4),
    ]);
    let policies = [
        ("every version selected", Policy::default()),
        (
            "version-ids names them",
            Policy {
                version_ids: ids(&[1, 2, 3, 4]),
                ..Policy::default()
            },
        ),
        (
            "keep-latest 1",
            Policy {
                keep_latest: 1,
                ..Policy::default()
            },
        ),
        (
            "rules",
            with_rules(vec![Rule {
                older_than: age(days(1)),
                ..rule("old")
            }]),
        ),
    ];
    for (case, policy) in policies {
        let policy = Policy {
            referenced: referenced.clone(),
            ..policy
        };
        let versions = vec![
            image(1, &["v1", "latest"], 30),
            image(2, &["v2"], 20),
            image(3, &[], 40),
            image(4, &["v0"], 50),
        ];
        let plan = plan(
            versions,
            &policy,
            PackageType::Container,
            Mode::Delete,
            now(),
        );
        let reason = |id: u64| plan.find(id).map(|planned| planned.reason.clone());
        assert_eq!(
            reason(1),
            Some(pinned_by("compose.yml:3 and 2 other places")),
            "{case}"
        );
        assert_eq!(reason(3), Some(pinned_by("k8s/app.yaml:9")), "{case}");
        assert!(
            !matches!(reason(2), Some(Reason::Referenced(_))),
            "{case}: another package's reference pins nothing here"
        );
        assert_eq!(
            plan.find(4).map(|planned| planned.decision),
            Some(Decision::Act),
            "{case}: what no file names is decided by the policy"
        );
    }
    let with_slot = plan(
        vec![image(1, &["v1"], 1), image(2, &["v2"], 2)],
        &Policy {
            keep_latest: 1,
            referenced: referenced.clone(),
            ..Policy::default()
        },
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    assert_eq!(
        with_slot.find(2).map(|planned| planned.reason.clone()),
        Some(Reason::KeptLatest(1)),
        "the referenced image takes no keep-latest slot"
    );
    assert_eq!(
        pinned_by("deploy/prod.yaml:12").to_string(),
        "referenced by deploy/prod.yaml:12"
    );
}

#[test]
fn a_referenced_index_keeps_its_platforms_and_an_untagged_one_named_by_digest_is_no_orphan() {
    // Index 1 (tag v1, named by tag) lists 2; untagged 3 is named by digest; 4 is an
    // untagged orphan that delete-orphans removes.
    let policy = Policy {
        tag_state: TagState::Tagged,
        referenced: referenced(&[
            ("acme/app", tag("v1"), "compose.yml", 3),
            ("acme/app", Target::Digest(digest(3)), "k8s/app.yaml", 9),
        ]),
        ..Policy::default()
    };
    let versions = vec![
        image(1, &["v1"], 30),
        image(2, &[], 30),
        image(3, &[], 30),
        image(4, &[], 30),
    ];
    let index = Manifest {
        is_index: true,
        children: vec![Child {
            digest: digest(2),
            platform: Some("linux/amd64".to_owned()),
            attests: None,
            artifact_type: None,
        }],
        ..Manifest::default()
    };
    let mut manifests = Manifests::new();
    manifests.insert(1, Ok(index));
    for id in [2, 3, 4] {
        manifests.insert(id, Ok(Manifest::default()));
    }
    let planned = plan(
        versions,
        &policy,
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    let rules = Rules {
        policy: &policy,
        now: now(),
        delete_orphans: true,
    };
    let adjusted = images::adjust(planned, &manifests, &rules);
    let decision = |id: u64| adjusted.find(id).map(|planned| planned.decision);
    assert_eq!(decision(1), Some(Decision::Keep));
    assert_eq!(
        decision(2),
        Some(Decision::Keep),
        "a platform of a kept image"
    );
    assert_eq!(decision(3), Some(Decision::Keep), "named by digest");
    assert_eq!(decision(4), Some(Decision::Act), "an orphan no file names");
    assert_eq!(
        adjusted.find(3).map(|planned| planned.reason.clone()),
        Some(pinned_by("k8s/app.yaml:9"))
    );
}
