//! The one table of action inputs, and the variables a run reads them from.
//!
//! [`INPUTS`] is read by the command line (a flag per input), by the typo check (an
//! `INPUT_*` variable that names no input), by the property tests (arbitrary text into every
//! input), and by tests that hold it equal to `action.yml` and find a row for each input in
//! the README's table. Adding an input is one line here, its entry in `action.yml` and its
//! row in the README.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// One input of `action.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    /// The name in `action.yml` and of the flag (`older-than`, `--older-than`).
    pub name: &'static str,
    /// `action.yml`'s default (`""` when it has none); `None` for a required input.
    pub default: Option<&'static str>,
    /// A `true`/`false` input: its flag is a switch that also takes `=true` or `=false`.
    pub switch: bool,
    /// One line for `--help`.
    pub help: &'static str,
    /// A value that shows the form, for `--help`.
    pub example: &'static str,
}

const fn input(
    name: &'static str,
    default: &'static str,
    help: &'static str,
    example: &'static str,
) -> Input {
    Input {
        name,
        default: Some(default),
        switch: false,
        help,
        example,
    }
}

const fn switch(name: &'static str, help: &'static str) -> Input {
    Input {
        name,
        default: Some("false"),
        switch: true,
        help,
        example: "true",
    }
}

/// Every input of `action.yml`, in its order.
pub const INPUTS: &[Input] = &[
    input(
        "token",
        "${{ github.token }}",
        "token for the API and the registry; else INPUT_TOKEN, GITHUB_TOKEN or GH_TOKEN",
        "\"$(gh auth token)\"",
    ),
    input(
        "owner",
        "",
        "user or organization that owns the packages; else GITHUB_REPOSITORY_OWNER",
        "octo-org",
    ),
    input(
        "package-type",
        "container",
        "container, npm, maven, nuget, rubygems or docker",
        "npm",
    ),
    Input {
        default: None,
        ..input(
            "packages",
            "",
            "package names, comma- or newline-separated; `*` and `?` are wildcards (PAT only)",
            "my-app,tools/*",
        )
    },
    input(
        "mode",
        "delete",
        "delete active versions, restore deleted ones, or audit a package (changes nothing)",
        "restore",
    ),
    input(
        "tag-regex",
        "",
        "select versions with a tag (or, without tags, a name) matching this unanchored regex",
        "'^pr-\\d+$'",
    ),
    input(
        "exclude-tag-regex",
        "",
        "never touch a version with a tag (or name) matching this regex",
        "'^(latest|v\\d.*)$'",
    ),
    input(
        "older-than",
        "",
        "select versions last updated longer ago than this",
        "2w",
    ),
    input(
        "tag-state",
        "any",
        "any, tagged or untagged (container and docker only)",
        "untagged",
    ),
    input(
        "keep-latest",
        "0",
        "of the versions that pass every filter, keep the N most recent (container: N images)",
        "10",
    ),
    input(
        "order-by",
        "pushed",
        "how keep-latest ranks versions: pushed (newest first) or version (highest first, as the ecosystem orders versions)",
        "version",
    ),
    input(
        "rules",
        "",
        "a whole policy as a YAML list of rules (name, tag-regex, exclude-tag-regex, tag-state, older-than, keep-latest, order-by, group-by)",
        "'[{name: releases, tag-regex: \"^v\", keep-latest: 10, order-by: version}]'",
    ),
    input(
        "keep-referenced",
        "",
        "delete mode, container: keep every image that workspace files matching these globs name (comma- or newline-separated)",
        "'deploy/**/*.yaml, docker-compose*.yml'",
    ),
    input(
        "version-ids",
        "",
        "act only on these ids: a comma/newline list or a JSON array (a run's `ids` output)",
        "123,456",
    ),
    input(
        "deleted-within",
        "",
        "restore mode only: select versions deleted within this duration",
        "1d",
    ),
    input(
        "max-versions",
        "",
        "if more than N versions would be affected, change nothing and fail",
        "200",
    ),
    input(
        "max-percent",
        "",
        "if more than this share of a package's active versions would be deleted, change nothing and fail",
        "25",
    ),
    switch("dry-run", "plan and report; change nothing"),
    input(
        "plan-file",
        "",
        "a path inside the workspace: a dry run writes its plan there (JSON, and Markdown beside it); a real run deletes only what that plan names, unchanged",
        "plan/plan.json",
    ),
    input(
        "plan-expires",
        "1d",
        "how long a plan written by a dry run can be applied (at most 30d)",
        "3d",
    ),
    input(
        "registry-url",
        "https://ghcr.io",
        "container registry the image manifests are read from",
        "https://containers.ghes.example.com",
    ),
    switch(
        "delete-orphans",
        "container: also delete untagged manifests and artifacts no kept image references",
    ),
    switch(
        "untag",
        "container, delete mode: when an image is selected for some tags but has others no rule selects, remove only those tags and keep the image",
    ),
    input(
        "restore-tags",
        "",
        "restore mode: put back the tags a run's `untagged` output lists, each on the digest it named",
        "'[{\"package\": \"app\", \"tag\": \"sha-1a2b3c\", \"digest\": \"sha256:…\"}]'",
    ),
    switch(
        "fail-on-broken",
        "audit mode: exit 1 when an image cannot be pulled whole",
    ),
    switch(
        "verify",
        "delete mode: after the cleanup, re-read every kept tag and fail if one no longer pulls whole",
    ),
    switch(
        "delete-empty-packages",
        "delete mode: delete a package with one request when the policy selects all its versions",
    ),
    input(
        "package-restore-token",
        "",
        "restore mode: GitHub's token naming which deleted package to restore when several share the name",
        "abc123",
    ),
    input(
        "state-file",
        "",
        "a path inside the workspace for the run state kept between runs (listings that span runs, manifests proven by digest); it says where to look, never what to delete",
        ".package-janitor/state",
    ),
    input(
        "points-per-minute",
        "800",
        "secondary rate-limit points per minute (GET 1, DELETE/POST 5)",
        "800",
    ),
    input(
        "mutation-interval",
        "1s",
        "least time between two deletes or restores",
        "0s",
    ),
    input(
        "rate-limit-wait",
        "5m",
        "wait this long at most for the hourly rate limit to reset, else stop cleanly",
        "0s",
    ),
];

/// The runner variable an input is read from: `INPUT_` + the upper-cased name, hyphens kept.
pub fn variable(name: &str) -> String {
    format!("INPUT_{}", name.to_ascii_uppercase())
}

/// The input whose name is closest to `name` (ignoring case, `-` and `_`), if any is close
/// enough to be a likely typo.
pub fn closest(name: &str) -> Option<&'static str> {
    let squash = |text: &str| -> String {
        text.chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = squash(name);
    INPUTS
        .iter()
        .map(|input| {
            (
                strsim::damerau_levenshtein(&wanted, &squash(input.name)),
                input.name,
            )
        })
        .min()
        .filter(|(distance, known)| *distance <= known.len().div_ceil(3))
        .map(|(_, known)| known)
}

/// A variable whose value is not UTF-8, named the way the user knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUnicode {
    /// The input (`dry-run`), or the variable for one that is not an input (`GITHUB_TOKEN`).
    pub name: String,
}

/// Runner variables that are read besides the inputs, so their values must be UTF-8 too.
pub const RUNNER_VARIABLES: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_REPOSITORY_OWNER",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "PACKAGE_JANITOR_RETRY_BASE",
    "PACKAGE_JANITOR_REQUEST_DEADLINE",
];

/// The variables a run reads, with command-line flags laid over the `INPUT_*` ones, and the
/// warnings about `INPUT_*` variables that name no input.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, String>,
    /// One line per unknown `INPUT_*` variable, with the closest input if one is close.
    pub warnings: Vec<String>,
}

impl Variables {
    /// Reads `environment` (the process's variables) and then `flags` (input name, value),
    /// which win. A value that is not UTF-8, in an input or a variable the run reads, is an
    /// error naming it, so that it is never taken for unset.
    pub fn collect(
        environment: impl IntoIterator<Item = (OsString, OsString)>,
        flags: impl IntoIterator<Item = (&'static str, OsString)>,
    ) -> Result<Variables, NotUnicode> {
        let mut variables = Variables::default();
        for (key, value) in environment {
            let Some(key) = key.to_str() else { continue };
            let input = key.strip_prefix("INPUT_").map(|rest| {
                INPUTS
                    .iter()
                    .find(|input| variable(input.name) == key)
                    .map(|input| input.name)
                    .ok_or(rest)
            });
            let name = match input {
                Some(Ok(name)) => name.to_owned(),
                Some(Err(unknown)) => {
                    variables.warnings.push(unknown_input(key, unknown));
                    continue;
                }
                None if RUNNER_VARIABLES.contains(&key) => key.to_owned(),
                None => continue,
            };
            variables.insert(key.to_owned(), &value, name)?;
        }
        for (name, value) in flags {
            variables.insert(variable(name), &value, name.to_owned())?;
        }
        Ok(variables)
    }

    /// A variable's value, for [`super::Config::from_env`].
    pub fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned()
    }

    fn insert(&mut self, key: String, value: &OsStr, name: String) -> Result<(), NotUnicode> {
        let value = value.to_str().ok_or(NotUnicode { name })?;
        self.values.insert(key, value.to_owned());
        Ok(())
    }
}

fn unknown_input(variable_name: &str, rest: &str) -> String {
    let hint = match closest(rest) {
        Some(known) => format!("did you mean `{known}` (`{}`)?", variable(known)),
        None => "see `package-janitor --help` for the inputs".to_owned(),
    };
    format!("`{variable_name}` is not an input of package-janitor and is ignored: {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(key, value)| (OsString::from(key), OsString::from(value)))
            .collect()
    }

    #[test]
    fn typos_find_the_closest_input() {
        let cases = [
            ("DRY_RUN", Some("dry-run")),
            ("TAGREGEX", Some("tag-regex")),
            ("tag_regx", Some("tag-regex")),
            ("OLDER_THEN", Some("older-than")),
            ("PACKAGE", Some("packages")),
            ("KEEP_LAST", Some("keep-latest")),
            ("something-else-entirely", None),
            ("X", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(closest(typed), expected, "{typed}");
        }
    }

    #[test]
    fn unknown_input_variables_warn_with_the_closest_name_and_are_ignored() {
        let variables = Variables::collect(
            os(&[
                ("INPUT_DRY_RUN", "true"),
                ("INPUT_TAGREGEX", "^pr-"),
                ("INPUT_DRY-RUN", "false"),
                ("HOME", "/root"),
            ]),
            [],
        )
        .expect("all UTF-8");
        assert_eq!(variables.warnings.len(), 2, "{:?}", variables.warnings);
        assert!(variables.warnings[0].contains("`INPUT_DRY_RUN`"));
        assert!(variables.warnings[0].contains("did you mean `dry-run` (`INPUT_DRY-RUN`)?"));
        assert!(variables.warnings[1].contains("`INPUT_TAGREGEX`"));
        assert!(variables.warnings[1].contains("did you mean `tag-regex` (`INPUT_TAG-REGEX`)?"));
        assert_eq!(variables.get("INPUT_DRY-RUN").as_deref(), Some("false"));
        assert_eq!(variables.get("INPUT_DRY_RUN"), None);
        assert_eq!(variables.get("HOME"), None);
    }

    #[test]
    fn flags_win_over_input_variables() {
        let variables = Variables::collect(
            os(&[("INPUT_OLDER-THAN", "2w"), ("INPUT_MODE", "delete")]),
            [("older-than", OsString::from("3d"))],
        )
        .expect("all UTF-8");
        assert_eq!(variables.get("INPUT_OLDER-THAN").as_deref(), Some("3d"));
        assert_eq!(variables.get("INPUT_MODE").as_deref(), Some("delete"));
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_an_error_naming_the_input() {
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(vec![b't', 0xff, b'e']);
        type Case = (
            Vec<(OsString, OsString)>,
            Vec<(&'static str, OsString)>,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (vec![("INPUT_DRY-RUN".into(), bad())], vec![], "dry-run"),
            (
                vec![("INPUT_VERSION-IDS".into(), bad())],
                vec![],
                "version-ids",
            ),
            (vec![("GITHUB_TOKEN".into(), bad())], vec![], "GITHUB_TOKEN"),
            (vec![], vec![("older-than", bad())], "older-than"),
        ];
        for (environment, flags, name) in cases {
            let error = Variables::collect(environment, flags).expect_err("not UTF-8");
            assert_eq!(error.name, name);
        }
        let ignored = Variables::collect(vec![("HOME".into(), bad())], []);
        assert!(
            ignored.is_ok(),
            "variables the run never reads are not checked"
        );
    }

    #[test]
    fn the_table_is_action_yml_inputs_with_their_defaults_in_order() {
        let action: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(include_str!("../../action.yml")).expect("action.yml parses");
        let declared = action["inputs"]
            .as_mapping()
            .expect("action.yml has inputs");
        let from_yaml: Vec<(String, Option<String>)> = declared
            .iter()
            .map(|(name, spec)| {
                let required = spec["required"].as_bool().unwrap_or(false);
                let default = spec["default"].as_str().unwrap_or_default().to_owned();
                let name = name.as_str().expect("input names are strings").to_owned();
                (name, (!required).then_some(default))
            })
            .collect();
        let from_table: Vec<(String, Option<String>)> = INPUTS
            .iter()
            .map(|input| (input.name.to_owned(), input.default.map(str::to_owned)))
            .collect();
        assert_eq!(from_table, from_yaml);
        for (input, (_, spec)) in INPUTS.iter().zip(declared) {
            let description = spec["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{} has no description", input.name);
            assert_eq!(
                input.switch,
                input.default == Some("false"),
                "{}",
                input.name
            );
        }
    }

    #[test]
    fn the_readme_input_table_lists_every_input() {
        let readme = include_str!("../../README.md");
        for input in INPUTS {
            let row = format!("| `{}` |", input.name);
            assert!(readme.contains(&row), "README has no row {row}");
        }
    }

    #[test]
    fn every_input_has_help_and_an_example_and_a_unique_name() {
        let mut names: Vec<&str> = INPUTS.iter().map(|input| input.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), INPUTS.len());
        for input in INPUTS {
            assert!(!input.help.is_empty(), "{}", input.name);
            assert!(!input.example.is_empty(), "{}", input.name);
            assert!(
                input
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                input.name
            );
        }
    }
}
