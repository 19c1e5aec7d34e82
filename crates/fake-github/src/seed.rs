//! The fake's starting world: tokens, owners and packages, from Rust builders or a JSON file.
//!
//! JSON shape (durations are humantime strings such as `"40d"` or `"2w 3d"`):
//!
//! ```json
//! {
//!   "tokens": [
//!     {"token": "ghp_alice", "login": "alice",
//!      "kind": {"pat": {"scopes": ["read:packages", "delete:packages"]}}},
//!     {"token": "ghs_ci", "login": "github-actions[bot]",
//!      "kind": {"github_token": {"repository": "acme/app"}}}
//!   ],
//!   "owners": [{"login": "acme", "kind": "Organization", "members": ["alice"]}],
//!   "packages": [{
//!     "owner": "acme", "package_type": "container", "name": "app",
//!     "visibility": "public", "repository": "acme/app",
//!     "versions": [
//!       {"id": 11, "tags": ["v1"], "age": "40d"},
//!       {"id": 12, "age": "2w 3d", "deleted_ago": "1d", "downloads": 7},
//!       {"id": 13, "age": "5d", "manifest": {"kind": "image", "platform": "linux/amd64",
//!                                            "layers": [{"blob": "base", "size": 1000}]}},
//!       {"id": 14, "age": "5d", "tags": ["v2"], "manifest": {"kind": "index", "manifests": [13]}},
//!       {"id": 15, "age": "5d", "manifest": {"kind": "cosign_signature", "subject": 14}},
//!       {"id": 16, "age": "5d", "manifest": {"kind": "github_attestation", "subject": 14,
//!                                            "unavailable": "once"}},
//!       {"id": 17, "age": "5d", "tags": ["v3"],
//!        "manifest": {"kind": "index", "manifests": [13], "wrong_body": []}}
//!     ]
//!   }],
//!   "limits": {
//!     "primary": {"limit": 1000, "remaining": 40, "reset_in": "10s"},
//!     "secondary": {"max_concurrent": 100, "points": 900, "window": "1m"}
//!   },
//!   "faults": {"latency": "50ms", "error_rate": 0.1, "seed": 7}
//! }
//! ```
//!
//! Ages are relative to the moment the fake starts, so seeded worlds stay stable over time.
//! A package can start deleted (`"deleted_ago": "1d"`); several deleted packages may share
//! a name, each with the `"restore_token"` that picks it on restore.
//!
//! Container versions are also served by the fake's OCI registry (see `registry`): a
//! `manifest` describes what the version's manifest is (see [`ManifestSeed`]), and the
//! version's name is the sha256 of the exact bytes served. A container version with neither
//! `manifest` nor `name` gets a plain image manifest; one with an explicit `name` (which is
//! not the hash of anything) is not in the registry at all.
//!
//! A container package can instead `"mirror"` a repository of a real registry on 127.0.0.1
//! (`{"registry": "http://127.0.0.1:5000", "repository": "acme/app"}`, see [`MirrorSeed`]):
//! its versions are then that repository's manifests, and deleting one deletes it there.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::limits::{Faults, Limits};
use crate::mirror::MirrorSeed;

/// Everything the fake knows when it starts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub tokens: Vec<TokenSeed>,
    /// Users and organizations. A PAT's login that is missing here is added as a user.
    #[serde(default)]
    pub owners: Vec<OwnerSeed>,
    #[serde(default)]
    pub packages: Vec<PackageSeed>,
    /// Rate limits; by default a 5000-request hourly budget per token and no secondary limits.
    #[serde(default)]
    pub limits: Limits,
    /// Latency and 502s; by default none.
    #[serde(default)]
    pub faults: Faults,
}

impl Seed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the JSON form described in the module documentation.
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        Ok(serde_json::from_str(text)?)
    }

    pub fn token(mut self, token: TokenSeed) -> Self {
        self.tokens.push(token);
        self
    }

    pub fn owner(mut self, owner: OwnerSeed) -> Self {
        self.owners.push(owner);
        self
    }

    pub fn package(mut self, package: PackageSeed) -> Self {
        self.packages.push(package);
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSeed {
    /// The secret the client sends as `Authorization: Bearer <token>` (or `token <token>`).
    pub token: String,
    /// The user the token acts as; `github-actions[bot]` for a `GITHUB_TOKEN`.
    pub login: String,
    pub kind: TokenKind,
}

impl TokenSeed {
    /// A classic personal access token of `login` with the given scopes.
    pub fn pat(token: &str, login: &str, scopes: &[&str]) -> Self {
        Self {
            token: token.to_owned(),
            login: login.to_owned(),
            kind: TokenKind::Pat {
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    /// A workflow's `GITHUB_TOKEN` for `repository` (`owner/repo`).
    pub fn github_token(token: &str, repository: &str) -> Self {
        Self {
            token: token.to_owned(),
            login: "github-actions[bot]".to_owned(),
            kind: TokenKind::GithubToken {
                repository: repository.to_owned(),
            },
        }
    }
}

/// JSON: `{"pat": {"scopes": [...]}}` or `{"github_token": {"repository": "owner/repo"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenKind {
    Pat { scopes: Vec<String> },
    GithubToken { repository: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerSeed {
    pub login: String,
    pub kind: OwnerKind,
    /// Organization members; the fake treats every member as an admin of the org's packages.
    #[serde(default)]
    pub members: Vec<String>,
    /// How this user's versions are listed through `/users/{login}/…/versions`.
    #[serde(default)]
    pub users_listing: UsersListing,
}

impl OwnerSeed {
    pub fn user(login: &str) -> Self {
        Self {
            login: login.to_owned(),
            kind: OwnerKind::User,
            members: Vec::new(),
            users_listing: UsersListing::default(),
        }
    }

    pub fn org(login: &str) -> Self {
        Self {
            login: login.to_owned(),
            kind: OwnerKind::Organization,
            members: Vec::new(),
            users_listing: UsersListing::default(),
        }
    }

    pub fn members(mut self, logins: &[&str]) -> Self {
        self.members = logins.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn users_listing(mut self, listing: UsersListing) -> Self {
        self.users_listing = listing;
        self
    }
}

/// How `GET /users/{login}/packages/{type}/{name}/versions` answers. GitHub's description
/// declares no `page`, `per_page` or `state` for that route (github-facts.md, "Undocumented
/// parameters"), so a server may ignore them. JSON: `"honours"`, `"one-page"` or
/// `{"own-pages": 7}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UsersListing {
    /// Like the documented routes (the fake's first guess): `page`, `per_page`, `state`.
    #[default]
    Honours,
    /// Every version, active and deleted, newest first, on one page without a `Link`.
    OnePage,
    /// Every version, active and deleted, newest first, this many a page, each page linked
    /// to the next by the fake's own `cursor` parameter (`rel="next"` only, no `last`).
    OwnPages(usize),
}

/// JSON: `"User"` or `"Organization"` (as GitHub spells `type`), lower case accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OwnerKind {
    #[serde(alias = "user")]
    User,
    #[serde(alias = "organization")]
    Organization,
}

/// JSON: `"public"` or `"private"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    #[default]
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSeed {
    /// Login of a seeded owner.
    pub owner: String,
    /// One of npm, maven, rubygems, docker, nuget, container.
    pub package_type: String,
    pub name: String,
    #[serde(default)]
    pub visibility: Visibility,
    /// `owner/repo` the package is linked to, if any.
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub versions: Vec<VersionSeed>,
    /// `Some(ago)`: the whole package was deleted `ago` before the fake started. Several
    /// deleted packages may share a name (and one live package with it).
    #[serde(default, deserialize_with = "optional_duration")]
    pub deleted_ago: Option<Duration>,
    /// The `token` query parameter that picks this deleted package when restoring it.
    #[serde(default)]
    pub restore_token: Option<String>,
    /// Listed by `GET {prefix}/docker/conflicts`: it conflicts with the Docker migration.
    #[serde(default)]
    pub docker_conflict: bool,
    /// Container only, instead of `versions`: the versions are the manifests of a
    /// repository in a real registry (see `mirror`).
    #[serde(default)]
    pub mirror: Option<MirrorSeed>,
}

impl PackageSeed {
    /// A private package with no repository and no versions.
    pub fn new(owner: &str, package_type: &str, name: &str) -> Self {
        Self {
            owner: owner.to_owned(),
            package_type: package_type.to_owned(),
            name: name.to_owned(),
            visibility: Visibility::Private,
            repository: None,
            versions: Vec::new(),
            deleted_ago: None,
            restore_token: None,
            docker_conflict: false,
            mirror: None,
        }
    }

    /// The package conflicts with the Docker-to-Container migration.
    pub fn docker_conflict(mut self) -> Self {
        self.docker_conflict = true;
        self
    }

    /// The versions are the manifests of a repository in a real registry (see `mirror`).
    pub fn mirror(mut self, mirror: MirrorSeed) -> Self {
        self.mirror = Some(mirror);
        self
    }

    pub fn public(mut self) -> Self {
        self.visibility = Visibility::Public;
        self
    }

    pub fn repository(mut self, full_name: &str) -> Self {
        self.repository = Some(full_name.to_owned());
        self
    }

    pub fn versions(mut self, versions: Vec<VersionSeed>) -> Self {
        self.versions = versions;
        self
    }

    pub fn version(mut self, version: VersionSeed) -> Self {
        self.versions.push(version);
        self
    }

    /// The whole package was deleted `ago` before the fake started.
    pub fn deleted(mut self, ago: Duration) -> Self {
        self.deleted_ago = Some(ago);
        self
    }

    /// The `token` that picks this deleted package among others of its name on restore.
    pub fn restore_token(mut self, token: &str) -> Self {
        self.restore_token = Some(token.to_owned());
        self
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSeed {
    /// Version ids are global on GitHub, so they must be unique across the whole seed.
    pub id: u64,
    /// `None`: container and docker versions get a deterministic `sha256:<64 hex>` derived
    /// from the id, other types get `0.0.<id>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Only for container (`metadata.container.tags`) and docker (`metadata.docker.tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// `created_at = now - age`.
    #[serde(deserialize_with = "duration")]
    pub age: Duration,
    /// `updated_at = now - updated_age`; defaults to `age`.
    #[serde(default, deserialize_with = "optional_duration")]
    pub updated_age: Option<Duration>,
    /// `Some(ago)`: the version was deleted `ago` before the fake started.
    #[serde(default, deserialize_with = "optional_duration")]
    pub deleted_ago: Option<Duration>,
    /// Only matters for the "more than 5000 downloads" refusal on public packages.
    #[serde(default)]
    pub downloads: u64,
    /// Listed as active, but deleted by someone else just before this client's DELETE
    /// arrives, which then answers 404: the race between listing and deleting.
    #[serde(default)]
    pub deleted_concurrently: bool,
    /// Container only: what the registry serves for this version.
    #[serde(default)]
    pub manifest: Option<ManifestSeed>,
    /// Deleted behind the API's back: its manifest is built (so what references it names
    /// its digest), but it is neither listed nor served. Seeds broken images (a tag whose
    /// child is gone), orphaned signatures and referrers (of a gone subject).
    #[serde(default)]
    pub gone: bool,
    /// A delete or restore of this version is answered with this error instead of being
    /// done: a hostile or broken server.
    #[serde(default)]
    pub answer: Option<AnswerSeed>,
}

/// An error answer to a version's delete or restore. `{authorization}` in the message is
/// replaced by the request's own `Authorization` header, as a server that echoes it would.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSeed {
    pub status: u16,
    pub message: String,
}

impl VersionSeed {
    pub fn new(id: u64, age: Duration) -> Self {
        Self {
            id,
            name: None,
            tags: Vec::new(),
            age,
            updated_age: None,
            deleted_ago: None,
            downloads: 0,
            deleted_concurrently: false,
            manifest: None,
            answer: None,
            gone: false,
        }
    }

    /// Deleted behind the API's back (see [`VersionSeed::gone`]).
    pub fn gone(mut self) -> Self {
        self.gone = true;
        self
    }

    /// Answer this version's delete or restore with `status` and `message` (see
    /// [`AnswerSeed`]) instead of doing it.
    pub fn answers(mut self, status: u16, message: &str) -> Self {
        self.answer = Some(AnswerSeed {
            status,
            message: message.to_owned(),
        });
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = tags.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn updated(mut self, ago: Duration) -> Self {
        self.updated_age = Some(ago);
        self
    }

    pub fn deleted(mut self, ago: Duration) -> Self {
        self.deleted_ago = Some(ago);
        self
    }

    pub fn deleted_concurrently(mut self) -> Self {
        self.deleted_concurrently = true;
        self
    }

    pub fn downloads(mut self, downloads: u64) -> Self {
        self.downloads = downloads;
        self
    }

    /// An image manifest for `platform` (`linux/amd64`, `linux/arm64/v8`); an index listing
    /// this version names the platform in its entry.
    pub fn platform(self, platform: &str) -> Self {
        self.with_manifest(ManifestKind::Image, |m| {
            m.platform = Some(platform.to_owned())
        })
    }

    /// An index (a multi-arch image) listing the versions `children`, in that order.
    pub fn index(self, children: &[u64]) -> Self {
        self.with_manifest(ManifestKind::Index, |m| m.manifests = children.to_vec())
    }

    /// A buildx attestation manifest for the platform manifest `subject`; list it in the
    /// index next to its subject.
    pub fn attestation_for(self, subject: u64) -> Self {
        self.with_manifest(ManifestKind::Attestation, |m| m.subject = Some(subject))
    }

    /// A cosign signature of `subject`, tagged `sha256-<subject hex>.sig`.
    pub fn cosign_signature_of(self, subject: u64) -> Self {
        self.with_manifest(ManifestKind::CosignSignature, |m| m.subject = Some(subject))
    }

    /// A GitHub artifact attestation (a sigstore bundle with `subject`), untagged.
    pub fn github_attestation_of(self, subject: u64) -> Self {
        self.with_manifest(ManifestKind::GithubAttestation, |m| {
            m.subject = Some(subject)
        })
    }

    /// The referrers-tag index of `subject` (tag `sha256-<subject hex>`) listing `referrers`.
    pub fn referrers_of(self, subject: u64, referrers: &[u64]) -> Self {
        self.with_manifest(ManifestKind::Referrers, |m| {
            m.subject = Some(subject);
            m.manifests = referrers.to_vec();
        })
    }

    /// The layers `(blob, size)` this image manifest (or artifact) lists after its config:
    /// the same blob name is the same layer in every manifest (see [`LayerSeed`]).
    pub fn layers(self, layers: &[(&str, i128)]) -> Self {
        self.with_manifest(ManifestKind::Image, |m| {
            m.layers = layers
                .iter()
                .map(|(blob, size)| LayerSeed {
                    blob: (*blob).to_owned(),
                    size: *size,
                })
                .collect()
        })
    }

    /// A referrers index of `subject` listing `referrers` that the `sha256-<subject hex>` tag
    /// pointed at before it moved to a newer one: untagged, as a registry without the
    /// referrers API leaves it when an artifact is added.
    pub fn stale_referrers_of(self, subject: u64, referrers: &[u64]) -> Self {
        self.with_manifest(ManifestKind::StaleReferrers, |m| {
            m.subject = Some(subject);
            m.manifests = referrers.to_vec();
        })
    }

    /// Docker media types (manifest list / v2 manifest) instead of OCI ones.
    pub fn docker_media_types(self) -> Self {
        self.with_manifest(ManifestKind::Image, |m| m.docker = true)
    }

    /// The registry answers 500 for this version's manifest.
    pub fn unreadable(self) -> Self {
        self.with_manifest(ManifestKind::Image, |m| m.unreadable = true)
    }

    /// The registry answers 503 `UNAVAILABLE` the first time this version's manifest is
    /// fetched, then serves it: a client that does not retry sees it as unreadable.
    pub fn unavailable_once(self) -> Self {
        self.with_manifest(ManifestKind::Image, |m| m.unavailable = Some(Outage::Once))
    }

    /// The registry answers 503 `UNAVAILABLE` every time this version's manifest is fetched.
    pub fn unavailable(self) -> Self {
        self.with_manifest(ManifestKind::Image, |m| {
            m.unavailable = Some(Outage::Always)
        })
    }

    /// Under this version's digest the registry serves other bytes: an index of the same
    /// kind listing `listed` instead (`&[]`: listing nothing), which do not hash to the
    /// digest. The version keeps its real digest and children (for `broken_images`).
    pub fn wrong_digest_body(self, listed: &[u64]) -> Self {
        self.with_manifest(ManifestKind::Image, |m| {
            m.wrong_body = Some(listed.to_vec())
        })
    }

    /// Sets the manifest kind (unless one was set already, when `kind` is `Image`) and
    /// applies `change`, so builders combine: `.index(&[1]).docker_media_types()`.
    fn with_manifest(mut self, kind: ManifestKind, change: impl FnOnce(&mut ManifestSeed)) -> Self {
        let manifest = self.manifest.get_or_insert_with(ManifestSeed::default);
        if kind != ManifestKind::Image {
            manifest.kind = kind;
        }
        change(manifest);
        self
    }
}

/// What the registry serves for a container version. References (`manifests`, `subject`)
/// are version ids of the same package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSeed {
    #[serde(default)]
    pub kind: ManifestKind,
    /// `os/arch[/variant]` of an image manifest, named in the entries of indexes listing it.
    #[serde(default)]
    pub platform: Option<String>,
    /// `index` and `referrers`: the listed versions.
    #[serde(default)]
    pub manifests: Vec<u64>,
    /// `attestation`, `cosign_signature`, `github_attestation`, `referrers`: the subject.
    #[serde(default)]
    pub subject: Option<u64>,
    /// Docker media types instead of OCI ones (`image` and `index` only).
    #[serde(default)]
    pub docker: bool,
    /// The registry answers 500 `UNKNOWN` when this manifest is fetched.
    #[serde(default)]
    pub unreadable: bool,
    /// The registry answers 503 `UNAVAILABLE` when this manifest is fetched: the first time
    /// only (`"once"`) or every time (`"always"`).
    #[serde(default)]
    pub unavailable: Option<Outage>,
    /// Served instead of the real bytes: an index listing these versions, so the bytes do
    /// not hash to the version's digest (a tampered or confused registry).
    #[serde(default)]
    pub wrong_body: Option<Vec<u64>>,
    /// Image manifests and artifacts: the layers listed after the config (each
    /// [`crate::manifests::CONFIG_BYTES`]); none seeded gives one layer of its own
    /// ([`crate::manifests::LAYER_BYTES`]).
    #[serde(default)]
    pub layers: Vec<LayerSeed>,
}

/// A layer of a seeded manifest: `{"blob": "base", "size": 1000}`. Manifests listing the
/// same `blob` share it (one digest); `size` is written as given, so a seed may claim a
/// size no registry would take (negative, or past 2^64).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSeed {
    pub blob: String,
    pub size: i128,
}

/// JSON: `"once"` or `"always"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    Once,
    Always,
}

/// JSON: `"image"` (the default), `"index"`, `"attestation"`, `"cosign_signature"`,
/// `"github_attestation"`, `"referrers"` or `"stale_referrers"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManifestKind {
    #[default]
    Image,
    Index,
    Attestation,
    CosignSignature,
    GithubAttestation,
    Referrers,
    /// A referrers index the `sha256-<hex>` tag no longer points at: untagged.
    StaleReferrers,
}

/// `n` days, for seeds written in Rust.
pub const fn days(n: u64) -> Duration {
    Duration::from_secs(n * 24 * 60 * 60)
}

/// A humantime duration (`40d`, `2w 3d`) in a JSON seed.
pub(crate) fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// A map of humantime durations (`{"v1": "40d"}`) in a JSON seed.
pub(crate) fn duration_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Duration>, D::Error> {
    BTreeMap::<String, String>::deserialize(deserializer)?
        .into_iter()
        .map(|(key, text)| {
            humantime::parse_duration(&text)
                .map(|duration| (key, duration))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

pub(crate) fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => humantime::parse_duration(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_json_example_parses() {
        let text = include_str!("seed.rs")
            .lines()
            .skip_while(|line| !line.starts_with("//! ```json"))
            .skip(1)
            .take_while(|line| !line.starts_with("//! ```"))
            .map(|line| line.trim_start_matches("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let seed = Seed::from_json(&text).expect("the doc example is valid");

        assert_eq!(seed.tokens.len(), 2);
        assert_eq!(
            seed.tokens[1].kind,
            TokenKind::GithubToken {
                repository: "acme/app".into()
            }
        );
        assert_eq!(seed.owners[0].kind, OwnerKind::Organization);
        let package = &seed.packages[0];
        assert_eq!(package.visibility, Visibility::Public);
        assert_eq!(package.versions[1].age, days(17));
        assert_eq!(package.versions[1].deleted_ago, Some(days(1)));
        assert_eq!(seed.limits.primary.remaining, Some(40));
        let secondary = seed.limits.secondary.expect("secondary limits");
        assert_eq!(secondary.window, Duration::from_secs(60));
        assert_eq!(secondary.retry_after, None);
        assert_eq!(seed.faults.latency, Duration::from_millis(50));
        assert_eq!(seed.faults.seed, 7);
    }

    #[test]
    fn json_defaults_match_the_builders() {
        let seed = Seed::from_json(
            r#"{"packages": [{"owner": "o", "package_type": "npm", "name": "n",
                "versions": [{"id": 1, "age": "1h"}]}]}"#,
        )
        .expect("minimal seed parses");
        let package = &seed.packages[0];
        let built = PackageSeed::new("o", "npm", "n");

        assert_eq!(package.visibility, built.visibility);
        assert_eq!(package.repository, built.repository);
        let version = &package.versions[0];
        assert_eq!(version.name, None);
        assert_eq!(version.deleted_ago, None);
        assert_eq!(version.downloads, 0);
        assert_eq!(seed.limits.primary.limit, 5000, "a PAT's budget");
        assert!(seed.limits.secondary.is_none());
        assert_eq!(seed.faults.error_rate, 0.0);
    }

    #[test]
    fn a_misspelled_field_is_rejected() {
        let error = Seed::from_json(r#"{"tokens": [], "packges": []}"#)
            .expect_err("unknown fields are errors");
        assert!(error.to_string().contains("packges"), "{error}");
    }
}
