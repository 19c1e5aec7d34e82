//! `mode: audit`: broken images, orphans and images of seeded packages, found without
//! changing anything; `fail-on-broken`; the orphans equal a `delete-orphans` dry run's ids;
//! the Mermaid graph; non-container packages and the Docker-migration conflicts note.

use fake_github::{FakeGitHub, PackageSeed, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

/// A healthy buildx image `v1` (ids 1–5), a tag `v2` whose arm64 manifest was deleted behind
/// the API's back (10–12), a ghost (20), a partial push (21, 22), a signature and a referrers
/// index of a gone image (30, 40; 31 gone), a superseded index with its child (50, 51).
fn sick() -> Vec<VersionSeed> {
    vec![
        v(2, 10).platform("linux/amd64"),
        v(3, 10).platform("linux/arm64"),
        v(4, 10).attestation_for(2),
        v(5, 10).attestation_for(3),
        v(1, 10).index(&[2, 3, 4, 5]).tags(&["v1"]),
        v(6, 9).cosign_signature_of(1),
        v(11, 8).platform("linux/amd64"),
        v(12, 8).platform("linux/arm64").gone(),
        v(10, 8).index(&[11, 12]).tags(&["v2"]),
        v(20, 30),
        v(21, 31).platform("linux/amd64"),
        v(22, 31).platform("linux/arm64"),
        v(31, 40).gone(),
        v(30, 40).cosign_signature_of(31),
        v(40, 40).referrers_of(31, &[]),
        v(51, 50).platform("linux/amd64"),
        v(50, 50).index(&[51]),
    ]
}

const ORPHANS: [u64; 7] = [20, 21, 22, 30, 40, 50, 51];

fn start(versions: Vec<VersionSeed>) -> FakeGitHub {
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

fn audit(fake: &FakeGitHub) -> crate::harness::Janitor {
    janitor(fake, ALICE)
        .input("packages", "app")
        .input("mode", "audit")
}

fn broken(run: &Finished) -> Vec<serde_json::Value> {
    serde_json::from_str(&run.outputs["broken"]).expect("broken is a JSON array")
}

#[test]
fn an_audit_finds_exactly_the_seeded_broken_tags_and_orphans_and_changes_nothing() {
    let fake = start(sick());
    let before = fake.active_ids("acme", "container", "app");
    let run = audit(&fake).run();
    run.assert_success();
    let broken = broken(&run);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0]["package"], "app");
    assert_eq!(broken[0]["tag"], "v2");
    assert_eq!(broken[0]["id"], 10);
    let missing = broken[0]["missing"].as_array().expect("missing digests");
    assert_eq!(missing.len(), 1);
    let listed: Vec<String> = before
        .iter()
        .map(|id| fake.version_name("acme", "container", "app", *id))
        .collect();
    assert!(!listed.contains(&missing[0].as_str().unwrap_or_default().to_string()));
    assert!(
        broken[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("not in the package")
    );
    let orphans: Vec<u64> = {
        let mut ids: Vec<u64> = run.outputs["orphans"]
            .split(',')
            .filter_map(|id| id.parse().ok())
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(orphans, ORPHANS.to_vec());
    assert_eq!(run.outputs["count"], "7");
    let json = run.json();
    assert_eq!(json.len(), before.len());
    let entry = |id: u64| {
        json.iter()
            .find(|entry| entry["id"] == id)
            .unwrap_or_else(|| panic!("no json entry for {id}"))
            .clone()
    };
    assert_eq!(entry(2)["role"], "platform manifest linux/amd64");
    assert_eq!(entry(2)["parent_ids"], serde_json::json!([1]));
    assert_eq!(entry(2)["reachable"], true);
    assert_eq!(entry(51)["reachable"], false);
    assert_eq!(entry(20)["role"], "untagged manifest");
    assert!(run.summary.contains("> [!CAUTION]"), "{}", run.summary);
    assert!(run.summary.contains("❌ broken: `v2`"), "{}", run.summary);
    assert!(
        run.summary.contains("<details><summary>7 orphans"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| `v1` | 10d | linux/amd64, linux/arm64 | yes | yes |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| ❌ broken: `v2` | 8d | linux/amd64, linux/arm64 (missing) | no | no |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("15 versions (5 tagged, 10 untagged): 2 images, 4 platform manifests, 5 artifacts, 7 orphans, 1 broken"),
        "{}",
        run.summary
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), before);
    let mutations: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|request| request.method != "GET" && request.method != "HEAD")
        .collect();
    assert!(mutations.is_empty(), "{mutations:?}");
    let rest: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|request| !request.path.starts_with("/v2/") && !request.path.starts_with("/token"))
        .map(|request| request.path)
        .collect();
    assert!(
        rest.iter().all(|path| path.contains("/versions?")
            || path.ends_with("/docker/conflicts")
            || !path.contains("/packages")),
        "only listing spends the REST budget: {rest:?}"
    );
}

#[test]
fn fail_on_broken_makes_a_broken_image_exit_1_with_an_error_per_tag() {
    let fake = start(sick());
    let run = audit(&fake).input("fail-on-broken", "true").run();
    run.assert_failure();
    assert!(
        run.log
            .contains("::error::package `app`: tag `v2` (version 10) cannot be pulled whole"),
        "{}",
        run.log
    );
    let healthy = start(
        sick()
            .into_iter()
            .filter(|v| ![10, 11, 12].contains(&v.id))
            .collect(),
    );
    audit(&healthy)
        .input("fail-on-broken", "true")
        .run()
        .assert_success();
}

#[test]
fn audit_orphans_are_exactly_what_a_delete_orphans_dry_run_would_delete() {
    let fake = start(sick());
    let audited = audit(&fake).run();
    audited.assert_success();
    let dry = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .input("delete-orphans", "true")
        .input("dry-run", "true")
        .run();
    dry.assert_success();
    let mut orphans: Vec<u64> = audited.outputs["orphans"]
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect();
    orphans.sort_unstable();
    assert_eq!(orphans, dry.ids());
}

#[test]
fn filter_inputs_do_not_apply_to_an_audit_and_each_gets_a_warning() {
    let fake = start(sick());
    let run = audit(&fake)
        .input("tag-regex", "^v1$")
        .input("older-than", "1y")
        .run();
    run.assert_success();
    assert!(
        run.log
            .contains("::warning::input `tag-regex` does not apply"),
        "{}",
        run.log
    );
    assert!(
        run.log
            .contains("::warning::input `older-than` does not apply"),
        "{}",
        run.log
    );
    assert_eq!(run.outputs["count"], "7");
}

#[test]
fn the_mermaid_graph_is_drawn_for_a_small_package_and_not_for_a_large_one() {
    let fake = start(sick());
    let run = audit(&fake).run();
    run.assert_success();
    assert!(
        run.summary.contains("```mermaid\ngraph LR\n"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("\"v1\""), "{}", run.summary);
    assert!(
        run.summary.contains("-.->|\"broken: linux/arm64\"|"),
        "{}",
        run.summary
    );

    let many: Vec<VersionSeed> = (1..=31)
        .map(|id| v(id, id).tags(&[&format!("v{id}")]))
        .collect();
    let large = start(many);
    let run = audit(&large).run();
    run.assert_success();
    assert!(
        !run.summary.contains("```mermaid\ngraph"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("```mermaid\npie\n"),
        "the storage pie is drawn at any size:\n{}",
        run.summary
    );
    assert!(run.summary.contains("31 images"), "{}", run.summary);
}

#[test]
fn a_non_container_audit_counts_versions_and_notes_docker_conflicts() {
    let fake = FakeGitHub::start(
        accounts()
            .package(
                PackageSeed::new("acme", "npm", "lib")
                    .repository("acme/app")
                    .versions(vec![release(1, 40, "1.0.0"), release(2, 2, "1.1.0")]),
            )
            .package(PackageSeed::new("acme", "docker", "legacy").docker_conflict()),
    )
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "lib")
        .input("package-type", "npm")
        .input("mode", "audit")
        .run();
    run.assert_success();
    assert!(run.summary.contains("2 versions"), "{}", run.summary);
    assert_eq!(run.outputs["broken"], "[]");
    assert_eq!(run.outputs["count"], "0");
    assert_eq!(run.json().len(), 2);
    assert!(
        run.summary
            .contains("Docker-migration conflicts (1): `legacy`"),
        "{}",
        run.summary
    );

    let run = janitor(&fake, WORKFLOW_TOKEN)
        .input("owner", "acme")
        .input("packages", "lib")
        .input("package-type", "npm")
        .input("mode", "audit")
        .run();
    run.assert_success();
    assert!(
        run.summary
            .contains("Docker-migration conflicts were not checked: this token cannot read them"),
        "{}",
        run.summary
    );
}

/// A healthy signed buildx image `v1` (1–6), a single-platform `v3` (7) and a ghost (20).
fn healthy() -> Vec<VersionSeed> {
    let mut versions: Vec<VersionSeed> = sick().into_iter().filter(|v| v.id <= 6).collect();
    versions.push(v(7, 3).tags(&["v3"]));
    versions.push(v(20, 30));
    versions
}

fn verified_cleanup(fake: &FakeGitHub) -> Finished {
    janitor(fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .input("verify", "true")
        .run()
}

#[test]
fn verify_after_a_clean_run_reports_every_kept_tag_whole() {
    let fake = start(healthy());
    let run = verified_cleanup(&fake);
    run.assert_success();
    assert_eq!(run.ids(), vec![20]);
    assert_eq!(run.outputs["broken"], "[]");
    assert!(
        run.summary.ends_with("\nverified: 2 tags pull whole\n"),
        "{}",
        run.summary
    );
}

#[test]
fn verify_after_a_tag_was_broken_behind_its_back_reports_exactly_that_tag_as_found_and_fails() {
    let mut versions = healthy();
    versions.extend(sick().into_iter().filter(|v| [10, 11, 12].contains(&v.id)));
    let fake = start(versions);
    let run = verified_cleanup(&fake);
    run.assert_failure();
    assert_eq!(run.ids(), vec![20], "the cleanup itself went through");
    let broken = broken(&run);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0]["tag"], "v2");
    assert_eq!(broken[0]["id"], 10);
    assert_eq!(broken[0]["missing"].as_array().map(Vec::len), Some(1));
    // Broken before the run (12 was removed behind its back): found, not caused.
    assert_eq!(broken[0]["caused_by_this_run"], false, "{broken:?}");
    assert_eq!(
        broken[0]["deleted_ids"],
        serde_json::json!([]),
        "{broken:?}"
    );
    let error = run
        .log
        .lines()
        .find(|line| line.starts_with("::error::verify: package `app`: kept tag `v2`"))
        .unwrap_or_else(|| panic!("no error for v2 in\n{}", run.log));
    assert!(
        error.starts_with(
            "::error::verify: package `app`: kept tag `v2` (version 10) does not pull whole: "
        ),
        "{error}"
    );
    assert!(
        error.contains("Found, not caused: this run deleted nothing it needs"),
        "{error}"
    );
    assert!(!error.contains("no longer"), "{error}");
    assert!(
        !run.log.contains("mode: restore"),
        "no advice to restore this run's ids for damage it did not do:\n{}",
        run.log
    );
    assert!(
        run.summary.contains(
            "verify: 1 of 3 kept tags were found not pulling whole; this run deleted nothing they need"
        ),
        "{}",
        run.summary
    );
    assert!(
        !run.summary.contains("no longer pull whole"),
        "{}",
        run.summary
    );
    assert!(
        !run.summary.contains("tags pull whole\n"),
        "{}",
        run.summary
    );
}

#[test]
fn hostile_tags_reach_the_audit_summary_and_graph_as_inert_text() {
    let hostile = "v1<img src=x>\"]-->n0";
    let fake = start(vec![
        v(11, 8).platform("linux/amd64"),
        v(12, 8).platform("linux/arm64").gone(),
        v(10, 8).index(&[11, 12]).tags(&[hostile]),
    ]);
    let run = audit(&fake).run();
    run.assert_success();
    assert!(!run.summary.contains("<img"), "{}", run.summary);
    assert!(!run.summary.contains("\"]-->n0"), "{}", run.summary);
    assert!(
        run.summary
            .contains("[\"v1#60;img src=x#62;#34;#93;--#62;n0\"]"),
        "{}",
        run.summary
    );
    assert_eq!(broken(&run)[0]["tag"], hostile);
}
