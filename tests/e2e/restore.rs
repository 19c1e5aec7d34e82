//! Restore mode: by deleted-within, and the undo of a previous run through its `ids` output.

use fake_github::{FakeGitHub, PackageSeed, VersionSeed, days};

use crate::harness::*;

#[test]
fn deleted_within_restores_only_recent_deletions() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 60, &["v1"]),
            image(2, 50, &["v2"]).deleted(days(2)),
            image(3, 40, &["v3"]).deleted(days(6)),
            image(4, 30, &["v4"]).deleted(days(10)),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("mode", "restore")
        .input("deleted-within", "7d")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![2, 3]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![4]);
    assert_eq!(run.outcome_of(3), "restored");
    assert!(
        run.json()[0]["deleted_at"].is_string(),
        "restore entries carry deleted_at"
    );
    assert!(
        fake.requests()
            .iter()
            .any(|request| request.path.contains("state=deleted")),
        "restore lists deleted versions"
    );
}

#[test]
fn a_previous_runs_ids_output_undoes_that_run() {
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "npm", "lib").versions(
                (1..=8)
                    .map(|id| release(id, 100 - id, &format!("1.0.{id}")))
                    .chain([VersionSeed::new(9, days(200))
                        .named("0.9.0")
                        .deleted(days(3))])
                    .collect(),
            ),
        ),
    )
    .expect("fake starts");
    let cleanup = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "3")
        .run();
    cleanup.assert_success();
    assert_eq!(cleanup.ids(), range(1, 5));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), range(6, 8));

    let undo = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .input("version-ids", &cleanup.outputs["ids"])
        .run();
    undo.assert_success();
    assert_eq!(undo.ids(), range(1, 5));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), range(1, 8));
    assert_eq!(
        fake.deleted_ids("acme", "npm", "lib"),
        vec![9],
        "a deletion the cleanup did not make stays deleted"
    );
}

#[test]
fn version_ids_accept_a_json_array_and_combine_with_filters() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 60, &["v1"]).deleted(days(1)),
            image(2, 50, &["pr-2"]).deleted(days(1)),
            image(3, 40, &["pr-3"]).deleted(days(1)),
            image(4, 30, &["v4"]),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("mode", "restore")
        .input("version-ids", "[1, 2]")
        .input("tag-regex", "^pr-")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![2]);
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![1, 3]);
}

#[test]
fn versions_deleted_more_than_30_days_ago_are_skipped_as_not_restorable() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 90, &["v1"]),
            image(2, 80, &["v2"]).deleted(days(5)),
            image(3, 70, &["v3"]).deleted(days(40)),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("mode", "restore")
        .run();
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2]);
    assert_eq!(run.ids(), vec![2]);
    assert!(
        run.outcome_of(3).starts_with("skipped: not found"),
        "{}",
        run.outcome_of(3)
    );
    run.assert_success();
}
