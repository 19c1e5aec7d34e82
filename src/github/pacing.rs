//! The pacer that spaces the REST client's requests by the [`Pacing`] figures
//! (GitHub's "Rate limits for the REST API",
//! https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api;
//! `docs/github-behaviour.md`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::transport::pacing::Pacing;

/// Spends the minute's points as a budget (a token bucket over the rolling minute), keeps
/// mutations apart and one at a time, holds everything during a secondary-limit pause, and
/// bounds concurrency.
///
/// Reads go as soon as a concurrency slot is free while the last 60 s have spent fewer than
/// `points_per_minute` points; then the next start waits until the oldest spend leaves the
/// window. Starts are booked in order, so the window's spend is a ring of (start, points)
/// sorted by start: no 60-s window ever holds more than `points_per_minute` points.
#[derive(Debug)]
pub struct Pacer {
    pacing: Pacing,
    slots: Semaphore,
    /// The one slot mutations share: GitHub asks for serial mutations.
    mutation_slot: Semaphore,
    schedule: Mutex<Schedule>,
}

/// A request's place in flight: released when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    _slot: Option<SemaphorePermit<'a>>,
    _serial: Option<SemaphorePermit<'a>>,
}

/// The rolling window GitHub's points limit is counted over.
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Schedule {
    /// Booked starts of the last minute with their points, oldest first. At most one entry
    /// per request booked within a minute, so bounded by `points_per_minute`.
    spent: VecDeque<(Instant, u32)>,
    /// The sum of the points in `spent`.
    total: u32,
    /// The latest start booked so far: starts are booked in order.
    last_start: Instant,
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
            mutation_slot: Semaphore::new(1),
            pacing,
            schedule: Mutex::new(Schedule {
                spent: VecDeque::new(),
                total: 0,
                last_start: now,
                next_mutation: now,
                paused_until: now,
            }),
        }
    }

    pub fn pacing(&self) -> &Pacing {
        &self.pacing
    }

    /// Waits for a concurrency slot (and, for a mutation, the mutation slot) and for this
    /// request's turn; hold the permit until the answer is read.
    /// A pause that begins while a request waits for its turn holds that request too.
    pub async fn acquire(&self, mutation: bool) -> Permit<'_> {
        let serial = match mutation {
            true => self.mutation_slot.acquire().await.ok(),
            false => None,
        };
        let slot = self.slots.acquire().await.ok();
        loop {
            let start = self.reserve(mutation, Instant::now());
            tokio::time::sleep_until(start).await;
            if self.lock().paused_until <= Instant::now() {
                return Permit {
                    _slot: slot,
                    _serial: serial,
                };
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        super::lock(&self.schedule)
    }

    /// Books the next start for a request asked for at `now`: the earliest moment, not
    /// before the last booked start, a pause's end or (for a mutation) the mutation
    /// interval, at which the 60 s before it have room for this request's points.
    fn reserve(&self, mutation: bool, now: Instant) -> Instant {
        let cost = self.pacing.cost(mutation);
        let budget = self.pacing.points_per_minute.max(1);
        let mut schedule = self.lock();
        let mut start = now.max(schedule.last_start).max(schedule.paused_until);
        if mutation {
            start = start.max(schedule.next_mutation);
        }
        loop {
            while let Some(&(at, points)) = schedule.spent.front() {
                if at + WINDOW > start {
                    break;
                }
                schedule.spent.pop_front();
                schedule.total -= points;
            }
            // A request dearer than the whole budget goes alone, into an empty window.
            if schedule.total.saturating_add(cost) <= budget || schedule.spent.is_empty() {
                break;
            }
            if let Some(&(oldest, _)) = schedule.spent.front() {
                start = start.max(oldest + WINDOW);
            }
        }
        schedule.spent.push_back((start, cost));
        schedule.total += cost;
        schedule.last_start = start;
        if mutation {
            schedule.next_mutation = start + self.pacing.mutation_interval;
        }
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

    fn pacer(points_per_minute: u32, mutation_interval: Duration) -> Pacer {
        Pacer::new(Pacing {
            points_per_minute,
            mutation_interval,
            ..Pacing::default()
        })
    }

    /// The most points any 60-s window of the booked starts holds.
    fn busiest_minute(booked: &[(Instant, u32)]) -> u32 {
        booked
            .iter()
            .map(|&(from, _)| {
                booked
                    .iter()
                    .filter(|&&(at, _)| at >= from && at < from + WINDOW)
                    .map(|&(_, points)| points)
                    .sum()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn reads_go_at_once_while_the_minutes_points_last_then_wait_for_the_oldest_to_leave() {
        let pacer = pacer(10, Duration::from_secs(1));
        let now = Instant::now();
        let starts: Vec<Instant> = (0..12).map(|_| pacer.reserve(false, now)).collect();
        assert!(
            starts[..10].iter().all(|&start| start == now),
            "a burst of 10"
        );
        assert_eq!(
            starts[10],
            now + WINDOW,
            "the 11th waits for the first to leave"
        );
        assert_eq!(
            starts[11],
            now + WINDOW,
            "so does the 12th: the second left too"
        );
    }

    #[test]
    fn points_freed_by_time_are_spent_again_without_waiting() {
        let pacer = pacer(3, Duration::ZERO);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(pacer.reserve(false, now), now);
        }
        let later = now + Duration::from_secs(61);
        assert_eq!(pacer.reserve(false, later), later);
    }

    #[test]
    fn mutations_keep_their_interval_and_spend_five_points() {
        let cases = [
            // (points a minute, mutation interval, expected gaps between 4 mutations in s)
            (800, Duration::from_secs(1), [1, 1, 1]),
            (800, Duration::ZERO, [0, 0, 0]),
            (10, Duration::ZERO, [0, 60, 0]),
            (10, Duration::from_secs(2), [2, 58, 2]),
        ];
        for (points_per_minute, interval, gaps) in cases {
            let pacer = pacer(points_per_minute, interval);
            let now = Instant::now();
            let starts: Vec<Instant> = (0..4).map(|_| pacer.reserve(true, now)).collect();
            let seconds: Vec<u64> = starts
                .windows(2)
                .map(|pair| (pair[1] - pair[0]).as_secs())
                .collect();
            assert_eq!(
                seconds, gaps,
                "{points_per_minute}/min, interval {interval:?}"
            );
        }
    }

    #[test]
    fn no_sixty_second_window_holds_more_than_the_points_a_minute() {
        let cases = [
            (800, Duration::from_secs(1)),
            (50, Duration::ZERO),
            (7, Duration::ZERO),
        ];
        for (points_per_minute, interval) in cases {
            let pacer = pacer(points_per_minute, interval);
            let origin = Instant::now();
            let mut booked = Vec::new();
            // Reads and mutations mixed, asked for at uneven moments.
            for step in 0u64..2_000 {
                let mutation = step % 7 == 3;
                let asked = origin + Duration::from_millis(step * step % 9_000 + step * 20);
                let start = pacer.reserve(mutation, asked);
                assert!(start >= asked);
                booked.push((start, pacer.pacing.cost(mutation)));
            }
            let busiest = busiest_minute(&booked);
            assert!(
                busiest <= points_per_minute,
                "{busiest} > {points_per_minute}"
            );
        }
    }

    #[test]
    fn a_pause_holds_requests_until_it_ends() {
        let pacer = pacer(800, Duration::ZERO);
        let now = Instant::now();
        pacer.pause(Duration::from_secs(30));
        assert!(pacer.reserve(false, now) >= now + Duration::from_secs(30));
    }

    #[test]
    fn a_request_dearer_than_the_whole_budget_still_goes_into_an_empty_window() {
        let pacer = pacer(3, Duration::ZERO);
        let now = Instant::now();
        assert_eq!(pacer.reserve(true, now), now);
        assert_eq!(pacer.reserve(true, now), now + WINDOW);
    }

    #[tokio::test(start_paused = true)]
    async fn reads_run_up_to_the_concurrency_cap_and_stop_when_the_points_are_spent() {
        let pacer = Pacer::new(Pacing {
            points_per_minute: 8,
            max_concurrency: 4,
            ..Pacing::default()
        });
        let origin = Instant::now();
        let request = || async {
            let permit = pacer.acquire(false).await;
            let started = Instant::now() - origin;
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(permit);
            started
        };
        let starts = futures_util::future::join_all((0..10).map(|_| request())).await;
        let millis: Vec<u128> = starts.iter().map(Duration::as_millis).collect();
        assert_eq!(
            millis,
            [0, 0, 0, 0, 50, 50, 50, 50, 60_000, 60_000],
            "four at once, the next four as slots free, then the minute"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn mutations_go_one_at_a_time_while_reads_share_the_free_slots() {
        let pacer = Pacer::new(Pacing {
            mutation_interval: Duration::ZERO,
            max_concurrency: 4,
            ..Pacing::default()
        });
        let origin = Instant::now();
        let request = |mutation: bool| {
            let pacer = &pacer;
            async move {
                let permit = pacer.acquire(mutation).await;
                let started = Instant::now() - origin;
                tokio::time::sleep(Duration::from_millis(50)).await;
                drop(permit);
                started.as_millis()
            }
        };
        let (mutations, reads) = futures_util::future::join(
            futures_util::future::join_all((0..3).map(|_| request(true))),
            futures_util::future::join_all((0..3).map(|_| request(false))),
        )
        .await;
        assert_eq!(mutations, [0, 50, 100], "one mutation in flight at a time");
        assert_eq!(reads, [0, 0, 0], "reads take the other slots at once");
    }
}
