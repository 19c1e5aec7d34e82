//! The registry's writes: who may push, blob uploads, and a manifest `PUT` creating or
//! moving a version as ghcr.io does.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::*;
use crate::manifests::sha256;
use crate::{PackageSeed, VersionSeed, days};

const REPOSITORY: &str = "/v2/acme/app";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_BLOB: &[u8] = b"{}";

/// `acme/app` with a release tagged `sha-1` and `v1` (version 1) and an older image `v0`.
fn fake() -> FakeGitHub {
    start(
        world().package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .versions(vec![
                    VersionSeed::new(1, days(40)).tags(&["sha-1", "v1"]),
                    VersionSeed::new(2, days(50)).tags(&["v0"]),
                ]),
        ),
    )
}

/// A registry token for `acme/app` with `actions` (`pull` or `pull,push`), obtained with
/// the GitHub token `password`.
fn registry_token(fake: &FakeGitHub, password: &str, actions: &str) -> String {
    let basic = STANDARD.encode(format!("anyone:{password}"));
    let reply = request(
        fake,
        "GET",
        &format!("/token?service=fake&scope=repository:acme/app:{actions}"),
        Some(&format!("Basic {basic}")),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["token"].as_str().expect("a token").to_owned()
}

fn put(fake: &FakeGitHub, token: &str, path: &str, media_type: &str, body: &[u8]) -> Reply {
    send(
        fake,
        "PUT",
        &format!("{REPOSITORY}/{path}"),
        Some(&format!("Bearer {token}")),
        Some(media_type),
        body,
    )
}

fn empty_index(tag: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [],
        "annotations": {"placeholder": tag},
    }))
    .expect("JSON")
}

fn error_code(reply: &Reply) -> String {
    reply.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_write_needs_a_push_token_of_someone_who_may_write_to_the_package() {
    let fake = fake();
    let body = empty_index("sha-1");
    let pull = registry_token(&fake, ALICE, "pull");
    let refused = put(&fake, &pull, "manifests/sha-1", OCI_INDEX, &body);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|value| value.ends_with("scope=\"repository:acme/app:pull,push\"")),
        "{:?}",
        refused.headers
    );
    let cases = [
        (READER, 403, "DENIED"),
        (BOB, 404, "NAME_UNKNOWN"),
        (CI, 201, ""),
        (ALICE, 201, ""),
    ];
    for (github_token, status, code) in cases {
        let token = registry_token(&fake, github_token, "pull,push");
        let reply = put(&fake, &token, "manifests/sha-1", OCI_INDEX, &body);
        assert_eq!(reply.status, status, "{github_token}: {}", reply.body);
        if status != 201 {
            assert_eq!(error_code(&reply), code, "{github_token}");
        }
    }
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3],
        "two accepted pushes of the same bytes make one version"
    );
}

#[test]
fn a_manifest_put_under_a_tag_moves_the_tag_to_a_new_version_and_keeps_the_old_one() {
    let fake = fake();
    let token = registry_token(&fake, ALICE, "pull,push");
    let body = empty_index("sha-1");
    let digest = sha256(&body);
    let reply = put(&fake, &token, "manifests/sha-1", OCI_INDEX, &body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        reply.header("location"),
        Some(format!("{REPOSITORY}/manifests/{digest}").as_str())
    );

    let listed = get(&fake, "/orgs/acme/packages/container/app/versions", ALICE);
    assert_eq!(listed.ids(), vec![3, 1, 2], "the new version is the newest");
    assert_eq!(listed.names()[0], digest);
    assert_eq!(fake.tags_of("acme", "container", "app", 3), vec!["sha-1"]);
    assert_eq!(fake.tags_of("acme", "container", "app", 1), vec!["v1"]);
    let head = request(
        &fake,
        "HEAD",
        &format!("{REPOSITORY}/manifests/sha-1"),
        Some(&format!("Bearer {}", registry_token(&fake, ALICE, "pull"))),
    );
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));

    // The same bytes under another tag: the same version, with both tags.
    let again = put(&fake, &token, "manifests/other", OCI_INDEX, &body);
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);
    assert_eq!(
        fake.tags_of("acme", "container", "app", 3),
        vec!["sha-1", "other"]
    );
    // An existing image's own bytes under a tag: the tag moves back, no new version.
    let release = fake.manifest_bytes("acme", "app", 1);
    let back = put(&fake, &token, "manifests/sha-1", OCI_MANIFEST, &release);
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(fake.tagged("acme", "app", "sha-1"), Some(1));
    assert_eq!(fake.tags_of("acme", "container", "app", 3), vec!["other"]);
}

#[test]
fn a_put_is_checked_against_its_media_type_digest_and_blobs() {
    let fake = fake();
    let token = registry_token(&fake, ALICE, "pull,push");
    let body = empty_index("x");
    let image = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256(EMPTY_BLOB), "size": 2},
        "layers": [],
    }))
    .expect("JSON");
    let cases: Vec<(&str, &str, &[u8], &str)> = vec![
        ("manifests/x", "application/json", &body, "MANIFEST_INVALID"),
        ("manifests/x", OCI_MANIFEST, &body, "MANIFEST_INVALID"),
        ("manifests/x", OCI_INDEX, b"not json", "MANIFEST_INVALID"),
        (
            "manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000",
            OCI_INDEX,
            &body,
            "DIGEST_INVALID",
        ),
        ("manifests/x", OCI_MANIFEST, &image, "MANIFEST_BLOB_UNKNOWN"),
    ];
    for (path, media_type, bytes, code) in cases {
        let reply = put(&fake, &token, path, media_type, bytes);
        assert_eq!(reply.status, 400, "{path} {media_type}: {}", reply.body);
        assert_eq!(error_code(&reply), code, "{path} {media_type}");
    }
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2]);

    // Upload the empty blob, then the image that references it is accepted.
    let bearer = format!("Bearer {token}");
    let blob = format!("{REPOSITORY}/blobs/{}", sha256(EMPTY_BLOB));
    assert_eq!(request(&fake, "HEAD", &blob, Some(&bearer)).status, 404);
    let started = request(
        &fake,
        "POST",
        &format!("{REPOSITORY}/blobs/uploads/"),
        Some(&bearer),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let location = started.header("location").expect("a Location").to_owned();
    assert!(location.starts_with(&format!("{REPOSITORY}/blobs/uploads/")));
    let wrong = send(
        &fake,
        "PUT",
        &format!("{location}?digest={}", sha256(b"other")),
        Some(&bearer),
        Some("application/octet-stream"),
        EMPTY_BLOB,
    );
    assert_eq!(error_code(&wrong), "DIGEST_INVALID");
    let uploaded = send(
        &fake,
        "PUT",
        &format!("{location}?digest={}", sha256(EMPTY_BLOB)),
        Some(&bearer),
        Some("application/octet-stream"),
        EMPTY_BLOB,
    );
    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    assert_eq!(request(&fake, "HEAD", &blob, Some(&bearer)).status, 200);
    let accepted = put(&fake, &token, "manifests/x", OCI_MANIFEST, &image);
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(fake.tagged("acme", "app", "x"), Some(3));
}

#[test]
fn an_upload_can_be_cancelled_and_a_manifest_delete_is_refused_as_on_ghcr() {
    let fake = fake();
    let bearer = format!("Bearer {}", registry_token(&fake, ALICE, "pull,push"));
    let started = request(
        &fake,
        "POST",
        &format!("{REPOSITORY}/blobs/uploads/"),
        Some(&bearer),
    );
    let location = started.header("location").expect("a Location").to_owned();
    assert_eq!(
        request(&fake, "DELETE", &location, Some(&bearer)).status,
        204
    );
    assert_eq!(
        request(&fake, "DELETE", &location, Some(&bearer)).status,
        404
    );
    let deleted = request(
        &fake,
        "DELETE",
        &format!("{REPOSITORY}/manifests/v1"),
        Some(&bearer),
    );
    assert_eq!(deleted.status, 405, "{}", deleted.body);
    assert_eq!(error_code(&deleted), "UNSUPPORTED");
    assert_eq!(fake.tagged("acme", "app", "v1"), Some(1));
}

#[test]
fn a_retag_scheduled_after_a_put_lands_before_its_answer() {
    let fake = fake();
    fake.move_tag_after_manifest_puts(1, "acme", "app", "sha-1", 2);
    let token = registry_token(&fake, ALICE, "pull,push");
    let reply = put(
        &fake,
        &token,
        "manifests/sha-1",
        OCI_INDEX,
        &empty_index("sha-1"),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(fake.tagged("acme", "app", "sha-1"), Some(2));
    assert_eq!(
        fake.tags_of("acme", "container", "app", 3),
        Vec::<String>::new(),
        "the placeholder lost the tag to the concurrent push"
    );
}
