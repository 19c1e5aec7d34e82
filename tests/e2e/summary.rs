//! The step summary reads in one screen: one line of totals first (the log's last line
//! says the same), counts in correct English, and the kept versions listed with why.

use fake_github::{FakeGitHub, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

/// The summary's first line after its heading, and the rows of the table that follows
/// `marker`, header rows left out.
fn first_line(summary: &str) -> &str {
    summary
        .lines()
        .filter(|line| !line.is_empty())
        .nth(1)
        .unwrap_or_default()
}

fn rows_after<'a>(summary: &'a str, marker: &str) -> Vec<&'a str> {
    let start = summary
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in\n{summary}"));
    summary[start..]
        .lines()
        .skip(1)
        .skip_while(|line| !line.starts_with("| id"))
        .skip(2)
        .take_while(|line| line.starts_with("| "))
        .collect()
}

/// A protected multi-arch release (index 1, platforms 2-3, their attestations 4-5), an old
/// untagged image 20 with its cosign signature 21, and a recent `edge` 30.
fn protected_release() -> FakeGitHub {
    let versions = vec![
        v(2, 90).platform("linux/amd64"),
        v(3, 90).platform("linux/arm64"),
        v(4, 90).attestation_for(2),
        v(5, 90).attestation_for(3),
        v(1, 90).index(&[2, 3, 4, 5]).tags(&["v1.0.0"]),
        v(20, 60),
        v(21, 60).cosign_signature_of(20),
        v(30, 5).tags(&["edge"]),
    ];
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

#[test]
fn a_container_run_says_its_numbers_first_and_lists_a_protected_release_as_kept() {
    let fake = protected_release();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", "30d")
        .input("exclude-tag-regex", "^v1\\.")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![20, 21]);
    let headline = "2 selected, 2 deleted, 6 kept, freed 13.5 KiB (8 versions listed in 1 package)";
    assert_eq!(first_line(&run.summary), format!("**{headline}**"));
    assert!(
        run.log
            .lines()
            .any(|line| line == format!("package-janitor: {headline}")),
        "the log ends with the same numbers:\n{}",
        run.log
    );
    assert!(
        run.summary.contains(
            "8 listed · 2 selected · kept because of a kept image: 4, exclude-tag-regex: 1, older-than: 1"
        ),
        "{}",
        run.summary
    );

    let selected = rows_after(&run.summary, "### `app`");
    assert_eq!(selected.len(), 2, "{}", run.summary);
    assert!(
        selected[0].starts_with("| 20 | sha256:") && selected[0].contains("… | 60d | deleted |"),
        "an image shows its short digest: {}",
        selected[0]
    );
    assert!(
        selected[1].starts_with("| 21 | └ signature · sha256-")
            && selected[1].contains("….sig | 60d | deleted |"),
        "a signature shows its tag: {}",
        selected[1]
    );

    let kept = rows_after(
        &run.summary,
        "<details><summary>6 kept versions, and why</summary>",
    );
    let ids: Vec<&str> = kept
        .iter()
        .map(|row| row.split(" | ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        ["| 30", "| 1", "| 5", "| 4", "| 3", "| 2"],
        "{}",
        run.summary
    );
    assert!(kept[0].contains("| edge | 5d | updated more recently than older-than |"));
    assert!(kept[1].contains("| v1.0.0 | 90d | \\`v1.0.0\\` matches exclude-tag-regex |"));
    for (row, role) in [
        (2, "attestation"),
        (3, "attestation"),
        (4, "linux/arm64"),
        (5, "linux/amd64"),
    ] {
        assert!(
            kept[row].contains(&format!("| └ {role} · sha256:"))
                && kept[row].contains("of kept image sha256:")
                && kept[row].ends_with("… (v1.0.0) |"),
            "a child of the kept release sits beneath it: {}",
            kept[row]
        );
    }
    assert!(
        !run.summary.contains(&fake_full_digest(&run)),
        "no full digest in\n{}",
        run.summary
    );
}

/// The full digest of version 20, as the `json` output gives it.
fn fake_full_digest(run: &Finished) -> String {
    let entry = run
        .json()
        .into_iter()
        .find(|entry| entry["id"] == 20)
        .expect("json entry for 20");
    let digest = entry["name"].as_str().expect("a name").to_string();
    assert_eq!(digest.len(), "sha256:".len() + 64, "{digest}");
    digest
}

#[test]
fn one_version_and_one_package_are_counted_in_the_singular_in_the_log_and_the_summary() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![image(1, 90, &["old"]), image(2, 1, &["new"])],
    )))
    .expect("fake starts");
    for (dry_run, headline) in [
        (
            "true",
            "package-janitor (dry run): 1 selected, 1 would be deleted, 1 kept, would free 6.8 KiB (2 versions listed in 1 package)",
        ),
        (
            "false",
            "package-janitor: 1 selected, 1 deleted, 1 kept, freed 6.8 KiB (2 versions listed in 1 package)",
        ),
    ] {
        let run = janitor(&fake, ALICE)
            .input("packages", "app")
            .input("older-than", "30d")
            .input("dry-run", dry_run)
            .run();
        run.assert_success();
        assert!(
            run.log.lines().any(|line| line == headline),
            "{headline} in\n{}",
            run.log
        );
        assert!(
            run.log.contains("2 active versions listed, 1 selected"),
            "{}",
            run.log
        );
        assert!(
            run.log.contains("delete 1 version\n") || run.log.contains("deleting 1 version\n"),
            "{}",
            run.log
        );
        let headline = headline
            .split_once(": ")
            .map(|(_, line)| line)
            .unwrap_or_default();
        assert_eq!(first_line(&run.summary), format!("**{headline}**"));
        for wrong in ["1 versions", "1 packages"] {
            assert!(!run.log.contains(wrong), "{wrong} in\n{}", run.log);
            assert!(!run.summary.contains(wrong), "{wrong} in\n{}", run.summary);
        }
    }
}
