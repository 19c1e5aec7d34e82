//! Restore mode: a package deleted as a whole is restored with one request before its
//! versions, since GitHub answers the versions of a deleted package with 404 `Package not
//! found.`, exactly as it answers a package the token cannot see. The package comes back
//! with the versions it had when it was deleted; the restore request gets the cancel grace
//! like any mutation.

use crate::config::{Config, PackageSelector};
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace};
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::version::{Version, VersionState};
use crate::report::log::Log;
use crate::report::plural;

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
pub fn abandoned<W: std::io::Write>(name: &str, log: &mut Log<W>) -> Revived {
    let cut_off = format!(
        "cancelled (SIGTERM or SIGINT) while the package restore was in flight, and it did not finish within {} s: the package `{name}` may have been restored all the same",
        super::cancel::GRACE.as_secs()
    );
    log.warning(&format!("package `{name}`: {cut_off}"));
    Revived {
        entry: PackageEntry {
            outcome: Outcome::Failed(cut_off),
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
