//! `keep-referenced`: images named in the repository's compose files, Kubernetes manifests
//! and workflows are kept, whatever the policy; the workspace is read within bounds and
//! never outside it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use fake_github::{FakeGitHub, PackageSeed, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

/// A checked-out repository: a fresh folder, removed when dropped.
struct Workspace(PathBuf);

impl Workspace {
    fn new() -> Workspace {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "package-janitor-workspace-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).expect("workspace folder");
        Workspace(path)
    }

    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Workspace {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(path, contents).expect("file written");
        self
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The registry as references name it: the fake's host and port.
fn host(fake: &FakeGitHub) -> String {
    fake.url().trim_start_matches("http://").to_owned()
}

fn digest_of(fake: &FakeGitHub, id: u64) -> String {
    fake.version_name("acme", "container", "app", id)
}

/// A buildx push: index `first` tagged `tag`, amd64 and arm64 manifests, and a cosign
/// signature of the index (`first + 3`).
fn signed_buildx(first: u64, age_days: u64, tag: &str) -> Vec<VersionSeed> {
    let (amd64, arm64) = (first + 1, first + 2);
    vec![
        v(amd64, age_days).platform("linux/amd64"),
        v(arm64, age_days).platform("linux/arm64"),
        v(first, age_days).index(&[amd64, arm64]).tags(&[tag]),
        v(first + 3, age_days).cosign_signature_of(first),
    ]
}

/// `app`: v1 (ids 1-4, signed buildx), v2 (10), v3 (20), and untagged 30, all old.
fn deployed_app() -> FakeGitHub {
    let versions = [
        signed_buildx(1, 90, "v1"),
        vec![v(10, 80).tags(&["v2"]), v(20, 70).tags(&["v3"]), v(30, 60)],
    ]
    .concat();
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

/// A compose file naming v1 by tag (and a tag that does not exist), and a Kubernetes
/// manifest naming v3 by digest and the missing tag again.
fn deployment(fake: &FakeGitHub) -> Workspace {
    let host = host(fake);
    let workspace = Workspace::new();
    workspace
        .write(
            "docker-compose.yml",
            format!(
                "services:\n  web:\n    image: {host}/acme/app:v1\n  next:\n    image: {host}/acme/app:v9\n  db:\n    image: postgres:16\n"
            ),
        )
        .write(
            "deploy/prod/app.yaml",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"{host}/acme/app@{}\"\n        - name: canary\n          image: {host}/acme/app:v9\n",
                digest_of(fake, 20)
            ),
        );
    workspace
}

fn keeping(fake: &FakeGitHub, workspace: &Workspace) -> Janitor {
    janitor(fake, ALICE)
        .env("GITHUB_WORKSPACE", &workspace.path().to_string_lossy())
        .input("packages", "app")
        .input("keep-referenced", "deploy/**/*.yaml, docker-compose*.yml")
}

fn entry(run: &Finished, id: u64) -> serde_json::Value {
    run.json()
        .into_iter()
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("no json entry for {id}: {}", run.outputs["json"]))
}

#[test]
fn a_dry_run_keeps_the_images_a_compose_file_and_a_manifest_name_by_tag_and_by_digest() {
    let fake = deployed_app();
    let workspace = deployment(&fake);
    let run = keeping(&fake, &workspace).input("dry-run", "true").run();
    run.assert_success();
    // Everything is selected but v1 (with its platforms and signature) and v3.
    assert_eq!(run.ids(), vec![10, 30]);
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3, 4, 10, 20, 30],
        "a dry run changes nothing"
    );
    assert_eq!(
        entry(&run, 1)["reason"],
        "referenced by docker-compose.yml:3"
    );
    assert_eq!(entry(&run, 1)["outcome"], "kept");
    assert_eq!(
        entry(&run, 20)["reason"],
        "referenced by deploy/prod/app.yaml:8"
    );
    for shown in [
        "| 1 | v1 | 90d | referenced by docker-compose.yml:3 |",
        "| 20 | v3 | 70d | referenced by deploy/prod/app.yaml:8 |",
        "kept because of a kept image: 3, keep-referenced: 2",
        "- **Filters:** keep-referenced `deploy/**/*.yaml`, `docker-compose*.yml`",
    ] {
        assert!(run.summary.contains(shown), "{shown}:\n{}", run.summary);
    }
    let missing = format!("names {}/acme/app:v9", host(&fake));
    assert_eq!(
        run.log.matches(&missing).count(),
        1,
        "one warning for the missing tag, however often it is named:\n{}",
        run.log
    );
    assert!(
        run.log
            .contains("deploy/prod/app.yaml:10 (and 1 other place) names"),
        "{}",
        run.log
    );
    assert!(run.summary.contains("acme/app:v9"), "{}", run.summary);
}

#[test]
fn with_rules_referenced_images_stay_and_the_rest_go() {
    let fake = deployed_app();
    let workspace = deployment(&fake);
    let rules = "- name: releases\n  tag-regex: ^v\n  keep-latest: 0\n  older-than: 30d\n- name: untagged\n  tag-state: untagged\n";
    let run = keeping(&fake, &workspace).input("rules", rules).run();
    run.assert_success();
    assert_eq!(run.ids(), vec![10, 30]);
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3, 4, 20]
    );
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
    assert_eq!(entry(&run, 10)["rule"], "releases");
}

#[test]
fn with_delete_orphans_an_index_named_by_digest_keeps_its_children_and_signature() {
    let fake = deployed_app();
    let host = host(&fake);
    let workspace = Workspace::new();
    workspace.write(
        "deploy/app.yaml",
        format!("image: {host}/acme/app@{}\n", digest_of(&fake, 1)),
    );
    let run = keeping(&fake, &workspace)
        .input("tag-state", "untagged")
        .input("delete-orphans", "true")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![30], "only the orphan no file names goes");
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3, 4, 10, 20]
    );
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
}

#[test]
fn a_package_with_a_referenced_image_is_never_deleted_whole() {
    let fake = FakeGitHub::start(
        accounts()
            .package(container(
                "acme",
                "app",
                vec![v(1, 40).tags(&["v1"]), v(2, 30).tags(&["v2"])],
            ))
            .package(
                PackageSeed::new("acme", "container", "tool")
                    .repository("acme/app")
                    .versions(vec![v(5, 40).tags(&["v1"])]),
            ),
    )
    .expect("fake starts");
    let workspace = Workspace::new();
    workspace.write(
        "docker-compose.yml",
        format!("image: {}/acme/app:v2\n", host(&fake)),
    );
    let run = janitor(&fake, ALICE)
        .env("GITHUB_WORKSPACE", &workspace.path().to_string_lossy())
        .input("packages", "app, tool")
        .input("keep-referenced", "docker-compose.yml")
        .input("delete-empty-packages", "true")
        .run();
    run.assert_success();
    assert!(!fake.package_deleted("acme", "container", "app"));
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2]);
    assert!(
        fake.package_deleted("acme", "container", "tool"),
        "a package no file names is still deleted whole"
    );
}

#[test]
fn a_hostile_workspace_is_read_within_bounds_and_never_outside_it() {
    let fake = deployed_app();
    let host = host(&fake);
    let outside = Workspace::new();
    outside.write("secret.yaml", format!("image: {host}/acme/app:v2\n"));
    let workspace = Workspace::new();
    workspace.write("deploy/ok.yaml", format!("image: {host}/acme/app:v1\n"));
    // A binary manifest that names v3, a 6 GiB sparse file, 40 folders of nesting that
    // name v3 at the bottom, and a link to a file outside that names v2.
    let mut binary = format!("image: {host}/acme/app:v3\n").into_bytes();
    binary.extend([0u8; 16]);
    workspace.write("deploy/image.yaml", binary);
    let huge = std::fs::File::create(workspace.path().join("deploy/huge.yaml")).expect("file");
    huge.set_len(6 << 30).expect("sparse file");
    let deep: String = (0..40).map(|n| format!("d{n}/")).collect();
    workspace.write(
        &format!("deploy/{deep}app.yaml"),
        format!("image: {host}/acme/app:v3\n"),
    );
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        workspace.path().join("deploy/secret.yaml"),
    )
    .expect("symlink");
    let run = keeping(&fake, &workspace).input("dry-run", "true").run();
    run.assert_success();
    assert_eq!(
        run.ids(),
        vec![10, 20, 30],
        "only v1 is kept: v2 is named outside, v3 in files that are not read"
    );
    for warned in [
        "`deploy/huge.yaml` is 6291456 KiB, over the 5 MiB a file may have",
        "`deploy/image.yaml` is a binary file",
        "`deploy/secret.yaml` is a link that leads outside the workspace",
        "folders deep: it was not searched",
    ] {
        assert!(run.log.contains(warned), "{warned}:\n{}", run.log);
    }
}

#[test]
fn no_file_to_read_fails_the_run_before_anything_is_listed() {
    let fake = deployed_app();
    let workspace = Workspace::new();
    let run = keeping(&fake, &workspace).run();
    run.assert_failure();
    assert!(
        run.log
            .contains("Check out the repository first (actions/checkout)"),
        "{}",
        run.log
    );
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![1, 2, 3, 4, 10, 20, 30]
    );
    assert!(
        fake.requests()
            .iter()
            .all(|request| !request.path.contains("/packages/")),
        "nothing was even listed: {:?}",
        fake.requests()
    );
}

#[test]
fn hostile_file_names_reach_the_log_summary_and_json_only_as_text() {
    let fake = deployed_app();
    let host = host(&fake);
    let workspace = Workspace::new();
    let names = [
        "deploy/a\n::error::pwned-error.yaml",
        "deploy/b\n# pwned-heading |x|.yaml",
    ];
    workspace
        .write(names[0], format!("image: {host}/acme/app:v1\n"))
        .write(names[1], format!("image: {host}/acme/app:gone\n"));
    let run = keeping(&fake, &workspace).input("dry-run", "true").run();
    run.assert_success();
    assert_eq!(run.ids(), vec![10, 20, 30]);
    for line in run.log.lines() {
        let start = line.trim_start();
        assert!(
            !start.starts_with("::error::pwned"),
            "{line:?}\n{}",
            run.log
        );
        assert!(!start.starts_with("# pwned"), "{line:?}");
    }
    for line in run.summary.lines() {
        assert!(
            !line.starts_with("::") && !line.starts_with("# pwned"),
            "summary line from data: {line:?}\n{}",
            run.summary
        );
    }
    assert_eq!(
        entry(&run, 1)["reason"],
        format!("referenced by {}:1", names[0]),
        "json keeps the name whole, escaped as JSON"
    );
    assert!(run.log.contains("acme/app:gone"), "{}", run.log);
}
