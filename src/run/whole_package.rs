//! Whole packages: delete with one request a package the plan empties
//! (`delete-empty-packages`), and restore a deleted package before its versions.
//!
//! GitHub refuses to delete the last version of a package ("You must delete the package
//! instead"), and a deleted package cannot even have its versions listed. Both are
//! whole-package operations; everything else stays with the version-by-version executor.

use std::collections::HashSet;

use super::execute::{Stop, Target};
use crate::config::{Config, PackageSelector};
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace};
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::version::{Version, VersionState};
use crate::policy::plan::{Decision, Plan};
use crate::report::log::Log;
use crate::report::plural;

/// Whether the plan selects every active version it listed, and at least one.
pub fn fully_selected(plan: &Plan) -> bool {
    !plan.versions.is_empty()
        && plan
            .versions
            .iter()
            .all(|planned| planned.decision == Decision::Act)
}

/// The packages that may be deleted whole: only with `delete-empty-packages` in delete
/// mode, only when fully selected, and, for a package found through a wildcard rather than
/// named exactly, only when every package of each wildcard that found it is fully selected
/// too. `planned` gives each package's name and whether its plan selects every version
/// (`false` when it could not be listed); `matches` is the wildcard matcher the names were
/// found with.
pub fn deletable<'a, W: std::io::Write>(
    config: &Config,
    planned: impl Iterator<Item = (&'a str, bool)>,
    matches: impl Fn(&str, &str) -> bool,
    log: &mut Log<W>,
) -> HashSet<String> {
    if !config.delete_empty_packages || config.mode != Mode::Delete {
        return HashSet::new();
    }
    let planned: Vec<(&str, bool)> = planned.collect();
    let mut deletable = HashSet::new();
    for &(name, full) in &planned {
        if !full {
            continue;
        }
        let exact = config
            .packages
            .iter()
            .any(|selector| matches!(selector, PackageSelector::Exact(exact) if exact == name));
        let held_back = config.packages.iter().find_map(|selector| {
            let PackageSelector::Wildcard(pattern) = selector else {
                return None;
            };
            let partial = planned
                .iter()
                .find(|(other, full)| !full && matches(pattern, other))?;
            matches(pattern, name).then_some((pattern, partial.0))
        });
        match held_back {
            Some((pattern, partial)) if !exact => log.info(&format!(
                "package `{name}`: the policy selects every active version, but the wildcard `{pattern}` also found `{partial}`, which keeps versions, so `{name}` is not deleted whole: its versions are handled one by one"
            )),
            _ => {
                deletable.insert(name.to_string());
            }
        }
    }
    deletable
}

/// What came of deleting a package whole.
pub struct WholeDelete {
    pub entry: PackageEntry,
    /// Every selected version, gone (or in a dry run, going) with the package; `None` when
    /// the package was not deleted, so its versions are still to be handled one by one.
    pub versions: Option<Vec<Entry>>,
}

/// Delete the package of a fully selected plan with one request; in a dry run, only say so.
/// `None` when the run has already stopped on the rate limit: the versions are then left
/// for the next run like any others.
pub async fn delete<W: std::io::Write>(
    github: &GitHub,
    target: &Target<'_>,
    plan: &Plan,
    dry_run: bool,
    stop: &mut Stop,
    log: &mut Log<W>,
) -> Option<WholeDelete> {
    if stop.reason.is_some() {
        return None;
    }
    let version_ids: Vec<u64> = plan.selected().map(|planned| planned.version.id).collect();
    let count = version_ids.len();
    let reason =
        format!("the policy selects all {count} active versions and `delete-empty-packages` is on");
    let with_package = |outcome: Outcome| {
        plan.selected()
            .map(|planned| Entry {
                version: planned.version.clone(),
                outcome: outcome.clone(),
                relation: planned.relation.clone(),
                reason: planned.reason.to_string(),
                rule: plan.rule_label(planned).map(str::to_owned),
            })
            .collect::<Vec<Entry>>()
    };
    if dry_run {
        log.info(&format!(
            "{}: would delete the package, with its {}",
            target.name,
            plural(count, "version")
        ));
        return Some(WholeDelete {
            entry: PackageEntry {
                outcome: Outcome::WouldDeletePackage,
                reason,
                version_ids,
            },
            versions: Some(with_package(Outcome::WouldDeleteWithPackage)),
        });
    }
    let result = github
        .delete_package(target.namespace, target.package_type, target.name)
        .await;
    let outcome = delete_outcome(result, stop);
    let versions = match &outcome {
        Outcome::Deleted => {
            log.info(&format!(
                "{}: deleted the package, with its {}",
                target.name,
                plural(count, "version")
            ));
            Some(with_package(Outcome::DeletedWithPackage))
        }
        not_done => {
            let line = format!(
                "{}: the package was not deleted whole ({not_done}); its versions are handled one by one",
                target.name
            );
            match not_done {
                Outcome::Failed(_) => log.error(&line),
                _ => log.warning(&line),
            }
            None
        }
    };
    Some(WholeDelete {
        entry: PackageEntry {
            outcome,
            reason,
            version_ids,
        },
        versions,
    })
}

/// Sort the answer to a package DELETE. GitHub's refusals (more than 5000 downloads,
/// insufficient permissions, anything else it answers 400/403/409/422 to) are skips; a
/// spent primary budget stops the run like a version delete would.
fn delete_outcome(result: Result<(), ApiError>, stop: &mut Stop) -> Outcome {
    let err = match result {
        Ok(()) => return Outcome::Deleted,
        Err(err) => err,
    };
    match err.kind {
        // An earlier try without a clear answer did the work.
        ApiErrorKind::NotFound if err.uncertain => Outcome::Deleted,
        ApiErrorKind::NotFound => Outcome::Skipped(format!("already gone ({})", err.message)),
        ApiErrorKind::Refused | ApiErrorKind::Forbidden => Outcome::Skipped(format!(
            "GitHub refused to delete the package: {}",
            err.message
        )),
        ApiErrorKind::RateLimited => {
            let reason = format!("GitHub's primary rate limit is spent ({})", err.message);
            stop.reason = Some(reason.clone());
            Outcome::Left(reason)
        }
        _ => Outcome::Failed(err.to_string()),
    }
}

/// A deleted package brought back, with the versions that came back with it.
pub struct Revived {
    pub entry: PackageEntry,
    /// `restored (with its package)` entries, oldest first like every report.
    pub versions: Vec<Entry>,
}

impl Revived {
    /// Whether the package is back, so that its deleted versions can be listed.
    pub fn restored(&self) -> bool {
        self.entry.outcome == Outcome::Restored
    }
}

/// Restore mode: whether a listing that failed with `err` may be a package deleted as a
/// whole, worth one restore request. GitHub answers the versions of a deleted package with
/// 404 `Package not found.`, exactly as it answers a package the token cannot see, and
/// offers no way to list deleted packages to a `GITHUB_TOKEN`. Only a package named
/// exactly (a wildcard finds live packages), and never in a dry run.
pub fn may_revive(config: &Config, name: &str, err: &ApiError) -> bool {
    let exact = config
        .packages
        .iter()
        .any(|selector| matches!(selector, PackageSelector::Exact(exact) if exact == name));
    config.mode == Mode::Restore
        && !config.dry_run
        && exact
        && err.kind == ApiErrorKind::NotFound
        && err
            .message
            .to_ascii_lowercase()
            .starts_with("package not found")
}

/// A package restore that a cancel cut off before its answer: it may have been done.
pub fn abandoned() -> Revived {
    Revived {
        entry: PackageEntry {
            outcome: Outcome::Failed(format!(
                "cancelled (SIGTERM or SIGINT) while the package restore was in flight, and it did not finish within {} s: the package may have been restored all the same",
                super::cancel::GRACE.as_secs()
            )),
            reason: REVIVE_REASON.to_string(),
            version_ids: Vec::new(),
        },
        versions: Vec::new(),
    }
}

/// Why a package is restored as a whole.
const REVIVE_REASON: &str = "the package was deleted, so its versions could not be listed";

/// Restore a package whose listing answered as a deleted package would (see
/// [`may_revive`]) with one request. Its 404 means there is no deleted package this token
/// can restore (or GitHub wants `package-restore-token` to pick one of several): `None`,
/// and the listing then reports the package as not found.
pub async fn revive<W: std::io::Write>(
    github: &GitHub,
    namespace: &Namespace,
    config: &Config,
    name: &str,
    log: &mut Log<W>,
) -> Option<Revived> {
    let token = config.package_restore_token.as_ref().map(|t| t.expose());
    let restored = github
        .restore_package(namespace, config.package_type, name, token)
        .await;
    let outcome = match restored {
        Ok(()) => Outcome::Restored,
        Err(err) if err.kind == ApiErrorKind::NotFound && err.uncertain => Outcome::Restored,
        Err(err) if err.kind == ApiErrorKind::NotFound => {
            log.info(&format!(
                "package `{name}` is not live, and restoring it as a deleted package answered 404 ({}): no deleted package of that name within GitHub's 30 days is visible to this token{}",
                err.message,
                if token.is_some() {
                    ", or `package-restore-token` is not the token of one"
                } else {
                    ". If several deleted packages share the name, GitHub wants `package-restore-token` to pick one"
                }
            ));
            return None;
        }
        Err(err) => restore_refusal(err, token.is_some()),
    };
    let mut entry = PackageEntry {
        outcome,
        reason: REVIVE_REASON.to_string(),
        version_ids: Vec::new(),
    };
    if entry.outcome != Outcome::Restored {
        let line = format!("package `{name}`: {}", entry.outcome);
        match entry.outcome {
            Outcome::Failed(_) => log.error(&line),
            _ => log.warning(&line),
        }
        return Some(Revived {
            entry,
            versions: Vec::new(),
        });
    }
    let mut back = github
        .list_versions(namespace, config.package_type, name, VersionState::Active)
        .await
        .unwrap_or_else(|err| {
            log.warning(&format!(
                "package `{name}` was restored, but the versions that came back with it could not be listed ({err}), so they are not reported"
            ));
            Vec::new()
        });
    back.sort_by_key(|version| (version.created_at, version.id));
    entry.version_ids = back.iter().map(|version| version.id).collect();
    log.info(&format!(
        "package `{name}` was deleted: restored it, and {} came back with it",
        plural(back.len(), "version")
    ));
    let versions = back.into_iter().map(came_back).collect();
    Some(Revived { entry, versions })
}

fn came_back(version: Version) -> Entry {
    Entry {
        version,
        outcome: Outcome::RestoredWithPackage,
        relation: None,
        reason: "came back with its package".to_string(),
        rule: None,
    }
}

/// A restore that GitHub did not do. A 409 is what GitHub answers when several deleted
/// packages share the name and no (or the wrong) `token` picks one; it is an error with
/// what to do. Insufficient permissions and other refusals are skips.
fn restore_refusal(err: ApiError, token_given: bool) -> Outcome {
    match (err.kind, err.status) {
        (ApiErrorKind::Refused, Some(409)) if token_given => Outcome::Failed(format!(
            "{err}. `package-restore-token` did not pick a deleted package of this name, or the name is in use by a new package: check the token"
        )),
        (ApiErrorKind::Refused, Some(409)) => Outcome::Failed(format!(
            "{err}. Several deleted packages may share this name: set `package-restore-token` to the token of the one to restore"
        )),
        (ApiErrorKind::Refused | ApiErrorKind::Forbidden, _) => Outcome::Skipped(format!(
            "GitHub refused to restore the package: {}",
            err.message
        )),
        (ApiErrorKind::RateLimited, _) => Outcome::Left(format!(
            "GitHub's primary rate limit is spent ({})",
            err.message
        )),
        _ => Outcome::Failed(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::Method;

    fn refusal(status: u16, message: &str) -> ApiError {
        ApiError::new(
            Method::Delete,
            "/orgs/acme/packages/npm/lib",
            Some(status),
            message.to_string(),
        )
    }

    #[test]
    fn package_delete_answers_are_sorted_into_done_skipped_left_and_failed() {
        let downloads =
            "Publicly visible packages with more than 5000 downloads cannot be deleted.";
        let mut uncertain = refusal(404, "Package not found.");
        uncertain.uncertain = true;
        let cases = [
            (Ok(()), "deleted"),
            (Err(refusal(400, downloads)), "skipped: GitHub refused"),
            (
                Err(refusal(403, "Resource not accessible by integration")),
                "skipped: GitHub refused",
            ),
            (
                Err(refusal(404, "Package not found.")),
                "skipped: already gone",
            ),
            (Err(uncertain), "deleted"),
            (Err(refusal(500, "boom")), "failed: DELETE"),
            (
                Err(refusal(403, "API rate limit exceeded").rate_limited(None)),
                "left for the next run",
            ),
        ];
        for (result, expected) in cases {
            let mut stop = Stop::default();
            let limited = matches!(&result, Err(err) if err.kind == ApiErrorKind::RateLimited);
            let outcome = delete_outcome(result, &mut stop).to_string();
            assert!(outcome.starts_with(expected), "{outcome} vs {expected}");
            assert_eq!(stop.reason.is_some(), limited, "{outcome}");
        }
    }

    fn config(packages: &str, delete_empty_packages: bool) -> Config {
        Config::from_env(|name| match name {
            "INPUT_TOKEN" => Some("t".to_string()),
            "GITHUB_REPOSITORY_OWNER" => Some("acme".to_string()),
            "INPUT_PACKAGES" => Some(packages.to_string()),
            "INPUT_DELETE-EMPTY-PACKAGES" => Some(delete_empty_packages.to_string()),
            _ => None,
        })
        .expect("valid inputs")
    }

    /// A stand-in for the run's matcher: `prefix*` matches names starting with `prefix`.
    fn prefix_matches(pattern: &str, name: &str) -> bool {
        pattern
            .strip_suffix('*')
            .is_some_and(|prefix| name.starts_with(prefix))
    }

    /// The `packages` input, whether `delete-empty-packages` is on, each package with
    /// whether its plan selects every version, and the packages that may go whole.
    type Case<'a> = (&'a str, bool, &'a [(&'a str, bool)], &'a [&'a str]);

    #[test]
    fn only_fully_selected_packages_go_whole_and_a_wildcard_goes_all_or_nothing() {
        let cases: &[Case] = &[
            ("lib", true, &[("lib", true)], &["lib"]),
            ("lib", false, &[("lib", true)], &[]),
            ("lib", true, &[("lib", false)], &[]),
            ("lib-*", true, &[("lib-a", true), ("lib-b", false)], &[]),
            (
                "lib-*",
                true,
                &[("lib-a", true), ("lib-b", true)],
                &["lib-a", "lib-b"],
            ),
            (
                "lib-*, lib-a",
                true,
                &[("lib-a", true), ("lib-b", false)],
                &["lib-a"],
            ),
            (
                "lib-*, app-*",
                true,
                &[("lib-a", true), ("lib-b", false), ("app-x", true)],
                &["app-x"],
            ),
        ];
        for (packages, on, planned, expected) in cases {
            let mut log = Log::new(Vec::new());
            let got = deletable(
                &config(packages, *on),
                planned.iter().copied(),
                prefix_matches,
                &mut log,
            );
            let expected: HashSet<String> = expected.iter().map(|name| name.to_string()).collect();
            assert_eq!(got, expected, "{packages} {planned:?}");
        }
    }

    #[test]
    fn a_409_to_a_package_restore_says_to_set_the_restore_token() {
        let conflict = refusal(409, "Multiple deleted packages match this name.");
        let cases = [
            (false, "set `package-restore-token`"),
            (true, "check the token"),
        ];
        for (token_given, expected) in cases {
            let outcome = restore_refusal(conflict.clone(), token_given).to_string();
            assert!(outcome.starts_with("failed: "), "{outcome}");
            assert!(outcome.contains(expected), "{outcome}");
        }
        let forbidden = restore_refusal(refusal(403, "You must have admin rights."), false);
        assert!(
            forbidden.to_string().starts_with("skipped: GitHub refused"),
            "{forbidden}"
        );
    }
}
