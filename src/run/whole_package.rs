//! Whole packages: delete with one request a package the plan empties
//! (`delete-empty-packages`). Restoring a deleted package before its versions is
//! [`super::revive`].
//!
//! GitHub refuses to delete the last version of a package ("You must delete the package
//! instead"). Deleting the package is a whole-package operation; everything else stays with
//! the version-by-version executor.
//!
//! A package goes whole only on a listing this run read whole (none of it from the state
//! file), read again just before the DELETE ([`super::recheck`]); on any difference its
//! versions are handled one by one instead. The package DELETE is raced against the cancel
//! grace like any mutation.

use std::collections::HashSet;

use super::execute::{Stop, Target};
use super::recheck::{Difference, Recheck, recheck};
use crate::config::{Config, PackageSelector};
use crate::github::{ApiError, ApiErrorKind, GitHub};
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::version::{PackageType, Version};
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

/// A planned package, as [`deletable`] weighs it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub name: &'a str,
    /// Whether its plan selects every active version (`false` when it could not be listed).
    pub full: bool,
    /// Whether its listing used versions saved in the state file rather than read in this
    /// run (see `resume::Listing::from_state`).
    pub from_state: bool,
}

/// The packages that may be deleted whole: only with `delete-empty-packages` in delete
/// mode, only when fully selected on a listing this run read whole (none of it from the
/// state file), and, for a package found through a wildcard rather than named exactly,
/// only when every package of each wildcard that found it is fully selected too. `matches`
/// is the wildcard matcher the names were found with.
pub fn deletable<'a, W: std::io::Write>(
    config: &Config,
    planned: impl Iterator<Item = Candidate<'a>>,
    matches: impl Fn(&str, &str) -> bool,
    log: &mut Log<W>,
) -> HashSet<String> {
    if !config.delete_empty_packages || config.mode != Mode::Delete {
        return HashSet::new();
    }
    let planned: Vec<Candidate> = planned.collect();
    let mut deletable = HashSet::new();
    for candidate in &planned {
        let name = candidate.name;
        if !candidate.full {
            continue;
        }
        if candidate.from_state {
            log.summary_warning(&format!(
                "package `{name}`: the policy selects every active version, but its listing was carried on from the state file (versions saved by an earlier run), and a package is deleted whole only on a listing read whole in this run: its versions are handled one by one"
            ));
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
                .find(|other| !other.full && matches(pattern, other.name))?;
            matches(pattern, name).then_some((pattern, partial.name))
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
    /// The selected versions settled here: all of them when the package went (or in a dry
    /// run, would go) with them, was cut off by a cancel, or is left alone; otherwise those
    /// the re-check found gone or changed.
    pub entries: Vec<Entry>,
    /// What is left to handle version by version.
    pub rest: Rest,
}

/// The selected versions still to handle one by one after a package DELETE was not sent or
/// not done.
pub enum Rest {
    /// None: every selected version has its entry.
    Settled,
    /// All of the plan's, as without `delete-empty-packages`.
    All,
    /// Those of this plan: the original, narrowed to the versions the re-check found still
    /// there and unchanged.
    Narrowed(Plan),
}

/// Delete the package of a fully selected plan with one request; in a dry run, only say so.
/// `None` when the run has already stopped on the rate limit, or a cancel came before the
/// DELETE was sent: the versions are then left for the next run like any others.
///
/// The plan may be minutes old: the listing is read again first ([`recheck`]), and the
/// package is deleted only when it holds exactly the versions planned on. Otherwise, the
/// selected versions still there and unchanged are handled one by one, and the reason is
/// said; a container package that gained or changed a version is left alone instead (a new
/// index may reference the selected images). The DELETE, once sent, gets the cancel grace
/// like any mutation; cut off, it is reported as a package that may have been deleted.
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
    let entry = |outcome: Outcome| PackageEntry {
        outcome,
        reason: format!(
            "the policy selects all {count} active versions and `delete-empty-packages` is on"
        ),
        version_ids: version_ids.clone(),
    };
    if dry_run {
        log.info(&format!(
            "{}: would delete the package, with its {}",
            target.name,
            plural(count, "version")
        ));
        return Some(WholeDelete {
            entry: entry(Outcome::WouldDeletePackage),
            entries: with_package(plan, |_| Outcome::WouldDeleteWithPackage),
            rest: Rest::Settled,
        });
    }
    match recheck(github, target, &plan.versions, stop).await {
        Recheck::Same => {}
        Recheck::Cancelled => return None,
        Recheck::Unchecked(why) => {
            let outcome = Outcome::Skipped(format!(
                "not deleted whole: {why}; its versions are handled one by one"
            ));
            log.warning(&format!("{}: {outcome}", target.name));
            return Some(WholeDelete {
                entry: entry(outcome),
                entries: Vec::new(),
                rest: Rest::All,
            });
        }
        Recheck::Differs(difference) => {
            let (outcome, entries, rest) = differs(target, plan, &difference, log);
            return Some(WholeDelete {
                entry: entry(outcome),
                entries,
                rest,
            });
        }
    }
    if stop.cancel.is_requested() {
        return None;
    }
    let sent = tokio::select! {
        result = github.delete_package(target.namespace, target.package_type, target.name) => {
            Some(result)
        }
        () = stop.cancel.grace_over() => None,
    };
    let Some(result) = sent else {
        let cut_off = format!(
            "cancelled (SIGTERM or SIGINT) while the package DELETE was in flight, and it did not finish within {} s: the package `{}` may have been deleted all the same, with its {}",
            super::cancel::GRACE.as_secs(),
            target.name,
            plural(count, "version")
        );
        log.warning(&format!("{}: {cut_off}", target.name));
        stop.reason = Some(super::cancel::CANCELLED.to_string());
        stop.fatal = Some(cut_off.clone());
        return Some(WholeDelete {
            entry: entry(Outcome::Failed(cut_off)),
            entries: with_package(plan, |_| {
                Outcome::Left(
                    "cancelled while its package's DELETE was in flight: it may have been deleted with the package"
                        .to_string(),
                )
            }),
            rest: Rest::Settled,
        });
    };
    let outcome = delete_outcome(result, stop);
    match &outcome {
        Outcome::Deleted => {
            log.info(&format!(
                "{}: deleted the package, with its {}",
                target.name,
                plural(count, "version")
            ));
            Some(WholeDelete {
                entry: entry(outcome),
                entries: with_package(plan, |_| Outcome::DeletedWithPackage),
                rest: Rest::Settled,
            })
        }
        not_done => {
            handled_one_by_one(target.name, not_done, log);
            Some(WholeDelete {
                entry: entry(outcome),
                entries: Vec::new(),
                rest: Rest::All,
            })
        }
    }
}

/// Every selected version of `plan`, with the outcome `outcome` gives it.
fn with_package(plan: &Plan, outcome: impl Fn(&Version) -> Outcome) -> Vec<Entry> {
    plan.selected()
        .map(|planned| plan.entry(planned, outcome(&planned.version)))
        .collect()
}

/// Say that a package was not deleted whole, and why.
fn handled_one_by_one<W: std::io::Write>(name: &str, not_done: &Outcome, log: &mut Log<W>) {
    let line = format!(
        "{name}: the package was not deleted whole ({not_done}); its versions are handled one by one"
    );
    match not_done {
        Outcome::Failed(_) => log.error(&line),
        _ => log.warning(&line),
    }
}

/// The package entry, the entries settled and what is left, when the re-read listing
/// differs from the plan's: the versions gone are skipped as gone, the changed ones as
/// changed (the next run plans on what they are now), and the rest are handled one by
/// one. A container package that gained or changed a version is left alone: a manifest
/// pushed meanwhile may reference the images the plan selected.
fn differs<W: std::io::Write>(
    target: &Target<'_>,
    plan: &Plan,
    difference: &Difference,
    log: &mut Log<W>,
) -> (Outcome, Vec<Entry>, Rest) {
    let gone: HashSet<u64> = difference.gone.iter().copied().collect();
    let changed: HashSet<u64> = difference.changed.iter().copied().collect();
    let image_may_need_them = target.package_type == PackageType::Container
        && !(difference.new.is_empty() && difference.changed.is_empty());
    let found = format!(
        "the listing read again just before the package delete differs from the one planned on: {difference}"
    );
    let not_whole = |then: &str| format!("not deleted whole: {found}; {then}");
    let outcome = if image_may_need_them {
        Outcome::Skipped(not_whole(
            "a manifest pushed meanwhile may reference the images selected, so nothing in the package is deleted in this run, and the next run plans on what is there",
        ))
    } else {
        Outcome::Skipped(not_whole(
            "the versions planned on that are still there, unchanged, are handled one by one",
        ))
    };
    log.warning(&format!("{}: {outcome}", target.name));
    let entries = with_package(plan, |version| {
        if gone.contains(&version.id) {
            Outcome::Skipped(
                "already gone: not in the listing read again just before the package delete"
                    .to_string(),
            )
        } else if changed.contains(&version.id) {
            Outcome::Skipped(
                "changed since it was planned (tags, name or dates): kept, and the next run plans on what it is now"
                    .to_string(),
            )
        } else {
            Outcome::Skipped(
                "a version was pushed or changed in its container package during the run: kept, and the next run plans on what is there"
                    .to_string(),
            )
        }
    });
    if image_may_need_them {
        return (outcome, entries, Rest::Settled);
    }
    let unsettled = |id: &u64| !gone.contains(id) && !changed.contains(id);
    let entries = entries
        .into_iter()
        .filter(|entry| !unsettled(&entry.version.id))
        .collect();
    let narrowed = Plan {
        order: plan
            .order
            .iter()
            .copied()
            .filter(|&index| {
                plan.versions
                    .get(index)
                    .is_some_and(|planned| unsettled(&planned.version.id))
            })
            .collect(),
        ..plan.clone()
    };
    (outcome, entries, Rest::Narrowed(narrowed))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::{Method, Namespace};

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
    /// whether its plan selects every version and whether its listing used the state file,
    /// and the packages that may go whole.
    type Case<'a> = (&'a str, bool, &'a [(&'a str, bool, bool)], &'a [&'a str]);

    #[test]
    fn only_fully_selected_packages_listed_in_this_run_go_whole_and_a_wildcard_goes_all_or_nothing()
    {
        let cases: &[Case] = &[
            ("lib", true, &[("lib", true, false)], &["lib"]),
            ("lib", false, &[("lib", true, false)], &[]),
            ("lib", true, &[("lib", false, false)], &[]),
            ("lib", true, &[("lib", true, true)], &[]),
            (
                "lib-*",
                true,
                &[("lib-a", true, false), ("lib-b", false, false)],
                &[],
            ),
            (
                "lib-*",
                true,
                &[("lib-a", true, false), ("lib-b", true, false)],
                &["lib-a", "lib-b"],
            ),
            (
                "lib-*",
                true,
                &[("lib-a", true, false), ("lib-b", true, true)],
                &["lib-a"],
            ),
            (
                "lib-*, lib-a",
                true,
                &[("lib-a", true, false), ("lib-b", false, false)],
                &["lib-a"],
            ),
            (
                "lib-*, app-*",
                true,
                &[
                    ("lib-a", true, false),
                    ("lib-b", false, false),
                    ("app-x", true, false),
                ],
                &["app-x"],
            ),
        ];
        for (packages, on, planned, expected) in cases {
            let mut log = Log::new(Vec::new());
            let candidates = planned.iter().map(|&(name, full, from_state)| Candidate {
                name,
                full,
                from_state,
            });
            let got = deletable(&config(packages, *on), candidates, prefix_matches, &mut log);
            let expected: HashSet<String> = expected.iter().map(|name| name.to_string()).collect();
            assert_eq!(got, expected, "{packages} {planned:?}");
            let from_state = planned
                .iter()
                .any(|&(_, full, from_state)| full && from_state);
            assert_eq!(
                log.notes().len(),
                usize::from(*on && from_state),
                "a package kept from going whole by the state file is said in the summary: {packages} {planned:?}"
            );
        }
    }

    /// The settled ids with the start of their outcome, and the ids left to go one by one
    /// (`None`: nothing is left).
    type Settling<'a> = (&'a [(u64, &'a str)], Option<&'a [u64]>);

    #[test]
    fn a_differing_listing_settles_what_changed_and_hands_on_the_rest_unless_an_image_may_need_it()
    {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |id: u64| UNIX_EPOCH + Duration::from_secs(1_600_000_000 + id * 60);
        let versions: Vec<Version> = (1..=4)
            .map(|id| crate::testing::image_at(id, &[], at(id)))
            .collect();
        let now = at(10_000);
        let gone = "skipped: already gone";
        let changed = "skipped: changed since it was planned";
        let pushed = "skipped: a version was pushed or changed in its container package";
        let difference = |new: &[u64], gone: &[u64], changed: &[u64]| Difference {
            new: new.to_vec(),
            gone: gone.to_vec(),
            changed: changed.to_vec(),
        };
        let cases: [(PackageType, Difference, Settling); 4] = [
            (
                PackageType::Npm,
                difference(&[9], &[1], &[2]),
                (&[(1, gone), (2, changed)], Some(&[3, 4])),
            ),
            (
                PackageType::Container,
                difference(&[], &[1], &[]),
                (&[(1, gone)], Some(&[2, 3, 4])),
            ),
            (
                PackageType::Container,
                difference(&[9], &[1], &[]),
                (&[(1, gone), (2, pushed), (3, pushed), (4, pushed)], None),
            ),
            (
                PackageType::Container,
                difference(&[], &[], &[3]),
                (&[(1, pushed), (2, pushed), (3, changed), (4, pushed)], None),
            ),
        ];
        let namespace = Namespace::Org("acme".to_string());
        for (package_type, difference, (settled, rest)) in cases {
            let plan = crate::policy::plan::plan(
                versions.clone(),
                &crate::policy::rules::Policy::default(),
                package_type,
                Mode::Delete,
                now,
            );
            assert!(fully_selected(&plan));
            let target = Target {
                namespace: &namespace,
                package_type,
                name: "lib",
            };
            let mut log = Log::new(Vec::new());
            let (outcome, entries, left) = differs(&target, &plan, &difference, &mut log);
            let case = format!("{package_type} {difference}");
            assert!(
                outcome
                    .to_string()
                    .starts_with("skipped: not deleted whole: "),
                "{case}: {outcome}"
            );
            let got: Vec<(u64, String)> = entries
                .iter()
                .map(|entry| (entry.version.id, entry.outcome.to_string()))
                .collect();
            assert_eq!(got.len(), settled.len(), "{case}: {got:?}");
            for ((id, outcome), (expected_id, expected)) in got.iter().zip(settled) {
                assert_eq!(id, expected_id, "{case}");
                assert!(outcome.starts_with(expected), "{case}: {outcome}");
            }
            let left: Option<Vec<u64>> = match left {
                Rest::Settled => None,
                Rest::All => Some(plan.selected().map(|p| p.version.id).collect()),
                Rest::Narrowed(narrowed) => {
                    Some(narrowed.selected().map(|p| p.version.id).collect())
                }
            };
            assert_eq!(left.as_deref(), rest, "{case}");
        }
    }
}
