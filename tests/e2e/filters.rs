//! Each policy filter, on real runs: what is deleted, what stays, what is reported.

use fake_github::{FakeGitHub, PackageSeed};

use crate::harness::*;

fn start(package: PackageSeed) -> FakeGitHub {
    FakeGitHub::start(accounts().package(package)).expect("fake starts")
}

#[test]
fn tag_regex_deletes_only_versions_with_a_matching_tag() {
    let fake = start(container(
        "acme",
        "app",
        vec![
            image(1, 50, &["pr-1"]),
            image(2, 40, &["pr-2", "sha-abc"]),
            image(3, 30, &["v1.0"]),
            image(4, 20, &["latest", "v1.1"]),
            image(5, 10, &[]),
        ],
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![3, 4, 5]);
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![1, 2]);
    assert_eq!(run.ids(), vec![1, 2]);
    assert_eq!(run.outputs["count"], "2");
    assert_eq!(run.outputs["failed-ids"], "");
    assert_eq!(run.outcome_of(2), "deleted");
    assert_eq!(run.json()[0]["package"], "app");
    assert!(
        run.summary.contains("| 2 | pr-2, sha-abc |"),
        "{}",
        run.summary
    );
}

#[test]
fn tag_regex_is_never_matched_against_the_digest() {
    let fake = start(container(
        "acme",
        "app",
        vec![
            image(1, 50, &[]),
            image(2, 40, &["v1"]),
            image(3, 30, &["v2"]),
        ],
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^sha256:")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new());
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);
}

#[test]
fn version_regex_selects_npm_versions_by_name() {
    let fake = start(PackageSeed::new("acme", "npm", "lib").versions(vec![
        release(11, 60, "1.0.0"),
        release(12, 50, "1.1.0-rc.1"),
        release(13, 40, "1.1.0"),
        release(14, 30, "2.0.0-rc.1"),
        release(15, 20, "2.0.0-rc.2"),
    ]));
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("tag-regex", r"-rc\.\d+$")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![11, 13]);
    assert_eq!(run.ids(), vec![12, 14, 15]);
    assert_eq!(run.json()[0]["name"], "1.1.0-rc.1", "oldest first");
}

#[test]
fn older_than_deletes_versions_not_updated_within_the_duration() {
    let fake = start(container(
        "acme",
        "app",
        vec![
            image(1, 60, &["a"]),
            image(2, 60, &["b"]).updated(fake_github::days(5)),
            image(3, 31, &["c"]),
            image(4, 29, &["d"]),
            image(5, 1, &["e"]),
        ],
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .run();
    run.assert_success();
    assert_eq!(
        run.ids(),
        vec![1, 3],
        "measured from updated_at, not created_at"
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2, 4, 5]);
    assert!(run.summary.contains("older-than 30days"), "{}", run.summary);
}

#[test]
fn tag_state_untagged_deletes_only_untagged_versions() {
    let fake = start(container(
        "acme",
        "app",
        vec![
            image(1, 50, &[]),
            image(2, 40, &["v1"]),
            image(3, 30, &[]),
            image(4, 20, &["v2"]),
        ],
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 3]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2, 4]);
}

#[test]
fn keep_latest_keeps_the_newest_of_the_matching_versions() {
    let fake = start(container(
        "acme",
        "app",
        (1..=6)
            .map(|id| image(id, 100 - id * 10, &[&format!("v{id}")]))
            .chain([image(7, 1, &["dev"])])
            .collect(),
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^v")
        .input("keep-latest", "2")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 2, 3, 4]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![5, 6, 7]);
    assert!(run.summary.contains("keep-latest 2"), "{}", run.summary);
}

#[test]
fn exclude_tag_regex_protects_latest_whatever_else_matches() {
    let fake = start(container(
        "acme",
        "app",
        vec![
            image(1, 90, &["v1", "latest"]),
            image(2, 80, &["v2"]),
            image(3, 70, &["v3", "stable"]),
        ],
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "1d")
        .input("exclude-tag-regex", "^(latest|stable)$")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![2]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3]);
}

#[test]
fn dry_run_changes_nothing_but_reports_the_same_ids_a_real_run_acts_on() {
    let versions = || {
        vec![
            image(1, 50, &["pr-1"]),
            image(2, 40, &[]),
            image(3, 30, &["pr-3"]),
            image(4, 5, &["pr-4"]),
        ]
    };
    let fake = start(container("acme", "app", versions()));
    let dry = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("older-than", "7d")
        .input("dry-run", "true")
        .run();
    dry.assert_success();
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3, 4]
    );
    assert!(
        fake.requests()
            .iter()
            .all(|request| request.method == "GET"),
        "a dry run only reads"
    );
    assert_eq!(dry.outcome_of(1), "would delete");
    assert!(dry.log.contains("\n1 pr-1: would delete\n"), "{}", dry.log);
    assert!(
        dry.log
            .contains("::group::container package app: dry run, would delete 2 versions")
    );
    assert!(dry.summary.contains("dry run"), "{}", dry.summary);

    let real = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("older-than", "7d")
        .run();
    real.assert_success();
    assert_eq!(dry.ids(), real.ids());
    assert_eq!(real.ids(), vec![1, 3]);
}

#[test]
fn filters_combine_with_and() {
    let fake = start(container(
        "acme",
        "app",
        vec![
            image(1, 50, &["pr-1"]),
            image(2, 3, &["pr-2"]),
            image(3, 50, &["v3"]),
            image(4, 50, &["pr-4", "keep"]),
        ],
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("older-than", "2w")
        .input("exclude-tag-regex", "^keep$")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1]);
}

#[test]
fn max_versions_refuses_to_change_anything_when_exceeded() {
    let fake = start(container(
        "acme",
        "app",
        (1..=5)
            .map(|id| image(id, 50, &[&format!("pr-{id}")]))
            .chain([image(6, 1, &["v1"])])
            .collect(),
    ));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("max-versions", "3")
        .run();
    run.assert_failure();
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 6));
    assert_eq!(run.ids(), Vec::<u64>::new());
    assert!(
        run.outcome_of(1)
            .starts_with("skipped: 5 versions would be affected")
    );
    assert!(
        run.log.contains("::error::input `max-versions`"),
        "{}",
        run.log
    );
    // Said once, above the table; each row says what the run would have done.
    assert_eq!(
        run.summary.matches("more than max-versions (3)").count(),
        1,
        "{}",
        run.summary
    );
    let caution = run
        .summary
        .find("[!CAUTION]")
        .expect("the refusal is shown");
    let table = run.summary.find("| id |").expect("the table is shown");
    assert!(caution < table, "{}", run.summary);
    let selected = &run.summary[table..];
    let selected = &selected[..selected.find("<details>").unwrap_or(selected.len())];
    let rows: Vec<&str> = selected
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| id"))
        .collect();
    assert_eq!(rows.len(), 5, "{}", run.summary);
    for row in rows {
        assert!(row.ends_with("| would delete |"), "{row}");
    }
    assert!(!run.summary.contains("skipped:"), "{}", run.summary);

    let within = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("max-versions", "5")
        .run();
    within.assert_success();
    assert_eq!(within.ids(), vec![1, 2, 3, 4, 5]);
}
