//! Writing a file inside the workspace, and nowhere else: the run state (`state-file`)
//! comes back through a cache that other workflows can write, and a plan (`plan-file`)
//! through an artifact, so its folder, the file itself or a leftover temporary file may be
//! a symbolic link planted to lead elsewhere.
//!
//! The file's folder is resolved one component at a time (links followed, `..` taken on
//! the resolved path) and must lie inside the workspace; a missing folder is created only
//! once its parent is known to be inside. The file is written to a temporary file created
//! with `O_CREAT | O_EXCL` (never through a link, never one that already exists) under a
//! name no earlier run can have planted, then renamed over the target, which replaces a
//! link rather than writing through it. A target that is a link must itself resolve
//! inside the workspace. Nothing outside the workspace is created, written or replaced.
//!
//! Reading back ([`read_inside`]) follows the same rule: the path, links resolved, must lie
//! inside the workspace, and at most a given number of bytes is read.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail};

/// Names tried for the temporary file before giving up (each is new, so one is enough
/// unless something keeps creating files under our names).
const TEMPORARY_TRIES: u32 = 16;

/// Writes `path` (relative to the working directory) through `write`, atomically, only
/// inside `workspace`. `write` gets the temporary file and gives it back once written.
pub fn write_inside(
    path: &Path,
    workspace: &Path,
    write: impl FnOnce(File) -> anyhow::Result<File>,
) -> anyhow::Result<()> {
    let root = std::fs::canonicalize(workspace)
        .with_context(|| format!("the workspace {} cannot be resolved", workspace.display()))?;
    let absolute = std::path::absolute(path)
        .with_context(|| format!("{} cannot be resolved", path.display()))?;
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        bail!("{} does not name a file", path.display());
    };
    let folder = folder_inside(parent, &root)?;
    let target = folder.join(name);
    if std::fs::symlink_metadata(&target).is_ok_and(|meta| meta.file_type().is_symlink()) {
        let leads_to = std::fs::canonicalize(&target).with_context(|| {
            format!(
                "{} is a symbolic link that cannot be resolved",
                target.display()
            )
        })?;
        if !leads_to.starts_with(&root) {
            bail!(
                "{} is a symbolic link to {}, outside the workspace {}: nothing was written",
                path.display(),
                leads_to.display(),
                root.display()
            );
        }
    }
    let (file, temporary) = create_temporary(&folder, name)?;
    let written = write(file)
        .and_then(|file| {
            file.sync_all()
                .with_context(|| format!("could not write {}", temporary.display()))
        })
        .and_then(|()| {
            std::fs::rename(&temporary, &target)
                .with_context(|| format!("could not replace {}", target.display()))
        });
    if written.is_err() {
        // Ours, created just now: nothing else can be behind this name.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Reads `path` (relative to the working directory) when it resolves, links followed, to a
/// file inside `workspace`, and holds at most `max` bytes. `Ok(None)` when nothing is there
/// (a link to nothing included); an error when it leads outside the workspace, is not a
/// file, or is larger.
pub fn read_inside(path: &Path, workspace: &Path, max: u64) -> anyhow::Result<Option<Vec<u8>>> {
    let root = std::fs::canonicalize(workspace)
        .with_context(|| format!("the workspace {} cannot be resolved", workspace.display()))?;
    let resolved = match std::fs::canonicalize(path) {
        Ok(resolved) => resolved,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(err).with_context(|| format!("{} cannot be resolved", path.display()));
        }
    };
    if !resolved.starts_with(&root) {
        bail!(
            "{} leads to {}, outside the workspace {}: it was not read",
            path.display(),
            resolved.display(),
            root.display()
        );
    }
    let file =
        File::open(&resolved).with_context(|| format!("{} cannot be opened", path.display()))?;
    let is_file = file
        .metadata()
        .with_context(|| format!("{} cannot be read", path.display()))?
        .is_file();
    if !is_file {
        bail!("{} is not a file", path.display());
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("{} cannot be read", path.display()))?;
    if bytes.len() as u64 > max {
        bail!("{} is larger than {max} bytes", path.display());
    }
    Ok(Some(bytes))
}

/// The resolved form of `folder` when it lies inside `root` (resolved), creating what is
/// missing of it there.
fn folder_inside(folder: &Path, root: &Path) -> anyhow::Result<PathBuf> {
    let outside = |resolved: &Path| {
        anyhow::anyhow!(
            "the folder {} leads to {}, outside the workspace {}: nothing was written",
            folder.display(),
            resolved.display(),
            root.display()
        )
    };
    let mut resolved = PathBuf::new();
    for component in folder.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => resolved.push(component),
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => {
                let next = resolved.join(name);
                match std::fs::symlink_metadata(&next) {
                    Ok(_) => {}
                    Err(err) if err.kind() == ErrorKind::NotFound => {
                        if !resolved.starts_with(root) {
                            return Err(outside(&resolved));
                        }
                        match std::fs::create_dir(&next) {
                            Ok(()) => {}
                            Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
                            Err(err) => {
                                return Err(err).with_context(|| {
                                    format!("could not create {}", next.display())
                                });
                            }
                        }
                    }
                    Err(err) => {
                        return Err(err)
                            .with_context(|| format!("could not read {}", next.display()));
                    }
                }
                resolved = std::fs::canonicalize(&next)
                    .with_context(|| format!("{} cannot be resolved", next.display()))?;
            }
        }
    }
    if !resolved.starts_with(root) {
        return Err(outside(&resolved));
    }
    Ok(resolved)
}

/// A new file beside the target, `.<name>.<pid>-<n>.tmp`, created exclusively.
fn create_temporary(folder: &Path, name: &std::ffi::OsStr) -> anyhow::Result<(File, PathBuf)> {
    static CREATED: AtomicU32 = AtomicU32::new(0);
    for _ in 0..TEMPORARY_TRIES {
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let mut temporary = std::ffi::OsString::from(".");
        temporary.push(name);
        temporary.push(format!(".{}-{n}.tmp", std::process::id()));
        let temporary = folder.join(temporary);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((file, temporary)),
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("could not create {}", temporary.display()));
            }
        }
    }
    bail!(
        "could not create a temporary file in {}: every name tried exists",
        folder.display()
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A workspace and a folder outside it, each with a file whose bytes must not change.
    struct Dirs {
        base: PathBuf,
        workspace: PathBuf,
        outside: PathBuf,
    }

    impl Dirs {
        fn new(test: &str) -> Dirs {
            let base = std::env::temp_dir()
                .join(format!("pj-workspace-file-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&base);
            let workspace = base.join("workspace");
            let outside = base.join("outside");
            std::fs::create_dir_all(&workspace).unwrap();
            std::fs::create_dir_all(&outside).unwrap();
            std::fs::write(outside.join("precious"), b"precious bytes").unwrap();
            Dirs {
                base,
                workspace,
                outside,
            }
        }

        /// Every path under the outside folder, with its bytes (`None` for a folder).
        fn outside_files(&self) -> Vec<(PathBuf, Option<Vec<u8>>)> {
            let mut found = Vec::new();
            let mut folders = vec![self.outside.clone()];
            while let Some(folder) = folders.pop() {
                for entry in std::fs::read_dir(&folder).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        folders.push(path.clone());
                        found.push((path, None));
                    } else {
                        let bytes = std::fs::read(&path).unwrap();
                        found.push((path, Some(bytes)));
                    }
                }
            }
            found.sort();
            found
        }
    }

    impl Drop for Dirs {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }

    fn write_text(text: &'static [u8]) -> impl FnOnce(File) -> anyhow::Result<File> {
        move |mut file| {
            std::io::Write::write_all(&mut file, text)?;
            Ok(file)
        }
    }

    /// What a test plants in the workspace before the write, and what the write must give.
    type Plant = fn(&Dirs);

    #[test]
    fn only_paths_that_resolve_inside_the_workspace_are_written() {
        let cases: [(&str, &str, Plant, Option<&str>); 7] = [
            ("plain", "state/run", |_| {}, None),
            ("nested, created", "a/b/c/run", |_| {}, None),
            (
                "a planted temporary link is never written through",
                "state/run",
                |dirs| {
                    std::fs::create_dir_all(dirs.workspace.join("state")).unwrap();
                    symlink(
                        dirs.outside.join("precious"),
                        dirs.workspace.join("state/run.tmp"),
                    )
                    .unwrap();
                },
                None,
            ),
            (
                "a linked folder that stays inside",
                "linked/run",
                |dirs| {
                    std::fs::create_dir_all(dirs.workspace.join("real")).unwrap();
                    symlink(dirs.workspace.join("real"), dirs.workspace.join("linked")).unwrap();
                },
                None,
            ),
            (
                "a folder linked outside",
                "state/run",
                |dirs| symlink(&dirs.outside, dirs.workspace.join("state")).unwrap(),
                Some("outside the workspace"),
            ),
            (
                "a folder to create beneath a link outside",
                "state/new/run",
                |dirs| symlink(&dirs.outside, dirs.workspace.join("state")).unwrap(),
                Some("outside the workspace"),
            ),
            (
                "the file linked outside",
                "state/run",
                |dirs| {
                    std::fs::create_dir_all(dirs.workspace.join("state")).unwrap();
                    symlink(
                        dirs.outside.join("precious"),
                        dirs.workspace.join("state/run"),
                    )
                    .unwrap();
                },
                Some("outside the workspace"),
            ),
        ];
        for (n, (what, path, plant, refused)) in cases.into_iter().enumerate() {
            let dirs = Dirs::new(&format!("case{n}"));
            plant(&dirs);
            let before = dirs.outside_files();
            let written = write_inside(
                &dirs.workspace.join(path),
                &dirs.workspace,
                write_text(b"state"),
            );
            assert_eq!(dirs.outside_files(), before, "{what}: outside changed");
            match refused {
                None => {
                    written.unwrap_or_else(|err| panic!("{what}: {err:#}"));
                    let back = std::fs::read(dirs.workspace.join(path)).unwrap();
                    assert_eq!(back, b"state", "{what}");
                }
                Some(expected) => {
                    let err = format!("{:#}", written.expect_err(what));
                    assert!(err.contains(expected), "{what}: {err}");
                }
            }
            let leftovers: Vec<String> =
                std::fs::read_dir(dirs.workspace.join(path).parent().unwrap())
                    .map(|entries| {
                        entries
                            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                            .filter(|name| name.starts_with('.') && name.ends_with(".tmp"))
                            .collect()
                    })
                    .unwrap_or_default();
            assert!(leftovers.is_empty(), "{what}: {leftovers:?}");
        }
    }

    #[test]
    fn only_files_that_resolve_inside_the_workspace_are_read_and_only_up_to_the_bound() {
        let dirs = Dirs::new("read");
        std::fs::write(dirs.workspace.join("plan.json"), b"plan").unwrap();
        std::fs::create_dir(dirs.workspace.join("folder")).unwrap();
        symlink(dirs.outside.join("precious"), dirs.workspace.join("away")).unwrap();
        symlink(
            dirs.workspace.join("plan.json"),
            dirs.workspace.join("near"),
        )
        .unwrap();
        symlink(
            dirs.workspace.join("nothing"),
            dirs.workspace.join("dangling"),
        )
        .unwrap();
        /// A file's name, the bound, and what is read (or words of the error).
        type Case<'a> = (&'a str, u64, Result<Option<&'a [u8]>, &'a str>);
        let cases: [Case; 7] = [
            ("plan.json", 4, Ok(Some(b"plan"))),
            ("near", 4, Ok(Some(b"plan"))),
            ("missing.json", 4, Ok(None)),
            ("dangling", 4, Ok(None)),
            ("plan.json", 3, Err("larger than 3 bytes")),
            ("away", 100, Err("outside the workspace")),
            ("folder", 100, Err("not a file")),
        ];
        for (name, max, expected) in cases {
            let read = read_inside(&dirs.workspace.join(name), &dirs.workspace, max);
            match (read, expected) {
                (Ok(bytes), Ok(expected)) => {
                    assert_eq!(bytes.as_deref(), expected, "{name}");
                }
                (Err(err), Err(expected)) => {
                    let err = format!("{err:#}");
                    assert!(err.contains(expected), "{name}: {err}");
                }
                (read, expected) => panic!("{name}: {read:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn a_failed_write_leaves_neither_the_target_nor_a_temporary_file() {
        let dirs = Dirs::new("failed");
        let target = dirs.workspace.join("run");
        let failed = write_inside(&target, &dirs.workspace, |_| bail!("encoding failed"));
        assert!(format!("{:#}", failed.unwrap_err()).contains("encoding failed"));
        let names: Vec<_> = std::fs::read_dir(&dirs.workspace).unwrap().collect();
        assert!(names.is_empty(), "{names:?}");
    }
}
