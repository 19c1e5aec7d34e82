//! `verify: true`: after a delete-mode cleanup, re-read the tree of every kept tag from the
//! registry, by digest, with the hardened client (digest-verified, retried, trusted realm
//! only), and report each tag that no longer pulls whole.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;

use super::environment::Environment;
use super::package::PackageRun;
use crate::config::Config;
use crate::model::image::{short_digest, tag_subject};
use crate::model::manifest::Manifest;
use crate::model::mode::Mode;
use crate::model::outcome::Entry;
use crate::model::untag::{TagEntry, TagOutcome};
use crate::model::version::Version;
use crate::policy::audit::Broken;
use crate::policy::plan::Plan;
use crate::registry::{self, Registry};
use crate::report::audit::{broken_json, verified_summary};
use crate::report::log::Log;
use crate::report::publish;

/// Manifest reads in flight at once, as in a cleanup.
const READS_AT_ONCE: usize = 8;

/// Manifests read at most per package: a bound on what server data can make us read.
const MAX_READS: usize = 20_000;

/// What verifying found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// Kept tags that are not artifact tags (`sha256-…`).
    pub tags: usize,
    /// Each broken tag, with its package.
    pub broken: Vec<(String, Broken)>,
}

/// One package to verify: its name, registry repository, plan, the outcomes of its
/// versions (a version acted on is not kept) and of its tags (a tag `untag` removed is not
/// kept).
pub struct Kept<'a> {
    pub name: &'a str,
    pub repository: String,
    pub plan: &'a Plan,
    pub entries: &'a [Entry],
    pub untagged: &'a [TagEntry],
}

/// With `verify: true` in delete mode, re-read the kept tags of every container package that
/// was not deleted whole. `None` when there is nothing to verify.
pub async fn kept<W: std::io::Write>(
    config: &Config,
    registry: Option<&Registry>,
    packages: &[PackageRun],
    log: &mut Log<W>,
) -> Option<Verified> {
    if !config.verify || config.mode != Mode::Delete {
        return None;
    }
    let Some(registry) = registry else {
        log.warning("input `verify` applies to container packages only: nothing was verified");
        return None;
    };
    let kept = packages
        .iter()
        .filter(|package| package.deleted_whole.is_none())
        .filter_map(|package| {
            Some(Kept {
                name: &package.name,
                repository: registry::repository(&config.owner, &package.name),
                plan: package.plan.as_ref().ok()?,
                entries: &package.entries,
                untagged: &package.tags,
            })
        })
        .collect();
    Some(verify(registry, kept, log).await)
}

/// Verify the kept tags of every package.
async fn verify<W: std::io::Write>(
    registry: &Registry,
    packages: Vec<Kept<'_>>,
    log: &mut Log<W>,
) -> Verified {
    let mut verified = Verified::default();
    for package in packages {
        let gone: HashSet<u64> = package
            .entries
            .iter()
            .filter(|entry| entry.outcome.is_acted_on())
            .map(|entry| entry.version.id)
            .collect();
        let removed: HashSet<(u64, &str)> = package
            .untagged
            .iter()
            .filter(|entry| {
                matches!(
                    entry.outcome,
                    TagOutcome::Removed | TagOutcome::Superseded(_)
                )
            })
            .filter_map(|entry| Some((entry.id?, entry.tag.as_str())))
            .collect();
        let kept_tags = |version: &Version| -> Vec<String> {
            version
                .tags
                .iter()
                .filter(|tag| !removed.contains(&(version.id, tag.as_str())))
                .cloned()
                .collect()
        };
        let kept: Vec<(&Version, Vec<String>)> = package
            .plan
            .versions
            .iter()
            .map(|planned| &planned.version)
            .filter(|version| !gone.contains(&version.id))
            .map(|version| (version, kept_tags(version)))
            .filter(|(_, tags)| !tags.is_empty())
            .collect();
        verified.tags += kept
            .iter()
            .flat_map(|(_, tags)| tags)
            .filter(|tag| tag_subject(tag).is_none())
            .count();
        let roots: Vec<String> = kept
            .iter()
            .map(|(version, _)| version.name.clone())
            .collect();
        log.progress("verifying kept tags", roots.len());
        let read = read_trees(registry, &package.repository, roots).await;
        log.progress_done();
        for (version, tags) in kept {
            let (missing, reason) = missing(&version.name, &read);
            if missing.is_empty() {
                continue;
            }
            for tag in &tags {
                verified.broken.push((
                    package.name.to_string(),
                    Broken {
                        tag: tag.clone(),
                        id: version.id,
                        missing: missing.clone(),
                        reason: reason.clone(),
                    },
                ));
            }
        }
    }
    verified
}

/// Report what verifying found: the `broken` output, the summary's last lines and an
/// `::error::` per broken tag. `Ok(true)` when every kept tag pulls whole.
pub fn report<W: std::io::Write>(
    env: &Environment,
    verified: &Verified,
    log: &mut Log<W>,
) -> anyhow::Result<bool> {
    let clean = log.sanitizer().clone();
    let broken: Vec<(&str, &Broken)> = verified
        .broken
        .iter()
        .map(|(package, broken)| (package.as_str(), broken))
        .collect();
    let (json, cut) = broken_json(&broken, &clean);
    if cut {
        publish::warn_cut_short(&["broken"], log);
    }
    let output = clean.output_heredoc("broken", &json);
    let markdown = verified_summary(verified.tags, &broken, &clean);
    for (package, broken) in &broken {
        log.error(&format!(
            "verify: package `{package}`: kept tag `{}` (version {}) no longer pulls whole: {}. Restore what it references (mode: restore with this run's `ids`) or push the image again.",
            broken.tag, broken.id, broken.reason
        ));
    }
    if broken.is_empty() {
        log.info(&format!("verified: {} tags pull whole", verified.tags));
    }
    publish::publish(env.files(), &output, &markdown, log).result(log)?;
    Ok(broken.is_empty())
}

type Reads = HashMap<String, Result<Manifest, String>>;

/// Every manifest the trees of `roots` reach, read by digest, level by level, each once.
async fn read_trees(registry: &Registry, repository: &str, roots: Vec<String>) -> Reads {
    let mut read: Reads = HashMap::new();
    let mut frontier: Vec<String> = roots;
    frontier.sort();
    frontier.dedup();
    while !frontier.is_empty() && read.len() < MAX_READS {
        frontier.truncate(MAX_READS.saturating_sub(read.len()));
        let reads = frontier.drain(..).map(|digest| async move {
            let result = registry.manifest(repository, &digest).await;
            (digest, result.map_err(|err| err.reason()))
        });
        let results: Vec<_> = futures_util::stream::iter(reads)
            .buffer_unordered(READS_AT_ONCE)
            .collect()
            .await;
        let mut next: Vec<String> = Vec::new();
        for (digest, result) in results {
            for child in result.iter().flat_map(|manifest| &manifest.children) {
                next.push(child.digest.clone());
            }
            read.insert(digest, result);
        }
        next.sort();
        next.dedup();
        next.retain(|digest| !read.contains_key(digest));
        frontier = next;
    }
    read
}

/// The digests of `root`'s tree that could not be read, and why the first could not.
fn missing(root: &str, read: &Reads) -> (Vec<String>, String) {
    let mut missing: Vec<(String, String)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: Vec<&str> = vec![root];
    while let Some(digest) = queue.pop() {
        if !seen.insert(digest) {
            continue;
        }
        match read.get(digest) {
            Some(Ok(manifest)) => {
                queue.extend(manifest.children.iter().rev().map(|c| c.digest.as_str()));
            }
            Some(Err(why)) => missing.push((digest.to_string(), why.clone())),
            None => missing.push((
                digest.to_string(),
                format!("not read: more than {MAX_READS} manifests"),
            )),
        }
    }
    let reason = match missing.first() {
        Some((digest, why)) if missing.len() == 1 => format!("{}: {why}", short_digest(digest)),
        Some((digest, why)) => format!(
            "{}: {why} (and {} more)",
            short_digest(digest),
            missing.len() - 1
        ),
        None => String::new(),
    };
    (
        missing.into_iter().map(|(digest, _)| digest).collect(),
        reason,
    )
}
