//! Hostile data and endings: server text never starts or adds a log line, shows as text in
//! the summary, never shows the token; and the record survives a cancel or a fatal answer.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fake_github::{FakeGitHub, Faults, Limits, PackageSeed, PrimaryLimit, VersionSeed};

use crate::harness::*;

/// Text that would hijack the log or the summary if it reached them raw.
const HOSTILE: &[&str] = &[
    "a\n::error::pwned-error",
    "b\n::add-mask::pwned-mask",
    "c\r\n::stop-commands::pwned-stop",
    "d ##[error]pwned-legacy",
    "<!-- pwned-comment",
    "# pwned-heading",
    "| fake | pwned-row |",
    "x\n**Totals:** 999 listed",
];

/// Workflow commands this tool writes; any other line starting with `::` came from data.
const OUR_COMMANDS: &[&str] = &["::error::", "::warning::", "::group::", "::endgroup::"];

/// No line of the log starts a workflow command that came from data, or carries the legacy
/// `##[` form, and the data only ever appears escaped.
#[track_caller]
fn assert_log_is_safe(log: &str) {
    for line in log.lines() {
        let start = line.trim_start();
        if start.starts_with("::") {
            assert!(
                OUR_COMMANDS.iter().any(|ours| start.starts_with(ours)),
                "a line starts a command from data: {line:?}\n{log}"
            );
            assert!(
                !start.starts_with("::error::pwned") && !start.starts_with("::warning::pwned"),
                "{line:?}"
            );
        }
        assert!(!line.contains("##["), "legacy command in {line:?}");
        for word in ["pwned-comment", "pwned-heading", "pwned-row", "999 listed"] {
            if let Some(at) = line.find(word) {
                assert!(at > 0, "data starts a line: {line:?}");
            }
        }
    }
    for command in ["::add-mask::", "::stop-commands::", "::error::pwned"] {
        assert!(
            !log.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "{command} reached column 0:\n{log}"
        );
    }
}

/// The summary shows the data as text: it adds no line, heading, comment or table row.
#[track_caller]
fn assert_summary_is_safe(summary: &str, shown: &[&str]) {
    assert!(!summary.is_empty(), "no summary");
    for line in summary.lines() {
        for start in ["<!--", "# pwned", "| fake", "::"] {
            assert!(!line.starts_with(start), "summary line from data: {line:?}");
        }
        assert!(!line.contains("<!--"), "raw comment in {line:?}");
    }
    let headline = summary.lines().filter(|line| !line.is_empty()).nth(1);
    assert!(
        headline.is_some_and(|line| line.starts_with("**") && line.contains(" selected, ")),
        "the totals come first:\n{summary}"
    );
    assert_eq!(
        summary
            .lines()
            .filter(|line| line.contains(" selected, ") && line.contains(" listed in "))
            .count(),
        1,
        "{summary}"
    );
    for text in shown {
        assert!(summary.contains(text), "{text} not shown in\n{summary}");
    }
}

/// How the summary's tables show the hostile tags.
const SHOWN_IN_CELLS: &[&str] = &[
    "&lt;!-- pwned-comment",
    "\\# pwned-heading",
    "\\| fake \\| pwned-row \\|",
];

fn hostile_tag(n: usize) -> &'static str {
    HOSTILE[n % HOSTILE.len()]
}

/// A public container package: 1-12 are refused for their downloads (12 warnings), 13-24
/// are answered with a hostile error (12 errors), 25-26 are deleted; 27 is kept.
fn hostile_images() -> FakeGitHub {
    let mut versions: Vec<VersionSeed> = Vec::new();
    for id in 1..=26u64 {
        let tags = [hostile_tag(id as usize), "t"];
        let version = image(id, 100 - id, &tags);
        versions.push(match id {
            1..=12 => version.downloads(6_000),
            13..=24 => version.answers(409, HOSTILE[(id as usize) % HOSTILE.len()]),
            _ => version,
        });
    }
    versions.push(image(27, 1, &["keep"]));
    FakeGitHub::start(accounts().package(container("acme", "app", versions).public()))
        .expect("fake starts")
}

#[test]
fn hostile_tags_never_start_or_add_a_log_line_in_a_dry_run() {
    let fake = hostile_images();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("exclude-tag-regex", "^keep$")
        .input("dry-run", "true")
        .run();
    run.assert_success();
    assert_log_is_safe(&run.log);
    assert_summary_is_safe(&run.summary, SHOWN_IN_CELLS);
    assert_eq!(run.ids(), range(1, 26));
    let tags = &run.json()[0]["tags"];
    assert!(
        tags.as_array()
            .is_some_and(|tags| tags.iter().any(|tag| tag.as_str() == Some(hostile_tag(1)))),
        "json keeps the tag as data: {tags}"
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 27));
}

#[test]
fn hostile_tags_and_errors_never_start_a_log_line_even_past_the_tenth_annotation() {
    let fake = hostile_images();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("exclude-tag-regex", "^keep$")
        .run();
    run.assert_failure();
    assert_log_is_safe(&run.log);
    assert_summary_is_safe(&run.summary, SHOWN_IN_CELLS);
    let past_the_cap = |kind: &str| {
        run.log
            .lines()
            .filter(|line| line.starts_with(&format!("{kind}: app: ")))
            .count()
    };
    assert!(past_the_cap("warning") >= 2, "{}", run.log);
    assert!(past_the_cap("error") >= 2, "{}", run.log);
    assert_eq!(run.ids(), vec![25, 26]);
    assert_eq!(run.failed_ids(), range(13, 24));
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![25, 26]);
    assert!(
        run.outcome_of(17).contains("\n::add-mask::pwned-mask"),
        "json keeps the message as data"
    );
}

#[test]
fn hostile_package_and_version_names_never_start_a_log_line_or_a_summary_line() {
    let names = [
        "::error::pwned-name",
        "app\n::add-mask::pwned-mask",
        "<!-- pwned-comment",
        "| fake | pwned-row |",
    ];
    let mut seed = accounts();
    for (n, name) in names.iter().enumerate() {
        let base = 10 * n as u64;
        seed = seed.package(
            PackageSeed::new("acme", "npm", name)
                .repository("acme/app")
                .versions(vec![
                    release(base + 1, 30, hostile_tag(n)),
                    release(base + 2, 20, &format!("# pwned-heading {n}")),
                    release(base + 3, 10, "9.9.9"),
                ]),
        );
    }
    let fake = FakeGitHub::start(seed).expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "*")
        .input("keep-latest", "1")
        .run();
    run.assert_success();
    assert_log_is_safe(&run.log);
    assert!(run.log.contains("pwned-name"), "{}", run.log);
    assert_summary_is_safe(
        &run.summary,
        &[
            "<code>&lt;!-- pwned-comment</code>",
            "<code>&#124; fake &#124; pwned-row &#124;</code>",
            "`app\\n::add-mask::pwned-mask`",
            "\\# pwned-heading 1",
        ],
    );
    assert_eq!(run.ids().len(), 8, "{}", run.log);
    for (n, name) in names.iter().enumerate() {
        let base = 10 * n as u64;
        assert_eq!(
            fake.deleted_ids("acme", "npm", name),
            vec![base + 1, base + 2]
        );
    }
}

/// Every form a server could echo the token in, as a hostile error message.
fn echoes() -> String {
    let basic = |user: &str| STANDARD.encode(format!("{user}:{ALICE}"));
    format!(
        "denied: {{authorization}} | Basic {} | Basic {} | url token={} | raw {ALICE}",
        basic("x-access-token"),
        basic("package-janitor"),
        ALICE.replace('_', "%5F")
    )
}

#[test]
fn a_server_echoing_the_token_never_gets_it_into_the_log_summary_or_outputs() {
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "npm", "lib")
                .repository("acme/app")
                .versions(vec![
                    release(1, 30, "1.0.0").answers(422, &echoes()),
                    release(2, 20, "2.0.0").answers(500, &echoes()),
                    release(3, 10, "3.0.0"),
                ]),
        ),
    )
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "1")
        .run();
    run.assert_failure();
    assert_eq!(run.failed_ids(), vec![1, 2], "{}", run.log);
    let outputs: String = run.outputs.values().cloned().collect();
    let forbidden = [
        ALICE.to_string(),
        STANDARD.encode(format!("x-access-token:{ALICE}")),
        STANDARD.encode(format!("package-janitor:{ALICE}")),
        ALICE.replace('_', "%5F"),
    ];
    for (place, text) in [
        ("log", &run.log),
        ("summary", &run.summary),
        ("outputs", &outputs),
    ] {
        for form in &forbidden {
            assert!(
                !text.contains(form.as_str()),
                "{place} shows {form}:\n{text}"
            );
        }
        let redacted = if place == "summary" {
            "\\*\\*\\*"
        } else {
            "***"
        };
        assert!(
            text.contains(redacted),
            "{place} shows the redaction:\n{text}"
        );
    }
    assert!(
        run.outcome_of(1).contains("denied: Bearer ***"),
        "{}",
        run.outcome_of(1)
    );
}

#[test]
fn a_fatal_answer_mid_run_still_leaves_outputs_and_summary_with_what_was_deleted() {
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "npm", "lib")
                .repository("acme/app")
                .versions(vec![
                    release(1, 50, "1.0.0"),
                    release(2, 40, "2.0.0").answers(401, "Bad credentials"),
                    release(3, 30, "3.0.0"),
                    release(4, 20, "4.0.0"),
                    release(5, 10, "5.0.0"),
                ]),
        ),
    )
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "1")
        .run();
    run.assert_failure();
    assert_eq!(run.ids(), fake.deleted_ids("acme", "npm", "lib"));
    assert_eq!(run.ids(), vec![1, 3, 4]);
    assert_eq!(run.failed_ids(), vec![2]);
    assert!(run.summary.contains("Bad credentials"), "{}", run.summary);
    assert!(run.summary.contains("3 deleted"), "{}", run.summary);
}

#[test]
fn sigterm_after_the_first_delete_stops_at_once_and_writes_the_record() {
    let versions = (1..=40).map(|id| release(id, 100 - id, &format!("1.0.{id}")));
    let fake = FakeGitHub::start(
        accounts()
            .package(
                PackageSeed::new("acme", "npm", "lib")
                    .repository("acme/app")
                    .versions(versions.collect()),
            )
            .faults(Faults {
                latency: Duration::from_millis(300),
                ..Faults::default()
            }),
    )
    .expect("fake starts");
    let running = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "1")
        .spawn();
    let run = running.terminate_when("the first DELETE", || {
        fake.requests().iter().any(|r| r.method == "DELETE")
    });
    run.assert_failure();
    let deleted = fake.deleted_ids("acme", "npm", "lib");
    assert_eq!(run.ids(), deleted, "{}", run.log);
    assert!(!deleted.is_empty() && deleted.len() < 39, "{deleted:?}");
    let json = run.json();
    assert_eq!(json.len(), 39);
    for entry in &json {
        let id = entry["id"].as_u64().unwrap_or_default();
        let expected = if deleted.contains(&id) {
            "deleted"
        } else {
            "left for the next run: cancelled"
        };
        assert_eq!(entry["outcome"], expected, "{id}");
    }
    assert!(
        run.summary.contains("left for the next run: cancelled"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("cut short"), "{}", run.summary);
    assert!(
        run.log
            .lines()
            .any(|line| line.starts_with("::error::") && line.contains("cancelled")),
        "{}",
        run.log
    );
}

#[test]
fn sigterm_during_a_wait_for_the_rate_limit_reset_ends_the_wait_and_writes_the_record() {
    let versions = (1..=12).map(|id| release(id, 100 - id, &format!("1.0.{id}")));
    let fake = FakeGitHub::start(
        accounts()
            .package(
                PackageSeed::new("acme", "npm", "lib")
                    .repository("acme/app")
                    .versions(versions.collect()),
            )
            .limits(Limits {
                primary: PrimaryLimit::new(1000, 10, Duration::from_secs(120)),
                secondary: None,
            }),
    )
    .expect("fake starts");
    let mut running = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "1")
        .input("rate-limit-wait", "5m")
        .spawn();
    let deletes = |fake: &FakeGitHub| {
        fake.requests()
            .iter()
            .filter(|r| r.method == "DELETE")
            .count()
    };
    let waited = Instant::now();
    while deletes(&fake) == 0 {
        assert!(!running.has_exited(), "the run ended before deleting");
        assert!(waited.elapsed() < Duration::from_secs(60), "no DELETE came");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The fake answers at once: the run is now waiting for the reset, two minutes away.
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(
        !running.has_exited(),
        "the run should be waiting for the reset"
    );
    let sent = deletes(&fake);
    running.terminate();
    let signalled = Instant::now();
    while !running.has_exited() {
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "the wait did not end on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = running.wait();
    run.assert_failure();
    assert_eq!(deletes(&fake), sent, "nothing was sent after the signal");
    assert_eq!(run.ids(), fake.deleted_ids("acme", "npm", "lib"));
    assert_eq!(run.ids().len(), sent);
    assert_eq!(run.outputs["left-count"], (11 - sent).to_string());
    assert!(
        run.log.lines().any(
            |line| line.starts_with("::error::the run was cut short: cancelled")
                && !line.contains("in flight")
        ),
        "{}",
        run.log
    );
}
