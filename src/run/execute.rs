//! Carry out a plan against the API, one version at a time within the primary budget, and
//! record what happened.
//!
//! Parents go before their children (the plan's order), and a version that goes with an
//! image is skipped when one of its parents was not done: it is still part of that image.
//! Restoring a container version also restores what its image needs (see
//! [`images::restore_followers`]), right after it.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use crate::github::ratelimit::{Cover, RateLimit};
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace, WaitNotice};
use crate::model::image::{Relation, describe, describe_image};
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome};
use crate::model::version::{PackageType, Version};
use crate::policy::images;
use crate::policy::plan::{Plan, PlannedVersion};
use crate::registry::Registry;
use crate::report::log::Log;
use crate::report::{plural, timestamp};
use crate::transport::pacing::Pacing;

use super::cancel::{CANCELLED, Cancel};

/// Progress lines appear at most this often on long runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// The dry-run outcome: what the mode would do.
fn would(mode: Mode) -> Outcome {
    match mode {
        Mode::Delete | Mode::Audit => Outcome::WouldDelete,
        Mode::Restore => Outcome::WouldRestore,
    }
}

/// A version on the executor's stack: selected by the plan, or following a restored image.
struct Work {
    version: Version,
    relation: Option<Relation>,
    reason: String,
    rule: Option<String>,
}

impl Work {
    fn planned(plan: &Plan, planned: &PlannedVersion) -> Work {
        Work {
            version: planned.version.clone(),
            relation: planned.relation.clone(),
            reason: planned.reason.to_string(),
            rule: plan.rule_label(planned).map(str::to_owned),
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
        let mut stack = vec![Work::planned(plan, planned)];
        while let Some(work) = stack.pop() {
            if !seen.insert(work.version.id) {
                continue;
            }
            if mode == Mode::Restore && follow_images {
                let rule = work.rule.as_deref();
                push_followers(&mut stack, &work.version, rule, None, plan, &seen);
            }
            let outcome = match wrong_state(mode, &work.version) {
                Some(reason) => Outcome::Skipped(reason),
                None => would(mode),
            };
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
                rule: work.rule,
            });
        }
    }
    entries
}

/// Push what must be restored after `version` (in order, so it pops first-listed first);
/// each carries the restored image's `rule`.
fn push_followers(
    stack: &mut Vec<Work>,
    version: &Version,
    rule: Option<&str>,
    manifest: Option<&crate::model::manifest::Manifest>,
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
            rule: rule.map(str::to_owned),
        });
    }
}

/// Why a version is not in the state the mode acts on, if it is not. GitHub documents
/// `state` for some version lists only, so an answer may ignore it: a version is deleted only
/// when it has no `deleted_at`, and restored only when it has one.
fn wrong_state(mode: Mode, version: &Version) -> Option<String> {
    match (mode, version.deleted_at) {
        (Mode::Delete, Some(deleted_at)) => Some(format!(
            "listed as already deleted (deleted_at {}) although active versions were asked for; not deleted",
            timestamp(deleted_at)
        )),
        (Mode::Restore, None) => Some(
            "listed without deleted_at although deleted versions were asked for; not restored"
                .to_string(),
        ),
        _ => None,
    }
}

/// The reason given for versions not tried after a request gave up on the secondary limit.
const THROTTLED: &str = "not tried: GitHub answered an earlier request with its secondary \
     rate limit on every try; run again later";

/// Why the run stopped early: set once the primary budget is spent, a request gave up
/// on the secondary limit or the job was cancelled, and shared by every package after.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    pub reason: Option<String>,
    /// Checked before every mutation: once requested, nothing more is sent.
    pub cancel: Cancel,
    /// An error that ends the run: nothing more is sent, and the run fails with it.
    pub fatal: Option<String>,
}

/// Delete or restore every selected version in the plan's order, logging a line per version
/// and recording each in `entries` as soon as it is settled (so a run cut short still knows
/// what it did).
/// `images` is given for container packages: restoring a version then also restores its
/// image's deleted children and artifacts.
///
/// Before each request the primary budget is checked: once no more than the reserve is
/// left, the run waits for the reset when it comes within `rate-limit-wait`, and otherwise
/// stops, leaving this version and every one after it for the next run. A request that
/// GitHub refuses for the primary limit stops the run the same way; one that gives up on
/// the secondary limit fails, and the rest are left untried.
#[allow(clippy::too_many_arguments)] // `entries` is a sink so a cancelled run keeps them.
pub async fn execute<W: std::io::Write>(
    github: &GitHub,
    target: &Target<'_>,
    plan: &Plan,
    mode: Mode,
    images: Option<&Images<'_>>,
    stop: &mut Stop,
    entries: &mut Vec<Entry>,
    log: &mut Log<W>,
) {
    let total = plan.selected().count();
    let mut last_progress = Instant::now();
    let mut seen = HashSet::new();
    let mut done = HashSet::new();
    for planned in plan.selected() {
        let mut stack = vec![Work::planned(plan, planned)];
        while let Some(Work {
            version,
            relation,
            reason,
            rule,
        }) = stack.pop()
        {
            if !seen.insert(version.id) {
                continue;
            }
            let waiting = relation
                .iter()
                .flat_map(|relation| &relation.parents)
                .find(|parent| !done.contains(*parent));
            if stop.reason.is_none() {
                check_budget(github, stop, log).await;
            }
            if stop.reason.is_none() && stop.cancel.is_requested() {
                stop.reason = Some(CANCELLED.to_string());
            }
            let outcome = match (&stop.reason, waiting, wrong_state(mode, &version)) {
                (Some(reason), _, _) => Outcome::Left(reason.clone()),
                (None, Some(parent), _) => Outcome::Skipped(format!(
                    "its image {parent} was not {}, and still needs it",
                    mode.past_tense()
                )),
                (None, None, Some(reason)) => Outcome::Skipped(reason),
                (None, None, None) => {
                    let result = act_on(github, target, mode, version.id).await;
                    // A parent already deleted by someone else no longer needs its children.
                    if mode == Mode::Delete
                        && matches!(&result, Err(err) if err.kind == ApiErrorKind::NotFound)
                    {
                        done.insert(version.id);
                    }
                    settle(mode, result, stop)
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
                    if let Some(host) = manifest
                        .as_ref()
                        .err()
                        .and_then(|err| err.untrusted_realm())
                    {
                        // The realm moved after the check before the first restore.
                        let message = format!(
                            "{}: the registry asks for tokens at {host}, which is not its own host over https: the token was not sent, and nothing more is restored in this run",
                            images.repository
                        );
                        log.error(&message);
                        stop.reason = Some(format!("not tried: {message}"));
                        stop.fatal = Some(message);
                    } else if let Err(err) = &manifest {
                        log.info(&format!(
                            "{} {}: its manifest could not be read after restoring it, so only artifacts found by tag follow it ({err})",
                            version.id,
                            describe(&version)
                        ));
                    }
                    let manifest = manifest.ok();
                    push_followers(
                        &mut stack,
                        &version,
                        rule.as_deref(),
                        manifest.as_ref(),
                        plan,
                        &seen,
                    );
                }
            }
            entries.push(Entry {
                version,
                outcome,
                relation,
                reason,
                rule,
            });
            if last_progress.elapsed() >= PROGRESS_EVERY {
                log.info(&format!(
                    "progress: {}/{}",
                    entries.len(),
                    plural(total, "version")
                ));
                last_progress = Instant::now();
            }
        }
    }
}

/// Wait for the primary budget to reset when it is spent and the reset is near; set the stop
/// when it is spent for longer than `rate-limit-wait`.
pub(super) async fn check_budget<W: std::io::Write>(
    github: &GitHub,
    stop: &mut Stop,
    log: &mut Log<W>,
) {
    match budget(
        github.rate_limit().as_ref(),
        github.pacing(),
        SystemTime::now(),
    ) {
        Budget::Enough => {}
        Budget::WaitFor(wait) => {
            let until = SystemTime::now()
                .checked_add(wait)
                .map_or_else(|| "an unknown time".to_string(), timestamp);
            log.info(&format!(
                "the primary rate limit is spent; waiting {} for it to reset, until {until}",
                humantime::format_duration(Duration::from_secs(wait.as_secs()))
            ));
            // A cancel ends the wait: the executor then leaves the rest untried.
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.cancel.requested() => {}
            }
        }
        Budget::Spent(reason) => stop.reason = Some(reason),
    }
}

/// The line announcing a wait of the client as it starts: how long, why, until when.
pub fn wait_line(notice: &WaitNotice) -> String {
    let until = notice
        .until
        .map_or_else(|| "an unknown time".to_string(), timestamp);
    format!(
        "waiting {} for {}, until {until}",
        humantime::format_duration(Duration::from_secs(notice.wait.as_secs())),
        notice.reason
    )
}

/// The outcome of a request; a rate-limit answer also stops the run.
fn settle(mode: Mode, result: Result<(), ApiError>, stop: &mut Stop) -> Outcome {
    let stopping = result.as_ref().err().and_then(stops_the_run);
    match (result, stopping) {
        (Err(err), Some(reason)) => {
            stop.reason = Some(reason.clone());
            match err.kind {
                ApiErrorKind::Throttled => Outcome::Failed(err.to_string()),
                _ => Outcome::Left(reason),
            }
        }
        (result, _) => classify(mode, result),
    }
}

/// Why a REST answer stops the run from asking more: the primary budget spent, a wait
/// asked for that is longer than `rate-limit-wait`, or a secondary limit that every further
/// request would meet. `None` for any other answer.
pub(super) fn stops_the_run(err: &ApiError) -> Option<String> {
    match err.kind {
        ApiErrorKind::RateLimited => Some(spent(err.reset, None)),
        ApiErrorKind::AskedToWait => Some(asked_to_wait(err)),
        ApiErrorKind::Throttled => Some(THROTTLED.to_string()),
        _ => None,
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
        // An audit never acts (it does not reach the executor); if it did, nothing is sent.
        Mode::Audit => Err(ApiError::new(
            crate::github::Method::Delete,
            "",
            None,
            "an audit sends no mutating request".to_string(),
        )),
    }
}

fn log_outcome<W: std::io::Write>(
    log: &mut Log<W>,
    package: &str,
    version: &Version,
    relation: Option<&Relation>,
    outcome: &Outcome,
) {
    log.advance();
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
        Outcome::Left(_) => log.info(&format!("{package}: {line}")),
        _ => log.info(&line),
    }
}

/// What the primary budget allows before the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Budget {
    Enough,
    /// Spent, but it resets within `rate-limit-wait`: wait this long.
    WaitFor(Duration),
    /// Spent until after `rate-limit-wait`: stop, for this reason.
    Spent(String),
}

/// The budget as the latest response told it. A reset time already past means the budget
/// has refilled; no rate-limit headers at all (some GHES setups) means no limit is known.
fn budget(rate: Option<&RateLimit>, pacing: &Pacing, now: SystemTime) -> Budget {
    let Some(rate) = rate else {
        return Budget::Enough;
    };
    match rate.covers(1, pacing, now) {
        Cover::Enough => Budget::Enough,
        Cover::AfterReset(reset_in) => Budget::WaitFor(reset_in + Duration::from_secs(1)),
        Cover::Short { .. } => {
            Budget::Spent(spent(Some(rate.reset), Some((rate.remaining, rate.limit))))
        }
    }
}

/// The reason given for what is left when GitHub asked for a longer wait than allowed.
pub fn asked_to_wait(err: &ApiError) -> String {
    let until = err
        .reset
        .map_or_else(|| "an unknown time".to_string(), timestamp);
    format!(
        "GitHub's secondary rate limit asks for a pause past rate-limit-wait ({}); run again after {until}",
        err.message
    )
}

/// The reason given for versions left over: the budget and when it resets.
fn spent(reset: Option<SystemTime>, left: Option<(u32, u32)>) -> String {
    let left = left.map_or_else(String::new, |(remaining, limit)| {
        format!(" ({remaining} of {limit} requests left, kept in reserve)")
    });
    match reset {
        Some(reset) => format!(
            "GitHub's primary rate limit is spent{left}; it resets at {}",
            timestamp(reset)
        ),
        None => format!("GitHub's primary rate limit is spent{left}"),
    }
}

/// Sort an API answer into done, skipped (refusals GitHub is known to give) or failed.
///
/// A 404 after an earlier try of the same request got no clear answer (5xx, timeout)
/// means that try did the work: it counts as done.
fn classify(mode: Mode, result: Result<(), ApiError>) -> Outcome {
    let done = match mode {
        Mode::Delete | Mode::Audit => Outcome::Deleted,
        Mode::Restore => Outcome::Restored,
    };
    let err = match result {
        Ok(()) => return done,
        Err(err) => err,
    };
    if err.kind == ApiErrorKind::NotFound && err.uncertain {
        return done;
    }
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

    /// An error after an earlier try got no clear answer.
    fn uncertain(status: u16) -> Result<(), ApiError> {
        api_error(status, "Package not found.").map_err(|mut err| {
            err.uncertain = true;
            err
        })
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
            (Mode::Delete, uncertain(404), "deleted"),
            (Mode::Restore, uncertain(404), "restored"),
            (Mode::Delete, uncertain(500), "failed"),
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
    fn the_budget_check_goes_on_waits_or_stops() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let pacing = Pacing {
            budget_reserve: 5,
            rate_limit_wait: Duration::from_secs(60),
            ..Pacing::default()
        };
        let rate = |remaining: u32, reset_in: i64| RateLimit {
            limit: 1000,
            remaining,
            used: 1000 - remaining,
            reset: if reset_in >= 0 {
                now + Duration::from_secs(reset_in.unsigned_abs())
            } else {
                now - Duration::from_secs(reset_in.unsigned_abs())
            },
            resource: "core".into(),
        };
        let cases: Vec<(&str, Option<RateLimit>, &str)> = vec![
            ("no headers, no known limit", None, "enough"),
            ("above the reserve", Some(rate(6, 3000)), "enough"),
            (
                "a reset in the past has refilled",
                Some(rate(0, -5)),
                "enough",
            ),
            ("at the reserve, reset soon", Some(rate(5, 30)), "wait"),
            ("spent, reset at the bound", Some(rate(0, 60)), "wait"),
            ("spent, reset past the bound", Some(rate(5, 61)), "spent"),
        ];
        for (name, rate, expected) in cases {
            let got = match budget(rate.as_ref(), &pacing, now) {
                Budget::Enough => "enough",
                Budget::WaitFor(_) => "wait",
                Budget::Spent(_) => "spent",
            };
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn the_reason_for_leftovers_names_the_budget_and_the_reset() {
        let reset = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let cases = [
            (
                Some(reset),
                Some((3, 1000)),
                "GitHub's primary rate limit is spent (3 of 1000 requests left, kept in reserve); it resets at 2027-01-15T08:00:00Z",
            ),
            (
                Some(reset),
                None,
                "GitHub's primary rate limit is spent; it resets at 2027-01-15T08:00:00Z",
            ),
            (None, None, "GitHub's primary rate limit is spent"),
        ];
        for (reset, left, expected) in cases {
            assert_eq!(spent(reset, left), expected);
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

    #[test]
    fn a_version_in_the_other_state_is_never_acted_on() {
        let active = Version {
            deleted_at: None,
            ..deleted_version(1, &["v1"])
        };
        let deleted = deleted_version(2, &["v2"]);
        let cases = [
            (Mode::Delete, &active, None),
            (Mode::Delete, &deleted, Some("listed as already deleted")),
            (Mode::Restore, &deleted, None),
            (Mode::Restore, &active, Some("listed without deleted_at")),
        ];
        for (mode, version, expected) in cases {
            let reason = wrong_state(mode, version);
            match expected {
                None => assert_eq!(reason, None, "{mode:?} {}", version.id),
                Some(start) => assert!(
                    reason
                        .as_deref()
                        .is_some_and(|reason| reason.starts_with(start)),
                    "{mode:?} {}: {reason:?}",
                    version.id
                ),
            }
        }
    }

    #[test]
    fn a_wait_longer_than_allowed_leaves_the_rest_and_stops_without_failing() {
        let reset = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let cases = [
            (Some(reset), "run again after 2027-01-15T08:00:00Z"),
            (None, "run again after an unknown time"),
        ];
        for (until, end) in cases {
            let mut err = ApiError::new(Method::Delete, "/x", Some(429), "slow down".into());
            err.kind = ApiErrorKind::AskedToWait;
            err.reset = until;
            let mut stop = Stop::default();
            let outcome = settle(Mode::Delete, Err(err), &mut stop);
            let Outcome::Left(reason) = outcome else {
                panic!("left for the next run, not {outcome:?}");
            };
            assert!(
                reason.contains("slow down") && reason.ends_with(end),
                "{reason}"
            );
            assert_eq!(stop.reason, Some(reason));
        }
    }

    fn deleted_version(id: u64, tags: &[&str]) -> Version {
        let at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - id);
        Version {
            id,
            name: format!("sha256:{id:064x}"),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
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
        let policy = crate::policy::rules::Policy {
            version_ids: Some([1].into_iter().collect()),
            ..crate::policy::rules::Policy::default()
        };
        let plan = crate::policy::plan::plan(
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
