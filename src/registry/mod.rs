//! Thin client for a container registry's manifests (the OCI distribution API), over octocrab.
//!
//! A second Octocrab instance without credentials is the transport: octocrab only attaches
//! its own token to its base host and relative URIs, and registry requests carry their own
//! `Authorization`. Flow (the token authentication of the CNCF distribution spec,
//! https://distribution.github.io/distribution/spec/auth/token/, which ghcr.io follows): a
//! request answered 401 with a `www-authenticate: Bearer realm=...,service=...,scope=...`
//! challenge is followed by `GET realm?service=&scope=` with Basic auth (any username, the
//! GitHub token as password, as GitHub's "Working with the Container registry" says), whose
//! `{"token"}` is sent as `Bearer` on a retry and cached per repository. This layer knows
//! nothing of policy.
//!
//! Registry data is hostile: the token goes only to a realm [`challenge::trust`] accepts
//! (the registry's own host, over https), redirects are never followed (octocrab is built
//! without its `follow-redirect` feature, so a 3xx is an answer like any other), a manifest
//! read by digest must hash to that digest, and every request has a whole-request deadline
//! and a body size cap. 5xx, 429, connection errors and timeouts are retried with backoff a
//! bounded number of times; a refused TLS certificate is not, and its host is not asked
//! again.

pub mod challenge;
pub mod manifest;
pub mod placeholder;
pub mod push;
pub mod tags;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, LINK, LOCATION,
    WWW_AUTHENTICATE,
};
use octocrab::Octocrab;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::model::manifest::Manifest;

use crate::transport::body::{BodyError, read_capped};
use crate::transport::client;
use crate::transport::encode::percent_encode;
use crate::transport::pacing::{self, Pacing};
use crate::transport::token::Token;

/// Username sent with the token exchange's Basic auth; registries ignore it.
const USERNAME: &str = "package-janitor";

/// The longest wait this layer sleeps: it has no log, and every longer wait must be logged.
const QUIET_WAIT: Duration = Duration::from_secs(10);

/// Why a registry read failed, where the caller branches on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The registry answered with this status (404 `MANIFEST_UNKNOWN`, 5xx, 401, 3xx...).
    Status(u16),
    /// The challenge's token realm is not one the token may be sent to (this host).
    UntrustedRealm(String),
    /// The bytes served do not hash to the digest asked for.
    DigestMismatch,
    /// A 200 whose body is not a manifest (or a token answer without a token).
    Malformed,
    /// The answer was larger than [`Patience::body_cap`].
    TooLarge,
    /// No complete answer (headers and body) within [`Patience::deadline`].
    Deadline,
    /// No answer: connection refused or reset, DNS, a failed TLS handshake.
    Transport,
    /// The host's TLS certificate was refused (unknown issuer, expired, wrong name): never
    /// retried, and the host is not asked again in this run.
    Certificate,
}

/// A failed registry request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// `GET` for reads (and `HEAD`, shown as `GET`), `PUT`, `POST` or `DELETE` for writes.
    pub method: &'static str,
    pub url: String,
    pub kind: ErrorKind,
    /// The registry's own error code and message when it sent them, else what went wrong.
    pub message: String,
}

impl RegistryError {
    fn new(url: &str, kind: ErrorKind, message: impl Into<String>) -> RegistryError {
        RegistryError {
            method: "GET",
            url: url.to_string(),
            kind,
            message: message.into(),
        }
    }

    /// The same error, for a request of `method`.
    fn sent_as(self, method: &'static str) -> RegistryError {
        RegistryError { method, ..self }
    }

    /// 401 or 403: the registry refused the credentials for this request (to push, the
    /// token lacks write access to the package).
    pub fn is_denied(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    /// The HTTP status, when the registry answered.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            ErrorKind::Status(status) => Some(status),
            _ => None,
        }
    }

    /// 404: the manifest is not in the registry (deleted, or never pushed).
    pub fn is_unknown(&self) -> bool {
        self.status() == Some(404)
    }

    /// The host of a token realm the token was withheld from.
    pub fn untrusted_realm(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::UntrustedRealm(host) => Some(host),
            _ => None,
        }
    }

    /// The host's TLS certificate was refused.
    pub fn refused_certificate(&self) -> bool {
        self.kind == ErrorKind::Certificate
    }

    /// Why, without the URL: for a reason next to a version that already names the digest.
    pub fn reason(&self) -> String {
        match &self.kind {
            ErrorKind::Status(status) if self.message.is_empty() => format!("{status}"),
            ErrorKind::Status(status) => format!("{status} {}", self.message),
            ErrorKind::UntrustedRealm(host) => format!("untrusted token realm {host}"),
            ErrorKind::DigestMismatch => format!("digest mismatch: {}", self.message),
            _ => self.message.clone(),
        }
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = self.method;
        match self.kind {
            ErrorKind::Status(status) => {
                write!(
                    f,
                    "{method} {} answered {status}: {}",
                    self.url, self.message
                )
            }
            _ => write!(f, "{method} {} failed: {}", self.url, self.reason()),
        }
    }
}

impl std::error::Error for RegistryError {}

/// How long and how often the client tries, and how much it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patience {
    /// Tries per request on 5xx, 429, connection errors and timeouts.
    pub max_tries: u32,
    /// First backoff; doubles per try (see [`Pacing::backoff`]).
    pub retry_base: Duration,
    /// A 429's `retry-after` longer than this is not slept: the read fails. Backoffs are
    /// capped at [`QUIET_WAIT`] too.
    pub longest_wait: Duration,
    /// Whole-request deadline, headers and body.
    pub deadline: Duration,
    /// Largest answer body read; manifests are a few KiB, indexes rarely above 100 KiB.
    pub body_cap: usize,
}

impl Patience {
    /// The API client's tries and backoff, a 60 s deadline and a 4 MiB body cap. A
    /// `retry-after` is slept up to `rate-limit-wait` but never over [`QUIET_WAIT`]; a
    /// manifest not read is kept anyway.
    pub fn from_pacing(pacing: &Pacing) -> Patience {
        Patience {
            max_tries: pacing.max_tries.max(1),
            retry_base: pacing.retry_base,
            longest_wait: pacing.rate_limit_wait.min(QUIET_WAIT),
            deadline: Duration::from_secs(60),
            body_cap: 4 << 20,
        }
    }
}

/// A registry client for one base URL and one GitHub token.
pub struct Registry {
    crab: Octocrab,
    base: String,
    token: Token,
    patience: Patience,
    /// The token exchange's result by repository (`owner/name`, lower-cased; with
    /// [`PUSH_KEY`] appended for the token asked with `push` scope): a bearer token, or the
    /// refusal, so that a token the registry rejects (or a realm the token is withheld from)
    /// is tried once, not once per manifest.
    bearer: Mutex<HashMap<String, Result<String, RegistryError>>>,
    /// Hosts whose TLS certificate was refused, with the error: not asked again.
    refused_certificates: std::sync::Mutex<HashMap<String, RegistryError>>,
    stats: std::sync::Mutex<Stats>,
}

/// What the registry client has sent, for the run's closing line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Every try sent, token exchanges and retries included.
    pub requests: u64,
    /// Tries repeated after a 5xx, 429, connection error or deadline.
    pub retries: u64,
}

/// A poisoned lock only means another read panicked; the numbers inside are still right.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// One answer, whatever its status. Headers longer than [`MAX_HEADER`] count as absent.
struct Answer {
    status: u16,
    content_type: Option<String>,
    challenge: Option<String>,
    retry_after: Option<Duration>,
    /// `Docker-Content-Digest`.
    digest: Option<String>,
    link: Option<String>,
    /// `Location`, where an upload goes on.
    location: Option<String>,
    body: Vec<u8>,
}

/// The longest header value read; registry headers are a few hundred bytes.
const MAX_HEADER: usize = 4096;

/// What a request asks for: `GET` or `HEAD`, with the manifest `Accept` list or without,
/// or a write with its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request<'a> {
    /// `GET` with the manifest `Accept` list.
    Manifest,
    /// `HEAD` with the manifest `Accept` list.
    Head,
    /// A plain `GET` (the tag list, the token exchange).
    Get,
    /// A write (see [`push`]): its token is asked for with `push` scope.
    Write {
        verb: Verb,
        content_type: Option<&'a str>,
        body: &'a [u8],
    },
}

/// The methods of writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Post,
    Put,
    Delete,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// Appended to the repository to key the bearer token asked for with `push` scope.
const PUSH_KEY: &str = " push";

/// A manifest read by reference: parsed, with the exact bytes served (which hash to the
/// digest when it was read by digest) and the `Content-Type` they were served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub manifest: Manifest,
    pub bytes: Vec<u8>,
    /// `Content-Type`, without parameters.
    pub media_type: Option<String>,
}

/// What `HEAD` of a manifest says: its digest and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `Docker-Content-Digest`, a checked `sha256:` digest.
    pub digest: String,
    /// `Content-Type`, without parameters.
    pub media_type: Option<String>,
}

/// The registry path of a package: `owner/name`, lower-cased as registries require.
pub fn repository(owner: &str, package: &str) -> String {
    format!("{owner}/{package}").to_ascii_lowercase()
}

impl Registry {
    pub fn new(base: &str, token: &Token, patience: Patience) -> anyhow::Result<Registry> {
        let crab = client::build(base, None, &[], patience.deadline).map_err(|problem| {
            anyhow::anyhow!(
                "cannot set up the client for the registry at {base} (input `registry-url`): {problem}"
            )
        })?;
        Ok(Registry {
            crab,
            base: base.trim_end_matches('/').to_string(),
            token: token.clone(),
            patience,
            bearer: Mutex::new(HashMap::new()),
            refused_certificates: std::sync::Mutex::new(HashMap::new()),
            stats: std::sync::Mutex::new(Stats::default()),
        })
    }

    /// What the client has sent so far.
    pub fn stats(&self) -> Stats {
        *lock(&self.stats)
    }

    /// The manifest `reference` (a tag or `sha256:` digest) of `repository`. Read by digest,
    /// the bytes must hash to it.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        self.manifest_read(repository, reference)
            .await
            .map(|read| read.manifest)
    }

    /// [`Registry::manifest`], with the bytes served.
    pub async fn manifest_read(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Read, RegistryError> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
        if let Err(problem) = check_names(repository, reference) {
            return Err(RegistryError::new(&url, ErrorKind::Malformed, problem));
        }
        let answer = self.authorized(repository, &url, Request::Manifest).await?;
        if answer.status != 200 {
            return Err(error(&url, answer.status, &answer.body));
        }
        verify(&url, reference, &answer.body)?;
        let manifest = manifest::parse(answer.content_type.as_deref(), &answer.body)
            .map_err(|message| RegistryError::new(&url, ErrorKind::Malformed, message))?;
        Ok(Read {
            manifest,
            bytes: answer.body,
            media_type: answer.content_type.as_deref().map(bare_media_type),
        })
    }

    /// `HEAD` of the manifest `reference` (a tag or `sha256:` digest): its digest, which must
    /// be a well-formed `sha256:` digest (and the one asked for, by digest), and its media
    /// type. Spends no REST budget.
    pub async fn head(&self, repository: &str, reference: &str) -> Result<Head, RegistryError> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
        if let Err(problem) = check_names(repository, reference) {
            return Err(RegistryError::new(&url, ErrorKind::Malformed, problem));
        }
        let answer = self.authorized(repository, &url, Request::Head).await?;
        if answer.status != 200 {
            return Err(error(&url, answer.status, &answer.body));
        }
        let digest = answer
            .digest
            .filter(|digest| is_digest(digest))
            .ok_or_else(|| {
                RegistryError::new(
                    &url,
                    ErrorKind::Malformed,
                    "the answer names no sha256 digest (Docker-Content-Digest)",
                )
            })?;
        if is_digest(reference) && !digest.eq_ignore_ascii_case(reference) {
            return Err(RegistryError::new(
                &url,
                ErrorKind::DigestMismatch,
                format!("the registry names {digest}"),
            ));
        }
        let media_type = answer.content_type.as_deref().map(bare_media_type);
        Ok(Head {
            digest: digest.to_ascii_lowercase(),
            media_type,
        })
    }

    /// One request for `repository` with the registry's bearer token: the one cached for
    /// it, or, when the registry answers 401 with a challenge, one exchanged for it.
    ///
    /// A write's token is asked for with `push` scope (`repository:<name>:pull,push`) and
    /// kept apart from the read token, under the same trusted-realm rule.
    async fn authorized(
        &self,
        repository: &str,
        url: &str,
        request: Request<'_>,
    ) -> Result<Answer, RegistryError> {
        let (key, scope) = match request {
            Request::Write { .. } => (
                format!("{repository}{PUSH_KEY}"),
                Some(format!("repository:{repository}:pull,push")),
            ),
            _ => (repository.to_string(), None),
        };
        let cached = self.bearer.lock().await.get(&key).cloned().transpose()?;
        let bearer = cached.as_ref().map(|token| format!("Bearer {token}"));
        let answer = self.get(url, bearer.as_deref(), request).await?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let token = self
            .bearer_token(&key, cached, url, &answer, scope.as_deref())
            .await?;
        self.get(url, Some(&format!("Bearer {token}")), request)
            .await
    }

    /// A bearer token for `repository`: one another task fetched meanwhile, or a new one
    /// from the challenge's realm. The lock is held over the exchange, so concurrent reads
    /// of one repository exchange the token once.
    async fn bearer_token(
        &self,
        key: &str,
        rejected: Option<String>,
        url: &str,
        answer: &Answer,
        scope: Option<&str>,
    ) -> Result<String, RegistryError> {
        let mut cache = self.bearer.lock().await;
        match cache.get(key) {
            Some(Ok(token)) if Some(token) != rejected.as_ref() => return Ok(token.clone()),
            Some(Err(refusal)) => return Err(refusal.clone()),
            _ => {}
        }
        let exchanged = self.exchange(url, answer, scope).await;
        cache.insert(key.to_string(), exchanged.clone());
        exchanged
    }

    /// `GET realm?service=&scope=` with Basic auth (the GitHub token as password), only when
    /// the realm is one the token may go to. `scope` replaces the challenge's (a write asks
    /// for `push`).
    async fn exchange(
        &self,
        url: &str,
        answer: &Answer,
        scope: Option<&str>,
    ) -> Result<String, RegistryError> {
        let challenge = answer
            .challenge
            .as_deref()
            .and_then(challenge::parse)
            .ok_or_else(|| error(url, 401, &answer.body))?;
        challenge::trust(&challenge.realm, &self.base).map_err(|host| {
            RegistryError::new(
                url,
                ErrorKind::UntrustedRealm(host),
                "the token was not sent",
            )
        })?;
        let mut token_url = challenge.realm.clone();
        let mut separator = if token_url.contains('?') { '&' } else { '?' };
        let scope = scope.map(str::to_string).or(challenge.scope);
        for (name, value) in [("service", &challenge.service), ("scope", &scope)] {
            if let Some(value) = value {
                token_url.push_str(&format!("{separator}{name}={}", encode_query(value)));
                separator = '&';
            }
        }
        let basic = STANDARD.encode(format!("{USERNAME}:{}", self.token.expose()));
        let reply = self
            .get(&token_url, Some(&format!("Basic {basic}")), Request::Get)
            .await?;
        if reply.status != 200 {
            return Err(error(&token_url, reply.status, &reply.body));
        }
        #[derive(serde::Deserialize)]
        struct TokenBody {
            token: Option<String>,
            access_token: Option<String>,
        }
        serde_json::from_slice::<TokenBody>(&reply.body)
            .ok()
            .and_then(|body| body.token.or(body.access_token))
            .ok_or_else(|| {
                RegistryError::new(
                    &token_url,
                    ErrorKind::Malformed,
                    "the token answer has no `token`",
                )
            })
    }

    /// `request` of `url` (absolute) with `authorization` (a full header value). Any status
    /// is an answer, except that 5xx and
    /// 429 answers, connection errors and deadlines are retried with backoff (a 429 after
    /// its `retry-after`, unless that is longer than [`Patience::longest_wait`]) until
    /// [`Patience::max_tries`] tries are spent; the last outcome is returned.
    async fn get(
        &self,
        url: &str,
        authorization: Option<&str>,
        request: Request<'_>,
    ) -> Result<Answer, RegistryError> {
        let patience = &self.patience;
        let mut tries = 0;
        loop {
            tries += 1;
            let outcome =
                tokio::time::timeout(patience.deadline, self.try_get(url, authorization, request))
                    .await
                    .unwrap_or_else(|_| {
                        Err(RegistryError::new(
                            url,
                            ErrorKind::Deadline,
                            format!(
                                "no complete answer within the {}s deadline for registry requests",
                                patience.deadline.as_secs_f64()
                            ),
                        ))
                    })
                    .map_err(|err| match request {
                        Request::Write { verb, .. } => err.sent_as(verb.as_str()),
                        _ => err,
                    });
            let backoff = Pacing::backoff(patience.retry_base, tries).min(QUIET_WAIT);
            let wait = match &outcome {
                Ok(answer) if answer.status >= 500 => Some(backoff),
                Ok(answer) if answer.status == 429 => match answer.retry_after {
                    Some(wait) if wait > patience.longest_wait => None,
                    Some(wait) => Some(wait),
                    None => Some(backoff),
                },
                Ok(_) => None,
                Err(err) => matches!(err.kind, ErrorKind::Transport | ErrorKind::Deadline)
                    .then_some(backoff),
            };
            match wait {
                Some(wait) if tries < patience.max_tries => {
                    lock(&self.stats).retries += 1;
                    tokio::time::sleep(wait).await;
                }
                _ => return outcome,
            }
        }
    }

    /// One try of [`Registry::get`], reading at most [`Patience::body_cap`] bytes.
    async fn try_get(
        &self,
        url: &str,
        authorization: Option<&str>,
        request: Request<'_>,
    ) -> Result<Answer, RegistryError> {
        let host = client::host_of(url);
        if let Some(refused) = lock(&self.refused_certificates).get(&host) {
            return Err(RegistryError {
                url: url.to_string(),
                ..refused.clone()
            });
        }
        let transport = |message: String| RegistryError::new(url, ErrorKind::Transport, message);
        let method = match request {
            Request::Head => http::Method::HEAD,
            Request::Manifest | Request::Get => http::Method::GET,
            Request::Write {
                verb: Verb::Post, ..
            } => http::Method::POST,
            Request::Write {
                verb: Verb::Put, ..
            } => http::Method::PUT,
            Request::Write {
                verb: Verb::Delete, ..
            } => http::Method::DELETE,
        };
        let mut builder = http::Request::builder().method(method).uri(url);
        if matches!(request, Request::Manifest | Request::Head) {
            builder = builder.header(ACCEPT, HeaderValue::from_static(manifest::ACCEPT));
        }
        if let Some(authorization) = authorization {
            let mut value = HeaderValue::from_str(authorization)
                .map_err(|_| transport("the token is not a valid header value".to_string()))?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        let built = match request {
            Request::Write {
                content_type, body, ..
            } => {
                if let Some(content_type) = content_type {
                    let value = HeaderValue::from_str(content_type)
                        .map_err(|_| transport("the media type is not a header value".into()))?;
                    builder = builder.header(CONTENT_TYPE, value);
                }
                builder
                    .header(CONTENT_LENGTH, body.len())
                    .body(octocrab::OctoBody::from(body.to_vec()))
                    .map_err(|err| transport(err.to_string()))?
            }
            _ => self
                .crab
                .build_request(builder, None::<&()>)
                .map_err(|err| transport(err.to_string()))?,
        };
        lock(&self.stats).requests += 1;
        let response = self.crab.execute(built).await.map_err(|err| {
            match client::certificate_problem(&err) {
                Some(problem) => {
                    let message = client::certificate_message(&host, &problem);
                    let refused = RegistryError::new(url, ErrorKind::Certificate, message);
                    lock(&self.refused_certificates).insert(host.clone(), refused.clone());
                    refused
                }
                None => transport(client::describe(&err)),
            }
        })?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .filter(|value| value.len() <= MAX_HEADER)
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let challenge = header(WWW_AUTHENTICATE);
        let digest = header(http::HeaderName::from_static("docker-content-digest"));
        let link = header(LINK);
        let location = header(LOCATION);
        let retry_after = pacing::retry_after(|name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        });
        let body = read_capped(response.into_body(), self.patience.body_cap)
            .await
            .map_err(|problem| match problem {
                BodyError::Transport(err) => transport(err.to_string()),
                BodyError::TooLarge(cap) => RegistryError::new(
                    url,
                    ErrorKind::TooLarge,
                    format!("the answer is larger than the {cap}-byte cap for registry answers"),
                ),
            })?;
        Ok(Answer {
            status,
            content_type,
            challenge,
            retry_after,
            digest,
            link,
            location,
            body,
        })
    }
}

/// A `Content-Type` without its parameters.
fn bare_media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Package and version names come from the API, so they are checked before they become a
/// URL path: a repository of lower-case components (no `.` or `..`), and a reference that
/// is a `sha256:` digest or an OCI tag. Anything else (`../`, `?`, `#`, spaces) is never
/// sent, and the manifest counts as unreadable.
fn check_names(repository: &str, reference: &str) -> Result<(), String> {
    let component = |part: &str| {
        let bytes = part.as_bytes();
        bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.iter().all(|&byte| {
                byte.is_ascii_digit() || byte.is_ascii_lowercase() || b"._-".contains(&byte)
            })
    };
    if !repository.split('/').all(component) {
        return Err(format!(
            "`{repository}` is not a valid repository name; not read"
        ));
    }
    if is_digest(reference) || is_tag(reference) {
        Ok(())
    } else {
        Err(format!(
            "`{reference}` is neither a sha256 digest nor a tag; not read"
        ))
    }
}

/// A `sha256:` digest: 64 hex digits.
pub fn is_digest(reference: &str) -> bool {
    reference
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// An OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_tag(reference: &str) -> bool {
    reference.len() <= 128
        && reference
            .as_bytes()
            .first()
            .is_some_and(|&byte| byte.is_ascii_alphanumeric() || byte == b'_')
        && reference
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
}

/// When `reference` is a digest, check that `body` hashes to it. Only `sha256:` digests can
/// be checked (the only kind GitHub names versions with); others are refused.
fn verify(url: &str, reference: &str, body: &[u8]) -> Result<(), RegistryError> {
    let Some((algorithm, expected)) = reference.split_once(':') else {
        return Ok(());
    };
    if algorithm != "sha256" {
        return Err(RegistryError::new(
            url,
            ErrorKind::DigestMismatch,
            format!("cannot check a `{algorithm}` digest"),
        ));
    }
    let actual: String = Sha256::digest(body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(RegistryError::new(
            url,
            ErrorKind::DigestMismatch,
            format!("the bytes served hash to sha256:{actual}"),
        ))
    }
}

/// An error answer: the registry's `errors[0]` code and message when it sent them.
fn error(url: &str, status: u16, body: &[u8]) -> RegistryError {
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
    let message = serde_json::from_slice::<Errors>(body)
        .ok()
        .and_then(|errors| errors.errors.into_iter().next())
        .map(|detail| format!("{} {}", detail.code, detail.message))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    RegistryError::new(url, ErrorKind::Status(status), message.trim())
}

/// Percent-encode a query value, keeping the characters scopes and hosts are made of.
fn encode_query(value: &str) -> String {
    percent_encode(value, b"-._~:/")
}

#[cfg(test)]
mod tests {
    use super::*;

    use fake_github::{
        FakeGitHub, Heard, OwnerSeed, PackageSeed, Scripted, ScriptedServer, Seed, TokenSeed,
        VersionSeed, days,
    };

    const TOKEN: &str = "ghp_secret_of_the_test";
    const IMAGE: &[u8] =
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;

    fn sha256(bytes: &[u8]) -> String {
        let hex: String = Sha256::digest(bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("sha256:{hex}")
    }

    fn client(base: &str, patience: Patience) -> Registry {
        Registry::new(base, &Token::new(TOKEN.into()), patience).expect("client builds")
    }

    fn serve(
        ip: &str,
        script: impl Fn(usize, &Heard) -> Scripted + Send + Sync + 'static,
    ) -> ScriptedServer {
        ScriptedServer::start(ip, script).expect("server starts")
    }

    /// A request carried credentials: an `Authorization` header, or the token anywhere.
    fn credentials(heard: &[Heard]) -> Vec<&Heard> {
        heard
            .iter()
            .filter(|h| {
                h.header("authorization").is_some()
                    || format!("{h:?}").contains(TOKEN)
                    || format!("{h:?}").contains(&STANDARD.encode(format!("{USERNAME}:{TOKEN}")))
            })
            .collect()
    }

    /// The defaults, with backoff shortened: tests assert outcomes, never speed.
    fn patience() -> Patience {
        Patience {
            retry_base: Duration::from_millis(5),
            ..Patience::from_pacing(&Pacing::default())
        }
    }

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
        let registry = Registry::new(&fake.url(), &Token::new("ghp_a".into()), patience())
            .expect("client builds");
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
        let registry = Registry::new(&fake.url(), &Token::new("ghp_wrong".into()), patience())
            .expect("client builds");
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
        let registry = Registry::new(&fake.url(), &Token::new("ghp_wrong".into()), patience())
            .expect("client builds");
        let err = registry
            .manifest("acme/app", "v1")
            .await
            .expect_err("bad credentials");
        assert_eq!(err.status(), Some(401));
        assert!(err.url.contains("/token?service="), "{err}");
        assert!(!err.to_string().contains("ghp_wrong"), "{err}");
    }

    #[tokio::test]
    async fn no_credentials_go_to_a_realm_on_another_host() {
        for (ip, host) in [("127.0.0.2", "127.0.0.2"), ("127.0.0.1", "localhost")] {
            let realm = serve(ip, |_, _| Scripted::new(200).body(r#"{"token":"t"}"#));
            let port = realm
                .url()
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string();
            let challenge = format!(
                "Bearer realm=\"http://{host}:{port}/token\",service=\"x\",scope=\"repository:acme/app:pull\""
            );
            let registry = serve("127.0.0.1", move |_, _| {
                Scripted::new(401).header("www-authenticate", &challenge)
            });
            let client = client(&registry.url(), patience());
            for _ in 0..2 {
                let err = client
                    .manifest("acme/app", "v1")
                    .await
                    .expect_err("untrusted realm");
                assert_eq!(err.untrusted_realm(), Some(host), "{err}");
                assert_eq!(err.reason(), format!("untrusted token realm {host}"));
            }
            assert_eq!(realm.heard(), vec![], "the realm on {host} heard nothing");
            assert_eq!(
                registry.heard().len(),
                1,
                "the refusal is kept per repository"
            );
            assert_eq!(credentials(&registry.heard()), Vec::<&Heard>::new());
        }
    }

    #[tokio::test]
    async fn no_credentials_go_to_a_plain_http_realm_of_an_https_registry() {
        let realm = serve("127.0.0.1", |_, _| {
            Scripted::new(200).body(r#"{"token":"t"}"#)
        });
        let client = client("https://127.0.0.1:1", patience());
        let answer = Answer {
            status: 401,
            content_type: None,
            challenge: Some(format!("Bearer realm=\"{}/token\"", realm.url())),
            retry_after: None,
            digest: None,
            link: None,
            location: None,
            body: Vec::new(),
        };
        let err = client
            .exchange("https://127.0.0.1:1/v2/a/b/manifests/v1", &answer, None)
            .await
            .expect_err("http realm for an https registry");
        assert_eq!(err.untrusted_realm(), Some("127.0.0.1"), "{err}");
        assert_eq!(realm.heard(), vec![]);
    }

    #[tokio::test]
    async fn redirects_are_answers_never_followed_with_or_without_credentials() {
        let elsewhere = serve("127.0.0.2", |_, _| Scripted::new(200).body(IMAGE));
        let target = elsewhere.url();
        let registry = serve("127.0.0.1", move |_, heard| {
            let host = heard.header("host").unwrap_or_default().to_string();
            if heard.path.starts_with("/token") {
                Scripted::new(302).header("location", &format!("{target}/token"))
            } else if heard.header("authorization").is_none() && heard.path.ends_with("/v1") {
                let challenge = format!("Bearer realm=\"http://{host}/token\",scope=\"s\"");
                Scripted::new(401).header("www-authenticate", &challenge)
            } else {
                Scripted::new(307).header("location", &format!("{target}{}", heard.path))
            }
        });
        let client = client(&registry.url(), patience());
        let manifest = client.manifest("acme/app", "other").await.expect_err("307");
        assert_eq!(manifest.status(), Some(307), "{manifest}");
        let exchange = client.manifest("acme/app", "v1").await.expect_err("302");
        assert_eq!(exchange.status(), Some(302), "{exchange}");
        assert!(exchange.url.contains("/token?scope=s"), "{exchange}");
        assert_eq!(elsewhere.heard(), vec![], "nothing followed the redirects");
        let sent_basic = registry
            .heard()
            .iter()
            .filter(|h| {
                h.header("authorization")
                    .is_some_and(|a| a.starts_with("Basic "))
            })
            .count();
        assert_eq!(
            sent_basic, 1,
            "the token went once, to the realm on the registry's host"
        );
    }

    #[tokio::test]
    async fn server_errors_and_429s_are_retried_a_bounded_number_of_times() {
        let recovering = serve("127.0.0.1", |nth, _| match nth {
            0 => Scripted::new(503),
            1 => Scripted::new(429).header("retry-after", "0"),
            _ => Scripted::new(200).body(IMAGE),
        });
        let client = client_for(&recovering, patience());
        let read = client.manifest("acme/app", &sha256(IMAGE)).await;
        assert_eq!(read.map_err(|err| err.to_string()), Ok(Manifest::default()));
        assert_eq!(recovering.heard().len(), 3);
        assert_eq!(
            client.stats(),
            Stats {
                requests: 3,
                retries: 2
            },
            "every try and every retry is counted"
        );

        let down = serve("127.0.0.1", |_, _| Scripted::new(503).body("down"));
        let err = client_for(&down, patience())
            .manifest("acme/app", "v1")
            .await
            .expect_err("503");
        assert_eq!(err.reason(), "503 down");
        assert_eq!(down.heard().len(), patience().max_tries as usize);

        let far = serve("127.0.0.1", |_, _| {
            Scripted::new(429).header("retry-after", "86400")
        });
        let err = client_for(&far, patience())
            .manifest("acme/app", "v1")
            .await
            .expect_err("429");
        assert_eq!(err.status(), Some(429));
        assert_eq!(
            far.heard().len(),
            1,
            "a wait longer than rate-limit-wait is not slept"
        );

        let refused = Registry::new("http://127.0.0.1:1", &Token::new(TOKEN.into()), patience())
            .expect("client builds");
        let err = refused
            .manifest("acme/app", "v1")
            .await
            .expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Transport, "{err}");
    }

    #[tokio::test]
    async fn a_certificate_the_runner_does_not_trust_fails_at_once_and_its_host_is_not_asked_again()
    {
        let server = ScriptedServer::start_tls("127.0.0.1", |_, _| Scripted::new(200).body(IMAGE))
            .expect("TLS server starts");
        let host = server.url().trim_start_matches("https://").to_string();
        let client = client_for(&server, patience());
        for reference in ["v1", "v2", "v3"] {
            let err = client
                .manifest("acme/app", reference)
                .await
                .expect_err("an untrusted certificate");
            assert_eq!(err.kind, ErrorKind::Certificate, "{err}");
            assert!(err.url.ends_with(reference), "{err}");
            let reason = err.reason();
            let expected = format!(
                "TLS certificate problem: the certificate of {host} is not trusted: it is signed by a certificate authority this runner does not trust"
            );
            assert!(reason.starts_with(&expected), "{reason}");
            assert!(reason.contains("SSL_CERT_FILE"), "{reason}");
        }
        assert_eq!(
            server.connections(),
            1,
            "one handshake: no retry, no second try"
        );
        assert_eq!(
            server.heard(),
            vec![],
            "no request went over the refused connection"
        );
        assert_eq!(
            client.stats(),
            Stats {
                requests: 1,
                retries: 0
            }
        );
    }

    fn client_for(server: &ScriptedServer, patience: Patience) -> Registry {
        client(&server.url(), patience)
    }

    #[tokio::test]
    async fn a_dripping_answer_meets_the_whole_request_deadline_on_every_try() {
        let drip = serve("127.0.0.1", |_, _| {
            Scripted::new(200)
                .body(vec![b' '; 100])
                .drip(Duration::from_millis(50))
        });
        let patience = Patience {
            deadline: Duration::from_millis(300),
            max_tries: 2,
            ..patience()
        };
        let err = client_for(&drip, patience)
            .manifest("acme/app", "v1")
            .await
            .expect_err("deadline");
        assert_eq!(err.kind, ErrorKind::Deadline, "{err}");
        assert!(err.reason().contains("0.3s deadline"), "{err}");
        assert_eq!(drip.heard().len(), 2);
    }

    #[tokio::test]
    async fn an_answer_over_the_body_cap_is_refused_naming_the_cap() {
        let huge = serve("127.0.0.1", |_, _| {
            Scripted::new(200).body(vec![b' '; 4096])
        });
        let patience = Patience {
            body_cap: 1024,
            ..patience()
        };
        let err = client_for(&huge, patience)
            .manifest("acme/app", "v1")
            .await
            .expect_err("too large");
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert!(err.reason().contains("1024-byte cap"), "{err}");
    }

    #[tokio::test]
    async fn a_manifest_read_by_digest_must_hash_to_it() {
        let server = serve("127.0.0.1", |_, _| Scripted::new(200).body(IMAGE));
        let client = client_for(&server, patience());
        assert!(client.manifest("acme/app", &sha256(IMAGE)).await.is_ok());
        assert!(
            client.manifest("acme/app", "v1").await.is_ok(),
            "tags cannot be checked"
        );
        let other = sha256(b"other bytes");
        let err = client
            .manifest("acme/app", &other)
            .await
            .expect_err("mismatch");
        assert_eq!(err.kind, ErrorKind::DigestMismatch);
        assert_eq!(
            err.reason(),
            format!(
                "digest mismatch: the bytes served hash to {}",
                sha256(IMAGE)
            )
        );
    }

    #[test]
    fn registry_patience_follows_the_pacing_but_never_sleeps_unlogged_past_ten_seconds() {
        let table = [
            (Duration::from_secs(300), Duration::from_secs(10)),
            (Duration::from_secs(3), Duration::from_secs(3)),
        ];
        for (rate_limit_wait, longest) in table {
            let pacing = Pacing {
                rate_limit_wait,
                max_tries: 7,
                ..Pacing::default()
            };
            let patience = Patience::from_pacing(&pacing);
            assert_eq!(patience.longest_wait, longest);
            assert_eq!(patience.max_tries, 7);
            assert_eq!(patience.retry_base, pacing.retry_base);
            assert_eq!(patience.deadline, Duration::from_secs(60));
            assert_eq!(patience.body_cap, 4 << 20);
        }
    }

    #[tokio::test]
    async fn names_that_would_bend_the_url_are_never_sent() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let cases = [
            ("acme/app", digest.as_str(), true),
            ("acme/team/app-1.x_y", "v1.0.0", true),
            ("acme/app", "../../../token", false),
            ("acme/..", digest.as_str(), false),
            ("acme/./app", digest.as_str(), false),
            ("acme//app", digest.as_str(), false),
            ("acme/app?x=1", digest.as_str(), false),
            ("acme/app", "v1#frag", false),
            ("acme/app", "v1?x", false),
            ("acme/app", "sha256:abc", false),
            ("acme/app", "sha512:abc", false),
            ("acme/app", "", false),
            ("acme/app", ".hidden", false),
        ];
        for (repository, reference, valid) in cases {
            assert_eq!(
                check_names(repository, reference).is_ok(),
                valid,
                "{repository} {reference}"
            );
        }
        // Nothing listens on port 9: a name that is sent fails to connect instead.
        let registry = client("http://127.0.0.1:9", patience());
        let err = registry
            .manifest("acme/app", "../../../token")
            .await
            .expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Malformed, "{err}");
    }

    #[test]
    fn digests_are_checked_when_the_reference_is_one() {
        let table = [
            (sha256(IMAGE), true),
            (
                sha256(IMAGE)
                    .to_ascii_uppercase()
                    .replacen("SHA256", "sha256", 1),
                true,
            ),
            (sha256(b"x"), false),
            ("sha256:".to_string(), false),
            ("sha512:abcd".to_string(), false),
            ("latest".to_string(), true),
        ];
        for (reference, ok) in table {
            assert_eq!(verify("u", &reference, IMAGE).is_ok(), ok, "{reference}");
        }
    }

    #[test]
    fn repositories_are_lower_cased_owner_slash_name() {
        assert_eq!(repository("Acme", "Team/App"), "acme/team/app");
    }

    #[test]
    fn registry_errors_carry_the_registry_code_and_message() {
        let body = r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        let err = error("https://r/v2/a/b/manifests/x", 404, body.as_bytes());
        assert!(err.is_unknown());
        assert_eq!(
            err.to_string(),
            "GET https://r/v2/a/b/manifests/x answered 404: MANIFEST_UNKNOWN manifest unknown"
        );
        assert_eq!(error("u", 500, b"oops").message, "oops");
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
