//! Rate limits and faults: the run ends with exactly the planned changes, stops cleanly when
//! the budget runs out (oldest first) and honours `retry-after`. Assertions are on final
//! state, outputs and the fake's counters, never on how fast anything went.

use std::time::Duration;

use fake_github::{
    FakeGitHub, Faults, Limits, PackageSeed, PrimaryLimit, SecondaryLimit, VersionSeed,
};

use crate::harness::*;

/// `old` versions tagged `old-N` (ids 1.., oldest first) and `kept` newer ones tagged
/// `keep-N`, in one container package `acme/app`.
fn package(old: u64, kept: u64) -> PackageSeed {
    let versions: Vec<VersionSeed> = (1..=old + kept)
        .map(|id| {
            let tag = if id <= old {
                format!("old-{id}")
            } else {
                format!("keep-{id}")
            };
            image(id, 1_000 - id, &[&tag])
        })
        .collect();
    container("acme", "app", versions)
}

fn start(package: PackageSeed, limits: Limits, faults: Faults) -> FakeGitHub {
    FakeGitHub::start(accounts().package(package).limits(limits).faults(faults))
        .expect("fake starts")
}

#[test]
fn injected_502s_and_secondary_limits_end_with_exactly_the_planned_versions_deleted() {
    let limits = Limits {
        secondary: Some(SecondaryLimit {
            // Two pages in flight at once break this; so does a fifth delete in a second.
            max_concurrent: 1,
            points: 20,
            window: Duration::from_secs(1),
            retry_after: Some(Duration::from_secs(1)),
        }),
        ..Limits::default()
    };
    let faults = Faults {
        latency: Duration::from_millis(5),
        error_rate: 0.1,
        seed: 7,
        ..Faults::default()
    };
    let fake = start(package(30, 220), limits, faults);

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old-")
        .run();

    run.assert_success();
    assert_eq!(run.ids(), range(1, 30), "{}", run.log);
    assert_eq!(run.outputs["count"], "30");
    assert_eq!(run.outputs["failed-ids"], "");
    assert_eq!(run.outputs["left-count"], "0");
    assert_eq!(fake.deleted_ids("acme", "container", "app"), range(1, 30));
    assert_eq!(fake.active_ids("acme", "container", "app"), range(31, 250));
    let counters = fake.counters();
    assert!(counters.injected_faults > 0, "{counters:?}");
    assert!(counters.count("DELETE", 502) + counters.count("GET", 502) > 0);
    assert!(counters.secondary_answers > 0, "{counters:?}");
    assert_eq!(counters.primary_answers, 0);
    assert!(
        counters.peak_concurrency <= 10,
        "at most 10 requests in flight: {counters:?}"
    );
    assert!(run.summary.contains("30 deleted"), "{}", run.summary);
}

#[test]
fn retry_after_is_honoured_before_the_same_request_is_sent_again() {
    let limits = Limits {
        secondary: Some(SecondaryLimit {
            points: 10,
            window: Duration::from_secs(1),
            retry_after: Some(Duration::from_secs(1)),
            ..SecondaryLimit::default()
        }),
        ..Limits::default()
    };
    let fake = start(package(6, 2), limits, Faults::default());

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old-")
        .run();

    run.assert_success();
    assert_eq!(fake.deleted_ids("acme", "container", "app"), range(1, 6));
    let counters = fake.counters();
    assert!(counters.secondary_answers >= 2, "{counters:?}");
    assert_eq!(
        counters.retry_gaps.len() as u64,
        counters.secondary_answers,
        "every refused request was sent again"
    );
    for gap in &counters.retry_gaps {
        assert!(gap.gap_ms >= gap.retry_after_ms, "{gap:?}");
    }
    assert!(run.log.contains("secondary-limit answers"), "{}", run.log);
}

#[test]
fn a_spent_budget_stops_the_run_cleanly_oldest_first_and_the_next_run_finishes_it() {
    // 15 requests: the owner lookup and one page leave 13, and 5 stay in reserve.
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 15, Duration::from_secs(3_600)),
        secondary: None,
    };
    let fake = start(package(20, 5), limits, Faults::default());
    let cleanup = || {
        janitor(&fake, ALICE)
            .input("packages", "app")
            .input("tag-regex", "^old-")
            .input("rate-limit-wait", "0s")
            .run()
    };

    let first = cleanup();

    first.assert_success();
    assert_eq!(first.ids(), range(1, 8), "the oldest go first");
    assert_eq!(first.outputs["left-count"], "12");
    assert_eq!(first.outputs["failed-ids"], "");
    assert_eq!(fake.deleted_ids("acme", "container", "app"), range(1, 8));
    assert!(
        first
            .outcome_of(9)
            .starts_with("left for the next run: GitHub's primary rate limit is spent"),
        "{}",
        first.outcome_of(9)
    );
    assert!(first.outcome_of(20).contains("resets at"));
    assert!(
        first.log.contains(
            "::warning::this run stopped early on GitHub's rate limits: 12 selected versions"
        ),
        "{}",
        first.log
    );
    assert!(first.summary.contains("12 left for the next run"));
    assert_eq!(
        fake.counters().primary_answers,
        0,
        "it stopped before a 403"
    );

    fake.reset_budgets();
    let second = cleanup();

    second.assert_success();
    assert_eq!(second.ids(), range(9, 20));
    assert_eq!(second.outputs["left-count"], "0");
    assert_eq!(fake.deleted_ids("acme", "container", "app"), range(1, 20));
    assert_eq!(fake.active_ids("acme", "container", "app"), range(21, 25));
}

#[test]
fn a_spent_budget_resetting_within_rate_limit_wait_is_waited_out() {
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 0, Duration::from_secs(2)),
        secondary: None,
    };
    let fake = start(package(3, 1), limits, Faults::default());

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old-")
        .input("rate-limit-wait", "30s")
        .run();

    run.assert_success();
    assert_eq!(run.ids(), range(1, 3));
    assert_eq!(fake.deleted_ids("acme", "container", "app"), range(1, 3));
    assert_eq!(fake.counters().primary_answers, 1);
    assert!(
        run.log.contains("1 waits for the primary reset"),
        "{}",
        run.log
    );
}

#[test]
fn a_spent_budget_resetting_after_rate_limit_wait_stops_before_listing_and_exits_0() {
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 0, Duration::from_secs(3_600)),
        secondary: None,
    };
    let fake = start(package(3, 1), limits, Faults::default());

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("rate-limit-wait", "1m")
        .run();

    run.assert_success();
    assert_eq!(run.outputs["count"], "0");
    assert_eq!(
        fake.deleted_ids("acme", "container", "app"),
        Vec::<u64>::new()
    );
    assert_eq!(
        fake.counters().primary_answers,
        1,
        "no retry before the reset"
    );
    assert!(
        run.log
            .contains("::warning::stopped before listing: GitHub's primary rate limit is spent"),
        "{}",
        run.log
    );
    assert!(run.log.contains("resets at"), "{}", run.log);
    assert!(
        run.summary.contains("Stopped before listing"),
        "{}",
        run.summary
    );
}

#[test]
fn endless_secondary_limit_answers_fail_the_version_after_bounded_tries_and_leave_the_rest() {
    // A delete costs 5 points and the window holds 4: every delete is refused.
    let limits = Limits {
        secondary: Some(SecondaryLimit {
            points: 4,
            window: Duration::from_secs(60),
            retry_after: Some(Duration::from_secs(1)),
            ..SecondaryLimit::default()
        }),
        ..Limits::default()
    };
    let fake = start(package(2, 1), limits, Faults::default());

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old-")
        .run();

    run.assert_failure();
    assert_eq!(run.failed_ids(), vec![1]);
    assert_eq!(run.outputs["count"], "0");
    assert_eq!(run.outputs["left-count"], "1", "the next is not tried");
    let outcome = run.outcome_of(1);
    assert!(
        outcome.contains("secondary rate limit") && outcome.contains("gave up after 5 tries"),
        "{outcome}"
    );
    assert!(
        run.outcome_of(2)
            .starts_with("left for the next run: not tried: GitHub answered an earlier request"),
        "{}",
        run.outcome_of(2)
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);
    assert_eq!(fake.counters().count("DELETE", 403), 5);
}

#[test]
fn a_server_that_only_answers_502_ends_the_run_after_bounded_tries() {
    let faults = Faults {
        error_rate: 1.0,
        ..Faults::default()
    };
    let fake = start(package(1, 1), Limits::default(), faults);

    let run = janitor(&fake, ALICE).input("packages", "app").run();

    run.assert_failure();
    assert!(run.log.contains("answered 502"), "{}", run.log);
    assert!(run.log.contains("gave up after 5 tries"), "{}", run.log);
    assert_eq!(fake.counters().count("GET", 502), 5);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2]);
}

#[test]
fn a_listing_the_budget_cannot_finish_is_left_for_the_next_run_without_spending_it() {
    // Three pages; after the owner lookup and the first page 6 requests are left, 5 of them
    // in reserve: not enough for the other two pages.
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 8, Duration::from_secs(3_600)),
        secondary: None,
    };
    let fake = start(package(10, 240), limits, Faults::default());

    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old-")
        .input("rate-limit-wait", "0s")
        .run();

    run.assert_success();
    assert_eq!(run.outputs["count"], "0");
    assert_eq!(
        fake.counters().method_total("GET"),
        2,
        "no page beyond the first"
    );
    assert_eq!(
        fake.deleted_ids("acme", "container", "app"),
        Vec::<u64>::new()
    );
    assert!(
        run.log.contains("::warning::package `app` not listed: GitHub's primary rate limit is spent (listing needs 2 more requests"),
        "{}",
        run.log
    );
    assert!(
        run.summary.contains("**Left for the next run:**"),
        "{}",
        run.summary
    );
    assert!(
        run.log
            .contains("0 selected versions and 1 package are left for the next run")
    );
    // The first page says there are 3 pages of 100: at least 201 versions are left.
    assert_eq!(run.outputs["left-count"], "201", "{}", run.log);
    assert!(
        run.log
            .contains("and at least 201 versions not yet listed or decided"),
        "{}",
        run.log
    );
    // A whole budget of 1000 would list it: no advice to set state-file.
    assert!(!run.log.contains("state-file"), "{}", run.log);
}

#[test]
fn a_package_too_large_for_one_runs_budget_without_state_file_says_so_and_counts_what_is_left() {
    // 1,200 versions are 12 pages; the whole hourly budget is 10 requests, so no run can
    // list it whole: run after run would spend 2 requests and leave it.
    let versions: Vec<VersionSeed> = (1..=1_200)
        .map(|id| release(id, 2_000 - id, &format!("1.0.{id}")))
        .collect();
    let limits = Limits {
        primary: PrimaryLimit::new(10, 10, Duration::from_secs(3_600)),
        secondary: None,
    };
    let fake = start(
        PackageSeed::new("acme", "npm", "lib").versions(versions),
        limits,
        Faults::default(),
    );
    for attempt in 1..=2 {
        let before = fake.counters().method_total("GET");
        let run = janitor(&fake, ALICE)
            .input("packages", "lib")
            .input("package-type", "npm")
            .input("older-than", "30d")
            .input("rate-limit-wait", "0s")
            .run();
        run.assert_success();
        assert_eq!(
            fake.counters().method_total("GET") - before,
            2,
            "run {attempt}: the owner and the first page, nothing more"
        );
        assert_eq!(run.outputs["count"], "0");
        // 11 full pages and at least one version on the last.
        assert_eq!(
            run.outputs["left-count"], "1101",
            "run {attempt}: {}",
            run.log
        );
        let warning = run
            .log
            .lines()
            .find(|line| line.starts_with("::warning::package `lib` not listed: "))
            .unwrap_or_else(|| panic!("no warning in\n{}", run.log));
        for said in [
            "This package cannot be listed within one run's budget",
            "at least 1101 versions (12 pages of listing), more than the 10 requests",
            "Set `state-file`, with the cache restore step before this one and the cache save step after it",
        ] {
            assert!(
                warning.contains(said),
                "run {attempt}: {said} in\n{warning}"
            );
        }
        assert!(
            run.summary
                .contains("**Left for the next run:** GitHub's primary rate limit is spent"),
            "{}",
            run.summary
        );
        assert!(
            run.summary
                .contains("This package cannot be listed within one run's budget")
                && run
                    .summary
                    .contains("Set \\`state-file\\`, with the cache restore step"),
            "{}",
            run.summary
        );
        assert!(
            run.summary
                .contains("1101 versions and 1 package are left for the next run"),
            "{}",
            run.summary
        );
    }
    assert_eq!(fake.deleted_ids("acme", "npm", "lib"), Vec::<u64>::new());
}
