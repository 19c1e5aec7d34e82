//! What happened to each selected version: shared by the run that records it and the
//! reports that show it.

use super::image::Relation;
use super::version::Version;

/// What happened to one selected version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    Restored,
    WouldDelete,
    WouldRestore,
    /// Deleted by the one request that deleted its whole package (`delete-empty-packages`).
    DeletedWithPackage,
    /// Active again because its whole package was restored.
    RestoredWithPackage,
    /// A dry run: would go with its whole package.
    WouldDeleteWithPackage,
    /// A dry run's package entry: the whole package would be deleted.
    WouldDeletePackage,
    /// Not done, for a reason that is not a failure (a refusal GitHub is known to give).
    Skipped(String),
    Failed(String),
    /// Not tried: the primary budget ran out first. The next run picks it up.
    Left(String),
    /// An id from `version-ids` that is not among the versions the mode acts on (not
    /// listed, active in restore mode, deleted in delete mode), or that the policy keeps.
    NotFound(String),
}

impl Outcome {
    /// Whether the version was seen in a listing: an id from `version-ids` that no listing
    /// returned has no name, tags or times to report.
    pub fn is_listed(&self, version: &Version) -> bool {
        !(matches!(self, Outcome::NotFound(_)) && version.name.is_empty())
    }

    /// Whether this run deleted the version, one by one or with its package (a dry run
    /// deletes nothing).
    pub fn is_deleted(&self) -> bool {
        matches!(self, Outcome::Deleted | Outcome::DeletedWithPackage)
    }

    /// Whether the version is counted in the `ids` output (done, or would be in a dry run).
    pub fn is_acted_on(&self) -> bool {
        matches!(
            self,
            Outcome::Deleted
                | Outcome::Restored
                | Outcome::WouldDelete
                | Outcome::WouldRestore
                | Outcome::DeletedWithPackage
                | Outcome::RestoredWithPackage
                | Outcome::WouldDeleteWithPackage
                | Outcome::WouldDeletePackage
        )
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Deleted => f.write_str("deleted"),
            Outcome::Restored => f.write_str("restored"),
            Outcome::WouldDelete => f.write_str("would delete"),
            Outcome::WouldRestore => f.write_str("would restore"),
            Outcome::DeletedWithPackage => f.write_str("deleted (with its package)"),
            Outcome::RestoredWithPackage => f.write_str("restored (with its package)"),
            Outcome::WouldDeleteWithPackage => f.write_str("would delete (with its package)"),
            Outcome::WouldDeletePackage => f.write_str("would delete the package"),
            Outcome::Skipped(reason) => write!(f, "skipped: {reason}"),
            Outcome::Failed(reason) => write!(f, "failed: {reason}"),
            Outcome::Left(reason) => write!(f, "left for the next run: {reason}"),
            Outcome::NotFound(reason) => write!(f, "not found: {reason}"),
        }
    }
}

/// A selected version (or an id asked for in `version-ids`) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: Version,
    pub outcome: Outcome,
    /// The image it went with, if it was acted on as part of one.
    pub relation: Option<Relation>,
    /// Why it was selected (the plan's reason, or the image a restore brought it back with).
    pub reason: String,
    /// The rule (its name, or `#N`) that selected it, or that selected its image.
    pub rule: Option<String>,
}

/// What happened to a package acted on as a whole: deleted because the plan selected every
/// active version (`delete-empty-packages`), or restored because it was deleted. Reported
/// next to its versions' entries, with `"scope": "package"` in the `json` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntry {
    /// `Deleted`, `Restored`, `WouldDeletePackage`, or why not (`Skipped`, `Failed`, `Left`).
    pub outcome: Outcome,
    pub reason: String,
    /// The versions that went, or came back, with it.
    pub version_ids: Vec<u64>,
}
