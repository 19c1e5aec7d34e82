//! Storage figures against the fake, whose manifests carry sizes: what a dry run would free
//! is what the real run frees, the outputs are exact integers, the audit's bytes add up and
//! equal what a `delete-orphans` cleanup frees, a run with a state file gives them exactly
//! when it read what they rest on and leaves them empty with the reason when not, absurd
//! sizes are reported rather than summed, and packages without sizes say so.

use fake_github::{CONFIG_BYTES, FakeGitHub, LAYER_BYTES, PackageSeed, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

const BASE: i128 = 30_000_000;

/// A tagged two-platform release `v1` (1 over 2 and 3), an old untagged image 20 on the
/// release's base layer, and an old superseded index 30 over 31 with a cosign signature 32.
fn release_and_leftovers() -> Vec<VersionSeed> {
    vec![
        v(2, 5)
            .platform("linux/amd64")
            .layers(&[("base", BASE), ("v1-amd64", 2_000_000)]),
        v(3, 5)
            .platform("linux/arm64")
            .layers(&[("base-arm", 28_000_000), ("v1-arm64", 2_100_000)]),
        v(1, 5).index(&[2, 3]).tags(&["v1"]),
        v(20, 40).layers(&[("base", BASE), ("old", 5_000_000)]),
        v(31, 45)
            .platform("linux/amd64")
            .layers(&[("base", BASE), ("superseded", 700_000)]),
        v(30, 45).index(&[31]),
        v(32, 45)
            .cosign_signature_of(30)
            .layers(&[("signature", 333)]),
    ]
}

/// What deleting 20, 30, 31 and 32 frees: their own layers and configs (index 30 stores
/// none), never the base layer the release still lists.
const FREED: u64 = 5_000_000 + 700_000 + 333 + 3 * CONFIG_BYTES;

/// What the release holds: both platforms' layers and configs, the base layer once.
const KEPT: u64 = 30_000_000 + 2_000_000 + 28_000_000 + 2_100_000 + 2 * CONFIG_BYTES;

fn start(versions: Vec<VersionSeed>) -> FakeGitHub {
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

fn untagged_cleanup(fake: &FakeGitHub, dry_run: bool) -> Finished {
    let run = janitor(fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .input("older-than", "30d")
        .input("dry-run", if dry_run { "true" } else { "false" })
        .run();
    run.assert_success();
    run
}

/// The first line after the summary's heading, without its bold.
fn headline(summary: &str) -> &str {
    summary
        .lines()
        .find(|line| line.starts_with("**"))
        .map(|line| line.trim_matches('*'))
        .unwrap_or_default()
}

#[test]
fn what_a_dry_run_would_free_is_what_the_real_run_frees_to_the_byte() {
    let fake = start(release_and_leftovers());
    let dry = untagged_cleanup(&fake, true);
    assert_eq!(dry.ids(), vec![20, 30, 31, 32]);
    assert_eq!(dry.outputs["bytes-freed"], FREED.to_string());
    assert_eq!(dry.outputs["bytes-kept"], KEPT.to_string());
    assert_eq!(
        headline(&dry.summary),
        "4 selected, 4 would be deleted, 3 kept, would free 5.4 MiB (7 versions listed in 1 package)"
    );
    assert!(
        dry.summary.contains(
            "| package | would free | kept |\n|---|---:|---:|\n| `app` | 5.4 MiB | 59.2 MiB |\n"
        ),
        "{}",
        dry.summary
    );
    assert_eq!(fake.active_ids("acme", "container", "app").len(), 7);

    let real = untagged_cleanup(&fake, false);
    assert_eq!(real.ids(), dry.ids());
    assert_eq!(real.outputs["bytes-freed"], dry.outputs["bytes-freed"]);
    assert_eq!(real.outputs["bytes-kept"], dry.outputs["bytes-kept"]);
    assert_eq!(
        headline(&real.summary),
        "4 selected, 4 deleted, 3 kept, freed 5.4 MiB (7 versions listed in 1 package)"
    );
    assert!(
        real.summary.contains("| package | freed | kept |"),
        "{}",
        real.summary
    );
    assert!(
        real.log.lines().any(|line| line
            == "package-janitor: 4 selected, 4 deleted, 3 kept, freed 5.4 MiB (7 versions listed in 1 package)"),
        "{}",
        real.log
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);

    let again = untagged_cleanup(&fake, false);
    assert_eq!(again.outputs["bytes-freed"], "0", "nothing is left to free");
    assert_eq!(
        again.outputs["bytes-kept"], "",
        "nothing selected, so no manifest was read and nothing measured"
    );
    assert!(
        again
            .summary
            .contains("- `app`: nothing was selected, so its manifests were not read"),
        "{}",
        again.summary
    );
}

#[test]
fn a_delete_failed_frees_nothing_of_its_version() {
    let versions = release_and_leftovers()
        .into_iter()
        .map(|version| match version.id {
            20 => version.answers(500, "Internal error"),
            _ => version,
        })
        .collect();
    let fake = start(versions);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .input("older-than", "30d")
        .run();
    run.assert_failure();
    assert_eq!(run.failed_ids(), vec![20]);
    let own_of_20 = 5_000_000 + CONFIG_BYTES;
    assert_eq!(run.outputs["bytes-freed"], (FREED - own_of_20).to_string());
    assert_eq!(run.outputs["bytes-kept"], (KEPT + own_of_20).to_string());
}

/// The `| label | size | bytes |` row of the audit's storage table that starts with `label`.
fn bytes_row(summary: &str, label: &str) -> u64 {
    let row = summary
        .lines()
        .find(|line| line.starts_with(&format!("| {label} |")))
        .unwrap_or_else(|| panic!("no row {label} in\n{summary}"));
    row.trim_end_matches(" |")
        .rsplit("| ")
        .next()
        .and_then(|bytes| bytes.parse().ok())
        .unwrap_or_else(|| panic!("no bytes in {row}"))
}

#[test]
fn the_audits_bytes_add_up_and_its_orphans_hold_what_deleting_them_frees() {
    let fake = start(release_and_leftovers());
    let audit = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("mode", "audit")
        .run();
    audit.assert_success();
    let summary = &audit.summary;
    let tagged = bytes_row(summary, "tagged images");
    let untagged = bytes_row(
        summary,
        "untagged versions no tag reaches, kept by a `delete-orphans` cleanup",
    );
    let orphaned = bytes_row(summary, "orphans");
    let total = bytes_row(summary, "**total**");
    assert_eq!((tagged, untagged, orphaned), (KEPT, 0, FREED));
    assert_eq!(tagged + untagged + orphaned, total);
    assert_eq!(audit.outputs["bytes-kept"], total.to_string());
    assert_eq!(
        audit.outputs["bytes-freed"], "0",
        "an audit changes nothing"
    );
    let pie = format!(
        "```mermaid\npie\n    \"tagged 59.2 MiB\" : {KEPT}\n    \"orphaned 5.4 MiB\" : {FREED}\n```"
    );
    assert!(summary.contains(&pie), "{summary}");
    assert!(summary.contains("| `v1` | 59.2 MiB |"), "{summary}");
    assert!(
        summary.contains("**Storage:** 64.7 MiB; a `delete-orphans` cleanup would free 5.4 MiB."),
        "{summary}"
    );

    let orphan_cleanup = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .input("delete-orphans", "true")
        .input("dry-run", "true")
        .run();
    orphan_cleanup.assert_success();
    assert_eq!(orphan_cleanup.outputs["bytes-freed"], orphaned.to_string());
}

#[test]
fn a_manifest_claiming_an_absurd_size_is_reported_unreadable_and_not_summed() {
    let fake = start(vec![
        v(1, 5).tags(&["v1"]).layers(&[("base", 1_000)]),
        v(20, 40).layers(&[("base", 1_000), ("negative", -1)]),
        v(21, 41).layers(&[("past-2^53", (1 << 53) + 1)]),
        v(22, 42).layers(&[("past-2^64", 1 << 70)]),
        v(23, 43).layers(&[("fine", 10)]),
    ]);
    let run = untagged_cleanup(&fake, true);
    assert_eq!(run.ids(), vec![20, 21, 22, 23], "the graph reads them all");
    assert_eq!(
        run.outputs["bytes-freed"], "",
        "not exact, so not an output"
    );
    assert_eq!(
        run.outputs["bytes-kept"],
        (1_000 + CONFIG_BYTES).to_string(),
        "what stays is counted whole"
    );
    assert_eq!(10 + CONFIG_BYTES, 1244, "1.2 KiB: only 23 is counted");
    assert_eq!(
        headline(&run.summary),
        "4 selected, 4 would be deleted, 1 kept, would free 1.2 KiB, not all counted (5 versions listed in 1 package)"
    );
    assert!(
        run.summary
            .contains("| `app` | 1.2 KiB (partial) | 2.2 KiB |"),
        "{}",
        run.summary
    );
    let note = "- `app`: the sizes of 3 versions are unreadable and not summed, so its figures are partial; the first, version 20: its layer sha256:";
    assert!(run.summary.contains(note), "{}", run.summary);
    assert!(
        run.summary.contains("claims a size of -1 bytes"),
        "{}",
        run.summary
    );
}

/// With a state file, a second run holds the kept platform manifests by their digest alone
/// (issue 19: a plain image manifest is saved as a claim, proven by its media type): what
/// they store is not known, so the figures are left empty with the reason, never taken on
/// the state file's word. Before issue 19 was merged in, the state file kept every
/// manifest's sizes and this run reported the first run's figures again.
#[test]
fn a_second_run_with_the_state_file_leaves_the_figures_it_cannot_prove_empty_and_says_why() {
    let fake = start(release_and_leftovers());
    let dir = workspace();
    let run = || {
        let run = janitor(&fake, ALICE)
            .in_dir(&dir)
            .input("packages", "app")
            .input("tag-state", "untagged")
            .input("older-than", "30d")
            .input("dry-run", "true")
            .input("state-file", ".package-janitor/state")
            .run();
        run.assert_success();
        run
    };
    let first = run();
    assert_eq!(first.outputs["bytes-freed"], FREED.to_string());
    assert_eq!(first.outputs["bytes-kept"], KEPT.to_string());
    let second = run();
    assert_eq!(second.ids(), first.ids(), "the same plan");
    assert!(second.log.contains("0 manifests read"), "{}", second.log);
    assert!(
        second.log.contains("7 known from the state file"),
        "{}",
        second.log
    );
    for output in ["bytes-freed", "bytes-kept"] {
        assert_eq!(second.outputs[output], "", "{output}: not exact, so empty");
    }
    assert_eq!(
        headline(&second.summary),
        "4 selected, 4 would be deleted, 3 kept, would free an unknown size (7 versions listed in 1 package)"
    );
    assert!(
        second.summary.contains("| `app` | unknown | unknown |"),
        "{}",
        second.summary
    );
    assert!(
        second.summary.contains(
            "- `app`: the manifests of 2 versions are known from the state file by their digest alone and were not read in this run, so what they store is not known"
        ),
        "{}",
        second.summary
    );
}

/// A cleanup of `app` with a state file (`state`) or without, as `inputs` say.
fn cleanup_in(
    fake: &FakeGitHub,
    dir: &Workspace,
    inputs: &[(&str, &str)],
    state: bool,
) -> Finished {
    let mut run = janitor(fake, ALICE).in_dir(dir).input("packages", "app");
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

const UNTAGGED_OLDER_THAN_30D: &[(&str, &str)] =
    &[("tag-state", "untagged"), ("older-than", "30d")];

/// A run that resumes from a state file, but read every manifest the figures rest on
/// itself (its earlier run selected nothing, so read none) over a listing it read whole,
/// gives the figures exactly, as a run without the state file does.
#[test]
fn a_resumed_run_that_read_what_the_figures_rest_on_gives_them_exactly_as_its_control() {
    let fake = start(release_and_leftovers());
    let dir = workspace();
    let nothing_yet = cleanup_in(
        &fake,
        &dir,
        &[("tag-state", "untagged"), ("older-than", "60d")],
        true,
    );
    assert!(nothing_yet.ids().is_empty(), "{}", nothing_yet.log);
    assert!(dir.join(STATE).exists(), "{}", nothing_yet.log);
    let resumed = cleanup_in(&fake, &dir, UNTAGGED_OLDER_THAN_30D, true);
    assert!(
        resumed.log.contains("7 manifests read from")
            && resumed.log.contains("0 known from the state file"),
        "the state file held the listing and no manifest:\n{}",
        resumed.log
    );
    assert_eq!(resumed.ids(), vec![20, 30, 31, 32]);
    assert_eq!(resumed.outputs["bytes-freed"], FREED.to_string());
    assert_eq!(resumed.outputs["bytes-kept"], KEPT.to_string());
    assert!(
        !resumed.summary.contains("state file"),
        "{}",
        resumed.summary
    );

    let control_fake = start(release_and_leftovers());
    let control = cleanup_in(&control_fake, &workspace(), UNTAGGED_OLDER_THAN_30D, false);
    assert_eq!(control.ids(), resumed.ids());
    for output in ["bytes-freed", "bytes-kept"] {
        assert_eq!(control.outputs[output], resumed.outputs[output], "{output}");
    }
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        control_fake.active_ids("acme", "container", "app")
    );
}

/// A version of a 350-version package (4 listing pages), id 1 the oldest, all older than
/// 30 days; 101..=120 untagged builds (on listing page 3), the others tagged `v<id>`, each
/// with a config and a layer of its own.
fn four_pages() -> Vec<VersionSeed> {
    (1..=350)
        .map(|id| {
            let version = VersionSeed::new(id, days(400) - std::time::Duration::from_secs(id * 60));
            if (101..=120).contains(&id) {
                version
            } else {
                version.tags(&[&format!("v{id}")])
            }
        })
        .collect()
}

/// A run that resumes a large package reads page 1, the last page and the pages of what it
/// deletes; the rest of the listing is the state file's, so neither figure is known: both
/// outputs are empty and the summary says why. It deletes what its control deletes, and the
/// control (and the first run, which read the listing whole) gives the figures exactly.
#[test]
fn a_resumed_run_over_a_listing_partly_from_the_state_file_leaves_the_figures_empty_and_says_why() {
    let own = CONFIG_BYTES + LAYER_BYTES;
    let fake = start(four_pages());
    let dir = workspace();
    let mut dry = UNTAGGED_OLDER_THAN_30D.to_vec();
    dry.push(("dry-run", "true"));
    let first = cleanup_in(&fake, &dir, &dry, true);
    assert_eq!(first.outputs["bytes-freed"], (20 * own).to_string());
    assert_eq!(first.outputs["bytes-kept"], (330 * own).to_string());
    let resumed = cleanup_in(&fake, &dir, UNTAGGED_OLDER_THAN_30D, true);
    assert!(
        resumed
            .log
            .contains("the rest is known from the state file"),
        "{}",
        resumed.log
    );
    assert_eq!(resumed.ids(), (101..=120).collect::<Vec<u64>>());
    for output in ["bytes-freed", "bytes-kept"] {
        assert_eq!(resumed.outputs[output], "", "{output}");
    }
    assert!(
        resumed.summary.contains("| `app` | unknown | unknown |"),
        "{}",
        resumed.summary
    );
    assert!(
        resumed
            .summary
            .contains("- `app`: this run did not read its whole listing ("),
        "{}",
        resumed.summary
    );
    assert!(
        resumed.summary.contains(
            "known only from the state file), so versions added, deleted or restored since may be missing, and the figures are left unknown rather than guessed."
        ),
        "{}",
        resumed.summary
    );

    let control_fake = start(four_pages());
    let control = cleanup_in(&control_fake, &workspace(), UNTAGGED_OLDER_THAN_30D, false);
    assert_eq!(control.ids(), resumed.ids());
    assert_eq!(control.outputs["bytes-freed"], (20 * own).to_string());
    assert_eq!(control.outputs["bytes-kept"], (330 * own).to_string());
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        control_fake.active_ids("acme", "container", "app")
    );
}

/// A change made to a saved state file's JSON.
type Tamper<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;

/// A state file that pairs digests with sizes (this branch's format 1 did, before issue
/// 19's format 2) is not believed: a file of format 1 is ignored whole, and a format-2
/// file whose manifest records carry sizes has that package's records dropped. Either
/// way the run reads every manifest itself, and the absurd sizes never reach a figure.
#[test]
fn a_state_file_that_pairs_digests_with_sizes_is_not_believed_and_the_figures_are_read_again() {
    let absurd = serde_json::json!([["ab".repeat(16), 9_007_199_254_740_993u64]]);
    let cases: [(&str, Tamper<'_>, &str); 2] = [
        (
            "format 1",
            Box::new(|state| {
                state["format"] = serde_json::json!(1);
                for record in state["packages"][0]["manifests"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    let digest = record[0].clone();
                    *record = serde_json::json!([digest, false, [], null, null, absurd.clone()]);
                }
            }),
            "is ignored and the run starts afresh: it has format 1",
        ),
        (
            "sizes beside each digest",
            Box::new(|state| {
                for record in state["packages"][0]["manifests"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    record
                        .as_array_mut()
                        .expect("a record")
                        .push(absurd.clone());
                }
            }),
            "its saved listing is ignored and it is listed afresh",
        ),
    ];
    for (what, tamper, warning) in cases {
        let fake = start(release_and_leftovers());
        let dir = workspace();
        let mut dry = UNTAGGED_OLDER_THAN_30D.to_vec();
        dry.push(("dry-run", "true"));
        cleanup_in(&fake, &dir, &dry, true);
        crate::fresh::tamper_state(&dir, tamper);
        let run = cleanup_in(&fake, &dir, UNTAGGED_OLDER_THAN_30D, true);
        assert!(run.log.contains(warning), "{what}: {}", run.log);
        assert!(
            run.log.contains("7 manifests read from"),
            "{what}: {}",
            run.log
        );
        assert_eq!(run.ids(), vec![20, 30, 31, 32], "{what}");
        assert_eq!(run.outputs["bytes-freed"], FREED.to_string(), "{what}");
        assert_eq!(run.outputs["bytes-kept"], KEPT.to_string(), "{what}");
    }
}

#[test]
fn packages_github_gives_no_sizes_for_say_so_and_leave_the_outputs_empty() {
    let package = PackageSeed::new("acme", "npm", "lib")
        .versions(vec![release(1, 90, "0.0.1"), release(2, 1, "1.0.0")]);
    let fake = FakeGitHub::start(accounts().package(package)).expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "lib")
        .input("package-type", "npm")
        .input("older-than", "30d")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1]);
    assert_eq!(run.outputs["bytes-freed"], "");
    assert_eq!(run.outputs["bytes-kept"], "");
    assert_eq!(
        headline(&run.summary),
        "1 selected, 1 deleted, 1 kept (2 versions listed in 1 package)"
    );
    assert!(
        run.summary
            .contains("| `lib` | no sizes from GitHub | no sizes from GitHub |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("GitHub's API gives no sizes for npm packages"),
        "{}",
        run.summary
    );
    let audit = janitor(&fake, ALICE)
        .input("packages", "lib")
        .input("package-type", "npm")
        .input("mode", "audit")
        .run();
    audit.assert_success();
    assert_eq!(audit.outputs["bytes-kept"], "");
    assert!(
        audit.summary.contains(
            "**Storage:** GitHub's API gives no sizes for packages other than containers."
        ),
        "{}",
        audit.summary
    );
}
