//! Every bad input fails before any API call, naming the input and the value, never the token.

use fake_github::FakeGitHub;

use crate::harness::*;

/// Inputs set on top of a valid base (`packages: app`).
type Inputs = &'static [(&'static str, &'static str)];

/// (inputs, the input the error must name, the value it must quote)
const CASES: &[(Inputs, &str, &str)] = &[
    (&[("mode", "purge")], "mode", "purge"),
    (&[("package-type", "pypi")], "package-type", "pypi"),
    (&[("tag-regex", "v(1")], "tag-regex", "v(1"),
    (
        &[("exclude-tag-regex", "[latest")],
        "exclude-tag-regex",
        "[latest",
    ),
    (&[("older-than", "30 dayz")], "older-than", "30 dayz"),
    (&[("older-than", "-5d")], "older-than", "-5d"),
    (&[("keep-latest", "-1")], "keep-latest", "-1"),
    (&[("keep-latest", "ten")], "keep-latest", "ten"),
    (&[("max-versions", "lots")], "max-versions", "lots"),
    (&[("max-versions", "-3")], "max-versions", "-3"),
    (&[("max-percent", "150")], "max-percent", "150"),
    (&[("max-percent", "a quarter")], "max-percent", "a quarter"),
    (
        &[("mode", "restore"), ("max-percent", "10")],
        "max-percent",
        "10",
    ),
    (
        &[("plan-file", "../plan.json")],
        "plan-file",
        "../plan.json",
    ),
    (
        &[("mode", "restore"), ("plan-file", "plan.json")],
        "plan-file",
        "plan.json",
    ),
    (&[("plan-expires", "31d")], "plan-expires", "31d"),
    (&[("plan-expires", "0s")], "plan-expires", "0s"),
    (&[("version-ids", "12,abc")], "version-ids", "abc"),
    (&[("dry-run", "maybe")], "dry-run", "maybe"),
    (&[("tag-state", "sometimes")], "tag-state", "sometimes"),
    (
        &[("package-type", "npm"), ("tag-state", "untagged")],
        "tag-state",
        "untagged",
    ),
    (&[("deleted-within", "7d")], "deleted-within", "7d"),
    (
        &[("mode", "restore"), ("deleted-within", "a week")],
        "deleted-within",
        "a week",
    ),
    (&[("packages", " , \n ")], "packages", ""),
];

#[test]
fn every_bad_input_fails_before_any_api_call_and_names_the_input_and_value() {
    let fake = FakeGitHub::start(accounts()).expect("fake starts");
    for (inputs, name, value) in CASES {
        let mut janitor = janitor(&fake, ALICE).input("packages", "app");
        for (input, input_value) in *inputs {
            janitor = janitor.input(input, input_value);
        }
        let run = janitor.run();
        assert_eq!(run.code, Some(1), "{inputs:?} should fail:\n{}", run.log);
        let error = run
            .log
            .lines()
            .find(|line| line.starts_with("::error::"))
            .unwrap_or_else(|| panic!("{inputs:?}: no ::error:: line in\n{}", run.log));
        assert!(error.contains(&format!("`{name}`")), "{inputs:?}: {error}");
        assert!(
            error.contains(value),
            "{inputs:?}: {error} should quote {value}"
        );
        assert!(!run.log.contains(ALICE), "the token leaked: {}", run.log);
        assert!(run.outputs.is_empty() && run.summary.is_empty());
    }
    assert_eq!(fake.requests(), vec![], "no API call was made");
}

#[test]
fn a_missing_token_or_owner_fails_with_the_input_named() {
    let cases: [(Janitor, &str); 3] = [
        (
            janitor_without_api()
                .env("GITHUB_REPOSITORY_OWNER", "acme")
                .input("packages", "app"),
            "`token`",
        ),
        (
            janitor_without_api()
                .env("GITHUB_REPOSITORY_OWNER", "acme")
                .input("token", "")
                .input("packages", "app"),
            "`token`",
        ),
        (
            janitor_without_api()
                .input("token", "ghp_x")
                .input("packages", "app"),
            "`owner`",
        ),
    ];
    for (janitor, named) in cases {
        let run = janitor.run();
        run.assert_failure();
        assert!(run.log.starts_with("::error::"), "{}", run.log);
        assert!(run.log.contains(named), "{}", run.log);
    }
}

#[test]
fn a_token_pasted_into_another_input_is_redacted_from_its_error() {
    let fake = FakeGitHub::start(accounts()).expect("fake starts");
    let as_input = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", ALICE);
    let from_the_runner = janitor_without_api()
        .env("GITHUB_API_URL", &fake.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .env("GH_TOKEN", ALICE)
        .input("packages", "app")
        .input("keep-latest", &format!("x{ALICE}"));
    // Past the 200 characters an error shows: hidden whole, not cut with its start showing.
    let straddling = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("older-than", &format!("{}{ALICE}", "1".repeat(195)));
    for janitor in [as_input, from_the_runner, straddling] {
        let run = janitor.run();
        run.assert_failure();
        assert!(
            !run.log.contains(&ALICE[..5]),
            "the token leaked: {}",
            run.log
        );
        assert!(
            run.log.starts_with("::error::") && run.log.contains("***"),
            "{}",
            run.log
        );
    }
    assert_eq!(fake.requests(), vec![], "no API call was made");
}
