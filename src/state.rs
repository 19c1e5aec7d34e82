//! The run state kept between runs (input `state-file`): how far each package's listing got,
//! the versions listed so far, the manifests learned by digest, and which packages a
//! multi-package run finished. Pure encoding and checking, with file I/O at the edges; the
//! on-disk shape is in [`format`].
//!
//! The file is ours but comes back through a cache other workflows can write, so it is
//! checked, and it never decides what is deleted: it says where to look and what was seen
//! before. One that does not decode, has another format version, or was written for another
//! owner or API host is ignored with a warning. A package's records are read only when the
//! package is listed ([`PackageState::load_records`]), at most as many as its listing can
//! hold today, so a crafted file of millions of records is dropped early. A saved manifest
//! counts as proven only when its saved bytes hash to its digest ([`Proof`]).

mod format;
mod known;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::model::version::{PackageType, Version};
use format::{Fill, Header, Index, Stored, StoredPackage};
pub use known::{KnownManifests, Proof};

/// The format this build reads and writes; any other is ignored.
pub const FORMAT: u32 = 2;

/// The largest state file read (compressed); larger is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// page's length.
    pub total: u64,
    /// Pages listed so far, and how many the listing had when it last asked.
    pub pages_listed: u32,
    pub pages_total: u32,
    /// Manifests learned before, by digest, each with how far it is proven.
    pub manifests: KnownManifests,
    /// The ids of the versions a run moved to its plan, in the listing's order, so that
    /// they are saved in it again. Never written.
    pub order: Vec<u64>,
    /// Whether `versions` and `manifests` are loaded, or still in the state file.
    records: Records,
}

/// Where a package's records are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Records {
    #[default]
    Loaded,
    /// Still in the state file at this path (with the header to expect in it).
    OnDisk(Arc<OnDisk>),
}

/// A state file whose package records were not loaded yet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OnDisk {
    path: PathBuf,
    api_url: String,
    owner: String,
}

impl PackageState {
    /// Whether every page has been listed.
    pub fn complete(&self) -> bool {
        self.pages_total > 0 && self.pages_listed >= self.pages_total
    }

    /// Loads this package's versions and manifests from the state file, if they are still
    /// there: at most `cap` of each, for a listing that holds about `cap` versions today.
    /// A package claiming more is started afresh (its records dropped as soon as the cap is
    /// passed), as is one whose records cannot be read; either way with a warning. Saved
    /// manifests that do not prove themselves are dropped too, and read again.
    pub fn load_records(&mut self, package_type: &str, name: &str, cap: usize) -> Option<String> {
        let Records::OnDisk(source) = std::mem::take(&mut self.records) else {
            return None;
        };
        let header = Header {
            format: FORMAT,
            api: source.api_url.clone(),
            owner: source.owner.clone(),
        };
        // Room for what the file says it holds, within the cap: no growth to waste.
        let expected = usize::try_from(self.total).unwrap_or(usize::MAX).min(cap);
        self.versions.reserve_exact(expected);
        self.manifests.reserve(expected);
        let mut fill = Fill {
            package: self,
            cap,
            dropped: 0,
        };
        let read = std::fs::File::open(&source.path)
            .map_err(|err| err.to_string())
            .and_then(|file| {
                format::visit(
                    file.take(MAX_FILE_BYTES),
                    &header,
                    (package_type, name),
                    &mut fill,
                )
            });
        let dropped = fill.dropped;
        match read {
            Ok(_) => {
                self.versions.shrink_to_fit();
                let (records, verb) = if dropped == 1 {
                    ("manifest", "does")
                } else {
                    ("manifests", "do")
                };
                (dropped > 0).then(|| {
                    format!(
                        "input `state-file`: package `{name}`: {dropped} saved {records} {verb} not hash to {} digest; read again",
                        if dropped == 1 { "its" } else { "their" }
                    )
                })
            }
            Err(why) => {
                *self = PackageState::default();
                Some(format!(
                    "input `state-file`: package `{name}`: its saved listing is ignored and it is listed afresh: {why}"
                ))
            }
        }
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
    /// are written, borrowed from the state or copied from the file they were never loaded
    /// from: a 100k-version state is never held whole, neither as records nor as bytes.
    fn write_to<Out: Write>(&self, out: Out) -> anyhow::Result<Out> {
        let header = Header {
            format: FORMAT,
            api: self.api_url.clone(),
            owner: self.owner.clone(),
        };
        let stored = Stored {
            format: FORMAT,
            api: self.api_url.as_str(),
            owner: self.owner.as_str(),
            finished: self.finished.iter().map(String::as_str).collect(),
            packages: self
                .packages
                .iter()
                .map(|((package_type, name), package)| {
                    StoredPackage::new(package_type, name, package, &header)
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

    /// Reads an on-disk state whole, checking that it is ours and for this owner and API
    /// host.
    pub fn decode(bytes: &[u8], api_url: &str, owner: &str) -> Result<RunState, Rejected> {
        let mut state = RunState::index(|| Ok(bytes), api_url, owner)?;
        let header = Header {
            format: FORMAT,
            api: state.api_url.clone(),
            owner: state.owner.clone(),
        };
        for ((package_type, name), package) in &mut state.packages {
            let mut fill = Fill {
                package,
                cap: usize::MAX,
                dropped: 0,
            };
            format::visit(bytes, &header, (package_type, name), &mut fill)
                .map_err(Rejected::Unreadable)?;
        }
        Ok(state)
    }

    /// The state's header checked in a first pass, then everything but the packages'
    /// records in a second: both stream through gzip and JSON, skipping the records.
    fn index<R: Read>(
        open: impl Fn() -> std::io::Result<R>,
        api_url: &str,
        owner: &str,
    ) -> Result<RunState, Rejected> {
        let opened = || open().map_err(|err| Rejected::Unreadable(err.to_string()));
        let header: Header = format::parse(opened()?)?;
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
        let index: Index = format::parse(opened()?)?;
        let mut state = wanted;
        state.finished = index.finished;
        for package in index.packages {
            let (pages_listed, pages_total) = package.pages;
            if pages_listed > pages_total {
                return Err(Rejected::Unreadable(format!(
                    "package `{}` lists {pages_listed} of {pages_total} pages",
                    package.name
                )));
            }
            let entry = PackageState {
                total: package.total,
                pages_listed,
                pages_total,
                ..PackageState::default()
            };
            state
                .packages
                .insert((package.package_type, package.name), entry);
        }
        Ok(state)
    }

    /// Loads the state file at `path`: a missing file is a first run; a file that cannot
    /// be used gives a fresh state and a warning saying why. Only the header and each
    /// package's progress are read here; a package's records are read when it is listed
    /// ([`PackageState::load_records`]).
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
        let indexed = size.and_then(|size| {
            if size > MAX_FILE_BYTES {
                return Err(format!(
                    "it is larger than {} MiB",
                    MAX_FILE_BYTES / 1024 / 1024
                ));
            }
            let open = || Ok(std::fs::File::open(path)?.take(MAX_FILE_BYTES));
            RunState::index(open, api_url, owner).map_err(|why| why.to_string())
        });
        match indexed {
            Ok(mut state) => {
                let source = Arc::new(OnDisk {
                    path: path.to_path_buf(),
                    api_url: state.api_url.clone(),
                    owner: state.owner.clone(),
                });
                for package in state.packages.values_mut() {
                    package.records = Records::OnDisk(Arc::clone(&source));
                }
                Loaded {
                    state,
                    warning: None,
                }
            }
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use sha2::Digest;

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

    fn version(id: u64, name: String, tags: &[&str]) -> Version {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + id * 60);
        Version {
            id,
            name,
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        }
    }

    /// The bytes of an index of `children` (digests), and its digest.
    fn index_bytes(children: &[String]) -> (String, String) {
        let entries: Vec<String> = children
            .iter()
            .map(|digest| {
                format!(
                    r#"{{"digest":"{digest}","platform":{{"os":"linux","architecture":"amd64"}}}}"#
                )
            })
            .collect();
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
            entries.join(",")
        );
        let hex: String = sha2::Sha256::digest(bytes.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        (format!("sha256:{hex}"), bytes)
    }

    /// A container package of `count` versions, every fifth a tagged index of the four
    /// before it (saved with its bytes), the others plain image manifests (saved as claims).
    fn package(count: u64) -> PackageState {
        let mut versions = Vec::new();
        let mut manifests = KnownManifests::default();
        for id in (1..=count).rev() {
            if id % 5 == 0 {
                let children: Vec<String> = (1..5)
                    .filter(|back| *back < id)
                    .map(|back| digest(id - back))
                    .collect();
                let (name, bytes) = index_bytes(&children);
                let manifest = crate::registry::manifest::parse(None, bytes.as_bytes()).unwrap();
                manifests.read(name.clone(), manifest, bytes.into_bytes(), true);
                versions.push(version(id, name, &[&format!("v{id}")]));
            } else {
                manifests.claim(digest(id));
                versions.push(version(id, digest(id), &[]));
            }
        }
        let pages_total = count.div_ceil(100) as u32;
        PackageState {
            versions,
            total: count,
            pages_listed: pages_total.min(2),
            pages_total,
            manifests,
            ..PackageState::default()
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
        let json = r#"{"format":2,"api":"https://api.github.com","owner":"acme","finished":[],
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
        let plain_json = br#"{"format":2,"api":"https://api.github.com","owner":"acme"}"#;
        let gzip = |json: &str| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(json.as_bytes()).unwrap();
            encoder.finish().unwrap()
        };
        let old =
            gzip(r#"{"format":1,"api":"https://api.github.com","owner":"acme","packages":{}}"#);
        let wrong_shape =
            gzip(r#"{"format":2,"api":"https://api.github.com","owner":"acme","packages":7}"#);
        let bad_pages = gzip(
            r#"{"format":2,"api":"https://api.github.com","owner":"acme","finished":[],
               "packages":[{"type":"npm","name":"a","total":0,"pages":[5,2],"versions":[],"manifests":[]}]}"#,
        );
        let cut = &ours[..ours.len() / 2];
        let cases: [(&[u8], &str, &str, &str); 8] = [
            (b"", API, "acme", "cannot be read"),
            (plain_json, API, "acme", "not a gzip file"),
            (cut, API, "acme", "cannot be read"),
            (&old, API, "acme", "format 1"),
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
        assert_eq!(loaded.warning, None);
        assert_eq!(with_records(loaded.state), state);
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

    /// `state` with every package's records loaded.
    fn with_records(mut state: RunState) -> RunState {
        for ((package_type, name), package) in &mut state.packages {
            assert_eq!(package.load_records(package_type, name, usize::MAX), None);
        }
        state
    }

    fn temporary(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("pj-state-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn records_are_read_only_when_a_package_is_listed_and_capped_by_its_listing() {
        let dir = temporary("cap");
        let path = dir.join("state");
        state(250).save(&path, &dir).unwrap();
        let mut loaded = RunState::load(&path, API, "acme").state;
        let app = loaded.package_mut(PackageType::Container, "app");
        assert!(
            app.versions.is_empty(),
            "not read before the package is listed"
        );
        assert_eq!((app.total, app.pages_listed, app.pages_total), (250, 2, 3));
        let warning = app
            .load_records("container", "app", 100)
            .expect("a warning");
        assert!(
            warning.contains("package `app`") && warning.contains("more than 100 versions"),
            "{warning}"
        );
        assert_eq!(*app, PackageState::default(), "started afresh");
        let mut again = RunState::load(&path, API, "acme").state;
        let app = again.package_mut(PackageType::Container, "app");
        assert_eq!(app.load_records("container", "app", 250), None);
        assert_eq!(app.versions.len(), 250);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn packages_not_listed_are_copied_into_the_next_file_as_they_were() {
        let dir = temporary("copy");
        let (first, second) = (dir.join("first"), dir.join("second"));
        let original = state(250);
        original.save(&first, &dir).unwrap();
        let mut loaded = RunState::load(&first, API, "acme").state;
        let lib = loaded.package_mut(PackageType::Npm, "lib");
        assert_eq!(lib.load_records("npm", "lib", 1_000), None);
        lib.total = 8;
        loaded.save(&second, &dir).unwrap();
        let back = with_records(RunState::load(&second, API, "acme").state);
        assert_eq!(
            back.package(PackageType::Container, "app"),
            original.package(PackageType::Container, "app"),
            "copied record by record from the first file"
        );
        assert_eq!(
            back.package(PackageType::Npm, "lib").map(|p| p.total),
            Some(8)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_saved_manifest_counts_only_when_its_bytes_hash_to_its_digest() {
        let child = digest(1);
        let (name, bytes) = index_bytes(std::slice::from_ref(&child));
        let (_, emptied) = index_bytes(&[]);
        let records = serde_json::json!([
            [name, bytes],
            [digest(2), emptied],
            [digest(3), null],
            ["sha256:short", null],
        ]);
        // Type and name come before the records, as this build writes them.
        let json = format!(
            r#"{{"format":{FORMAT},"api":"{API}","owner":"acme","finished":[],
              "packages":[{{"type":"container","name":"app","total":2,"pages":[1,1],
              "versions":[],"manifests":{records}}}]}}"#
        );
        let dir = temporary("proof");
        let path = dir.join("state");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(json.as_bytes()).unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let mut loaded = RunState::load(&path, API, "acme").state;
        let app = loaded.package_mut(PackageType::Container, "app");
        let warning = app
            .load_records("container", "app", 100)
            .expect("a warning");
        assert!(
            warning.contains("2 saved manifests do not hash"),
            "{warning}"
        );
        let (index, proof) = app.manifests.get(&name).expect("the index");
        assert_eq!((proof, index.children.len()), (Proof::Whole, 1));
        assert_eq!(index.children[0].digest, child);
        assert_eq!(app.manifests.proof(&digest(3)), Some(Proof::Claimed));
        assert!(
            !app.manifests.contains(&digest(2)),
            "tampered bytes are dropped"
        );
        assert_eq!(
            app.manifests.len(),
            2,
            "a record that is no digest is dropped"
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
