//! A container package whose versions are the manifests of a repository in a real registry
//! (the CNCF distribution registry on 127.0.0.1, in the end-to-end tests): the fake reads
//! them when it starts, serves them as versions through its REST API, and deletes a
//! manifest in that registry when its version is deleted through the REST API. Clients
//! read the manifests from the real registry itself (point `registry-url` at it).
//!
//! What the fake guesses, where ghcr.io and the distribution registry differ:
//! - **Which manifests are versions.** ghcr.io lists every manifest pushed to a package,
//!   tagged or not. The distribution API lists only tags, so the fake walks tags → their
//!   manifests → the manifests an index lists → the referrers the registry reports
//!   (`GET /v2/<name>/referrers/<digest>`, OCI 1.1; distribution 2.8 answers 404 and the
//!   fake moves on). Manifests nothing reaches (a superseded `latest`, an artifact pushed by
//!   digest) are invisible to that walk, so when the seed names the registry's filesystem
//!   `storage` root the fake also lists its revisions
//!   (`docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link`, the
//!   layout of distribution 2.x), which is every manifest the registry still has.
//! - **Ids and dates.** A version's id is the first 12 hex digits of its digest (so a test
//!   knows it from the digest; see [`version_id`]). The registry keeps no push date, so a
//!   version is `default_age` old unless `ages` names one of its tags or its digest (the
//!   oldest match wins).
//! - **Deleting.** A REST delete first applies GitHub's rules, then sends
//!   `DELETE /v2/<name>/manifests/<digest>` (the registry drops the digest's tags with it).
//!   A 404 means someone deleted it already: the version stays deleted. Any other refusal
//!   (delete disabled in the registry, no answer) undoes the version's deletion and answers
//!   500, so the fake never reports a deletion the registry did not make.
//! - **Restoring** a mirrored version would need the manifest re-pushed; the fake refuses
//!   it (501) rather than pretend.
//! - **Pushes.** ghcr.io lists a manifest pushed to a package as a new version at once. A
//!   client that pushes to the real registry (`untag`'s placeholders, `restore-tags`) does
//!   so behind the fake's back, so the fake walks the registry again before each listing
//!   of versions ([`refresh`]): a manifest it has no version for becomes the newest version
//!   (created now; a deleted version of that digest comes back instead), and every
//!   version's tags become the registry's. A version the walk no longer finds keeps its
//!   place (someone deleted its manifest in the registry: it is broken, not gone), minus
//!   any tag the registry now gives another manifest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::Value;

use crate::manifests::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Served, sha256};
use crate::seed::{VersionSeed, duration_map};

/// Everything the fake accepts from the registry, as the janitor asks for it.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// At most this many manifests are mirrored; a larger repository is refused at start.
const MAX_MANIFESTS: usize = 10_000;

/// Largest manifest, tag list or referrers answer read from the registry.
const BODY_CAP: usize = 4 << 20;

/// Every request to the registry has this long to answer, body included.
const DEADLINE: Duration = Duration::from_secs(10);

/// JSON: `{"registry": "http://127.0.0.1:5000", "repository": "acme/app",
/// "storage": "/tmp/registry", "default_age": "1h", "ages": {"v0.1.0": "90d"}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorSeed {
    /// Base URL of the registry: `http://127.0.0.1:<port>` (the fake talks to loopback only).
    pub registry: String,
    /// The repository in that registry; it must be the package's `<owner>/<name>`, lower
    /// case, because that is where clients look for the package's manifests.
    pub repository: String,
    /// The registry's `storage.filesystem.rootdirectory`, to find untagged manifests.
    #[serde(default)]
    pub storage: Option<PathBuf>,
    /// Age of every version `ages` does not name.
    #[serde(default = "default_age", deserialize_with = "crate::seed::duration")]
    pub default_age: Duration,
    /// Ages by tag or digest.
    #[serde(default, deserialize_with = "duration_map")]
    pub ages: BTreeMap<String, Duration>,
}

fn default_age() -> Duration {
    Duration::from_secs(60 * 60)
}

impl MirrorSeed {
    pub fn new(registry: &str, repository: &str) -> Self {
        Self {
            registry: registry.trim_end_matches('/').to_owned(),
            repository: repository.to_owned(),
            storage: None,
            default_age: default_age(),
            ages: BTreeMap::new(),
        }
    }

    /// The registry's filesystem storage root, so that untagged manifests are found too.
    pub fn storage(mut self, root: impl Into<PathBuf>) -> Self {
        self.storage = Some(root.into());
        self
    }

    /// Versions tagged `tag_or_digest`, or with that digest, are `age` old.
    pub fn age(mut self, tag_or_digest: &str, age: Duration) -> Self {
        self.ages.insert(tag_or_digest.to_owned(), age);
        self
    }
}

/// Where a mirrored package's manifests live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub registry: String,
    pub repository: String,
    /// The registry's filesystem storage root, when the seed named it.
    pub storage: Option<PathBuf>,
}

/// Every manifest of the repository, by digest, with the tags that name it.
pub type Found = BTreeMap<String, (Served, BTreeSet<String>)>;

/// The version id of the mirrored manifest `digest`: its first 12 hex digits, as a number.
pub fn version_id(digest: &str) -> Option<u64> {
    let hex = digest.strip_prefix("sha256:")?.get(..12)?;
    u64::from_str_radix(hex, 16).ok()
}

/// What the fake read from the registry: one version seed and manifest per digest.
pub struct Mirrored {
    pub remote: Remote,
    pub versions: Vec<VersionSeed>,
    pub manifests: HashMap<u64, Served>,
}

/// Reads the repository `seed` names (see the module documentation for what is listed).
/// Blocking: it runs its own runtime on a thread of its own, so it may be called anywhere.
pub fn read(seed: &MirrorSeed) -> anyhow::Result<Mirrored> {
    let remote = Remote {
        registry: loopback(&seed.registry)?,
        repository: seed.repository.clone(),
        storage: seed.storage.clone(),
    };
    let found = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(walk(&remote))
            })
            .join()
            .unwrap_or_else(|_| bail!("the mirror's reader panicked"))
    })
    .with_context(|| format!("cannot mirror {}/{}", remote.registry, remote.repository))?;
    let mut versions = Vec::new();
    let mut manifests = HashMap::new();
    for (digest, (served, tags)) in found {
        let id = version_id(&digest).context("a digest that is not sha256")?;
        let age = std::iter::once(&digest)
            .chain(&tags)
            .filter_map(|key| seed.ages.get(key))
            .max()
            .copied()
            .unwrap_or(seed.default_age);
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        versions.push(VersionSeed::new(id, age).tags(&tags));
        manifests.insert(id, served);
    }
    Ok(Mirrored {
        remote,
        versions,
        manifests,
    })
}

/// Walks the registry again (see the module documentation), for a listing.
pub async fn refresh(remote: &Remote) -> anyhow::Result<Found> {
    walk(remote)
        .await
        .with_context(|| format!("cannot mirror {}/{}", remote.registry, remote.repository))
}

/// Sends `DELETE /v2/<name>/manifests/<digest>`; `Ok` when the registry accepted it or
/// the manifest was gone already.
pub async fn delete(remote: &Remote, digest: &str) -> anyhow::Result<()> {
    let url = format!(
        "{}/v2/{}/manifests/{digest}",
        remote.registry, remote.repository
    );
    let (status, body) = send(Method::DELETE, &url).await?;
    match status {
        StatusCode::ACCEPTED | StatusCode::OK | StatusCode::NOT_FOUND => Ok(()),
        other => bail!(
            "DELETE {url} answered {other}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        ),
    }
}

/// `registry` if it is a plain-http URL on 127.0.0.1 or localhost, without a trailing slash.
fn loopback(registry: &str) -> anyhow::Result<String> {
    let base = registry.trim_end_matches('/');
    let host = base.strip_prefix("http://").unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(host, _port)| host);
    ensure!(
        host == "127.0.0.1" || host == "localhost",
        "the fake mirrors only a registry at http://127.0.0.1:<port>, not {registry}"
    );
    Ok(base.to_owned())
}

/// Every manifest found, by digest, with the tags that name it.
async fn walk(remote: &Remote) -> anyhow::Result<Found> {
    let base = format!("{}/v2/{}", remote.registry, remote.repository);
    let mut tagged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for tag in tags(&base).await? {
        let served = manifest(&base, &tag)
            .await?
            .with_context(|| format!("tag {tag} is listed but its manifest is unknown"))?;
        tagged.entry(served.digest).or_default().insert(tag);
    }
    let mut queue: Vec<String> = tagged.keys().cloned().collect();
    if let Some(root) = &remote.storage {
        queue.extend(revisions(root, &remote.repository)?);
    }
    let mut found = BTreeMap::new();
    while let Some(digest) = queue.pop() {
        if found.contains_key(&digest) {
            continue;
        }
        ensure!(
            found.len() < MAX_MANIFESTS,
            "more than {MAX_MANIFESTS} manifests"
        );
        // A child an index lists may be missing (a broken image): not a version then.
        let Some(served) = manifest(&base, &digest).await? else {
            continue;
        };
        queue.extend(served.children.iter().cloned());
        queue.extend(referrers(&base, &digest).await?);
        let tags = tagged.remove(&digest).unwrap_or_default();
        found.insert(digest, (served, tags));
    }
    Ok(found)
}

/// `GET <base>/tags/list`: every tag (distribution answers `"tags": null` when none).
async fn tags(base: &str) -> anyhow::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct TagList {
        tags: Option<Vec<String>>,
    }
    let url = format!("{base}/tags/list?n={MAX_MANIFESTS}");
    let (status, body) = send(Method::GET, &url).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(Vec::new());
    }
    ensure!(status == StatusCode::OK, "GET {url} answered {status}");
    let list: TagList = serde_json::from_slice(&body).with_context(|| format!("GET {url}"))?;
    Ok(list.tags.unwrap_or_default())
}

/// The manifest `reference` (tag or digest); `None` when the registry does not know it.
async fn manifest(base: &str, reference: &str) -> anyhow::Result<Option<Served>> {
    let url = format!("{base}/manifests/{reference}");
    let (status, bytes) = send_accepting(Method::GET, &url, ACCEPT).await?;
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    ensure!(status == StatusCode::OK, "GET {url} answered {status}");
    let digest = sha256(&bytes);
    ensure!(
        !reference.starts_with("sha256:") || reference == digest,
        "GET {url} served bytes that hash to {digest}"
    );
    let body: Value = serde_json::from_slice(&bytes).with_context(|| format!("GET {url}"))?;
    let media_type = match body["mediaType"].as_str() {
        Some(OCI_INDEX) => OCI_INDEX,
        Some(DOCKER_LIST) => DOCKER_LIST,
        Some(OCI_MANIFEST) => OCI_MANIFEST,
        Some(DOCKER_MANIFEST) => DOCKER_MANIFEST,
        other => bail!("GET {url}: media type {other:?} is not one the fake serves"),
    };
    let children = body["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["digest"].as_str().map(str::to_owned))
        .collect();
    Ok(Some(Served {
        media_type,
        bytes: bytes.to_vec(),
        digest,
        children,
        unreadable: false,
        outage: None,
        wrong_bytes: None,
        implied_tags: Vec::new(),
    }))
}

/// The digests the registry's referrers API lists for `digest`; none when it has no such
/// API (distribution 2.8 answers 404).
async fn referrers(base: &str, digest: &str) -> anyhow::Result<Vec<String>> {
    let url = format!("{base}/referrers/{digest}");
    let (status, body) = send_accepting(Method::GET, &url, OCI_INDEX).await?;
    if status != StatusCode::OK {
        return Ok(Vec::new());
    }
    let index: Value = serde_json::from_slice(&body).with_context(|| format!("GET {url}"))?;
    Ok(index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["digest"].as_str().map(str::to_owned))
        .collect())
}

/// The digests of every manifest revision in the registry's filesystem storage.
fn revisions(root: &std::path::Path, repository: &str) -> anyhow::Result<Vec<String>> {
    let dir = root
        .join("docker/registry/v2/repositories")
        .join(repository)
        .join("_manifests/revisions/sha256");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        // Nothing pushed yet.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut digests = Vec::new();
    for entry in entries {
        let path = entry?.path();
        // A deleted manifest keeps its directory and loses its `link`.
        let hex = path.file_name().and_then(|name| name.to_str());
        if let Some(hex) = hex.filter(|_| path.join("link").is_file()) {
            digests.push(format!("sha256:{hex}"));
        }
    }
    Ok(digests)
}

async fn send(method: Method, url: &str) -> anyhow::Result<(StatusCode, Bytes)> {
    send_accepting(method, url, "application/json").await
}

/// One request without credentials, its whole answer within [`DEADLINE`] and
/// [`BODY_CAP`].
async fn send_accepting(
    method: Method,
    url: &str,
    accept: &str,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method(method.clone())
        .uri(url)
        .header("accept", accept)
        .body(Empty::new())
        .with_context(|| format!("{method} {url}"))?;
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status();
        let body = Limited::new(response.into_body(), BODY_CAP)
            .collect()
            .await
            .map_err(|error| anyhow::anyhow!(error))?
            .to_bytes();
        anyhow::Ok((status, body))
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .with_context(|| format!("{method} {url}: no answer within {DEADLINE:?}"))?
        .with_context(|| format!("{method} {url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_id_is_the_digests_first_twelve_hex_digits() {
        let cases = [
            (format!("sha256:00000000000a{}", "f".repeat(52)), Some(10)),
            (format!("sha256:{}", "f".repeat(64)), Some(0xffff_ffff_ffff)),
            ("sha256:abc".to_string(), None),
            (format!("sha512:{}", "0".repeat(128)), None),
        ];
        for (digest, expected) in cases {
            assert_eq!(version_id(&digest), expected, "{digest}");
        }
    }

    #[test]
    fn only_a_loopback_registry_is_mirrored() {
        let cases = [
            ("http://127.0.0.1:5000/", Some("http://127.0.0.1:5000")),
            ("http://localhost:5000", Some("http://localhost:5000")),
            ("https://127.0.0.1:5000", None),
            ("http://registry.example:5000", None),
            ("http://127.0.0.1.example:5000", None),
        ];
        for (registry, expected) in cases {
            assert_eq!(loopback(registry).ok().as_deref(), expected, "{registry}");
        }
    }

    #[test]
    fn storage_revisions_without_a_link_are_deleted_manifests() {
        let root = std::env::temp_dir().join(format!("fake-mirror-{}", std::process::id()));
        let revisions_dir =
            root.join("docker/registry/v2/repositories/acme/app/_manifests/revisions/sha256");
        let (kept, deleted) = ("a".repeat(64), "b".repeat(64));
        std::fs::create_dir_all(revisions_dir.join(&kept)).expect("dir");
        std::fs::create_dir_all(revisions_dir.join(&deleted)).expect("dir");
        std::fs::write(revisions_dir.join(&kept).join("link"), "x").expect("link");

        let found = revisions(&root, "acme/app").expect("listed");
        let missing = revisions(&root, "acme/other").expect("an unknown repository is empty");
        std::fs::remove_dir_all(&root).expect("cleanup");

        assert_eq!(found, vec![format!("sha256:{kept}")]);
        assert!(missing.is_empty());
    }
}
