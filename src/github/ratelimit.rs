//! GitHub's rate-limit headers, and whether a refused request hit the primary or a secondary
//! limit (GitHub's "Rate limits for the REST API",
//! https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api;
//! `docs/github-behaviour.md`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::transport::pacing::Pacing;

/// The primary budget as the last response told it (`x-ratelimit-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub remaining: u32,
    pub used: u32,
    /// When the budget refills (`x-ratelimit-reset`, epoch seconds).
    pub reset: SystemTime,
    /// Which budget the numbers are for, usually `core`.
    pub resource: String,
}

impl RateLimit {
    /// Reads the `x-ratelimit-*` headers through `header` (a case-insensitive lookup).
    /// `None` unless `limit`, `remaining` and `reset` are all present and numeric.
    pub fn from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<RateLimit> {
        let number = |name: &str| header(name).and_then(|value| value.trim().parse::<u64>().ok());
        let to_u32 = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
        let limit = to_u32(number("x-ratelimit-limit")?);
        let remaining = to_u32(number("x-ratelimit-remaining")?);
        let reset = reset_time(number("x-ratelimit-reset")?);
        Some(RateLimit {
            limit,
            remaining,
            used: number("x-ratelimit-used").map_or(limit.saturating_sub(remaining), to_u32),
            reset,
            resource: header("x-ratelimit-resource")
                .unwrap_or("core")
                .trim()
                .to_string(),
        })
    }

    /// Whether `requests` more requests fit in what is left, less `pacing.budget_reserve`.
    /// A reset already past means the budget has refilled.
    pub fn covers(&self, requests: u64, pacing: &Pacing, now: SystemTime) -> Cover {
        let usable = self.remaining.saturating_sub(pacing.budget_reserve);
        if requests <= u64::from(usable) {
            return Cover::Enough;
        }
        match self.reset.duration_since(now) {
            Err(_) => Cover::Enough,
            Ok(reset_in) if reset_in <= pacing.rate_limit_wait => Cover::AfterReset(reset_in),
            Ok(_) => Cover::Short { usable },
        }
    }
}

/// The last second RFC 3339 can write (9999-12-31T23:59:59Z).
const LAST_SECOND: u64 = 253_402_300_799;

/// `x-ratelimit-reset` as a time. A reset past year 9999 (only a hostile answer gives one)
/// is read as the end of 9999: far past any wait, so the run stops cleanly.
fn reset_time(epoch_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(epoch_seconds.min(LAST_SECOND))
}

/// What the primary budget says of a number of requests to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    Enough,
    /// Not now, but the budget resets within `rate-limit-wait`, this long from now.
    AfterReset(Duration),
    /// Not before a reset further away than `rate-limit-wait`; `usable` requests are left.
    Short {
        usable: u32,
    },
}

/// Which limit refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The hourly budget is spent: do not retry before `reset`.
    Primary { reset: Option<SystemTime> },
    /// Too many requests too fast: wait `retry_after`, or at least a minute without it.
    Secondary { retry_after: Option<Duration> },
}

/// Classify an answer. Only 403 and 429 can be rate limits:
/// - a message naming the secondary rate limit is secondary, whatever the headers say;
/// - `x-ratelimit-remaining: 0` is the primary limit;
/// - a `retry-after` header, or a bare 429, is a secondary limit;
/// - any other 403 is a permission problem, not a limit.
pub fn classify(
    status: u16,
    rate: Option<&RateLimit>,
    retry_after: Option<Duration>,
    message: &str,
) -> Option<Refusal> {
    if status != 403 && status != 429 {
        return None;
    }
    if message
        .to_ascii_lowercase()
        .contains("secondary rate limit")
    {
        return Some(Refusal::Secondary { retry_after });
    }
    if let Some(rate) = rate.filter(|rate| rate.remaining == 0) {
        return Some(Refusal::Primary {
            reset: Some(rate.reset),
        });
    }
    if retry_after.is_some() || status == 429 {
        return Some(Refusal::Secondary { retry_after });
    }
    if message
        .to_ascii_lowercase()
        .contains("api rate limit exceeded")
    {
        return Some(Refusal::Primary { reset: None });
    }
    None
}

#[cfg(test)]
mod tests;
