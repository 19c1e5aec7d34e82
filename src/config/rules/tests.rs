//! Tests of the `rules` input: each key checked like its flat input, every error naming the rule.

use std::time::Duration;

use super::super::Config;
use super::*;
use crate::policy::rules::OrderBy;

const EXAMPLE_RULES: &str = r"
- name: releases
  tag-regex: ^v\d+\.\d+\.\d+$
  keep-latest: 30
- name: newest patches of every minor
  tag-regex: ^v\d+\.\d+\.\d+$
  group-by: ^v(\d+\.\d+)\.
  keep-latest: 2
- name: dev builds
  tag-regex: ^dev-
  keep-latest: 20
- name: pull requests
  tag-regex: ^pr-\d+$
  older-than: 14d
- name: untagged
  tag-state: untagged
  older-than: 7d
";

/// Parse with the runner's defaults for the flat inputs, plus `pairs`.
fn config(pairs: &[(&str, &str)]) -> Result<Config, InputError> {
    let defaults = [
        ("INPUT_TOKEN", "t"),
        ("INPUT_PACKAGES", "app"),
        ("GITHUB_REPOSITORY_OWNER", "acme"),
        ("INPUT_TAG-STATE", "any"),
        ("INPUT_KEEP-LATEST", "0"),
        ("INPUT_TAG-REGEX", ""),
        ("INPUT_OLDER-THAN", ""),
    ];
    Config::from_env(|name| {
        pairs
            .iter()
            .rev()
            .chain(defaults.iter())
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
}

fn rules(value: &str) -> Result<Vec<Rule>, InputError> {
    config(&[("INPUT_RULES", value)]).map(|config| config.policy.rules)
}

#[test]
fn the_example_policy_parses_into_five_rules() {
    let parsed = rules(EXAMPLE_RULES).expect("the README example is valid");
    // (label, tag-regex, tag-state, older-than, keep-latest, has group-by)
    type Shape<'a> = (
        String,
        Option<&'a str>,
        TagState,
        Option<Duration>,
        usize,
        bool,
    );
    let summary: Vec<Shape> = parsed
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            (
                rule.label(index + 1),
                rule.tag_regex.as_ref().map(Regex::as_str),
                rule.tag_state,
                rule.older_than,
                rule.keep_latest,
                rule.group_by.is_some(),
            )
        })
        .collect();
    let day = |n: u64| Some(Duration::from_secs(n * 86_400));
    let release = Some(r"^v\d+\.\d+\.\d+$");
    assert_eq!(
        summary,
        vec![
            ("releases".into(), release, TagState::Any, None, 30, false),
            (
                "newest patches of every minor".into(),
                release,
                TagState::Any,
                None,
                2,
                true
            ),
            (
                "dev builds".into(),
                Some("^dev-"),
                TagState::Any,
                None,
                20,
                false
            ),
            (
                "pull requests".into(),
                Some(r"^pr-\d+$"),
                TagState::Any,
                day(14),
                0,
                false
            ),
            (
                "untagged".into(),
                None,
                TagState::Untagged,
                day(7),
                0,
                false
            ),
        ]
    );
}

#[test]
fn json_is_accepted_and_unnamed_rules_are_numbered_from_one() {
    let parsed = rules(r#"[{"tag-regex": "^pr-"}, {"name": "x", "keep-latest": "3"}]"#)
        .expect("JSON is YAML");
    let labels: Vec<String> = parsed
        .iter()
        .enumerate()
        .map(|(index, rule)| rule.label(index + 1))
        .collect();
    assert_eq!(labels, vec!["#1", "x"]);
    assert_eq!(parsed[1].keep_latest, 3);
}

#[test]
fn empty_values_count_as_unset_like_empty_inputs() {
    let parsed = rules("- tag-regex: ^pr-\n  older-than: ''\n  keep-latest:\n").expect("valid");
    assert_eq!(parsed[0].older_than, None);
    assert_eq!(parsed[0].keep_latest, 0);
}

#[test]
fn every_bad_rule_is_an_error_naming_the_rule_and_the_key() {
    let dev = "- name: releases\n  keep-latest: 3\n- tag-regex: ^pr-\n- name: dev builds\n  tag-regex: ^dev-\n  older-than: ";
    let table: Vec<(String, &str)> = vec![
        (
            format!("{dev}2 weeks ago"),
            "input `rules`: rule 3 (dev builds): older-than: `2 weeks ago` is not a valid duration",
        ),
        (
            "- tag-regex: '(unclosed'".into(),
            "input `rules`: rule 1: tag-regex: `(unclosed` is not a valid regular expression",
        ),
        (
            "- tag-regex: ^v\n  exclude-tag-regex: '[z-a]'".into(),
            "input `rules`: rule 1: exclude-tag-regex: `[z-a]` is not a valid regular expression",
        ),
        (
            "- name: r\n  tag-state: dangling".into(),
            "input `rules`: rule 1 (r): tag-state: `dangling` is not a tag state",
        ),
        (
            "- name: r\n  keep-latest: 1\n  order-by: newest".into(),
            "input `rules`: rule 1 (r): order-by: `newest` is not an order (expected `pushed`",
        ),
        (
            "- name: r\n  keep-latest: -1".into(),
            "input `rules`: rule 1 (r): keep-latest: `-1` is not a count",
        ),
        (
            "- name: r\n  keep-latest: 3\n  group-by: ^v\\d+".into(),
            "input `rules`: rule 1 (r): group-by: `^v\\d+` must have exactly one capture group, and it has 0",
        ),
        (
            "- name: r\n  keep-latest: 3\n  group-by: ^v(\\d+)\\.(\\d+)".into(),
            "input `rules`: rule 1 (r): group-by: `^v(\\d+)\\.(\\d+)` must have exactly one capture group, and it has 2",
        ),
        (
            "- name: r\n  keep-last: 3".into(),
            "input `rules`: rule 1 (r): `keep-last` is not a rule key (closest: `keep-latest`)",
        ),
        (
            "- tag_regex: ^v".into(),
            "input `rules`: rule 1: `tag_regex` is not a rule key (closest: `tag-regex`)",
        ),
        (
            "- name: everything\n  exclude-tag-regex: ^latest$".into(),
            "input `rules`: rule 1 (everything): has no filter and no keep-latest, so it would select every version",
        ),
        (
            "- name: any\n  tag-state: any".into(),
            "input `rules`: rule 1 (any): has no filter and no keep-latest",
        ),
        (
            "- name: a\n  keep-latest: 1\n- name: a\n  older-than: 1d".into(),
            "input `rules`: rule 2: name: `a` is also the name of rule 1",
        ),
        (
            "- name: '#2'\n  keep-latest: 1".into(),
            "input `rules`: rule 1: name: `#2` cannot start with `#`",
        ),
        (
            "- tag-regex: [a, b]".into(),
            "input `rules`: rule 1: tag-regex: must be a single value",
        ),
        (
            "- just a string".into(),
            "input `rules`: rule 1: is not a mapping of keys to values",
        ),
        (
            "tag-regex: ^v".into(),
            "input `rules`: `tag-regex: ^v` is not a YAML list of rules",
        ),
        ("[]".into(), "input `rules`: `[]` is an empty list"),
        (
            "- [unclosed".into(),
            "input `rules`: line 2, column 1: `- [unclosed` is not valid YAML",
        ),
    ];
    for (value, start) in table {
        let error = rules(&value).expect_err(&value);
        assert_eq!(error.input(), "rules", "{value}");
        let shown = error.to_string();
        assert!(
            shown.starts_with(start),
            "{value:?}:\n{shown}\nnot\n{start}"
        );
    }
}

#[test]
fn tag_state_in_a_rule_is_checked_against_the_package_type() {
    let error = config(&[
        ("INPUT_PACKAGE-TYPE", "npm"),
        ("INPUT_RULES", "- tag-state: untagged"),
    ])
    .expect_err("npm has no tags");
    assert!(
        error
            .to_string()
            .starts_with("input `rules`: rule 1: tag-state: `untagged` only applies to container"),
        "{error}"
    );
}

#[test]
fn rules_with_a_flat_input_set_is_an_error_but_the_runner_defaults_are_not() {
    let rule = "- tag-regex: ^pr-";
    for (name, value) in [
        ("INPUT_TAG-REGEX", "^v"),
        ("INPUT_TAG-STATE", "untagged"),
        ("INPUT_OLDER-THAN", "1d"),
        ("INPUT_KEEP-LATEST", "2"),
        ("INPUT_ORDER-BY", "version"),
    ] {
        let error = config(&[(name, value), ("INPUT_RULES", rule)]).expect_err(name);
        let input = name.trim_start_matches("INPUT_").to_ascii_lowercase();
        assert_eq!(error.input(), input);
        assert!(
            error.to_string().contains("put it in a rule"),
            "{name}: {error}"
        );
    }
    let fine = config(&[
        ("INPUT_RULES", rule),
        ("INPUT_TAG-STATE", "ANY"),
        ("INPUT_ORDER-BY", "pushed"),
        ("INPUT_EXCLUDE-TAG-REGEX", "^latest$"),
        ("INPUT_VERSION-IDS", "1,2"),
    ])
    .expect("defaults and global inputs combine with rules");
    assert_eq!(fine.policy.rules.len(), 1);
    assert!(fine.policy.exclude_tag_regex.is_some());
}

#[test]
fn without_rules_the_flat_inputs_are_one_unnamed_rule() {
    let flat = config(&[("INPUT_TAG-REGEX", "^pr-"), ("INPUT_KEEP-LATEST", "4")]).expect("valid");
    assert!(flat.policy.rules.is_empty());
    let effective = flat.policy.rules();
    assert_eq!(effective.len(), 1);
    assert_eq!(effective[0].label(1), "#1");
    assert_eq!(
        effective[0].tag_regex.as_ref().map(Regex::as_str),
        Some("^pr-")
    );
    assert_eq!(effective[0].keep_latest, 4);
    assert_eq!(effective[0].order_by, OrderBy::Pushed);
    let by_version =
        config(&[("INPUT_KEEP-LATEST", "1"), ("INPUT_ORDER-BY", "version")]).expect("valid");
    assert_eq!(by_version.policy.rules()[0].order_by, OrderBy::Version);
}

#[test]
fn order_by_is_a_rule_key_for_the_latest_patch_of_each_minor() {
    let parsed = rules(
        "- name: patches\n  group-by: '^v?(\\d+\\.\\d+)\\.'\n  keep-latest: 1\n  order-by: version\n- name: dev\n  tag-regex: ^dev-\n  keep-latest: 2",
    )
    .expect("valid rules");
    assert_eq!(parsed[0].order_by, OrderBy::Version);
    assert_eq!(
        parsed[0].group_by.as_ref().map(Regex::as_str),
        Some(r"^v?(\d+\.\d+)\.")
    );
    assert_eq!(parsed[1].order_by, OrderBy::Pushed);
}

#[test]
fn a_yaml_error_points_at_its_line_and_column_and_quotes_the_value_cut() {
    let value = format!(
        "{}- name: late\n  tag-regex: [oops\n",
        "- keep-latest: 1\n".repeat(3000)
    );
    let error = rules(&value).expect_err("unclosed flow sequence");
    let shown = error.to_string();
    assert!(
        shown.starts_with("input `rules`: line 3003, column 1: `- keep-latest: 1"),
        "{shown}"
    );
    let cut = format!(
        "…` ({} characters; the first 200 shown) is not valid YAML",
        value.trim().chars().count()
    );
    assert!(shown.contains(&cut), "{shown}");
    assert!(
        shown.contains("while parsing a flow sequence at line 3002 column 14"),
        "{shown}"
    );
    assert!(shown.len() < 1024, "{} bytes", shown.len());
}
