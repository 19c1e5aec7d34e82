//! The fake's world in memory (owners, tokens, packages, versions) and the rules for changing it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail, ensure};

use crate::access::Caller;
use crate::errors::ApiError;
use crate::manifests::{self, Served};
use crate::mirror::{self, Remote};
use crate::seed::{
    OwnerKind, PackageSeed, Seed, TokenKind, UsersListing, VersionSeed, Visibility, days,
};

/// The package types GitHub Packages knows (Gradle packages are `maven`).
pub const PACKAGE_TYPES: [&str; 6] = ["npm", "maven", "rubygems", "docker", "nuget", "container"];

/// Types whose versions carry tags (`metadata.container.tags` / `metadata.docker.tag`).
const TAGGED_TYPES: [&str; 2] = ["container", "docker"];

/// How long after deletion a package or version can be restored (documented: 30 days).
/// Guess: after that the fake still lists the version under `state=deleted` (GitHub may purge
/// it, the docs don't say when) but answers 404 to a restore, as if it were gone.
const RESTORE_WINDOW: Duration = days(30);

#[derive(Debug)]
pub struct World {
    owners: Vec<Owner>,
    tokens: HashMap<String, Caller>,
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone)]
pub struct Owner {
    pub id: u64,
    pub login: String,
    pub kind: OwnerKind,
    pub members: Vec<String>,
    pub users_listing: UsersListing,
}

impl Owner {
    /// Whether `login` administers this owner's packages: the user itself, or an org member.
    pub fn is_admin(&self, login: &str) -> bool {
        same_login(&self.login, login) || self.members.iter().any(|m| same_login(m, login))
    }
}

#[derive(Debug)]
pub struct Package {
    pub id: u64,
    /// The owner's login as seeded.
    pub owner: String,
    pub package_type: String,
    pub name: String,
    pub visibility: Visibility,
    pub repository: Option<String>,
    pub created_at: SystemTime,
    pub deleted_at: Option<SystemTime>,
    /// The `token` that picks this package on restore when deleted packages share its name.
    pub restore_token: Option<String>,
    /// Listed by the docker-conflicts endpoint.
    pub docker_conflict: bool,
    pub versions: Vec<Version>,
    /// Where the manifests live when the package mirrors a real registry.
    pub mirror: Option<Remote>,
    /// What the registry routes find versions by (see `registry::Lookup`).
    pub lookup: Option<crate::registry::Lookup>,
    /// Blobs and uploads pushed to the registry (see `push`).
    pub pushed: crate::push::Pushed,
}

#[derive(Debug)]
pub struct Version {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub deleted_at: Option<SystemTime>,
    pub downloads: u64,
    /// Someone else deletes this version between a client's listing and its own delete.
    pub deleted_concurrently: bool,
    /// What the registry serves for this version (container versions without an explicit name).
    pub manifest: Option<Served>,
    /// The seeded error its delete or restore is answered with instead.
    pub answer: Option<ApiError>,
}

impl Version {
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }
}

/// GitHub logins and repository names compare case-insensitively.
pub fn same_login(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl World {
    /// Builds the world as it is at `now`, rejecting seeds that could not exist on GitHub.
    pub fn from_seed(seed: Seed, now: SystemTime) -> anyhow::Result<Self> {
        let mut owners: Vec<Owner> = Vec::new();
        for owner in seed.owners {
            ensure!(
                !owners.iter().any(|o| same_login(&o.login, &owner.login)),
                "owner {} is seeded twice",
                owner.login
            );
            owners.push(Owner {
                id: 100 + owners.len() as u64,
                login: owner.login,
                kind: owner.kind,
                members: owner.members,
                users_listing: owner.users_listing,
            });
        }

        let mut tokens = HashMap::new();
        for token in seed.tokens {
            let is_pat = matches!(token.kind, TokenKind::Pat { .. });
            if is_pat && !owners.iter().any(|o| same_login(&o.login, &token.login)) {
                owners.push(Owner {
                    id: 100 + owners.len() as u64,
                    login: token.login.clone(),
                    kind: OwnerKind::User,
                    members: Vec::new(),
                    users_listing: UsersListing::default(),
                });
            }
            let caller = Caller {
                login: token.login,
                kind: token.kind,
            };
            ensure!(
                tokens.insert(token.token.clone(), caller).is_none(),
                "token {} is seeded twice",
                token.token
            );
        }

        let mut packages: Vec<Package> = Vec::new();
        let mut version_ids = HashSet::new();
        for seed in seed.packages {
            let what = format!("package {}/{}/{}", seed.owner, seed.package_type, seed.name);
            let package = Package::from_seed(
                seed,
                &owners,
                &mut version_ids,
                now,
                5000 + packages.len() as u64,
            )
            .with_context(|| what.clone())?;
            ensure!(
                package.deleted_at.is_some()
                    || !packages.iter().any(|p| p.deleted_at.is_none()
                        && p.owner == package.owner
                        && p.package_type == package.package_type
                        && p.name == package.name),
                "{what} is seeded twice (only deleted packages may share a name)"
            );
            packages.push(package);
        }

        Ok(Self {
            owners,
            tokens,
            packages,
        })
    }

    pub fn caller(&self, token: &str) -> Option<Caller> {
        self.tokens.get(token).cloned()
    }

    pub fn owner(&self, login: &str) -> Option<&Owner> {
        self.owners.iter().find(|o| same_login(&o.login, login))
    }

    /// The package `owner/package_type/name`: the live one, else the first deleted one.
    pub fn package(&self, owner: &str, package_type: &str, name: &str) -> Option<&Package> {
        let mut named = self.packages.iter().filter(|p| {
            same_login(&p.owner, owner) && p.package_type == package_type && p.name == name
        });
        let first = named.next()?;
        Some(
            std::iter::once(first)
                .chain(named)
                .find(|p| p.deleted_at.is_none())
                .unwrap_or(first),
        )
    }

    /// Which deleted package a restore of `owner/package_type/name` brings back.
    ///
    /// Guesses, where GitHub documents only that restoring a package whose name several
    /// deleted packages share needs the `token` query parameter (a 409 is reported
    /// without it):
    /// - without `token`: the one deleted package of the name; 409 when there are several;
    /// - with `token`: the deleted package it belongs to, even when it is the only one;
    ///   a token of none of them answers 404;
    /// - a live package of the same name (the name was reused) answers 409; with no deleted
    ///   package of the name at all, 404.
    pub fn package_to_restore(
        &self,
        owner: &str,
        package_type: &str,
        name: &str,
        token: Option<&str>,
    ) -> Result<u64, ApiError> {
        let named = || {
            self.packages.iter().filter(|p| {
                same_login(&p.owner, owner) && p.package_type == package_type && p.name == name
            })
        };
        let deleted: Vec<&Package> = named().filter(|p| p.deleted_at.is_some()).collect();
        if !deleted.is_empty() && named().any(|p| p.deleted_at.is_none()) {
            return Err(ApiError::conflict(format!(
                "A package named {name} already exists: the name is in use by a new package."
            )));
        }
        let chosen = match (token, deleted.as_slice()) {
            (Some(token), _) => deleted
                .iter()
                .find(|p| p.restore_token.as_deref() == Some(token))
                .ok_or_else(ApiError::package_not_found)?,
            (None, [only]) => only,
            (None, []) => return Err(ApiError::package_not_found()),
            (None, _) => {
                return Err(ApiError::conflict(
                    "Multiple deleted packages match this name. Pass the token of the one to restore.",
                ));
            }
        };
        Ok(chosen.id)
    }

    pub fn package_by_id_mut(&mut self, id: u64) -> Option<&mut Package> {
        self.packages.iter_mut().find(|p| p.id == id)
    }
}

impl Package {
    fn from_seed(
        mut seed: PackageSeed,
        owners: &[Owner],
        version_ids: &mut HashSet<u64>,
        now: SystemTime,
        id: u64,
    ) -> anyhow::Result<Self> {
        let Some(owner) = owners.iter().find(|o| same_login(&o.login, &seed.owner)) else {
            bail!("owner {} is not seeded (add it to owners)", seed.owner);
        };
        ensure!(
            PACKAGE_TYPES.contains(&seed.package_type.as_str()),
            "unknown package type (expected one of {PACKAGE_TYPES:?})"
        );
        let mut remote = None;
        let mut served = if let Some(mirror_seed) = &seed.mirror {
            ensure!(
                seed.package_type == "container" && seed.versions.is_empty(),
                "only a container package without seeded versions can mirror a registry"
            );
            let expected = format!("{}/{}", seed.owner, seed.name).to_ascii_lowercase();
            ensure!(
                mirror_seed.repository == expected,
                "a mirrored repository must be {expected}, where clients look for it"
            );
            let mirrored = mirror::read(mirror_seed)?;
            seed.versions = mirrored.versions;
            remote = Some(mirrored.remote);
            mirrored.manifests
        } else if seed.package_type == "container" {
            manifests::build(&seed.versions)?
        } else {
            HashMap::new()
        };
        let mut versions = Vec::new();
        for version in seed.versions {
            ensure!(
                version_ids.insert(version.id),
                "version id {} is seeded twice",
                version.id
            );
            let manifest = served.remove(&version.id);
            if version.gone {
                continue;
            }
            versions.push(
                Version::from_seed(version, &seed.package_type, manifest, now)
                    .with_context(|| format!("version {}", versions.len() + 1))?,
            );
        }
        // Newest first, as GitHub lists them: sorted once here, so listing only slices.
        versions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let created_at = versions.iter().map(|v| v.created_at).min().unwrap_or(now);
        let deleted_at = seed
            .deleted_ago
            .map(|ago| {
                now.checked_sub(ago)
                    .context("deleted_ago reaches before 1970")
            })
            .transpose()?;
        Ok(Self {
            id,
            owner: owner.login.clone(),
            package_type: seed.package_type,
            name: seed.name,
            visibility: seed.visibility,
            repository: seed.repository,
            created_at,
            deleted_at,
            restore_token: seed.restore_token,
            docker_conflict: seed.docker_conflict,
            versions,
            mirror: remote,
            lookup: None,
            pushed: crate::push::Pushed::default(),
        })
    }

    pub fn is_repository(&self, full_name: &str) -> bool {
        self.repository
            .as_deref()
            .is_some_and(|r| same_login(r, full_name))
    }

    pub fn active_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().filter(|v| v.is_active())
    }

    pub fn updated_at(&self) -> SystemTime {
        self.versions
            .iter()
            .map(|v| v.updated_at)
            .max()
            .unwrap_or(self.created_at)
    }

    /// Brings a mirrored package in line with what [`mirror::refresh`] found at `now` (see
    /// `mirror` for the rules).
    pub fn merge_mirrored(&mut self, found: mirror::Found, now: SystemTime) {
        let owner_of: HashMap<&str, &str> = found
            .iter()
            .flat_map(|(digest, (_, tags))| {
                tags.iter().map(move |tag| (tag.as_str(), digest.as_str()))
            })
            .collect();
        for version in self.versions.iter_mut().filter(|v| v.is_active()) {
            match found.get(&version.name) {
                Some((_, tags)) => version.tags = tags.iter().cloned().collect(),
                None => version
                    .tags
                    .retain(|tag| !owner_of.contains_key(tag.as_str())),
            }
        }
        for (digest, (served, tags)) in &found {
            if self.active_versions().any(|v| v.name == *digest) {
                continue;
            }
            let tags: Vec<String> = tags.iter().cloned().collect();
            if let Some(deleted) = self.versions.iter_mut().find(|v| v.name == *digest) {
                deleted.deleted_at = None;
                deleted.tags = tags;
                continue;
            }
            let Some(id) = mirror::version_id(digest) else {
                continue;
            };
            self.versions.insert(
                0,
                Version {
                    id,
                    name: digest.clone(),
                    tags,
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                    downloads: 0,
                    deleted_concurrently: false,
                    manifest: Some(served.clone()),
                    answer: None,
                },
            );
        }
        self.lookup = None;
    }

    pub fn version(&self, id: u64) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }

    /// Deletes an active version, with GitHub's refusals.
    pub fn delete_version(&mut self, id: u64, now: SystemTime) -> Result<(), ApiError> {
        if let Some(answer) = self.version(id).and_then(|v| v.answer.clone()) {
            return Err(answer);
        }
        if let Some(version) = self
            .versions
            .iter_mut()
            .find(|v| v.id == id && v.is_active() && v.deleted_concurrently)
        {
            version.deleted_at = Some(now);
        }
        let version = self
            .version(id)
            .filter(|v| v.is_active())
            .ok_or_else(ApiError::package_not_found)?;
        if self.is_public() && version.downloads > 5000 {
            return Err(ApiError::bad_request(
                "Publicly visible package versions with more than 5000 downloads cannot be deleted. \
                 Contact GitHub support for further assistance.",
            ));
        }
        if self.package_type == "container" {
            // Guess: only the last *tagged* version is protected, so untagged versions can
            // always go, even the last one (the reported message only speaks of tagged ones).
            let other_tagged = self
                .active_versions()
                .any(|v| v.id != id && !v.tags.is_empty());
            if !version.tags.is_empty() && !other_tagged {
                return Err(ApiError::bad_request(
                    "You cannot delete the last tagged version of a package. \
                     You must delete the package instead.",
                ));
            }
        } else if self.active_versions().count() == 1 {
            // Guess: legacy `docker` packages follow the non-container rule.
            return Err(ApiError::bad_request(
                "You cannot delete the last version of a package. You must delete the package instead.",
            ));
        }
        if let Some(version) = self.versions.iter_mut().find(|v| v.id == id) {
            version.deleted_at = Some(now);
        }
        Ok(())
    }

    /// Restores a deleted version within the restore window.
    pub fn restore_version(&mut self, id: u64, now: SystemTime) -> Result<(), ApiError> {
        if let Some(answer) = self.version(id).and_then(|v| v.answer.clone()) {
            return Err(answer);
        }
        let version = self
            .version(id)
            .filter(|v| within_restore_window(v.deleted_at, now))
            .ok_or_else(ApiError::package_not_found)?;
        // Guess: GitHub refuses to restore a version whose name is in use again (documented
        // as "not reused"); the fake answers 409 like the reported package-name conflict.
        if self.active_versions().any(|v| v.name == version.name) {
            return Err(ApiError::conflict(format!(
                "A version named {} already exists in this package.",
                version.name
            )));
        }
        if let Some(version) = self.versions.iter_mut().find(|v| v.id == id) {
            version.deleted_at = None;
        }
        Ok(())
    }

    /// Deletes the whole package; its versions keep their own state for a later restore.
    pub fn delete(&mut self, now: SystemTime) -> Result<(), ApiError> {
        let downloads: u64 = self.versions.iter().map(|v| v.downloads).sum();
        if self.is_public() && downloads > 5000 {
            return Err(ApiError::bad_request(
                "Publicly visible packages with more than 5000 downloads cannot be deleted. \
                 Contact GitHub support for further assistance.",
            ));
        }
        self.deleted_at = Some(now);
        Ok(())
    }

    pub fn restore(&mut self, now: SystemTime) -> Result<(), ApiError> {
        if !within_restore_window(self.deleted_at, now) {
            return Err(ApiError::package_not_found());
        }
        self.deleted_at = None;
        Ok(())
    }
}

fn within_restore_window(deleted_at: Option<SystemTime>, now: SystemTime) -> bool {
    deleted_at.is_some_and(|at| now.duration_since(at).unwrap_or_default() <= RESTORE_WINDOW)
}

impl Version {
    fn from_seed(
        seed: VersionSeed,
        package_type: &str,
        manifest: Option<Served>,
        now: SystemTime,
    ) -> anyhow::Result<Self> {
        let tagged = TAGGED_TYPES.contains(&package_type);
        ensure!(
            tagged || seed.tags.is_empty(),
            "only container and docker versions have tags"
        );
        ensure!(
            package_type == "container" || seed.manifest.is_none(),
            "only container versions have manifests"
        );
        let updated_age = seed.updated_age.unwrap_or(seed.age);
        ensure!(updated_age <= seed.age, "updated_age is older than age");
        if let Some(deleted_ago) = seed.deleted_ago {
            ensure!(deleted_ago <= seed.age, "deleted_ago is older than age");
        }
        let ago = |age: Duration| now.checked_sub(age).context("age reaches before 1970");
        let name = match (seed.name, &manifest) {
            (Some(name), _) => name,
            (None, Some(served)) => served.digest.clone(),
            (None, None) if tagged => digest_for(seed.id),
            (None, None) => format!("0.0.{}", seed.id),
        };
        let mut tags = seed.tags;
        for implied in manifest.iter().flat_map(|served| &served.implied_tags) {
            if !tags.contains(implied) {
                tags.push(implied.clone());
            }
        }
        Ok(Self {
            id: seed.id,
            name,
            tags,
            created_at: ago(seed.age)?,
            updated_at: ago(updated_age)?,
            deleted_at: seed.deleted_ago.map(ago).transpose()?,
            downloads: seed.downloads,
            deleted_concurrently: seed.deleted_concurrently,
            manifest,
            answer: seed.answer.map(ApiError::seeded).transpose()?,
        })
    }
}

/// A stable, well-formed `sha256:<64 hex>` for a legacy `docker` version id (the registry
/// serves only container versions). It is not the hash of anything:
/// splitmix64 spreads the id over four 64-bit words.
fn digest_for(id: u64) -> String {
    let mut state = id;
    let mut hex = String::from("sha256:");
    for _ in 0..4 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        hex.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{OwnerSeed, TokenSeed};

    fn build(seed: Seed) -> anyhow::Result<World> {
        World::from_seed(seed, SystemTime::now())
    }

    #[test]
    fn container_versions_without_a_name_get_a_stable_distinct_digest() {
        let (a, b) = (digest_for(1), digest_for(2));

        assert_eq!(a, digest_for(1));
        assert_ne!(a, b);
        assert_eq!(a.len(), "sha256:".len() + 64);
        assert!(a["sha256:".len()..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn seeds_that_cannot_exist_on_github_are_rejected() {
        let version = |id| VersionSeed::new(id, days(1));
        let cases = [
            (
                Seed::new().package(PackageSeed::new("ghost", "npm", "a")),
                "owner ghost is not seeded",
            ),
            (
                Seed::new()
                    .owner(OwnerSeed::user("u"))
                    .package(PackageSeed::new("u", "pypi", "a")),
                "unknown package type",
            ),
            (
                Seed::new()
                    .owner(OwnerSeed::user("u"))
                    .package(PackageSeed::new("u", "npm", "a").version(version(1)))
                    .package(PackageSeed::new("u", "npm", "b").version(version(1))),
                "version id 1 is seeded twice",
            ),
            (
                Seed::new()
                    .owner(OwnerSeed::user("u"))
                    .package(PackageSeed::new("u", "npm", "a").version(version(1).tags(&["x"]))),
                "only container and docker versions have tags",
            ),
            (
                Seed::new().owner(OwnerSeed::user("u")).package(
                    PackageSeed::new("u", "npm", "a").version(version(1).deleted(days(2))),
                ),
                "deleted_ago is older than age",
            ),
            (
                Seed::new()
                    .token(TokenSeed::pat("t", "u", &[]))
                    .token(TokenSeed::pat("t", "v", &[])),
                "token t is seeded twice",
            ),
        ];
        for (seed, expected) in cases {
            let error = build(seed).expect_err(expected);
            assert!(
                format!("{error:#}").contains(expected),
                "{error:#} lacks {expected}"
            );
        }
    }

    #[test]
    fn a_pat_login_becomes_a_user_owner() {
        let state = build(Seed::new().token(TokenSeed::pat("t", "alice", &[]))).expect("valid");

        let owner = state
            .owner("Alice")
            .expect("auto-created, case-insensitive");
        assert_eq!(owner.kind, OwnerKind::User);
        assert!(state.owner("github-actions[bot]").is_none());
    }
}
