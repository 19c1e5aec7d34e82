//! Carry out a plan against the API, one version at a time, and record what happened.
//!
//! Parents go before their children (the plan's order), and a version that goes with an
//! image is skipped when one of its parents was not done: it is still part of that image.
//! Restoring a container version also restores what its image needs (see
//! [`images::restore_followers`]), right after it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::config::Mode;
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace};
use crate::images::{self, Relation, describe_image};
use crate::plan::{Plan, PlannedVersion};
use crate::registry::Registry;
use crate::report::log::Log;
use crate::version::{PackageType, Version};

/// Progress lines appear at most this often on long runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What happened to one selected version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    Restored,
    WouldDelete,
    WouldRestore,
    /// Not done, for a reason that is not a failure (a refusal GitHub is known to give).
    Skipped(String),
    Failed(String),
}

impl Outcome {
    /// Whether the version is counted in the `ids` output (done, or would be in a dry run).
    pub fn is_acted_on(&self) -> bool {
        matches!(
            self,
            Outcome::Deleted | Outcome::Restored | Outcome::WouldDelete | Outcome::WouldRestore
        )
    }

    /// The dry-run outcome: what the mode would do.
    pub fn would(mode: Mode) -> Outcome {
        match mode {
            Mode::Delete => Outcome::WouldDelete,
            Mode::Restore => Outcome::WouldRestore,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Deleted => f.write_str("deleted"),
            Outcome::Restored => f.write_str("restored"),
            Outcome::WouldDelete => f.write_str("would delete"),
            Outcome::WouldRestore => f.write_str("would restore"),
            Outcome::Skipped(reason) => write!(f, "skipped: {reason}"),
            Outcome::Failed(reason) => write!(f, "failed: {reason}"),
        }
    }
}

/// A selected version and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: Version,
    pub outcome: Outcome,
    /// The image it went with, if it was acted on as part of one.
    pub relation: Option<Relation>,
    /// Why it was selected (the plan's reason, or the image a restore brought it back with).
    pub reason: String,
}

/// A version on the executor's stack: selected by the plan, or following a restored image.
struct Work {
    version: Version,
    relation: Option<Relation>,
    reason: String,
}

impl Work {
    fn planned(planned: &PlannedVersion) -> Work {
        Work {
            version: planned.version.clone(),
            relation: planned.relation.clone(),
            reason: planned.reason.to_string(),
        }
    }
}

/// The package a plan belongs to, as the API addresses it.
pub struct Target<'a> {
    pub namespace: &'a Namespace,
    pub package_type: PackageType,
    pub name: &'a str,
}

/// Where a container package's manifests are read, to restore whole images.
pub struct Images<'a> {
    pub registry: &'a Registry,
    /// `owner/name`, lower-cased.
    pub repository: String,
}

/// The entries of a dry run: every selected version with what the mode would do to it, in
/// execution order. A restore also lists the artifacts found by tag that would follow an
/// image (children of an index are only known once it is restored and readable). Each is
/// logged as a real run would log it.
pub fn dry_run<W: std::io::Write>(
    plan: &Plan,
    mode: Mode,
    follow_images: bool,
    package: &str,
    log: &mut Log<W>,
) -> Vec<Entry> {
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for planned in plan.selected() {
        let mut stack = vec![Work::planned(planned)];
        while let Some(work) = stack.pop() {
            if !seen.insert(work.version.id) {
                continue;
            }
            if mode == Mode::Restore && follow_images {
                push_followers(&mut stack, &work.version, None, plan, &seen);
            }
            let outcome = Outcome::would(mode);
            log_outcome(
                log,
                package,
                &work.version,
                work.relation.as_ref(),
                &outcome,
            );
            entries.push(Entry {
                version: work.version,
                outcome,
                relation: work.relation,
                reason: work.reason,
            });
        }
    }
    entries
}

/// Push what must be restored after `version` (in order, so it pops first-listed first).
fn push_followers(
    stack: &mut Vec<Work>,
    version: &Version,
    manifest: Option<&crate::registry::Manifest>,
    plan: &Plan,
    seen: &HashSet<u64>,
) {
    let followers = images::restore_followers(version, manifest, plan, seen);
    for (follower, role) in followers.into_iter().rev() {
        let reason = format!("{role} of restored image {}", describe_image(version));
        let relation = Relation {
            parents: vec![version.id],
            role,
        };
        stack.push(Work {
            version: follower,
            relation: Some(relation),
            reason,
        });
    }
}

/// Delete or restore every selected version in the plan's order, logging a line per version.
/// `images` is given for container packages: restoring a version then also restores its
/// image's deleted children and artifacts.
pub async fn execute<W: std::io::Write>(
    github: &GitHub,
    target: &Target<'_>,
    plan: &Plan,
    mode: Mode,
    images: Option<&Images<'_>>,
    log: &mut Log<W>,
) -> Vec<Entry> {
    let total = plan.selected().count();
    let mut entries = Vec::with_capacity(total);
    let mut last_progress = Instant::now();
    let mut seen = HashSet::new();
    let mut done = HashSet::new();
    for planned in plan.selected() {
        let mut stack = vec![Work::planned(planned)];
        while let Some(Work {
            version,
            relation,
            reason,
        }) = stack.pop()
        {
            if !seen.insert(version.id) {
                continue;
            }
            let waiting = relation
                .iter()
                .flat_map(|relation| &relation.parents)
                .find(|parent| !done.contains(*parent));
            let outcome = match waiting {
                Some(parent) => Outcome::Skipped(format!(
                    "its image {parent} was not {}, and still needs it",
                    past_tense(mode)
                )),
                None => {
                    let result = act_on(github, target, mode, version.id).await;
                    // A parent already deleted by someone else no longer needs its children.
                    if mode == Mode::Delete
                        && matches!(&result, Err(err) if err.kind == ApiErrorKind::NotFound)
                    {
                        done.insert(version.id);
                    }
                    classify(mode, result)
                }
            };
            log_outcome(log, target.name, &version, relation.as_ref(), &outcome);
            if matches!(outcome, Outcome::Deleted | Outcome::Restored) {
                done.insert(version.id);
                if let (Mode::Restore, Some(images)) = (mode, images) {
                    let manifest = images
                        .registry
                        .manifest(&images.repository, &version.name)
                        .await;
                    if let Err(err) = &manifest {
                        log.info(&format!(
                            "{} {}: its manifest could not be read after restoring it, so only artifacts found by tag follow it ({err})",
                            version.id,
                            describe(&version)
                        ));
                    }
                    push_followers(&mut stack, &version, manifest.ok().as_ref(), plan, &seen);
                }
            }
            entries.push(Entry {
                version,
                outcome,
                relation,
                reason,
            });
            if last_progress.elapsed() >= PROGRESS_EVERY {
                log.info(&format!("progress: {}/{total} versions", entries.len()));
                last_progress = Instant::now();
            }
        }
    }
    entries
}

fn past_tense(mode: Mode) -> &'static str {
    match mode {
        Mode::Delete => "deleted",
        Mode::Restore => "restored",
    }
}

async fn act_on(github: &GitHub, target: &Target<'_>, mode: Mode, id: u64) -> Result<(), ApiError> {
    let (namespace, package_type, name) = (target.namespace, target.package_type, target.name);
    match mode {
        Mode::Delete => {
            github
                .delete_version(namespace, package_type, name, id)
                .await
        }
        Mode::Restore => {
            github
                .restore_version(namespace, package_type, name, id)
                .await
        }
    }
}

fn log_outcome<W: std::io::Write>(
    log: &mut Log<W>,
    package: &str,
    version: &Version,
    relation: Option<&Relation>,
    outcome: &Outcome,
) {
    let with = relation
        .and_then(|relation| {
            let parent = relation.parents.first()?;
            Some(format!(" ({} of {parent})", relation.role))
        })
        .unwrap_or_default();
    let line = format!("{} {}{with}: {outcome}", version.id, describe(version));
    match outcome {
        Outcome::Skipped(_) => log.warning(&format!("{package}: {line}")),
        Outcome::Failed(_) => log.error(&format!("{package}: {line}")),
        _ => log.info(&line),
    }
}

/// Sort an API answer into done, skipped (refusals GitHub is known to give) or failed.
fn classify(mode: Mode, result: Result<(), ApiError>) -> Outcome {
    let err = match result {
        Ok(()) => {
            return match mode {
                Mode::Delete => Outcome::Deleted,
                Mode::Restore => Outcome::Restored,
            };
        }
        Err(err) => err,
    };
    match (mode, err.kind) {
        (Mode::Delete, ApiErrorKind::NotFound) => {
            Outcome::Skipped(format!("already gone ({})", err.message))
        }
        (Mode::Restore, ApiErrorKind::NotFound) => Outcome::Skipped(format!(
            "not found: already restored or past GitHub's 30-day window ({})",
            err.message
        )),
        (Mode::Delete, ApiErrorKind::Refused) if is_known_delete_refusal(&err.message) => {
            Outcome::Skipped(err.message)
        }
        _ => Outcome::Failed(err.to_string()),
    }
}

/// GitHub refuses to delete the last (tagged) version of a package and public versions
/// with more than 5000 downloads; both are policy on GitHub's side, not failures.
fn is_known_delete_refusal(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("cannot delete the last") || message.contains("5000 downloads")
}

/// Tags for container/docker versions, the name otherwise, for log lines.
pub fn describe(version: &Version) -> String {
    if version.tags.is_empty() {
        version.name.clone()
    } else {
        version.tags.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::Method;

    fn api_error(status: u16, message: &str) -> Result<(), ApiError> {
        Err(ApiError::new(
            Method::Delete,
            "/orgs/acme/packages/npm/x/versions/1",
            Some(status),
            message.to_string(),
        ))
    }

    #[test]
    fn answers_are_sorted_into_done_skipped_and_failed() {
        let last =
            "You cannot delete the last version of a package. You must delete the package instead.";
        let last_tagged = "You cannot delete the last tagged version of a package. You must delete the package instead.";
        let downloads = "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.";
        let cases: Vec<(Mode, Result<(), ApiError>, &str)> = vec![
            (Mode::Delete, Ok(()), "deleted"),
            (Mode::Restore, Ok(()), "restored"),
            (Mode::Delete, api_error(400, last), "skipped"),
            (Mode::Delete, api_error(400, last_tagged), "skipped"),
            (Mode::Delete, api_error(400, downloads), "skipped"),
            (
                Mode::Delete,
                api_error(404, "Package not found."),
                "skipped",
            ),
            (Mode::Restore, api_error(404, "Not Found"), "skipped"),
            (Mode::Delete, api_error(400, "Something else"), "failed"),
            (
                Mode::Delete,
                api_error(403, "Resource not accessible by integration"),
                "failed",
            ),
            (Mode::Delete, api_error(500, "boom"), "failed"),
            (Mode::Restore, api_error(409, "conflict"), "failed"),
        ];
        for (mode, result, expected) in cases {
            let outcome = classify(mode, result).to_string();
            assert!(
                outcome.starts_with(expected),
                "{outcome} should start with {expected}"
            );
        }
    }

    #[test]
    fn refusals_keep_githubs_message_as_the_reason() {
        let message =
            "You cannot delete the last version of a package. You must delete the package instead.";
        assert_eq!(
            classify(Mode::Delete, api_error(400, message)),
            Outcome::Skipped(message.to_string())
        );
    }

    fn deleted_version(id: u64, tags: &[&str]) -> Version {
        let at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - id);
        Version {
            id,
            name: format!("sha256:{id:064x}"),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            created_at: at,
            updated_at: at,
            deleted_at: Some(at),
        }
    }

    #[test]
    fn a_restore_dry_run_lists_the_artifacts_found_by_tag_under_their_image() {
        let signature = format!("sha256-{:064x}.sig", 1);
        let versions = vec![
            deleted_version(1, &["v1"]),
            deleted_version(2, &[&signature]),
            deleted_version(3, &["v3"]),
        ];
        let policy = crate::config::Policy {
            version_ids: Some([1].into_iter().collect()),
            ..crate::config::Policy::default()
        };
        let plan = crate::plan::plan(
            versions,
            &policy,
            PackageType::Container,
            Mode::Restore,
            std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000),
        );
        let listed = |follow| -> Vec<(u64, Option<u64>)> {
            dry_run(
                &plan,
                Mode::Restore,
                follow,
                "app",
                &mut Log::new(Vec::new()),
            )
            .into_iter()
            .map(|entry| {
                let parent = entry.relation.and_then(|r| r.parents.first().copied());
                (entry.version.id, parent)
            })
            .collect()
        };
        assert_eq!(listed(true), vec![(1, None), (2, Some(1))]);
        assert_eq!(listed(false), vec![(1, None)]);
    }
}
