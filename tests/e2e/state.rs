//! The run state (`state-file`): listings that span runs on a small primary budget,
//! refreshes that find new and restored versions, files that are not trusted, the manifest
//! cache, and several packages resumed in order.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use fake_github::{FakeGitHub, Limits, PackageSeed, PrimaryLimit, VersionSeed, days};
use package_janitor::state::FORMAT;

use crate::harness::{ALICE, Finished, accounts, container, image, janitor, range};

use crate::harness::{STATE, workspace};

/// An npm package of `count` versions, ids ascending with age (id 1 the oldest); the
/// `old` oldest are named `0.0.N` (the policy's), the rest `1.0.N`.
fn npm(name: &str, count: u64, old: u64) -> PackageSeed {
    npm_from(name, 0, count, old)
}

/// Like [`npm`], with ids from `base + 1` (ids are unique across packages).
fn npm_from(name: &str, base: u64, count: u64, old: u64) -> PackageSeed {
    PackageSeed::new("acme", "npm", name).versions(
        (1..=count)
            .map(|n| (n, base + n))
            .map(|(id, unique)| {
                let version = if id <= old {
                    format!("0.0.{id}")
                } else {
                    format!("1.0.{id}")
                };
                VersionSeed::new(unique, days(400) - Duration::from_secs(id * 60)).named(&version)
            })
            .collect(),
    )
}

/// `limit` requests an hour, refilled by `reset_budgets` (the clock moved on an hour).
fn fake(packages: Vec<PackageSeed>, limit: u32) -> FakeGitHub {
    let mut seed = accounts().limits(Limits {
        primary: PrimaryLimit::new(limit, limit, Duration::from_secs(3_600)),
        secondary: None,
    });
    for package in packages {
        seed = seed.package(package);
    }
    FakeGitHub::start(seed).expect("fake starts")
}

fn cleanup(fake: &FakeGitHub, dir: &std::path::Path, packages: &str) -> Finished {
    let run = janitor(fake, ALICE)
        .in_dir(dir)
        .input("package-type", "npm")
        .input("packages", packages)
        .input("tag-regex", r"^0\.0\.")
        .input("rate-limit-wait", "0s")
        .input("state-file", STATE)
        .run();
    run.assert_success();
    run
}

#[test]
fn a_listing_spans_three_runs_then_deletes_oldest_first_across_runs() {
    // 1,000 versions, 10 pages; 15 requests an hour leave 4 pages a run after the owner
    // lookup, page 1, the last page and the reserves.
    let fake = fake(vec![npm("lib", 1_000, 20)], 15);
    let dir = workspace();

    let first = cleanup(&fake, &dir, "lib");
    assert_eq!(first.outputs["count"], "0");
    assert_eq!(first.outputs["left-count"], "1000");
    assert!(
        first
            .log
            .contains("::warning::package `lib`: left for the next run: listing 5 of 10 pages"),
        "{}",
        first.log
    );
    assert!(
        first.summary.contains("listing 5 of 10 pages"),
        "{}",
        first.summary
    );
    assert!(dir.join(STATE).exists());

    fake.reset_budgets();
    let second = cleanup(&fake, &dir, "lib");
    assert_eq!(second.outputs["count"], "0");
    assert_ne!(second.outputs["left-count"], "0");
    assert!(
        second.log.contains("listing 9 of 10 pages"),
        "{}",
        second.log
    );

    let mut deleted_so_far = 0;
    for hour in 3..=8 {
        fake.reset_budgets();
        let run = cleanup(&fake, &dir, "lib");
        let ids = run.ids();
        assert!(
            ids.iter().all(|id| *id > deleted_so_far),
            "hour {hour}: oldest first, after the earlier runs: {ids:?}"
        );
        deleted_so_far = ids.last().copied().unwrap_or(deleted_so_far);
        if run.outputs["left-count"] == "0" {
            break;
        }
        assert!(
            !ids.is_empty(),
            "hour {hour} made no progress:\n{}",
            run.log
        );
    }
    assert_eq!(fake.deleted_ids("acme", "npm", "lib"), range(1, 20));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), range(21, 1_000));
    assert_eq!(
        fake.counters().primary_answers,
        0,
        "no run went over the budget"
    );
}

#[test]
fn versions_pushed_between_runs_are_refreshed_and_kept() {
    let fake = fake(vec![npm("lib", 1_000, 5)], 15);
    let dir = workspace();
    cleanup(&fake, &dir, "lib");
    fake.publish("acme", "npm", "lib", 2_001, "2.0.0");
    fake.publish("acme", "npm", "lib", 2_002, "2.0.1");

    let mut last = None;
    for _ in 0..4 {
        fake.reset_budgets();
        let run = cleanup(&fake, &dir, "lib");
        let done = run.outputs["left-count"] == "0";
        last = Some(run);
        if done {
            break;
        }
    }
    let last = last.expect("a run");
    assert_eq!(last.outputs["left-count"], "0", "{}", last.log);
    assert!(
        last.log.contains("1002 active versions listed"),
        "{}",
        last.log
    );
    assert!(!last.log.contains("listing starts again"), "{}", last.log);
    assert_eq!(fake.deleted_ids("acme", "npm", "lib"), range(1, 5));
    let active = fake.active_ids("acme", "npm", "lib");
    assert!(active.contains(&2_001) && active.contains(&2_002));
}

/// The saved listing is not trusted when its count adds up any more (issue 19): a version
/// restored by hand is found on the pages this run reads, and kept by the policy.
#[test]
fn a_version_restored_behind_the_runs_back_is_listed_from_the_pages_read_and_kept() {
    let mut package = npm("lib", 30, 10);
    // Deleted long ago by hand, outside the policy (it is not a 0.0.N version).
    package = package.version(
        VersionSeed::new(31, days(500))
            .named("1.0.old")
            .deleted(days(2)),
    );
    let fake = fake(vec![package], 1_000);
    let dir = workspace();
    let first = cleanup(&fake, &dir, "lib");
    assert_eq!(first.ids(), range(1, 10));

    fake.restore_behind("acme", "npm", "lib", 31);
    fake.publish("acme", "npm", "lib", 40, "1.0.40");
    let second = cleanup(&fake, &dir, "lib");
    assert!(
        second.log.contains("22 active versions listed"),
        "{}",
        second.log
    );
    assert!(
        !second.log.contains("listing starts again"),
        "{}",
        second.log
    );
    assert_eq!(
        second.ids(),
        Vec::<u64>::new(),
        "1.0.40 and the restored version are kept"
    );
    assert!(fake.active_ids("acme", "npm", "lib").contains(&31));
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).expect("in memory");
    encoder.finish().expect("in memory")
}

/// The bytes of a state file written before a run, made from the fake's address.
type StateBytes = Box<dyn Fn(&FakeGitHub) -> Vec<u8>>;

#[test]
fn a_corrupt_foreign_or_old_format_state_file_is_ignored_with_a_warning() {
    let api = |fake: &FakeGitHub| fake.url().trim_end_matches('/').to_string();
    let cases: [(&str, StateBytes, &str); 4] = [
        (
            "corrupt",
            Box::new(|_| b"\x1f\x8b garbage".to_vec()),
            "cannot be read",
        ),
        (
            "another owner",
            Box::new(move |fake| {
                gzip(&format!(
                    r#"{{"format":{FORMAT},"api":"{}","owner":"octo","finished":[],"packages":[]}}"#,
                    api(fake)
                ))
            }),
            "written for owner `octo`",
        ),
        (
            "another host",
            Box::new(|_| {
                gzip(&format!(
                    r#"{{"format":{FORMAT},"api":"https://ghes.example/api/v3","owner":"acme","finished":[],"packages":[]}}"#,
                ))
            }),
            "at https://ghes.example/api/v3",
        ),
        (
            "old format",
            Box::new(|_| gzip(r#"{"format":1,"api":"x","owner":"acme"}"#)),
            "has format 1",
        ),
    ];
    for (what, bytes, expected) in cases {
        let fake = fake(vec![npm("lib", 30, 3)], 1_000);
        let dir = workspace();
        std::fs::create_dir_all(dir.join(".package-janitor")).expect("dir");
        std::fs::write(dir.join(STATE), bytes(&fake)).expect("write");
        let run = cleanup(&fake, &dir, "lib");
        assert!(
            run.log.contains("::warning::input `state-file`: `.package-janitor/state` is ignored and the run starts afresh")
                && run.log.contains(expected),
            "{what}: {}",
            run.log
        );
        assert_eq!(run.ids(), range(1, 3), "{what}");
        let again = cleanup(&fake, &dir, "lib");
        assert!(
            !again.log.contains("is ignored"),
            "{what}: rewritten as ours"
        );
    }
}

/// Known digests are not read again: a saved claim of a plain image manifest is proven
/// with a `HEAD` (its media type), and only what the run would act on is read whole again
/// (a `HEAD` cannot tell whether it has a subject). Before issue 19, nothing was read again.
#[test]
fn known_digests_are_proven_by_media_type_and_only_what_would_go_is_read_again() {
    let versions = (1..=30)
        .map(|id| {
            if id % 3 == 0 {
                image(id, 100 - id, &[&format!("v{id}")])
            } else {
                image(id, 100 - id, &[])
            }
        })
        .collect();
    let fake = FakeGitHub::start(accounts().package(container("acme", "app", versions)))
        .expect("fake starts");
    let dir = workspace();
    // Answered ones: the first requests of a run meet the registry's token challenge.
    let manifest_requests = |fake: &FakeGitHub, method: &str| {
        fake.requests()
            .iter()
            .filter(|request| request.method == method && request.path.contains("/manifests/"))
            .filter(|request| request.status == 200)
            .count()
    };
    let run = || {
        let run = janitor(&fake, ALICE)
            .in_dir(&dir)
            .input("packages", "app")
            .input("tag-state", "untagged")
            .input("dry-run", "true")
            .input("state-file", STATE)
            .run();
        run.assert_success();
        run
    };
    let first = run();
    let after_first = manifest_requests(&fake, "GET");
    assert!(
        after_first >= 30,
        "every version's manifest read once: {after_first}"
    );
    let second = run();
    assert_eq!(
        manifest_requests(&fake, "GET") - after_first,
        20,
        "the 20 untagged versions the dry run would delete, read again:\n{}",
        second.log
    );
    assert_eq!(manifest_requests(&fake, "HEAD"), 10, "the 10 tagged ones");
    assert!(second.log.contains("0 manifests read"), "{}", second.log);
    assert!(
        second.log.contains("30 known from the state file"),
        "{}",
        second.log
    );
    assert!(
        second
            .log
            .contains("10 manifest claims checked by media type and 20 manifests read again"),
        "{}",
        second.log
    );
    assert_eq!(first.ids(), second.ids(), "the same plan");
}

#[test]
fn several_packages_are_resumed_unfinished_first() {
    // `a` fits one run; `b` (10 pages) does not, so the next run starts with `b`.
    let fake = fake(vec![npm("a", 30, 0), npm_from("b", 100, 1_000, 0)], 15);
    let dir = workspace();
    let versions_requests = |fake: &FakeGitHub| -> Vec<String> {
        fake.requests()
            .iter()
            .filter(|request| request.path.contains("/versions?"))
            .map(|request| request.path.clone())
            .collect()
    };
    let first = cleanup(&fake, &dir, "a, b");
    assert!(first.log.contains("listing"), "{}", first.log);
    let before = versions_requests(&fake).len();
    assert!(versions_requests(&fake)[0].contains("/npm/a/"));

    fake.reset_budgets();
    cleanup(&fake, &dir, "a, b");
    let second = &versions_requests(&fake)[before..];
    assert!(second[0].contains("/npm/b/"), "b first: {second:?}");
    assert!(
        second.iter().any(|path| path.contains("/npm/a/")),
        "then a: {second:?}"
    );
}

/// Every file under `dir` with its bytes, sorted.
fn files_under(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|entry| entry.expect("an entry").path())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a file");
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_state_is_never_written_outside_the_workspace_through_a_planted_link() {
    type Plant = fn(&std::path::Path, &std::path::Path);
    let tmp_link: Plant = |workspace, outside| {
        std::fs::create_dir_all(workspace.join(".package-janitor")).expect("dir");
        let tmp = workspace.join(format!("{STATE}.tmp"));
        std::os::unix::fs::symlink(outside.join("precious"), tmp).expect("link");
    };
    let folder_link: Plant = |workspace, outside| {
        std::os::unix::fs::symlink(outside, workspace.join(".package-janitor")).expect("link");
    };
    let cases = [
        ("a linked `<state-file>.tmp`", tmp_link, true),
        ("a linked state folder", folder_link, false),
    ];
    for (what, plant, saved) in cases {
        for dry_run in ["false", "true"] {
            let fake = fake(vec![npm("lib", 30, 3)], 1_000);
            let (dir, outside) = (workspace(), workspace());
            std::fs::write(outside.join("precious"), b"precious bytes").expect("write");
            plant(&dir, &outside);
            let before = files_under(&outside);

            let run = janitor(&fake, ALICE)
                .in_dir(&dir)
                .input("package-type", "npm")
                .input("packages", "lib")
                .input("tag-regex", r"^0\.0\.")
                .input("dry-run", dry_run)
                .input("state-file", STATE)
                .run();
            run.assert_success();
            let case = format!("{what}, dry-run {dry_run}");
            assert_eq!(files_under(&outside), before, "{case}: outside changed");
            assert_eq!(
                std::fs::read(outside.join("precious")).expect("still there"),
                b"precious bytes",
                "{case}"
            );
            let warned = run.log.lines().any(|line| {
                line.starts_with("::warning::input `state-file`: this run's state was not saved")
                    && line.contains("outside the workspace")
            });
            assert_eq!(warned, !saved, "{case}: {}", run.log);
            let state = std::fs::symlink_metadata(dir.join(STATE));
            assert_eq!(
                state.is_ok_and(|meta| meta.is_file()),
                saved,
                "{case}: saved inside the workspace"
            );
            if saved {
                let again = cleanup(&fake, &dir, "lib");
                assert!(!again.log.contains("state-file"), "{case}: {}", again.log);
            }
        }
    }
}
