//! The OCI registry: token exchange, manifests by tag and digest, and what deletion does.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::*;
use crate::manifests::sha256;
use crate::{PackageSeed, VersionSeed, days};

const MANIFEST: &str = "/v2/acme/app/manifests";

fn registry(versions: Vec<VersionSeed>) -> FakeGitHub {
    start(world().package(PackageSeed::new("acme", "container", "app").versions(versions)))
}

fn buildx() -> Vec<VersionSeed> {
    vec![
        VersionSeed::new(1, days(3)).platform("linux/amd64"),
        VersionSeed::new(2, days(3)).platform("linux/arm64"),
        VersionSeed::new(3, days(3)).attestation_for(1),
        VersionSeed::new(4, days(3)).index(&[1, 2, 3]).tags(&["v1"]),
        VersionSeed::new(5, days(3)).cosign_signature_of(4),
        VersionSeed::new(6, days(3)).unreadable().tags(&["broken"]),
    ]
}

/// A registry token for `acme/app` obtained with the GitHub token `password`.
fn registry_token(fake: &FakeGitHub, password: &str) -> String {
    let basic = STANDARD.encode(format!("anyone:{password}"));
    let reply = request(
        fake,
        "GET",
        "/token?service=fake&scope=repository:acme/app:pull",
        Some(&format!("Basic {basic}")),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["token"].as_str().expect("a token").to_owned()
}

fn fetch(fake: &FakeGitHub, method: &str, reference: &str, token: &str) -> Reply {
    request(
        fake,
        method,
        &format!("{MANIFEST}/{reference}"),
        Some(&format!("Bearer {token}")),
    )
}

fn error_code(reply: &Reply) -> String {
    reply.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn an_anonymous_manifest_request_gets_a_bearer_challenge_for_its_repository() {
    let fake = registry(buildx());
    let reply = request(&fake, "GET", &format!("{MANIFEST}/v1"), None);
    assert_eq!(reply.status, 401);
    let host = fake.url().trim_start_matches("http://").to_owned();
    assert_eq!(
        reply.header("www-authenticate"),
        Some(
            format!(
                "Bearer realm=\"{}/token\",service=\"{host}\",scope=\"repository:acme/app:pull\"",
                fake.url()
            )
            .as_str()
        )
    );
    let with_github_token = fetch(&fake, "GET", "v1", ALICE);
    assert_eq!(
        with_github_token.status, 401,
        "a GitHub token is not a registry token"
    );
}

#[test]
fn the_token_exchange_accepts_a_seeded_token_as_password_and_refuses_others() {
    let fake = registry(buildx());
    assert!(registry_token(&fake, ALICE).starts_with("fake-registry-token-"));
    let basic = STANDARD.encode("anyone:ghp_wrong");
    let bad = request(
        &fake,
        "GET",
        "/token?service=fake&scope=repository:acme/app:pull",
        Some(&format!("Basic {basic}")),
    );
    assert_eq!(bad.status, 401);
    assert_eq!(error_code(&bad), "UNAUTHORIZED");
}

#[test]
fn manifests_are_served_by_tag_and_by_digest_with_their_type_and_digest() {
    let fake = registry(buildx());
    let token = registry_token(&fake, ALICE);
    let index_digest = fake.version_name("acme", "container", "app", 4);

    let by_tag = fetch(&fake, "GET", "v1", &token);
    assert_eq!(by_tag.status, 200, "{}", by_tag.body);
    assert_eq!(
        by_tag.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    assert_eq!(
        by_tag.header("docker-content-digest"),
        Some(index_digest.as_str())
    );
    assert_eq!(sha256(by_tag.body.as_bytes()), index_digest);
    let children: Vec<String> = by_tag.json()["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|entry| entry["digest"].as_str().unwrap_or_default().to_owned())
        .collect();
    let child_names: Vec<String> = (1..=3)
        .map(|id| fake.version_name("acme", "container", "app", id))
        .collect();
    assert_eq!(children, child_names);

    let by_digest = fetch(&fake, "GET", &child_names[0], &token);
    assert_eq!(by_digest.status, 200);
    assert_eq!(
        by_digest.header("content-type"),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(sha256(by_digest.body.as_bytes()), child_names[0]);

    let head = fetch(&fake, "HEAD", "v1", &token);
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
    assert_eq!(
        head.header("docker-content-digest"),
        Some(index_digest.as_str())
    );

    let signature_tag = format!("sha256-{}.sig", index_digest.trim_start_matches("sha256:"));
    assert_eq!(fetch(&fake, "GET", &signature_tag, &token).status, 200);
}

#[test]
fn deleted_unknown_and_unreadable_manifests_answer_registry_errors() {
    let fake = registry(buildx());
    let token = registry_token(&fake, ALICE);
    let child = fake.version_name("acme", "container", "app", 1);
    assert_eq!(
        call(
            &fake,
            "DELETE",
            "/orgs/acme/packages/container/app/versions/1",
            ALICE
        )
        .status,
        204
    );

    for reference in [child.as_str(), "no-such-tag"] {
        let reply = fetch(&fake, "GET", reference, &token);
        assert_eq!(reply.status, 404, "{reference}");
        assert_eq!(error_code(&reply), "MANIFEST_UNKNOWN");
    }
    let broken = fetch(&fake, "GET", "broken", &token);
    assert_eq!(broken.status, 500);
    assert_eq!(error_code(&broken), "UNKNOWN");
}

#[test]
fn broken_images_names_every_tag_whose_children_are_gone() {
    let fake = registry(buildx());
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
    call(
        &fake,
        "DELETE",
        "/orgs/acme/packages/container/app/versions/2",
        ALICE,
    );
    let missing = fake.version_name("acme", "container", "app", 2);
    assert_eq!(
        fake.broken_images("acme", "app"),
        vec![format!("tag v1 (version 4): {missing} is missing")]
    );
}

#[test]
fn a_token_for_another_user_cannot_read_a_private_package() {
    let fake = registry(buildx());
    let token = registry_token(&fake, BOB);
    let reply = fetch(&fake, "GET", "v1", &token);
    assert_eq!(reply.status, 404);
    assert_eq!(error_code(&reply), "NAME_UNKNOWN");
}

#[test]
fn docker_media_types_are_served_as_a_manifest_list_and_a_v2_manifest() {
    let fake = registry(vec![
        VersionSeed::new(1, days(3))
            .platform("linux/amd64")
            .docker_media_types(),
        VersionSeed::new(2, days(3))
            .index(&[1])
            .docker_media_types()
            .tags(&["v1"]),
    ]);
    let token = registry_token(&fake, ALICE);
    let list = fetch(&fake, "GET", "v1", &token);
    assert_eq!(
        list.header("content-type"),
        Some("application/vnd.docker.distribution.manifest.list.v2+json")
    );
    assert_eq!(
        list.json()["manifests"][0]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
}

#[test]
fn an_outage_answers_503_once_or_always_before_serving() {
    let fake = registry(vec![
        VersionSeed::new(1, days(3))
            .tags(&["once"])
            .unavailable_once(),
        VersionSeed::new(2, days(3)).tags(&["always"]).unavailable(),
    ]);
    let token = registry_token(&fake, ALICE);
    let first = fetch(&fake, "GET", "once", &token);
    assert_eq!(
        (first.status, error_code(&first)),
        (503, "UNAVAILABLE".into())
    );
    let second = fetch(&fake, "GET", "once", &token);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        sha256(second.body.as_bytes()),
        fake.version_name("acme", "container", "app", 1)
    );
    for _ in 0..3 {
        let reply = fetch(&fake, "GET", "always", &token);
        assert_eq!(
            (reply.status, error_code(&reply)),
            (503, "UNAVAILABLE".into())
        );
    }
}

#[test]
fn a_wrong_digest_body_lists_other_manifests_under_the_real_digest() {
    let fake = registry(vec![
        VersionSeed::new(1, days(3)).platform("linux/amd64"),
        VersionSeed::new(2, days(3)).platform("linux/arm64"),
        VersionSeed::new(3, days(3))
            .index(&[1])
            .tags(&["v1"])
            .wrong_digest_body(&[2]),
    ]);
    let token = registry_token(&fake, ALICE);
    let digest = fake.version_name("acme", "container", "app", 3);
    let reply = fetch(&fake, "GET", &digest, &token);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    assert_ne!(sha256(reply.body.as_bytes()), digest);
    let listed = reply.json()["manifests"][0]["digest"].clone();
    assert_eq!(listed, fake.version_name("acme", "container", "app", 2));
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
}

#[test]
fn a_version_gone_behind_the_apis_back_is_neither_listed_nor_served_and_breaks_its_index() {
    let fake = registry(vec![
        VersionSeed::new(1, days(3)).platform("linux/amd64"),
        VersionSeed::new(2, days(3)).platform("linux/arm64").gone(),
        VersionSeed::new(3, days(3)).index(&[1, 2]).tags(&["v1"]),
        VersionSeed::new(4, days(3)).cosign_signature_of(2),
    ]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3, 4]);
    let broken = fake.broken_images("acme", "app");
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(
        broken[0].starts_with("tag v1 (version 3): sha256:"),
        "{broken:?}"
    );
    let missing = broken[0]
        .split(' ')
        .find(|word| word.starts_with("sha256:"))
        .unwrap_or_default()
        .to_owned();
    let token = registry_token(&fake, ALICE);
    assert_eq!(fetch(&fake, "GET", &missing, &token).status, 404);
    let signature = fake.version_name("acme", "container", "app", 4);
    assert_eq!(fetch(&fake, "GET", &signature, &token).status, 200);
}

/// The tag list of `acme/app` after `last`, `n` at a time: its tags and its `Link`.
fn tag_page(fake: &FakeGitHub, token: &str, query: &str) -> (Vec<String>, Option<String>) {
    let reply = request(
        fake,
        "GET",
        &format!("/v2/acme/app/tags/list{query}"),
        Some(&format!("Bearer {token}")),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tags = reply.json()["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|tag| tag.as_str().unwrap_or_default().to_owned())
        .collect();
    (tags, reply.header("link").map(str::to_owned))
}

#[test]
fn the_tag_list_pages_with_n_and_last_and_links_the_next_page() {
    let fake = registry(
        (1..=5)
            .map(|id| VersionSeed::new(id, days(id)).tags(&[&format!("v{id}")]))
            .chain([VersionSeed::new(6, days(9))])
            .collect(),
    );
    let token = registry_token(&fake, ALICE);
    let (first, link) = tag_page(&fake, &token, "?n=2");
    assert_eq!(first, ["v1", "v2"]);
    assert_eq!(
        link.as_deref(),
        Some("</v2/acme/app/tags/list?n=2&last=v2>; rel=\"next\"")
    );
    assert_eq!(tag_page(&fake, &token, "?n=2&last=v2").0, ["v3", "v4"]);
    let (last, none) = tag_page(&fake, &token, "?n=2&last=v4");
    assert_eq!((last, none), (vec!["v5".to_string()], None));
    assert_eq!(
        tag_page(&fake, &token, "").0.len(),
        5,
        "all on one page by default"
    );
    let anonymous = request(&fake, "GET", "/v2/acme/app/tags/list", None);
    assert_eq!(anonymous.status, 401);
}

#[test]
fn tags_added_moved_and_versions_deleted_behind_the_back_show_in_the_registry_at_once() {
    let fake = registry(buildx());
    let token = registry_token(&fake, ALICE);
    let platform = fake.version_name("acme", "container", "app", 1);
    fake.add_tag("acme", "container", "app", 1, "v2.0");
    assert_eq!(fake.tags_of("acme", "container", "app", 1), ["v2.0"]);
    let head = fetch(&fake, "HEAD", "v2.0", &token);
    assert_eq!(
        head.header("docker-content-digest"),
        Some(platform.as_str())
    );
    fake.move_tag("acme", "container", "app", "v2.0", 2);
    assert!(fake.tags_of("acme", "container", "app", 1).is_empty());
    let moved = fetch(&fake, "HEAD", "v2.0", &token);
    assert_eq!(
        moved.header("docker-content-digest"),
        Some(fake.version_name("acme", "container", "app", 2).as_str())
    );
    assert!(tag_page(&fake, &token, "").0.contains(&"v2.0".to_string()));
    fake.delete_behind("acme", "container", "app", 4);
    assert_eq!(fetch(&fake, "HEAD", "v1", &token).status, 404);
    assert!(!tag_page(&fake, &token, "").0.contains(&"v1".to_string()));
    fake.restore_behind("acme", "container", "app", 4);
    assert_eq!(fetch(&fake, "HEAD", "v1", &token).status, 200);
}
