//! Rate limits, injected faults and counters: the middleware between `record` and the routes.
//!
//! From GitHub's "Rate limits for the REST API"
//! (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
//! - Every response carries `x-ratelimit-limit`, `-remaining`, `-used`, `-reset` (epoch
//!   seconds) and `-resource`. A spent primary budget answers 403 `API rate limit exceeded
//!   for user ID N.` with remaining 0.
//! - Secondary limits: concurrent requests, and points per minute per endpoint (GET 1,
//!   DELETE/POST 5), answered with 403 `You have exceeded a secondary rate limit...` and
//!   `retry-after`.
//!
//! The fake's guesses and simplifications:
//! - The primary budget is per token (by the `Authorization` value) and every request that
//!   reaches the fake spends one, including those refused by a secondary limit or failed by
//!   an injected fault.
//! - Points are counted in fixed windows per endpoint (method and route template);
//!   `retry-after` is the configured value, or else the seconds left in the window.
//! - An injected 502 happens before the handler or, for half of them, after it: the change
//!   is made but the answer is lost, as when a proxy times out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::seed::{duration, duration_map, optional_duration};
use crate::server::Shared;

const SECONDARY_MESSAGE: &str =
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
const RATE_LIMIT_DOCS: &str =
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api";

/// The rate limits the fake enforces. JSON: `{"primary": {...}, "secondary": {...}}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default)]
    pub primary: PrimaryLimit,
    /// `None`: no secondary limits.
    #[serde(default)]
    pub secondary: Option<SecondaryLimit>,
}

/// The hourly budget every token starts with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryLimit {
    /// Default 5000, a classic PAT's budget.
    #[serde(default = "default_primary_limit")]
    pub limit: u32,
    /// What is left at the start; default `limit`.
    #[serde(default)]
    pub remaining: Option<u32>,
    /// When the first reset comes, from the start; default one hour.
    #[serde(default = "one_hour", deserialize_with = "duration")]
    pub reset_in: Duration,
}

impl Default for PrimaryLimit {
    fn default() -> Self {
        PrimaryLimit {
            limit: default_primary_limit(),
            remaining: None,
            reset_in: one_hour(),
        }
    }
}

impl PrimaryLimit {
    /// A budget of `limit` requests an hour, of which `remaining` are left, refilling in
    /// `reset_in`.
    pub fn new(limit: u32, remaining: u32, reset_in: Duration) -> Self {
        PrimaryLimit {
            limit,
            remaining: Some(remaining),
            reset_in,
        }
    }
}

/// Secondary limits; the defaults are GitHub's documented ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondaryLimit {
    /// Default 100.
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent: usize,
    /// Points per endpoint per window; default 900.
    #[serde(default = "default_points")]
    pub points: u32,
    /// Default one minute.
    #[serde(default = "one_minute", deserialize_with = "duration")]
    pub window: Duration,
    /// A fixed `retry-after`; default the seconds left in the window (at least 1).
    #[serde(default, deserialize_with = "optional_duration")]
    pub retry_after: Option<Duration>,
}

impl Default for SecondaryLimit {
    fn default() -> Self {
        SecondaryLimit {
            max_concurrent: default_max_concurrent(),
            points: default_points(),
            window: one_minute(),
            retry_after: None,
        }
    }
}

/// Injected slowness and failures. JSON: `{"latency": "50ms", "error_rate": 0.1, "seed": 7,
/// "slow_answers": {"DELETE /orgs/acme/packages/npm/lib": "30s"}}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Added to every request before it is handled.
    #[serde(default, deserialize_with = "duration")]
    pub latency: Duration,
    /// Answers that come late, by `"METHOD /path"` (the path as sent, without the query):
    /// the request is handled at once (a DELETE is done), and its answer waits this long,
    /// as a server that is slow to reply. A client that gives up early cannot know.
    #[serde(default, deserialize_with = "duration_map")]
    pub slow_answers: BTreeMap<String, Duration>,
    /// Share of requests answered 502, from 0 to 1.
    #[serde(default)]
    pub error_rate: f64,
    /// Which requests fail is a pure function of this seed and the request's number.
    #[serde(default)]
    pub seed: u64,
}

/// What the fake has seen, for tests and the benchmark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// Answers by `"METHOD STATUS"`, e.g. `"DELETE 204"`.
    pub requests: BTreeMap<String, u64>,
    pub peak_concurrency: usize,
    pub secondary_answers: u64,
    pub primary_answers: u64,
    pub injected_faults: u64,
    /// For each request repeated after a secondary-limit answer: the `retry-after` sent and
    /// the time until the same method and path came again.
    pub retry_gaps: Vec<RetryGap>,
    /// Milliseconds since the Unix epoch when the first request arrived.
    pub first_request_unix_ms: Option<u128>,
    #[serde(skip)]
    pub first_request: Option<Instant>,
}

impl Counters {
    /// How many `method` requests were answered with `status`.
    pub fn count(&self, method: &str, status: u16) -> u64 {
        self.requests
            .get(&format!("{method} {status}"))
            .copied()
            .unwrap_or(0)
    }

    /// Requests of `method`, whatever the answer.
    pub fn method_total(&self, method: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(key, _)| key.split(' ').next() == Some(method))
            .map(|(_, count)| count)
            .sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryGap {
    pub retry_after_ms: u128,
    pub gap_ms: u128,
}

/// The mutable side of the limits.
#[derive(Debug, Default)]
pub struct LimitState {
    budgets: HashMap<String, Budget>,
    windows: HashMap<String, Window>,
    /// Secondary-limit answers not yet followed by their retry: when, and the retry-after.
    pending: HashMap<String, (Instant, Duration)>,
    requests_seen: u64,
    pub counters: Counters,
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    limit: u32,
    remaining: u32,
    reset: SystemTime,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    points: u32,
}

/// The configuration and the in-flight count, beside the shared state.
#[derive(Debug, Default)]
pub struct Enforcer {
    pub limits: Limits,
    pub faults: Faults,
    in_flight: AtomicUsize,
}

impl Enforcer {
    pub fn new(limits: Limits, faults: Faults) -> Self {
        Enforcer {
            limits,
            faults,
            in_flight: AtomicUsize::new(0),
        }
    }
}

/// Counts a request in flight until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The middleware: latency, primary budget, secondary limits, faults, then the handler.
pub async fn enforce(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let enforcer = shared.enforcer();
    let in_flight = enforcer.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&enforcer.in_flight);
    let arrived = Instant::now();
    let method = request.method().clone();
    let path = request.uri().to_string();
    let slow_answer = enforcer
        .faults
        .slow_answers
        .get(&format!("{method} {}", request.uri().path()))
        .copied();
    let endpoint = format!(
        "{method} {}",
        request
            .extensions()
            .get::<MatchedPath>()
            .map_or(request.uri().path(), MatchedPath::as_str)
    );
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let verdict = {
        let mut state = shared.limit_state();
        state.note_arrival(&method, &path, arrived, in_flight);
        state.judge(enforcer, &token, &endpoint, &method, in_flight, arrived)
    };
    if !enforcer.faults.latency.is_zero() {
        tokio::time::sleep(enforcer.faults.latency).await;
    }
    let (headers, refusal, fault) = verdict;
    let mut response = match refusal {
        Some(Refusal::Primary) => error(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
        ),
        Some(Refusal::Secondary(retry_after)) => {
            shared
                .limit_state()
                .pending
                .insert(format!("{method} {path}"), (Instant::now(), retry_after));
            let mut response = error(StatusCode::FORBIDDEN, SECONDARY_MESSAGE);
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after.as_secs()));
            response
        }
        None => match fault {
            Some(Fault::Before) => error(StatusCode::BAD_GATEWAY, "Server Error"),
            Some(Fault::After) => {
                drop(next.run(request).await);
                error(StatusCode::BAD_GATEWAY, "Server Error")
            }
            None => next.run(request).await,
        },
    };
    if let Some(delay) = slow_answer {
        tokio::time::sleep(delay).await;
    }
    response.headers_mut().extend(headers);
    let key = format!("{method} {}", response.status().as_u16());
    *shared
        .limit_state()
        .counters
        .requests
        .entry(key)
        .or_insert(0) += 1;
    response
}

enum Refusal {
    Primary,
    Secondary(Duration),
}

enum Fault {
    Before,
    After,
}

impl LimitState {
    pub fn reset_budgets(&mut self) {
        for budget in self.budgets.values_mut() {
            budget.remaining = budget.limit;
            budget.reset = SystemTime::now() + one_hour();
        }
    }

    fn note_arrival(&mut self, method: &Method, path: &str, arrived: Instant, in_flight: usize) {
        let counters = &mut self.counters;
        counters.peak_concurrency = counters.peak_concurrency.max(in_flight);
        if counters.first_request.is_none() {
            counters.first_request = Some(arrived);
            counters.first_request_unix_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|since| since.as_millis());
        }
        if let Some((sent, retry_after)) = self.pending.remove(&format!("{method} {path}")) {
            counters.retry_gaps.push(RetryGap {
                retry_after_ms: retry_after.as_millis(),
                gap_ms: arrived.duration_since(sent).as_millis(),
            });
        }
    }

    /// Spends the primary budget and secondary points, and draws the fault.
    fn judge(
        &mut self,
        enforcer: &Enforcer,
        token: &str,
        endpoint: &str,
        method: &Method,
        in_flight: usize,
        now: Instant,
    ) -> (HeaderMap, Option<Refusal>, Option<Fault>) {
        let primary = &enforcer.limits.primary;
        let wall = SystemTime::now();
        let budget = self.budgets.entry(token.to_owned()).or_insert(Budget {
            limit: primary.limit,
            remaining: primary.remaining.unwrap_or(primary.limit),
            reset: wall + primary.reset_in,
        });
        if wall >= budget.reset {
            budget.remaining = budget.limit;
            budget.reset = wall + one_hour();
        }
        let spent = budget.remaining == 0;
        budget.remaining = budget.remaining.saturating_sub(1);
        let headers = rate_headers(budget);
        if spent {
            self.counters.primary_answers += 1;
            return (headers, Some(Refusal::Primary), None);
        }
        if let Some(secondary) = &enforcer.limits.secondary {
            let retry_after = self.secondary(secondary, endpoint, method, in_flight, now);
            if let Some(retry_after) = retry_after {
                self.counters.secondary_answers += 1;
                return (headers, Some(Refusal::Secondary(retry_after)), None);
            }
        }
        let fault = self.draw_fault(&enforcer.faults);
        (headers, None, fault)
    }

    /// `Some(retry-after)` when this request breaks a secondary limit.
    fn secondary(
        &mut self,
        limit: &SecondaryLimit,
        endpoint: &str,
        method: &Method,
        in_flight: usize,
        now: Instant,
    ) -> Option<Duration> {
        if in_flight > limit.max_concurrent {
            return Some(limit.retry_after.unwrap_or(Duration::from_secs(1)));
        }
        let cost = if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            1
        } else {
            5
        };
        let window = self.windows.entry(endpoint.to_owned()).or_insert(Window {
            start: now,
            points: 0,
        });
        if now.duration_since(window.start) >= limit.window {
            *window = Window {
                start: now,
                points: 0,
            };
        }
        if window.points + cost <= limit.points {
            window.points += cost;
            return None;
        }
        let left = limit
            .window
            .saturating_sub(now.duration_since(window.start));
        Some(limit.retry_after.unwrap_or(Duration::from_secs(
            left.as_secs_f64().ceil().max(1.0) as u64
        )))
    }

    fn draw_fault(&mut self, faults: &Faults) -> Option<Fault> {
        self.requests_seen += 1;
        if faults.error_rate <= 0.0 {
            return None;
        }
        let draw = splitmix64(faults.seed ^ self.requests_seen.wrapping_mul(0x9e37_79b9));
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= faults.error_rate {
            return None;
        }
        self.counters.injected_faults += 1;
        Some(if draw & 1 == 0 {
            Fault::Before
        } else {
            Fault::After
        })
    }
}

fn rate_headers(budget: &Budget) -> HeaderMap {
    let reset = budget
        .reset
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(budget.limit)),
        ("x-ratelimit-remaining", u64::from(budget.remaining)),
        (
            "x-ratelimit-used",
            u64::from(budget.limit.saturating_sub(budget.remaining)),
        ),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    headers.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
    headers
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": RATE_LIMIT_DOCS,
        "status": status.as_u16().to_string(),
    });
    (status, axum::Json(body)).into_response()
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn default_primary_limit() -> u32 {
    5000
}

fn default_max_concurrent() -> usize {
    100
}

fn default_points() -> u32 {
    900
}

fn one_hour() -> Duration {
    Duration::from_secs(3_600)
}

fn one_minute() -> Duration {
    Duration::from_secs(60)
}
