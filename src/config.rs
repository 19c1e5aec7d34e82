//! Action inputs, parsed once into a typed configuration.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use regex::Regex;

use crate::version::PackageType;

/// Whether the run deletes active versions or restores deleted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Delete,
    Restore,
}

/// Which versions the `tag-state` input lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagState {
    Any,
    Tagged,
    Untagged,
}

/// The API token. Its `Debug` never shows the secret, so it cannot leak through error chains.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: String) -> Self {
        Token(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// A name from the `packages` input: exact, or a pattern with `*`/`?` wildcards that is
/// expanded through the list-packages endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSelector {
    Exact(String),
    Wildcard(String),
}

/// The selection rules, all combined with AND. Pure data: the planner applies them.
#[derive(Debug, Clone)]
pub struct Policy {
    pub tag_regex: Option<Regex>,
    pub exclude_tag_regex: Option<Regex>,
    pub older_than: Option<Duration>,
    pub tag_state: TagState,
    pub keep_latest: usize,
    pub version_ids: Option<BTreeSet<u64>>,
    pub deleted_within: Option<Duration>,
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
    pub max_versions: Option<usize>,
    pub dry_run: bool,
    /// REST API base, from `GITHUB_API_URL` (GitHub Enterprise Server), default api.github.com.
    pub api_url: String,
}
