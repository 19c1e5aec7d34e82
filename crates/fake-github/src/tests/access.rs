//! Who may do what: authentication, scopes, prefixes, PATs versus `GITHUB_TOKEN`.

use super::*;
use crate::{PackageSeed, VersionSeed, days};

const INTEGRATION: &str = "Resource not accessible by integration";
const NOT_FOUND: &str = "Package not found.";

/// Two versions so a delete is never refused for being the last one.
fn two_versions(first_id: u64) -> Vec<VersionSeed> {
    vec![
        VersionSeed::new(first_id, days(5)).tags(&["a"]),
        VersionSeed::new(first_id + 1, days(4)).tags(&["b"]),
    ]
}

/// acme: `app` (private, linked to acme/app), `site` (public, linked to acme/site),
/// `secret` (private, no repository); alice: `tool` (private) and `pub` (public).
fn packages() -> FakeGitHub {
    start(
        world()
            .package(
                PackageSeed::new("acme", "container", "app")
                    .repository("acme/app")
                    .versions(two_versions(10)),
            )
            .package(
                PackageSeed::new("acme", "container", "site")
                    .public()
                    .repository("acme/site")
                    .versions(two_versions(20)),
            )
            .package(PackageSeed::new("acme", "container", "secret").versions(two_versions(30)))
            .package(PackageSeed::new("alice", "container", "tool").versions(two_versions(40)))
            .package(
                PackageSeed::new("alice", "container", "pub")
                    .public()
                    .versions(two_versions(50)),
            ),
    )
}

#[test]
fn requests_need_a_known_token_in_a_bearer_or_token_header() {
    let fake = packages();
    let path = "/orgs/acme/packages/container/app";
    let cases: [(Option<&str>, u16, &str); 6] = [
        (None, 401, "Requires authentication"),
        (Some("Bearer ghp_nobody"), 401, "Bad credentials"),
        (Some("Basic YWxpY2U6c2VjcmV0"), 401, "Bad credentials"),
        (Some("ghp_alice"), 401, "Bad credentials"),
        (Some("Bearer ghp_alice"), 200, ""),
        (Some("token ghp_alice"), 200, ""),
    ];
    for (authorization, status, message) in cases {
        let reply = request(&fake, "GET", path, authorization);
        assert_eq!(reply.status, status, "{authorization:?}: {}", reply.body);
        if status != 200 {
            assert_error(&reply, status, message);
        }
    }
}

#[test]
fn a_github_token_cannot_use_the_user_prefix_nor_list_an_owners_packages() {
    let fake = packages();

    for path in [
        "/user",
        "/user/packages?package_type=container",
        "/user/packages/container/tool/versions",
        "/orgs/acme/packages?package_type=container",
    ] {
        assert_error(&get(&fake, path, CI), 403, INTEGRATION);
    }
}

#[test]
fn a_github_token_administers_only_the_packages_of_its_repository() {
    let fake = packages();
    let delete = |name: &str, id: u64| {
        call(
            &fake,
            "DELETE",
            &format!("/orgs/acme/packages/container/{name}/versions/{id}"),
            CI,
        )
    };

    assert_eq!(
        get(&fake, "/orgs/acme/packages/container/app/versions", CI).ids(),
        vec![11, 10]
    );
    assert_eq!(delete("app", 10).status, 204);
    assert_eq!(
        call(
            &fake,
            "POST",
            "/orgs/acme/packages/container/app/versions/10/restore",
            CI
        )
        .status,
        204
    );
    assert_eq!(
        get(&fake, "/orgs/acme/packages/container/site", CI).status,
        200
    );
    assert_error(&delete("site", 20), 403, INTEGRATION);
    assert_error(
        &get(&fake, "/orgs/acme/packages/container/secret", CI),
        404,
        NOT_FOUND,
    );
    assert_error(&delete("secret", 30), 404, NOT_FOUND);
    assert_eq!(fake.active_ids("acme", "container", "site"), vec![20, 21]);
}

#[test]
fn private_user_packages_are_visible_only_through_the_user_prefix() {
    let fake = packages();
    let cases = [
        (ALICE, "/user/packages/container/tool", 200),
        (ALICE, "/users/alice/packages/container/tool", 404),
        (ALICE, "/users/alice/packages/container/pub", 200),
        (BOB, "/users/alice/packages/container/pub", 200),
        (BOB, "/users/alice/packages/container/tool", 404),
        (BOB, "/user/packages/container/tool", 404),
    ];
    for (token, path, status) in cases {
        assert_eq!(get(&fake, path, token).status, status, "{token} {path}");
    }
    let mine = get(&fake, "/user/packages?package_type=container", ALICE);
    let public = get(&fake, "/users/alice/packages?package_type=container", ALICE);
    assert_eq!(mine.names(), vec!["tool", "pub"]);
    assert_eq!(public.names(), vec!["pub"]);
}

#[test]
fn org_packages_are_visible_to_members_and_public_ones_to_everyone() {
    let fake = packages();
    let cases = [
        (ALICE, "GET", "/orgs/acme/packages/container/secret", 200),
        (BOB, "GET", "/orgs/acme/packages/container/secret", 404),
        (BOB, "GET", "/orgs/acme/packages/container/site", 200),
        (
            BOB,
            "DELETE",
            "/orgs/acme/packages/container/site/versions/20",
            403,
        ),
        (
            BOB,
            "GET",
            "/orgs/acme/packages/container/site/versions?state=deleted",
            403,
        ),
        (
            BOB,
            "DELETE",
            "/users/alice/packages/container/pub/versions/50",
            403,
        ),
        (
            ALICE,
            "DELETE",
            "/orgs/acme/packages/container/secret/versions/30",
            204,
        ),
        (
            ALICE,
            "DELETE",
            "/user/packages/container/tool/versions/40",
            204,
        ),
    ];
    for (token, method, path, status) in cases {
        let reply = call(&fake, method, path, token);
        assert_eq!(
            reply.status, status,
            "{token} {method} {path}: {}",
            reply.body
        );
    }
    let listed = get(&fake, "/orgs/acme/packages?package_type=container", BOB);
    assert_eq!(listed.names(), vec!["site"]);
}

#[test]
fn a_prefix_only_finds_owners_of_its_kind() {
    let fake = packages();

    assert_error(
        &get(&fake, "/users/acme/packages/container/site", ALICE),
        404,
        NOT_FOUND,
    );
    assert_error(
        &get(&fake, "/orgs/alice/packages/container/pub", ALICE),
        404,
        NOT_FOUND,
    );
}

#[test]
fn each_operation_needs_its_scopes() {
    let fake = start(
        world()
            .token(TokenSeed::pat("ghp_none", "alice", &[]))
            .token(TokenSeed::pat("ghp_write", "alice", &["write:packages"]))
            .token(TokenSeed::pat(
                "ghp_delete",
                "alice",
                &["read:packages", "delete:packages"],
            ))
            .package(PackageSeed::new("acme", "container", "app").versions(two_versions(1)))
            .package(PackageSeed::new("acme", "npm", "lib").versions(vec![
                VersionSeed::new(3, days(3)),
                VersionSeed::new(4, days(2)),
            ]))
            .package(PackageSeed::new("acme", "maven", "jar").versions(vec![
                VersionSeed::new(5, days(3)),
                VersionSeed::new(6, days(2)),
            ])),
    );
    let app = "/orgs/acme/packages/container/app";
    let cases = [
        (
            "ghp_none",
            "GET",
            format!("{app}/versions"),
            403,
            "read:packages",
        ),
        (READER, "GET", format!("{app}/versions"), 200, ""),
        ("ghp_write", "GET", format!("{app}/versions"), 200, ""),
        (
            READER,
            "GET",
            format!("{app}/versions?state=deleted"),
            403,
            "delete:packages",
        ),
        (
            READER,
            "DELETE",
            format!("{app}/versions/1"),
            403,
            "delete:packages",
        ),
        (
            "ghp_write",
            "DELETE",
            format!("{app}/versions/1"),
            403,
            "delete:packages",
        ),
        (
            "ghp_delete",
            "POST",
            format!("{app}/versions/1/restore"),
            403,
            "write:packages",
        ),
        (
            "ghp_delete",
            "DELETE",
            "/orgs/acme/packages/maven/jar/versions/5".into(),
            403,
            "repo",
        ),
        (
            "ghp_delete",
            "DELETE",
            "/orgs/acme/packages/npm/lib/versions/3".into(),
            204,
            "",
        ),
        ("ghp_delete", "DELETE", format!("{app}/versions/1"), 204, ""),
        (
            "ghp_delete",
            "GET",
            format!("{app}/versions?state=deleted"),
            200,
            "",
        ),
        (
            "ghp_none",
            "GET",
            "/orgs/acme/packages/container/nope".into(),
            403,
            "read:packages",
        ),
    ];
    for (token, method, path, status, scope) in cases {
        let reply = call(&fake, method, &path, token);
        assert_eq!(
            reply.status, status,
            "{token} {method} {path}: {}",
            reply.body
        );
        assert!(
            reply.status != 403 || reply.message().contains(scope),
            "{}",
            reply.body
        );
    }
}

#[test]
fn answers_to_a_classic_pat_name_its_scopes_and_to_a_github_token_none() {
    let fake = start(
        world()
            .token(TokenSeed::pat(
                "ghp_scoped",
                "alice",
                &["read:packages", "delete:packages"],
            ))
            .token(TokenSeed::github_token("ghs_workflow", "acme/app"))
            .package(PackageSeed::new("acme", "container", "app").versions(two_versions(1))),
    );
    let path = "/orgs/acme/packages/container/app/versions";
    let cases = [
        ("ghp_scoped", path, Some("read:packages, delete:packages")),
        (
            "ghp_scoped",
            "/orgs/acme/packages/container/nope",
            Some("read:packages, delete:packages"),
        ),
        ("ghs_workflow", path, None),
    ];
    for (token, path, expected) in cases {
        let reply = get(&fake, path, token);
        let scopes = reply
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("x-oauth-scopes"))
            .map(|(_, value)| value.as_str());
        assert_eq!(scopes, expected, "{token} {path}");
    }
}
