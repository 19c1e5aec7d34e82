//! The one error type of the API layer, classified where callers must branch on it.

use std::fmt;
use std::time::SystemTime;

use super::Method;
use crate::transport::client;

/// Characters of an error answer kept for the report: GitHub's messages are one sentence.
const MAX_MESSAGE: usize = 300;

/// How callers may need to react to a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// 401: the token is missing, wrong or expired.
    Unauthorized,
    /// 403 that is not a rate limit: the token lacks a permission.
    Forbidden,
    /// 404: gone, or not visible to this token (GitHub does not tell the two apart).
    NotFound,
    /// 400, 409 and 422: GitHub understood and refused the request.
    Refused,
    /// The primary (hourly) budget is spent until `ApiError::reset`, later than the run may
    /// wait: stop cleanly and leave the rest for the next run.
    RateLimited,
    /// A secondary limit asked (`retry-after`) for a wait longer than `rate-limit-wait`,
    /// until `ApiError::reset` when known: stop cleanly, like `RateLimited`.
    AskedToWait,
    /// Secondary-limit answers went on past the last try.
    Throttled,
    /// 5xx: GitHub failed.
    Server,
    /// No HTTP answer at all: connection, TLS handshake or timeout.
    Transport,
    /// The server's TLS certificate was refused (unknown issuer, expired, wrong name): a
    /// setup problem, never retried.
    Certificate,
    /// Any other status.
    Other,
}

/// A request that did not succeed, with the route and GitHub's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub status: Option<u16>,
    pub message: String,
    pub method: Method,
    pub route: String,
    /// For `RateLimited` and `AskedToWait`: when the wait ends, if GitHub said.
    pub reset: Option<SystemTime>,
    /// An earlier try of this request got no clear answer (5xx, connection error, timeout),
    /// so it may have taken effect.
    pub uncertain: bool,
    /// For a listing stopped after its first page because the budget cannot cover the rest
    /// (`RateLimited`): how large the package is.
    pub listing: Option<ListingSize>,
}

/// How large a package's listing is, as its first page's `last` link tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingSize {
    /// Pages of versions.
    pub pages: u32,
    /// Versions it holds at least: every page but the last is as full as the first.
    pub versions_at_least: u64,
    /// The primary rate limit: requests per hour.
    pub limit: u32,
    /// Whether even a whole budget (the limit, less the reserve) cannot list it: then no
    /// run lists it whole, and only `state-file` (a listing carried across runs) lets it
    /// finish.
    pub beyond_one_budget: bool,
}

impl ApiError {
    pub fn new(method: Method, route: &str, status: Option<u16>, message: String) -> ApiError {
        let kind = match status {
            None => ApiErrorKind::Transport,
            Some(401) => ApiErrorKind::Unauthorized,
            Some(403) => ApiErrorKind::Forbidden,
            Some(404) => ApiErrorKind::NotFound,
            Some(400 | 409 | 422) => ApiErrorKind::Refused,
            Some(500..=599) => ApiErrorKind::Server,
            Some(_) => ApiErrorKind::Other,
        };
        ApiError {
            kind,
            status,
            message,
            method,
            route: route.to_string(),
            reset: None,
            uncertain: false,
            listing: None,
        }
    }

    /// The primary budget is spent until `reset`.
    pub fn rate_limited(mut self, reset: Option<SystemTime>) -> ApiError {
        self.kind = ApiErrorKind::RateLimited;
        self.reset = reset;
        self
    }

    /// An error answer: GitHub's `message` field when the body has one, else the raw body;
    /// either cut to [`MAX_MESSAGE`] characters, since it ends up in the log and report.
    pub fn from_body(method: Method, route: &str, status: u16, body: &str) -> ApiError {
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            message: String,
        }
        let message = serde_json::from_str::<ErrorBody>(body)
            .map(|parsed| parsed.message)
            .unwrap_or_else(|_| body.to_string());
        let mut cut: String = message.chars().take(MAX_MESSAGE).collect();
        if cut.len() < message.len() {
            cut.push('…');
        }
        ApiError::new(method, route, Some(status), cut)
    }

    /// No answer from `host`: a [`ApiErrorKind::Certificate`] when its TLS certificate was
    /// refused, else a [`ApiErrorKind::Transport`] error with every cause said.
    pub fn transport(
        method: Method,
        route: &str,
        host: &str,
        source: &(dyn std::error::Error + 'static),
    ) -> ApiError {
        match client::certificate_problem(source) {
            Some(problem) => ApiError {
                kind: ApiErrorKind::Certificate,
                ..ApiError::new(
                    method,
                    route,
                    None,
                    client::certificate_message(host, &problem),
                )
            },
            None => ApiError::new(method, route, None, client::describe(source)),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = self.method.as_str();
        match self.status {
            Some(status) => write!(
                f,
                "{method} {} answered {status}: {}",
                self.route, self.message
            ),
            None => write!(f, "{method} {} failed: {}", self.route, self.message),
        }
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_give_githubs_message_cut_to_a_sentence() {
        let long = "x".repeat(10_000);
        let cases = [
            (
                r#"{"message":"Package not found."}"#.to_string(),
                "Package not found.".to_string(),
            ),
            ("plain text".to_string(), "plain text".to_string()),
            (
                format!(r#"{{"message":"{long}"}}"#),
                format!("{}…", "x".repeat(MAX_MESSAGE)),
            ),
            (long.clone(), format!("{}…", "x".repeat(MAX_MESSAGE))),
            ("é".repeat(400), format!("{}…", "é".repeat(MAX_MESSAGE))),
        ];
        for (body, expected) in cases {
            let error = ApiError::from_body(Method::Get, "/x", 404, &body);
            assert_eq!(error.message, expected);
        }
    }
}
