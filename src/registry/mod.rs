//! Thin client for a container registry's manifests (the OCI distribution API), over octocrab.
//!
//! A second Octocrab instance without credentials is the transport: octocrab only attaches
//! its own token to its base host and relative URIs, and registry requests carry their own
//! `Authorization`. Flow (github-facts.md, "ghcr.io registry"): a request answered 401 with a
//! `www-authenticate: Bearer realm=...,service=...,scope=...` challenge is followed by
//! `GET realm?service=&scope=` with Basic auth (any username, the GitHub token as password),
//! whose `{"token"}` is sent as `Bearer` on a retry and cached per repository. This layer
//! knows nothing of policy.

pub mod challenge;
pub mod manifest;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use octocrab::Octocrab;
use tokio::sync::Mutex;

pub use manifest::Manifest;

use crate::config::Token;
use crate::github::percent_encode;

/// Username sent with the token exchange's Basic auth; registries ignore it.
const USERNAME: &str = "package-janitor";

/// A failed manifest read, with the registry's own error code when it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    pub url: String,
    pub status: Option<u16>,
    pub message: String,
}

impl RegistryError {
    /// 404: the manifest is not in the registry (deleted, or never pushed).
    pub fn is_unknown(&self) -> bool {
        self.status == Some(404)
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "GET {} answered {status}: {}", self.url, self.message),
            None => write!(f, "GET {} failed: {}", self.url, self.message),
        }
    }
}

impl std::error::Error for RegistryError {}

/// A registry client for one base URL and one GitHub token.
pub struct Registry {
    crab: Octocrab,
    base: String,
    token: Token,
    /// The token exchange's result by repository (`owner/name`, lower-cased): a bearer
    /// token, or the refusal, so that a token the registry rejects is tried once, not once
    /// per manifest.
    bearer: Mutex<HashMap<String, Result<String, RegistryError>>>,
}

/// One answer, whatever its status.
struct Answer {
    status: u16,
    content_type: Option<String>,
    challenge: Option<String>,
    body: String,
}

/// The registry path of a package: `owner/name`, lower-cased as registries require.
pub fn repository(owner: &str, package: &str) -> String {
    format!("{owner}/{package}").to_ascii_lowercase()
}

impl Registry {
    pub fn new(base: &str, token: &Token) -> anyhow::Result<Registry> {
        let crab = Octocrab::builder()
            .base_uri(base)
            .with_context(|| format!("input `registry-url`: `{base}` is not a valid URL"))?
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .context("could not build the registry HTTP client")?;
        Ok(Registry {
            crab,
            base: base.trim_end_matches('/').to_string(),
            token: token.clone(),
            bearer: Mutex::new(HashMap::new()),
        })
    }

    /// The manifest `reference` (a tag or `sha256:` digest) of `repository`.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
        let cached = self
            .bearer
            .lock()
            .await
            .get(repository)
            .cloned()
            .transpose()?;
        let bearer = cached.as_ref().map(|token| format!("Bearer {token}"));
        let mut answer = self.get(&url, bearer.as_deref(), true).await?;
        if answer.status == 401 {
            let token = self.bearer_token(repository, cached, &url, &answer).await?;
            answer = self
                .get(&url, Some(&format!("Bearer {token}")), true)
                .await?;
        }
        if answer.status != 200 {
            return Err(error(&url, answer.status, &answer.body));
        }
        manifest::parse(answer.content_type.as_deref(), answer.body.as_bytes()).map_err(|message| {
            RegistryError {
                url,
                status: Some(200),
                message,
            }
        })
    }

    /// A bearer token for `repository`: one another task fetched meanwhile, or a new one
    /// from the challenge's realm. The lock is held over the exchange, so concurrent reads
    /// of one repository exchange the token once.
    async fn bearer_token(
        &self,
        repository: &str,
        rejected: Option<String>,
        url: &str,
        answer: &Answer,
    ) -> Result<String, RegistryError> {
        let mut cache = self.bearer.lock().await;
        match cache.get(repository) {
            Some(Ok(token)) if Some(token) != rejected.as_ref() => return Ok(token.clone()),
            Some(Err(refusal)) => return Err(refusal.clone()),
            _ => {}
        }
        let exchanged = self.exchange(url, answer).await;
        cache.insert(repository.to_string(), exchanged.clone());
        exchanged
    }

    /// `GET realm?service=&scope=` with Basic auth (the GitHub token as password).
    async fn exchange(&self, url: &str, answer: &Answer) -> Result<String, RegistryError> {
        let challenge = answer
            .challenge
            .as_deref()
            .and_then(challenge::parse)
            .ok_or_else(|| error(url, 401, &answer.body))?;
        let mut token_url = challenge.realm.clone();
        let mut separator = if token_url.contains('?') { '&' } else { '?' };
        for (name, value) in [("service", &challenge.service), ("scope", &challenge.scope)] {
            if let Some(value) = value {
                token_url.push_str(&format!("{separator}{name}={}", encode_query(value)));
                separator = '&';
            }
        }
        let basic = STANDARD.encode(format!("{USERNAME}:{}", self.token.expose()));
        let reply = self
            .get(&token_url, Some(&format!("Basic {basic}")), false)
            .await?;
        if reply.status != 200 {
            return Err(error(&token_url, reply.status, &reply.body));
        }
        #[derive(serde::Deserialize)]
        struct TokenBody {
            token: Option<String>,
            access_token: Option<String>,
        }
        serde_json::from_str::<TokenBody>(&reply.body)
            .ok()
            .and_then(|body| body.token.or(body.access_token))
            .ok_or_else(|| RegistryError {
                url: token_url,
                status: Some(200),
                message: "the token answer has no `token`".to_string(),
            })
    }

    /// GET `url` (absolute) with `authorization` (a full header value) and, for manifest
    /// requests, the manifest `Accept` list. Any status is an answer; only a request that got
    /// no answer at all is an error.
    async fn get(
        &self,
        url: &str,
        authorization: Option<&str>,
        manifest: bool,
    ) -> Result<Answer, RegistryError> {
        let failed = |message: String| RegistryError {
            url: url.to_string(),
            status: None,
            message,
        };
        let mut headers = HeaderMap::new();
        if manifest {
            headers.insert(ACCEPT, HeaderValue::from_static(manifest::ACCEPT));
        }
        if let Some(authorization) = authorization {
            let mut value = HeaderValue::from_str(authorization)
                .map_err(|_| failed("the token is not a valid header value".to_string()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let response = self
            .crab
            ._get_with_headers(url, Some(headers))
            .await
            .map_err(|err| failed(err.to_string()))?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let challenge = header(WWW_AUTHENTICATE);
        let body = self
            .crab
            .body_to_string(response)
            .await
            .map_err(|err| failed(err.to_string()))?;
        Ok(Answer {
            status,
            content_type,
            challenge,
            body,
        })
    }
}

/// An error answer: the registry's `errors[0]` code and message when it sent them.
fn error(url: &str, status: u16, body: &str) -> RegistryError {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Detail>,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        code: String,
        #[serde(default)]
        message: String,
    }
    let message = serde_json::from_str::<Errors>(body)
        .ok()
        .and_then(|errors| errors.errors.into_iter().next())
        .map(|detail| format!("{} {}", detail.code, detail.message))
        .unwrap_or_else(|| body.chars().take(200).collect());
    RegistryError {
        url: url.to_string(),
        status: Some(status),
        message: message.trim().to_string(),
    }
}

/// Percent-encode a query value, keeping the characters scopes and hosts are made of.
fn encode_query(value: &str) -> String {
    percent_encode(value, b"-._~:/")
}

#[cfg(test)]
mod tests {
    use super::*;

    use fake_github::{FakeGitHub, OwnerSeed, PackageSeed, Seed, TokenSeed, VersionSeed, days};

    #[tokio::test]
    async fn the_challenge_is_answered_once_per_repository_and_manifests_are_parsed() {
        let fake = FakeGitHub::start(
            Seed::new()
                .token(TokenSeed::pat("ghp_a", "alice", &["read:packages"]))
                .owner(OwnerSeed::org("acme").members(&["alice"]))
                .package(PackageSeed::new("acme", "container", "App").versions(vec![
                    VersionSeed::new(1, days(1)).platform("linux/amd64"),
                    VersionSeed::new(2, days(1)).index(&[1]).tags(&["v1"]),
                ])),
        )
        .expect("fake starts");
        let registry =
            Registry::new(&fake.url(), &Token::new("ghp_a".into())).expect("client builds");
        let repository = repository("acme", "App");
        let index = registry
            .manifest(&repository, "v1")
            .await
            .expect("index reads");
        let child = fake.version_name("acme", "container", "App", 1);
        assert!(index.is_index);
        assert_eq!(index.children[0].digest, child);
        assert_eq!(index.children[0].platform.as_deref(), Some("linux/amd64"));
        let image = registry
            .manifest(&repository, &child)
            .await
            .expect("child reads");
        assert!(!image.is_index);
        let missing = registry
            .manifest(&repository, "nope")
            .await
            .expect_err("unknown tag");
        assert!(missing.is_unknown(), "{missing}");
        let exchanges = fake
            .requests()
            .iter()
            .filter(|request| request.path.starts_with("/token"))
            .count();
        assert_eq!(exchanges, 1);
    }

    #[tokio::test]
    async fn a_refused_token_exchange_is_not_repeated_for_every_manifest() {
        let fake = FakeGitHub::start(
            Seed::new().owner(OwnerSeed::org("acme")).package(
                PackageSeed::new("acme", "container", "app")
                    .versions(vec![VersionSeed::new(1, days(1)).tags(&["v1"])]),
            ),
        )
        .expect("fake starts");
        let registry =
            Registry::new(&fake.url(), &Token::new("ghp_wrong".into())).expect("client builds");
        for reference in ["v1", "v2", "v3"] {
            assert!(registry.manifest("acme/app", reference).await.is_err());
        }
        let exchanges = fake
            .requests()
            .iter()
            .filter(|request| request.path.starts_with("/token"))
            .count();
        assert_eq!(exchanges, 1);
    }

    #[tokio::test]
    async fn a_rejected_token_exchange_is_an_error_naming_the_realm() {
        let fake = FakeGitHub::start(
            Seed::new().owner(OwnerSeed::org("acme")).package(
                PackageSeed::new("acme", "container", "app")
                    .versions(vec![VersionSeed::new(1, days(1)).tags(&["v1"])]),
            ),
        )
        .expect("fake starts");
        let registry =
            Registry::new(&fake.url(), &Token::new("ghp_wrong".into())).expect("client builds");
        let err = registry
            .manifest("acme/app", "v1")
            .await
            .expect_err("bad credentials");
        assert_eq!(err.status, Some(401));
        assert!(err.url.contains("/token?service="), "{err}");
        assert!(!err.to_string().contains("ghp_wrong"), "{err}");
    }

    #[test]
    fn repositories_are_lower_cased_owner_slash_name() {
        assert_eq!(repository("Acme", "Team/App"), "acme/team/app");
    }

    #[test]
    fn registry_errors_carry_the_registry_code_and_message() {
        let body = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        let err = error("https://r/v2/a/b/manifests/x", 404, body);
        assert!(err.is_unknown());
        assert_eq!(
            err.to_string(),
            "GET https://r/v2/a/b/manifests/x answered 404: MANIFEST_UNKNOWN manifest unknown"
        );
        assert_eq!(error("u", 500, "oops").message, "oops");
    }

    #[test]
    fn query_values_keep_scopes_readable_and_encode_the_rest() {
        assert_eq!(
            encode_query("repository:acme/app:pull,push"),
            "repository:acme/app:pull%2Cpush"
        );
        assert_eq!(encode_query("a b&c"), "a%20b%26c");
    }
}
