//! Action inputs, parsed once into a typed configuration.

pub mod cli;
pub mod inputs;
pub mod plans;
pub mod restore_tags;
pub mod rules;

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use regex::Regex;

use crate::model::mode::Mode;
use crate::model::reference::Referenced;
use crate::model::version::PackageType;
use crate::policy::rules::{OrderBy, Policy, TagState};
use crate::references::patterns::Patterns;
use crate::transport::pacing::Pacing;
use crate::transport::token::Token;
use restore_tags::TagToRestore;

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
    /// Safety limit relative to each package: deleting more than this share of its active
    /// versions fails the run before any change (delete mode). `None` is no limit.
    pub max_percent: Option<plans::Percent>,
    pub dry_run: bool,
    /// REST API base, from `GITHUB_API_URL` (GitHub Enterprise Server), default api.github.com.
    pub api_url: String,
    /// Container registry base (`registry-url`), without a trailing slash; default ghcr.io.
    pub registry_url: String,
    /// `delete-orphans`: also delete untagged manifests and artifacts no kept image references.
    pub delete_orphans: bool,
    /// `untag`: container packages in delete mode, an image the policy selects for some of
    /// its tags but that carries others no rule selects loses only those tags and stays.
    pub untag: bool,
    /// `restore-tags`: restore mode, container packages: the tags to put back, each on the
    /// digest it named (the `untagged` output of a run with `untag`). Without `version-ids`,
    /// such a run restores no version.
    pub restore_tags: Option<Vec<TagToRestore>>,
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
    /// `plan-file`: where a dry run writes its plan, and which plan a real run applies (a
    /// relative path inside the workspace); `None` for runs without a reviewed plan.
    pub plan_file: Option<std::path::PathBuf>,
    /// `plan-expires`: how long a plan written by a dry run can be applied.
    pub plan_expires: Duration,
    /// `keep-referenced`: the workspace files whose image references keep those images
    /// (delete mode, container packages).
    pub keep_referenced: Option<Patterns>,
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

    /// The error with `redact` applied to all it holds (the value, the problem, the place
    /// in `rules`) while it is whole: a secret pasted into an input is then hidden entire,
    /// never cut in two by [`quote`] with its start left showing.
    pub fn redacted(self, redact: impl Fn(&str) -> String) -> InputError {
        InputError {
            source: match self.source {
                Source::Rule(at) => Source::Rule(redact(&at)),
                named => named,
            },
            value: self.value.as_deref().map(&redact),
            problem: redact(&self.problem),
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
            (Some(value), _) => write!(f, ": {} {}", quote(value), self.problem),
            (None, Source::Rule(_)) => write!(f, ": {}", self.problem),
            (None, _) => write!(f, " {}", self.problem),
        }
    }
}

/// The most characters of an input value an error shows: a 120 KB `rules` value must not
/// become a 120 KB `::error::` line.
const SHOWN_CHARS: usize = 200;

/// The one cap on what an input error shows of a value: `None` when `value` is shown whole,
/// else its first [`SHOWN_CHARS`] characters and its full length in characters.
fn excerpt(value: &str) -> Option<(&str, usize)> {
    let (end, _) = value.char_indices().nth(SHOWN_CHARS)?;
    Some((&value[..end], value.chars().count()))
}

/// `value` in backticks for an error: whole, or cut by [`excerpt`] with `…` and the
/// length it had.
fn quote(value: &str) -> String {
    match excerpt(value) {
        None => format!("`{value}`"),
        Some((head, length)) => {
            format!("`{head}…` ({length} characters; the first {SHOWN_CHARS} shown)")
        }
    }
}

/// `value` as a label inside an error (a rule's name): whole, or cut by [`excerpt`] with
/// `…`.
fn label(value: &str) -> String {
    match excerpt(value) {
        None => value.to_owned(),
        Some((head, length)) => format!("{head}… ({length} characters)"),
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
/// `plan-expires` when it is not given: a plan made today is applied by tomorrow.
const DEFAULT_PLAN_EXPIRES: Duration = Duration::from_secs(86_400);
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
        let order_by = match input("order-by") {
            Some(value) => parse_order_by(&value)?,
            None => OrderBy::Pushed,
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
        let max_percent = input("max-percent")
            .map(|value| plans::parse_max_percent(&value, mode))
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
        let untag = match input("untag") {
            Some(value) => parse_bool("untag", &value)?,
            None => false,
        };
        if untag {
            let problem = match (package_type, mode) {
                (PackageType::Container, Mode::Delete) => None,
                (PackageType::Container, other) => Some(format!(
                    "only applies when `mode` is `delete`, and `mode` is `{}`: remove it (to put removed tags back, use `restore-tags` in restore mode)",
                    other.as_str()
                )),
                (other, _) => Some(format!(
                    "only applies to container packages (a tag is removed by pushing to the container registry), and `package-type` is `{other}`: remove it"
                )),
            };
            if let Some(problem) = problem {
                return Err(InputError::invalid("untag", "true", problem));
            }
        }
        let restore_tags = match input("restore-tags") {
            Some(value) if package_type != PackageType::Container || mode != Mode::Restore => {
                let shown: String = value.chars().take(200).collect();
                return Err(InputError::invalid(
                    "restore-tags",
                    &shown,
                    format!(
                        "only applies to container packages in restore mode, and this run is `{}` of `{package_type}` packages: remove it, or set `mode: restore`",
                        mode.as_str()
                    ),
                ));
            }
            Some(value) => Some(restore_tags::parse(&value, &packages)?),
            None => None,
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
                    ("order-by", order_by != OrderBy::Pushed),
                ];
                if let Some((name, _)) = flat.into_iter().find(|(_, set)| *set) {
                    return Err(InputError::invalid(
                        name,
                        &input(name).unwrap_or_default(),
                        "cannot be combined with `rules`: put it in a rule (each rule has \
                         its own tag-regex, tag-state, older-than, keep-latest and order-by)",
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
            .map(|value| {
                parse_workspace_path("state-file", &value, "`.package-janitor/state.json.gz`")
            })
            .transpose()?;
        let plan_file = input("plan-file")
            .map(|value| plans::parse_plan_file(&value, mode))
            .transpose()?;
        if untag && plan_file.is_some() {
            return Err(InputError::invalid(
                "untag",
                "true",
                "cannot be combined with `plan-file`: a reviewed plan names the versions to delete, not the tags to remove, so applying it could not be exact. Remove `untag`, or `plan-file`",
            ));
        }
        let plan_expires = match input("plan-expires") {
            Some(value) => plans::parse_plan_expires(&value)?,
            None => DEFAULT_PLAN_EXPIRES,
        };
        let keep_referenced = input("keep-referenced")
            .map(|value| parse_keep_referenced(&value, package_type, mode))
            .transpose()?;

        // A run that puts tags back restores only the versions `version-ids` names: the
        // policy's other filters alone would select every deleted version.
        let version_ids = match (&restore_tags, version_ids) {
            (Some(_), None) => Some(BTreeSet::new()),
            (_, ids) => ids,
        };
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
                order_by,
                version_ids,
                deleted_within,
                rules,
                referenced: Referenced::default(),
            },
            max_versions,
            max_percent,
            dry_run,
            api_url,
            registry_url,
            delete_orphans,
            untag,
            restore_tags,
            fail_on_broken,
            verify,
            delete_empty_packages,
            package_restore_token,
            pacing,
            warnings,
            state_file,
            plan_file,
            plan_expires,
            keep_referenced,
        })
    }
}

/// Glob patterns of workspace files (see [`Patterns`]), for container packages in delete
/// mode: only there can a version be deleted that a deployment pulls (an audit changes
/// nothing, and a restore brings versions back rather than keeping them).
fn parse_keep_referenced(
    value: &str,
    package_type: PackageType,
    mode: Mode,
) -> Result<Patterns, InputError> {
    if package_type != PackageType::Container {
        return Err(InputError::invalid(
            "keep-referenced",
            value,
            format!(
                "only applies to container packages (images a deployment pulls), and \
                 `package-type` is `{package_type}`: remove it"
            ),
        ));
    }
    if mode == Mode::Restore {
        return Err(InputError::invalid(
            "keep-referenced",
            value,
            "only applies when `mode` is `delete` (it keeps images from being deleted): \
             remove it from the restore step",
        ));
    }
    Patterns::parse(value).map_err(|problem| {
        InputError::invalid(
            "keep-referenced",
            value,
            format!(
                "{problem} (expected glob patterns of files in the workspace, comma- or \
                 newline-separated, e.g. `deploy/**/*.yaml, docker-compose*.yml`)"
            ),
        )
    })
}

/// A relative path that stays inside the workspace (no `..`), e.g. `.package-janitor/state`;
/// `example` ends the error.
fn parse_workspace_path(
    input: &'static str,
    value: &str,
    example: &str,
) -> Result<std::path::PathBuf, InputError> {
    use std::path::{Component, Path};
    let path = Path::new(value);
    let inside = path
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    if inside && path.file_name().is_some() {
        Ok(path.to_path_buf())
    } else {
        Err(InputError::invalid(
            input,
            value,
            format!("must be a file path relative to the workspace, without `..`, e.g. {example}"),
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
                 like a glob; you probably meant {}",
                quote(&glob_to_regex(value))
            ),
        ));
    }
    Regex::new(value).map_err(|error| {
        InputError::invalid(
            input,
            value,
            format!(
                "is not a valid regular expression (e.g. `^pr-\\d+$`; matching is unanchored): \
                 {}",
                regex_problem(value, &error)
            ),
        )
    })
}

/// What the regex crate says is wrong with `value`. It quotes the whole pattern with a
/// caret under the fault, which is kept for a pattern shown whole; for a longer one only
/// its last line (`error: …`) is kept, since the pattern is already quoted, cut.
fn regex_problem(value: &str, error: &regex::Error) -> String {
    let said = error.to_string();
    if excerpt(value).is_none() {
        return said;
    }
    match said.rsplit_once("error: ") {
        Some((_, why)) => why.to_owned(),
        None => label(&said),
    }
}

/// A warning when a valid regex looks like a glob: a `*` right after a literal character
/// or a separator (`pr-*`, `v1*`), which repeats that character instead of matching
/// anything.
fn glob_warning(input: &str, value: &str) -> Option<String> {
    glob_stars(value).next()?;
    Some(format!(
        "input `{input}`: {} looks like a glob, but it is a regular expression, matched \
         unanchored, where `*` repeats the character before it; you probably meant {}",
        quote(value),
        quote(&glob_to_regex(value))
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
            format!(
                "is not a valid duration ({DURATION_EXAMPLES}): {}",
                label(&error.to_string())
            ),
        )
    })
}

/// `pushed` (the default) or `version`, ignoring case.
fn parse_order_by(value: &str) -> Result<OrderBy, InputError> {
    if value.eq_ignore_ascii_case("pushed") {
        Ok(OrderBy::Pushed)
    } else if value.eq_ignore_ascii_case("version") {
        Ok(OrderBy::Version)
    } else {
        Err(InputError::invalid(
            "order-by",
            value,
            "is not an order (expected `pushed`, newest push first, or `version`, highest \
             version first as the package's ecosystem orders versions)",
        ))
    }
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
mod tests;
