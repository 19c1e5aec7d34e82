//! The state file on disk: gzip of compact JSON, versions and manifests as arrays, dates as
//! epoch seconds, so that a 100k-version package stays well under 200 bytes a version. Every
//! pass streams through gzip and JSON: neither the file nor its JSON is held whole, and a
//! package's records are read one at a time, into the state or straight into the next file.
//!
//! ```text
//! {"format":2,"api":"...","owner":"...","finished":["container/app"],
//!  "packages":[{"type":"container","name":"app","total":2,"pages":[1,1],
//!               "versions":[[id,"name",["tag"] or null,created,updated], ...],
//!               "manifests":[["sha256:...", "<exact bytes>" or null], ...]}]}
//! ```
//!
//! A manifest is saved with its exact bytes when it lists manifests or has a subject, and
//! loaded only when they hash to its digest; a plain image manifest is saved as `null`, a
//! claim the run proves before relying on it ([`Proof::Claimed`]). No blob size is saved
//! beside a digest: the storage figures believe sizes only from bytes that hash to it
//! ([`KnownManifests::blobs`]).

use std::io::Read;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::{KnownManifests, PackageState, Records, Rejected};
use crate::model::version::Version;
use crate::registry::{is_digest, manifest};

/// The most bytes decompressed from a state file in one pass, so a crafted file cannot
/// fill memory or time.
const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;

/// The last second of the year 9999: a stored date past it is not ours.
const LAST_SECOND: u64 = 253_402_300_799;

/// The fields checked before the rest is decoded.
#[derive(Deserialize)]
pub(super) struct Header {
    pub format: u32,
    pub api: String,
    pub owner: String,
}

/// Everything but the packages' records: read before any package is listed.
#[derive(Deserialize)]
pub(super) struct Index {
    pub finished: Vec<String>,
    pub packages: Vec<PackageIndex>,
}

/// A package's fields besides its records (which the index pass skips over).
#[derive(Deserialize)]
pub(super) struct PackageIndex {
    #[serde(rename = "type")]
    pub package_type: String,
    pub name: String,
    pub total: u64,
    /// Pages listed, pages in all.
    pub pages: (u32, u32),
}

/// One pass over a state: gunzip, at most [`MAX_JSON_BYTES`] of JSON, decoded as `T`.
pub(super) fn parse<T: DeserializeOwned, R: Read>(source: R) -> Result<T, Rejected> {
    let json = std::io::BufReader::new(flate2::read::GzDecoder::new(source).take(MAX_JSON_BYTES));
    serde_json::from_reader(json).map_err(unreadable)
}

fn unreadable(err: serde_json::Error) -> Rejected {
    Rejected::Unreadable(if err.is_io() {
        format!("not a gzip file: {err}")
    } else {
        format!("not a run state: {err}")
    })
}

/// id, name, tags (`null` when the listing gave none: unknown, which means keep),
/// created, updated (epoch seconds).
#[derive(Serialize, Deserialize)]
pub(super) struct StoredVersion<S>(u64, S, Option<Vec<S>>, u64, u64);

/// digest, and the manifest's exact bytes (`null` for a plain image manifest).
#[derive(Serialize, Deserialize)]
pub(super) struct StoredManifest<S>(S, Option<S>);

impl StoredVersion<String> {
    /// The version, its dates checked.
    fn into_version(self) -> Result<Version, String> {
        let StoredVersion(id, name, tags, created, updated) = self;
        let time = |seconds: u64| {
            (seconds <= LAST_SECOND)
                .then(|| UNIX_EPOCH + Duration::from_secs(seconds))
                .ok_or_else(|| {
                    format!("version {id} has a date {seconds} s after 1970, past the year 9999")
                })
        };
        let tags_known = tags.is_some();
        let mut tags = tags.unwrap_or_default();
        // Decoded into room for four; 100k versions are held at once.
        tags.shrink_to_fit();
        Ok(Version {
            id,
            name,
            tags_known,
            tags,
            created_at: time(created)?,
            updated_at: time(updated)?,
            deleted_at: None,
        })
    }
}

impl StoredManifest<String> {
    /// Adds the manifest to `known`, when the record is one this run may use: bytes that
    /// hash to the digest and parse, or a plain image manifest's claim. `false` for anything
    /// else (a record that does not prove itself is dropped, and the manifest read again).
    fn load(self, known: &mut KnownManifests) -> bool {
        let StoredManifest(digest, bytes) = self;
        if !is_digest(&digest) {
            return false;
        }
        let digest = digest.to_ascii_lowercase();
        let Some(bytes) = bytes else {
            known.claim(digest);
            return true;
        };
        let actual: String = Sha256::digest(bytes.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        if digest.strip_prefix("sha256:") != Some(actual.as_str()) {
            return false;
        }
        match manifest::parse(None, bytes.as_bytes()) {
            Ok(parsed) => {
                known.checked(digest, parsed, bytes);
                true
            }
            Err(_) => false,
        }
    }
}

/// Streams `source` and hands the records of package `(package_type, name)` to `sink`, one
/// at a time; the file must be for `owner` on `api` in this format. `Ok(false)` when the
/// file holds no such package.
pub(super) fn visit<R: Read>(
    source: R,
    expected: &Header,
    (package_type, name): (&str, &str),
    sink: &mut dyn Sink,
) -> Result<bool, String> {
    let json = std::io::BufReader::new(flate2::read::GzDecoder::new(source).take(MAX_JSON_BYTES));
    let mut deserializer = serde_json::Deserializer::from_reader(json);
    let mut top = Top {
        expected,
        key: (package_type, name),
        sink,
        found: false,
    };
    deserializer
        .deserialize_map(&mut top)
        .map_err(|err| err.to_string())?;
    Ok(top.found)
}

/// Where [`visit`] hands a package's records.
pub(super) trait Sink {
    fn version(&mut self, record: StoredVersion<String>) -> Result<(), String>;
    fn manifest(&mut self, record: StoredManifest<String>) -> Result<(), String>;
}

/// Fills a [`PackageState`] with at most `cap` versions and `cap` manifests.
pub(super) struct Fill<'a> {
    pub package: &'a mut PackageState,
    pub cap: usize,
    /// Manifest records dropped because they do not prove themselves.
    pub dropped: usize,
}

impl Sink for Fill<'_> {
    fn version(&mut self, record: StoredVersion<String>) -> Result<(), String> {
        if self.package.versions.len() >= self.cap {
            return Err(format!("it holds more than {} versions", self.cap));
        }
        self.package.versions.push(record.into_version()?);
        Ok(())
    }

    fn manifest(&mut self, record: StoredManifest<String>) -> Result<(), String> {
        if self.package.manifests.len() >= self.cap {
            return Err(format!("it holds more than {} manifests", self.cap));
        }
        if !record.load(&mut self.package.manifests) {
            self.dropped += 1;
        }
        Ok(())
    }
}

/// The top-level object: checks the header fields as they come and finds `packages`.
struct Top<'a> {
    expected: &'a Header,
    key: (&'a str, &'a str),
    sink: &'a mut dyn Sink,
    found: bool,
}

impl<'de> Visitor<'de> for &mut Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a run state")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "format" => {
                    let format: u32 = map.next_value()?;
                    if format != self.expected.format {
                        return Err(A::Error::custom(format!("it has format {format}")));
                    }
                }
                "api" | "owner" => {
                    let value: String = map.next_value()?;
                    let wanted = if field == "api" {
                        &self.expected.api
                    } else {
                        &self.expected.owner
                    };
                    if value != *wanted {
                        return Err(A::Error::custom(format!("it is for another {field}")));
                    }
                }
                "packages" => map.next_value_seed(Packages(self))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `packages` array.
struct Packages<'t, 'a>(&'t mut Top<'a>);

impl<'de> DeserializeSeed<'de> for Packages<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Packages<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of packages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut packages: A) -> Result<(), A::Error> {
        while packages
            .next_element_seed(Package {
                top: &mut *self.0,
                package_type: None,
                name: None,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One package object: its records go to the sink when its type and name (which are
/// written before them) are the ones wanted.
struct Package<'t, 'a> {
    top: &'t mut Top<'a>,
    package_type: Option<String>,
    name: Option<String>,
}

impl Package<'_, '_> {
    fn wanted(&self) -> bool {
        self.package_type.as_deref() == Some(self.top.key.0)
            && self.name.as_deref() == Some(self.top.key.1)
    }
}

impl<'de> DeserializeSeed<'de> for Package<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Package<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a package")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "type" => self.package_type = Some(map.next_value()?),
                "name" => self.name = Some(map.next_value()?),
                "versions" if self.wanted() => {
                    self.top.found = true;
                    map.next_value_seed(RecordsSeed::<StoredVersion<String>> {
                        sink: &mut *self.top.sink,
                        kind: PhantomData,
                    })?;
                }
                "manifests" if self.wanted() => {
                    map.next_value_seed(RecordsSeed::<StoredManifest<String>> {
                        sink: &mut *self.top.sink,
                        kind: PhantomData,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A record the sink takes.
trait Record: DeserializeOwned {
    fn hand(self, sink: &mut dyn Sink) -> Result<(), String>;
}

impl Record for StoredVersion<String> {
    fn hand(self, sink: &mut dyn Sink) -> Result<(), String> {
        sink.version(self)
    }
}

impl Record for StoredManifest<String> {
    fn hand(self, sink: &mut dyn Sink) -> Result<(), String> {
        sink.manifest(self)
    }
}

/// An array of records, each handed to the sink as it is decoded.
struct RecordsSeed<'s, T> {
    sink: &'s mut dyn Sink,
    kind: PhantomData<T>,
}

impl<'de, T: Record> DeserializeSeed<'de> for RecordsSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Record> Visitor<'de> for RecordsSeed<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut records: A) -> Result<(), A::Error> {
        while let Some(record) = records.next_element::<T>()? {
            record.hand(&mut *self.sink).map_err(A::Error::custom)?;
        }
        Ok(())
    }
}

/// The file's shape as written, borrowed from the state (nothing copied).
#[derive(Serialize)]
pub(super) struct Stored<'a> {
    pub format: u32,
    pub api: &'a str,
    pub owner: &'a str,
    pub finished: Vec<&'a str>,
    pub packages: Vec<StoredPackage<'a>>,
}

/// One package as written.
#[derive(Serialize)]
pub(super) struct StoredPackage<'a> {
    #[serde(rename = "type")]
    package_type: &'a str,
    name: &'a str,
    total: u64,
    pages: (u32, u32),
    versions: VersionsOut<'a>,
    manifests: ManifestsOut<'a>,
}

impl<'a> StoredPackage<'a> {
    /// A package as written: its records from the state, or, when they were never loaded,
    /// copied from the file they are in (`header` says what that file must be).
    pub(super) fn new(
        package_type: &'a str,
        name: &'a str,
        package: &'a PackageState,
        header: &'a Header,
    ) -> Self {
        let (versions, manifests) = match &package.records {
            Records::Loaded => (
                VersionsOut::Loaded(&package.versions),
                ManifestsOut::Loaded(package.manifests.saved()),
            ),
            Records::OnDisk(source) => {
                let copy = Copy {
                    path: &source.path,
                    header,
                    key: (package_type, name),
                };
                (
                    VersionsOut::Copied(copy.clone()),
                    ManifestsOut::Copied(copy),
                )
            }
        };
        StoredPackage {
            package_type,
            name,
            total: package.total,
            pages: (package.pages_listed, package.pages_total),
            versions,
            manifests,
        }
    }
}

/// Where the records of a package that was never loaded are copied from.
#[derive(Clone)]
pub(super) struct Copy<'a> {
    path: &'a std::path::Path,
    header: &'a Header,
    key: (&'a str, &'a str),
}

impl Copy<'_> {
    /// Streams the package's records from the file into `out`: versions or manifests, as
    /// `versions` says. A file that cannot be read any more gives no records.
    fn into<S: SerializeSeq>(&self, out: &mut S, versions: bool) -> Result<(), S::Error> {
        struct Forward<'o, S: SerializeSeq> {
            out: &'o mut S,
            versions: bool,
            failed: Option<S::Error>,
        }
        impl<S: SerializeSeq> Sink for Forward<'_, S> {
            fn version(&mut self, record: StoredVersion<String>) -> Result<(), String> {
                if self.versions {
                    self.out.serialize_element(&record).map_err(|err| {
                        let message = err.to_string();
                        self.failed = Some(err);
                        message
                    })?;
                }
                Ok(())
            }
            fn manifest(&mut self, record: StoredManifest<String>) -> Result<(), String> {
                if !self.versions {
                    self.out.serialize_element(&record).map_err(|err| {
                        let message = err.to_string();
                        self.failed = Some(err);
                        message
                    })?;
                }
                Ok(())
            }
        }
        let mut forward = Forward {
            out,
            versions,
            failed: None,
        };
        if let Ok(file) = std::fs::File::open(self.path) {
            // A file changed or gone since it was loaded copies what it still holds.
            let _ = visit(file, self.header, self.key, &mut forward);
        }
        match forward.failed {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// A package's versions, serialized one record at a time as they are written.
enum VersionsOut<'a> {
    Loaded(&'a [Version]),
    Copied(Copy<'a>),
}

impl Serialize for VersionsOut<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        match self {
            VersionsOut::Loaded(versions) => {
                serializer.collect_seq(versions.iter().map(|version| {
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
            VersionsOut::Copied(copy) => {
                let mut seq = serializer.serialize_seq(None)?;
                copy.into(&mut seq, true)?;
                seq.end()
            }
        }
    }
}

/// A package's manifests by digest, as [`KnownManifests::saved`] gives them.
enum ManifestsOut<'a> {
    Loaded(Vec<(&'a str, Option<&'a str>)>),
    Copied(Copy<'a>),
}

impl Serialize for ManifestsOut<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        match self {
            ManifestsOut::Loaded(manifests) => serializer.collect_seq(
                manifests
                    .iter()
                    .map(|(digest, bytes)| StoredManifest(*digest, *bytes)),
            ),
            ManifestsOut::Copied(copy) => {
                let mut seq = serializer.serialize_seq(None)?;
                copy.into(&mut seq, false)?;
                seq.end()
            }
        }
    }
}

fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
}
