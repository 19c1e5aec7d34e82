//! The policy as the planner reads it: the selection rules of one run, pure data. The
//! configuration builds it from the inputs; the planner and the image graph apply it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::Duration;

use regex::Regex;

use crate::model::reference::Referenced;

/// Which versions the `tag-state` input lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagState {
    #[default]
    Any,
    Tagged,
    Untagged,
}

/// How a rule ranks its matches for `keep-latest` (the `order-by` input and rule key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBy {
    /// Newest first, by the version's `updated_at` (its push), then the higher id.
    #[default]
    Pushed,
    /// Highest first, as the package's ecosystem orders versions (see `policy::order`); a
    /// container image by its highest version tag. A match that is not a version is kept.
    Version,
}

/// The selection rules. Pure data: the planner applies them.
///
/// `exclude_tag_regex`, `version_ids`, `deleted_within` and `referenced` apply to every
/// rule. The rules are those of the `rules` input; without it, `tag_regex`, `older_than`,
/// `tag_state`, `keep_latest` and `order_by` (the flat inputs) are the one rule (see
/// [`Policy::rules`]).
///
/// The default selects every version: no filter, `tag-state: any`, `keep-latest: 0`.
/// Regexes are matched unanchored (`Regex::is_match`).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub tag_regex: Option<Regex>,
    pub exclude_tag_regex: Option<Regex>,
    pub older_than: Option<Duration>,
    pub tag_state: TagState,
    pub keep_latest: usize,
    pub order_by: OrderBy,
    pub version_ids: Option<BTreeSet<u64>>,
    pub deleted_within: Option<Duration>,
    /// The `rules` input; empty when it is not given.
    pub rules: Vec<Rule>,
    /// What the workspace names of this package (`keep-referenced`): kept whatever the
    /// rest of the policy says. Per package: the run sets it before planning each one.
    pub referenced: Referenced,
}

impl Policy {
    /// The rules the planner applies: the `rules` input's, or else the one unnamed rule the
    /// flat inputs make.
    pub fn rules(&self) -> Cow<'_, [Rule]> {
        if self.rules.is_empty() {
            Cow::Owned(vec![Rule {
                name: None,
                tag_regex: self.tag_regex.clone(),
                exclude_tag_regex: None,
                tag_state: self.tag_state,
                older_than: self.older_than,
                keep_latest: self.keep_latest,
                group_by: None,
                order_by: self.order_by,
            }])
        } else {
            Cow::Borrowed(&self.rules)
        }
    }
}

/// One retention rule. Its filters AND together; of the versions that pass them (its
/// matches), the `keep_latest` newest (or, by `order_by`, highest) images of each group are
/// kept by it, and the rest are selected by it. The planner applies them (see
/// `policy::plan`).
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// The `name` key; an unnamed rule is called `#N`, numbered from 1 (see [`Rule::label`]).
    pub name: Option<String>,
    pub tag_regex: Option<Regex>,
    pub exclude_tag_regex: Option<Regex>,
    pub tag_state: TagState,
    pub older_than: Option<Duration>,
    pub keep_latest: usize,
    /// A regex with exactly one capture group: `keep_latest` then applies within each group
    /// of equal captures, and a version none of whose labels match is not a match.
    pub group_by: Option<Regex>,
    pub order_by: OrderBy,
}

impl Rule {
    /// How reports name the rule: its name, or `#N` for rule `number` (from 1).
    pub fn label(&self, number: usize) -> String {
        self.name.clone().unwrap_or_else(|| format!("#{number}"))
    }
}
