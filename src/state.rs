//! The run state kept between runs (input `state-file`): how far each package's listing got,
//! the versions listed so far, the manifests learned by digest, and which packages a
//! multi-package run finished. Pure encoding and checking, with file I/O at the edges.
//!
//! On disk: gzip of compact JSON (versions and manifests as arrays, dates as epoch
//! seconds), so that a 100k-version package stays well under 200 bytes a version. The
//! file is ours but comes back through a cache, so it is checked: one that does not
//! decode, has another format version, or was written for another owner or API host is
//! ignored with a warning and never trusted.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::de::{DeserializeOwned, Deserializer, Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::model::manifest::{Blob, Blobs, Child, MAX_BYTES, Manifest};
use crate::model::version::{PackageType, Version};

/// The format this build reads and writes; any other is ignored.
pub const FORMAT: u32 = 1;

/// The largest state file read (compressed); larger is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The most bytes decompressed from a state file, so a crafted file cannot fill memory.
const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;

/// Everything kept between runs for one owner on one API host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    pub api_url: String,
    pub owner: String,
    /// Per package, keyed by (type, name).
    pub packages: BTreeMap<(String, String), PackageState>,
    /// Packages (`type/name`) a multi-package run finished in the current round.
    pub finished: Vec<String>,
}

/// One package's listing progress and what was learned of its manifests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageState {
    /// The versions listed so far, newest first as the API lists them.
    pub versions: Vec<Version>,
    /// How many versions the listing saw: pages before the last × per page + the last
    /// page's length (the total the next refresh is checked against).
    pub total: u64,
    /// Pages listed so far, and how many the listing had when it last asked.
    pub pages_listed: u32,
    pub pages_total: u32,
    /// Manifests read before, by digest: content-addressed, so they never change.
    pub manifests: HashMap<String, Manifest>,
}

impl PackageState {
    /// Whether every page has been listed.
    pub fn complete(&self) -> bool {
        self.pages_total > 0 && self.pages_listed >= self.pages_total
    }
}

/// Why a state file was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Not gzip, not JSON, or not our shape.
    Unreadable(String),
    /// Written by a build with another format.
    Format(u32),
    /// Written for another owner or API host.
    Foreign { owner: String, api_url: String },
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Unreadable(why) => write!(f, "it cannot be read ({why})"),
            Rejected::Format(found) => {
                write!(
                    f,
                    "it has format {found}, and this version reads format {FORMAT}"
                )
            }
            Rejected::Foreign { owner, api_url } => {
                write!(f, "it was written for owner `{owner}` at {api_url}")
            }
        }
    }
}

/// A state as loaded: the one to use, and a warning when the file was ignored.
#[derive(Debug)]
pub struct Loaded {
    pub state: RunState,
    pub warning: Option<String>,
}

impl RunState {
    pub fn new(api_url: &str, owner: &str) -> RunState {
        RunState {
            api_url: api_url.trim_end_matches('/').to_string(),
            owner: owner.to_string(),
            packages: BTreeMap::new(),
            finished: Vec::new(),
        }
    }

    pub fn package(&self, package_type: PackageType, name: &str) -> Option<&PackageState> {
        self.packages.get(&key(package_type, name))
    }

    /// The package's entry, created empty when there is none.
    pub fn package_mut(&mut self, package_type: PackageType, name: &str) -> &mut PackageState {
        self.packages.entry(key(package_type, name)).or_default()
    }

    /// `names` with the packages not finished in the current round first, each group in
    /// the given order: a run that stops on the budget carries on where the last stopped.
    pub fn resume_order(&self, package_type: PackageType, names: &[String]) -> Vec<String> {
        let done = |name: &String| self.finished.contains(&label(package_type, name));
        let (finished, open): (Vec<&String>, Vec<&String>) = names.iter().partition(|n| done(n));
        open.into_iter().chain(finished).cloned().collect()
    }

    /// Records that this run finished `done` of `names`; when every one of `names` is
    /// finished, the round is over and the next run starts from the first again.
    pub fn record_finished(
        &mut self,
        package_type: PackageType,
        names: &[String],
        done: &[String],
    ) {
        for name in done {
            let label = label(package_type, name);
            if !self.finished.contains(&label) {
                self.finished.push(label);
            }
        }
        let all = names
            .iter()
            .all(|name| self.finished.contains(&label(package_type, name)));
        if all {
            self.finished.retain(|label| {
                !names
                    .iter()
                    .any(|name| *label == self::label(package_type, name))
            });
        }
    }

    /// The state in its on-disk form.
    pub fn encode(&self) -> anyhow::Result<Vec<u8>> {
        self.write_to(Vec::new())
    }

    /// Writes the on-disk form to `out` and gives it back. Records are serialized as they
    /// are written, borrowed from the state: nothing is copied, and a 100k-version state
    /// is never held whole, neither as records nor as bytes.
    fn write_to<Out: Write>(&self, out: Out) -> anyhow::Result<Out> {
        let stored = Stored {
            format: FORMAT,
            api: self.api_url.as_str(),
            owner: self.owner.as_str(),
            finished: self.finished.iter().map(String::as_str).collect(),
            packages: self
                .packages
                .iter()
                .map(|((package_type, name), package)| {
                    StoredPackage::from_state(package_type, name, package)
                })
                .collect(),
        };
        let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let mut json = std::io::BufWriter::new(&mut encoder);
        serde_json::to_writer(&mut json, &stored).context("could not encode the run state")?;
        json.flush().context("could not compress the run state")?;
        drop(json);
        encoder.finish().context("could not compress the run state")
    }

    /// Reads an on-disk state, checking that it is ours and for this owner and API host.
    pub fn decode(bytes: &[u8], api_url: &str, owner: &str) -> Result<RunState, Rejected> {
        RunState::decode_from(|| Ok(bytes), api_url, owner)
    }

    /// [`RunState::decode`] from a source opened twice: the header is checked in a first
    /// pass, then the rest is decoded straight into versions and manifests. Both passes
    /// stream through gzip and JSON, so neither the file nor its JSON is ever held whole
    /// (at 100k versions that was 50 MB more at the run's peak).
    fn decode_from<R: Read>(
        open: impl Fn() -> std::io::Result<R>,
        api_url: &str,
        owner: &str,
    ) -> Result<RunState, Rejected> {
        let header: Header = parse(&open)?;
        if header.format != FORMAT {
            return Err(Rejected::Format(header.format));
        }
        let wanted = RunState::new(api_url, owner);
        if header.owner != wanted.owner || header.api != wanted.api_url {
            return Err(Rejected::Foreign {
                owner: header.owner,
                api_url: header.api,
            });
        }
        let loaded: Loading = parse(&open)?;
        let mut state = wanted;
        state.finished = loaded.finished;
        for package in loaded.packages {
            let key = (package.package_type.clone(), package.name.clone());
            state.packages.insert(key, package.into_state()?);
        }
        Ok(state)
    }

    /// Loads the state file at `path`: a missing file is a first run; a file that cannot
    /// be used gives a fresh state and a warning saying why.
    pub fn load(path: &Path, api_url: &str, owner: &str) -> Loaded {
        let size = match std::fs::metadata(path) {
            Ok(metadata) => Ok(metadata.len()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    state: RunState::new(api_url, owner),
                    warning: None,
                };
            }
            Err(err) => Err(format!("it cannot be opened ({err})")),
        };
        let decoded = size.and_then(|size| {
            if size > MAX_FILE_BYTES {
                return Err(format!(
                    "it is larger than {} MiB",
                    MAX_FILE_BYTES / 1024 / 1024
                ));
            }
            let open = || Ok(std::fs::File::open(path)?.take(MAX_FILE_BYTES));
            RunState::decode_from(open, api_url, owner).map_err(|why| why.to_string())
        });
        match decoded {
            Ok(state) => Loaded {
                state,
                warning: None,
            },
            Err(why) => Loaded {
                state: RunState::new(api_url, owner),
                warning: Some(format!(
                    "input `state-file`: `{}` is ignored and the run starts afresh: {why}",
                    path.display()
                )),
            },
        }
    }

    /// Writes the state to `path` atomically, and only inside `workspace`: see
    /// [`crate::workspace_file`] for what is refused, and why.
    pub fn save(&self, path: &Path, workspace: &Path) -> anyhow::Result<()> {
        crate::workspace_file::write_inside(path, workspace, |file| {
            self.write_to(std::io::BufWriter::new(file))?
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)
                .context("could not write the run state")
        })
    }
}

fn key(package_type: PackageType, name: &str) -> (String, String) {
    (package_type.as_str().to_string(), name.to_string())
}

fn label(package_type: PackageType, name: &str) -> String {
    format!("{package_type}/{name}")
}

/// The fields checked before the rest is decoded.
#[derive(Deserialize)]
struct Header {
    format: u32,
    api: String,
    owner: String,
}

/// One pass over a state: gunzip, at most [`MAX_JSON_BYTES`] of JSON, decoded as `T`.
fn parse<T: DeserializeOwned, R: Read>(
    open: &impl Fn() -> std::io::Result<R>,
) -> Result<T, Rejected> {
    let file = open().map_err(|err| Rejected::Unreadable(err.to_string()))?;
    let json = std::io::BufReader::new(flate2::read::GzDecoder::new(file).take(MAX_JSON_BYTES));
    serde_json::from_reader(json).map_err(|err| {
        Rejected::Unreadable(if err.is_io() {
            format!("not a gzip file: {err}")
        } else {
            format!("not a run state: {err}")
        })
    })
}

/// The file's shape as written, borrowed from the state (nothing copied).
#[derive(Serialize)]
struct Stored<'a> {
    format: u32,
    api: &'a str,
    owner: &'a str,
    finished: Vec<&'a str>,
    packages: Vec<StoredPackage<&'a str, VersionsOut<'a>, ManifestsOut<'a>>>,
}

/// The file's shape as read, after the [`Header`] was checked: versions and manifests are
/// decoded straight into their final form, without a copy of the file's records.
#[derive(Deserialize)]
struct Loading {
    finished: Vec<String>,
    packages: Vec<StoredPackage<String, Vec<VersionIn>, ManifestsIn>>,
}

/// One package as stored: `S` is `&str` when writing and `String` when reading; `V` and `M`
/// are what its versions and manifests are written from or read into.
#[derive(Serialize, Deserialize)]
struct StoredPackage<S, V, M> {
    #[serde(rename = "type")]
    package_type: S,
    name: S,
    total: u64,
    /// Pages listed, pages in all.
    pages: (u32, u32),
    versions: V,
    manifests: M,
}

/// The last second of the year 9999: a stored date past it is not ours.
const LAST_SECOND: u64 = 253_402_300_799;

/// id, name, tags (`null` when the listing gave none: unknown, which means keep),
/// created, updated (epoch seconds).
#[derive(Serialize, Deserialize)]
struct StoredVersion<S>(u64, S, Option<Vec<S>>, u64, u64);

/// digest, is an index, children, artifact type, subject, blobs (`[[id, size], …]` with
/// each id in 32 hex digits, see [`Blob::id`]; or why they are not counted). A record
/// without blobs was written before sizes were kept: it is left out on reading, so that
/// the manifest is read again.
#[derive(Serialize, Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de>, B: Deserialize<'de>"))]
struct StoredManifest<S, B>(
    S,
    bool,
    Vec<StoredChild<S>>,
    Option<S>,
    Option<S>,
    #[serde(default)] Option<B>,
);

/// A manifest's blobs as read back.
#[derive(Deserialize)]
#[serde(untagged)]
enum BlobsIn {
    Sized(Vec<(String, u64)>),
    Unsized(String),
}

impl BlobsIn {
    fn into_blobs(self) -> Result<Blobs, String> {
        let sized = match self {
            BlobsIn::Unsized(why) => return Ok(Blobs::Unsized(why)),
            BlobsIn::Sized(sized) => sized,
        };
        let blobs = sized
            .into_iter()
            .map(|(hex, size)| {
                let id = Blob::id_from_hex(&hex)
                    .ok_or_else(|| format!("a blob id `{hex}` is not 32 hex digits"))?;
                if size > MAX_BYTES {
                    return Err(format!("a blob of {size} bytes is past 2^53"));
                }
                Ok(Blob { id, size })
            })
            .collect::<Result<_, String>>()?;
        Ok(Blobs::Sized(blobs))
    }
}

/// A manifest's blobs as written, borrowed: each id written as hex straight from its
/// 16 bytes.
struct BlobsOut<'a>(&'a Blobs);

impl Serialize for BlobsOut<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        match self.0 {
            Blobs::Sized(blobs) => {
                serializer.collect_seq(blobs.iter().map(|blob| (Hex(&blob.id), blob.size)))
            }
            Blobs::Unsized(why) => serializer.serialize_str(why),
        }
    }
}

/// 16 bytes as 32 lowercase hex digits.
struct Hex<'a>(&'a [u8; 16]);

impl Serialize for Hex<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_str(self)
    }
}

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// digest, platform, attests, artifact type.
#[derive(Serialize, Deserialize)]
struct StoredChild<S>(S, Option<S>, Option<S>, Option<S>);

/// A stored version read straight into a [`Version`], its dates checked.
#[repr(transparent)]
struct VersionIn(Version);

impl<'de> Deserialize<'de> for VersionIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<VersionIn, D::Error> {
        let StoredVersion(id, name, tags, created, updated) =
            StoredVersion::<String>::deserialize(deserializer)?;
        let time = |seconds: u64| {
            (seconds <= LAST_SECOND)
                .then(|| UNIX_EPOCH + Duration::from_secs(seconds))
                .ok_or_else(|| {
                    D::Error::custom(format!(
                        "version {id} has a date {seconds} s after 1970, past the year 9999"
                    ))
                })
        };
        Ok(VersionIn(Version {
            id,
            name,
            tags_known: tags.is_some(),
            tags: tags.unwrap_or_default(),
            created_at: time(created)?,
            updated_at: time(updated)?,
            deleted_at: None,
        }))
    }
}

/// The stored manifests read straight into the map by digest, one record at a time.
struct ManifestsIn(HashMap<String, Manifest>);

impl<'de> Deserialize<'de> for ManifestsIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ManifestsIn, D::Error> {
        struct Records;
        impl<'de> Visitor<'de> for Records {
            type Value = ManifestsIn;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of manifests")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut records: A) -> Result<ManifestsIn, A::Error> {
                let mut manifests = HashMap::new();
                while let Some(StoredManifest(
                    digest,
                    is_index,
                    children,
                    artifact_type,
                    subject,
                    blobs,
                )) = records.next_element::<StoredManifest<String, BlobsIn>>()?
                {
                    let Some(blobs) = blobs else {
                        continue;
                    };
                    let blobs = blobs
                        .into_blobs()
                        .map_err(|why| A::Error::custom(format!("the manifest {digest}: {why}")))?;
                    let children = children
                        .into_iter()
                        .map(
                            |StoredChild(digest, platform, attests, artifact_type)| Child {
                                digest,
                                platform,
                                attests,
                                artifact_type,
                            },
                        )
                        .collect();
                    let manifest = Manifest {
                        is_index,
                        children,
                        artifact_type,
                        subject,
                        blobs,
                    };
                    manifests.insert(digest, manifest);
                }
                Ok(ManifestsIn(manifests))
            }
        }
        deserializer.deserialize_seq(Records)
    }
}

/// A package's versions, serialized one record at a time as they are written.
struct VersionsOut<'a>(&'a [Version]);

impl Serialize for VersionsOut<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_seq(self.0.iter().map(|version| {
            StoredVersion(
                version.id,
                version.name.as_str(),
                version
                    .tags_known
                    .then(|| version.tags.iter().map(String::as_str).collect()),
                epoch_seconds(version.created_at),
                epoch_seconds(version.updated_at),
            )
        }))
    }
}

/// A package's manifests by digest, in digest order (so that an unchanged state writes the
/// same bytes), serialized one record at a time as they are written.
struct ManifestsOut<'a>(Vec<(&'a str, &'a Manifest)>);

impl Serialize for ManifestsOut<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_seq(self.0.iter().map(|(digest, manifest)| {
            let children = manifest
                .children
                .iter()
                .map(|child| {
                    StoredChild(
                        child.digest.as_str(),
                        child.platform.as_deref(),
                        child.attests.as_deref(),
                        child.artifact_type.as_deref(),
                    )
                })
                .collect();
            StoredManifest(
                *digest,
                manifest.is_index,
                children,
                manifest.artifact_type.as_deref(),
                manifest.subject.as_deref(),
                Some(BlobsOut(&manifest.blobs)),
            )
        }))
    }
}

impl<'a> StoredPackage<&'a str, VersionsOut<'a>, ManifestsOut<'a>> {
    fn from_state(package_type: &'a str, name: &'a str, package: &'a PackageState) -> Self {
        let mut manifests: Vec<(&str, &Manifest)> = package
            .manifests
            .iter()
            .map(|(digest, manifest)| (digest.as_str(), manifest))
            .collect();
        manifests.sort_unstable_by(|a, b| a.0.cmp(b.0));
        StoredPackage {
            package_type,
            name,
            total: package.total,
            pages: (package.pages_listed, package.pages_total),
            versions: VersionsOut(&package.versions),
            manifests: ManifestsOut(manifests),
        }
    }
}

impl StoredPackage<String, Vec<VersionIn>, ManifestsIn> {
    fn into_state(self) -> Result<PackageState, Rejected> {
        let (pages_listed, pages_total) = self.pages;
        if pages_listed > pages_total {
            return Err(Rejected::Unreadable(format!(
                "package `{}` lists {pages_listed} of {pages_total} pages",
                self.name
            )));
        }
        // Unwrapped in place (the same layout), then trimmed of the growth's spare room.
        let mut versions: Vec<Version> = self
            .versions
            .into_iter()
            .map(|VersionIn(version)| version)
            .collect();
        versions.shrink_to_fit();
        Ok(PackageState {
            versions,
            total: self.total,
            pages_listed,
            pages_total,
            manifests: self.manifests.0,
        })
    }
}

fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "https://api.github.com";

    fn digest(n: u64) -> String {
        // 64 hex digits that look random, as real digests do.
        let mut hex = String::with_capacity(71);
        hex.push_str("sha256:");
        let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            hex.push_str(&format!("{x:016x}"));
        }
        hex
    }

    fn version(id: u64, tags: &[&str]) -> Version {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + id * 60);
        Version {
            id,
            name: digest(id),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        }
    }

    fn blob(n: u64, size: u64) -> Blob {
        let id = Blob::id_of(&digest(n)).expect("a sha256 digest");
        Blob { id, size }
    }

    /// A platform manifest as buildx pushes one: its own config and top layer over two
    /// base layers every image shares.
    fn image(id: u64) -> Manifest {
        Manifest {
            blobs: Blobs::Sized(
                [
                    blob(1_000_000 + id, 1_469),
                    blob(7, 29_126_484),
                    blob(8, 3_620_000),
                    blob(2_000_000 + id, 10 * id),
                ]
                .into(),
            ),
            ..Manifest::default()
        }
    }

    /// A container package of `count` versions, every fifth a tagged index of the four
    /// before it, each with its manifest learned: the platform manifests with their blobs
    /// (see [`image`]).
    fn package(count: u64) -> PackageState {
        let versions: Vec<Version> = (1..=count)
            .rev()
            .map(|id| {
                if id % 5 == 0 {
                    version(id, &[&format!("v{id}")])
                } else {
                    version(id, &[])
                }
            })
            .collect();
        let manifests = versions
            .iter()
            .map(|version| {
                let manifest = if version.id % 5 == 0 {
                    Manifest {
                        is_index: true,
                        children: (1..5)
                            .map(|back| Child {
                                digest: digest(version.id - back),
                                platform: Some("linux/amd64".to_string()),
                                ..Child::default()
                            })
                            .collect(),
                        ..Manifest::default()
                    }
                } else {
                    image(version.id)
                };
                (version.name.clone(), manifest)
            })
            .collect();
        let pages_total = count.div_ceil(100) as u32;
        PackageState {
            versions,
            total: count,
            pages_listed: pages_total.min(2),
            pages_total,
            manifests,
        }
    }

    fn state(count: u64) -> RunState {
        let mut state = RunState::new(API, "acme");
        *state.package_mut(PackageType::Container, "app") = package(count);
        state.package_mut(PackageType::Npm, "lib").total = 7;
        state.finished.push("container/app".to_string());
        state
    }

    #[test]
    fn a_state_comes_back_exactly_as_it_was_written() {
        let state = state(250);
        let bytes = state.encode().unwrap();
        let back = RunState::decode(&bytes, API, "acme").unwrap();
        assert_eq!(back, state);
        assert_eq!(
            back.encode().unwrap(),
            bytes,
            "an unchanged state writes the same bytes"
        );
        assert_eq!(
            RunState::decode(&bytes, "https://api.github.com/", "acme").unwrap(),
            state,
            "a trailing slash names the same host"
        );
    }

    #[test]
    fn blob_sizes_come_back_as_they_were_and_so_does_why_they_were_not_counted() {
        let mut state = state(12);
        let package = state.package_mut(PackageType::Container, "app");
        let uncounted = Blobs::Unsized("its layer sha256:222222222222… claims -1 bytes".into());
        package.manifests.insert(
            digest(99),
            Manifest {
                blobs: uncounted.clone(),
                ..image(99)
            },
        );
        let back = RunState::decode(&state.encode().unwrap(), API, "acme").unwrap();
        let manifests = &back
            .package(PackageType::Container, "app")
            .unwrap()
            .manifests;
        assert_eq!(manifests[&digest(3)].blobs, image(3).blobs);
        assert_eq!(manifests[&digest(99)].blobs, uncounted);
        assert_eq!(back, state);
    }

    /// A format-1 file of one container package whose one manifest record is `record`.
    fn with_manifest(record: &str) -> Vec<u8> {
        let json = format!(
            r#"{{"format":1,"api":"https://api.github.com","owner":"acme","finished":[],
            "packages":[{{"type":"container","name":"app","total":1,"pages":[1,1],
            "versions":[[1,"{}",[],1700000000,1700000000]],"manifests":[{record}]}}]}}"#,
            digest(1)
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(json.as_bytes()).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn a_manifest_kept_before_sizes_were_is_left_out_so_that_it_is_read_again() {
        let old = with_manifest(&format!(r#"["{}",false,[],null,null]"#, digest(1)));
        let back = RunState::decode(&old, API, "acme").expect("still a state of format 1");
        let package = back.package(PackageType::Container, "app").unwrap();
        assert_eq!(package.versions.len(), 1, "the listing is kept");
        assert!(package.manifests.is_empty(), "{:?}", package.manifests);
    }

    #[test]
    fn a_stored_blob_that_is_not_a_digest_or_is_past_2_pow_53_bytes_is_not_ours() {
        let hex = "ab".repeat(16);
        let cases = [
            (format!(r#"[["{hex}",9007199254740993]]"#), "past 2^53"),
            (format!(r#"[["{}",1]]"#, &hex[..30]), "is not 32 hex digits"),
            (
                format!(r#"[["{}",1]]"#, hex.to_uppercase()),
                "is not 32 hex digits",
            ),
            (format!(r#"[["{hex}",-1]]"#), "not a run state"),
        ];
        for (blobs, expected) in cases {
            let record = format!(r#"["{}",false,[],null,null,{blobs}]"#, digest(1));
            let why = RunState::decode(&with_manifest(&record), API, "acme")
                .unwrap_err()
                .to_string();
            assert!(why.contains(expected), "{blobs}: {why}");
        }
    }

    #[test]
    fn unknown_tags_come_back_unknown_not_untagged() {
        let mut state = state(3);
        let package = state.package_mut(PackageType::Container, "app");
        package.versions[0].tags_known = false;
        let bytes = state.encode().unwrap();
        let back = RunState::decode(&bytes, API, "acme").unwrap();
        assert_eq!(back, state);
        let versions = &back
            .package(PackageType::Container, "app")
            .unwrap()
            .versions;
        assert!(
            !versions[0].tags_known,
            "unknown tags mean keep, never untagged"
        );
        assert!(versions[1].tags_known);
    }

    #[test]
    fn a_date_past_the_year_9999_is_not_ours() {
        let json = r#"{"format":1,"api":"https://api.github.com","owner":"acme","finished":[],
            "packages":[{"type":"container","name":"app","total":1,"pages":[1,1],
            "versions":[[1,"sha256:x",[],18446744073709551615,0]],"manifests":[]}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, json.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        assert!(matches!(
            RunState::decode(&bytes, API, "acme"),
            Err(Rejected::Unreadable(_))
        ));
    }

    #[test]
    fn files_that_are_not_ours_for_this_owner_and_host_are_rejected() {
        let ours = state(3).encode().unwrap();
        let plain_json = br#"{"format":1,"api":"https://api.github.com","owner":"acme"}"#;
        let gzip = |json: &str| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(json.as_bytes()).unwrap();
            encoder.finish().unwrap()
        };
        let old =
            gzip(r#"{"format":0,"api":"https://api.github.com","owner":"acme","packages":{}}"#);
        let wrong_shape =
            gzip(r#"{"format":1,"api":"https://api.github.com","owner":"acme","packages":7}"#);
        let bad_pages = gzip(
            r#"{"format":1,"api":"https://api.github.com","owner":"acme","finished":[],
               "packages":[{"type":"npm","name":"a","total":0,"pages":[5,2],"versions":[],"manifests":[]}]}"#,
        );
        let cut = &ours[..ours.len() / 2];
        let cases: [(&[u8], &str, &str, &str); 8] = [
            (b"", API, "acme", "cannot be read"),
            (plain_json, API, "acme", "not a gzip file"),
            (cut, API, "acme", "cannot be read"),
            (&old, API, "acme", "format 0"),
            (&wrong_shape, API, "acme", "not a run state"),
            (&bad_pages, API, "acme", "5 of 2 pages"),
            (&ours, API, "other", "written for owner `acme`"),
            (
                &ours,
                "https://ghes.example/api/v3",
                "acme",
                "at https://api.github.com",
            ),
        ];
        for (bytes, api, owner, expected) in cases {
            let why = RunState::decode(bytes, api, owner).unwrap_err().to_string();
            assert!(why.contains(expected), "{expected}: {why}");
        }
    }

    #[test]
    fn a_hundred_thousand_versions_take_under_200_bytes_each_on_disk() {
        let bytes = state(100_000).encode().unwrap();
        let per_version = bytes.len() as f64 / 100_000.0;
        assert!(per_version < 200.0, "{per_version} bytes a version");
    }

    #[test]
    fn loading_a_missing_file_starts_afresh_quietly_and_a_bad_one_with_a_warning() {
        let dir = std::env::temp_dir().join(format!("pj-state-{}", std::process::id()));
        let path = dir.join("nested").join("state.json");
        let missing = RunState::load(&path, API, "acme");
        assert_eq!(missing.state, RunState::new(API, "acme"));
        assert_eq!(missing.warning, None);

        let state = state(10);
        std::fs::create_dir_all(&dir).unwrap();
        state.save(&path, &dir).unwrap();
        let loaded = RunState::load(&path, API, "acme");
        assert_eq!((loaded.state, loaded.warning), (state, None));
        let files: Vec<_> = std::fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(files, ["state.json"], "no temporary file is left");

        std::fs::write(&path, b"{not gzip").unwrap();
        let corrupt = RunState::load(&path, API, "acme");
        assert_eq!(corrupt.state, RunState::new(API, "acme"));
        let warning = corrupt.warning.unwrap();
        assert!(
            warning.contains("is ignored") && warning.contains("not a gzip file"),
            "{warning}"
        );

        // Sparse: the size is checked before anything is read.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let huge = RunState::load(&path, API, "acme");
        assert_eq!(huge.state, RunState::new(API, "acme"));
        let warning = huge.warning.unwrap();
        assert!(warning.contains("larger than 64 MiB"), "{warning}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unfinished_packages_come_first_and_a_finished_round_starts_over() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut state = RunState::new(API, "acme");
        let order = |state: &RunState| state.resume_order(PackageType::Npm, &names).join(",");
        assert_eq!(order(&state), "a,b,c");
        state.record_finished(PackageType::Npm, &names, &["a".to_string()]);
        assert_eq!(order(&state), "b,c,a");
        state.record_finished(PackageType::Npm, &names, &["b".to_string()]);
        assert_eq!(order(&state), "c,a,b");
        state.record_finished(PackageType::Npm, &names, &["c".to_string()]);
        assert_eq!(order(&state), "a,b,c");
        assert!(state.finished.is_empty());
    }

    #[test]
    fn entries_of_packages_this_run_does_not_touch_are_kept() {
        let mut state = state(3);
        state.package_mut(PackageType::Container, "app").total = 4;
        let bytes = state.encode().unwrap();
        let back = RunState::decode(&bytes, API, "acme").unwrap();
        assert_eq!(
            back.package(PackageType::Npm, "lib").map(|p| p.total),
            Some(7)
        );
    }
}
