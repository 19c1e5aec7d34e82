//! The retry policy: after a failed try, whether to retry, how long to wait, or stop.

use std::time::{Duration, SystemTime};

use super::ratelimit::Refusal;
use super::{ApiError, ApiErrorKind};
use crate::transport::pacing::Pacing;

/// GitHub's reset time is in whole seconds; waiting a second past it avoids a retry that
/// lands just before the budget refills.
const RESET_MARGIN: Duration = Duration::from_secs(1);

/// What the client has sent and waited for, for the run's closing line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub gets: u64,
    pub mutations: u64,
    /// Tries repeated after a 5xx, connection error, timeout or secondary-limit answer.
    pub retries: u64,
    pub secondary_answers: u64,
    /// Times the client waited for the primary budget to reset.
    pub primary_waits: u64,
}

/// The step after a failed try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Retry this request after the wait.
    Retry(Duration),
    /// A secondary limit: hold every request for the wait, then retry this one.
    Pause(Duration),
    /// The primary budget resets within the allowed wait: hold everything until then.
    WaitReset(Duration),
    /// Give up; with `Some(kind)` the error is reclassified (tries ran out on a limit).
    Stop(Option<ApiErrorKind>),
    /// GitHub asked for a wait (`retry-after`) longer than `rate-limit-wait`: leave the rest
    /// for the next run, as for a spent primary budget, from `until` on if it is known.
    Leave {
        wait: Duration,
        until: Option<SystemTime>,
    },
}

/// Decide the step after the `tries`-th failed try of a request.
pub fn next(
    pacing: &Pacing,
    error: &ApiError,
    refusal: Option<&Refusal>,
    tries: u32,
    now: SystemTime,
) -> Next {
    let more_tries = tries < pacing.max_tries;
    // Without `retry-after` the pause is at least a minute, doubling: bounded by the tries,
    // but it may pass `rate-limit-wait` too, and is then left for the next run all the same.
    let secondary_wait = |retry_after: &Option<Duration>| {
        retry_after.unwrap_or_else(|| Pacing::backoff(pacing.secondary_wait, tries))
    };
    match refusal {
        Some(Refusal::Secondary { retry_after })
            if secondary_wait(retry_after) > pacing.rate_limit_wait
                && (more_tries || retry_after.is_some()) =>
        {
            let wait = secondary_wait(retry_after);
            Next::Leave {
                wait,
                until: now.checked_add(wait),
            }
        }
        Some(Refusal::Secondary { retry_after }) if more_tries => {
            Next::Pause(secondary_wait(retry_after))
        }
        Some(Refusal::Secondary { .. }) => Next::Stop(Some(ApiErrorKind::Throttled)),
        Some(Refusal::Primary { reset: Some(reset) }) if more_tries => {
            let wait = reset.duration_since(now).unwrap_or_default() + RESET_MARGIN;
            if wait <= pacing.rate_limit_wait + RESET_MARGIN {
                Next::WaitReset(wait)
            } else {
                Next::Stop(None)
            }
        }
        Some(Refusal::Primary { .. }) => Next::Stop(None),
        None => match error.kind {
            ApiErrorKind::Server | ApiErrorKind::Transport if more_tries => {
                Next::Retry(Pacing::backoff(pacing.retry_base, tries))
            }
            _ => Next::Stop(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::Method;

    /// (case, status, refusal, tries so far, expected step)
    type Case = (&'static str, Option<u16>, Option<Refusal>, u32, Next);

    fn error(status: Option<u16>) -> ApiError {
        ApiError::new(Method::Delete, "/x", status, "m".into())
    }

    #[test]
    fn each_failure_gets_the_step_github_asks_for() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let pacing = Pacing {
            max_tries: 3,
            retry_base: Duration::from_secs(2),
            secondary_wait: Duration::from_secs(60),
            rate_limit_wait: Duration::from_secs(300),
            ..Pacing::default()
        };
        let secs = Duration::from_secs;
        let secondary = |after: Option<u64>| Refusal::Secondary {
            retry_after: after.map(secs),
        };
        let primary = |reset_in: u64| Refusal::Primary {
            reset: Some(now + secs(reset_in)),
        };
        let cases: Vec<Case> = vec![
            (
                "a 502 backs off from the base",
                Some(502),
                None,
                1,
                Next::Retry(secs(2)),
            ),
            (
                "a second 502 doubles",
                Some(502),
                None,
                2,
                Next::Retry(secs(4)),
            ),
            (
                "no answer is retried too",
                None,
                None,
                1,
                Next::Retry(secs(2)),
            ),
            (
                "the last try gives up",
                Some(500),
                None,
                3,
                Next::Stop(None),
            ),
            ("a 404 is final", Some(404), None, 1, Next::Stop(None)),
            ("a refusal is final", Some(422), None, 1, Next::Stop(None)),
            (
                "retry-after is honoured",
                Some(403),
                Some(secondary(Some(7))),
                1,
                Next::Pause(secs(7)),
            ),
            (
                "no retry-after waits a minute",
                Some(403),
                Some(secondary(None)),
                1,
                Next::Pause(secs(60)),
            ),
            (
                "and then doubles",
                Some(429),
                Some(secondary(None)),
                2,
                Next::Pause(secs(120)),
            ),
            (
                "a retry-after past rate-limit-wait is left for the next run",
                Some(403),
                Some(secondary(Some(301))),
                1,
                Next::Leave {
                    wait: secs(301),
                    until: Some(now + secs(301)),
                },
            ),
            (
                "a retry-after too large for a clock leaves with no end time",
                Some(429),
                Some(secondary(Some(u64::MAX))),
                1,
                Next::Leave {
                    wait: secs(u64::MAX),
                    until: None,
                },
            ),
            (
                "secondary answers run out of tries",
                Some(403),
                Some(secondary(Some(1))),
                3,
                Next::Stop(Some(ApiErrorKind::Throttled)),
            ),
            (
                "a reset within the bound is waited for",
                Some(403),
                Some(primary(100)),
                1,
                Next::WaitReset(secs(101)),
            ),
            (
                "a reset past the bound stops",
                Some(403),
                Some(primary(301)),
                1,
                Next::Stop(None),
            ),
            (
                "an unknown reset stops",
                Some(403),
                Some(Refusal::Primary { reset: None }),
                1,
                Next::Stop(None),
            ),
        ];
        for (name, status, refusal, tries, expected) in cases {
            assert_eq!(
                next(&pacing, &error(status), refusal.as_ref(), tries, now),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_secondary_backoff_without_retry_after_is_never_slept_past_rate_limit_wait() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let pacing = Pacing {
            max_tries: 5,
            secondary_wait: Duration::from_secs(60),
            rate_limit_wait: Duration::from_secs(100),
            ..Pacing::default()
        };
        let refusal = Refusal::Secondary { retry_after: None };
        let secs = Duration::from_secs;
        let cases = [
            (1, Next::Pause(secs(60))),
            (
                2,
                Next::Leave {
                    wait: secs(120),
                    until: Some(now + secs(120)),
                },
            ),
            (5, Next::Stop(Some(ApiErrorKind::Throttled))),
        ];
        for (tries, expected) in cases {
            assert_eq!(
                next(&pacing, &error(Some(403)), Some(&refusal), tries, now),
                expected,
                "try {tries}"
            );
        }
    }

    #[test]
    fn a_zero_wait_bound_never_waits_for_a_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let pacing = Pacing {
            rate_limit_wait: Duration::ZERO,
            ..Pacing::default()
        };
        let refusal = Refusal::Primary {
            reset: Some(now + Duration::from_secs(30)),
        };
        assert_eq!(
            next(&pacing, &error(Some(403)), Some(&refusal), 1, now),
            Next::Stop(None)
        );
    }
}
