//! Action inputs, parsed once into a typed configuration.

pub mod cli;
pub mod inputs;
pub mod rules;

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use regex::Regex;

use crate::model::mode::Mode;
use crate::model::version::PackageType;
use crate::policy::rules::{Policy, TagState};
use crate::transport::pacing::Pacing;
use crate::transport::token::Token;

/// A name from the `packages` input: exact, or a pattern with `*`/`?` wildcards that is
/// expanded through the list-packages endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSelector {
    Exact(String),
    Wildcard(String),
}

/// Everything the run needs, validated before any API call.
#[derive(Debug, Clone)]
pub struct Config {
    pub token: Token,
    pub owner: String,
    pub package_type: PackageType,
    pub packages: Vec<PackageSelector>,
    pub mode: Mode,
    pub policy: Policy,
    /// Safety limit: more selected versions than this fails the run before any change.
    /// `Some(0)` is valid and lets no version through; `None` is no limit.
    pub max_versions: Option<usize>,
    pub dry_run: bool,
    /// REST API base, from `GITHUB_API_URL` (GitHub Enterprise Server), default api.github.com.
    pub api_url: String,
    /// Container registry base (`registry-url`), without a trailing slash; default ghcr.io.
    pub registry_url: String,
    /// `delete-orphans`: also delete untagged manifests and artifacts no kept image references.
    pub delete_orphans: bool,
    /// `fail-on-broken`: an audit that finds a broken image exits 1.
    pub fail_on_broken: bool,
    /// `verify`: after a delete-mode cleanup, re-read every kept tag's tree from the registry.
    pub verify: bool,
    /// `delete-empty-packages`: delete a package with one request when the plan selects every
    /// active version of it, instead of its versions one by one (delete mode only).
    pub delete_empty_packages: bool,
    /// `package-restore-token`: GitHub's `token` query parameter for restoring a deleted
    /// package whose name several deleted packages share. A secret: `Debug` hides it.
    pub package_restore_token: Option<Token>,
    /// Request rate, retries and waits: `points-per-minute`, `mutation-interval`,
    /// `rate-limit-wait`, and `PACKAGE_JANITOR_RETRY_BASE` for tests.
    pub pacing: Pacing,
    /// Inputs that parsed but are probably not what was meant (a glob in a regex input),
    /// for the run to log as warnings.
    pub warnings: Vec<String>,
    /// `state-file`: where the run state is kept between runs (a relative path inside the
    /// workspace), or `None` for runs that start from nothing.
    pub state_file: Option<std::path::PathBuf>,
}

/// A bad action input (or runner environment variable), found before any API call.
///
/// Holds which input is wrong, the offending value (never for `token`, whose value is a
/// secret), and what is wrong with it, including what a valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    source: Source,
    value: Option<String>,
    problem: String,
}

/// Where a bad value came from, so the message names it the way the user knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// An action input, by its `action.yml` name (`older-than`).
    Input(&'static str),
    /// A variable the runner sets (`GITHUB_API_URL`).
    Runner(&'static str),
    /// A place in the `rules` input: `rule 3 (dev builds): older-than`.
    Rule(String),
}

impl InputError {
    /// The input name as written in the workflow (`older-than`), or the runner variable
    /// (`GITHUB_API_URL`) for values that do not come from an input.
    pub fn input(&self) -> &str {
        match &self.source {
            Source::Input(name) | Source::Runner(name) => name,
            Source::Rule(_) => "rules",
        }
    }

    /// The offending value, trimmed; `None` when the input is missing, and always for `token`.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// What is wrong, and what a valid value looks like.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    fn missing(input: &'static str, problem: impl Into<String>) -> Self {
        InputError {
            source: Source::Input(input),
            value: None,
            problem: problem.into(),
        }
    }

    /// A value that is not UTF-8, in an input (`dry-run`) or a runner variable (`GITHUB_TOKEN`).
    pub fn not_unicode(name: &str) -> Self {
        let problem = "is not valid UTF-8 text: set it again as plain text; no request was sent";
        match inputs::INPUTS.iter().find(|input| input.name == name) {
            Some(input) => InputError::missing(input.name, problem),
            None => InputError {
                source: Source::Runner(
                    inputs::RUNNER_VARIABLES
                        .iter()
                        .find(|variable| **variable == name)
                        .copied()
                        .unwrap_or("an environment variable"),
                ),
                value: None,
                problem: problem.to_owned(),
            },
        }
    }

    fn invalid(input: &'static str, value: &str, problem: impl Into<String>) -> Self {
        InputError {
            source: Source::Input(input),
            value: Some(value.to_owned()),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Input(name) => write!(f, "input `{name}`")?,
            Source::Runner(name) => write!(f, "environment variable `{name}`")?,
            Source::Rule(at) => write!(f, "input `rules`: {at}")?,
        }
        match (&self.value, &self.source) {
            (Some(value), _) => write!(f, ": `{value}` {}", self.problem),
            (None, Source::Rule(_)) => write!(f, ": {}", self.problem),
            (None, _) => write!(f, " {}", self.problem),
        }
    }
}

impl std::error::Error for InputError {}

const DEFAULT_API_URL: &str = "https://api.github.com";
const DEFAULT_REGISTRY_URL: &str = "https://ghcr.io";
/// GitHub.com allows 900 points a minute per REST endpoint; GitHub Enterprise Server admins
/// set their own limits (or none), so higher values are accepted up to this sanity bound.
const MAX_POINTS_PER_MINUTE: u64 = 1_000_000;
/// The primary budget resets at least hourly, so no wait for it needs to be longer.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(3_600);
/// Mutations further apart than this would make a cleanup crawl; it is surely a mistake.
const MAX_MUTATION_INTERVAL: Duration = Duration::from_secs(60);
const DURATION_EXAMPLES: &str = "examples: 30d, 2w 3d, 12h";
const DURATION_EXAMPLES_SHORT: &str = "examples: 0s, 500ms, 5m";
const VERSION_IDS_EXAMPLES: &str = "expected positive integers separated by commas or newlines, \
     or a JSON array, e.g. `123,456` or `[123, 456]`";

impl Config {
    /// Parse and validate every input. `lookup` returns an environment variable's value: the
    /// binary passes the process environment, tests pass a table.
    ///
    /// Inputs are read as the runner sets them: `INPUT_` + the upper-cased input name, hyphens
    /// kept (`INPUT_TAG-REGEX`). Values are trimmed, and an empty or whitespace-only value
    /// counts as unset, because that is what the runner passes for an input left out (or set
    /// to an empty expression) with no default.
    ///
    /// Decisions the input table leaves open:
    /// - Choices (`package-type`, `mode`, `tag-state`, `dry-run`) are case-insensitive.
    /// - Regexes are trimmed like every other value (a YAML block scalar adds a newline) and
    ///   are matched unanchored: `pr-` matches `my-pr-1`; write `^pr-` to mean a prefix.
    /// - `version-ids` given but listing no ids (`[]`) selects nothing, it is not ignored.
    /// - `max-versions: 0` is valid: any selected version trips the limit, so nothing is
    ///   changed. Leave it unset for no limit.
    /// - `owner` may hold only letters, digits, `-`, `_` and `.`, since it goes into URL paths.
    /// - Package names cannot contain whitespace: `a b` is almost certainly a mistaken list.
    /// - `points-per-minute` above GitHub.com's 900 is accepted (up to 1,000,000) for GitHub
    ///   Enterprise Server, whose admins set their own limits; `mutation-interval` is at most
    ///   60s and `rate-limit-wait` at most 1h (the primary budget resets hourly).
    /// - `PACKAGE_JANITOR_RETRY_BASE` (not an input) sets the first backoff after a failed
    ///   request and the least wait after a secondary-limit answer without `retry-after`, so
    ///   tests need not wait a minute; users have no reason to set it.
    /// - `PACKAGE_JANITOR_REQUEST_DEADLINE` (not an input) shortens the 60 s whole-request
    ///   deadline, for tests of answers that never end.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, InputError> {
        let var = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let input = |name: &str| var(&format!("INPUT_{}", name.to_ascii_uppercase()));

        let token = parse_token(TOKEN_VARIABLES.iter().find_map(|name| var(name)))?;
        let owner = parse_owner(
            input("owner")
                .or_else(|| var("GITHUB_REPOSITORY_OWNER"))
                .or_else(|| {
                    var("GITHUB_REPOSITORY")
                        .and_then(|repository| Some(repository.split_once('/')?.0.to_owned()))
                }),
        )?;
        let package_type = match input("package-type") {
            Some(value) => parse_package_type(&value)?,
            None => PackageType::Container,
        };
        let packages = parse_packages(input("packages").as_deref())?;
        let mode = match input("mode") {
            Some(value) => parse_mode(&value)?,
            None => Mode::Delete,
        };
        let tag_regex = input("tag-regex")
            .map(|value| parse_regex("tag-regex", &value))
            .transpose()?;
        let exclude_tag_regex = input("exclude-tag-regex")
            .map(|value| parse_regex("exclude-tag-regex", &value))
            .transpose()?;
        let older_than = input("older-than")
            .map(|value| parse_duration("older-than", &value))
            .transpose()?;
        let tag_state = match input("tag-state") {
            Some(value) => parse_tag_state(&value, package_type)?,
            None => TagState::Any,
        };
        let keep_latest = match input("keep-latest") {
            Some(value) => parse_count("keep-latest", &value, "e.g. 0 or 5")?,
            None => 0,
        };
        let version_ids = input("version-ids")
            .map(|value| parse_version_ids(&value))
            .transpose()?;
        let deleted_within = match input("deleted-within") {
            Some(value) if mode != Mode::Restore => {
                return Err(InputError::invalid(
                    "deleted-within",
                    &value,
                    format!(
                        "only applies when `mode` is `restore`, and `mode` is `{}`: \
                         remove it, or set `mode: restore`",
                        mode.as_str()
                    ),
                ));
            }
            Some(value) => Some(parse_duration("deleted-within", &value)?),
            None => None,
        };
        let max_versions = input("max-versions")
            .map(|value| {
                parse_count(
                    "max-versions",
                    &value,
                    "e.g. 100; leave it empty for no limit",
                )
            })
            .transpose()?;
        let dry_run = match input("dry-run") {
            Some(value) => parse_bool("dry-run", &value)?,
            None => false,
        };
        let api_url = parse_api_url(var("GITHUB_API_URL"))?;
        let registry_url = match input("registry-url") {
            Some(value) => parse_registry_url(&value)?,
            None => DEFAULT_REGISTRY_URL.to_owned(),
        };
        let delete_orphans = match input("delete-orphans") {
            Some(value) => parse_bool("delete-orphans", &value)?,
            None => false,
        };
        let fail_on_broken = match input("fail-on-broken") {
            Some(value) => parse_bool("fail-on-broken", &value)?,
            None => false,
        };
        let verify = match input("verify") {
            Some(value) => parse_bool("verify", &value)?,
            None => false,
        };
        let delete_empty_packages = match input("delete-empty-packages") {
            Some(value) => parse_bool("delete-empty-packages", &value)?,
            None => false,
        };
        let package_restore_token = input("package-restore-token")
            .map(parse_package_restore_token)
            .transpose()?;
        let pacing = parse_pacing(
            &input,
            var("PACKAGE_JANITOR_RETRY_BASE"),
            var("PACKAGE_JANITOR_REQUEST_DEADLINE"),
        )?;
        let rules = match input("rules") {
            Some(value) => {
                let flat = [
                    ("tag-regex", tag_regex.is_some()),
                    ("tag-state", tag_state != TagState::Any),
                    ("older-than", older_than.is_some()),
                    ("keep-latest", keep_latest != 0),
                ];
                if let Some((name, _)) = flat.into_iter().find(|(_, set)| *set) {
                    return Err(InputError::invalid(
                        name,
                        &input(name).unwrap_or_default(),
                        "cannot be combined with `rules`: put it in a rule (each rule has \
                         its own tag-regex, tag-state, older-than and keep-latest)",
                    ));
                }
                rules::parse(&value, package_type)?
            }
            None => Vec::new(),
        };
        let warnings = [
            ("tag-regex", &tag_regex),
            ("exclude-tag-regex", &exclude_tag_regex),
        ]
        .into_iter()
        .filter_map(|(name, regex)| glob_warning(name, regex.as_ref()?.as_str()))
        .collect();
        let state_file = input("state-file")
            .map(|value| parse_state_file(&value))
            .transpose()?;

        Ok(Config {
            token,
            owner,
            package_type,
            packages,
            mode,
            policy: Policy {
                tag_regex,
                exclude_tag_regex,
                older_than,
                tag_state,
                keep_latest,
                version_ids,
                deleted_within,
                rules,
            },
            max_versions,
            dry_run,
            api_url,
            registry_url,
            delete_orphans,
            fail_on_broken,
            verify,
            delete_empty_packages,
            package_restore_token,
            pacing,
            warnings,
            state_file,
        })
    }
}

/// A relative path that stays inside the workspace (no `..`), e.g. `.package-janitor/state`.
fn parse_state_file(value: &str) -> Result<std::path::PathBuf, InputError> {
    use std::path::{Component, Path};
    let path = Path::new(value);
    let inside = path
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    if inside && path.file_name().is_some() {
        Ok(path.to_path_buf())
    } else {
        Err(InputError::invalid(
            "state-file",
            value,
            "must be a file path relative to the workspace, without `..`, e.g. \
             `.package-janitor/state.json.gz`",
        ))
    }
}

/// The pacing inputs over [`Pacing`]'s defaults.
fn parse_pacing(
    input: &impl Fn(&str) -> Option<String>,
    retry_base: Option<String>,
    request_deadline: Option<String>,
) -> Result<Pacing, InputError> {
    let mut pacing = Pacing::default();
    if let Some(value) = input("points-per-minute") {
        let points = parse_count(
            "points-per-minute",
            &value,
            "e.g. 800; GitHub.com allows at most 900",
        )?;
        if points == 0 || points as u64 > MAX_POINTS_PER_MINUTE {
            return Err(InputError::invalid(
                "points-per-minute",
                &value,
                format!(
                    "is out of range: it must be between 1 and {MAX_POINTS_PER_MINUTE} \
                     (default 800; GitHub.com allows 900 a minute)"
                ),
            ));
        }
        pacing.points_per_minute = u32::try_from(points).unwrap_or(u32::MAX);
    }
    if let Some(value) = input("mutation-interval") {
        pacing.mutation_interval =
            parse_bounded_duration("mutation-interval", &value, MAX_MUTATION_INTERVAL)?;
    }
    if let Some(value) = input("rate-limit-wait") {
        pacing.rate_limit_wait =
            parse_bounded_duration("rate-limit-wait", &value, MAX_RATE_LIMIT_WAIT)?;
    }
    if let Some(value) = retry_base {
        let base = humantime::parse_duration(&value)
            .ok()
            .filter(|base| *base <= MAX_MUTATION_INTERVAL)
            .ok_or_else(|| InputError {
                source: Source::Runner("PACKAGE_JANITOR_RETRY_BASE"),
                value: Some(value.clone()),
                problem: "is not a duration of at most 60s (e.g. `100ms`); it sets the first \
                          backoff after a failed request, for tests"
                    .to_owned(),
            })?;
        pacing.retry_base = base;
        pacing.secondary_wait = base;
    }
    if let Some(value) = request_deadline {
        pacing.request_deadline = humantime::parse_duration(&value)
            .ok()
            .filter(|deadline| !deadline.is_zero() && *deadline <= pacing.request_deadline)
            .ok_or_else(|| InputError {
                source: Source::Runner("PACKAGE_JANITOR_REQUEST_DEADLINE"),
                value: Some(value.clone()),
                problem: "is not a duration between 1ms and 60s; it bounds each request, for tests"
                    .to_owned(),
            })?;
    }
    Ok(pacing)
}

/// One word sent as a query parameter; the error never repeats it, as it may be a secret.
fn parse_package_restore_token(value: String) -> Result<Token, InputError> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InputError {
            source: Source::Input("package-restore-token"),
            value: None,
            problem: "contains spaces or line breaks: it must be the single token GitHub \
                      gives for one deleted package"
                .to_owned(),
        });
    }
    Ok(Token::new(value))
}

fn parse_bounded_duration(
    input: &'static str,
    value: &str,
    max: Duration,
) -> Result<Duration, InputError> {
    let duration = parse_duration(input, value)?;
    if duration > max {
        return Err(InputError::invalid(
            input,
            value,
            format!(
                "is too long: at most {} ({DURATION_EXAMPLES_SHORT})",
                humantime::format_duration(max)
            ),
        ));
    }
    Ok(duration)
}

/// Where the token is read from, first found first: an input error may quote a value that
/// holds one of them by mistake, so each is redacted from it.
pub const TOKEN_VARIABLES: [&str; 3] = ["INPUT_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"];

/// The token, which must be a valid HTTP header value: a control character (a pasted line
/// break, say) is an error that never shows the value.
fn parse_token(value: Option<String>) -> Result<Token, InputError> {
    let token = value.ok_or_else(|| {
        InputError::missing(
            "token",
            "is empty: it needs a token that can read and delete the packages, \
             e.g. `${{ github.token }}` (the default) or `${{ secrets.PACKAGES_TOKEN }}`; \
             by hand, `--token`, `GITHUB_TOKEN` or `GH_TOKEN`",
        )
    })?;
    if token.chars().any(char::is_control) {
        return Err(InputError::missing(
            "token",
            "holds a control character (such as a line break inside the secret): \
             store the token again as one line",
        ));
    }
    Ok(Token::new(token))
}

fn parse_owner(value: Option<String>) -> Result<String, InputError> {
    let owner = value.ok_or_else(|| {
        InputError::missing(
            "owner",
            "is not set and the runner gave no `GITHUB_REPOSITORY_OWNER`: set it to the user \
             or organization that owns the packages, e.g. `octo-org`",
        )
    })?;
    let valid = owner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(owner)
    } else {
        Err(InputError::invalid(
            "owner",
            &owner,
            "is not a user or organization name (letters, digits, `-`, `_` and `.` only, \
             e.g. `octo-org`)",
        ))
    }
}

fn parse_package_type(value: &str) -> Result<PackageType, InputError> {
    PackageType::ALL
        .into_iter()
        .find(|package_type| package_type.as_str().eq_ignore_ascii_case(value))
        .ok_or_else(|| {
            InputError::invalid(
                "package-type",
                value,
                "is not a package type (expected one of: container, docker, npm, maven, nuget, \
                 rubygems)",
            )
        })
}

/// Splits on commas and newlines (so `\r\n` works too), trims, and drops empty entries.
fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn parse_packages(value: Option<&str>) -> Result<Vec<PackageSelector>, InputError> {
    let mut seen = BTreeSet::new();
    let mut packages = Vec::new();
    for name in split_list(value.unwrap_or_default()) {
        if name.contains(char::is_whitespace) {
            return Err(InputError::invalid(
                "packages",
                name,
                "is not a package name: names cannot contain spaces; separate names with \
                 commas or newlines, e.g. `my-app, tools/*`",
            ));
        }
        if !seen.insert(name) {
            continue;
        }
        packages.push(if name.contains(['*', '?']) {
            PackageSelector::Wildcard(name.to_owned())
        } else {
            PackageSelector::Exact(name.to_owned())
        });
    }
    if packages.is_empty() {
        return Err(InputError::missing(
            "packages",
            "is required: list one or more package names separated by commas or newlines \
             (`*` and `?` are wildcards), e.g. `my-app, tools/*`",
        ));
    }
    Ok(packages)
}

fn parse_mode(value: &str) -> Result<Mode, InputError> {
    if value.eq_ignore_ascii_case("delete") {
        Ok(Mode::Delete)
    } else if value.eq_ignore_ascii_case("restore") {
        Ok(Mode::Restore)
    } else if value.eq_ignore_ascii_case("audit") {
        Ok(Mode::Audit)
    } else {
        Err(InputError::invalid(
            "mode",
            value,
            "is not a mode (expected `delete`, `restore` or `audit`)",
        ))
    }
}

fn parse_regex(input: &'static str, value: &str) -> Result<Regex, InputError> {
    if value.starts_with('*') {
        return Err(InputError::invalid(
            input,
            value,
            format!(
                "is not a valid regular expression: a leading `*` repeats nothing. It looks \
                 like a glob; you probably meant `{}`",
                glob_to_regex(value)
            ),
        ));
    }
    Regex::new(value).map_err(|error| {
        InputError::invalid(
            input,
            value,
            format!(
                "is not a valid regular expression (e.g. `^pr-\\d+$`; matching is unanchored): \
                 {error}"
            ),
        )
    })
}

/// A warning when a valid regex looks like a glob: a `*` right after a literal character
/// or a separator (`pr-*`, `v1*`), which repeats that character instead of matching
/// anything.
fn glob_warning(input: &str, value: &str) -> Option<String> {
    glob_stars(value).next()?;
    Some(format!(
        "input `{input}`: `{value}` looks like a glob, but it is a regular expression, matched \
         unanchored, where `*` repeats the character before it; you probably meant `{}`",
        glob_to_regex(value)
    ))
}

/// Byte offsets of the `*`s that read as glob wildcards: leading, or right after an
/// unescaped letter, digit or separator.
fn glob_stars(value: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = value.as_bytes();
    bytes.iter().enumerate().filter_map(move |(at, byte)| {
        if *byte != b'*' {
            return None;
        }
        let Some(before) = at.checked_sub(1).map(|i| bytes[i]) else {
            return Some(at);
        };
        let escaped = at >= 2 && bytes[at - 2] == b'\\';
        let literal = before.is_ascii_alphanumeric() || matches!(before, b'-' | b'_' | b'/' | b':');
        (literal && !escaped).then_some(at)
    })
}

/// The anchored regex a glob-like value probably meant: glob `*`s become `.*`, anchored at
/// both ends unless it starts or ends with a wildcard (`pr-*` → `^pr-.*`, `*-rc` → `.*-rc$`).
fn glob_to_regex(value: &str) -> String {
    let stars: Vec<usize> = glob_stars(value).collect();
    let mut body = String::with_capacity(value.len() + stars.len() + 2);
    for (at, ch) in value.char_indices() {
        if stars.contains(&at) {
            body.push_str(".*");
        } else {
            body.push(ch);
        }
    }
    let start = if body.starts_with('^') || body.starts_with(".*") {
        ""
    } else {
        "^"
    };
    let end = if body.ends_with('$') || body.ends_with(".*") {
        ""
    } else {
        "$"
    };
    format!("{start}{body}{end}")
}

fn parse_duration(input: &'static str, value: &str) -> Result<Duration, InputError> {
    humantime::parse_duration(value).map_err(|error| {
        InputError::invalid(
            input,
            value,
            format!("is not a valid duration ({DURATION_EXAMPLES}): {error}"),
        )
    })
}

fn parse_tag_state(value: &str, package_type: PackageType) -> Result<TagState, InputError> {
    let state = if value.eq_ignore_ascii_case("any") {
        TagState::Any
    } else if value.eq_ignore_ascii_case("tagged") {
        TagState::Tagged
    } else if value.eq_ignore_ascii_case("untagged") {
        TagState::Untagged
    } else {
        return Err(InputError::invalid(
            "tag-state",
            value,
            "is not a tag state (expected `any`, `tagged` or `untagged`)",
        ));
    };
    if state != TagState::Any && !package_type.has_tags() {
        return Err(InputError::invalid(
            "tag-state",
            value,
            format!(
                "only applies to container and docker packages, and `package-type` is \
                 `{package_type}`: remove it or use `any`"
            ),
        ));
    }
    Ok(state)
}

/// A whole number, 0 or more. `example` ends the message, to show what the count means.
fn parse_count(input: &'static str, value: &str, example: &str) -> Result<usize, InputError> {
    value.parse().map_err(|_| {
        InputError::invalid(
            input,
            value,
            format!("is not a count (expected a whole number, 0 or more, {example})"),
        )
    })
}

fn parse_version_ids(value: &str) -> Result<BTreeSet<u64>, InputError> {
    if value.starts_with('[') {
        let items: Vec<serde_json::Value> = serde_json::from_str(value).map_err(|error| {
            InputError::invalid(
                "version-ids",
                value,
                format!("is not a valid JSON array of version ids (e.g. `[123, 456]`): {error}"),
            )
        })?;
        items
            .iter()
            .map(|item| {
                let id = match item {
                    serde_json::Value::Number(number) => number.as_u64(),
                    serde_json::Value::String(text) => text.trim().parse().ok(),
                    _ => None,
                };
                id.filter(|id| *id > 0)
                    .ok_or_else(|| invalid_version_id(&item.to_string()))
            })
            .collect()
    } else {
        split_list(value)
            .map(|item| {
                item.parse()
                    .ok()
                    .filter(|id: &u64| *id > 0)
                    .ok_or_else(|| invalid_version_id(item))
            })
            .collect()
    }
}

fn invalid_version_id(item: &str) -> InputError {
    InputError::invalid(
        "version-ids",
        item,
        format!("is not a version id ({VERSION_IDS_EXAMPLES})"),
    )
}

fn parse_bool(input: &'static str, value: &str) -> Result<bool, InputError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(InputError::invalid(
            input,
            value,
            "is not a boolean (expected `true` or `false`)",
        ))
    }
}

/// Whether `url` (without trailing slashes) is `http(s)://` followed by something.
fn is_http_url(url: &str) -> bool {
    ["https://", "http://"].iter().any(|scheme| {
        url.len() > scheme.len()
            && url
                .get(..scheme.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
    })
}

/// The registry base: an http(s) URL with a host and no path, so that `/v2/...` and the
/// token realm are built the way registries expect.
fn parse_registry_url(value: &str) -> Result<String, InputError> {
    let trimmed = value.trim_end_matches('/');
    let path = trimmed.split_once("://").map_or("", |(_, rest)| {
        rest.split_once('/').map_or("", |(_, path)| path)
    });
    if is_http_url(trimmed) && path.is_empty() && !trimmed.contains(char::is_whitespace) {
        Ok(trimmed.to_owned())
    } else {
        Err(InputError::invalid(
            "registry-url",
            value,
            "is not a registry URL (an http(s) URL with a host and no path, e.g. \
             `https://ghcr.io`, or `https://containers.ghes.example.com` on GitHub Enterprise \
             Server)",
        ))
    }
}

fn parse_api_url(value: Option<String>) -> Result<String, InputError> {
    let Some(url) = value else {
        return Ok(DEFAULT_API_URL.to_owned());
    };
    let trimmed = url.trim_end_matches('/');
    if is_http_url(trimmed) {
        Ok(trimmed.to_owned())
    } else {
        Err(InputError {
            source: Source::Runner("GITHUB_API_URL"),
            value: Some(url),
            problem: "is not an http(s) URL (e.g. `https://api.github.com`, or \
                      `https://ghes.example.com/api/v3` on GitHub Enterprise Server)"
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(config.policy.version_ids, None);
        assert_eq!(config.policy.deleted_within, None);
        assert_eq!(config.max_versions, None);
        assert!(!config.dry_run);
        assert_eq!(config.api_url, "https://api.github.com");
        assert_eq!(config.registry_url, "https://ghcr.io");
        assert!(!config.delete_orphans);
        assert!(!config.delete_empty_packages);
        assert_eq!(config.package_restore_token, None);
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
    fn a_state_file_is_a_relative_path_inside_the_workspace() {
        assert_eq!(parse_ok(&[]).state_file, None);
        let cases = [".package-janitor/state", "./state.gz", "a/b/c"];
        for path in cases {
            let config = parse_ok(&[("INPUT_STATE-FILE", path)]);
            assert_eq!(config.state_file, Some(std::path::PathBuf::from(path)));
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
}
