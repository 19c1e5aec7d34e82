//! Tests of what the client does after each kind of failed try.

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

#[test]
fn a_refused_certificate_is_never_retried() {
    let mut refused = error(None);
    refused.kind = ApiErrorKind::Certificate;
    for tries in [1, 2] {
        let step = next(&Pacing::default(), &refused, None, tries, SystemTime::now());
        assert_eq!(step, Next::Stop(None), "after try {tries}");
    }
}
