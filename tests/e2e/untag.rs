//! `untag` (issue 22): a tag taken off an image that stays, by a placeholder pushed under it
//! whose version is deleted again; and `restore-tags`, which puts the tags back.

use fake_github::{FakeGitHub, RecordedRequest, TokenSeed};
use serde_json::{Value, json};

use crate::harness::*;

/// `sha-*` tags go after 30 days, with `untag`.
fn sha_builds(fake: &FakeGitHub, token: &str) -> Janitor {
    janitor(fake, token)
        .input("packages", "app")
        .input("tag-regex", "^sha-")
        .input("older-than", "30d")
        .input("untag", "true")
}

/// Releases tagged twice (1, 3), builds tagged only `sha-*` (2, 5), a recent release (4).
fn releases() -> Vec<fake_github::VersionSeed> {
    vec![
        image(1, 60, &["sha-a", "v1.0.0"]),
        image(2, 50, &["sha-b"]),
        image(3, 40, &["sha-c", "v1.1.0"]),
        image(4, 3, &["sha-d", "v1.2.0"]),
        image(5, 45, &["sha-e", "sha-f"]),
    ]
}

fn start(versions: Vec<fake_github::VersionSeed>) -> FakeGitHub {
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

/// Every request after the planning's manifest reads, as `METHOD path` (without the
/// query), leaving out token exchanges and the 401s that ask for them.
fn acting(fake: &FakeGitHub) -> Vec<String> {
    let requests = fake.requests();
    let planned = requests
        .iter()
        .rposition(|request| request.method == "GET" && request.path.contains("/manifests/sha256:"))
        .map_or(0, |last| last + 1);
    requests[planned..]
        .iter()
        .filter(|request| !request.path.starts_with("/token") && request.status != 401)
        .map(|RecordedRequest { method, path, .. }| {
            let path = path.split('?').next().unwrap_or_default().to_string();
            format!("{method} {path}")
        })
        .collect()
}

fn writes(fake: &FakeGitHub) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|request| !matches!(request.method.as_str(), "GET" | "HEAD"))
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

fn untagged(run: &Finished) -> Vec<Value> {
    serde_json::from_str(&run.outputs["untagged"]).expect("untagged is a JSON array")
}

fn tag_entries(run: &Finished) -> Vec<Value> {
    run.json()
        .into_iter()
        .filter(|entry| entry["scope"] == "tag")
        .collect()
}

fn digest_of(fake: &FakeGitHub, id: u64) -> String {
    fake.version_name("acme", "container", "app", id)
}

#[test]
fn sha_tags_go_from_double_tagged_releases_which_stay_and_pull_by_their_other_tags() {
    let fake = start(releases());
    let run = sha_builds(&fake, ALICE).run();
    run.assert_success();

    assert_eq!(
        run.ids(),
        vec![2, 5],
        "the builds tagged only sha-* go whole"
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3, 4]);
    assert_eq!(fake.tags_of("acme", "container", "app", 1), vec!["v1.0.0"]);
    assert_eq!(fake.tags_of("acme", "container", "app", 3), vec!["v1.1.0"]);
    assert_eq!(
        fake.tags_of("acme", "container", "app", 4),
        vec!["sha-d", "v1.2.0"],
        "a recent release keeps its sha tag"
    );
    for (tag, id) in [("v1.0.0", 1), ("v1.1.0", 3), ("v1.2.0", 4)] {
        assert_eq!(fake.tagged("acme", "app", tag), Some(id), "{tag}");
    }
    assert_eq!(fake.tagged("acme", "app", "sha-a"), None);
    assert_eq!(fake.tagged("acme", "app", "sha-c"), None);
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
    // The placeholders (6, then 7) were made by the run's pushes and deleted by it.
    assert_eq!(
        fake.deleted_ids("acme", "container", "app"),
        vec![2, 5, 6, 7]
    );

    // The push probe before the first change; then per tag: the tag read again, one push
    // (the empty blob once, for image placeholders), one listing page, one DELETE of
    // exactly the placeholder.
    assert_eq!(
        acting(&fake),
        vec![
            "POST /v2/acme/app/blobs/uploads/",
            "DELETE /v2/acme/app/blobs/uploads/upload-1",
            "DELETE /orgs/acme/packages/container/app/versions/2",
            "DELETE /orgs/acme/packages/container/app/versions/5",
            "HEAD /v2/acme/app/manifests/sha-c",
            "HEAD /v2/acme/app/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "POST /v2/acme/app/blobs/uploads/",
            "PUT /v2/acme/app/blobs/uploads/upload-2",
            "PUT /v2/acme/app/manifests/sha-c",
            "GET /orgs/acme/packages/container/app/versions",
            "DELETE /orgs/acme/packages/container/app/versions/6",
            "HEAD /v2/acme/app/manifests/sha-a",
            "PUT /v2/acme/app/manifests/sha-a",
            "GET /orgs/acme/packages/container/app/versions",
            "DELETE /orgs/acme/packages/container/app/versions/7",
        ]
    );

    assert_eq!(
        untagged(&run),
        vec![
            json!({"package": "app", "tag": "sha-c", "digest": digest_of(&fake, 3)}),
            json!({"package": "app", "tag": "sha-a", "digest": digest_of(&fake, 1)}),
        ]
    );
    let entries = tag_entries(&run);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["id"], 3);
    assert_eq!(entries[0]["tag"], "sha-c");
    assert_eq!(entries[0]["digest"], digest_of(&fake, 3));
    assert_eq!(entries[0]["outcome"], "tag removed");
    assert_eq!(entries[0]["placeholder_id"], 6);
    assert!(
        run.summary
            .contains("2 tags removed from 2 images, the images kept"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("`sha-a`"), "{}", run.summary);
}

#[test]
fn a_multi_arch_index_loses_its_sha_tag_and_keeps_its_platform_manifests_and_attestation() {
    let fake = start(vec![
        image(11, 60, &[]).platform("linux/amd64"),
        image(12, 60, &[]).platform("linux/arm64"),
        image(13, 60, &[]).attestation_for(11),
        image(10, 60, &["sha-x", "v2.0.0"]).index(&[11, 12, 13]),
        image(21, 60, &[])
            .platform("linux/amd64")
            .docker_media_types(),
        image(20, 60, &["sha-y", "legacy"])
            .index(&[21])
            .docker_media_types(),
    ]);
    let run = sha_builds(&fake, ALICE).run();
    run.assert_success();

    assert_eq!(run.ids(), Vec::<u64>::new(), "nothing is deleted");
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![10, 11, 12, 13, 20, 21]
    );
    assert_eq!(fake.tags_of("acme", "container", "app", 10), vec!["v2.0.0"]);
    assert_eq!(fake.tags_of("acme", "container", "app", 20), vec!["legacy"]);
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
    // Two placeholders, each an empty index of its image's kind, pushed and deleted.
    let placeholders = fake.deleted_ids("acme", "container", "app");
    assert_eq!(placeholders, vec![22, 23]);
    let kinds: Vec<String> = placeholders
        .iter()
        .map(|id| {
            let bytes = fake.manifest_bytes("acme", "app", *id);
            let body: Value = serde_json::from_slice(&bytes).expect("JSON");
            assert_eq!(body["manifests"], json!([]), "an empty index");
            body["mediaType"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.index.v1+json",
        ]
    );
    let log = acting(&fake);
    assert!(
        !log.iter().any(|line| line.contains("/blobs/sha256")),
        "an index placeholder needs no blob: {log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|line| line.starts_with("DELETE /orgs/"))
            .count(),
        2,
        "{log:?}"
    );
    assert!(
        run.summary
            .contains("2 tags removed from 2 images, the images kept"),
        "{}",
        run.summary
    );
}

#[test]
fn keep_latest_counts_images_and_after_untagging_the_next_run_changes_nothing() {
    // Newest first: 1 and 2 are the two newest sha builds, kept whole.
    let fake = start(vec![
        image(1, 1, &["sha-1", "v5"]),
        image(2, 2, &["sha-2"]),
        image(31, 3, &[]).platform("linux/amd64"),
        image(32, 3, &[]).platform("linux/arm64"),
        image(3, 3, &["sha-3", "v4"]).index(&[31, 32]),
        image(4, 4, &["sha-4"]),
        image(5, 5, &["sha-5", "v3"]),
    ]);
    let cleanup = || {
        janitor(&fake, ALICE)
            .input("packages", "app")
            .input("tag-regex", "^sha-")
            .input("keep-latest", "2")
            .input("untag", "true")
    };
    let first = cleanup().run();
    first.assert_success();
    assert_eq!(first.ids(), vec![4]);
    let removed: Vec<(Value, Value)> = untagged(&first)
        .into_iter()
        .map(|entry| (entry["tag"].clone(), entry["digest"].clone()))
        .collect();
    assert_eq!(
        removed,
        vec![
            (json!("sha-3"), json!(digest_of(&fake, 3))),
            (json!("sha-5"), json!(digest_of(&fake, 5))),
        ]
    );
    for (id, tags) in [
        (1, vec!["sha-1", "v5"]),
        (2, vec!["sha-2"]),
        (3, vec!["v4"]),
        (5, vec!["v3"]),
    ] {
        assert_eq!(fake.tags_of("acme", "container", "app", id), tags, "{id}");
    }
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3, 5, 31, 32]
    );
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());

    let before = fake.requests().len();
    let second = cleanup().run();
    second.assert_success();
    assert_eq!(second.ids(), Vec::<u64>::new());
    assert_eq!(untagged(&second), Vec::<Value>::new());
    let writes: Vec<_> = fake.requests()[before..]
        .iter()
        .filter(|request| !matches!(request.method.as_str(), "GET" | "HEAD"))
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert_eq!(
        writes,
        Vec::<String>::new(),
        "the second run changes nothing"
    );
}

#[test]
fn a_push_under_the_tag_between_the_placeholder_and_its_delete_is_left_alone_and_reported() {
    let fake = start(releases());
    // Someone pushes image 4 under `sha-c` right after the run's placeholder took it.
    fake.move_tag_after_manifest_puts(1, "acme", "app", "sha-c", 4);
    let run = sha_builds(&fake, ALICE).run();
    run.assert_success();

    assert_eq!(
        fake.tagged("acme", "app", "sha-c"),
        Some(4),
        "their push stays"
    );
    assert_eq!(
        fake.tags_of("acme", "container", "app", 4),
        vec!["sha-d", "v1.2.0", "sha-c"]
    );
    assert_eq!(fake.tags_of("acme", "container", "app", 3), vec!["v1.1.0"]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3, 4]);
    assert_eq!(
        fake.deleted_ids("acme", "container", "app"),
        vec![2, 5, 6, 7],
        "both placeholders are deleted, and nothing else"
    );
    let entries = tag_entries(&run);
    let superseded = entries
        .iter()
        .find(|entry| entry["tag"] == "sha-c")
        .expect("an entry for sha-c");
    assert_eq!(
        superseded["outcome"],
        format!(
            "superseded: pushed again meanwhile, the tag now names {}, which is left alone",
            digest_of(&fake, 4)
        )
    );
    assert_eq!(
        untagged(&run),
        vec![json!({"package": "app", "tag": "sha-a", "digest": digest_of(&fake, 1)})],
        "only the tag this run removed can be put back"
    );
    assert!(
        run.log
            .contains("::warning::app: 3 sha-c, v1.1.0: tag `sha-c`: superseded"),
        "{}",
        run.log
    );
    assert!(
        run.summary.contains(
            "1 tag removed from 1 image, the images kept, 1 tag pushed again meanwhile and left alone"
        ),
        "{}",
        run.summary
    );
}

#[test]
fn a_tag_that_moved_since_the_listing_is_left_alone() {
    let fake = start(releases());
    // Between the listing and the untagging, `sha-a` moves to image 4: the run finds it
    // there when it reads the tag again, and pushes nothing under it.
    fake.move_tag_after_manifest_puts(1, "acme", "app", "sha-a", 4);
    let run = sha_builds(&fake, ALICE).run();
    run.assert_success();
    assert_eq!(fake.tagged("acme", "app", "sha-a"), Some(4));
    assert_eq!(
        fake.tags_of("acme", "container", "app", 4),
        vec!["sha-d", "v1.2.0", "sha-a"]
    );
    let puts: Vec<String> = acting(&fake)
        .into_iter()
        .filter(|line| line.starts_with("PUT /v2/acme/app/manifests/"))
        .collect();
    assert_eq!(puts, vec!["PUT /v2/acme/app/manifests/sha-c"]);
    let entry = tag_entries(&run)
        .into_iter()
        .find(|entry| entry["tag"] == "sha-a")
        .expect("an entry for sha-a");
    assert_eq!(
        entry["outcome"],
        format!(
            "skipped: the tag names {} now, not this image (it moved since the listing): left alone",
            digest_of(&fake, 4)
        )
    );
    assert_eq!(untagged(&run).len(), 1);
}

#[test]
fn a_dry_run_shows_every_tag_it_would_remove_and_changes_nothing() {
    let fake = start(releases());
    let run = sha_builds(&fake, ALICE).input("dry-run", "true").run();
    run.assert_success();
    assert_eq!(run.ids(), vec![2, 5]);
    assert_eq!(
        untagged(&run),
        vec![
            json!({"package": "app", "tag": "sha-c", "digest": digest_of(&fake, 3)}),
            json!({"package": "app", "tag": "sha-a", "digest": digest_of(&fake, 1)}),
        ]
    );
    let outcomes: Vec<Value> = tag_entries(&run)
        .into_iter()
        .map(|entry| entry["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        vec!["would remove the tag", "would remove the tag"]
    );
    assert!(
        run.summary
            .contains("2 tags would be removed from 2 images, the images kept"),
        "{}",
        run.summary
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 5));
    assert_eq!(
        fake.tags_of("acme", "container", "app", 1),
        vec!["sha-a", "v1.0.0"]
    );
    // Only the push probe: an upload started and cancelled, nothing written.
    assert_eq!(
        writes(&fake),
        vec![
            "POST /v2/acme/app/blobs/uploads/",
            "POST /v2/acme/app/blobs/uploads/",
            "DELETE /v2/acme/app/blobs/uploads/upload-1",
        ]
    );
}

#[test]
fn a_token_that_cannot_push_is_refused_before_any_change_and_in_the_dry_run() {
    const NO_WRITE: &str = "ghp_alice_cannot_write_secret";
    const BOB: &str = "ghp_bob_not_a_member_secret";
    let fake = FakeGitHub::start(
        accounts()
            .token(TokenSeed::pat(
                NO_WRITE,
                "alice",
                &["read:packages", "delete:packages"],
            ))
            .token(TokenSeed::pat(
                BOB,
                "bob",
                &["read:packages", "write:packages", "delete:packages"],
            ))
            .package(container("acme", "app", releases()).public()),
    )
    .expect("fake starts");
    let cases = [
        (
            NO_WRITE,
            "this classic PAT lacks the `write:packages` scope (its scopes: read:packages, delete:packages)",
        ),
        (
            BOB,
            "its user needs write access to the package (package settings → Manage access)",
        ),
    ];
    for (token, said) in cases {
        for dry in ["true", "false"] {
            let run = sha_builds(&fake, token).input("dry-run", dry).run();
            run.assert_failure();
            assert!(
                run.log.contains(said),
                "{token} dry-run {dry}:\n{}",
                run.log
            );
            assert!(
                run.log.contains("::error"),
                "{token} dry-run {dry}:\n{}",
                run.log
            );
            if dry == "true" {
                assert!(
                    run.log
                        .contains("the real run would stop before its first change"),
                    "{}",
                    run.log
                );
                let failed: Vec<Value> = tag_entries(&run)
                    .into_iter()
                    .map(|entry| entry["outcome"].clone())
                    .collect();
                assert_eq!(failed.len(), 2, "{failed:?}");
                assert!(failed.iter().all(|outcome| {
                    outcome
                        .as_str()
                        .is_some_and(|text| text.starts_with("failed: input `token`"))
                }));
            } else {
                assert!(run.log.contains("nothing was changed"), "{}", run.log);
            }
            assert!(!run.log.contains(token), "the token leaked:\n{}", run.log);
        }
    }
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 5));
    assert_eq!(
        fake.tags_of("acme", "container", "app", 1),
        vec!["sha-a", "v1.0.0"]
    );
    let changes: Vec<String> = writes(&fake)
        .into_iter()
        .filter(|line| !line.contains("/blobs/uploads/"))
        .collect();
    assert_eq!(changes, Vec::<String>::new(), "no DELETE and no PUT");
}

#[test]
fn max_versions_counts_the_images_that_would_lose_tags() {
    let fake = start(releases());
    let run = sha_builds(&fake, ALICE).input("max-versions", "3").run();
    run.assert_failure();
    assert!(
        run.log
            .contains("4 versions would be affected, more than max-versions (3)"),
        "{}",
        run.log
    );
    assert_eq!(writes(&fake), Vec::<String>::new());
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 5));
}

#[test]
fn restore_tags_puts_back_every_removed_tag_on_its_original_digest() {
    let fake = start(releases());
    let cleanup = sha_builds(&fake, ALICE).run();
    cleanup.assert_success();
    let record = cleanup.outputs["untagged"].clone();
    let versions_before = fake.active_ids("acme", "container", "app");
    let bytes_before = fake.manifest_bytes("acme", "app", 1);

    let restore = || {
        janitor(&fake, ALICE)
            .input("packages", "app")
            .input("mode", "restore")
            .input("restore-tags", &record)
    };
    let dry = restore().input("dry-run", "true").run();
    dry.assert_success();
    assert_eq!(
        fake.tagged("acme", "app", "sha-a"),
        None,
        "a dry run pushes nothing"
    );
    assert!(
        dry.summary.contains("2 tags would be restored"),
        "{}",
        dry.summary
    );

    let before = fake.requests().len();
    let restored = restore().run();
    restored.assert_success();
    assert_eq!(fake.tagged("acme", "app", "sha-a"), Some(1));
    assert_eq!(fake.tagged("acme", "app", "sha-c"), Some(3));
    assert_eq!(
        fake.tags_of("acme", "container", "app", 1),
        vec!["v1.0.0", "sha-a"]
    );
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        versions_before,
        "the image's own bytes: no new version"
    );
    assert_eq!(fake.manifest_bytes("acme", "app", 1), bytes_before);
    let puts: Vec<String> = fake.requests()[before..]
        .iter()
        .filter(|request| request.method == "PUT")
        .map(|request| request.path.clone())
        .collect();
    assert_eq!(
        puts,
        vec![
            "/v2/acme/app/manifests/sha-c",
            "/v2/acme/app/manifests/sha-a"
        ]
    );
    let outcomes: Vec<(Value, Value)> = tag_entries(&restored)
        .into_iter()
        .map(|entry| (entry["tag"].clone(), entry["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (json!("sha-c"), json!("tag restored")),
            (json!("sha-a"), json!("tag restored")),
        ]
    );
    assert!(
        restored.summary.contains("2 tags restored"),
        "{}",
        restored.summary
    );
    assert_eq!(restored.outputs["untagged"], "[]");

    // Again: each tag already names its image.
    let again = restore().run();
    again.assert_success();
    assert!(
        tag_entries(&again)
            .iter()
            .all(|entry| entry["outcome"] == "skipped: the tag already names this image"),
        "{:?}",
        again.json()
    );
}

#[test]
fn a_restore_never_moves_a_tag_off_another_image_nor_onto_a_digest_outside_the_package() {
    let fake = FakeGitHub::start(
        accounts()
            .package(container("acme", "app", releases()))
            .package(container("acme", "other", vec![image(90, 5, &["x"])])),
    )
    .expect("fake starts");
    let foreign = fake.version_name("acme", "container", "other", 90);
    let record = json!([
        // v1.2.0 names image 4: a record pointing it at image 1 is refused.
        {"package": "app", "tag": "v1.2.0", "digest": digest_of(&fake, 1)},
        // A digest of another package is never tagged here.
        {"package": "app", "tag": "stolen", "digest": foreign},
        // A free tag on an image of the package is put back.
        {"package": "app", "tag": "sha-z", "digest": digest_of(&fake, 3)},
    ])
    .to_string();
    let run = janitor(&fake, ALICE)
        .input("packages", "app, other")
        .input("mode", "restore")
        .input("restore-tags", &record)
        .run();
    run.assert_failure();
    assert_eq!(fake.tagged("acme", "app", "v1.2.0"), Some(4));
    assert_eq!(fake.tagged("acme", "app", "stolen"), None);
    assert_eq!(fake.tagged("acme", "other", "stolen"), None);
    assert_eq!(fake.tagged("acme", "app", "sha-z"), Some(3));
    let outcomes: Vec<String> = tag_entries(&run)
        .into_iter()
        .map(|entry| entry["outcome"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert_eq!(
        outcomes[0],
        format!(
            "skipped: the tag names {} now, pushed since it was removed: left alone",
            digest_of(&fake, 4)
        )
    );
    assert!(
        outcomes[1].starts_with(&format!("failed: {foreign} is not in acme/app")),
        "{}",
        outcomes[1]
    );
    assert_eq!(outcomes[2], "tag restored");
    let puts: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|request| request.method == "PUT")
        .map(|request| request.path)
        .collect();
    assert_eq!(puts, vec!["/v2/acme/app/manifests/sha-z"]);
}

#[test]
fn a_placeholder_that_is_not_only_the_runs_is_left_and_reported_with_its_id_to_delete() {
    let fake = start(releases());
    // Right after the first placeholder (version 6) takes `sha-c`, someone tags it `keep-me`
    // too: the run may not delete a version that carries a tag it did not push.
    fake.move_tag_after_manifest_puts(1, "acme", "app", "keep-me", 6);
    let run = sha_builds(&fake, ALICE).run();
    run.assert_failure();
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 3, 4, 6]
    );
    assert_eq!(
        fake.tags_of("acme", "container", "app", 6),
        vec!["sha-c", "keep-me"]
    );
    assert_eq!(fake.tags_of("acme", "container", "app", 3), vec!["v1.1.0"]);
    assert_eq!(
        run.failed_ids(),
        vec![6],
        "the placeholder to delete by hand"
    );
    let entry = tag_entries(&run)
        .into_iter()
        .find(|entry| entry["tag"] == "sha-c")
        .expect("an entry for sha-c");
    assert_eq!(entry["placeholder_id"], 6);
    assert_eq!(
        entry["outcome"],
        "failed: its placeholder (version 6) also carries sha-c, keep-me, so it was not deleted: delete it by hand once they are moved"
    );
    assert!(
        run.summary.contains("(placeholder version 6)"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("1 tag failed"), "{}", run.summary);
    // The other tag went as planned.
    assert_eq!(fake.tags_of("acme", "container", "app", 1), vec!["v1.0.0"]);
}

/// `releases()` where the answer to the first placeholder's DELETE (version 6) comes `after`
/// it was handled.
fn slow_placeholder_delete(after: std::time::Duration) -> FakeGitHub {
    FakeGitHub::start(
        accounts()
            .package(container("acme", "app", releases()))
            .faults(fake_github::Faults {
                slow_answers: [(
                    "DELETE /orgs/acme/packages/container/app/versions/6".to_string(),
                    after,
                )]
                .into(),
                ..fake_github::Faults::default()
            }),
    )
    .expect("fake starts")
}

#[test]
fn a_cancel_lets_the_tag_in_flight_finish_and_leaves_the_next_untouched() {
    let fake = slow_placeholder_delete(std::time::Duration::from_secs(2));
    let run = sha_builds(&fake, ALICE)
        .spawn()
        .terminate_when("the first placeholder's DELETE", || {
            fake.deleted_ids("acme", "container", "app").contains(&6)
        });
    run.assert_failure();
    let outcomes: Vec<(Value, Value)> = tag_entries(&run)
        .into_iter()
        .map(|entry| (entry["tag"].clone(), entry["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (json!("sha-c"), json!("tag removed")),
            (json!("sha-a"), json!("left for the next run: cancelled")),
        ],
        "{}",
        run.log
    );
    assert_eq!(
        fake.tags_of("acme", "container", "app", 1),
        vec!["sha-a", "v1.0.0"]
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3, 4]);
    assert!(
        !acting(&fake)
            .iter()
            .any(|line| line.ends_with("/manifests/sha-a")),
        "nothing is pushed after the cancel"
    );
    assert_eq!(
        untagged(&run),
        vec![json!({"package": "app", "tag": "sha-c", "digest": digest_of(&fake, 3)})]
    );
}

#[test]
fn a_placeholder_delete_cut_off_by_the_cancel_is_reported_with_what_to_check() {
    let fake = slow_placeholder_delete(std::time::Duration::from_secs(30));
    let run = sha_builds(&fake, ALICE)
        .spawn()
        .terminate_when("the first placeholder's DELETE", || {
            fake.deleted_ids("acme", "container", "app").contains(&6)
        });
    run.assert_failure();
    let placeholder = fake.version_name("acme", "container", "app", 6);
    let entries = tag_entries(&run);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        entries[0]["outcome"],
        format!(
            "left for the next run: cancelled while its placeholder {placeholder} was pushed and deleted: if the tag names it, delete that version by hand"
        )
    );
    assert_eq!(entries[1]["tag"], "sha-a");
    assert!(
        run.log
            .contains("a placeholder pushed for the tag in flight may be left under it"),
        "{}",
        run.log
    );
    assert_eq!(untagged(&run), Vec::<Value>::new());
}
