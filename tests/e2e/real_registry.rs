//! A real registry: the CNCF distribution registry (`docker-registry`) on 127.0.0.1 holds
//! images built `FROM scratch` with buildah and signed with skopeo; the fake serves that
//! repository's manifests as package versions and deletes there; the real binary cleans up;
//! `skopeo copy --all` proves every kept tag still pulls whole and the registry lost exactly
//! what the run reported. An audit before the cleanup finds nothing broken, sends no
//! mutating request and names as orphans exactly what the cleanup deletes; each cleanup runs
//! with `verify: true`; and once a platform manifest of `legacy` is deleted in the registry
//! behind the fake's back, an audit reports exactly `legacy` broken and a verified cleanup
//! fails naming it. A release whose referrers tag moved on, leaving an older referrers
//! index untagged, goes with its attestations and both indexes.
//!
//! `untag` and `restore-tags` against the same registry are in [`untag`].
//!
//! Needs `docker-registry`, `skopeo` and `buildah` (Debian packages of those names; `.ci/run`
//! installs them). Without them the test prints `SKIPPED: …` and passes, except under
//! `CI=true`, where it fails unless `.ci/run` said apt is unavailable
//! (`PACKAGE_JANITOR_NO_APT`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fake_github::{FakeGitHub, MirrorSeed, PackageSeed, days, mirrored_version_id};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::*;

mod untag;

const TOOLS: [&str; 3] = ["docker-registry", "skopeo", "buildah"];
/// Every buildah and skopeo call, and the registry's start, finish within this.
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// A janitor run against a registry on loopback takes well under a second.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

#[test]
fn a_cleanup_of_a_real_registry_deletes_exactly_the_reported_manifests_and_every_kept_tag_pulls_whole()
 {
    let Some(lab) = Lab::start_or_skip(Deletes::Enabled) else {
        return;
    };
    // The old release: an OCI index whose platform manifests skopeo signed (`.sig` tags).
    let old = lab.release("v0.1.0", Format::Oci, true);
    // The current release: signed the same way, plus a cosign signature of the index written
    // by hand, and an SBOM artifact whose `subject` is the index, pushed by digest.
    let current = lab.release("v1.0.0", Format::Oci, true);
    let current_index_signature = lab.hand_written_signature(&current.index);
    let sbom = lab.artifact_about(&current.index, OCI_INDEX);
    // A Docker manifest list (v2s2), unsigned.
    let legacy = lab.release("legacy", Format::Docker, false);
    // `latest` pushed twice: the first image, its signature and its SBOM become a ghost.
    let ghost = lab.single_image("latest", "amd64", "ghost", true);
    let ghost_sbom = lab.artifact_about(&ghost.digest, OCI_MANIFEST);
    let latest = lab.single_image("latest", "arm64", "latest", false);
    // A partial push: a platform manifest pushed by digest whose index never came.
    let partial = lab.single_image("", "amd64", "partial", false);

    let everything: BTreeSet<String> = [
        old.all(),
        current.all(),
        vec![current_index_signature.clone(), sbom.clone()],
        legacy.all(),
        ghost.all(),
        vec![ghost_sbom.clone()],
        latest.all(),
        partial.all(),
    ]
    .concat()
    .into_iter()
    .collect();
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .mirror(
                    MirrorSeed::new(&lab.url, "acme/app")
                        .storage(&lab.storage)
                        .age("v0.1.0", days(90)),
                ),
        ),
    )
    .expect("the fake mirrors the registry");
    assert_eq!(
        names(&fake, &fake.active_ids("acme", "container", "app")),
        everything,
        "the fake lists every manifest in the registry, tagged or not"
    );

    // An audit first: nothing is broken, and its orphans are what the cleanup below deletes.
    let audited = lab.janitor(&fake).input("mode", "audit").finish();
    audited.assert_success();
    assert_eq!(audited.outputs["broken"], "[]", "{}", audited.summary);
    let mutations: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|request| request.method != "GET" && request.method != "HEAD")
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert!(
        mutations.is_empty(),
        "an audit changes nothing: {mutations:?}"
    );
    lab.assert_registry_holds(&fake, everything.clone());

    // Untagged manifests no kept image needs: the ghost with its signature and SBOM, and
    // the partial push. Platform manifests of kept indexes and the SBOM of v1.0.0 stay.
    let first = lab
        .janitor(&fake)
        .input("tag-state", "untagged")
        .input("delete-orphans", "true")
        .input("verify", "true")
        .finish();
    first.assert_success();
    assert_eq!(
        orphans(&audited),
        first.ids().into_iter().collect::<BTreeSet<u64>>(),
        "the audit's orphans are the cleanup's deletions"
    );
    // v0.1.0, v1.0.0, legacy, latest; the `sha256-….sig` tags are artifacts, not counted.
    assert_verified(&first, 4);
    let ghost_and_partial: BTreeSet<String> = [ghost.all(), vec![ghost_sbom], partial.all()]
        .concat()
        .into_iter()
        .collect();
    assert_eq!(
        names(&fake, &first.ids()),
        ghost_and_partial,
        "{}",
        first.summary
    );
    lab.assert_gone(&ghost_and_partial);
    lab.assert_registry_holds(&fake, &everything - &ghost_and_partial);
    // The sizes come from the registry's own manifests: what the orphans alone held is what
    // deleting them freed, and what stays is the rest of what the audit counted.
    let bytes = |run: &Finished, output: &str| -> u64 {
        run.outputs[output]
            .parse()
            .unwrap_or_else(|_| panic!("{output} is a whole number: {:?}", run.outputs))
    };
    let freed = bytes(&first, "bytes-freed");
    assert!(freed > 0, "the ghost and the partial push held layers");
    assert_eq!(
        bytes(&first, "bytes-kept"),
        bytes(&audited, "bytes-kept") - freed
    );
    let orphans_row = audited
        .summary
        .lines()
        .find(|line| line.starts_with("| orphans |"))
        .unwrap_or_default();
    assert!(
        orphans_row.ends_with(&format!(" | {freed} |")),
        "{orphans_row}\n{}",
        audited.summary
    );

    // Releases older than 30 days (v0.1.0 is seeded 90 days old, v1.0.0 an hour): the old
    // index, its platform manifests and their signatures.
    let second = lab
        .janitor(&fake)
        .input("tag-regex", r"^v\d")
        .input("older-than", "30d")
        .input("verify", "true")
        .finish();
    second.assert_success();
    assert_verified(&second, 3);
    let old_release: BTreeSet<String> = old.all().into_iter().collect();
    assert_eq!(
        names(&fake, &second.ids()),
        old_release,
        "{}",
        second.summary
    );
    lab.assert_gone(&old_release);
    let kept = &(&everything - &ghost_and_partial) - &old_release;
    lab.assert_registry_holds(&fake, kept);

    let signature_tags = |release: &Release| -> Vec<String> {
        release
            .platforms
            .iter()
            .map(|digest| format!("{}.sig", digest.replace(':', "-")))
            .collect()
    };
    let expected_tags: BTreeSet<String> = [
        vec!["v1.0.0".to_string(), "legacy".into(), "latest".into()],
        signature_tags(&current),
        vec![format!("{}.sig", current.index.replace(':', "-"))],
    ]
    .concat()
    .into_iter()
    .collect();
    assert_eq!(lab.tags(), expected_tags);
    for tag in &expected_tags {
        lab.assert_pulls_whole(tag);
    }
    assert!(
        lab.manifest_digest(&sbom).is_some(),
        "the SBOM of v1.0.0 stays"
    );
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());

    // A platform manifest of `legacy` deleted in the registry, behind the fake's back.
    let lost = &legacy.platforms[0];
    lab.skopeo(&[
        "delete",
        "--tls-verify=false",
        &format!("docker://{}@{lost}", lab.repository),
    ])
    .unwrap_or_else(|error| panic!("{error}"));
    let requests_before = fake.requests().len();
    let audited = lab.janitor(&fake).input("mode", "audit").finish();
    audited.assert_success();
    let broken: Vec<Value> =
        serde_json::from_str(&audited.outputs["broken"]).expect("broken is a JSON array");
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0]["tag"], "legacy");
    assert_eq!(
        broken[0]["id"].as_u64(),
        mirrored_version_id(&legacy.index),
        "{broken:?}"
    );
    assert_eq!(broken[0]["missing"], json!([lost]), "{broken:?}");
    let mutations: Vec<String> = fake.requests()[requests_before..]
        .iter()
        .filter(|request| request.method != "GET" && request.method != "HEAD")
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert!(
        mutations.is_empty(),
        "an audit changes nothing: {mutations:?}"
    );

    let third = lab
        .janitor(&fake)
        .input("tag-regex", r"^v\d")
        .input("older-than", "30d")
        .input("verify", "true")
        .finish();
    third.assert_failure();
    let broken: Vec<Value> =
        serde_json::from_str(&third.outputs["broken"]).expect("broken is a JSON array");
    let tags: Vec<&Value> = broken.iter().map(|entry| &entry["tag"]).collect();
    assert_eq!(tags, vec!["legacy"], "{broken:?}");
    assert!(
        third
            .log
            .lines()
            .any(|line| line.starts_with("::error::") && line.contains("`legacy`")),
        "{}",
        third.log
    );
}

#[test]
fn deleting_a_release_deletes_its_attestations_though_a_stale_referrers_index_lists_one() {
    let Some(lab) = Lab::start_or_skip(Deletes::Enabled) else {
        return;
    };
    let old = lab.release("v1", Format::Oci, false);
    let current = lab.release("v2", Format::Oci, false);
    // Two attestations of v1, each added as a registry without the referrers API does: the
    // referrers tag `sha256-<hex of v1>` moves to a new index listing both, and the index
    // it pointed at before stays behind, untagged, listing the first only.
    let first = lab.attestation_about(&old.index, "first");
    let stale = lab.referrers_index(&old.index, &[&first]);
    let second = lab.attestation_about(&old.index, "second");
    let latest = lab.referrers_index(&old.index, &[&first, &second]);
    assert_ne!(stale, latest);
    assert_eq!(
        lab.manifest_digest(&old.index.replace(':', "-")),
        Some(latest.clone()),
        "the referrers tag moved to the newer index"
    );
    let v1: BTreeSet<String> = [old.all(), vec![first, second, stale, latest]]
        .concat()
        .into_iter()
        .collect();
    let everything: BTreeSet<String> = v1.iter().cloned().chain(current.all()).collect();
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .mirror(MirrorSeed::new(&lab.url, "acme/app").storage(&lab.storage)),
        ),
    )
    .expect("the fake mirrors the registry");
    lab.assert_registry_holds(&fake, everything.clone());

    let run = lab
        .janitor(&fake)
        .input("tag-regex", "^v1$")
        .input("verify", "true")
        .finish();
    run.assert_success();
    assert_eq!(names(&fake, &run.ids()), v1, "{}", run.summary);
    // Kept: v2 and its two platform manifests, nothing of v1 as part of the stale index.
    assert!(
        run.summary
            .contains("· kept because of a kept image: 2, tag-regex: 1\n"),
        "{}",
        run.summary
    );
    lab.assert_gone(&v1);
    lab.assert_registry_holds(&fake, &everything - &v1);
    lab.assert_pulls_whole("v2");
    assert_verified(&run, 1);
}

/// The ids an audit's `orphans` output lists.
fn orphans(audit: &Finished) -> BTreeSet<u64> {
    audit.outputs["orphans"]
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse().expect("an id"))
        .collect()
}

/// A `verify: true` run found every one of its `kept` tags whole.
#[track_caller]
fn assert_verified(run: &Finished, kept: usize) {
    assert_eq!(run.outputs["broken"], "[]", "{}", run.summary);
    assert!(
        run.summary
            .ends_with(&format!("\nverified: {kept} tags pull whole\n")),
        "{}",
        run.summary
    );
}

#[test]
fn a_delete_the_registry_refuses_is_reported_as_failed_and_changes_nothing() {
    let Some(lab) = Lab::start_or_skip(Deletes::Disabled) else {
        return;
    };
    let release = lab.single_image("v1", "amd64", "release", false);
    let partial = lab.single_image("", "arm64", "partial", false);
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .mirror(MirrorSeed::new(&lab.url, "acme/app").storage(&lab.storage)),
        ),
    )
    .expect("the fake mirrors the registry");
    let everything: BTreeSet<String> = [release.all(), partial.all()]
        .concat()
        .into_iter()
        .collect();

    let run = lab.janitor(&fake).input("tag-state", "untagged").finish();

    run.assert_failure();
    assert_eq!(
        names(&fake, &run.failed_ids()),
        partial.all().into_iter().collect()
    );
    assert!(run.ids().is_empty(), "{}", run.outputs["ids"]);
    lab.assert_registry_holds(&fake, everything);
    lab.assert_pulls_whole("v1");
}

/// The digests (version names) of the fake's versions `ids`.
fn names(fake: &FakeGitHub, ids: &[u64]) -> BTreeSet<String> {
    ids.iter()
        .map(|id| fake.version_name("acme", "container", "app", *id))
        .collect()
}

/// Whether the registry runs with `storage.delete.enabled`.
#[derive(Clone, Copy)]
enum Deletes {
    Enabled,
    Disabled,
}

#[derive(Clone, Copy)]
enum Format {
    Oci,
    Docker,
}

/// What one push put in the registry, by digest.
struct Release {
    index: String,
    platforms: Vec<String>,
    signatures: Vec<String>,
}

impl Release {
    fn all(&self) -> Vec<String> {
        [
            vec![self.index.clone()],
            self.platforms.clone(),
            self.signatures.clone(),
        ]
        .concat()
    }
}

/// One single-platform image pushed, with its skopeo signature when signed.
struct Single {
    digest: String,
    signature: Option<String>,
}

impl Single {
    fn all(&self) -> Vec<String> {
        std::iter::once(self.digest.clone())
            .chain(self.signature.clone())
            .collect()
    }
}

/// A registry on a free loopback port with storage in a private directory, and buildah and
/// skopeo configured to use private storage and that registry.
struct Lab {
    dir: PathBuf,
    storage: PathBuf,
    /// `http://127.0.0.1:PORT`
    url: String,
    /// `127.0.0.1:PORT/acme/app`
    repository: String,
    registry: Child,
    builds: std::cell::Cell<u32>,
}

impl Lab {
    fn start_or_skip(deletes: Deletes) -> Option<Lab> {
        let missing: Vec<&str> = TOOLS.into_iter().filter(|tool| !on_path(tool)).collect();
        if missing.is_empty() {
            return Some(Lab::start(deletes));
        }
        let missing = format!(
            "real_registry: {} not installed (apt-get install -y docker-registry skopeo buildah)",
            missing.join(", ")
        );
        let apt_missing = std::env::var_os("PACKAGE_JANITOR_NO_APT").is_some();
        if std::env::var("CI").as_deref() == Ok("true") && !apt_missing {
            panic!("{missing}: under CI=true they are required (.ci/run installs them)");
        }
        eprintln!("SKIPPED: {missing}");
        None
    }

    fn start(deletes: Deletes) -> Lab {
        static LABS: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pj-real-registry-{}-{}",
            std::process::id(),
            LABS.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = dir.join("storage");
        std::fs::create_dir_all(&storage).expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
             delete:\n    enabled: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display(),
            matches!(deletes, Deletes::Enabled)
        );
        std::fs::write(dir.join("config.yml"), config).expect("registry config");
        std::fs::write(
            dir.join("policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .expect("policy");
        std::fs::create_dir_all(dir.join("registries.d")).expect("registries.d");
        std::fs::write(
            dir.join("registries.d/local.yaml"),
            format!("docker:\n  127.0.0.1:{port}:\n    use-sigstore-attachments: true\n"),
        )
        .expect("registries.d");
        let registry = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("registry.log")).expect("log file"))
            .spawn()
            .expect("docker-registry starts");
        let mut lab = Lab {
            url: format!("http://127.0.0.1:{port}"),
            repository: format!("127.0.0.1:{port}/acme/app"),
            dir,
            storage,
            registry,
            builds: std::cell::Cell::new(0),
        };
        let deadline = Instant::now() + TOOL_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = lab.registry.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(lab.dir.join("registry.log")).unwrap_or_default();
                panic!("the registry did not start ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        lab
    }

    /// A fresh directory under the lab's.
    fn fresh(&self, what: &str) -> PathBuf {
        let n = self.builds.get() + 1;
        self.builds.set(n);
        let path = self.dir.join(format!("{what}-{n}"));
        std::fs::create_dir_all(&path).expect("dir");
        path
    }

    fn buildah(&self, args: &[&str]) -> String {
        let root = self.dir.join("buildah-root");
        let runroot = self.dir.join("buildah-runroot");
        let mut all = vec![
            "--storage-driver",
            "vfs",
            "--root",
            root.to_str().expect("utf-8 path"),
            "--runroot",
            runroot.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        tool("buildah", &all).unwrap_or_else(|error| panic!("{error}"))
    }

    fn skopeo(&self, args: &[&str]) -> Result<String, String> {
        let policy = self.dir.join("policy.json");
        let registries = self.dir.join("registries.d");
        let mut all = vec![
            "--policy",
            policy.to_str().expect("utf-8 path"),
            "--registries.d",
            registries.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        tool("skopeo", &all)
    }

    /// A local image `FROM scratch` for `linux/<arch>` with one small file; its name.
    fn image(&self, arch: &str, text: &str) -> String {
        let name = format!("img-{arch}-{text}");
        let container = self.buildah(&["from", "--arch", arch, "--os", "linux", "scratch"]);
        let file = self.fresh("file").join("hello.txt");
        std::fs::write(&file, format!("{text} for {arch}\n")).expect("file");
        let container = container.trim();
        self.buildah(&[
            "copy",
            container,
            file.to_str().expect("utf-8"),
            "/hello.txt",
        ]);
        self.buildah(&["config", "--arch", arch, "--os", "linux", container]);
        self.buildah(&["commit", "-q", container, &name]);
        self.buildah(&["rm", container]);
        name
    }

    /// An amd64 + arm64 index tagged `tag`, pushed through a `dir:` copy so that skopeo
    /// writes a sigstore signature (a `sha256-<hex>.sig` tag) for each platform manifest.
    fn release(&self, tag: &str, format: Format, signed: bool) -> Release {
        let list = format!("list-{tag}");
        self.buildah(&["manifest", "create", &list]);
        for arch in ["amd64", "arm64"] {
            let image = self.image(arch, tag);
            self.buildah(&[
                "manifest",
                "add",
                &list,
                &format!("containers-storage:localhost/{image}"),
            ]);
        }
        let dir = self.fresh("release");
        let target = format!("dir:{}", dir.display());
        let mut push = vec!["manifest", "push", "--all"];
        if let Format::Docker = format {
            push.extend(["--format", "v2s2"]);
        }
        push.extend([list.as_str(), target.as_str()]);
        self.buildah(&push);
        let pushed: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("index"))
                .expect("index JSON");
        if signed {
            for digest in digests_listed(&pushed) {
                let hex = digest.trim_start_matches("sha256:");
                std::fs::write(
                    dir.join(format!("{hex}.signature-1")),
                    self.signature(&digest),
                )
                .expect("signature");
            }
        }
        let destination = format!("docker://{}:{tag}", self.repository);
        self.skopeo(&[
            "copy",
            "--all",
            "--dest-tls-verify=false",
            &target,
            &destination,
        ])
        .unwrap_or_else(|error| panic!("{error}"));
        // skopeo re-serializes the index it writes (but not the signed manifests), so the
        // registry's copy is the truth.
        let index_bytes = self.raw_manifest(tag).expect("the index was pushed");
        let index: Value = serde_json::from_slice(&index_bytes).expect("index JSON");
        let platforms = digests_listed(&index);
        if signed {
            assert_eq!(
                platforms,
                digests_listed(&pushed),
                "signed manifests unchanged"
            );
        }
        Release {
            index: sha256(&index_bytes),
            signatures: if signed {
                platforms
                    .iter()
                    .map(|digest| self.signature_of(digest))
                    .collect()
            } else {
                Vec::new()
            },
            platforms,
        }
    }

    /// One platform manifest, tagged `tag` (or pushed by digest when `tag` is empty).
    fn single_image(&self, tag: &str, arch: &str, text: &str, signed: bool) -> Single {
        let image = self.image(arch, text);
        let dir = self.fresh("single");
        let target = format!("dir:{}", dir.display());
        self.buildah(&["push", "--format", "oci", &image, &target]);
        let digest = sha256(&std::fs::read(dir.join("manifest.json")).expect("manifest"));
        if signed {
            std::fs::write(dir.join("signature-1"), self.signature(&digest)).expect("signature");
        }
        let destination = if tag.is_empty() {
            format!("docker://{}@{digest}", self.repository)
        } else {
            format!("docker://{}:{tag}", self.repository)
        };
        self.skopeo(&["copy", "--dest-tls-verify=false", &target, &destination])
            .unwrap_or_else(|error| panic!("{error}"));
        Single {
            signature: signed.then(|| self.signature_of(&digest)),
            digest,
        }
    }

    /// A signature in the blob format containers/image keeps in a `dir:` copy (a zero byte,
    /// `sigstore-json`, a newline, then JSON). The payload is a cosign simple-signing claim
    /// about `digest`; the signature bytes are made up: neither the registry nor the janitor
    /// checks them, and Debian's skopeo cannot sign with sigstore keys.
    fn signature(&self, digest: &str) -> Vec<u8> {
        let payload = json!({
            "critical": {
                "identity": {"docker-reference": self.repository},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": null,
        });
        let chunk = json!({
            "mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "payload": STANDARD.encode(payload.to_string()),
            "annotations": {
                "dev.cosignproject.cosign/signature": STANDARD.encode(sha256(payload.to_string().as_bytes())),
            },
        });
        [
            b"\0sigstore-json\n".as_slice(),
            chunk.to_string().as_bytes(),
        ]
        .concat()
    }

    /// The digest of the `sha256-<hex>.sig` manifest skopeo wrote for `digest`.
    fn signature_of(&self, digest: &str) -> String {
        let tag = format!("{}.sig", digest.replace(':', "-"));
        self.manifest_digest(&tag)
            .unwrap_or_else(|| panic!("skopeo wrote no {tag}"))
    }

    /// A cosign signature manifest for `subject`, written by hand as an OCI layout and
    /// pushed with skopeo under cosign's `sha256-<hex>.sig` tag.
    fn hand_written_signature(&self, subject: &str) -> String {
        let layer = json!({"critical": {"image": {"docker-manifest-digest": subject}}});
        let tag = format!("{}.sig", subject.replace(':', "-"));
        self.push_layout(
            Some(&tag),
            "application/vnd.dev.cosign.simplesigning.v1+json",
            layer.to_string().as_bytes(),
            json!({}),
        )
    }

    /// An SBOM artifact whose OCI `subject` is `subject` (of `media_type`), pushed by digest.
    fn artifact_about(&self, subject: &str, media_type: &str) -> String {
        let size = self
            .raw_manifest(subject)
            .unwrap_or_else(|| panic!("{subject} is in the registry"))
            .len();
        self.push_layout(
            None,
            "application/spdx+json",
            br#"{"spdxVersion": "SPDX-2.3", "name": "app"}"#,
            json!({
                "artifactType": "application/spdx+json",
                "subject": {"mediaType": media_type, "digest": subject, "size": size},
            }),
        )
    }

    /// A GitHub-style artifact attestation (a sigstore bundle) whose OCI `subject` is the
    /// index `subject`, pushed by digest; `text` makes its bytes its own.
    fn attestation_about(&self, subject: &str, text: &str) -> String {
        let size = self
            .raw_manifest(subject)
            .unwrap_or_else(|| panic!("{subject} is in the registry"))
            .len();
        self.push_layout(
            None,
            SIGSTORE_BUNDLE,
            json!({"attestation": text}).to_string().as_bytes(),
            json!({
                "artifactType": SIGSTORE_BUNDLE,
                "subject": {"mediaType": OCI_INDEX, "digest": subject, "size": size},
            }),
        )
    }

    /// The referrers index of `subject` listing `artifacts`, put under the referrers tag
    /// `sha256-<hex>` as a client of a registry without the referrers API does. Returns its
    /// digest.
    fn referrers_index(&self, subject: &str, artifacts: &[&str]) -> String {
        let manifests: Vec<Value> = artifacts
            .iter()
            .map(|digest| {
                let size = self
                    .raw_manifest(digest)
                    .unwrap_or_else(|| panic!("{digest} is in the registry"))
                    .len();
                json!({
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": size,
                    "artifactType": SIGSTORE_BUNDLE,
                })
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        let bytes = serde_json::to_vec(&index).expect("JSON");
        self.put_manifest(&subject.replace(':', "-"), OCI_INDEX, &bytes);
        sha256(&bytes)
    }

    /// `PUT /v2/acme/app/manifests/<reference>` with `bytes`, over plain HTTP on loopback.
    fn put_manifest(&self, reference: &str, media_type: &str, bytes: &[u8]) {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("the registry listens");
        stream
            .set_read_timeout(Some(TOOL_TIMEOUT))
            .expect("a timeout");
        let head = format!(
            "PUT /v2/acme/app/manifests/{reference} HTTP/1.1\r\nHost: {address}\r\n\
             Content-Type: {media_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            bytes.len()
        );
        stream.write_all(head.as_bytes()).expect("request sent");
        stream.write_all(bytes).expect("body sent");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 201"),
            "PUT {reference}: {answer}"
        );
    }

    /// Writes an OCI layout holding one manifest (an empty config, one layer of
    /// `layer_type`, plus `extra` fields) and copies it to the registry, tagged or by
    /// digest. Returns the manifest's digest.
    fn push_layout(
        &self,
        tag: Option<&str>,
        layer_type: &str,
        layer: &[u8],
        extra: Value,
    ) -> String {
        let dir = self.fresh("layout");
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("layout");
        let blob = |bytes: &[u8]| {
            let digest = sha256(bytes);
            let path = dir
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:"));
            std::fs::write(path, bytes).expect("blob");
            json!({"digest": digest, "size": bytes.len()})
        };
        let mut config = blob(b"{}");
        config["mediaType"] = EMPTY_CONFIG.into();
        let mut layer = blob(layer);
        layer["mediaType"] = layer_type.into();
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": [layer],
        });
        for (key, value) in extra.as_object().expect("an object") {
            manifest[key] = value.clone();
        }
        let bytes = serde_json::to_vec(&manifest).expect("JSON");
        let mut descriptor = blob(&bytes);
        descriptor["mediaType"] = OCI_MANIFEST.into();
        std::fs::write(
            dir.join("index.json"),
            json!({"schemaVersion": 2, "manifests": [descriptor]}).to_string(),
        )
        .expect("index.json");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        let digest = sha256(&bytes);
        let destination = match tag {
            Some(tag) => format!("docker://{}:{tag}", self.repository),
            None => format!("docker://{}@{digest}", self.repository),
        };
        self.skopeo(&[
            "copy",
            "--dest-tls-verify=false",
            &format!("oci:{}", dir.display()),
            &destination,
        ])
        .unwrap_or_else(|error| panic!("{error}"));
        digest
    }

    /// The manifest bytes the registry serves for `reference`, if it knows it.
    fn raw_manifest(&self, reference: &str) -> Option<Vec<u8>> {
        self.lookup(reference).ok()
    }

    /// The manifest bytes the registry serves for `reference`, or skopeo's error.
    fn lookup(&self, reference: &str) -> Result<Vec<u8>, String> {
        let separator = if reference.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        let image = format!("docker://{}{separator}{reference}", self.repository);
        self.skopeo(&["inspect", "--raw", "--tls-verify=false", &image])
            .map(String::into_bytes)
    }

    fn manifest_digest(&self, reference: &str) -> Option<String> {
        self.raw_manifest(reference).map(|bytes| sha256(&bytes))
    }

    /// Every tag the registry lists.
    fn tags(&self) -> BTreeSet<String> {
        let listed = self
            .skopeo(&[
                "list-tags",
                "--tls-verify=false",
                &format!("docker://{}", self.repository),
            ])
            .unwrap_or_else(|error| panic!("{error}"));
        let listed: Value = serde_json::from_str(&listed).expect("list-tags JSON");
        listed["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|tag| tag.as_str().expect("a tag").to_string())
            .collect()
    }

    /// The janitor against `fake`, reading manifests from this registry.
    fn janitor(&self, fake: &FakeGitHub) -> Janitor {
        janitor(fake, ALICE)
            .input("packages", "app")
            .input("registry-url", &self.url)
    }

    #[track_caller]
    fn assert_pulls_whole(&self, tag: &str) {
        let target = self.fresh("pull");
        let source = format!("docker://{}:{tag}", self.repository);
        // `dir:` keeps signatures, so the sigstore attachments of the image are read too.
        let destination = format!("dir:{}", target.display());
        if let Err(error) = self.skopeo(&[
            "copy",
            "--all",
            "--src-tls-verify=false",
            &source,
            &destination,
        ]) {
            panic!("tag {tag} does not pull whole: {error}");
        }
    }

    #[track_caller]
    fn assert_gone(&self, digests: &BTreeSet<String>) {
        for digest in digests {
            match self.lookup(digest) {
                Err(error) if error.contains("manifest unknown") => {}
                Err(error) => panic!("{digest}: the registry did not say it is unknown: {error}"),
                Ok(_) => panic!("{digest} is still in the registry"),
            }
        }
    }

    /// The registry's manifests (every revision with a link in its storage) are exactly
    /// `expected`, and exactly the fake's active versions.
    #[track_caller]
    fn assert_registry_holds(&self, fake: &FakeGitHub, expected: BTreeSet<String>) {
        let revisions = self
            .storage
            .join("docker/registry/v2/repositories/acme/app/_manifests/revisions/sha256");
        let held: BTreeSet<String> = std::fs::read_dir(&revisions)
            .expect("revisions")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.join("link").is_file())
            .map(|path| {
                format!(
                    "sha256:{}",
                    path.file_name().expect("name").to_string_lossy()
                )
            })
            .collect();
        assert_eq!(held, expected, "the registry's manifests");
        assert_eq!(
            names(fake, &fake.active_ids("acme", "container", "app")),
            expected,
            "the fake's active versions"
        );
        for digest in &expected {
            let id = mirrored_version_id(digest).expect("a sha256 digest");
            assert_eq!(fake.version_name("acme", "container", "app", id), *digest);
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Only the registry this lab started, by its own handle.
        let _ = self.registry.kill();
        let _ = self.registry.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The digests an index lists.
fn digests_listed(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .expect("an index")
        .iter()
        .map(|entry| entry["digest"].as_str().expect("a digest").to_string())
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// Runs `program args` to completion within [`TOOL_TIMEOUT`]; its stdout, or why it failed.
fn tool(program: &str, args: &[&str]) -> Result<String, String> {
    let describe = || format!("{program} {}", args.join(" "));
    let out = tempfile_pair();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out.0).expect("stdout file"))
        .stderr(std::fs::File::create(&out.1).expect("stderr file"))
        .spawn()
        .map_err(|error| format!("{}: {error}", describe()))?;
    let deadline = Instant::now() + TOOL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{} took longer than {TOOL_TIMEOUT:?}", describe()));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = std::fs::read_to_string(&out.0).unwrap_or_default();
    let stderr = std::fs::read_to_string(&out.1).unwrap_or_default();
    let _ = std::fs::remove_file(&out.0);
    let _ = std::fs::remove_file(&out.1);
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!("{} failed ({status}):\n{stderr}", describe()))
    }
}

/// Two fresh file paths for a child's stdout and stderr.
fn tempfile_pair() -> (PathBuf, PathBuf) {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, Ordering::SeqCst);
    let base = std::env::temp_dir().join(format!("pj-tool-{}-{n}", std::process::id()));
    (base.with_extension("out"), base.with_extension("err"))
}

trait Finish {
    /// Runs the binary within [`RUN_TIMEOUT`].
    fn finish(self) -> Finished;
}

impl Finish for Janitor {
    fn finish(self) -> Finished {
        let mut running = self.spawn();
        let deadline = Instant::now() + RUN_TIMEOUT;
        while !running.has_exited() {
            if Instant::now() > deadline {
                running.terminate();
                panic!(
                    "the janitor took longer than {RUN_TIMEOUT:?}: {:?}",
                    running.wait().log
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        running.wait()
    }
}
