//! GitHub's known refusals are skipped with a warning; other failures fail the run at the end.

use fake_github::{FakeGitHub, PackageSeed, TokenSeed};

use crate::harness::*;

#[test]
fn the_last_version_of_a_package_is_skipped_with_a_warning() {
    let fake =
        FakeGitHub::start(accounts().package(
            PackageSeed::new("acme", "npm", "lib").versions(vec![release(1, 50, "1.0.0")]),
        ))
        .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("older-than", "1d")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![1]);
    assert_eq!(run.ids(), Vec::<u64>::new());
    assert_eq!(
        run.outcome_of(1),
        "skipped: You cannot delete the last version of a package. You must delete the package instead."
    );
    assert!(
        run.log
            .contains("::warning::lib: 1 1.0.0: skipped: You cannot delete the last version"),
        "{}",
        run.log
    );
    assert!(run.summary.contains("1 skipped"), "{}", run.summary);
}

#[test]
fn the_last_tagged_container_version_is_skipped_after_the_older_ones_go() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 50, &["v1"]),
            image(2, 40, &["v2"]),
            image(3, 30, &[]),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "tagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1]);
    assert!(
        run.outcome_of(2)
            .starts_with("skipped: You cannot delete the last tagged version")
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2, 3]);
}

#[test]
fn a_public_version_with_more_than_5000_downloads_is_skipped_and_the_rest_go_on() {
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "npm", "popular")
                .public()
                .versions(vec![
                    release(1, 90, "1.0.0").downloads(120_000),
                    release(2, 80, "1.1.0").downloads(10),
                    release(3, 10, "2.0.0"),
                ]),
        ),
    )
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "popular")
        .input("older-than", "30d")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![2]);
    assert!(
        run.outcome_of(1).starts_with(
            "skipped: Publicly visible package versions with more than 5000 downloads"
        )
    );
    assert_eq!(fake.active_ids("acme", "npm", "popular"), vec![1, 3]);
}

#[test]
fn a_version_deleted_by_someone_else_after_listing_is_skipped_as_already_gone() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 50, &[]),
            image(2, 40, &[]).deleted_concurrently(),
            image(3, 30, &[]),
            image(4, 20, &["v4"]),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 3]);
    assert_eq!(
        run.outcome_of(2),
        "skipped: already gone (Package not found.)"
    );
    assert!(run.log.contains("::warning::app: 2 "), "{}", run.log);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![4]);
}

#[test]
fn a_forbidden_delete_fails_that_version_and_the_run_exits_1_after_trying_the_rest() {
    // Bob's token has every scope (so the scope check lets it start) but bob does not
    // administer acme's public package: GitHub refuses each delete with 403.
    let seed = accounts()
        .token(TokenSeed::pat(
            "ghp_bob",
            "bob",
            &["read:packages", "write:packages", "delete:packages"],
        ))
        .package(
            container(
                "acme",
                "app",
                vec![image(1, 50, &[]), image(2, 40, &[]), image(3, 30, &["v3"])],
            )
            .public(),
        );
    let fake = FakeGitHub::start(seed).expect("fake starts");
    let run = janitor(&fake, "ghp_bob")
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_failure();
    assert_eq!(run.failed_ids(), vec![1, 2]);
    assert_eq!(run.ids(), Vec::<u64>::new());
    assert!(
        run.outcome_of(1).starts_with(
            "failed: DELETE /orgs/acme/packages/container/app/versions/1 answered 403"
        )
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);
    assert!(
        run.log.contains("2 versions and 0 packages failed"),
        "{}",
        run.log
    );
    assert!(run.summary.contains("2 failed"), "{}", run.summary);
}

#[test]
fn a_rejected_token_stops_the_run_with_advice() {
    let fake = FakeGitHub::start(accounts()).expect("fake starts");
    let run = janitor(&fake, "ghp_expired").input("packages", "app").run();
    run.assert_failure();
    assert!(
        run.log
            .contains("::error::input `token` was rejected by GitHub"),
        "{}",
        run.log
    );
    assert!(!run.log.contains("ghp_expired"));
}
