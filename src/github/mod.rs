//! Thin client for the GitHub REST API over octocrab: routes, pagination, typed errors,
//! and the rate-limit discipline every request goes through.
//!
//! Requests go through octocrab's raw `_get`/`_delete`/`_post` rather than its typed
//! Packages builders, because callers need each response's status and headers (pagination
//! links, rate-limit state), which the typed builders discard. Routes are built the way
//! octocrab's Packages API builds them. This layer knows nothing of policy.

mod error;
pub mod pacing;
mod packages;
pub mod ratelimit;
mod retry;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use octocrab::Octocrab;

pub use error::{ApiError, ApiErrorKind, ListingSize};
pub use packages::{OwnerKind, PER_PAGE};
pub use retry::Stats;

use pacing::Pacer;
use ratelimit::{RateLimit, Refusal};
use retry::Next;

use crate::transport::body::{BodyError, read_capped};
use crate::transport::client;
use crate::transport::encode::encode_segment;
use crate::transport::pacing::Pacing;
use crate::transport::token::Token;

/// Where a package lives: the route prefix of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespace {
    Org(String),
    User(String),
    /// The token's own user, through `/user`: the only prefix where a user's PAT sees its
    /// private packages.
    AuthenticatedUser,
}

impl Namespace {
    pub fn prefix(&self) -> String {
        match self {
            Namespace::Org(org) => format!("/orgs/{}", encode_segment(org)),
            Namespace::User(user) => format!("/users/{}", encode_segment(user)),
            Namespace::AuthenticatedUser => "/user".to_string(),
        }
    }
}

/// HTTP methods this client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Delete,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Delete => "DELETE",
            Method::Post => "POST",
        }
    }

    /// DELETE and POST change state and cost 5 secondary-limit points.
    pub fn is_mutation(self) -> bool {
        self != Method::Get
    }
}

/// A response that was a success (2xx), with what callers read from it.
#[derive(Debug)]
pub struct Response {
    pub body: String,
    /// The `rel="next"` link, already turned back into a route relative to the API base.
    pub next: Option<String>,
    /// The `rel="last"` link, as a route like `next`.
    pub last: Option<String>,
}

/// Waits longer than this are announced through the [`WaitSink`] as they start.
const NOTABLE_WAIT: Duration = Duration::from_secs(10);

/// A wait of the client longer than [`NOTABLE_WAIT`], for the run to log: the client has no
/// log of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitNotice {
    pub wait: Duration,
    /// When the wait ends, if the clock can say.
    pub until: Option<SystemTime>,
    /// Why, in plain words (e.g. "GitHub's secondary rate limit (retry-after)").
    pub reason: String,
}

/// Where the client announces a long wait just before it starts, so that whoever watches
/// the log sees why nothing happens, and until when, while it lasts. Set by the run; the
/// client knows nothing of the log behind it.
pub type WaitSink = Arc<dyn Fn(&WaitNotice) + Send + Sync>;

/// One try that did not give a 2xx answer, with the limit that refused it, if any.
struct Failure {
    error: ApiError,
    refusal: Option<Refusal>,
}

/// A GitHub REST API client bound to one base URL and one token.
pub struct GitHub {
    crab: Octocrab,
    api_url: String,
    /// The refusal of the API host's TLS certificate, once one was seen: every later request
    /// fails with it at once, without connecting again.
    certificate: Mutex<Option<ApiError>>,
    pacer: Pacer,
    rate: Mutex<Option<RateLimit>>,
    scopes: Mutex<Option<Vec<String>>>,
    stats: Mutex<Stats>,
    waits: Option<WaitSink>,
}

/// At most this many scopes are kept from `x-oauth-scopes`: GitHub has a few dozen.
const MAX_SCOPES: usize = 64;

impl GitHub {
    pub fn new(api_url: &str, token: &Token, pacing: Pacing) -> anyhow::Result<GitHub> {
        let crab = client::build(
            api_url,
            Some(token),
            &client::REST_HEADERS,
            Duration::from_secs(60),
        )
        .map_err(|problem| {
            anyhow::anyhow!("cannot set up the client for the API at {api_url}: {problem}")
        })?;
        Ok(GitHub {
            crab,
            api_url: api_url.trim_end_matches('/').to_string(),
            certificate: Mutex::new(None),
            pacer: Pacer::new(pacing),
            rate: Mutex::new(None),
            scopes: Mutex::new(None),
            stats: Mutex::new(Stats::default()),
            waits: None,
        })
    }

    pub fn pacing(&self) -> &Pacing {
        self.pacer.pacing()
    }

    /// The primary budget as the latest response told it; `None` before the first answer
    /// or when GitHub sends no rate-limit headers (some GHES setups).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        lock(&self.rate).clone()
    }

    /// The token's scopes as the latest `x-oauth-scopes` header named them; `None` when no
    /// answer carried one (a `GITHUB_TOKEN`, a fine-grained or GitHub App token).
    pub fn scopes(&self) -> Option<Vec<String>> {
        lock(&self.scopes).clone()
    }

    /// What the client has sent and waited for so far.
    pub fn stats(&self) -> Stats {
        *lock(&self.stats)
    }

    /// Announce every wait over 10 s to `sink` before it starts.
    pub fn announce_waits(&mut self, sink: WaitSink) {
        self.waits = Some(sink);
    }

    /// Announce a wait worth logging, before it starts.
    fn notice(&self, wait: Duration, reason: &str) {
        if let Some(sink) = self.waits.as_ref().filter(|_| wait > NOTABLE_WAIT) {
            sink(&WaitNotice {
                wait,
                until: SystemTime::now().checked_add(wait),
                reason: reason.to_string(),
            });
        }
    }

    /// Send one request to `route` (relative to the API base) and return the body of a 2xx
    /// answer; any other status becomes an [`ApiError`] carrying GitHub's message.
    ///
    /// Paced by [`Pacing`]. 5xx answers, connection errors and timeouts are retried with
    /// backoff; secondary-limit answers pause every request for `retry-after` (else at least
    /// a minute, doubling) and retry; a spent primary budget is waited out only when it
    /// resets within `rate_limit_wait`, and is otherwise a [`ApiErrorKind::RateLimited`], as
    /// is a `retry-after` longer than `rate_limit_wait`. Waits over 10 s are announced as they
    /// start (see [`GitHub::announce_waits`]).
    pub async fn send(&self, method: Method, route: &str) -> Result<Response, ApiError> {
        if let Some(refused) = lock(&self.certificate).clone() {
            return Err(ApiError {
                method,
                route: route.to_string(),
                ..refused
            });
        }
        let mut uncertain = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let failure = match self.attempt(method, route).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let next = retry::next(
                self.pacing(),
                &failure.error,
                failure.refusal.as_ref(),
                tries,
                SystemTime::now(),
            );
            let mut error = failure.error;
            error.uncertain = uncertain;
            uncertain |= matches!(error.kind, ApiErrorKind::Server | ApiErrorKind::Transport);
            match next {
                Next::Stop(kind) => {
                    if let Some(kind) = kind {
                        error.kind = kind;
                    }
                    if error.kind == ApiErrorKind::Certificate {
                        *lock(&self.certificate) = Some(error.clone());
                    }
                    if tries > 1 {
                        error.message = format!("{} (gave up after {tries} tries)", error.message);
                    }
                    if let Some(Refusal::Primary { reset }) = failure.refusal {
                        error = error.rate_limited(reset);
                    }
                    return Err(error);
                }
                Next::Leave { wait, until } => {
                    let asked = match failure.refusal {
                        Some(Refusal::Secondary {
                            retry_after: Some(_),
                        }) => "GitHub asked to wait",
                        _ => "the pause before the next try would be",
                    };
                    error.message = format!(
                        "{}; {asked} {}s, longer than rate-limit-wait",
                        error.message,
                        wait.as_secs()
                    );
                    error.kind = ApiErrorKind::AskedToWait;
                    error.reset = until;
                    return Err(error);
                }
                Next::Retry(wait) => {
                    lock(&self.stats).retries += 1;
                    self.notice(wait, "backoff before retrying a failed request");
                    tokio::time::sleep(wait).await;
                }
                Next::Pause(wait) => {
                    let mut stats = lock(&self.stats);
                    stats.retries += 1;
                    stats.secondary_answers += 1;
                    drop(stats);
                    self.notice(wait, "GitHub's secondary rate limit");
                    self.pacer.pause(wait);
                }
                Next::WaitReset(wait) => {
                    lock(&self.stats).primary_waits += 1;
                    self.notice(wait, "GitHub's primary rate limit is spent until its reset");
                    self.pacer.pause(wait);
                }
            }
        }
    }

    /// One paced try: its answer, with the rate-limit headers recorded on the way. The
    /// whole exchange, headers and body, must end within `request_deadline`.
    async fn attempt(&self, method: Method, route: &str) -> Result<Response, Failure> {
        let permit = self.pacer.acquire(method.is_mutation()).await;
        {
            let mut stats = lock(&self.stats);
            if method.is_mutation() {
                stats.mutations += 1;
            } else {
                stats.gets += 1;
            }
        }
        let deadline = self.pacing().request_deadline;
        let result = tokio::time::timeout(deadline, self.exchange(method, route)).await;
        drop(permit);
        result.unwrap_or_else(|_| {
            Err(Failure {
                error: ApiError::new(
                    method,
                    route,
                    None,
                    format!(
                        "no complete answer within the {}s request deadline",
                        deadline.as_secs_f64()
                    ),
                ),
                refusal: None,
            })
        })
    }

    /// Send the request and read its whole answer.
    async fn exchange(&self, method: Method, route: &str) -> Result<Response, Failure> {
        let transport = |source: octocrab::Error| Failure {
            error: ApiError::transport(method, route, &client::host_of(&self.api_url), &source),
            refusal: None,
        };
        let response = match method {
            Method::Get => self.crab._get(route).await,
            Method::Delete => self.crab._delete(route, None::<&()>).await,
            Method::Post => self.crab._post(route, None::<&()>).await,
        }
        .map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let rate = RateLimit::from_headers(header);
        let retry_after = crate::transport::pacing::retry_after(header);
        let links = header("link").unwrap_or_default();
        let link = |rel: &str| {
            link_with_rel(links, rel)
                .map(|url| route_under(&self.api_url, &url))
                .transpose()
        };
        let (next, last) = match (link("next"), link("last")) {
            (Ok(next), Ok(last)) => (next, last),
            (Err(message), _) | (_, Err(message)) => {
                return Err(Failure {
                    error: ApiError::new(method, route, Some(status), message),
                    refusal: None,
                });
            }
        };
        if let Some(rate) = &rate {
            *lock(&self.rate) = Some(rate.clone());
        }
        if let Some(scopes) = header("x-oauth-scopes") {
            *lock(&self.scopes) = Some(
                scopes
                    .split(',')
                    .map(str::trim)
                    .filter(|scope| !scope.is_empty())
                    .take(MAX_SCOPES)
                    .map(str::to_owned)
                    .collect(),
            );
        }
        let body = read_capped(response.into_body(), self.pacing().max_body)
            .await
            .map_err(|problem| match problem {
                BodyError::Transport(source) => transport(source),
                BodyError::TooLarge(cap) => Failure {
                    error: ApiError::new(
                        method,
                        route,
                        Some(status),
                        format!("the answer body is larger than the {cap}-byte cap; not read"),
                    ),
                    refusal: None,
                },
            })?;
        // Bytes that are not UTF-8 are replaced: a body GitHub sends is UTF-8 JSON, so the
        // decode then fails.
        let body = String::from_utf8_lossy(&body).into_owned();
        if !(200..300).contains(&status) {
            let error = ApiError::from_body(method, route, status, &body);
            let refusal = ratelimit::classify(status, rate.as_ref(), retry_after, &error.message);
            return Err(Failure { error, refusal });
        }
        Ok(Response { body, next, last })
    }

    /// GET `route` and decode the JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        route: &str,
    ) -> Result<(T, Option<String>), ApiError> {
        let response = self.send(Method::Get, route).await?;
        Ok((decode(route, &response.body)?, response.next))
    }
}

/// A poisoned lock only means another request panicked; the numbers inside are still right.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Pagination links are absolute. octocrab only sends the token to its base host, so a
/// link is followed as the route it names under the API base; a link elsewhere is refused.
fn route_under(api_url: &str, url: &str) -> Result<String, String> {
    url.strip_prefix(api_url)
        .filter(|rest| rest.starts_with('/'))
        .map(str::to_string)
        .ok_or_else(|| format!("pagination link `{url}` leaves the API at {api_url}"))
}

/// The URL of a `Link` header with relation `rel` (`next`, `last`), if any.
fn link_with_rel(header: &str, rel: &str) -> Option<String> {
    let wanted = format!("rel=\"{rel}\"");
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| param.trim().replace(' ', "") == wanted);
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Decode the JSON body of a successful GET; a body of the wrong shape is an [`ApiError`].
pub fn decode<T: serde::de::DeserializeOwned>(route: &str, body: &str) -> Result<T, ApiError> {
    serde_json::from_str(body).map_err(|err| {
        ApiError::new(
            Method::Get,
            route,
            Some(200),
            format!("unexpected response body: {err}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[tokio::test]
    async fn only_waits_over_ten_seconds_are_announced_each_once_as_it_starts() {
        let token = Token::new("t".to_string());
        let mut github =
            GitHub::new("http://127.0.0.1:9", &token, Pacing::default()).expect("a client");
        let heard: Arc<Mutex<Vec<WaitNotice>>> = Arc::default();
        let sink = Arc::clone(&heard);
        github.announce_waits(Arc::new(move |notice: &WaitNotice| {
            lock(&sink).push(notice.clone());
        }));
        let cases = [
            (Duration::from_secs(10), false),
            (Duration::from_secs(11), true),
            (Duration::MAX, true),
        ];
        for (wait, noted) in cases {
            github.notice(wait, "a reason");
            let notices = std::mem::take(&mut *lock(&heard));
            assert_eq!(notices.len(), usize::from(noted), "{wait:?}");
            if let Some(notice) = notices.first() {
                assert_eq!(notice.reason, "a reason");
                assert_eq!(notice.until.is_some(), wait != Duration::MAX, "{wait:?}");
            }
        }
    }

    #[tokio::test]
    async fn a_refused_certificate_fails_every_request_at_once_after_one_connection() {
        let server = fake_github::ScriptedServer::start_tls("127.0.0.1", |_, _| {
            fake_github::Scripted::new(200).body("[]")
        })
        .expect("TLS server starts");
        let host = server.url().trim_start_matches("https://").to_string();
        let token = Token::new("t".to_string());
        let github = GitHub::new(&server.url(), &token, Pacing::default()).expect("a client");
        for route in ["/users/acme", "/orgs/acme/packages?package_type=npm"] {
            let err = github.send(Method::Get, route).await.expect_err("refused");
            assert_eq!(err.kind, ApiErrorKind::Certificate, "{err}");
            assert_eq!(err.route, route);
            let expected = format!("the certificate of {host} is not trusted");
            assert!(err.message.contains(&expected), "{err}");
            assert!(!err.message.contains("gave up"), "{err}");
        }
        assert_eq!(server.connections(), 1);
        assert_eq!(github.stats().retries, 0);
        assert_eq!(github.stats().gets, 1);
    }

    proptest! {
        #[test]
        fn any_link_header_gives_links_or_none_without_panic(header in ".{0,200}") {
            for rel in ["next", "last"] {
                if let Some(url) = link_with_rel(&header, rel) {
                    let _ = route_under("http://127.0.0.1:1", &url);
                }
            }
        }

        #[test]
        fn any_link_made_of_link_syntax_never_panics(
            parts in prop::collection::vec(prop_oneof![Just("<"), Just(">"), Just(";"), Just(","), Just("rel=\"next\""), Just("rel=\"last\""), Just(" "), Just("http://127.0.0.1:1/x?page=9")], 0..30),
        ) {
            let header = parts.concat();
            for rel in ["next", "last"] {
                let _ = link_with_rel(&header, rel);
            }
        }
    }

    #[test]
    fn next_link_is_found_among_the_other_relations() {
        let cases = [
            (
                r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#,
                Some("https://api.github.com/x?page=2"),
            ),
            (
                r#"<https://h/x?page=1>; rel="prev", <https://h/x?page=3>; rel="next""#,
                Some("https://h/x?page=3"),
            ),
            (r#"<https://h/x?page=1>; rel="first""#, None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(
                link_with_rel(header, "next").as_deref(),
                expected,
                "{header}"
            );
        }
    }

    #[test]
    fn links_are_followed_only_under_the_api_base() {
        let base = "https://ghes.example/api/v3";
        let cases = [
            (
                "https://ghes.example/api/v3/orgs/a/packages?page=2",
                Some("/orgs/a/packages?page=2"),
            ),
            ("https://elsewhere.example/orgs/a", None),
            ("https://ghes.example/api/v3x/orgs", None),
        ];
        for (link, expected) in cases {
            assert_eq!(route_under(base, link).ok().as_deref(), expected, "{link}");
        }
    }
}
