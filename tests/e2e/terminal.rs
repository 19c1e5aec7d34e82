//! The binary run by a person rather than by the runner: at a pseudo-terminal or in a pipe
//! it prints a report for people on stdout (no Markdown, kept versions only counted unless
//! `--verbose`, ANSI only at a terminal), `--format json` and `--format markdown` print what
//! scripts want, and under Actions nothing of this happens.

use fake_github::{FakeGitHub, VersionSeed, days};

use crate::harness::*;

/// A tag that would turn a terminal red and start a new line, were it printed raw.
const HOSTILE: &str = "pr-9\u{1b}[31mred\u{1b}[0m\nFAKE LINE";

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

/// Releases `v1.0.0` (a signed multi-arch index) and `v2.0.0`, old pull-request builds
/// (one of them an index with a platform manifest, one with a hostile tag), and an
/// untagged ghost.
fn fake() -> FakeGitHub {
    FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            v(2, 90).platform("linux/amd64"),
            v(3, 90).platform("linux/arm64"),
            v(1, 90).index(&[2, 3]).tags(&["v1.0.0"]),
            v(4, 89).cosign_signature_of(1),
            v(5, 10).tags(&["v2.0.0", "latest"]),
            v(11, 60).platform("linux/amd64"),
            v(10, 60).index(&[11]).tags(&["pr-1"]),
            v(12, 50).tags(&["pr-2"]),
            v(13, 40).tags(&[HOSTILE]),
            v(20, 70),
        ],
    )))
    .expect("fake starts")
}

fn dry_run(fake: &FakeGitHub) -> Janitor {
    janitor(fake, ALICE)
        .outside_actions()
        .arg("--packages")
        .arg("app")
        .arg("--tag-regex")
        .arg("^pr-")
        .arg("--dry-run")
}

/// What a person is shown, and must not be: Markdown, and the kept versions' rows.
#[track_caller]
fn assert_for_people(shown: &str) {
    for markdown in ["<details>", "| id |", "|---", "**", "### "] {
        assert!(!shown.contains(markdown), "{markdown} in\n{shown}");
    }
    assert!(
        shown.contains(
            "4 selected, 4 would be deleted, 6 kept, would free 20.3 KiB (10 versions listed in 1 package)"
        ),
        "{shown}"
    );
    // The versions that would go, aligned, the platform manifest beneath its index.
    let rows: Vec<&str> = shown
        .lines()
        .skip_while(|line| !line.contains("ID  TAGS / VERSION"))
        .take(5)
        .collect();
    assert_eq!(rows.len(), 5, "{shown}");
    // Columns in characters: every character here takes one column.
    let column = |row: &str, text: &str| row.find(text).map(|at| row[..at].chars().count());
    let outcome_at = column(rows[0], "OUTCOME").expect("an outcome column");
    for row in &rows[1..] {
        assert_eq!(
            column(row, "would delete"),
            Some(outcome_at),
            "aligned: {row}"
        );
    }
    assert!(rows[1].starts_with("  10  pr-1 "), "{}", rows[1]);
    assert!(
        rows[2].starts_with("  11  └ linux/amd64 · sha256:"),
        "indented beneath its index: {}",
        rows[2]
    );
    assert!(
        shown.contains("  kept 6 · a kept image: 3, tag-regex: 3 (--verbose lists them)"),
        "{shown}"
    );
    // No row of a kept version, nor its tag.
    assert!(!shown.contains("v1.0.0"), "{shown}");
    assert!(!shown.contains("KEPT BECAUSE"), "{shown}");
    // The hostile tag is text on one row: no escape reaches the terminal, no line is added.
    assert!(
        shown.contains(r"pr-9\u{1b}[31mred\u{1b}[0m\nFAKE LINE"),
        "{shown}"
    );
    assert!(!shown.contains("\u{1b}[31mred"), "{shown:?}");
    assert!(
        !shown.lines().any(|line| line.starts_with("FAKE LINE")),
        "{shown}"
    );
}

#[test]
fn at_a_terminal_a_dry_run_shows_the_versions_that_would_go_and_only_counts_the_kept() {
    let fake = fake();
    let run = dry_run(&fake).at_terminal().run();
    run.assert_success();
    assert_for_people(&run.stdout);
    assert!(
        run.stdout
            .contains("\u{1b}[1mpackage-janitor: delete (dry run: nothing was changed)\u{1b}[0m"),
        "a bold title at a terminal:\n{:?}",
        run.stdout
    );
    assert_eq!(fake.active_ids("acme", "container", "app").len(), 10);
    // The outputs and the summary still go to the runner's files when they are set.
    assert_eq!(run.ids(), vec![10, 11, 12, 13]);
    assert!(run.summary.contains("<details>"), "{}", run.summary);
}

#[test]
fn with_verbose_the_kept_versions_are_listed_with_why_their_parts_beneath_them() {
    let fake = fake();
    let run = dry_run(&fake).arg("--verbose").at_terminal().run();
    run.assert_success();
    let shown = &run.stdout;
    assert!(shown.contains("KEPT BECAUSE"), "{shown}");
    let kept: Vec<&str> = shown
        .lines()
        .skip_while(|line| !line.contains("KEPT BECAUSE"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(kept.len(), 6, "{shown}");
    let v1 = kept
        .iter()
        .position(|row| row.starts_with("   1  v1.0.0 "))
        .unwrap_or_else(|| panic!("v1.0.0 listed:\n{shown}"));
    for part in &kept[v1 + 1..v1 + 4] {
        assert!(part.contains("  └ "), "a part of v1.0.0 beneath it: {part}");
    }
    assert!(!shown.contains("<details>"), "{shown}");
}

#[test]
fn in_a_pipe_the_report_is_the_same_text_without_any_ansi_and_the_log_goes_to_stderr() {
    let fake = fake();
    let run = dry_run(&fake).run();
    run.assert_success();
    assert_for_people(&run.stdout);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    assert!(
        run.stdout
            .starts_with("package-janitor: delete (dry run: nothing was changed)\n"),
        "stdout is the report alone:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("::group::"),
        "the log is on stderr:\n{}",
        run.stdout
    );
    assert!(
        run.log.contains("::group::container package app"),
        "{}",
        run.log
    );
}

#[test]
fn format_json_prints_the_json_output_as_one_valid_document() {
    let fake = fake();
    let run = dry_run(&fake).arg("--format").arg("json").run();
    run.assert_success();
    let printed: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    let output: serde_json::Value =
        serde_json::from_str(&run.outputs["json"]).expect("the json output is JSON");
    assert_eq!(printed, output);
    let ids: Vec<u64> = printed
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|entry| entry["id"].as_u64())
        .collect();
    assert_eq!(ids.len(), 4, "{printed}");
    assert!(
        !run.stdout.contains('\u{1b}'),
        "the hostile tag's escape is a JSON escape: {}",
        run.stdout
    );
    let tags = printed
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["tags"].as_array().cloned().unwrap_or_default())
        .filter_map(|tag| tag.as_str().map(str::to_owned))
        .collect::<Vec<_>>();
    assert!(tags.iter().any(|tag| tag == HOSTILE), "{tags:?}");
}

#[test]
fn format_markdown_prints_the_step_summary() {
    let fake = fake();
    let run = dry_run(&fake).arg("--format").arg("markdown").run();
    run.assert_success();
    assert_eq!(run.stdout, run.summary);
    assert!(
        run.stdout.starts_with("## package-janitor: delete"),
        "{}",
        run.stdout
    );
}

#[test]
fn under_actions_nothing_changes_the_log_is_on_stdout_and_no_report_is_printed() {
    let fake = fake();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("dry-run", "true")
        .run();
    run.assert_success();
    assert!(
        run.stdout
            .starts_with("::group::container package app: listing"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("ID  TAGS / VERSION"),
        "no report for people under Actions:\n{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    assert_eq!(run.ids(), vec![10, 11, 12, 13]);
    assert!(run.summary.contains("<details>"), "{}", run.summary);
}

#[test]
fn an_audit_for_a_person_is_plain_lines_and_json_is_its_json_output() {
    let fake = fake();
    let audit = || {
        janitor(&fake, ALICE)
            .outside_actions()
            .arg("--packages")
            .arg("app")
            .arg("--mode")
            .arg("audit")
    };
    let run = audit().run();
    run.assert_success();
    assert!(
        run.stdout.starts_with(
            "package-janitor audit: 1 container package of acme: nothing was changed\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("container package app: 10 versions"),
        "{}",
        run.stdout
    );
    for markdown in ["|", "```", "<details>", "> [!"] {
        assert!(
            !run.stdout.contains(markdown),
            "{markdown} in\n{}",
            run.stdout
        );
    }
    let json = audit().arg("--format").arg("json").run();
    json.assert_success();
    let printed: serde_json::Value =
        serde_json::from_str(&json.stdout).expect("stdout is one JSON document");
    let output: serde_json::Value =
        serde_json::from_str(&json.outputs["json"]).expect("the json output is JSON");
    assert_eq!(printed, output);
}
