//! Carry out a plan against the API, one version at a time within the primary budget, and
//! record what happened.

use std::time::{Duration, Instant, SystemTime};

use crate::config::Mode;
use crate::github::pacing::Pacing;
use crate::github::ratelimit::RateLimit;
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace};
use crate::plan::Plan;
use crate::report::log::Log;
use crate::report::timestamp;
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
    /// Not tried: the primary budget ran out first. The next run picks it up.
    Left(String),
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
            Outcome::Left(reason) => write!(f, "left for the next run: {reason}"),
        }
    }
}

/// A selected version and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: Version,
    pub outcome: Outcome,
}

/// The package a plan belongs to, as the API addresses it.
pub struct Target<'a> {
    pub namespace: &'a Namespace,
    pub package_type: PackageType,
    pub name: &'a str,
}

/// The entries of a dry run: every selected version with what the mode would do to it.
pub fn dry_run(plan: &Plan, mode: Mode) -> Vec<Entry> {
    plan.selected()
        .map(|planned| Entry {
            version: planned.version.clone(),
            outcome: Outcome::would(mode),
        })
        .collect()
}

/// The reason given for versions not tried after a request gave up on the secondary limit.
const THROTTLED: &str = "not tried: GitHub answered an earlier request with its secondary \
     rate limit on every try; run again later";

/// Why the run stopped early: set once the primary budget is spent or a request gave up
/// on the secondary limit, and shared by every package after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stop {
    pub reason: Option<String>,
}

/// Delete or restore every selected version, oldest first, logging a line per version.
///
/// Before each request the primary budget is checked: once no more than the reserve is
/// left, the run waits for the reset when it comes within `rate-limit-wait`, and otherwise
/// stops, leaving this version and every one after it for the next run. A request that
/// GitHub refuses for the primary limit stops the run the same way; one that gives up on
/// the secondary limit fails, and the rest are left untried.
pub async fn execute<W: std::io::Write>(
    github: &GitHub,
    target: &Target<'_>,
    plan: &Plan,
    mode: Mode,
    stop: &mut Stop,
    log: &mut Log<W>,
) -> Vec<Entry> {
    let total = plan.selected().count();
    let mut entries = Vec::with_capacity(total);
    let mut last_progress = Instant::now();
    for planned in plan.selected() {
        let version = &planned.version;
        if stop.reason.is_none() {
            match budget(
                github.rate_limit().as_ref(),
                github.pacing(),
                SystemTime::now(),
            ) {
                Budget::Enough => {}
                Budget::WaitFor(wait) => {
                    log.info(&format!(
                        "the primary rate limit is spent; waiting {} for it to reset",
                        humantime::format_duration(Duration::from_secs(wait.as_secs()))
                    ));
                    tokio::time::sleep(wait).await;
                }
                Budget::Spent(reason) => stop.reason = Some(reason),
            }
        }
        if let Some(reason) = &stop.reason {
            entries.push(Entry {
                version: version.clone(),
                outcome: Outcome::Left(reason.clone()),
            });
            continue;
        }
        let result = match mode {
            Mode::Delete => {
                github
                    .delete_version(
                        target.namespace,
                        target.package_type,
                        target.name,
                        version.id,
                    )
                    .await
            }
            Mode::Restore => {
                github
                    .restore_version(
                        target.namespace,
                        target.package_type,
                        target.name,
                        version.id,
                    )
                    .await
            }
        };
        let outcome = match result {
            Err(err) if err.kind == ApiErrorKind::RateLimited => {
                let reason = spent(err.reset, None);
                stop.reason = Some(reason.clone());
                Outcome::Left(reason)
            }
            Err(err) if err.kind == ApiErrorKind::Throttled => {
                // Every further request would meet the same limit: stop asking.
                stop.reason = Some(THROTTLED.to_string());
                Outcome::Failed(err.to_string())
            }
            result => classify(mode, result),
        };
        let line = format!("{} {}: {outcome}", version.id, describe(version));
        match &outcome {
            Outcome::Skipped(_) => log.warning(&format!("{}: {line}", target.name)),
            Outcome::Failed(_) => log.error(&format!("{}: {line}", target.name)),
            Outcome::Left(_) => log.info(&format!("{}: {line}", target.name)),
            _ => log.info(&line),
        }
        entries.push(Entry {
            version: version.clone(),
            outcome,
        });
        if last_progress.elapsed() >= PROGRESS_EVERY {
            log.info(&format!("progress: {}/{total} versions", entries.len()));
            last_progress = Instant::now();
        }
    }
    entries
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
    let Ok(reset_in) = rate.reset.duration_since(now) else {
        return Budget::Enough;
    };
    if rate.remaining > pacing.budget_reserve {
        Budget::Enough
    } else if reset_in <= pacing.rate_limit_wait {
        Budget::WaitFor(reset_in + Duration::from_secs(1))
    } else {
        Budget::Spent(spent(Some(rate.reset), Some((rate.remaining, rate.limit))))
    }
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
        Mode::Delete => Outcome::Deleted,
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
}
