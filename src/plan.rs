//! The pure planner: versions + policy + now → a decision and a reason for every version.

use std::fmt;
use std::time::SystemTime;

use crate::config::{Mode, Policy, TagState};
use crate::version::{PackageType, Version};

/// What the run will do with a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Delete it (delete mode) or restore it (restore mode).
    Act,
    /// Leave it alone.
    Keep,
}

/// Why a version got its decision. The first filter that rejects a version names the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Passed every filter and is not among the `keep-latest` newest.
    Selected,
    /// Its id is not in `version-ids`.
    NotInVersionIds,
    /// One of its tags (or its version name) matches `exclude-tag-regex`; the match is kept.
    Excluded(String),
    /// It is tagged or untagged, and `tag-state` asks for the other.
    TagState(TagState),
    /// None of its tags (or its version name) matches `tag-regex`.
    NoTagMatch,
    /// Updated more recently than `older-than` allows.
    TooRecent,
    /// Restore mode: deleted longer ago than `deleted-within`.
    DeletedTooLongAgo,
    /// One of the `keep-latest` newest versions that passed every filter (1 = newest).
    KeptLatest(usize),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Selected => f.write_str("matches the policy"),
            Reason::NotInVersionIds => f.write_str("not in version-ids"),
            Reason::Excluded(label) => write!(f, "`{label}` matches exclude-tag-regex"),
            Reason::TagState(TagState::Tagged) => f.write_str("untagged, tag-state is tagged"),
            Reason::TagState(TagState::Untagged) => f.write_str("tagged, tag-state is untagged"),
            Reason::TagState(TagState::Any) => f.write_str("tag-state"),
            Reason::NoTagMatch => f.write_str("no tag matches tag-regex"),
            Reason::TooRecent => f.write_str("updated more recently than older-than"),
            Reason::DeletedTooLongAgo => f.write_str("deleted before deleted-within"),
            Reason::KeptLatest(rank) => write!(f, "kept by keep-latest (#{rank} newest)"),
        }
    }
}

/// One version with its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVersion {
    pub version: Version,
    pub decision: Decision,
    pub reason: Reason,
}

/// The plan for one package: every listed version, newest first (by `updated_at`, then id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub versions: Vec<PlannedVersion>,
}

impl Plan {
    /// The versions to act on, oldest first: the order the executor works in, so that a run
    /// cut short by the rate limit has removed the oldest versions.
    pub fn selected(&self) -> impl Iterator<Item = &PlannedVersion> {
        self.versions
            .iter()
            .rev()
            .filter(|planned| planned.decision == Decision::Act)
    }
}

/// Decide every version. Pure: the same inputs always give the same plan.
pub fn plan(
    versions: Vec<Version>,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
    now: SystemTime,
) -> Plan {
    let _ = (versions, policy, package_type, mode, now);
    Plan::default()
}
