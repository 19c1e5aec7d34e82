//! `verify: true`: after a delete-mode cleanup, re-read the tree of every kept tag from the
//! registry, by digest, with the hardened client (digest-verified, retried, trusted realm
//! only), and report each tag that does not pull whole: broken by this run (it deleted
//! something the tag's image needs) or found broken (it deleted nothing the image needs).

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;

use super::environment::Environment;
use super::package::PackageRun;
use crate::config::Config;
use crate::config::cli::Format;
use crate::model::image::{short_digest, tag_subject};
use crate::model::manifest::Manifest;
use crate::model::mode::Mode;
use crate::model::outcome::Entry;
use crate::model::untag::{TagEntry, TagOutcome};
use crate::model::version::Version;
use crate::policy::audit::Broken;
use crate::policy::plan::Plan;
use crate::registry::{self, Registry};
use crate::report::audit::{VerifiedBroken, verified_json, verified_summary, verified_text};
use crate::report::log::Log;
use crate::report::{plural, publish};

/// Manifest reads in flight at once, as in a cleanup.
const READS_AT_ONCE: usize = 8;

/// Manifests read at most per package: a bound on what server data can make us read.
const MAX_READS: usize = 20_000;

/// What verifying found.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// Kept tags that are not artifact tags (`sha256-…`).
    pub tags: usize,
    /// Each broken tag, with its package and the ids this run deleted that its image needs
    /// (empty: found broken, not broken by this run).
    pub broken: Vec<(String, Broken, Vec<u64>)>,
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
        // What this run really deleted, by digest (a dry run deletes nothing).
        let deleted: HashMap<&str, u64> = package
            .entries
            .iter()
            .filter(|entry| entry.outcome.is_deleted())
            .map(|entry| (entry.version.name.as_str(), entry.version.id))
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
            let deleted_here = deleted_here(&missing, &deleted);
            for tag in &tags {
                verified.broken.push((
                    package.name.to_string(),
                    Broken {
                        tag: tag.clone(),
                        id: version.id,
                        missing: missing.clone(),
                        reason: reason.clone(),
                    },
                    deleted_here.clone(),
                ));
            }
        }
    }
    verified
}

/// The ids this run deleted among the `missing` digests of a kept tag's tree (`deleted`:
/// what this run deleted, by digest), in order: empty when the tag was broken before.
fn deleted_here(missing: &[String], deleted: &HashMap<&str, u64>) -> Vec<u64> {
    let mut ids: Vec<u64> = missing
        .iter()
        .filter_map(|digest| deleted.get(digest.as_str()).copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Report what verifying found: the `broken` output, the summary's last lines and an
/// `::error::` per broken tag, saying whether this run broke it (with the ids to restore)
/// or found it broken. `Ok(true)` when every kept tag pulls whole.
pub fn report<W: std::io::Write>(
    env: &Environment,
    verified: &Verified,
    log: &mut Log<W>,
) -> anyhow::Result<bool> {
    let clean = log.sanitizer().clone();
    let broken: Vec<VerifiedBroken<'_>> = verified
        .broken
        .iter()
        .map(|(package, broken, deleted_here)| VerifiedBroken {
            package,
            broken,
            deleted_here,
        })
        .collect();
    let (json, cut) = verified_json(&broken, &clean);
    if cut {
        publish::warn_cut_short(&["broken"], log);
    }
    let output = clean.output_heredoc("broken", &json);
    let markdown = verified_summary(verified.tags, &broken, &clean);
    for tag in &broken {
        log.error(&broken_line(tag));
    }
    if broken.is_empty() {
        log.info(&format!("verified: {} tags pull whole", verified.tags));
    }
    let published = match env.print {
        None => publish::publish(env.files(), &output, &markdown, log),
        Some(print) => {
            // JSON on stdout is the `json` output alone, one document: verify adds nothing.
            let printed = match print.format {
                Format::Text => verified_text(verified.tags, &broken, &clean),
                Format::Json => String::new(),
                Format::Markdown => markdown.clone(),
            };
            let out = &mut std::io::stdout();
            publish::publish_printed(env.files(), &output, &markdown, &printed, out, log)
        }
    };
    published.result(log)?;
    Ok(broken.is_empty())
}

/// The log's line for a broken kept tag: what this run did to it, and what to do.
fn broken_line(tag: &VerifiedBroken<'_>) -> String {
    let broken = tag.broken;
    let head = format!(
        "verify: package `{}`: kept tag `{}` (version {})",
        tag.package, broken.tag, broken.id
    );
    if tag.caused() {
        let ids: Vec<String> = tag.deleted_here.iter().map(u64::to_string).collect();
        format!(
            "{head} no longer pulls whole: {}. This run deleted what it needs ({}): restore {} (mode: restore, version-ids: {}) or push the image again.",
            broken.reason,
            plural(tag.deleted_here.len(), "version"),
            if tag.deleted_here.len() == 1 {
                "it"
            } else {
                "them"
            },
            ids.join(",")
        )
    } else {
        format!(
            "{head} does not pull whole: {}. Found, not caused: this run deleted nothing it needs, so it was broken before this run. Push the image again, or delete the tag.",
            broken.reason
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_broken_by_this_run_when_a_missing_digest_is_one_it_deleted() {
        let deleted = HashMap::from([("sha256:b", 2), ("sha256:a", 1), ("sha256:z", 9)]);
        let missing = |digests: &[&str]| -> Vec<String> {
            digests.iter().map(|digest| digest.to_string()).collect()
        };
        let cases: [(&[&str], &[u64]); 4] = [
            (&["sha256:b", "sha256:a", "sha256:b"], &[1, 2]),
            (&["sha256:c"], &[]),
            (&["sha256:c", "sha256:z"], &[9]),
            (&[], &[]),
        ];
        for (digests, expected) in cases {
            assert_eq!(
                deleted_here(&missing(digests), &deleted),
                expected,
                "{digests:?}"
            );
        }
    }

    #[test]
    fn a_broken_tag_gets_restore_advice_only_when_this_run_deleted_what_it_needs() {
        let broken = Broken {
            tag: "v2".to_string(),
            id: 10,
            missing: vec!["sha256:12".to_string()],
            reason: "sha256:12: MANIFEST_UNKNOWN".to_string(),
        };
        let tag = |deleted_here: &'static [u64]| VerifiedBroken {
            package: "app",
            broken: &broken,
            deleted_here,
        };
        let cases: [(&[u64], &str); 3] = [
            (
                &[12],
                "verify: package `app`: kept tag `v2` (version 10) no longer pulls whole: sha256:12: MANIFEST_UNKNOWN. This run deleted what it needs (1 version): restore it (mode: restore, version-ids: 12) or push the image again.",
            ),
            (
                &[11, 12],
                "verify: package `app`: kept tag `v2` (version 10) no longer pulls whole: sha256:12: MANIFEST_UNKNOWN. This run deleted what it needs (2 versions): restore them (mode: restore, version-ids: 11,12) or push the image again.",
            ),
            (
                &[],
                "verify: package `app`: kept tag `v2` (version 10) does not pull whole: sha256:12: MANIFEST_UNKNOWN. Found, not caused: this run deleted nothing it needs, so it was broken before this run. Push the image again, or delete the tag.",
            ),
        ];
        for (deleted_here, expected) in cases {
            assert_eq!(broken_line(&tag(deleted_here)), expected);
        }
    }
}
