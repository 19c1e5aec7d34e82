//! Tests of reading GitHub's rate-limit headers and telling its refusals apart.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::transport::pacing::retry_after;

/// (case, headers, expected reading)
type HeaderCase = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Option<RateLimit>,
);
/// (case, status, rate headers, retry-after, message, expected refusal)
type RefusalCase = (
    &'static str,
    u16,
    Option<RateLimit>,
    Option<Duration>,
    &'static str,
    Option<Refusal>,
);

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn rate(remaining: u32) -> RateLimit {
    RateLimit {
        limit: 1000,
        remaining,
        used: 1000 - remaining,
        reset: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        resource: "core".into(),
    }
}

#[test]
fn rate_limit_headers_are_read_when_complete() {
    let reset = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let cases: Vec<HeaderCase> = vec![
        (
            "all five headers",
            vec![
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "4990"),
                ("x-ratelimit-used", "10"),
                ("x-ratelimit-reset", "1800000000"),
                ("x-ratelimit-resource", "core"),
            ],
            Some(RateLimit {
                limit: 5000,
                remaining: 4990,
                used: 10,
                reset,
                resource: "core".into(),
            }),
        ),
        (
            "used and resource missing are derived",
            vec![
                ("x-ratelimit-limit", "1000"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", " 1800000000 "),
            ],
            Some(RateLimit {
                limit: 1000,
                remaining: 0,
                used: 1000,
                reset,
                resource: "core".into(),
            }),
        ),
        (
            "numbers up to 2^64-1 are clamped, a reset past 9999 read as its end",
            vec![
                ("x-ratelimit-limit", "18446744073709551615"),
                ("x-ratelimit-remaining", "18446744073709551615"),
                ("x-ratelimit-used", "18446744073709551615"),
                ("x-ratelimit-reset", "18446744073709551615"),
            ],
            Some(RateLimit {
                limit: u32::MAX,
                remaining: u32::MAX,
                used: u32::MAX,
                reset: UNIX_EPOCH + Duration::from_secs(LAST_SECOND),
                resource: "core".into(),
            }),
        ),
        (
            "a negative reset is no reading",
            vec![
                ("x-ratelimit-limit", "1000"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "-1"),
            ],
            None,
        ),
        ("no headers", vec![], None),
        (
            "a garbled remaining",
            vec![
                ("x-ratelimit-limit", "1000"),
                ("x-ratelimit-remaining", "lots"),
                ("x-ratelimit-reset", "1800000000"),
            ],
            None,
        ),
    ];
    for (name, pairs, expected) in cases {
        let map = headers(&pairs);
        let parsed = RateLimit::from_headers(|key| map.get(key).map(String::as_str));
        assert_eq!(parsed, expected, "{name}");
    }
}

#[test]
fn refusals_are_told_apart_as_github_documents() {
    let secondary =
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    let primary = "API rate limit exceeded for installation ID 1234.";
    let wait = Some(Duration::from_secs(30));
    let reset = Some(rate(0).reset);
    let cases: Vec<RefusalCase> = vec![
        (
            "403 with remaining 0 is primary",
            403,
            Some(rate(0)),
            None,
            primary,
            Some(Refusal::Primary { reset }),
        ),
        (
            "429 with remaining 0 is primary",
            429,
            Some(rate(0)),
            None,
            primary,
            Some(Refusal::Primary { reset }),
        ),
        (
            "the primary message without headers is primary",
            403,
            None,
            None,
            primary,
            Some(Refusal::Primary { reset: None }),
        ),
        (
            "403 with retry-after is secondary",
            403,
            Some(rate(10)),
            wait,
            secondary,
            Some(Refusal::Secondary { retry_after: wait }),
        ),
        (
            "the secondary message wins over remaining 0",
            403,
            Some(rate(0)),
            None,
            secondary,
            Some(Refusal::Secondary { retry_after: None }),
        ),
        (
            "retry-after without a message is secondary",
            403,
            Some(rate(10)),
            wait,
            "",
            Some(Refusal::Secondary { retry_after: wait }),
        ),
        (
            "a bare 429 is secondary",
            429,
            Some(rate(10)),
            None,
            "",
            Some(Refusal::Secondary { retry_after: None }),
        ),
        (
            "a permission 403 is no limit",
            403,
            Some(rate(10)),
            None,
            "Resource not accessible by integration",
            None,
        ),
        (
            "404 is no limit even at remaining 0",
            404,
            Some(rate(0)),
            wait,
            secondary,
            None,
        ),
        ("a 502 is no limit", 502, None, wait, "", None),
    ];
    for (name, status, rate, retry, message, expected) in cases {
        assert_eq!(
            classify(status, rate.as_ref(), retry, message),
            expected,
            "{name}"
        );
    }
}

#[test]
fn the_budget_covers_requests_up_to_what_is_left_above_the_reserve() {
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let pacing = Pacing {
        budget_reserve: 5,
        rate_limit_wait: Duration::from_secs(60),
        ..Pacing::default()
    };
    let rate = |remaining: u32, reset: SystemTime| RateLimit {
        limit: 1000,
        remaining,
        used: 1000 - remaining,
        reset,
        resource: "core".into(),
    };
    let soon = now + Duration::from_secs(30);
    let later = now + Duration::from_secs(600);
    let cases = [
        ("within what is left", rate(105, later), 100, Cover::Enough),
        (
            "one past it",
            rate(105, later),
            101,
            Cover::Short { usable: 100 },
        ),
        (
            "a reset already past",
            rate(0, now - Duration::from_secs(1)),
            50,
            Cover::Enough,
        ),
        (
            "a reset within the wait",
            rate(10, soon),
            50,
            Cover::AfterReset(Duration::from_secs(30)),
        ),
        (
            "the reserve is never spent",
            rate(3, later),
            1,
            Cover::Short { usable: 0 },
        ),
    ];
    for (name, rate, requests, expected) in cases {
        assert_eq!(rate.covers(requests, &pacing, now), expected, "{name}");
    }
}

proptest! {
    #[test]
    fn any_rate_limit_headers_are_read_or_ignored_without_panic(
        values in prop::collection::vec(prop_oneof![".{0,24}", any::<u64>().prop_map(|n| n.to_string()), any::<i64>().prop_map(|n| n.to_string())], 5),
        status in any::<u16>(),
    ) {
        let names = ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset", "retry-after"];
        let map: HashMap<String, String> = names.iter().map(|n| n.to_string()).zip(values).collect();
        let header = |key: &str| map.get(key).map(String::as_str);
        let rate = RateLimit::from_headers(header);
        let wait = retry_after(header);
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        if let Some(rate) = &rate {
            let _ = rate.covers(u64::MAX, &Pacing::default(), now);
            let _ = rate.covers(0, &Pacing::default(), now);
        }
        let _ = classify(status, rate.as_ref(), wait, "API rate limit exceeded");
    }
}
