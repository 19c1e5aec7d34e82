//! The command line for people: flags over inputs, help and version, typo and glob
//! warnings, bad bytes in inputs, and ids in `version-ids` that are not found.

use fake_github::FakeGitHub;
use package_janitor::config::inputs::INPUTS;

use crate::harness::*;

fn fake_with_app() -> FakeGitHub {
    FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 60, &[]),
            image(2, 50, &["pr-2"]),
            image(3, 40, &["production"]),
            image(4, 3, &["latest"]),
        ],
    )))
    .expect("fake starts")
}

/// A value for each input's flag that its parser rejects, naming the input.
const BAD_FLAGS: &[(&str, &str)] = &[
    ("token", "ghp_a\u{1}b"),
    ("owner", "x y"),
    ("package-type", "pypi"),
    ("packages", " , "),
    ("mode", "purge"),
    ("tag-regex", "v(1"),
    ("exclude-tag-regex", "[latest"),
    ("older-than", "30 dayz"),
    ("tag-state", "sometimes"),
    ("keep-latest", "ten"),
    ("order-by", "newest"),
    ("rules", "- name: x\n  tag-regexx: ^v"),
    ("keep-referenced", "../deploy/*.yaml"),
    ("version-ids", "12,abc"),
    ("deleted-within", "7d"),
    ("max-versions", "lots"),
    ("max-percent", "150"),
    ("dry-run", "maybe"),
    ("plan-file", "../plan.json"),
    ("plan-expires", "31d"),
    ("registry-url", "nope"),
    ("delete-orphans", "maybe"),
    ("untag", "maybe"),
    ("restore-tags", "[{\"tag\": \"../x\"}]"),
    ("fail-on-broken", "maybe"),
    ("verify", "maybe"),
    ("delete-empty-packages", "maybe"),
    ("package-restore-token", "a b"),
    ("state-file", "../outside"),
    ("points-per-minute", "0"),
    ("mutation-interval", "2m"),
    ("rate-limit-wait", "2h"),
];

#[test]
fn every_input_is_reachable_as_a_flag_that_overrides_its_variable() {
    let fake = fake_with_app();
    let mut covered: Vec<&str> = BAD_FLAGS.iter().map(|(name, _)| *name).collect();
    covered.sort_unstable();
    let mut inputs: Vec<&str> = INPUTS.iter().map(|input| input.name).collect();
    inputs.sort_unstable();
    assert_eq!(covered, inputs, "one bad value per input");
    for (name, value) in BAD_FLAGS {
        // The variables hold valid values; the flag alone makes the run fail.
        let run = janitor(&fake, ALICE)
            .input("packages", "app")
            .arg(format!("--{name}={value}"))
            .run();
        assert_eq!(run.code, Some(1), "--{name}={value}:\n{}", run.log);
        assert!(
            run.log.contains(&format!("`{name}`")) || run.log.contains(&format!("--{name}")),
            "--{name}={value} is not named:\n{}",
            run.log
        );
        assert!(!run.log.contains("ghp_a"), "the token leaked:\n{}", run.log);
    }
    assert_eq!(fake.requests(), Vec::new(), "no bad flag reached the API");
}

#[test]
fn flags_override_input_variables_and_switches_take_true_or_false() {
    let fake = fake_with_app();
    let dry = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("dry-run", "false")
        .input("older-than", "1d")
        .arg("--dry-run")
        .arg("--older-than=45d")
        .run();
    dry.assert_success();
    assert_eq!(dry.ids(), vec![1, 2], "--older-than=45d wins over 1d");
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 4));

    let real = janitor(&fake, ALICE)
        .input("dry-run", "true")
        .arg("--packages=app")
        .arg("--dry-run=false")
        .arg("--tag-regex=^pr-")
        .run();
    real.assert_success();
    assert_eq!(real.ids(), vec![2]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3, 4]);
}

#[test]
fn the_token_and_owner_come_from_flags_or_the_usual_variables() {
    let fake = fake_with_app();
    let cases: Vec<(&str, Janitor)> = vec![
        (
            "--token and --owner",
            janitor_without_api()
                .arg(format!("--token={ALICE}"))
                .arg("--owner=acme"),
        ),
        (
            "GITHUB_TOKEN and GITHUB_REPOSITORY",
            janitor_without_api()
                .env("GITHUB_TOKEN", ALICE)
                .env("GITHUB_REPOSITORY", "acme/app"),
        ),
        (
            "GH_TOKEN and GITHUB_REPOSITORY_OWNER",
            janitor_without_api()
                .env("GH_TOKEN", ALICE)
                .env("GITHUB_REPOSITORY_OWNER", "acme"),
        ),
    ];
    for (how, janitor) in cases {
        let run = janitor
            .env("GITHUB_API_URL", &fake.url())
            .arg("--packages=app")
            .arg(format!("--registry-url={}", fake.url()))
            .arg("--dry-run")
            .run();
        run.assert_success();
        assert_eq!(run.ids(), range(1, 4), "{how}");
    }
}

#[test]
fn an_unknown_flag_fails_naming_the_closest_flag_before_any_request() {
    let fake = fake_with_app();
    for (typed, meant) in [("--dry-rn", "--dry-run"), ("--tag-regx=x", "--tag-regex")] {
        let run = janitor(&fake, ALICE)
            .input("packages", "app")
            .arg(typed)
            .run();
        run.assert_failure();
        assert!(run.log.contains(meant), "{typed}:\n{}", run.log);
    }
    assert_eq!(fake.requests(), Vec::new());
}

#[test]
fn help_lists_every_flag_with_its_default_and_version_prints_the_version() {
    let help = janitor_without_api().arg("--help").run();
    help.assert_success();
    for input in INPUTS {
        assert!(
            help.log.contains(&format!("--{}", input.name)),
            "{}:\n{}",
            input.name,
            help.log
        );
        assert!(help.log.contains(&format!("[example: --{}=", input.name)));
    }
    assert!(help.log.contains("[default: container]"), "{}", help.log);
    let version = janitor_without_api().arg("--version").run();
    version.assert_success();
    assert!(
        version
            .log
            .starts_with(&format!("package-janitor {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        version.log
    );
}

#[test]
fn an_input_variable_with_a_typo_warns_with_the_closest_input() {
    let fake = fake_with_app();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("dry-run", "true")
        .env("INPUT_TAGREGEX", "^pr-")
        .env("INPUT_OLDER_THAN", "1d")
        .run();
    run.assert_success();
    let warnings: Vec<&str> = run
        .log
        .lines()
        .filter(|line| line.starts_with("::warning::"))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|line| line.contains("`INPUT_TAGREGEX`")
                && line.contains("did you mean `tag-regex`")),
        "{}",
        run.log
    );
    assert!(
        warnings
            .iter()
            .any(|line| line.contains("`INPUT_OLDER_THAN`")
                && line.contains("did you mean `older-than`")),
        "{}",
        run.log
    );
}

#[test]
fn a_glob_in_a_regex_input_warns_and_a_leading_star_fails_before_any_request() {
    let fake = fake_with_app();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("dry-run", "true")
        .input("tag-regex", "pr-*")
        .run();
    run.assert_success();
    let warning = run
        .log
        .lines()
        .find(|line| line.starts_with("::warning::") && line.contains("`tag-regex`"))
        .unwrap_or_else(|| panic!("no glob warning:\n{}", run.log));
    assert!(warning.contains("`^pr-.*`"), "{warning}");

    let before = fake.requests().len();
    let star = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "*-rc")
        .run();
    star.assert_failure();
    let error = star
        .log
        .lines()
        .find(|line| line.starts_with("::error::"))
        .unwrap_or_else(|| panic!("no error:\n{}", star.log));
    assert!(
        error.contains("`tag-regex`") && error.contains("`.*-rc$`"),
        "{error}"
    );
    assert_eq!(fake.requests().len(), before, "no request after the error");
}

#[cfg(unix)]
#[test]
fn an_input_that_is_not_utf8_fails_naming_it_before_any_request() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let fake = fake_with_app();
    for name in ["INPUT_DRY-RUN", "INPUT_VERSION-IDS"] {
        let run = janitor(&fake, ALICE)
            .input("packages", "app")
            .env_os(name, OsString::from_vec(vec![b't', 0xff, b'1']))
            .run();
        run.assert_failure();
        let input = name.trim_start_matches("INPUT_").to_lowercase();
        assert!(
            run.log
                .lines()
                .any(|line| line.starts_with("::error::") && line.contains(&format!("`{input}`"))),
            "{name}:\n{}",
            run.log
        );
    }
    assert_eq!(fake.requests(), Vec::new());
}

#[test]
fn a_token_holding_a_control_character_fails_naming_token_without_its_value() {
    let fake = fake_with_app();
    for token in [
        "ghp_secret\u{1}value",
        "ghp_secret\u{7f}value",
        "ghp_secret\rvalue",
    ] {
        let run = janitor(&fake, token).input("packages", "app").run();
        run.assert_failure();
        assert!(run.log.contains("`token`"), "{}", run.log);
        assert!(!run.log.contains("ghp_secret"), "{}", run.log);
        assert!(!run.log.contains("value"), "{}", run.log);
    }
    assert_eq!(fake.requests(), Vec::new());
}

#[test]
fn ids_not_found_in_the_state_the_mode_needs_are_reported_and_fail_the_run() {
    let cases = [
        (
            "restore",
            "9999, 1002, 1001",
            vec![1001],
            "no deleted version",
        ),
        (
            "delete",
            "9999, 1001, 1002",
            vec![1002],
            "no active version",
        ),
    ];
    for (mode, ids, done, why) in cases {
        let fake = FakeGitHub::start(accounts().package(container(
            "acme",
            "app",
            vec![
                image(1001, 60, &[]).deleted(fake_github::days(1)),
                image(1002, 50, &[]),
                image(1003, 40, &["v3"]),
            ],
        )))
        .expect("fake starts");
        let run = janitor(&fake, ALICE)
            .input("packages", "app")
            .input("mode", mode)
            .input("version-ids", ids)
            .run();
        run.assert_failure();
        assert_eq!(run.ids(), done, "{mode}");
        let missing: Vec<u64> = run
            .json()
            .iter()
            .filter(|entry| {
                entry["outcome"]
                    .as_str()
                    .is_some_and(|outcome| outcome.starts_with(&format!("not found: {why}")))
            })
            .filter_map(|entry| entry["id"].as_u64())
            .collect();
        assert_eq!(missing.len(), 2, "{mode}: {}", run.outputs["json"]);
        assert!(missing.contains(&9999), "{mode}");
        assert!(
            run.summary.contains("not found: "),
            "{mode}: {}",
            run.summary
        );
        let warned = run
            .log
            .lines()
            .filter(|line| line.starts_with("::warning::") && line.contains("not found"))
            .count();
        assert_eq!(warned, 2, "{mode}:\n{}", run.log);
        assert!(
            run.log.lines().any(|line| line.starts_with("::error::")),
            "{}",
            run.log
        );
    }
}

#[test]
fn ids_all_found_keep_the_run_green() {
    let fake = fake_with_app();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("version-ids", "1,2")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 2]);
}
