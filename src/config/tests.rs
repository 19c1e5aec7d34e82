//! Tests of the configuration: every input parsed, defaulted and refused with an error that names it.

use std::collections::HashMap;

use super::*;

/// Environment variables laid over `BASE`.
type Env<'a> = &'a [(&'a str, &'a str)];

const SECRET: &str = "ghp_s3cr3tT0kenValue";

/// The smallest environment that parses: token, owner (from the runner) and one package.
const BASE: &[(&str, &str)] = &[
    ("INPUT_TOKEN", SECRET),
    ("GITHUB_REPOSITORY_OWNER", "octo-org"),
    ("INPUT_PACKAGES", "my-app"),
];

/// Parses `BASE` overridden by `pairs`; a pair with an empty value stays set to "".
fn parse(pairs: &[(&str, &str)]) -> Result<Config, InputError> {
    let env: HashMap<String, String> = BASE
        .iter()
        .chain(pairs)
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Config::from_env(|name| env.get(name).cloned())
}

fn parse_ok(pairs: &[(&str, &str)]) -> Config {
    match parse(pairs) {
        Ok(config) => config,
        Err(error) => panic!("{pairs:?} should parse, got: {error}"),
    }
}

fn parse_err(pairs: &[(&str, &str)]) -> InputError {
    match parse(pairs) {
        Ok(config) => panic!("{pairs:?} should be rejected, got: {config:?}"),
        Err(error) => error,
    }
}

fn ids(list: &[u64]) -> Option<BTreeSet<u64>> {
    Some(list.iter().copied().collect())
}

#[test]
fn defaults_apply_when_only_the_required_inputs_are_set() {
    let config = parse_ok(&[]);
    assert_eq!(config.token.expose(), SECRET);
    assert_eq!(config.owner, "octo-org");
    assert_eq!(config.package_type, PackageType::Container);
    assert_eq!(
        config.packages,
        vec![PackageSelector::Exact("my-app".into())]
    );
    assert_eq!(config.mode, Mode::Delete);
    assert!(config.policy.tag_regex.is_none());
    assert!(config.policy.exclude_tag_regex.is_none());
    assert_eq!(config.policy.older_than, None);
    assert_eq!(config.policy.tag_state, TagState::Any);
    assert_eq!(config.policy.keep_latest, 0);
    assert_eq!(config.policy.order_by, OrderBy::Pushed);
    assert_eq!(config.policy.version_ids, None);
    assert_eq!(config.policy.deleted_within, None);
    assert_eq!(config.max_versions, None);
    assert!(!config.dry_run);
    assert_eq!(config.api_url, "https://api.github.com");
    assert_eq!(config.registry_url, "https://ghcr.io");
    assert!(!config.delete_orphans);
    assert!(!config.delete_empty_packages);
    assert_eq!(config.package_restore_token, None);
    assert_eq!(config.max_percent, None);
    assert_eq!(config.plan_file, None);
    assert_eq!(config.plan_expires, Duration::from_secs(86_400));
}

#[test]
fn every_input_is_read_from_its_hyphenated_runner_variable() {
    let config = parse_ok(&[
        ("INPUT_OWNER", "someone-else"),
        ("INPUT_PACKAGE-TYPE", "npm"),
        ("INPUT_MODE", "restore"),
        ("INPUT_TAG-REGEX", "^1\\."),
        ("INPUT_EXCLUDE-TAG-REGEX", "^latest$"),
        ("INPUT_OLDER-THAN", "30d"),
        ("INPUT_KEEP-LATEST", "3"),
        ("INPUT_VERSION-IDS", "7"),
        ("INPUT_DELETED-WITHIN", "12h"),
        ("INPUT_MAX-VERSIONS", "50"),
        ("INPUT_DRY-RUN", "true"),
        ("GITHUB_API_URL", "https://ghes.example.com/api/v3/"),
        ("INPUT_REGISTRY-URL", "https://containers.ghes.example.com/"),
        ("INPUT_DELETE-ORPHANS", "true"),
        ("INPUT_DELETE-EMPTY-PACKAGES", "true"),
        ("INPUT_PACKAGE-RESTORE-TOKEN", "pkg-token-1"),
    ]);
    assert_eq!(config.owner, "someone-else");
    assert_eq!(config.package_type, PackageType::Npm);
    assert_eq!(config.mode, Mode::Restore);
    assert_eq!(
        config.policy.tag_regex.map(|r| r.to_string()),
        Some("^1\\.".into())
    );
    assert_eq!(
        config.policy.exclude_tag_regex.map(|r| r.to_string()),
        Some("^latest$".into())
    );
    assert_eq!(
        config.policy.older_than,
        Some(Duration::from_secs(30 * 86_400))
    );
    assert_eq!(config.policy.keep_latest, 3);
    assert_eq!(config.policy.version_ids, ids(&[7]));
    assert_eq!(
        config.policy.deleted_within,
        Some(Duration::from_secs(12 * 3_600))
    );
    assert_eq!(config.max_versions, Some(50));
    assert!(config.dry_run);
    assert_eq!(config.api_url, "https://ghes.example.com/api/v3");
    assert_eq!(config.registry_url, "https://containers.ghes.example.com");
    assert!(config.delete_orphans);
    assert!(config.delete_empty_packages);
    assert_eq!(
        config.package_restore_token.as_ref().map(Token::expose),
        Some("pkg-token-1")
    );
}

#[test]
fn underscored_variable_names_are_not_inputs() {
    let config = parse_ok(&[("INPUT_PACKAGE_TYPE", "npm"), ("INPUT_DRY_RUN", "true")]);
    assert_eq!(config.package_type, PackageType::Container);
    assert!(!config.dry_run);
}

#[test]
fn empty_or_whitespace_only_values_mean_unset() {
    for blank in ["", "  ", "\n", " \t\n "] {
        let config = parse_ok(&[
            ("INPUT_OWNER", blank),
            ("INPUT_PACKAGE-TYPE", blank),
            ("INPUT_MODE", blank),
            ("INPUT_TAG-REGEX", blank),
            ("INPUT_EXCLUDE-TAG-REGEX", blank),
            ("INPUT_OLDER-THAN", blank),
            ("INPUT_TAG-STATE", blank),
            ("INPUT_KEEP-LATEST", blank),
            ("INPUT_VERSION-IDS", blank),
            ("INPUT_DELETED-WITHIN", blank),
            ("INPUT_MAX-VERSIONS", blank),
            ("INPUT_DRY-RUN", blank),
            ("GITHUB_API_URL", blank),
            ("INPUT_REGISTRY-URL", blank),
            ("INPUT_DELETE-ORPHANS", blank),
            ("INPUT_DELETE-EMPTY-PACKAGES", blank),
            ("INPUT_PACKAGE-RESTORE-TOKEN", blank),
        ]);
        assert_eq!(config.owner, "octo-org", "blank {blank:?}");
        assert_eq!(config.package_type, PackageType::Container);
        assert_eq!(config.mode, Mode::Delete);
        assert!(config.policy.tag_regex.is_none());
        assert!(config.policy.exclude_tag_regex.is_none());
        assert_eq!(config.policy.older_than, None);
        assert_eq!(config.policy.tag_state, TagState::Any);
        assert_eq!(config.policy.keep_latest, 0);
        assert_eq!(config.policy.version_ids, None);
        assert_eq!(config.max_versions, None);
        assert!(!config.dry_run);
        assert_eq!(config.api_url, "https://api.github.com");
        assert_eq!(config.registry_url, "https://ghcr.io");
        assert!(!config.delete_orphans);
        assert!(!config.delete_empty_packages);
        assert_eq!(config.package_restore_token, None);
    }
}

#[test]
fn values_are_trimmed_before_use() {
    let config = parse_ok(&[
        ("INPUT_TOKEN", "  token-with-newline\n"),
        ("INPUT_OWNER", " octo-org \n"),
        ("INPUT_TAG-REGEX", "^pr-\n"),
        ("INPUT_OLDER-THAN", " 2w 3d "),
    ]);
    assert_eq!(config.token.expose(), "token-with-newline");
    assert_eq!(config.owner, "octo-org");
    assert_eq!(
        config.policy.tag_regex.map(|r| r.to_string()),
        Some("^pr-".into())
    );
    assert_eq!(
        config.policy.older_than,
        Some(Duration::from_secs(17 * 86_400))
    );
}

#[test]
fn every_valid_choice_is_accepted_in_any_case() {
    type Check = fn(&Config) -> bool;
    let table: &[(&str, &str, Check)] = &[
        ("INPUT_PACKAGE-TYPE", "container", |c| {
            c.package_type == PackageType::Container
        }),
        ("INPUT_PACKAGE-TYPE", "Docker", |c| {
            c.package_type == PackageType::Docker
        }),
        ("INPUT_PACKAGE-TYPE", "npm", |c| {
            c.package_type == PackageType::Npm
        }),
        ("INPUT_PACKAGE-TYPE", "MAVEN", |c| {
            c.package_type == PackageType::Maven
        }),
        ("INPUT_PACKAGE-TYPE", "nuget", |c| {
            c.package_type == PackageType::Nuget
        }),
        ("INPUT_PACKAGE-TYPE", "RubyGems", |c| {
            c.package_type == PackageType::Rubygems
        }),
        ("INPUT_MODE", "DELETE", |c| c.mode == Mode::Delete),
        ("INPUT_MODE", "Restore", |c| c.mode == Mode::Restore),
        ("INPUT_MODE", "AUDIT", |c| c.mode == Mode::Audit),
        ("INPUT_FAIL-ON-BROKEN", "True", |c| c.fail_on_broken),
        ("INPUT_VERIFY", "TRUE", |c| c.verify),
        ("INPUT_TAG-STATE", "ANY", |c| {
            c.policy.tag_state == TagState::Any
        }),
        ("INPUT_TAG-STATE", "Tagged", |c| {
            c.policy.tag_state == TagState::Tagged
        }),
        ("INPUT_TAG-STATE", "untagged", |c| {
            c.policy.tag_state == TagState::Untagged
        }),
        ("INPUT_DRY-RUN", "TRUE", |c| c.dry_run),
        ("INPUT_DRY-RUN", "False", |c| !c.dry_run),
        ("INPUT_KEEP-LATEST", "0", |c| c.policy.keep_latest == 0),
        ("INPUT_KEEP-LATEST", "12", |c| c.policy.keep_latest == 12),
        ("INPUT_ORDER-BY", "pushed", |c| {
            c.policy.order_by == OrderBy::Pushed
        }),
        ("INPUT_ORDER-BY", "Version", |c| {
            c.policy.order_by == OrderBy::Version
        }),
        ("INPUT_MAX-VERSIONS", "0", |c| c.max_versions == Some(0)),
        ("INPUT_MAX-VERSIONS", "1000", |c| {
            c.max_versions == Some(1000)
        }),
    ];
    for (name, value, check) in table {
        let config = parse_ok(&[(name, value)]);
        assert!(check(&config), "{name}={value} parsed as {config:?}");
    }
}

#[test]
fn keep_referenced_is_a_list_of_globs_for_container_packages() {
    assert!(parse_ok(&[]).keep_referenced.is_none());
    let config = parse_ok(&[(
        "INPUT_KEEP-REFERENCED",
        "deploy/**/*.yaml\ndocker-compose*.yml, .github/workflows/*.{yml,yaml}",
    )]);
    let patterns = config.keep_referenced.expect("patterns");
    assert_eq!(
        patterns.texts(),
        [
            "deploy/**/*.yaml",
            "docker-compose*.yml",
            ".github/workflows/*.{yml,yaml}"
        ]
    );
    assert_eq!(patterns.matching(".github/workflows/ci.yaml"), vec![2]);
    let audit = parse_ok(&[
        ("INPUT_MODE", "audit"),
        ("INPUT_KEEP-REFERENCED", "deploy/*.yaml"),
    ]);
    assert!(
        audit.keep_referenced.is_some(),
        "an audit ignores it, with a warning"
    );
}

#[test]
fn a_state_file_is_a_relative_path_inside_the_workspace() {
    assert_eq!(parse_ok(&[]).state_file, None);
    let cases = [".package-janitor/state", "./state.gz", "a/b/c"];
    for path in cases {
        let config = parse_ok(&[("INPUT_STATE-FILE", path)]);
        assert_eq!(config.state_file, Some(std::path::PathBuf::from(path)));
    }
}

#[test]
fn a_plan_file_is_a_relative_path_inside_the_workspace_with_a_lifetime_of_at_most_30_days() {
    let config = parse_ok(&[
        ("INPUT_PLAN-FILE", "plan/plan.json"),
        ("INPUT_PLAN-EXPIRES", "3d"),
        ("INPUT_MAX-PERCENT", "12.5%"),
    ]);
    assert_eq!(
        config.plan_file,
        Some(std::path::PathBuf::from("plan/plan.json"))
    );
    assert_eq!(config.plan_expires, Duration::from_secs(3 * 86_400));
    assert_eq!(
        config.max_percent.map(|percent| percent.to_string()),
        Some("12.5%".into())
    );
    let refused: &[(Env, &str, &str)] = &[
        (
            &[("INPUT_PLAN-FILE", "../plan.json")],
            "plan-file",
            "without `..`",
        ),
        (
            &[("INPUT_PLAN-FILE", "/tmp/plan.json")],
            "plan-file",
            "relative",
        ),
        (
            &[("INPUT_MODE", "restore"), ("INPUT_PLAN-FILE", "plan.json")],
            "plan-file",
            "only applies when `mode` is `delete`",
        ),
        (
            &[("INPUT_MODE", "audit"), ("INPUT_PLAN-FILE", "plan.json")],
            "plan-file",
            "only applies when `mode` is `delete`, and `mode` is `audit`",
        ),
        (
            &[("INPUT_PLAN-EXPIRES", "0s")],
            "plan-expires",
            "out of range",
        ),
        (
            &[("INPUT_PLAN-EXPIRES", "31d")],
            "plan-expires",
            "at most 30days",
        ),
        (
            &[("INPUT_PLAN-EXPIRES", "soon")],
            "plan-expires",
            "duration",
        ),
        (
            &[("INPUT_MAX-PERCENT", "150")],
            "max-percent",
            "from 0 to 100",
        ),
        (
            &[("INPUT_MODE", "restore"), ("INPUT_MAX-PERCENT", "10")],
            "max-percent",
            "only applies when `mode` is `delete`",
        ),
    ];
    for (pairs, input, problem) in refused {
        let error = parse_err(pairs);
        assert_eq!(error.input(), *input, "{pairs:?}");
        assert!(error.to_string().contains(problem), "{pairs:?}: {error}");
    }
}

#[test]
fn the_policy_inputs_a_plan_records_are_canonical_and_leave_out_what_selects_nothing() {
    let base = parse_ok(&[("INPUT_OLDER-THAN", "2w"), ("INPUT_TAG-REGEX", "^pr-")]).policy_inputs();
    assert_eq!(base.older_than.as_deref(), Some("14days"));
    assert_eq!(base.tag_regex.as_deref(), Some("^pr-"));
    let same: &[Env] = &[
        &[("INPUT_OLDER-THAN", "14d"), ("INPUT_TAG-REGEX", "^pr-")],
        &[
            ("INPUT_OLDER-THAN", "2w"),
            ("INPUT_TAG-REGEX", "^pr-"),
            ("INPUT_MAX-VERSIONS", "3"),
            ("INPUT_MAX-PERCENT", "10"),
            ("INPUT_STATE-FILE", "state"),
            ("INPUT_VERIFY", "true"),
            ("INPUT_POINTS-PER-MINUTE", "100"),
            ("INPUT_PLAN-FILE", "plan.json"),
            ("INPUT_PLAN-EXPIRES", "2d"),
            ("INPUT_DRY-RUN", "true"),
            ("INPUT_TOKEN", "ghp_another_token_value"),
        ],
    ];
    for pairs in same {
        assert_eq!(parse_ok(pairs).policy_inputs(), base, "{pairs:?}");
    }
    let differ: &[(Env, &[&str])] = &[
        (
            &[("INPUT_OLDER-THAN", "15d"), ("INPUT_TAG-REGEX", "^pr-")],
            &["older-than"],
        ),
        (
            &[("INPUT_OLDER-THAN", "2w"), ("INPUT_TAG-REGEX", "pr-")],
            &["tag-regex"],
        ),
        (
            &[
                ("INPUT_OLDER-THAN", "2w"),
                ("INPUT_TAG-REGEX", "^pr-"),
                ("INPUT_DELETE-ORPHANS", "true"),
                ("INPUT_DELETE-EMPTY-PACKAGES", "true"),
                ("INPUT_VERSION-IDS", "3,1"),
            ],
            &["version-ids", "delete-orphans", "delete-empty-packages"],
        ),
        (
            &[("INPUT_RULES", "- tag-regex: ^pr-\n  older-than: 2w")],
            &["tag-regex", "older-than", "rules"],
        ),
        (
            &[
                ("INPUT_OLDER-THAN", "2w"),
                ("INPUT_TAG-REGEX", "^pr-"),
                ("INPUT_ORDER-BY", "version"),
                ("INPUT_KEEP-REFERENCED", "deploy/**/*.yaml"),
            ],
            &["order-by", "keep-referenced"],
        ),
    ];
    for (pairs, expected) in differ {
        let inputs = parse_ok(pairs).policy_inputs();
        assert_eq!(base.differing(&inputs), *expected, "{pairs:?}");
        assert_ne!(base.fingerprint(), inputs.fingerprint(), "{pairs:?}");
    }
}

#[test]
fn pacing_inputs_override_githubs_documented_defaults() {
    let secs = Duration::from_secs;
    let defaults = parse_ok(&[]).pacing;
    assert_eq!(defaults, Pacing::default());
    assert_eq!(defaults.points_per_minute, 800);
    assert_eq!(defaults.mutation_interval, secs(1));
    assert_eq!(defaults.rate_limit_wait, secs(300));
    type Check = fn(&Pacing) -> bool;
    let table: &[(&str, &str, Check)] = &[
        ("INPUT_POINTS-PER-MINUTE", "900", |p| {
            p.points_per_minute == 900
        }),
        ("INPUT_POINTS-PER-MINUTE", "1", |p| p.points_per_minute == 1),
        ("INPUT_MUTATION-INTERVAL", "0s", |p| {
            p.mutation_interval == Duration::ZERO
        }),
        ("INPUT_MUTATION-INTERVAL", "1500ms", |p| {
            p.mutation_interval == Duration::from_millis(1500)
        }),
        ("INPUT_RATE-LIMIT-WAIT", "0s", |p| {
            p.rate_limit_wait == Duration::ZERO
        }),
        ("INPUT_RATE-LIMIT-WAIT", "1h", |p| {
            p.rate_limit_wait == Duration::from_secs(3_600)
        }),
        ("PACKAGE_JANITOR_RETRY_BASE", "10ms", |p| {
            p.retry_base == Duration::from_millis(10)
                && p.secondary_wait == Duration::from_millis(10)
        }),
        ("PACKAGE_JANITOR_REQUEST_DEADLINE", "2s", |p| {
            p.request_deadline == Duration::from_secs(2)
        }),
    ];
    for (name, value, check) in table {
        let pacing = parse_ok(&[(name, value)]).pacing;
        assert!(check(&pacing), "{name}={value} parsed as {pacing:?}");
    }
}

#[test]
fn durations_accept_humantime_forms() {
    let day = 86_400;
    let table: &[(&str, u64)] = &[
        ("30d", 30 * day),
        ("2w 3d", 17 * day),
        ("12h", 12 * 3_600),
        ("90min", 90 * 60),
        ("0s", 0),
    ];
    for (value, seconds) in table {
        let config = parse_ok(&[("INPUT_OLDER-THAN", value)]);
        assert_eq!(
            config.policy.older_than,
            Some(Duration::from_secs(*seconds)),
            "older-than {value}"
        );
    }
}

#[test]
fn version_ids_accept_comma_newline_and_json_lists() {
    let table: &[(&str, Option<BTreeSet<u64>>)] = &[
        ("123", ids(&[123])),
        ("123,456", ids(&[123, 456])),
        (" 123 , 456 ,", ids(&[123, 456])),
        ("123\n456\n", ids(&[123, 456])),
        ("123\r\n456", ids(&[123, 456])),
        ("123,456\n789", ids(&[123, 456, 789])),
        ("123,123", ids(&[123])),
        ("[123, 456]", ids(&[123, 456])),
        ("[\"123\", \"456\"]", ids(&[123, 456])),
        ("[123, \" 456 \"]", ids(&[123, 456])),
        ("[\n  123,\n  456\n]", ids(&[123, 456])),
        // Given but empty is a real, empty list: nothing is selected.
        ("[]", ids(&[])),
        (",", ids(&[])),
    ];
    for (value, expected) in table {
        let config = parse_ok(&[("INPUT_VERSION-IDS", value)]);
        assert_eq!(
            &config.policy.version_ids, expected,
            "version-ids {value:?}"
        );
    }
}

#[test]
fn package_names_are_split_trimmed_deduplicated_and_classified() {
    use PackageSelector::{Exact, Wildcard};
    let table: &[(&str, Vec<PackageSelector>)] = &[
        ("my-app", vec![Exact("my-app".into())]),
        (
            "a, b ,c",
            vec![Exact("a".into()), Exact("b".into()), Exact("c".into())],
        ),
        ("a\nb\n", vec![Exact("a".into()), Exact("b".into())]),
        ("a,,\n\n,b", vec![Exact("a".into()), Exact("b".into())]),
        ("b,a,b,a", vec![Exact("b".into()), Exact("a".into())]),
        (
            "tools/*, app-?, org/app",
            vec![
                Wildcard("tools/*".into()),
                Wildcard("app-?".into()),
                Exact("org/app".into()),
            ],
        ),
    ];
    for (value, expected) in table {
        let config = parse_ok(&[("INPUT_PACKAGES", value)]);
        assert_eq!(&config.packages, expected, "packages {value:?}");
    }
}

#[test]
fn the_owner_input_wins_over_the_repository_owner() {
    let table: &[(&[(&str, &str)], &str)] = &[
        (&[], "octo-org"),
        (&[("INPUT_OWNER", "other")], "other"),
        (&[("INPUT_OWNER", "Emu_Acme.x")], "Emu_Acme.x"),
        (
            &[("INPUT_OWNER", "me"), ("GITHUB_REPOSITORY_OWNER", "")],
            "me",
        ),
    ];
    for (pairs, owner) in table {
        assert_eq!(parse_ok(pairs).owner, *owner, "{pairs:?}");
    }
}

#[test]
fn the_api_url_defaults_to_github_and_loses_trailing_slashes() {
    let table: &[(&str, &str)] = &[
        ("", "https://api.github.com"),
        ("https://api.github.com/", "https://api.github.com"),
        (
            "https://ghes.example.com/api/v3//",
            "https://ghes.example.com/api/v3",
        ),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("HTTPS://API.EXAMPLE.COM", "HTTPS://API.EXAMPLE.COM"),
    ];
    for (value, expected) in table {
        assert_eq!(parse_ok(&[("GITHUB_API_URL", value)]).api_url, *expected);
    }
}

#[test]
fn the_registry_url_defaults_to_ghcr_and_loses_trailing_slashes() {
    let table: &[(&str, &str)] = &[
        ("", "https://ghcr.io"),
        ("https://ghcr.io/", "https://ghcr.io"),
        (
            "https://containers.ghes.example.com",
            "https://containers.ghes.example.com",
        ),
        ("http://127.0.0.1:8080//", "http://127.0.0.1:8080"),
    ];
    for (value, expected) in table {
        assert_eq!(
            parse_ok(&[("INPUT_REGISTRY-URL", value)]).registry_url,
            *expected,
            "{value}"
        );
    }
}

#[test]
fn delete_orphans_is_a_boolean_in_any_case() {
    let table: &[(&str, bool)] = &[
        ("true", true),
        ("TRUE", true),
        ("false", false),
        ("", false),
    ];
    for (value, expected) in table {
        assert_eq!(
            parse_ok(&[("INPUT_DELETE-ORPHANS", value)]).delete_orphans,
            *expected,
            "{value}"
        );
    }
}

#[test]
fn every_bad_input_is_rejected_with_its_name_and_value() {
    // (environment over BASE, input named in the error, fragment of the reported value)
    let table: &[(Env, &str, Option<&str>)] = &[
        (&[("INPUT_TOKEN", "")], "token", None),
        (&[("INPUT_TOKEN", " \n")], "token", None),
        (&[("GITHUB_REPOSITORY_OWNER", "")], "owner", None),
        (&[("INPUT_OWNER", "octo org")], "owner", Some("octo org")),
        (&[("INPUT_OWNER", "a/b")], "owner", Some("a/b")),
        (
            &[("INPUT_PACKAGE-TYPE", "pypi")],
            "package-type",
            Some("pypi"),
        ),
        (&[("INPUT_PACKAGES", "")], "packages", None),
        (&[("INPUT_PACKAGES", " , \n,")], "packages", None),
        (&[("INPUT_PACKAGES", "a b")], "packages", Some("a b")),
        (&[("INPUT_MODE", "purge")], "mode", Some("purge")),
        (&[("INPUT_ORDER-BY", "semver")], "order-by", Some("semver")),
        (
            &[("INPUT_STATE-FILE", "../outside")],
            "state-file",
            Some("../outside"),
        ),
        (
            &[("INPUT_STATE-FILE", "/tmp/state")],
            "state-file",
            Some("/tmp/state"),
        ),
        (
            &[("INPUT_TAG-REGEX", "(unclosed")],
            "tag-regex",
            Some("(unclosed"),
        ),
        (
            &[("INPUT_EXCLUDE-TAG-REGEX", "[z-a]")],
            "exclude-tag-regex",
            Some("[z-a]"),
        ),
        (&[("INPUT_OLDER-THAN", "3x")], "older-than", Some("3x")),
        (&[("INPUT_OLDER-THAN", "30")], "older-than", Some("30")),
        (&[("INPUT_OLDER-THAN", "-1d")], "older-than", Some("-1d")),
        (
            &[("INPUT_TAG-STATE", "dangling")],
            "tag-state",
            Some("dangling"),
        ),
        (
            &[("INPUT_PACKAGE-TYPE", "npm"), ("INPUT_TAG-STATE", "tagged")],
            "tag-state",
            Some("tagged"),
        ),
        (
            &[
                ("INPUT_PACKAGE-TYPE", "maven"),
                ("INPUT_TAG-STATE", "untagged"),
            ],
            "tag-state",
            Some("untagged"),
        ),
        (&[("INPUT_KEEP-LATEST", "-1")], "keep-latest", Some("-1")),
        (
            &[("INPUT_KEEP-LATEST", "three")],
            "keep-latest",
            Some("three"),
        ),
        (&[("INPUT_KEEP-LATEST", "1.5")], "keep-latest", Some("1.5")),
        (
            &[("INPUT_KEEP-REFERENCED", "../infra/*.yaml")],
            "keep-referenced",
            Some("../infra/*.yaml"),
        ),
        (
            &[("INPUT_KEEP-REFERENCED", "/etc/*.yaml")],
            "keep-referenced",
            Some("/etc/*.yaml"),
        ),
        (
            &[("INPUT_KEEP-REFERENCED", "deploy/[z-a].yaml")],
            "keep-referenced",
            Some("[z-a]"),
        ),
        (
            &[
                ("INPUT_PACKAGE-TYPE", "npm"),
                ("INPUT_KEEP-REFERENCED", "deploy/*.yaml"),
            ],
            "keep-referenced",
            Some("deploy/*.yaml"),
        ),
        (
            &[
                ("INPUT_MODE", "restore"),
                ("INPUT_KEEP-REFERENCED", "deploy/*.yaml"),
            ],
            "keep-referenced",
            Some("deploy/*.yaml"),
        ),
        (
            &[("INPUT_VERSION-IDS", "123,abc")],
            "version-ids",
            Some("abc"),
        ),
        (&[("INPUT_VERSION-IDS", "0")], "version-ids", Some("0")),
        (&[("INPUT_VERSION-IDS", "-5")], "version-ids", Some("-5")),
        (
            &[("INPUT_VERSION-IDS", "123 456")],
            "version-ids",
            Some("123 456"),
        ),
        (
            &[("INPUT_VERSION-IDS", "[123, -4]")],
            "version-ids",
            Some("-4"),
        ),
        (
            &[("INPUT_VERSION-IDS", "[1.5]")],
            "version-ids",
            Some("1.5"),
        ),
        (
            &[("INPUT_VERSION-IDS", "[\"x\"]")],
            "version-ids",
            Some("\"x\""),
        ),
        (
            &[("INPUT_VERSION-IDS", "[null]")],
            "version-ids",
            Some("null"),
        ),
        (
            &[("INPUT_VERSION-IDS", "[123,")],
            "version-ids",
            Some("[123,"),
        ),
        (
            &[("INPUT_DELETED-WITHIN", "7d")],
            "deleted-within",
            Some("7d"),
        ),
        (
            &[("INPUT_MODE", "restore"), ("INPUT_DELETED-WITHIN", "soon")],
            "deleted-within",
            Some("soon"),
        ),
        (&[("INPUT_MAX-VERSIONS", "-3")], "max-versions", Some("-3")),
        (
            &[("INPUT_MAX-VERSIONS", "lots")],
            "max-versions",
            Some("lots"),
        ),
        (
            &[("INPUT_POINTS-PER-MINUTE", "0")],
            "points-per-minute",
            Some("0"),
        ),
        (
            &[("INPUT_POINTS-PER-MINUTE", "fast")],
            "points-per-minute",
            Some("fast"),
        ),
        (
            &[("INPUT_POINTS-PER-MINUTE", "2000000")],
            "points-per-minute",
            Some("2000000"),
        ),
        (
            &[("INPUT_MUTATION-INTERVAL", "1 sec please")],
            "mutation-interval",
            Some("1 sec please"),
        ),
        (
            &[("INPUT_MUTATION-INTERVAL", "2m")],
            "mutation-interval",
            Some("2m"),
        ),
        (
            &[("INPUT_RATE-LIMIT-WAIT", "forever")],
            "rate-limit-wait",
            Some("forever"),
        ),
        (
            &[("INPUT_RATE-LIMIT-WAIT", "2h")],
            "rate-limit-wait",
            Some("2h"),
        ),
        (
            &[("PACKAGE_JANITOR_RETRY_BASE", "soon")],
            "PACKAGE_JANITOR_RETRY_BASE",
            Some("soon"),
        ),
        (
            &[("PACKAGE_JANITOR_REQUEST_DEADLINE", "2m")],
            "PACKAGE_JANITOR_REQUEST_DEADLINE",
            Some("2m"),
        ),
        (&[("INPUT_DRY-RUN", "yes")], "dry-run", Some("yes")),
        (&[("INPUT_DRY-RUN", "1")], "dry-run", Some("1")),
        (
            &[("INPUT_DELETE-EMPTY-PACKAGES", "yes")],
            "delete-empty-packages",
            Some("yes"),
        ),
        (
            &[("INPUT_PACKAGE-RESTORE-TOKEN", "two words")],
            "package-restore-token",
            None,
        ),
        (
            &[("INPUT_DELETE-ORPHANS", "yes")],
            "delete-orphans",
            Some("yes"),
        ),
        (
            &[("INPUT_REGISTRY-URL", "ghcr.io")],
            "registry-url",
            Some("ghcr.io"),
        ),
        (
            &[("INPUT_REGISTRY-URL", "https://ghcr.io/v2")],
            "registry-url",
            Some("https://ghcr.io/v2"),
        ),
        (
            &[("INPUT_REGISTRY-URL", "ftp://ghcr.io")],
            "registry-url",
            Some("ftp://ghcr.io"),
        ),
        (
            &[("GITHUB_API_URL", "api.github.com")],
            "GITHUB_API_URL",
            Some("api.github.com"),
        ),
        (
            &[("GITHUB_API_URL", "https://")],
            "GITHUB_API_URL",
            Some("https://"),
        ),
    ];
    for (pairs, input, value) in table {
        let error = parse_err(pairs);
        let shown = error.to_string();
        assert_eq!(error.input(), *input, "{pairs:?}: {shown}");
        match value {
            Some(fragment) => {
                assert!(
                    error.value().is_some_and(|v| v.contains(fragment)),
                    "{pairs:?}: value {:?} lacks {fragment:?}",
                    error.value()
                );
                assert!(shown.contains(fragment), "{pairs:?}: {shown}");
            }
            None => assert_eq!(error.value(), None, "{pairs:?}: {shown}"),
        }
        assert!(shown.contains(&format!("`{input}`")), "{pairs:?}: {shown}");
        assert!(!error.problem().is_empty(), "{pairs:?}");
    }
}

#[test]
fn error_messages_name_the_input_the_value_and_a_valid_example() {
    let table: &[(&[(&str, &str)], &str)] = &[
        (
            &[("INPUT_OLDER-THAN", "3x")],
            "input `older-than`: `3x` is not a valid duration (examples: 30d, 2w 3d, 12h): \
             unknown time unit \"x\"",
        ),
        (
            &[("INPUT_MODE", "purge")],
            "input `mode`: `purge` is not a mode (expected `delete`, `restore` or `audit`)",
        ),
        (
            &[("INPUT_TOKEN", "")],
            "input `token` is empty: it needs a token",
        ),
        (
            &[("INPUT_TAG-REGEX", "(")],
            "input `tag-regex`: `(` is not a valid regular expression (e.g. `^pr-\\d+$`; \
             matching is unanchored): regex parse error",
        ),
        (
            &[
                ("INPUT_PACKAGE-TYPE", "npm"),
                ("INPUT_TAG-STATE", "untagged"),
            ],
            "input `tag-state`: `untagged` only applies to container and docker packages, \
             and `package-type` is `npm`",
        ),
        (
            &[("GITHUB_API_URL", "ftp://x")],
            "environment variable `GITHUB_API_URL`: `ftp://x` is not an http(s) URL",
        ),
    ];
    for (pairs, start) in table {
        let shown = parse_err(pairs).to_string();
        assert!(
            shown.starts_with(start),
            "{pairs:?}:\n{shown}\ndoes not start with\n{start}"
        );
    }
}

#[test]
fn the_token_falls_back_to_github_token_then_gh_token() {
    let cases: &[(Env, &str)] = &[
        (
            &[("GITHUB_TOKEN", "from-github"), ("GH_TOKEN", "from-gh")],
            SECRET,
        ),
        (
            &[
                ("INPUT_TOKEN", ""),
                ("GITHUB_TOKEN", "from-github"),
                ("GH_TOKEN", "from-gh"),
            ],
            "from-github",
        ),
        (&[("INPUT_TOKEN", ""), ("GH_TOKEN", "from-gh")], "from-gh"),
    ];
    for (pairs, expected) in cases {
        assert_eq!(parse_ok(pairs).token.expose(), *expected, "{pairs:?}");
    }
}

#[test]
fn a_token_holding_a_control_character_is_rejected_without_its_value() {
    for token in [
        "ghp_abc\ndef",
        "ghp_abc\rdef",
        "ghp_\u{7f}x",
        "a\u{0}b",
        "a\tb",
    ] {
        let error = parse_err(&[("INPUT_TOKEN", token)]);
        assert_eq!(error.input(), "token", "{token:?}");
        assert_eq!(error.value(), None, "{token:?}");
        assert!(!error.to_string().contains("abc"), "{error}");
        assert!(error.problem().contains("control character"), "{error}");
    }
}

#[test]
fn the_owner_falls_back_to_the_repository_owner_then_the_repository() {
    let config = parse_ok(&[
        ("GITHUB_REPOSITORY_OWNER", ""),
        ("GITHUB_REPOSITORY", "someone/app"),
    ]);
    assert_eq!(config.owner, "someone");
}

#[test]
fn a_regex_that_looks_like_a_glob_warns_with_the_anchored_regex_it_probably_meant() {
    let cases = [
        ("pr-*", Some("^pr-.*")),
        ("v1*", Some("^v1.*")),
        ("^pr-*", Some("^pr-.*")),
        ("release/*", Some("^release/.*")),
        ("a*b", Some("^a.*b$")),
        ("^pr-\\d+$", None),
        ("^v\\d.*", None),
        ("[a-z]*", None),
        ("\\d*", None),
        ("(rc)*", None),
        ("latest", None),
    ];
    for (value, expected) in cases {
        for input in ["tag-regex", "exclude-tag-regex"] {
            let variable = format!("INPUT_{}", input.to_uppercase());
            let config = parse_ok(&[(variable.as_str(), value)]);
            match expected {
                Some(meant) => {
                    assert_eq!(config.warnings.len(), 1, "{value}");
                    let warning = &config.warnings[0];
                    assert!(warning.contains(&format!("`{input}`")), "{warning}");
                    assert!(
                        warning.contains(&format!("probably meant `{meant}`")),
                        "{warning}"
                    );
                }
                None => assert_eq!(config.warnings, Vec::<String>::new(), "{value}"),
            }
        }
    }
}

#[test]
fn a_leading_star_is_an_error_showing_the_regex_it_probably_meant() {
    let cases = [("*-rc", ".*-rc$"), ("*", ".*"), ("*pr-*", ".*pr-.*")];
    for (value, meant) in cases {
        let error = parse_err(&[("INPUT_TAG-REGEX", value)]);
        assert_eq!(error.input(), "tag-regex");
        assert_eq!(error.value(), Some(value));
        assert!(
            error
                .problem()
                .contains(&format!("probably meant `{meant}`")),
            "{error}"
        );
    }
}

#[test]
fn a_value_that_is_not_utf8_names_its_input_or_variable() {
    let input = InputError::not_unicode("dry-run");
    assert_eq!(input.input(), "dry-run");
    assert!(input.to_string().starts_with("input `dry-run`"), "{input}");
    let runner = InputError::not_unicode("GITHUB_TOKEN");
    assert!(
        runner
            .to_string()
            .starts_with("environment variable `GITHUB_TOKEN`"),
        "{runner}"
    );
}

#[test]
fn the_token_never_appears_in_any_error_or_in_debug_output() {
    // One of every failure, each with the secret set as the token.
    let failures: &[&[(&str, &str)]] = &[
        &[("GITHUB_REPOSITORY_OWNER", "")],
        &[("INPUT_OWNER", "x y")],
        &[("INPUT_PACKAGE-TYPE", "pypi")],
        &[("INPUT_PACKAGES", "")],
        &[("INPUT_MODE", "purge")],
        &[("INPUT_TAG-REGEX", "(")],
        &[("INPUT_OLDER-THAN", "3x")],
        &[("INPUT_PACKAGE-TYPE", "npm"), ("INPUT_TAG-STATE", "tagged")],
        &[("INPUT_KEEP-LATEST", "-1")],
        &[("INPUT_VERSION-IDS", "abc")],
        &[("INPUT_DELETED-WITHIN", "7d")],
        &[("INPUT_MAX-VERSIONS", "x")],
        &[("INPUT_DRY-RUN", "maybe")],
        &[("GITHUB_API_URL", "nope")],
        &[("INPUT_REGISTRY-URL", "nope")],
        &[("INPUT_DELETE-ORPHANS", "maybe")],
        &[("INPUT_DELETE-EMPTY-PACKAGES", "maybe")],
    ];
    for pairs in failures {
        let error = parse_err(pairs);
        for shown in [
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
        ] {
            assert!(
                !shown.contains(SECRET),
                "{pairs:?} leaks the token: {shown}"
            );
        }
    }
    let config = parse_ok(&[("INPUT_PACKAGE-RESTORE-TOKEN", SECRET)]);
    for shown in [format!("{config:?}"), format!("{config:#?}")] {
        assert!(
            !shown.contains(SECRET),
            "Config Debug leaks the token: {shown}"
        );
    }
    let missing = parse_err(&[("INPUT_TOKEN", "")]);
    assert_eq!(missing.value(), None);
    let spaced = format!("{SECRET} {SECRET}");
    let restore_token = parse_err(&[("INPUT_PACKAGE-RESTORE-TOKEN", &spaced)]);
    assert!(!format!("{restore_token} {restore_token:?}").contains(SECRET));
}

#[test]
fn a_quoted_value_is_cut_to_its_first_200_characters_with_its_length() {
    let long = "a".repeat(201);
    let wide = "é".repeat(300);
    let cases = [
        ("v(1".to_string(), "`v(1`".to_string()),
        ("a".repeat(200), format!("`{}`", "a".repeat(200))),
        (
            long,
            format!(
                "`{}…` (201 characters; the first 200 shown)",
                "a".repeat(200)
            ),
        ),
        (
            wide,
            format!(
                "`{}…` (300 characters; the first 200 shown)",
                "é".repeat(200)
            ),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(quote(&value), expected);
    }
    assert_eq!(label("dev builds"), "dev builds");
    assert_eq!(
        label(&"n".repeat(1000)),
        format!("{}… (1000 characters)", "n".repeat(200))
    );
}

#[test]
fn no_input_error_shows_more_than_the_cap_of_a_huge_value() {
    let huge = |unit: &str| unit.repeat(120 * 1024 / unit.len());
    let bad_regex = format!("({}", huge("ab"));
    let glob = format!("*{}", huge("x"));
    let duration = format!("30{}", huge("z"));
    let ids = format!("1,{}", huge("9x"));
    let owner = huge("o/");
    let packages = format!("{} b", huge("p"));
    let rules_yaml = format!("{}- tag-regex: [oops\n", "- keep-latest: 1\n".repeat(7000));
    let rules_regex = format!("- tag-regex: '{bad_regex}'\n");
    let rules_name = format!("- name: {}\n  older-than: soon\n", huge("n"));
    let rules_key = format!("- {}: 1\n", huge("k"));
    let cases: [(&str, &str); 10] = [
        ("INPUT_TAG-REGEX", &bad_regex),
        ("INPUT_EXCLUDE-TAG-REGEX", &glob),
        ("INPUT_OLDER-THAN", &duration),
        ("INPUT_VERSION-IDS", &ids),
        ("INPUT_OWNER", &owner),
        ("INPUT_PACKAGES", &packages),
        ("INPUT_RULES", &rules_yaml),
        ("INPUT_RULES", &rules_regex),
        ("INPUT_RULES", &rules_name),
        ("INPUT_RULES", &rules_key),
    ];
    for (name, value) in cases {
        let shown = parse_err(&[(name, value)]).to_string();
        assert!(
            shown.len() < 1024,
            "{name}: {} bytes:\n{}",
            shown.len(),
            &shown[..2000.min(shown.len())]
        );
        assert!(shown.contains(" characters"), "{name}: {shown}");
    }
}

#[test]
fn a_secret_in_a_long_value_is_redacted_before_the_value_is_cut() {
    let value = format!("{}{SECRET}", "x".repeat(195));
    let error = parse_err(&[("INPUT_OLDER-THAN", &value)]);
    let redacted = error
        .redacted(|text| text.replace(SECRET, "***"))
        .to_string();
    assert!(
        redacted.contains(&format!("{}***", "x".repeat(195))),
        "{redacted}"
    );
    assert!(!redacted.contains(&SECRET[..5]), "{redacted}");
}

#[test]
fn untag_is_for_container_packages_in_delete_mode_only() {
    assert!(!parse_ok(&[]).untag);
    assert!(parse_ok(&[("INPUT_UNTAG", "true")]).untag);
    let cases: &[(Env, &str)] = &[
        (
            &[("INPUT_UNTAG", "true"), ("INPUT_MODE", "restore")],
            "only applies when `mode` is `delete`, and `mode` is `restore`",
        ),
        (
            &[("INPUT_UNTAG", "true"), ("INPUT_MODE", "audit")],
            "only applies when `mode` is `delete`, and `mode` is `audit`",
        ),
        (
            &[("INPUT_UNTAG", "true"), ("INPUT_PACKAGE-TYPE", "npm")],
            "only applies to container packages",
        ),
        (&[("INPUT_UNTAG", "sometimes")], "sometimes"),
        (
            &[("INPUT_UNTAG", "true"), ("INPUT_PLAN-FILE", "plan.json")],
            "cannot be combined with `plan-file`",
        ),
    ];
    for (pairs, problem) in cases {
        let error = parse_err(pairs);
        assert_eq!(error.input(), "untag", "{pairs:?}");
        assert!(error.to_string().contains(problem), "{pairs:?}: {error}");
    }
}

#[test]
fn restore_tags_is_for_container_restores_and_restores_no_version_unless_named() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let value = format!(r#"[{{"tag": "sha-1", "digest": "{digest}"}}]"#);
    let config = parse_ok(&[("INPUT_MODE", "restore"), ("INPUT_RESTORE-TAGS", &value)]);
    let tags = config.restore_tags.expect("restore-tags parsed");
    assert_eq!(tags.len(), 1);
    assert_eq!(
        (tags[0].tag.as_str(), tags[0].digest.as_str()),
        ("sha-1", digest.as_str())
    );
    assert_eq!(
        config.policy.version_ids,
        Some(BTreeSet::new()),
        "no deleted version is selected by the other filters alone"
    );
    let with_ids = parse_ok(&[
        ("INPUT_MODE", "restore"),
        ("INPUT_RESTORE-TAGS", &value),
        ("INPUT_VERSION-IDS", "7"),
    ]);
    assert_eq!(with_ids.policy.version_ids, ids(&[7]));
    assert_eq!(parse_ok(&[("INPUT_MODE", "restore")]).restore_tags, None);

    for pairs in [
        vec![("INPUT_RESTORE-TAGS", value.as_str())],
        vec![
            ("INPUT_MODE", "restore"),
            ("INPUT_PACKAGE-TYPE", "npm"),
            ("INPUT_RESTORE-TAGS", value.as_str()),
        ],
    ] {
        let error = parse_err(&pairs);
        assert_eq!(error.input(), "restore-tags");
        assert!(
            error
                .to_string()
                .contains("only applies to container packages in restore mode"),
            "{error}"
        );
    }
}
