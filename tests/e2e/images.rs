//! Container images stay whole: multi-arch indexes, attestations and signatures, read from
//! the fake's registry. Every test ends asserting that each remaining tag still resolves to a
//! manifest whose every child digest exists.

use fake_github::{FakeGitHub, PackageSeed, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

fn start(versions: Vec<VersionSeed>) -> FakeGitHub {
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

/// A buildx push: index `first` tagged `tag`, amd64 and arm64 manifests and an attestation
/// manifest for each, ids `first..=first + 4`.
fn buildx(first: u64, age_days: u64, tag: &str) -> Vec<VersionSeed> {
    let (amd64, arm64) = (first + 1, first + 2);
    vec![
        v(amd64, age_days).platform("linux/amd64"),
        v(arm64, age_days).platform("linux/arm64"),
        v(first + 3, age_days).attestation_for(amd64),
        v(first + 4, age_days).attestation_for(arm64),
        v(first, age_days)
            .index(&[amd64, arm64, first + 3, first + 4])
            .tags(&[tag]),
    ]
}

#[track_caller]
fn assert_whole(fake: &FakeGitHub) {
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
}

fn active(fake: &FakeGitHub) -> Vec<u64> {
    fake.active_ids("acme", "container", "app")
}

/// Ids of the versions DELETEd, in request order.
fn deletes_in_order(fake: &FakeGitHub) -> Vec<u64> {
    fake.requests()
        .iter()
        .filter(|request| request.method == "DELETE")
        .filter_map(|request| request.path.rsplit('/').next()?.parse().ok())
        .collect()
}

#[test]
fn an_untagged_cleanup_keeps_the_platform_and_attestation_manifests_of_a_buildx_image() {
    let fake = start(
        [
            buildx(1, 10, "v1"),
            vec![v(20, 40), v(21, 30).platform("linux/amd64")],
        ]
        .concat(),
    );
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![20, 21]);
    assert_eq!(active(&fake), range(1, 5));
    assert_whole(&fake);
    assert!(
        run.summary.contains("kept because of a kept image: 4"),
        "{}",
        run.summary
    );
}

#[test]
fn deleting_an_old_tagged_multi_arch_release_removes_its_children_after_it() {
    let fake = start([buildx(1, 90, "v1"), buildx(10, 5, "v2")].concat());
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), range(1, 5));
    assert_eq!(active(&fake), range(10, 14));
    assert_eq!(deletes_in_order(&fake)[0], 1, "the index goes first");
    assert_eq!(run.outcome_of(2), "deleted");
    let amd64 = run
        .json()
        .into_iter()
        .find(|entry| entry["id"] == 2)
        .expect("entry for 2");
    assert_eq!(amd64["parent_id"], 1);
    assert_eq!(amd64["role"], "platform manifest linux/amd64");
    assert!(
        run.summary.contains("| 2 | └ linux/amd64 · sha256:"),
        "{}",
        run.summary
    );
    assert_whole(&fake);
}

/// The old image uses Docker media types (a manifest list), the new one OCI.
#[test]
fn a_child_shared_by_a_kept_and_a_deleted_index_is_kept() {
    let fake = start(vec![
        v(1, 60).platform("linux/amd64").docker_media_types(),
        v(2, 60).platform("linux/arm64").docker_media_types(),
        v(3, 60).index(&[1, 2]).tags(&["old"]).docker_media_types(),
        v(4, 2).platform("linux/arm64"),
        v(5, 2).index(&[1, 4]).tags(&["new"]),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old$")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![2, 3]);
    assert_eq!(active(&fake), vec![1, 4, 5]);
    assert_whole(&fake);
}

#[test]
fn cosign_signatures_stay_with_kept_images_and_go_with_deleted_ones() {
    let fake = start(vec![
        v(1, 5).tags(&["latest"]),
        v(2, 5).cosign_signature_of(1),
        v(3, 50),
        v(4, 50).cosign_signature_of(3),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![3, 4]);
    assert_eq!(
        deletes_in_order(&fake),
        vec![3, 4],
        "subject before signature"
    );
    assert_eq!(active(&fake), vec![1, 2]);
    let signature = run
        .json()
        .into_iter()
        .find(|entry| entry["id"] == 4)
        .expect("entry for 4");
    assert_eq!(signature["role"], "cosign signature");
    let subject = fake.version_name("acme", "container", "app", 3);
    assert_eq!(
        signature["reason"],
        format!("cosign signature of deleted image {}…", &subject[..19])
    );
    assert_whole(&fake);
}

#[test]
fn delete_orphans_also_removes_ghosts_partial_images_and_orphaned_signatures() {
    let seed = || {
        [
            buildx(1, 20, "v1"),
            vec![
                v(10, 20),                         // ghost image
                v(11, 30).deleted(days(3)),        // a deleted image ...
                v(12, 30).cosign_signature_of(11), // ... and its signature
                v(13, 20).platform("linux/amd64").deleted(days(3)),
                v(14, 20).index(&[13]), // partial untagged index
                v(15, 1),               // a push in progress
                v(16, 10).tags(&["pr-16"]),
            ],
        ]
        .concat()
    };
    let fake = start(seed());
    let without = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("older-than", "2d")
        .input("dry-run", "true")
        .run();
    without.assert_success();
    assert_eq!(without.ids(), vec![16]);

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("older-than", "2d")
        .input("delete-orphans", "true")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![10, 12, 14, 16]);
    assert_eq!(active(&fake), [range(1, 5), vec![15]].concat());
    let reason = |id: u64| {
        run.json()
            .into_iter()
            .find(|entry| entry["id"] == id)
            .map(|entry| entry["reason"].clone())
    };
    assert_eq!(
        reason(10),
        Some("orphan: no kept image references it".into())
    );
    let subject = fake.version_name("acme", "container", "app", 11);
    assert_eq!(
        reason(12),
        Some(format!("orphan: its subject {}… no longer exists", &subject[..19]).into())
    );
    assert_whole(&fake);
}

#[test]
fn an_unreadable_kept_manifest_fails_closed_for_every_untagged_version() {
    let fake = start(vec![
        v(1, 60).platform("linux/amd64"),
        v(2, 60).index(&[1]).tags(&["v1"]).unreadable(),
        v(3, 90),
        v(4, 90).tags(&["old"]),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .input("exclude-tag-regex", "^v1$")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![4]);
    assert_eq!(active(&fake), vec![1, 2, 3]);
    assert!(
        run.log.contains("::warning::")
            && run
                .log
                .contains("fail closed: the manifest of kept version 2"),
        "{}",
        run.log
    );
    assert!(run.summary.contains("fail closed: 2"), "{}", run.summary);
    assert_whole(&fake);
}

#[test]
fn restoring_an_index_restores_its_children_and_signature() {
    let deleted = |seed: VersionSeed| seed.deleted(days(1));
    let fake = start(
        [
            buildx(1, 20, "v1").into_iter().map(deleted).collect(),
            vec![
                deleted(v(6, 20).cosign_signature_of(1)),
                v(7, 5).tags(&["v2"]),
            ],
        ]
        .concat(),
    );
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("mode", "restore")
        .input("version-ids", "1")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), range(1, 6));
    assert_eq!(active(&fake), range(1, 7));
    assert_eq!(run.outcome_of(3), "restored");
    assert!(run.summary.contains("└ linux/arm64"), "{}", run.summary);
    assert!(
        run.summary.contains("6 listed · 6 selected · none kept"),
        "what came back with the index is not counted as kept: {}",
        run.summary
    );
    assert_whole(&fake);
}

#[test]
fn a_dry_run_shows_the_same_tree_the_real_run_acts_on() {
    let fake = start([buildx(1, 90, "v1"), buildx(10, 5, "v2")].concat());
    let dry = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .input("dry-run", "true")
        .run();
    dry.assert_success();
    assert_eq!(active(&fake), [range(1, 5), range(10, 14)].concat());
    let real = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .run();
    real.assert_success();
    assert_eq!(dry.ids(), real.ids());
    let rows = |summary: &str| -> Vec<String> {
        summary
            .lines()
            .filter(|line| line.starts_with("| ") && !line.starts_with("| id"))
            .filter(|line| !line.starts_with("| package |"))
            .map(|line| {
                line.rsplit_once(" | ")
                    .map_or(line, |(row, _)| row)
                    .to_string()
            })
            .collect()
    };
    assert_eq!(rows(&dry.summary), rows(&real.summary));
    assert!(dry.outcome_of(2) == "would delete", "{}", dry.summary);
    assert_whole(&fake);
}

#[test]
fn children_of_an_index_github_refuses_to_delete_are_skipped_with_it() {
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .public()
                .versions(vec![
                    v(1, 90).platform("linux/amd64"),
                    v(2, 90).index(&[1]).tags(&["v1"]).downloads(9_000),
                    v(3, 5).tags(&["v2"]),
                ]),
        ),
    )
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new());
    assert!(
        run.outcome_of(2).contains("5000 downloads"),
        "{}",
        run.outcome_of(2)
    );
    assert_eq!(
        run.outcome_of(1),
        "skipped: its image 2 was not deleted, and still needs it"
    );
    assert_eq!(active(&fake), vec![1, 2, 3]);
    assert_whole(&fake);
}

#[test]
fn max_versions_counts_the_children_that_would_go_with_an_image() {
    let fake = start([buildx(1, 90, "v1"), buildx(10, 5, "v2")].concat());
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .input("max-versions", "3")
        .run();
    run.assert_failure();
    assert!(
        run.log
            .contains("5 versions would be affected, more than max-versions (3)"),
        "{}",
        run.log
    );
    assert_eq!(active(&fake), [range(1, 5), range(10, 14)].concat());
}

#[test]
fn the_registry_is_not_asked_when_nothing_is_selected_or_for_other_package_types() {
    let fake = FakeGitHub::start(
        accounts()
            .package(container("acme", "app", buildx(1, 90, "v1")))
            .package(
                PackageSeed::new("acme", "npm", "lib")
                    .versions(vec![release(20, 90, "1.0.0"), release(21, 1, "2.0.0")]),
            ),
    )
    .expect("fake starts");
    janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "365d")
        .run()
        .assert_success();
    janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("older-than", "30d")
        .run()
        .assert_success();
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![21]);
    let registry_requests: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|request| request.path.starts_with("/v2/") || request.path.starts_with("/token"))
        .collect();
    assert_eq!(registry_requests, vec![]);
}

/// Release `v1` (`first`) with two GitHub artifact attestations (`first + 1`, `first + 2`),
/// its referrers index tagged `sha256-<digest of v1>` listing both (`first + 3`), and the
/// index that tag pointed at before the second attestation came, untagged now (`first + 4`).
fn attested_release(first: u64, age_days: u64, tag: &str) -> Vec<VersionSeed> {
    let (one, two) = (first + 1, first + 2);
    vec![
        v(first, age_days).tags(&[tag]),
        v(one, age_days).github_attestation_of(first),
        v(first + 4, age_days).stale_referrers_of(first, &[one]),
        v(two, age_days).github_attestation_of(first),
        v(first + 3, age_days).referrers_of(first, &[one, two]),
    ]
}

#[test]
fn deleting_a_release_deletes_an_attestation_a_stale_referrers_index_still_lists() {
    let fake = start([attested_release(1, 60, "v1"), attested_release(10, 5, "v2")].concat());
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^v1$")
        .run();
    run.assert_success();
    // v1 with both attestations and both referrers indexes; v2's stay whole.
    assert_eq!(run.ids(), range(1, 5), "{}", run.summary);
    assert_eq!(active(&fake), range(10, 14));
    assert_eq!(
        deletes_in_order(&fake).first(),
        Some(&1),
        "the subject first"
    );
    assert_whole(&fake);
    let kept_rows = &run.summary[run.summary.find("kept versions, and why").expect("kept")..];
    for id in range(1, 5) {
        assert!(
            !kept_rows.contains(&format!("\n| {id} | ")),
            "nothing of v1 is kept by the stale index:\n{}",
            run.summary
        );
    }
    let stale = run
        .json()
        .into_iter()
        .find(|entry| entry["id"] == 5)
        .expect("the stale index is an entry");
    assert_eq!(stale["role"], "referrers index", "{stale}");
    assert_eq!(stale["parent_id"], 1, "{stale}");
    // v2's stale index is v2's, kept with it: no image of its own taking a slot.
    assert!(
        run.summary.contains("| 14 | └ referrers index · sha256:"),
        "{}",
        run.summary
    );
}
