//! The compact record of one package version that the planner and reports work on, and
//! which versions (active or deleted) a listing returns.

use std::fmt;
use std::time::SystemTime;

/// The package ecosystems GitHub Packages serves, as the REST API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackageType {
    Container,
    Docker,
    Npm,
    Maven,
    Nuget,
    Rubygems,
}

impl PackageType {
    pub const ALL: [PackageType; 6] = [
        PackageType::Container,
        PackageType::Docker,
        PackageType::Npm,
        PackageType::Maven,
        PackageType::Nuget,
        PackageType::Rubygems,
    ];

    /// The name used in API routes and in the `package-type` input.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Container => "container",
            PackageType::Docker => "docker",
            PackageType::Npm => "npm",
            PackageType::Maven => "maven",
            PackageType::Nuget => "nuget",
            PackageType::Rubygems => "rubygems",
        }
    }

    /// Container and docker versions carry tags; the others are identified by their name alone.
    pub fn has_tags(self) -> bool {
        matches!(self, PackageType::Container | PackageType::Docker)
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which versions a listing returns: the active ones, or those deleted (and restorable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Active,
    Deleted,
}

impl VersionState {
    /// The `state` query value, also how logs name the versions listed.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Active => "active",
            VersionState::Deleted => "deleted",
        }
    }
}

/// One package version, reduced to what policy and reports need.
///
/// Kept small on purpose: a package may have 100k versions and all of them are held at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: u64,
    /// The manifest digest for container versions, the version string (`1.2.3`) otherwise.
    pub name: String,
    /// Container/docker tags; always empty for other package types.
    pub tags: Vec<String>,
    /// Whether `tags` is what GitHub said. A container or docker version listed without
    /// its `metadata.container` / `metadata.docker` has unknown tags: empty `tags` then
    /// does not mean untagged, and no policy may select it (unknown means keep).
    pub tags_known: bool,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub deleted_at: Option<SystemTime>,
}

impl Version {
    /// The strings that tag filters are matched against: the tags for container/docker
    /// packages (never the digest), the version name for every other type.
    pub fn labels(&self, package_type: PackageType) -> &[String] {
        if package_type.has_tags() {
            &self.tags
        } else {
            std::slice::from_ref(&self.name)
        }
    }

    /// Known to carry no tag: never true when the tags are unknown.
    pub fn is_untagged(&self) -> bool {
        self.tags_known && self.tags.is_empty()
    }
}
