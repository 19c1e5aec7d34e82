//! Whole packages: `delete-empty-packages` deletes a package the policy empties with one
//! request, and restore mode brings back a deleted package before its versions.

use std::time::Duration;

use fake_github::{
    FakeGitHub, Faults, Limits, PackageSeed, PrimaryLimit, RecordedRequest, Seed, VersionSeed, days,
};
use serde_json::Value;

use crate::harness::workspace;
use crate::harness::*;

const LIB: &str = "/orgs/acme/packages/npm/lib";

/// An npm package `name` of `acme` with versions 1.0.`id`, `age` days old.
fn npm(name: &str, versions: &[(u64, u64)]) -> PackageSeed {
    PackageSeed::new("acme", "npm", name).versions(
        versions
            .iter()
            .map(|&(id, age)| release(id, age, &format!("1.0.{id}")))
            .collect(),
    )
}

fn start(packages: Vec<PackageSeed>) -> FakeGitHub {
    let seed = packages
        .into_iter()
        .fold(accounts(), |seed, package| seed.package(package));
    FakeGitHub::start(seed).expect("fake starts")
}

/// A cleanup of every npm version older than a day of `packages`.
fn cleanup(fake: &FakeGitHub, packages: &str) -> Janitor {
    janitor(fake, ALICE)
        .input("package-type", "npm")
        .input("packages", packages)
        .input("older-than", "1d")
}

/// The mutating requests the fake answered, as `METHOD path status`.
fn mutations(fake: &FakeGitHub) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|request| request.method != "GET")
        .map(
            |RecordedRequest {
                 method,
                 path,
                 status,
                 ..
             }| format!("{method} {path} {status}"),
        )
        .collect()
}

/// The `json` entries with `"scope": "package"`.
fn package_entries(run: &Finished) -> Vec<Value> {
    run.json()
        .into_iter()
        .filter(|entry| entry["scope"] == "package")
        .collect()
}

#[test]
fn a_policy_that_selects_every_version_deletes_the_package_only_with_the_input() {
    let versions = [(1, 30), (2, 20), (3, 10)];

    let fake = start(vec![npm("lib", &versions)]);
    let without = cleanup(&fake, "lib").run();
    without.assert_success();
    assert_eq!(without.ids(), vec![1, 2]);
    assert!(
        without
            .outcome_of(3)
            .starts_with("skipped: You cannot delete the last version"),
        "{}",
        without.outcome_of(3)
    );
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert!(package_entries(&without).is_empty());
    assert!(
        !mutations(&fake)
            .iter()
            .any(|m| m.starts_with(&format!("DELETE {LIB} ")))
    );

    let fake = start(vec![npm("lib", &versions)]);
    let with = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .run();
    with.assert_success();
    assert!(fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(mutations(&fake), vec![format!("DELETE {LIB} 204")]);
    assert_eq!(with.ids(), vec![1, 2, 3], "the undo input stays the same");
    assert_eq!(with.outputs["count"], "3");
    for id in [1, 2, 3] {
        assert_eq!(with.outcome_of(id), "deleted (with its package)");
    }
    let whole = package_entries(&with);
    assert_eq!(whole.len(), 1, "{}", with.outputs["json"]);
    assert_eq!(whole[0]["package"], "lib");
    assert_eq!(whole[0]["outcome"], "deleted");
    assert_eq!(whole[0]["id"], Value::Null);
    assert_eq!(whole[0]["version_ids"], serde_json::json!([1, 2, 3]));
    assert_eq!(with.json()[1]["scope"], "version");
    assert!(
        with.summary.contains("deleted with its package"),
        "{}",
        with.summary
    );
    assert!(with.summary.contains("3 deleted"), "{}", with.summary);
}

#[test]
fn max_versions_counts_the_versions_of_a_package_deleted_whole() {
    let fake = start(vec![npm("lib", &[(1, 30), (2, 20), (3, 10)])]);
    let run = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .input("max-versions", "2")
        .run();
    run.assert_failure();
    assert!(
        run.log.contains("3 versions would be affected"),
        "{}",
        run.log
    );
    assert!(mutations(&fake).is_empty(), "{:?}", mutations(&fake));
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![1, 2, 3]);

    let allowed = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .input("max-versions", "3")
        .run();
    allowed.assert_success();
    assert!(fake.package_deleted("acme", "npm", "lib"));
}

#[test]
fn a_dry_run_says_it_would_delete_the_package_and_changes_nothing() {
    let fake = start(vec![npm("lib", &[(1, 30), (2, 20)])]);
    let run = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .input("dry-run", "true")
        .run();
    run.assert_success();
    assert!(mutations(&fake).is_empty(), "{:?}", mutations(&fake));
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(run.ids(), vec![1, 2]);
    assert_eq!(run.outcome_of(1), "would delete (with its package)");
    let whole = package_entries(&run);
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0]["outcome"], "would delete the package");
    assert!(
        run.summary.contains("would delete the package"),
        "{}",
        run.summary
    );
    assert!(
        run.log.contains("lib: would delete the package"),
        "{}",
        run.log
    );
}

#[test]
fn the_ids_of_a_whole_package_delete_undo_it() {
    let fake = start(vec![PackageSeed::new("acme", "npm", "lib").versions(vec![
        release(1, 30, "1.0.1"),
        release(2, 20, "1.0.2"),
        release(9, 40, "0.9.0").deleted(days(5)),
    ])]);
    let cleanup = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .run();
    cleanup.assert_success();
    assert!(fake.package_deleted("acme", "npm", "lib"));

    let undo = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .input("version-ids", &cleanup.outputs["ids"])
        .run();
    undo.assert_success();
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![1, 2]);
    assert_eq!(
        fake.deleted_ids("acme", "npm", "lib"),
        vec![9],
        "a version deleted before the package stays deleted"
    );
    assert_eq!(undo.ids(), vec![1, 2]);
    assert_eq!(undo.outcome_of(1), "restored (with its package)");
    let whole = package_entries(&undo);
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0]["outcome"], "restored");
    assert_eq!(whole[0]["version_ids"], serde_json::json!([1, 2]));
    let requests: Vec<String> = fake
        .requests()
        .iter()
        .skip_while(|request| request.method != "DELETE")
        .skip(1)
        .map(|request| format!("{} {} {}", request.method, request.path, request.status))
        .collect();
    let restore = requests
        .iter()
        .position(|request| *request == format!("POST {LIB}/restore 204"))
        .unwrap_or_else(|| panic!("no package restore: {requests:#?}"));
    assert!(
        requests[restore - 1].starts_with(&format!("GET {LIB}/versions?"))
            && requests[restore - 1].ends_with(" 404"),
        "the restore follows a listing that found no package: {requests:#?}"
    );
    assert!(
        requests[restore + 1..]
            .iter()
            .all(|request| request.starts_with("GET ")),
        "the ids came back with the package: {requests:#?}"
    );
    assert!(
        undo.summary
            .contains("restored; 2 versions came back with it"),
        "{}",
        undo.summary
    );
}

#[test]
fn deleted_within_restores_a_deleted_package_and_its_recently_deleted_versions() {
    let fake = start(vec![
        PackageSeed::new("acme", "npm", "lib")
            .versions(vec![
                release(1, 60, "1.0.1"),
                release(2, 50, "1.0.2").deleted(days(3)),
                release(3, 40, "1.0.3").deleted(days(20)),
            ])
            .deleted(days(1)),
    ]);
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .input("deleted-within", "7d")
        .run();
    run.assert_success();
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![1, 2]);
    assert_eq!(fake.deleted_ids("acme", "npm", "lib"), vec![3]);
    assert_eq!(run.ids(), vec![1, 2]);
    assert_eq!(run.outcome_of(1), "restored (with its package)");
    assert_eq!(run.outcome_of(2), "restored");
    assert_eq!(package_entries(&run)[0]["outcome"], "restored");
    assert!(
        mutations(&fake).contains(&format!("POST {LIB}/restore 204")),
        "{:?}",
        mutations(&fake)
    );
}

#[test]
fn several_deleted_packages_of_one_name_need_the_package_restore_token() {
    let deleted = |id: u64, token: &str| {
        PackageSeed::new("acme", "npm", "lib")
            .version(release(id, 30, &format!("1.0.{id}")))
            .deleted(days(id))
            .restore_token(token)
    };
    let fake = start(vec![
        deleted(1, "pkg-token-one"),
        deleted(2, "pkg-token-two"),
    ]);
    let restore = || {
        janitor(&fake, ALICE)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("mode", "restore")
    };

    let without = restore().run();
    without.assert_failure();
    assert!(fake.package_deleted("acme", "npm", "lib"));
    assert!(
        without.log.contains("set `package-restore-token`"),
        "{}",
        without.log
    );
    assert!(
        package_entries(&without)[0]["outcome"]
            .as_str()
            .is_some_and(|outcome| outcome
                .starts_with("failed: POST /orgs/acme/packages/npm/lib/restore answered 409")),
        "{}",
        without.outputs["json"]
    );

    let with = restore()
        .input("package-restore-token", "pkg-token-two")
        .run();
    with.assert_success();
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![2]);
    assert_eq!(with.ids(), vec![2]);
    assert!(
        mutations(&fake).contains(&format!("POST {LIB}/restore?token=pkg-token-two 204")),
        "{:?}",
        mutations(&fake)
    );
    let told = format!("{}{}{:?}", with.log, with.summary, with.outputs);
    assert!(!told.contains("pkg-token-two"), "the token leaked: {told}");
}

#[test]
fn a_package_with_a_kept_version_is_never_deleted_whole() {
    let fake = start(vec![npm("lib", &[(1, 30), (2, 20), (3, 10)])]);
    let run = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .input("keep-latest", "1")
        .run();
    run.assert_success();
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![3]);
    assert_eq!(run.ids(), vec![1, 2]);
    assert_eq!(run.outcome_of(1), "deleted");
    assert!(package_entries(&run).is_empty());
    assert_eq!(
        mutations(&fake),
        vec![
            format!("DELETE {LIB}/versions/1 204"),
            format!("DELETE {LIB}/versions/2 204"),
        ]
    );
}

#[test]
fn a_refused_package_delete_is_skipped_with_a_warning_and_the_versions_go_one_by_one() {
    let fake = start(vec![
        PackageSeed::new("acme", "npm", "lib")
            .public()
            .versions(vec![
                release(1, 30, "1.0.1").downloads(9_000),
                release(2, 20, "1.0.2"),
                release(3, 10, "1.0.3"),
            ]),
    ]);
    let run = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .run();
    run.assert_success();
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    let whole = package_entries(&run);
    assert!(
        whole[0]["outcome"]
            .as_str()
            .is_some_and(|outcome| outcome.starts_with("skipped: GitHub refused to delete the package: Publicly visible packages with more than 5000 downloads")),
        "{}",
        run.outputs["json"]
    );
    assert!(
        run.log
            .contains("::warning::lib: the package was not deleted whole"),
        "{}",
        run.log
    );
    assert_eq!(mutations(&fake)[0], format!("DELETE {LIB} 400"));
    assert_eq!(run.ids(), vec![2, 3]);
    assert!(
        run.outcome_of(1)
            .starts_with("skipped: Publicly visible package versions")
    );
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![1]);
}

#[test]
fn under_a_wildcard_a_package_goes_whole_only_when_every_package_it_matches_does() {
    let fake = start(vec![
        npm("lib-a", &[(1, 30), (2, 20)]),
        npm("lib-b", &[(3, 30), (4, 0)]),
        npm("app-x", &[(5, 30)]),
        npm("app-y", &[(6, 30), (7, 20)]),
    ]);
    let run = cleanup(&fake, "lib-*, app-*")
        .input("delete-empty-packages", "true")
        .run();
    run.assert_success();
    assert!(fake.package_deleted("acme", "npm", "app-x"));
    assert!(fake.package_deleted("acme", "npm", "app-y"));
    assert!(!fake.package_deleted("acme", "npm", "lib-a"));
    assert!(!fake.package_deleted("acme", "npm", "lib-b"));
    assert_eq!(fake.active_ids("acme", "npm", "lib-a"), vec![2]);
    assert!(
        run.outcome_of(2)
            .starts_with("skipped: You cannot delete the last version"),
        "{}",
        run.outcome_of(2)
    );
    assert_eq!(fake.active_ids("acme", "npm", "lib-b"), vec![4]);
    assert!(
        run.log.contains("the wildcard `lib-*` also found `lib-b`"),
        "{}",
        run.log
    );
    let whole: Vec<Value> = package_entries(&run)
        .into_iter()
        .map(|entry| entry["package"].clone())
        .collect();
    assert_eq!(whole, vec!["app-x", "app-y"]);
    assert_eq!(run.ids(), vec![1, 3, 5, 6, 7]);
}

#[test]
fn a_multi_arch_image_and_everything_that_goes_with_it_empty_the_package_for_a_workflow_token() {
    let (amd64, arm64) = (2, 3);
    let fake = start(vec![container(
        "acme",
        "app",
        vec![
            VersionSeed::new(amd64, days(10)).platform("linux/amd64"),
            VersionSeed::new(arm64, days(10)).platform("linux/arm64"),
            VersionSeed::new(4, days(10)).attestation_for(amd64),
            VersionSeed::new(1, days(10))
                .index(&[amd64, arm64, 4])
                .tags(&["v1"]),
        ],
    )]);
    let run = janitor(&fake, WORKFLOW_TOKEN)
        .input("packages", "app")
        .input("tag-regex", "^v1$")
        .input("delete-empty-packages", "true")
        .run();
    run.assert_success();
    assert!(fake.package_deleted("acme", "container", "app"));
    assert_eq!(
        mutations(&fake),
        vec!["DELETE /orgs/acme/packages/container/app 204".to_string()]
    );
    assert_eq!(run.ids(), vec![1, 2, 3, 4]);
    assert_eq!(run.outcome_of(2), "deleted (with its package)");
    assert_eq!(
        run.json()
            .iter()
            .find(|entry| entry["id"] == 2)
            .map(|entry| entry["parent_id"].clone()),
        Some(Value::from(1)),
        "a platform manifest is still reported with its image"
    );
}

#[test]
fn a_restore_dry_run_does_not_restore_a_deleted_package_and_says_what_a_real_run_would_do() {
    let fake = start(vec![npm("lib", &[(1, 30)]).deleted(days(1))]);
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .input("dry-run", "true")
        .run();
    run.assert_failure();
    assert!(mutations(&fake).is_empty(), "{:?}", mutations(&fake));
    assert!(fake.package_deleted("acme", "npm", "lib"));
    assert!(
        run.log.contains(
            "If the package itself was deleted, a run without `dry-run` restores it first."
        ),
        "{}",
        run.log
    );
}

#[test]
fn a_restore_of_a_live_package_neither_looks_the_package_up_nor_restores_it() {
    let fake = start(vec![npm("lib", &[(1, 30), (2, 20)])]);
    let deleted = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("version-ids", "1")
        .run();
    deleted.assert_success();
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1]);
    assert!(package_entries(&run).is_empty());
    let sent: Vec<String> = fake
        .requests()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert!(
        !sent.contains(&format!("GET {LIB}"))
            && !sent.iter().any(|request| request.ends_with("/lib/restore")),
        "no package lookup, no package restore: {sent:#?}"
    );
}

/// Where a run with a state file keeps it, inside its workspace.
const STATE: &str = ".package-janitor/state";

/// `run` with a state file in `dir` when there is one, as the runner would start it there.
fn with_state(run: Janitor, dir: Option<&std::path::Path>) -> Janitor {
    match dir {
        Some(dir) => run.in_dir(dir).input("state-file", STATE),
        None => run,
    }
}

#[test]
fn a_version_published_while_earlier_packages_are_deleted_never_goes_with_its_package() {
    for state_file in [true, false] {
        let fake = start(vec![
            npm("app", &[(1, 30), (2, 20), (3, 0)]),
            npm("lib", &[(11, 30), (12, 20), (13, 10)]),
        ]);
        // A push lands while `app` is being cleaned: after its first DELETE.
        fake.publish_after_deletes(1, "acme", "npm", "lib", 19, "2.0.0");
        let dir = workspace();
        let cleanup = cleanup(&fake, "app, lib").input("delete-empty-packages", "true");
        let run = with_state(cleanup, state_file.then_some(&*dir)).run();
        run.assert_success();
        let case = if state_file { "with" } else { "without" };

        assert!(!fake.package_deleted("acme", "npm", "lib"), "{case}");
        assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![19], "{case}");
        assert_eq!(fake.deleted_ids("acme", "npm", "lib"), vec![11, 12, 13]);
        assert_eq!(fake.deleted_ids("acme", "npm", "app"), vec![1, 2]);
        assert_eq!(
            run.ids(),
            vec![1, 2, 11, 12, 13],
            "{case}: exactly what went"
        );
        assert_eq!(run.outputs["count"], "5");
        for id in [11, 12, 13] {
            assert_eq!(run.outcome_of(id), "deleted", "{case}");
        }
        let sent = mutations(&fake);
        assert!(
            !sent
                .iter()
                .any(|m| m.starts_with(&format!("DELETE {LIB} "))),
            "{case}: no package DELETE: {sent:?}"
        );
        let requests = fake.requests();
        let first_delete = requests
            .iter()
            .position(|r| r.method == "DELETE")
            .expect("a DELETE");
        assert!(
            requests[first_delete..]
                .iter()
                .any(|r| r.method == "GET" && r.path.starts_with(&format!("{LIB}/versions?"))),
            "{case}: the listing is read again after the earlier deletes: {requests:#?}"
        );
        let whole = package_entries(&run);
        assert_eq!(whole.len(), 1, "{}", run.outputs["json"]);
        let outcome = whole[0]["outcome"].as_str().unwrap_or_default();
        assert!(
            outcome.starts_with("skipped: not deleted whole: the listing read again")
                && outcome.contains("1 version new since it was planned (19)"),
            "{case}: {outcome}"
        );
        assert!(
            run.summary
                .contains("1 version new since it was planned (19)"),
            "{case}: {}",
            run.summary
        );
        assert!(
            run.log.lines().any(|line| line.starts_with("::warning::")
                && line.contains("lib: skipped: not deleted whole: the listing read again")),
            "{case}: {}",
            run.log
        );
    }
}

#[test]
fn a_container_package_that_gains_a_version_during_the_run_is_left_alone() {
    for state_file in [true, false] {
        let fake = start(vec![
            container("acme", "app", vec![image(1, 30, &[]), image(2, 1, &["v1"])]),
            container(
                "acme",
                "tools",
                vec![image(11, 30, &[]), image(12, 20, &[])],
            ),
        ]);
        // A push to `tools` lands while `app` is being cleaned.
        fake.publish_after_deletes(1, "acme", "container", "tools", 19, "sha256:new");
        let dir = workspace();
        let cleanup = janitor(&fake, ALICE)
            .input("packages", "app, tools")
            .input("tag-state", "untagged")
            .input("delete-empty-packages", "true");
        let run = with_state(cleanup, state_file.then_some(&*dir)).run();
        run.assert_success();
        let case = if state_file { "with" } else { "without" };

        assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![1]);
        assert!(
            !fake.package_deleted("acme", "container", "tools"),
            "{case}"
        );
        assert_eq!(
            fake.active_ids("acme", "container", "tools"),
            vec![11, 12, 19],
            "{case}: nothing in it is deleted in this run"
        );
        assert!(
            !mutations(&fake)
                .iter()
                .any(|m| m.contains("/container/tools")),
            "{case}: {:?}",
            mutations(&fake)
        );
        assert_eq!(run.ids(), vec![1], "{case}");
        for id in [11, 12] {
            assert!(
                run.outcome_of(id)
                    .starts_with("skipped: a version was pushed or changed in its container package during the run"),
                "{case}: {}",
                run.outcome_of(id)
            );
        }
        let whole = package_entries(&run);
        let outcome = whole[0]["outcome"].as_str().unwrap_or_default();
        assert!(
            outcome.contains("1 version new since it was planned (19)")
                && outcome.contains("nothing in the package is deleted in this run"),
            "{case}: {outcome}"
        );
    }
}

#[test]
fn a_package_deleted_whole_is_reported_with_exactly_the_versions_listed_again() {
    let fake = start(vec![npm("lib", &[(1, 30), (2, 20), (3, 10)])]);
    let run = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .run();
    run.assert_success();
    assert!(fake.package_deleted("acme", "npm", "lib"));
    let requests: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.method,
                r.path.split('?').next().unwrap_or_default()
            )
        })
        .collect();
    let versions = format!("GET {LIB}/versions");
    assert_eq!(
        requests[requests.len() - 3..],
        [versions.clone(), versions, format!("DELETE {LIB}")],
        "listed, listed again just before, then deleted: {requests:#?}"
    );
    assert!(
        run.log
            .contains("lib: deleted the package, with its 3 versions"),
        "{}",
        run.log
    );
}

#[test]
fn a_package_is_never_deleted_whole_when_the_budget_cannot_cover_reading_it_again() {
    // 8 requests left: the owner and the listing take 2, the reserve keeps 5, so 1 is
    // usable, and reading the listing again and the DELETE would take 2.
    let fake = FakeGitHub::start(
        accounts()
            .package(npm("lib", &[(1, 30), (2, 20), (3, 10)]))
            .limits(Limits {
                primary: PrimaryLimit::new(1000, 8, Duration::from_secs(3_600)),
                secondary: None,
            }),
    )
    .expect("fake starts");
    let run = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .input("rate-limit-wait", "0s")
        .run();
    run.assert_success();
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    let listings = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(&format!("{LIB}/versions?")))
        .count();
    assert_eq!(
        listings, 1,
        "not read again on a budget that cannot cover it"
    );
    assert!(
        !mutations(&fake)
            .iter()
            .any(|m| m.starts_with(&format!("DELETE {LIB} "))),
        "{:?}",
        mutations(&fake)
    );
    let whole = package_entries(&run);
    let outcome = whole[0]["outcome"].as_str().unwrap_or_default();
    assert!(
        outcome.starts_with("skipped: not deleted whole: reading its listing again")
            && outcome.contains("the primary rate limit has 1 left")
            && outcome.ends_with("its versions are handled one by one"),
        "{outcome}"
    );
    assert_eq!(run.ids(), fake.deleted_ids("acme", "npm", "lib"));
}

#[test]
fn a_version_restored_and_another_deleted_between_runs_keeps_the_package() {
    for state_file in [true, false] {
        let fake = start(vec![PackageSeed::new("acme", "npm", "lib").versions(vec![
            release(1, 30, "1.0.1"),
            release(2, 20, "1.0.2"),
            release(3, 10, "1.0.3"),
            // A release, deleted by mistake, that the policy keeps.
            release(9, 500, "2.0.0").deleted(days(5)),
        ])]);
        let dir = workspace();
        let case = if state_file { "with" } else { "without" };
        let cleanup = || {
            let run = cleanup(&fake, "lib")
                .input("delete-empty-packages", "true")
                .input("exclude-tag-regex", r"^2\.");
            with_state(run, state_file.then_some(&*dir))
        };
        let first = cleanup().input("dry-run", "true").run();
        first.assert_success();
        assert_eq!(first.outcome_of(1), "would delete (with its package)");

        // Between runs: 2.0.0 comes back, and 1.0.3 goes; the package still has 3 versions.
        fake.restore_behind("acme", "npm", "lib", 9);
        janitor(&fake, ALICE)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("version-ids", "3")
            .run()
            .assert_success();
        assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![1, 2, 9]);

        let second = cleanup().run();
        second.assert_success();
        assert!(!fake.package_deleted("acme", "npm", "lib"), "{case}");
        assert_eq!(
            fake.active_ids("acme", "npm", "lib"),
            vec![9],
            "{case}: the restored release survives"
        );
        assert!(
            !mutations(&fake)
                .iter()
                .any(|m| m.starts_with(&format!("DELETE {LIB} "))),
            "{case}: {:?}",
            mutations(&fake)
        );
        assert_eq!(second.ids(), vec![1, 2], "{case}");
        assert!(package_entries(&second).is_empty(), "{case}");
        // The one page is read again in this run (issue 19): the restored release is
        // listed, so the policy does not select every version, with or without the state
        // file, and the saved listing never makes the package look fully selected.
        let from_state = "its listing was carried on from the state file";
        assert!(
            !second.summary.contains(from_state),
            "{case}: {}",
            second.summary
        );
        assert!(!second.log.contains(from_state), "{case}: {}", second.log);
    }
}

/// A fake where the answer to `method path` comes 30 s after it was handled.
fn slow(packages: Vec<PackageSeed>, method: &str, path: &str) -> FakeGitHub {
    let seed = packages
        .into_iter()
        .fold(accounts(), Seed::package)
        .faults(Faults {
            slow_answers: [(format!("{method} {path}"), Duration::from_secs(30))].into(),
            ..Faults::default()
        });
    FakeGitHub::start(seed).expect("fake starts")
}

/// The one package entry of a run cut off while its package `request` was in flight,
/// checked to say that the package `may` have been changed all the same, there, in the
/// summary and in the log.
fn assert_cut_off(run: &Finished, request: &str, may: &str) -> Value {
    run.assert_failure();
    let whole = package_entries(run);
    assert_eq!(whole.len(), 1, "{}", run.outputs["json"]);
    let outcome = whole[0]["outcome"].as_str().unwrap_or_default();
    let cancelled = format!("failed: cancelled (SIGTERM or SIGINT) while the package {request}");
    assert!(
        outcome.starts_with(&cancelled) && outcome.contains(may),
        "{outcome}"
    );
    assert!(run.summary.contains(may), "{}", run.summary);
    assert!(run.summary.contains("cut short"), "{}", run.summary);
    assert!(
        run.log
            .lines()
            .any(|line| line.starts_with("::warning::") && line.contains(may)),
        "{}",
        run.log
    );
    whole[0].clone()
}

#[test]
fn sigterm_during_the_package_delete_ends_within_the_grace_and_says_it_may_have_been_deleted() {
    let fake = slow(
        vec![npm("lib", &[(1, 30), (2, 20), (3, 10)])],
        "DELETE",
        LIB,
    );
    let running = cleanup(&fake, "lib")
        .input("delete-empty-packages", "true")
        .spawn();
    // The fake deletes at once and answers 30 s later.
    let run = running.terminate_when("the package DELETE", || {
        fake.package_deleted("acme", "npm", "lib")
    });

    let may = "may have been deleted";
    let whole = assert_cut_off(&run, "DELETE", may);
    assert_eq!(whole["version_ids"], serde_json::json!([1, 2, 3]));
    for id in [1, 2, 3] {
        assert!(run.outcome_of(id).contains(may), "{}", run.outcome_of(id));
    }
    assert_eq!(run.ids(), Vec::<u64>::new(), "nothing is claimed done");
    assert!(
        run.log
            .lines()
            .any(|line| line.starts_with("::error::") && line.contains(may)),
        "{}",
        run.log
    );
    assert_eq!(
        mutations(&fake),
        Vec::<String>::new(),
        "the DELETE was never answered, and nothing was sent after it"
    );
}

#[test]
fn sigterm_during_the_package_restore_ends_within_the_grace_and_says_it_may_have_been_restored() {
    let fake = slow(
        vec![npm("lib", &[(1, 30)]).deleted(days(1))],
        "POST",
        &format!("{LIB}/restore"),
    );
    let running = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .spawn();
    // The fake restores at once and answers 30 s later.
    let run = running.terminate_when("the package restore", || {
        !fake.package_deleted("acme", "npm", "lib")
    });

    assert_cut_off(&run, "restore", "may have been restored");
    assert!(
        !run.log.contains("was not found"),
        "a cut-off restore is not a missing package: {}",
        run.log
    );
    let listings = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(&format!("{LIB}/versions")))
        .count();
    assert_eq!(listings, 1, "not listed again after the cancel");
}
