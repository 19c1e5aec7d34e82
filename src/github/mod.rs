//! Thin client for the GitHub REST API over octocrab: routes, pagination, typed errors.
//!
//! Requests go through octocrab's raw `_get`/`_delete`/`_post` rather than its typed
//! Packages builders, because callers need each response's status and headers (pagination
//! links, rate-limit state), which the typed builders discard. Routes are built the way
//! octocrab's Packages API builds them. This layer knows nothing of policy.

mod error;
mod packages;

use std::time::Duration;

use anyhow::Context;
use octocrab::Octocrab;

pub use error::{ApiError, ApiErrorKind};
pub use packages::{OwnerKind, VersionState};

use crate::config::Token;

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
}

/// A response that was a success (2xx), with what callers read from it.
#[derive(Debug)]
pub struct Response {
    pub body: String,
    /// The `rel="next"` link, already turned back into a route relative to the API base.
    pub next: Option<String>,
}

/// A GitHub REST API client bound to one base URL and one token.
pub struct GitHub {
    crab: Octocrab,
    api_url: String,
}

impl GitHub {
    pub fn new(api_url: &str, token: &Token) -> anyhow::Result<GitHub> {
        let crab = Octocrab::builder()
            .base_uri(api_url)
            .with_context(|| format!("GITHUB_API_URL `{api_url}` is not a valid URL"))?
            .personal_token(token.expose().to_string())
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .context("could not build the HTTP client")?;
        Ok(GitHub {
            crab,
            api_url: api_url.trim_end_matches('/').to_string(),
        })
    }

    /// Send one request to `route` (relative to the API base) and return the body of a 2xx
    /// answer; any other status becomes an [`ApiError`] carrying GitHub's message.
    pub async fn send(&self, method: Method, route: &str) -> Result<Response, ApiError> {
        let transport = |source: octocrab::Error| ApiError::transport(method, route, source);
        let response = match method {
            Method::Get => self.crab._get(route).await,
            Method::Delete => self.crab._delete(route, None::<&()>).await,
            Method::Post => self.crab._post(route, None::<&()>).await,
        }
        .map_err(transport)?;
        let status = response.status().as_u16();
        let next = response
            .headers()
            .get("link")
            .and_then(|value| value.to_str().ok())
            .and_then(next_link)
            .map(|url| route_under(&self.api_url, &url))
            .transpose()
            .map_err(|message| ApiError::new(method, route, Some(status), message))?;
        let body = self
            .crab
            .body_to_string(response)
            .await
            .map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(ApiError::from_body(method, route, status, &body));
        }
        Ok(Response { body, next })
    }

    /// GET `route` and decode the JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        route: &str,
    ) -> Result<(T, Option<String>), ApiError> {
        let response = self.send(Method::Get, route).await?;
        let value = serde_json::from_str(&response.body).map_err(|err| {
            ApiError::new(
                Method::Get,
                route,
                Some(200),
                format!("unexpected response body: {err}"),
            )
        })?;
        Ok((value, response.next))
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

/// The `rel="next"` URL of a `Link` header, if any.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| param.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// Percent-encode one path segment (package names may contain `/`, which must be `%2F`).
pub fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(next_link(header).as_deref(), expected, "{header}");
        }
    }

    #[test]
    fn package_names_are_percent_encoded_as_one_segment() {
        let cases = [
            ("app", "app"),
            ("team/app", "team%2Fapp"),
            ("a b", "a%20b"),
            ("x.y_z-1", "x.y_z-1"),
        ];
        for (name, expected) in cases {
            assert_eq!(encode_segment(name), expected);
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
