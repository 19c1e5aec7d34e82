//! Owners and package names: orgs, users through `/users` and `/user`, pagination, wildcards.

use fake_github::{FakeGitHub, OwnerSeed, PackageSeed, Seed, TokenSeed, UsersListing, days};

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

/// bob's npm package `tool`, linked to `bob/tool`, listed through `/users/bob` as `listing`
/// says: versions 1..=10 (10 newest), of which 9, 6 and 2 were deleted 1, 3 and 9 days ago.
fn bobs_tool(listing: UsersListing) -> FakeGitHub {
    let versions = (1..=10)
        .map(|id| {
            let version = release(id, 30 - id, &format!("1.0.{id}"));
            match id {
                9 => version.deleted(days(1)),
                6 => version.deleted(days(3)),
                2 => version.deleted(days(9)),
                _ => version,
            }
        })
        .collect();
    let seed = Seed::new()
        .token(TokenSeed::github_token(BOBS_WORKFLOW, "bob/tool"))
        .owner(OwnerSeed::user("bob").users_listing(listing))
        .package(
            PackageSeed::new("bob", "npm", "tool")
                .repository("bob/tool")
                .versions(versions),
        );
    FakeGitHub::start(seed).expect("fake starts")
}

const BOBS_WORKFLOW: &str = "ghs_bob_workflow";

/// What a run decided and reported, without what differs between two fakes (timestamps):
/// the outputs but `json`, each `json` entry's id, outcome and reason, the headline, and
/// the fake's active and deleted ids after it.
fn plan_of(run: &Finished, fake: &FakeGitHub) -> String {
    let mut outputs = run.outputs.clone();
    outputs.remove("json");
    let entries: Vec<String> = run
        .json()
        .iter()
        .map(|entry| format!("{} {} {}", entry["id"], entry["outcome"], entry["reason"]))
        .collect();
    let headline = run
        .log
        .lines()
        .find(|line| line.starts_with("package-janitor: "))
        .unwrap_or_default()
        .to_string();
    format!(
        "{outputs:?}\n{entries:#?}\n{headline}\nactive {:?} deleted {:?}",
        fake.active_ids("bob", "npm", "tool"),
        fake.deleted_ids("bob", "npm", "tool"),
    )
}

#[test]
fn a_users_listing_that_ignores_page_per_page_and_state_gives_the_same_plan() {
    let cleanup = |fake: &FakeGitHub| {
        janitor(fake, BOBS_WORKFLOW)
            .env("GITHUB_REPOSITORY_OWNER", "bob")
            .input("package-type", "npm")
            .input("packages", "tool")
            .input("older-than", "1d")
            .input("keep-latest", "3")
            .run()
    };
    let restore = |fake: &FakeGitHub| {
        janitor(fake, BOBS_WORKFLOW)
            .env("GITHUB_REPOSITORY_OWNER", "bob")
            .input("package-type", "npm")
            .input("packages", "tool")
            .input("mode", "restore")
            .input("deleted-within", "5d")
            .run()
    };
    for (mode, act) in [
        ("delete", &cleanup as &dyn Fn(&FakeGitHub) -> Finished),
        ("restore", &restore),
    ] {
        let honoured = bobs_tool(UsersListing::Honours);
        let run = act(&honoured);
        run.assert_success();
        let expected = plan_of(&run, &honoured);
        let ids = match mode {
            "delete" => vec![1, 3, 4, 5],
            _ => vec![6, 9],
        };
        assert_eq!(run.ids(), ids, "{mode}:\n{}", run.log);
        for listing in [UsersListing::OnePage, UsersListing::OwnPages(3)] {
            let ignoring = bobs_tool(listing);
            let run = act(&ignoring);
            run.assert_success();
            assert_eq!(
                plan_of(&run, &ignoring),
                expected,
                "{mode}, {listing:?}:\n{}",
                run.log
            );
            let listed: Vec<String> = paths(&ignoring)
                .into_iter()
                .filter(|path| path.starts_with("/users/bob/packages/npm/tool/versions?"))
                .collect();
            match listing {
                UsersListing::OwnPages(_) => assert_eq!(listed.len(), 4, "{listed:?}"),
                _ => assert_eq!(listed.len(), 1, "{listed:?}"),
            }
        }
    }
}
