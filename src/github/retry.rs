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
mod tests;
