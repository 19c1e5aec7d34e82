//! Tests of reading the workspace: what is read and found, and every bound and refusal
//! (too large, binary, too deep, too many, links out of the workspace, FIFOs).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::model::reference::Target;

/// A fresh folder under the system's temporary folder, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new() -> Folder {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "package-janitor-read-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&path).expect("temp folder");
        Folder(path)
    }

    fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Folder {
        let path = self.0.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folders");
        }
        std::fs::write(path, contents).expect("file written");
        self
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn patterns(value: &str) -> Patterns {
    Patterns::parse(value).expect("valid patterns")
}

fn scan_with(folder: &Folder, value: &str, limits: &Limits) -> Scan {
    scan(&folder.0, &patterns(value), "ghcr.io", "acme", limits).expect("the workspace reads")
}

/// (file:line, target) of every reference found.
fn places(scan: &Scan) -> Vec<(String, Target)> {
    scan.references
        .iter()
        .map(|reference| (reference.place.to_string(), reference.target.clone()))
        .collect()
}

fn tag(tag: &str) -> Target {
    Target::Tag(tag.to_owned())
}

#[test]
fn the_files_the_patterns_match_are_read_and_their_references_found_with_their_place() {
    let workspace = Folder::new();
    workspace
        .write(
            "docker-compose.yml",
            "services:\n  web:\n    image: ghcr.io/acme/web:1.4.2\n",
        )
        .write(
            "deploy/prod/app.yaml",
            "spec:\n  image: ghcr.io/acme/app:v2\n",
        )
        .write("deploy/README.md", "ghcr.io/acme/app:not-read\n")
        .write("src/compose.yml", "image: ghcr.io/acme/app:not-matched\n")
        .write(".git/config.yaml", "ghcr.io/acme/app:never\n");
    let scan = scan_with(
        &workspace,
        "deploy/**/*.yaml, docker-compose*.yml, .github/workflows/*.yml",
        &Limits::RUN,
    );
    assert_eq!(
        places(&scan),
        vec![
            ("deploy/prod/app.yaml:2".to_owned(), tag("v2")),
            ("docker-compose.yml:3".to_owned(), tag("1.4.2")),
        ]
    );
    assert_eq!(scan.files, 2);
    assert_eq!(scan.matched, vec![1, 1, 0]);
    assert_eq!(scan.skipped, Vec::new());
    assert_eq!(scan.stopped, None);
}

#[test]
fn a_file_over_the_size_bound_is_skipped_and_reading_stops_at_the_count_and_total_bounds() {
    let workspace = Folder::new();
    workspace
        .write("a.yml", "image: ghcr.io/acme/app:a\n")
        .write(
            "b.yml",
            format!("image: ghcr.io/acme/app:b\n{}", "#".repeat(200)),
        )
        .write("c.yml", "image: ghcr.io/acme/app:c\n")
        .write("d.yml", "image: ghcr.io/acme/app:d\n")
        .write("e.yml", "image: ghcr.io/acme/app:e\n");
    let limits = Limits {
        max_file_bytes: 100,
        max_files: 3,
        ..Limits::RUN
    };
    let scan = scan_with(&workspace, "*.yml", &limits);
    assert_eq!(
        places(&scan),
        vec![
            ("a.yml:1".to_owned(), tag("a")),
            ("c.yml:1".to_owned(), tag("c")),
            ("d.yml:1".to_owned(), tag("d")),
        ]
    );
    assert_eq!(
        scan.skipped,
        vec![Skipped::TooLarge {
            file: "b.yml".to_owned(),
            bytes: 226,
        }]
    );
    assert_eq!(scan.stopped.as_deref(), Some("more than 3 files match"));

    let by_total = scan_with(
        &workspace,
        "*.yml",
        &Limits {
            max_total_bytes: 60,
            ..limits
        },
    );
    assert_eq!(by_total.files, 2, "{by_total:?}");
    assert_eq!(
        by_total.stopped.as_deref(),
        Some("the files matched hold more than 0 MiB")
    );
}

#[test]
fn a_binary_file_is_skipped_and_a_huge_one_is_never_read_whole() {
    let workspace = Folder::new();
    let mut binary = b"image: ghcr.io/acme/app:hidden\n".to_vec();
    binary.extend([0u8, 1, 2, 3]);
    workspace
        .write("deploy/image.yaml", binary)
        .write("deploy/ok.yaml", "image: ghcr.io/acme/app:ok\n");
    let huge = std::fs::File::create(workspace.0.join("deploy/huge.yaml")).expect("created");
    // 6 GiB, sparse: reading it whole would exhaust the machine.
    huge.set_len(6 << 30).expect("sparse file");
    let scan = scan_with(&workspace, "deploy/*.yaml", &Limits::RUN);
    assert_eq!(
        places(&scan),
        vec![("deploy/ok.yaml:1".to_owned(), tag("ok"))]
    );
    assert_eq!(
        scan.skipped,
        vec![
            Skipped::TooLarge {
                file: "deploy/huge.yaml".to_owned(),
                bytes: 6 << 30,
            },
            Skipped::Binary {
                file: "deploy/image.yaml".to_owned(),
            },
        ]
    );
    assert_eq!(scan.bytes, 27);
}

#[test]
fn a_link_out_of_the_workspace_is_never_followed_and_one_inside_is() {
    let outside = Folder::new();
    outside.write("secret.yaml", "image: ghcr.io/acme/app:outside\n");
    outside.write("dir/inner.yaml", "image: ghcr.io/acme/app:outside-dir\n");
    let workspace = Folder::new();
    workspace.write("shared/prod.yaml", "image: ghcr.io/acme/app:shared\n");
    let link = |target: &std::path::Path, name: &str| {
        let at = workspace.0.join(name);
        std::fs::create_dir_all(at.parent().expect("a parent")).expect("folders");
        std::os::unix::fs::symlink(target, at).expect("symlink");
    };
    link(&outside.0.join("secret.yaml"), "deploy/secret.yaml");
    link(&outside.0.join("dir"), "deploy/dir");
    link(&workspace.0.join("shared/prod.yaml"), "deploy/prod.yaml");
    link(
        std::path::Path::new("/nonexistent/x.yaml"),
        "deploy/dangling.yaml",
    );
    let scan = scan_with(&workspace, "deploy/**/*.yaml", &Limits::RUN);
    assert_eq!(
        places(&scan),
        vec![("deploy/prod.yaml:1".to_owned(), tag("shared"))]
    );
    assert_eq!(
        scan.skipped,
        vec![
            Skipped::Outside {
                file: "deploy/dangling.yaml".to_owned(),
            },
            Skipped::Outside {
                file: "deploy/secret.yaml".to_owned(),
            },
        ]
    );
}

#[test]
fn a_deep_tree_is_cut_at_the_depth_bound_and_a_fifo_is_never_opened() {
    let workspace = Folder::new();
    let deep: String = (0..40).map(|n| format!("d{n}/")).collect();
    workspace
        .write(&format!("{deep}app.yaml"), "image: ghcr.io/acme/app:deep\n")
        .write("d0/app.yaml", "image: ghcr.io/acme/app:shallow\n");
    let fifo = workspace.0.join("d0/pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let limits = Limits {
        max_depth: 5,
        ..Limits::RUN
    };
    let scan = scan_with(&workspace, "**/*.yaml", &limits);
    assert_eq!(
        places(&scan),
        vec![("d0/app.yaml:1".to_owned(), tag("shallow"))]
    );
    assert_eq!(
        scan.skipped,
        vec![Skipped::TooDeep {
            folder: "d0/d1/d2/d3/d4".to_owned(),
        }]
    );
}

#[test]
fn the_walk_stops_at_the_entry_bound() {
    let workspace = Folder::new();
    for n in 0..20 {
        workspace.write(&format!("many/{n:02}.yml"), "x\n");
    }
    let scan = scan_with(
        &workspace,
        "**/*.yml",
        &Limits {
            max_entries: 10,
            ..Limits::RUN
        },
    );
    assert_eq!(
        scan.stopped.as_deref(),
        Some("more than 10 files and folders to look through")
    );
    assert!(scan.files < 10, "{scan:?}");
}
