//! How fast the client may go: every pacing figure in one struct, and the pacer that spaces
//! requests by it (github-facts.md, "Rate limits").

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

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
    /// Requests in flight at once, for listing pages. Default 4, far under GitHub's 100.
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
            max_concurrency: 4,
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
    /// The time a request's points take out of the per-minute budget.
    fn points_time(&self, mutation: bool) -> Duration {
        let cost = if mutation {
            self.mutation_cost
        } else {
            self.get_cost
        };
        Duration::from_secs(60) * cost / self.points_per_minute.max(1)
    }

    /// The least time between the starts of two requests of the same kind.
    pub fn spacing(&self, mutation: bool) -> Duration {
        if mutation {
            self.points_time(true).max(self.mutation_interval)
        } else {
            self.points_time(false)
        }
    }

    /// Backoff before try `tries + 1` after `tries` failed ones: `base`, then doubling,
    /// capped at 32 times `base`.
    pub fn backoff(base: Duration, tries: u32) -> Duration {
        base * 2u32.pow(tries.saturating_sub(1).min(5))
    }
}

/// Spaces request starts by their points, keeps mutations apart, holds everything during a
/// secondary-limit pause, and bounds concurrency.
#[derive(Debug)]
pub struct Pacer {
    pacing: Pacing,
    slots: Semaphore,
    schedule: Mutex<Schedule>,
}

#[derive(Debug)]
struct Schedule {
    /// When the next request may start, as far as the points budget goes.
    next_start: Instant,
    /// When the next mutation may start.
    next_mutation: Instant,
    /// No request starts before this: a secondary-limit pause.
    paused_until: Instant,
}

impl Pacer {
    pub fn new(pacing: Pacing) -> Pacer {
        let now = Instant::now();
        Pacer {
            slots: Semaphore::new(pacing.max_concurrency.max(1)),
            pacing,
            schedule: Mutex::new(Schedule {
                next_start: now,
                next_mutation: now,
                paused_until: now,
            }),
        }
    }

    pub fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// Waits for a concurrency slot and for this request's turn; hold the permit until the
    /// answer is read.
    /// A pause that begins while a request waits for its turn holds that request too.
    pub async fn acquire(&self, mutation: bool) -> Option<SemaphorePermit<'_>> {
        let permit = self.slots.acquire().await.ok();
        loop {
            let start = self.reserve(mutation, Instant::now());
            tokio::time::sleep_until(start).await;
            if self.lock().paused_until <= Instant::now() {
                return permit;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        super::lock(&self.schedule)
    }

    /// Books the next start for a request asked for at `now`.
    fn reserve(&self, mutation: bool, now: Instant) -> Instant {
        let mut schedule = self.lock();
        let mut start = schedule.next_start.max(now).max(schedule.paused_until);
        if mutation {
            start = start.max(schedule.next_mutation);
            schedule.next_mutation = start + self.pacing.spacing(true);
        }
        schedule.next_start = start + self.pacing.points_time(mutation);
        start
    }

    /// Holds every request that has not started until `wait` from now has passed.
    pub fn pause(&self, wait: Duration) {
        // Waits are bounded before they get here; a year stands in for one that is not.
        let now = Instant::now();
        let until = now
            .checked_add(wait)
            .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
            .unwrap_or(now);
        let mut schedule = self.lock();
        schedule.paused_until = schedule.paused_until.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_spacing_stays_inside_githubs_documented_budget() {
        let pacing = Pacing::default();
        let per_minute = |spacing: Duration| 60.0 / spacing.as_secs_f64();
        let gets_per_minute = per_minute(pacing.spacing(false));
        let mutations_per_minute = per_minute(pacing.spacing(true));
        assert!(
            gets_per_minute * 1.0 <= 900.0 * 0.9 + 0.01,
            "{gets_per_minute}"
        );
        assert!(
            mutations_per_minute * 5.0 <= 900.0,
            "{mutations_per_minute}"
        );
        assert_eq!(
            pacing.spacing(true),
            Duration::from_secs(1),
            "one second apart"
        );
        assert!(pacing.max_concurrency < 100);
    }

    #[test]
    fn spacing_follows_points_unless_the_mutation_interval_is_longer() {
        let cases = [
            (900, Duration::ZERO, false, Duration::from_millis(66)),
            (900, Duration::ZERO, true, Duration::from_millis(333)),
            (60, Duration::ZERO, true, Duration::from_secs(5)),
            (900, Duration::from_secs(2), true, Duration::from_secs(2)),
            (
                900,
                Duration::from_secs(2),
                false,
                Duration::from_millis(66),
            ),
        ];
        for (points_per_minute, mutation_interval, mutation, expected) in cases {
            let pacing = Pacing {
                points_per_minute,
                mutation_interval,
                ..Pacing::default()
            };
            let spacing = pacing.spacing(mutation);
            assert_eq!(
                spacing.as_millis(),
                expected.as_millis(),
                "{points_per_minute}/min, interval {mutation_interval:?}, mutation {mutation}"
            );
        }
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
    fn the_pacer_books_starts_one_spacing_apart_and_honours_pauses() {
        let pacer = Pacer::new(Pacing {
            points_per_minute: 600,
            mutation_interval: Duration::from_secs(1),
            ..Pacing::default()
        });
        let now = Instant::now();
        let get = Duration::from_millis(100);
        let first = pacer.reserve(false, now);
        let second = pacer.reserve(false, now);
        let mutation = pacer.reserve(true, now);
        let next_mutation = pacer.reserve(true, now);
        assert_eq!(first, now);
        assert_eq!(second - first, get);
        assert_eq!(mutation - second, get);
        assert_eq!(next_mutation - mutation, Duration::from_secs(1));
        let get_after = pacer.reserve(false, now);
        assert_eq!(
            get_after - next_mutation,
            Duration::from_millis(500),
            "5 points"
        );
        pacer.pause(Duration::from_secs(30));
        assert!(pacer.reserve(false, now) >= now + Duration::from_secs(30));
    }
}
