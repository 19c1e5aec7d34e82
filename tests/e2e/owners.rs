//! Owners and package names: orgs, users through `/users` and `/user`, pagination, wildcards.

use fake_github::{FakeGitHub, PackageSeed, Seed, TokenSeed};

use crate::harness::*;

/// The paths of the requests the fake answered.
fn paths(fake: &FakeGitHub) -> Vec<String> {
    fake.requests()
        .into_iter()
        .map(|request| request.path)
        .collect()
}

#[test]
fn an_organizations_packages_are_reached_through_orgs() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![image(1, 50, &[]), image(2, 40, &["v2"])],
    )))
    .expect("fake starts");
    let run = janitor(&fake, WORKFLOW_TOKEN)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2]);
    assert!(
        paths(&fake)
            .iter()
            .any(|p| p == "/orgs/acme/packages/container/app/versions/1")
    );
    assert!(run.summary.contains("organization"), "{}", run.summary);
}

#[test]
fn a_workflow_token_reaches_a_users_packages_through_users() {
    let seed = accounts()
        .token(TokenSeed::github_token("ghs_bob_workflow", "bob/tool"))
        .package(
            PackageSeed::new("bob", "container", "tool")
                .public()
                .repository("bob/tool")
                .versions(vec![image(1, 50, &[]), image(2, 40, &["v2"])]),
        );
    let fake = FakeGitHub::start(seed).expect("fake starts");
    let run = janitor(&fake, "ghs_bob_workflow")
        .env("GITHUB_REPOSITORY_OWNER", "bob")
        .input("packages", "tool")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("bob", "container", "tool"), vec![2]);
    let paths = paths(&fake);
    assert!(
        paths
            .iter()
            .any(|p| p == "/users/bob/packages/container/tool/versions/1"),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with("/user/")));
}

#[test]
fn a_users_own_token_reaches_its_private_packages_through_user() {
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("alice", "npm", "secret-lib")
                .versions(vec![release(1, 50, "1.0.0"), release(2, 40, "2.0.0")]),
        ),
    )
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("owner", "alice")
        .input("package-type", "npm")
        .input("packages", "secret-lib")
        .input("tag-regex", "^1\\.")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("alice", "npm", "secret-lib"), vec![2]);
    assert!(
        paths(&fake)
            .iter()
            .any(|p| p == "/user/packages/npm/secret-lib/versions/1")
    );
}

#[test]
fn the_owner_kind_comes_from_the_event_payload_when_it_names_the_owner() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![image(1, 50, &[]), image(2, 40, &["v2"])],
    )))
    .expect("fake starts");
    let event = std::env::temp_dir().join(format!("pj-event-{}.json", std::process::id()));
    std::fs::write(
        &event,
        r#"{"repository":{"full_name":"acme/app","owner":{"login":"acme","type":"Organization"}}}"#,
    )
    .expect("event file");
    let run = janitor(&fake, WORKFLOW_TOKEN)
        .env("GITHUB_EVENT_PATH", event.to_str().expect("utf-8 path"))
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    let _ = std::fs::remove_file(&event);
    run.assert_success();
    assert!(
        !paths(&fake).iter().any(|p| p.starts_with("/users/")),
        "no lookup of the owner's kind"
    );
}

#[test]
fn a_package_of_hundreds_of_versions_is_listed_across_pages() {
    let versions = (1..=260)
        .map(|id| image(id, 300 - id, &[&format!("build-{id}")]))
        .collect();
    let fake = FakeGitHub::start(accounts().package(container("acme", "big", versions)))
        .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "big")
        .input("keep-latest", "5")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), range(1, 255));
    assert_eq!(fake.active_ids("acme", "container", "big"), range(256, 260));
    let list_requests = paths(&fake)
        .into_iter()
        .filter(|p| p.contains("/versions?"))
        .count();
    assert_eq!(list_requests, 3, "260 versions at 100 a page");
    assert!(run.summary.contains("260 listed"), "{}", run.summary);
}

#[test]
fn package_names_with_a_slash_are_percent_encoded() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "team/app",
        vec![image(1, 50, &[]), image(2, 40, &["v2"])],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "team/app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "container", "team/app"), vec![2]);
    assert!(
        paths(&fake)
            .iter()
            .any(|p| p.contains("/container/team%2Fapp/versions/1"))
    );
}

fn three_packages() -> Seed {
    let package = |name: &str, first: u64| {
        container(
            "acme",
            name,
            vec![image(first, 50, &[]), image(first + 1, 40, &["v"])],
        )
    };
    accounts()
        .package(package("app-web", 1))
        .package(package("app-api", 3))
        .package(package("tools", 5))
}

#[test]
fn wildcard_package_names_expand_through_the_package_list() {
    let fake = FakeGitHub::start(three_packages()).expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app-*\ntools")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 3, 5]);
    let packages: Vec<String> = run
        .json()
        .iter()
        .map(|entry| entry["package"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(packages.contains(&"app-web".to_string()) && packages.contains(&"app-api".to_string()));
}

#[test]
fn a_wildcard_with_a_token_that_cannot_list_packages_fails_before_any_change() {
    let fake = FakeGitHub::start(three_packages()).expect("fake starts");
    let run = janitor(&fake, WORKFLOW_TOKEN)
        .input("packages", "app-*")
        .input("tag-state", "untagged")
        .run();
    run.assert_failure();
    assert!(
        run.log
            .contains("::error::input `packages`: `app-*` is a wildcard"),
        "{}",
        run.log
    );
    assert!(
        fake.requests()
            .iter()
            .all(|request| request.method == "GET")
    );
}

#[test]
fn a_package_the_token_cannot_see_fails_with_advice_and_the_rest_go_on() {
    let fake = FakeGitHub::start(three_packages()).expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "missing, tools")
        .input("tag-state", "untagged")
        .run();
    run.assert_failure();
    assert!(
        run.log
            .contains("package `missing` (container) was not found under /orgs/acme"),
        "{}",
        run.log
    );
    assert_eq!(run.ids(), vec![5], "the other package was still cleaned");
    assert!(
        run.summary.contains("**Not processed:**"),
        "{}",
        run.summary
    );
}
