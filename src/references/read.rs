//! Reading the files `keep-referenced` names: I/O, bounded, inside the workspace only.
//!
//! The workspace is walked once, in name order, without following links, entering only
//! the folders a pattern can reach (and never `.git`). A file a pattern matches is read
//! whole, as text, within the [`Limits`]:
//! - a file over `max_file_bytes` is skipped (with a warning): no deployment manifest is
//!   that large, and reading it would crowd out the rest;
//! - after `max_files` files, or once `max_total_bytes` have been read, reading stops (with
//!   a warning): the patterns are probably too broad;
//! - a folder deeper than `max_depth` is not entered (with a warning);
//! - a file with a NUL byte in its first 8 KiB is binary and skipped;
//! - a link is read only when it resolves to a regular file inside the workspace; links to
//!   folders are never entered, and a link that leads outside is skipped with a warning;
//! - only regular files are opened (never a FIFO or a device, which could block).
//!
//! What was skipped is returned for the run to report; nothing here logs.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::parse;
use super::patterns::Patterns;
use crate::model::reference::{Place, Reference};

/// How much of the workspace a run reads at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_files: usize,
    pub max_total_bytes: u64,
    pub max_file_bytes: u64,
    /// Folders below the workspace, counted from 1.
    pub max_depth: usize,
    /// Walk entries (files and folders) visited at most, whatever matches.
    pub max_entries: usize,
}

impl Limits {
    /// The limits of a run: 10,000 files, 50 MiB in all, 5 MiB a file, 32 folders deep,
    /// 200,000 entries walked.
    pub const RUN: Limits = Limits {
        max_files: 10_000,
        max_total_bytes: 50 * 1024 * 1024,
        max_file_bytes: 5 * 1024 * 1024,
        max_depth: 32,
        max_entries: 200_000,
    };
}

/// Bytes looked at for a NUL, as git does to tell a binary file.
const BINARY_SNIFF: usize = 8_000;

/// What reading the workspace found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// The references to this owner's packages on this registry, in file then line order.
    pub references: Vec<Reference>,
    /// Files read.
    pub files: usize,
    pub bytes: u64,
    /// Per pattern (in [`Patterns::texts`] order), the files it matched.
    pub matched: Vec<usize>,
    /// Files and folders passed over, each with why.
    pub skipped: Vec<Skipped>,
    /// Why reading stopped before the walk was done, if it did.
    pub stopped: Option<String>,
}

/// A file or folder that was not read, with why. Paths are relative to the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    TooLarge {
        file: String,
        bytes: u64,
    },
    Binary {
        file: String,
    },
    /// A link that leads outside the workspace (or cannot be resolved).
    Outside {
        file: String,
    },
    Unreadable {
        file: String,
        why: String,
    },
    TooDeep {
        folder: String,
    },
}

/// Read the files of `workspace` that `patterns` match, and find in them the references to
/// `owner`'s packages on `host`. An error only when the workspace itself cannot be read.
pub fn scan(
    workspace: &Path,
    patterns: &Patterns,
    host: &str,
    owner: &str,
    limits: &Limits,
) -> std::io::Result<Scan> {
    let root = std::fs::canonicalize(workspace)?;
    let mut scan = Scan {
        matched: vec![0; patterns.texts().len()],
        ..Scan::default()
    };
    let mut entries = 0usize;
    let walk = WalkDir::new(&root)
        .follow_links(false)
        .max_depth(limits.max_depth)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            if !entry.file_type().is_dir() || entry.depth() == 0 {
                return true;
            }
            let Some(relative) = relative(&root, entry.path()) else {
                return false;
            };
            let components: Vec<&str> = relative.split('/').collect();
            components.first() != Some(&".git") && patterns.may_hold_matches(&components)
        });
    for entry in walk {
        entries += 1;
        if entries > limits.max_entries {
            scan.stopped = Some(format!(
                "more than {} files and folders to look through",
                limits.max_entries
            ));
            break;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let file = error
                    .path()
                    .and_then(|path| relative(&root, path))
                    .unwrap_or_default();
                let why = error
                    .io_error()
                    .map_or_else(|| error.to_string(), ToString::to_string);
                scan.skipped.push(Skipped::Unreadable { file, why });
                continue;
            }
        };
        let Some(file) = relative(&root, entry.path()) else {
            continue;
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            if entry.depth() == limits.max_depth {
                scan.skipped.push(Skipped::TooDeep { folder: file });
            }
            continue;
        }
        let matching = patterns.matching(&file);
        if matching.is_empty() {
            continue;
        }
        for index in matching {
            scan.matched[index] += 1;
        }
        let target = if kind.is_symlink() {
            match resolve_inside(&root, entry.path()) {
                Some(target) => target,
                None => {
                    scan.skipped.push(Skipped::Outside { file });
                    continue;
                }
            }
        } else if kind.is_file() {
            entry.path().to_path_buf()
        } else {
            // A FIFO, a socket or a device: never opened (a FIFO would block).
            continue;
        };
        if scan.files >= limits.max_files {
            scan.stopped = Some(format!("more than {} files match", limits.max_files));
            break;
        }
        match read_text(&target, limits.max_file_bytes) {
            Contents::Text(bytes) => {
                if scan.bytes + bytes.len() as u64 > limits.max_total_bytes {
                    scan.stopped = Some(format!(
                        "the files matched hold more than {} MiB",
                        limits.max_total_bytes / (1024 * 1024)
                    ));
                    break;
                }
                scan.files += 1;
                scan.bytes += bytes.len() as u64;
                let text = String::from_utf8_lossy(&bytes);
                scan.references
                    .extend(
                        parse::references(&text, host, owner)
                            .into_iter()
                            .map(|found| Reference {
                                repository: found.repository,
                                target: found.target,
                                place: Place {
                                    file: file.clone(),
                                    line: found.line,
                                },
                            }),
                    );
            }
            Contents::TooLarge(bytes) => scan.skipped.push(Skipped::TooLarge { file, bytes }),
            Contents::Binary => scan.skipped.push(Skipped::Binary { file }),
            Contents::NotAFile => {}
            Contents::Failed(why) => scan.skipped.push(Skipped::Unreadable { file, why }),
        }
    }
    Ok(scan)
}

/// `path` relative to `root`, with `/`, when it is under it and valid UTF-8.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative.iter().map(|part| part.to_str()).collect();
    Some(parts?.join("/"))
}

/// Where the link at `link` leads, when that is a regular file inside `root` (resolved).
fn resolve_inside(root: &Path, link: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(link).ok()?;
    let regular = std::fs::metadata(&target).is_ok_and(|meta| meta.is_file());
    (target.starts_with(root) && regular).then_some(target)
}

/// What reading one file gave.
enum Contents {
    Text(Vec<u8>),
    TooLarge(u64),
    Binary,
    /// Not a regular file (a FIFO, a device, a folder): never opened.
    NotAFile,
    Failed(String),
}

/// The bytes of `path`, at most `max` of them, when it is a regular text file.
fn read_text(path: &Path, max: u64) -> Contents {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) => return Contents::Failed(error.to_string()),
    };
    let size = match file.metadata() {
        // Replaced since the walk saw it: only regular files are read.
        Ok(meta) if !meta.is_file() => return Contents::NotAFile,
        Ok(meta) => meta.len(),
        Err(error) => return Contents::Failed(error.to_string()),
    };
    if size > max {
        return Contents::TooLarge(size);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte more than allowed tells a file that grew since its size was read.
    if let Err(error) = file.take(max + 1).read_to_end(&mut bytes) {
        return Contents::Failed(error.to_string());
    }
    if bytes.len() as u64 > max {
        return Contents::TooLarge(bytes.len() as u64);
    }
    if bytes.iter().take(BINARY_SNIFF).any(|&byte| byte == 0) {
        return Contents::Binary;
    }
    Contents::Text(bytes)
}

#[cfg(test)]
mod tests;
