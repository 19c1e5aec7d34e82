//! Rate limits, faults and counters, seen over HTTP.

use std::time::Duration;

use super::*;
use crate::{Faults, Limits, PackageSeed, PrimaryLimit, SecondaryLimit, VersionSeed, days};

const VERSIONS: &str = "/orgs/acme/packages/container/app/versions";

fn with_limits(limits: Limits, faults: Faults) -> FakeGitHub {
    let versions = (1..=20)
        .map(|id| VersionSeed::new(id, days(id)).tags(&[&format!("v{id}")]))
        .collect();
    start(
        world()
            .package(PackageSeed::new("acme", "container", "app").versions(versions))
            .limits(limits)
            .faults(faults),
    )
}

#[test]
fn every_answer_carries_the_primary_budget_of_its_token() {
    let fake = with_limits(Limits::default(), Faults::default());

    let first = get(&fake, VERSIONS, ALICE);
    let second = get(&fake, VERSIONS, ALICE);
    let other = get(&fake, "/orgs/acme/packages/container/nope/versions", BOB);

    assert_eq!(first.header("x-ratelimit-limit"), Some("5000"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("4999"));
    assert_eq!(second.header("x-ratelimit-remaining"), Some("4998"));
    assert_eq!(second.header("x-ratelimit-used"), Some("2"));
    assert_eq!(second.header("x-ratelimit-resource"), Some("core"));
    assert!(second.header("x-ratelimit-reset").is_some());
    assert_eq!(other.status, 404);
    assert_eq!(other.header("x-ratelimit-remaining"), Some("4999"));
}

#[test]
fn a_spent_budget_answers_403_with_remaining_zero_until_reset() {
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 2, Duration::from_secs(3600)),
        secondary: None,
    };
    let fake = with_limits(limits, Faults::default());

    let answers: Vec<Reply> = (0..3).map(|_| get(&fake, VERSIONS, ALICE)).collect();

    assert_eq!(answers[0].status, 200);
    assert_eq!(answers[1].header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(answers[1].status, 200);
    assert_eq!(answers[2].status, 403);
    assert!(answers[2].message().starts_with("API rate limit exceeded"));
    assert_eq!(answers[2].header("x-ratelimit-remaining"), Some("0"));
    fake.reset_budgets();
    assert_eq!(get(&fake, VERSIONS, ALICE).status, 200);
    assert_eq!(fake.counters().primary_answers, 1);
}

#[test]
fn points_past_the_window_budget_answer_403_with_retry_after() {
    let limits = Limits {
        secondary: Some(SecondaryLimit {
            points: 10,
            window: Duration::from_secs(60),
            ..SecondaryLimit::default()
        }),
        ..Limits::default()
    };
    let fake = with_limits(limits, Faults::default());

    let first = call(&fake, "DELETE", &format!("{VERSIONS}/1"), ALICE);
    let second = call(&fake, "DELETE", &format!("{VERSIONS}/2"), ALICE);
    let third = call(&fake, "DELETE", &format!("{VERSIONS}/3"), ALICE);
    let listing = get(&fake, VERSIONS, ALICE);

    assert_eq!((first.status, second.status), (204, 204));
    assert_error(
        &third,
        403,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    );
    let retry_after: u64 = third
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a retry-after");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(listing.status, 200, "another endpoint has its own points");
    let counters = fake.counters();
    assert_eq!(counters.secondary_answers, 1);
    assert_eq!(counters.count("DELETE", 204), 2);
    assert_eq!(counters.count("DELETE", 403), 1);
    assert_eq!(counters.method_total("GET"), 1);
    assert_eq!(fake.active_ids("acme", "container", "app").len(), 18);
}

#[test]
fn a_repeated_request_after_retry_after_records_the_gap() {
    let limits = Limits {
        secondary: Some(SecondaryLimit {
            points: 5,
            window: Duration::from_secs(1),
            retry_after: Some(Duration::from_secs(1)),
            ..SecondaryLimit::default()
        }),
        ..Limits::default()
    };
    let fake = with_limits(limits, Faults::default());

    call(&fake, "DELETE", &format!("{VERSIONS}/1"), ALICE);
    let refused = call(&fake, "DELETE", &format!("{VERSIONS}/2"), ALICE);
    std::thread::sleep(Duration::from_millis(1100));
    let retried = call(&fake, "DELETE", &format!("{VERSIONS}/2"), ALICE);

    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(retried.status, 204);
    let gaps = fake.counters().retry_gaps;
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].retry_after_ms, 1000);
    assert!(gaps[0].gap_ms >= 1000, "{gaps:?}");
}

#[test]
fn injected_faults_follow_the_seed_and_may_land_after_the_change() {
    let run = || {
        let fake = with_limits(
            Limits::default(),
            Faults {
                error_rate: 0.5,
                seed: 42,
                ..Faults::default()
            },
        );
        let statuses: Vec<u16> = (1..=19)
            .map(|id| call(&fake, "DELETE", &format!("{VERSIONS}/{id}"), ALICE).status)
            .collect();
        let active = fake.active_ids("acme", "container", "app");
        (statuses, active, fake.counters())
    };

    let (statuses, active, counters) = run();
    let (again, _, _) = run();

    assert_eq!(statuses, again, "the same seed fails the same requests");
    let failed = statuses.iter().filter(|status| **status == 502).count();
    assert!((3..=16).contains(&failed), "{statuses:?}");
    assert_eq!(counters.injected_faults, failed as u64);
    assert_eq!(counters.count("DELETE", 502), failed as u64);
    let succeeded = statuses.iter().filter(|status| **status == 204).count();
    assert!(
        20 - active.len() > succeeded,
        "some 502s came after the delete was done: {statuses:?}, {active:?}"
    );
}

#[test]
fn a_slow_answer_comes_late_after_the_change_is_made() {
    let slow = format!("DELETE {VERSIONS}/1");
    let faults = Faults {
        slow_answers: [(slow, Duration::from_secs(2))].into(),
        ..Faults::default()
    };
    let fake = with_limits(Limits::default(), faults);
    std::thread::scope(|scope| {
        let sent = std::time::Instant::now();
        let answer = scope.spawn(|| call(&fake, "DELETE", &format!("{VERSIONS}/1"), ALICE));
        while !fake.deleted_ids("acme", "container", "app").contains(&1) {
            assert!(sent.elapsed() < Duration::from_secs(10), "never deleted");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!answer.is_finished(), "deleted before the answer came");
        let answer = answer.join().expect("the request thread");
        assert_eq!(answer.status, 204);
        assert!(sent.elapsed() >= Duration::from_secs(2));
    });
    let other = std::time::Instant::now();
    assert_eq!(
        call(&fake, "DELETE", &format!("{VERSIONS}/2"), ALICE).status,
        204
    );
    assert!(
        other.elapsed() < Duration::from_secs(2),
        "only the named route is slow"
    );
}
