//! Decide on what this run read (issue 19): with a `state-file`, what changed since the
//! state was saved (tags added or moved, versions restored or deleted by hand, a tampered
//! state file) never makes a run delete what a run without the state file keeps. Each test
//! runs the same history twice, with the state file and without it (the control), and
//! compares the fake's final state, the outputs and the summary.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use fake_github::{FakeGitHub, PackageSeed, VersionSeed, days};
use package_janitor::state::FORMAT;

use crate::harness::{
    ALICE, Finished, Janitor, STATE, Workspace, accounts, container, janitor, workspace,
};

/// Version `id` of a container package of hundreds, `id` 1 the oldest, all older than
/// 30 days (a minute apart from 400 days back).
fn version(id: u64) -> VersionSeed {
    VersionSeed::new(id, days(400) - Duration::from_secs(id * 60))
}

/// A container package `app` of 350 versions (4 listing pages): `special` decides the
/// seed of the ids it returns one for, the others are tagged `v<id>`.
fn package(special: impl Fn(u64) -> Option<VersionSeed>) -> PackageSeed {
    container(
        "acme",
        "app",
        (1..=350)
            .map(|id| special(id).unwrap_or_else(|| version(id).tags(&[&format!("v{id}")])))
            .collect(),
    )
}

/// The run that acts, on the fake as the history left it.
fn cleanup(fake: &FakeGitHub, dir: &Path, inputs: &[(&str, &str)], state: bool) -> Finished {
    let mut run: Janitor = janitor(fake, ALICE).in_dir(dir).input("packages", "app");
    for (name, value) in inputs {
        run = run.input(name, value);
    }
    if state {
        run = run.input("state-file", STATE);
    }
    let run = run.run();
    run.assert_success();
    run
}

/// The same history twice: with the state file a dry run saved before `change` (the
/// runs' state), and without one (the control). Returns each fake after its run, with it.
struct Twice {
    with_state: (FakeGitHub, Finished, Workspace),
    control: (FakeGitHub, Finished),
}

fn twice(
    seed: impl Fn() -> PackageSeed,
    inputs: &[(&str, &str)],
    change: impl Fn(&FakeGitHub, &Path),
) -> Twice {
    let fake = FakeGitHub::start(accounts().package(seed())).expect("fake starts");
    let dir = workspace();
    let mut dry = inputs.to_vec();
    dry.push(("dry-run", "true"));
    let saved = cleanup(&fake, &dir, &dry, true);
    assert!(dir.join(STATE).exists(), "{}", saved.log);
    change(&fake, &dir);
    let with_state = cleanup(&fake, &dir, inputs, true);

    let control_fake = FakeGitHub::start(accounts().package(seed())).expect("fake starts");
    let control_dir = workspace();
    change(&control_fake, &control_dir);
    let control = cleanup(&control_fake, &control_dir, inputs, false);
    Twice {
        with_state: (fake, with_state, dir),
        control: (control_fake, control),
    }
}

impl Twice {
    /// Both deleted exactly `expected`, and both fakes are left the same.
    #[track_caller]
    fn assert_both_deleted(&self, expected: &BTreeSet<u64>) {
        let (fake, run, _) = &self.with_state;
        let (control_fake, control) = &self.control;
        let ids: BTreeSet<u64> = run.ids().into_iter().collect();
        assert_eq!(&ids, expected, "with the state file:\n{}", run.log);
        let control_ids: BTreeSet<u64> = control.ids().into_iter().collect();
        assert_eq!(&control_ids, expected, "control:\n{}", control.log);
        assert_eq!(
            fake.active_ids("acme", "container", "app"),
            control_fake.active_ids("acme", "container", "app")
        );
        for (what, finished, fake) in [("state", run, fake), ("control", control, control_fake)] {
            assert_eq!(
                finished.outputs["left-count"], "0",
                "{what}: {}",
                finished.log
            );
            assert_eq!(
                fake.broken_images("acme", "app"),
                Vec::<String>::new(),
                "{what}"
            );
        }
    }

    /// The run with the state file took part of its listing from the state file, and
    /// read again the pages of what it deleted.
    #[track_caller]
    fn assert_state_used(&self) {
        let log = &self.with_state.1.log;
        assert!(
            log.contains("the rest is known from the state file"),
            "{log}"
        );
        assert!(log.contains("read again to confirm"), "{log}");
    }
}

fn range(first: u64, last: u64) -> BTreeSet<u64> {
    (first..=last).collect()
}

const UNTAGGED_OLD: &[(&str, &str)] = &[("tag-state", "untagged"), ("older-than", "30d")];

#[test]
fn a_build_promoted_by_a_retag_between_runs_is_kept() {
    // 101..=120 are untagged builds on listing page 3; 110 is promoted to v2.0 by a retag,
    // which keeps its id, its dates and its place in the listing.
    let seed = || package(|id| (101..=120).contains(&id).then(|| version(id)));
    let runs = twice(seed, UNTAGGED_OLD, |fake, _| {
        fake.add_tag("acme", "container", "app", 110, "v2.0");
    });
    let mut expected = range(101, 120);
    expected.remove(&110);
    runs.assert_both_deleted(&expected);
    runs.assert_state_used();
    let (fake, run, _) = &runs.with_state;
    assert_eq!(fake.tags_of("acme", "container", "app", 110), ["v2.0"]);
    assert!(fake.active_ids("acme", "container", "app").contains(&110));
    assert!(
        run.summary.contains("v2.0"),
        "kept, with its new tag: {}",
        run.summary
    );
    assert!(
        run.json().iter().all(|entry| entry["id"] != 110),
        "no entry for the promoted version: {}",
        run.outputs["json"]
    );
}

#[test]
fn a_release_tag_added_to_a_selected_pr_build_between_runs_keeps_it_by_the_exclude() {
    // 101..=120 are `pr-1` to `pr-20`; `pr-7` (107) is released as v1.9 between runs.
    let seed = || {
        package(|id| {
            (101..=120)
                .contains(&id)
                .then(|| version(id).tags(&[&format!("pr-{}", id - 100)]))
        })
    };
    let inputs = [("tag-regex", "^pr-"), ("exclude-tag-regex", "^v")];
    let runs = twice(seed, &inputs, |fake, _| {
        fake.add_tag("acme", "container", "app", 107, "v1.9");
    });
    let mut expected = range(101, 120);
    expected.remove(&107);
    runs.assert_both_deleted(&expected);
    runs.assert_state_used();
    let (fake, run, _) = &runs.with_state;
    assert_eq!(
        fake.tags_of("acme", "container", "app", 107),
        ["pr-7", "v1.9"]
    );
    assert!(
        run.summary.contains("matches exclude-tag-regex"),
        "{}",
        run.summary
    );
}

#[test]
fn a_tag_moved_between_runs_keeps_the_version_it_moved_to() {
    // `latest` moves from 300 (tagged v300 too) onto the untagged build 115.
    let seed = || {
        package(|id| match id {
            101..=120 => Some(version(id)),
            300 => Some(version(id).tags(&["v300", "latest"])),
            _ => None,
        })
    };
    let runs = twice(seed, UNTAGGED_OLD, |fake, _| {
        fake.move_tag("acme", "container", "app", "latest", 115);
    });
    let mut expected = range(101, 120);
    expected.remove(&115);
    runs.assert_both_deleted(&expected);
    runs.assert_state_used();
}

#[test]
fn a_restored_tagged_index_keeps_its_platform_images_though_the_count_is_unchanged() {
    // The index 200 (`v1.0`, on listing page 2) was deleted when the state was saved, so
    // its platform images 101 and 102 looked like orphans. Between runs it is restored and
    // another version (300, on page 1) deleted: the count adds up as before. Page 2 holds
    // nothing this run would delete, so it is not read: the registry's tags find 200.
    let seed = || {
        package(|id| match id {
            101 => Some(version(id).platform("linux/amd64")),
            102 => Some(version(id).platform("linux/arm64")),
            103..=120 => Some(version(id)),
            200 => Some(
                version(id)
                    .index(&[101, 102])
                    .tags(&["v1.0"])
                    .deleted(days(2)),
            ),
            _ => None,
        })
    };
    let runs = twice(seed, UNTAGGED_OLD, |fake, _| {
        fake.restore_behind("acme", "container", "app", 200);
        fake.delete_behind("acme", "container", "app", 300);
    });
    runs.assert_both_deleted(&range(103, 120));
    runs.assert_state_used();
    let (fake, run, _) = &runs.with_state;
    let active = fake.active_ids("acme", "container", "app");
    assert!(
        [101, 102, 200].iter().all(|id| active.contains(id)),
        "{active:?}"
    );
    assert!(
        run.log.contains("1 image tagged but not listed"),
        "the registry's tag list found the restored index: {}",
        run.log
    );
    assert!(
        run.summary
            .contains("tagged in the registry but not in this run's listing"),
        "{}",
        run.summary
    );
}

/// The state file at `dir`, its JSON changed by `tamper`.
pub(crate) fn tamper_state(dir: &Path, tamper: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(STATE);
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("state file"))
        .read_to_string(&mut json)
        .expect("gzip");
    let mut value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    tamper(&mut value);
    // serde_json writes object keys in order: put type and name first, as saved.
    let package = &value["packages"][0];
    let rest = serde_json::json!({
        "format": value["format"], "api": value["api"], "owner": value["owner"],
        "finished": value["finished"],
    });
    let text = format!(
        r#"{{"format":{},"api":{},"owner":{},"finished":{},"packages":[{{"type":{},"name":{},"total":{},"pages":{},"versions":{},"manifests":{}}}]}}"#,
        rest["format"],
        rest["api"],
        rest["owner"],
        rest["finished"],
        package["type"],
        package["name"],
        package["total"],
        package["pages"],
        package["versions"],
        package["manifests"]
    );
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).expect("in memory");
    std::fs::write(&path, encoder.finish().expect("in memory")).expect("write");
}

/// The manifest record of `digest` in a state file's JSON.
fn record<'a>(state: &'a mut serde_json::Value, digest: &str) -> &'a mut serde_json::Value {
    state["packages"][0]["manifests"]
        .as_array_mut()
        .expect("manifests")
        .iter_mut()
        .find(|record| record[0] == digest)
        .expect("the index's record")
}

#[test]
fn a_tampered_cached_manifest_of_a_kept_index_never_lets_its_children_go() {
    // The tagged index 10 lists the platform images 1 and 2; 3..=5 are untagged orphans.
    let seed = || {
        container(
            "acme",
            "app",
            vec![
                version(1).platform("linux/amd64"),
                version(2).platform("linux/arm64"),
                version(3),
                version(4),
                version(5),
                version(10).index(&[1, 2]).tags(&["v1"]),
            ],
        )
    };
    type Tamper = fn(&mut serde_json::Value);
    let emptied: Tamper = |record| {
        // The index's saved bytes, with its list of children emptied.
        let bytes = record[1]
            .as_str()
            .expect("the index is saved with its bytes");
        let mut index: serde_json::Value = serde_json::from_str(bytes).expect("JSON");
        index["manifests"] = serde_json::json!([]);
        record[1] = serde_json::Value::String(index.to_string());
    };
    let plain: Tamper = |record| {
        // Claimed to be a plain image manifest: no bytes to check.
        record[1] = serde_json::Value::Null;
    };
    for (what, tamper) in [("children emptied", emptied), ("claimed plain", plain)] {
        let runs = twice(seed, UNTAGGED_OLD, |fake, dir| {
            if dir.join(STATE).exists() {
                let index = fake.version_name("acme", "container", "app", 10);
                tamper_state(dir, |state| tamper(record(state, &index)));
            }
        });
        runs.assert_both_deleted(&range(3, 5));
        let (fake, run, _) = &runs.with_state;
        let active = fake.active_ids("acme", "container", "app");
        assert_eq!(active, [1, 2, 10], "{what}:\n{}", run.log);
        match what {
            "children emptied" => assert!(
                run.log
                    .contains("1 saved manifest does not hash to its digest"),
                "{what}: {}",
                run.log
            ),
            _ => assert!(
                run.log.contains("has no subject was false for 1 manifest"),
                "{what}: {}",
                run.log
            ),
        }
    }
}

#[test]
fn a_crafted_state_file_of_millions_of_records_is_dropped_early_in_bounded_memory() {
    const RECORDS: usize = 3_000_000;
    let seed = || {
        PackageSeed::new("acme", "npm", "lib").versions(
            (1..=30)
                .map(|id| {
                    let name = if id <= 3 {
                        format!("0.0.{id}")
                    } else {
                        format!("1.0.{id}")
                    };
                    VersionSeed::new(id, days(400) - Duration::from_secs(id * 60)).named(&name)
                })
                .collect(),
        )
    };
    let fake = FakeGitHub::start(accounts().package(seed())).expect("fake starts");
    let dir = workspace();
    let mut json = format!(
        r#"{{"format":{FORMAT},"api":"{}","owner":"acme","finished":[],"packages":[{{"type":"npm","name":"lib","total":{RECORDS},"pages":[30000,30000],"versions":["#,
        fake.url().trim_end_matches('/')
    );
    for id in 0..RECORDS {
        if id > 0 {
            json.push(',');
        }
        json.push_str(&format!(r#"[{id},"",null,0,0]"#));
    }
    json.push_str(r#"],"manifests":[]}]}"#);
    std::fs::create_dir_all(dir.join(".package-janitor")).expect("dir");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(json.as_bytes()).expect("in memory");
    let bytes = encoder.finish().expect("in memory");
    drop(json);
    std::fs::write(dir.join(STATE), &bytes).expect("write");
    let inputs = || {
        janitor(&fake, ALICE)
            .in_dir(&dir)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("tag-regex", r"^0\.0\.")
    };
    let (run, peak_kib) = inputs().input("state-file", STATE).spawn().wait_measured();
    run.assert_success();
    assert!(
        run.log
            .contains("package `lib`: its saved listing is ignored and it is listed afresh")
            && run.log.contains("more than 1125 versions"),
        "{}",
        run.log
    );
    assert_eq!(run.ids(), [1, 2, 3]);
    assert!(
        run.summary.contains("3 deleted") || run.summary.contains("Deleted"),
        "{}",
        run.summary
    );
    // Loaded whole, 3 million versions took over 300 MiB; capped, the run stays small.
    assert!(
        peak_kib < 100 * 1024,
        "peak RSS {peak_kib} KiB for a {} byte crafted state file",
        bytes.len()
    );

    let control_fake = FakeGitHub::start(accounts().package(seed())).expect("fake starts");
    let control = janitor(&control_fake, ALICE)
        .in_dir(&workspace())
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("tag-regex", r"^0\.0\.")
        .run();
    control.assert_success();
    assert_eq!(control.ids(), run.ids());
    assert_eq!(
        fake.active_ids("acme", "npm", "lib"),
        control_fake.active_ids("acme", "npm", "lib")
    );
}

#[test]
fn a_package_whose_listing_comes_partly_from_the_state_file_is_never_deleted_whole() {
    // 600 npm versions (6 pages), all selected; 40 requests an hour. The second run reads
    // page 1 and the last page, which hold all its budget can delete: pages 2 to 5 only
    // come from the state file, so `delete-empty-packages` deletes version by version.
    let seed = || {
        accounts()
            .limits(fake_github::Limits {
                primary: fake_github::PrimaryLimit::new(40, 40, Duration::from_secs(3_600)),
                secondary: None,
            })
            .package(
                PackageSeed::new("acme", "npm", "lib").versions(
                    (1..=600)
                        .map(|id| {
                            VersionSeed::new(id, days(400) - Duration::from_secs(id * 60))
                                .named(&format!("0.0.{id}"))
                        })
                        .collect(),
                ),
            )
    };
    let fake = FakeGitHub::start(seed()).expect("fake starts");
    let dir = workspace();
    let run = |dry: bool| {
        let mut run = janitor(&fake, ALICE)
            .in_dir(&dir)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("tag-regex", r"^0\.0\.")
            .input("delete-empty-packages", "true")
            .input("rate-limit-wait", "0s")
            .input("state-file", STATE);
        if dry {
            run = run.input("dry-run", "true");
        }
        let run = run.run();
        run.assert_success();
        run
    };
    let first = run(true);
    assert!(
        first.log.contains("600 active versions listed"),
        "{}",
        first.log
    );
    fake.reset_budgets();
    let second = run(false);
    assert!(
        !fake.package_deleted("acme", "npm", "lib"),
        "{}",
        second.log
    );
    // The versions of the pages not read are not confirmed, so the policy does not select
    // every version in this run: the package is not even a candidate to go whole.
    assert!(
        second.log.contains("2 pages of 6 read in this run"),
        "{}",
        second.log
    );
    let unconfirmed = second
        .json()
        .iter()
        .filter(|entry| {
            entry["reason"]
                .as_str()
                .is_some_and(|reason| reason.starts_with("not confirmed by this run's listing"))
        })
        .count();
    assert_eq!(unconfirmed, 400, "{}", second.outputs["json"]);
    let deleted = fake.deleted_ids("acme", "npm", "lib");
    assert!(!deleted.is_empty(), "{}", second.log);
    assert_eq!(second.ids(), deleted, "version by version, oldest first");
    assert_eq!(deleted[0], 1);
    assert_ne!(second.outputs["left-count"], "0");
}
