//! How fast the clients may go: every pacing figure in one struct, the backoff between tries,
//! and the wait a server asks for in `retry-after` (GitHub's "Rate limits for the REST API"
//! and "Best practices for using the REST API", under
//! https://docs.github.com/en/rest/using-the-rest-api/; `docs/github-behaviour.md`).

use std::time::Duration;

/// Every figure that decides the request rate, retries and waits.
///
/// Defaults follow GitHub's documentation: secondary limits allow 900 points a minute per
/// endpoint (GET 1, DELETE/POST 5) and 100 concurrent requests; GitHub asks for serial
/// requests, at least one second between mutations, and on a secondary-limit answer without
/// `retry-after` a wait of at least a minute with exponential backoff and a bounded number
/// of tries. The client spends the points of all endpoints from one budget, so it stays
/// inside the per-endpoint limit whichever endpoints it calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    /// Points spent per minute, over all requests (input `points-per-minute`). Default 800,
    /// a 10% margin under GitHub's 900.
    pub points_per_minute: u32,
    /// Points a GET costs (GitHub: 1).
    pub get_cost: u32,
    /// Points a DELETE or POST costs (GitHub: 5).
    pub mutation_cost: u32,
    /// Least time between the starts of two mutations (input `mutation-interval`). Default
    /// 1 s, GitHub's advice; then mutations spend 300 of the points a minute.
    pub mutation_interval: Duration,
    /// Requests in flight at once, for listing pages. Default 10, far under GitHub's 100:
    /// 200 pages then take 20 rounds of latency instead of 50, while the minute's points
    /// still bound the rate. Mutations go one at a time whatever this says.
    pub max_concurrency: usize,
    /// Tries per request before giving up on 5xx, connection errors, timeouts and
    /// secondary-limit answers. Default 5.
    pub max_tries: u32,
    /// First backoff after a 5xx, connection error or timeout; doubles per try.
    /// Default 1 s (environment variable `PACKAGE_JANITOR_RETRY_BASE` for tests).
    pub retry_base: Duration,
    /// Least wait after a secondary-limit answer without `retry-after`; doubles per try.
    /// Default 60 s, GitHub's "at least one minute" (also `PACKAGE_JANITOR_RETRY_BASE`).
    pub secondary_wait: Duration,
    /// Longest wait for the primary budget to reset before stopping cleanly instead
    /// (input `rate-limit-wait`). Default 5 min.
    pub rate_limit_wait: Duration,
    /// Primary requests left unspent, for the workflow's other steps. Default 5.
    pub budget_reserve: u32,
    /// Longest time one try may take, from sending to the last byte of the answer; past it
    /// the try is retried like a timeout. Default 60 s (environment variable
    /// `PACKAGE_JANITOR_REQUEST_DEADLINE` for tests).
    pub request_deadline: Duration,
    /// Largest answer body read, in bytes: API pages are far smaller. Default 8 MiB.
    pub max_body: usize,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            points_per_minute: 800,
            get_cost: 1,
            mutation_cost: 5,
            mutation_interval: Duration::from_secs(1),
            max_concurrency: 10,
            max_tries: 5,
            retry_base: Duration::from_secs(1),
            secondary_wait: Duration::from_secs(60),
            rate_limit_wait: Duration::from_secs(5 * 60),
            budget_reserve: 5,
            request_deadline: Duration::from_secs(60),
            max_body: 8 << 20,
        }
    }
}

impl Pacing {
    /// The points a request costs.
    pub fn cost(&self, mutation: bool) -> u32 {
        if mutation {
            self.mutation_cost
        } else {
            self.get_cost
        }
    }

    /// Backoff before try `tries + 1` after `tries` failed ones: `base`, then doubling,
    /// capped at 32 times `base`.
    pub fn backoff(base: Duration, tries: u32) -> Duration {
        base * 2u32.pow(tries.saturating_sub(1).min(5))
    }
}

/// `retry-after` in its delay-seconds form. The HTTP-date form is not used by GitHub and is
/// read as absent, which falls back to the documented "wait at least a minute".
pub fn retry_after<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<Duration> {
    header("retry-after")
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pacing_stays_inside_githubs_documented_limits() {
        let pacing = Pacing::default();
        assert!(pacing.points_per_minute <= 900 * 9 / 10);
        assert_eq!(pacing.mutation_interval, Duration::from_secs(1));
        assert!(pacing.max_concurrency < 100);
        assert_eq!((pacing.get_cost, pacing.mutation_cost), (1, 5));
    }

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let base = Duration::from_secs(1);
        let cases = [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (6, 32), (60, 32)];
        for (tries, seconds) in cases {
            assert_eq!(
                Pacing::backoff(base, tries),
                Duration::from_secs(seconds),
                "{tries}"
            );
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        let cases = [
            ("7", Some(Duration::from_secs(7))),
            (" 60 ", Some(Duration::from_secs(60))),
            ("Wed, 21 Oct 2026 07:28:00 GMT", None),
            ("-1", None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                retry_after(|key| (key == "retry-after").then_some(value)),
                expected,
                "{value}"
            );
        }
    }
}
