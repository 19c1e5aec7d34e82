//! The OCI registry on the same server, as ghcr.io behaves (the CNCF distribution spec's token
//! authentication, https://distribution.github.io/distribution/spec/auth/token/, and the OCI
//! distribution spec, https://github.com/opencontainers/distribution-spec): the bearer-token
//! exchange and `GET|HEAD /v2/<owner>/<name>/manifests/<tag or digest>`; its writes (blob uploads,
//! manifest `PUT`) are in `push`.
//!
//! - A manifest request without a registry token for its repository answers 401 with
//!   `www-authenticate: Bearer realm="<url>/token",service="<host>",scope="repository:<owner>/<name>:pull"`.
//! - `GET /token?service=&scope=` with Basic auth whose password is a seeded GitHub token
//!   answers `{"token": "..."}`; bad credentials answer 401. Guess: without any
//!   `Authorization` it hands out an anonymous token, which reads public packages only.
//!   A scope of `repository:<owner>/<name>:pull,push` asks for a token that may also write;
//!   whether the caller may is checked at each write (see `push`).
//! - Registry tokens are good for the one repository of their scope.
//! - Manifests come from `manifests`: deleted or unknown references answer 404
//!   `MANIFEST_UNKNOWN`, a package the token cannot read 404 `NAME_UNKNOWN` (guess), a
//!   version seeded `unreadable` 500 `UNKNOWN`, one seeded `unavailable` 503 `UNAVAILABLE`
//!   (once or always), and one seeded `wrong_body` other bytes than its digest names.
//!   `HEAD` answers as `GET` without the body (axum's `get` routes do both).
//! - `GET /v2/<owner>/<name>/tags/list?n=&last=` lists the tags of the active versions in
//!   lexical order, `n` at a time (default and most 1,000, a guess), after `last`, with a
//!   `Link: <...?n=&last=>; rel="next"` while more follow (the distribution spec's paging).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LINK, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::access::Caller;
use crate::seed::{TokenKind, Visibility};
use crate::server::Shared;
use crate::state::{Package, Version, World, same_login};

/// What a registry token allows: reading one repository (and writing, when its scope asked
/// for `push`), as a GitHub caller or anonymously.
#[derive(Debug, Clone)]
pub struct Grant {
    pub caller: Option<Caller>,
    /// `owner/name`, lower-cased.
    pub repository: String,
    /// The scope asked for `push`.
    pub push: bool,
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/token", get(token)).route(
        "/v2/{*path}",
        get(registry_route)
            .put(crate::push::put_route)
            .post(crate::push::post_route)
            .delete(crate::push::delete_route),
    )
}

/// What the registry routes find versions by, built when first needed: each reference (a
/// digest, or a tag) with the positions of the versions it names, and every tag in lexical
/// order. Deletes and restores leave it right (every use checks the version is active); it
/// is rebuilt when the number of versions changes, and dropped when tags change.
#[derive(Debug, Default)]
pub struct Lookup {
    versions: usize,
    by_reference: HashMap<String, Vec<usize>>,
    tags: Vec<String>,
}

impl Lookup {
    fn build(package: &Package) -> Lookup {
        let mut by_reference: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, version) in package.versions.iter().enumerate() {
            if version.manifest.is_none() {
                continue;
            }
            for reference in std::iter::once(&version.name).chain(&version.tags) {
                by_reference
                    .entry(reference.clone())
                    .or_default()
                    .push(index);
            }
        }
        let mut tags: Vec<String> = package
            .versions
            .iter()
            .flat_map(|version| version.tags.iter().cloned())
            .collect();
        tags.sort_unstable();
        tags.dedup();
        Lookup {
            versions: package.versions.len(),
            by_reference,
            tags,
        }
    }
}

impl Package {
    /// The registry's lookup of this package, built again when it may be stale.
    fn registry_lookup(&mut self) -> &Lookup {
        if self
            .lookup
            .as_ref()
            .is_none_or(|lookup| lookup.versions != self.versions.len())
        {
            self.lookup = Some(Lookup::build(self));
        }
        self.lookup.get_or_insert_with(Lookup::default)
    }

    /// The position of the active version with a manifest that `reference` names.
    pub fn served_by(&mut self, reference: &str) -> Option<usize> {
        let positions = self
            .registry_lookup()
            .by_reference
            .get(reference)
            .cloned()?;
        positions
            .into_iter()
            .find(|index| self.versions.get(*index).is_some_and(Version::is_active))
    }
}

/// `/v2/...`: the tag list, or a manifest.
async fn registry_route(
    state: State<Arc<Shared>>,
    Path(path): Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(repository) = path.strip_suffix("/tags/list") {
        return tags_list(state, repository, query, headers);
    }
    if let Some((repository, digest)) = path.rsplit_once("/blobs/") {
        return crate::push::blob(state, repository, digest, headers);
    }
    manifest(state, Path(path), headers).await
}

/// The tags of the active versions of `repository`, paged as the distribution spec says.
fn tags_list(
    State(shared): State<Arc<Shared>>,
    repository: &str,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    const MOST: usize = 1_000;
    let Some((owner, name)) = repository.split_once('/') else {
        return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "unknown repository");
    };
    let Some(grant) = grant(&shared, &headers, repository) else {
        return challenge(&shared.base_url, repository, "pull");
    };
    let mut world = shared.world();
    let Some(id) = readable_package(&world, &grant, owner, name).map(|package| package.id) else {
        return registry_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    };
    let Some(package) = world.package_by_id_mut(id) else {
        return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "unknown repository");
    };
    let n = query
        .get("n")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(MOST)
        .min(MOST);
    let last = query.get("last").cloned().unwrap_or_default();
    let candidates: Vec<String> = package
        .registry_lookup()
        .tags
        .iter()
        .filter(|tag| last.is_empty() || tag.as_str() > last.as_str())
        .cloned()
        .collect();
    let mut page = Vec::new();
    let mut more = false;
    for tag in candidates {
        if package.served_by(&tag).is_none() {
            continue;
        }
        if page.len() == n {
            more = true;
            break;
        }
        page.push(tag);
    }
    let mut response = Json(json!({"name": repository, "tags": page})).into_response();
    if let Some(after) = page.last().filter(|_| more) {
        let link = format!("</v2/{repository}/tags/list?n={n}&last={after}>; rel=\"next\"");
        if let Ok(value) = link.parse() {
            response.headers_mut().insert(LINK, value);
        }
    }
    response
}

/// The grant of the request's bearer token, when it is for `repository`.
pub fn grant(shared: &Shared, headers: &HeaderMap, repository: &str) -> Option<Grant> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| shared.grant_for(token.trim()))
        .filter(|grant| grant.repository.eq_ignore_ascii_case(repository))
}

pub fn registry_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"code": code, "message": message, "detail": null}]});
    (status, Json(body)).into_response()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((repository, push)) = query
        .get("scope")
        .and_then(|scope| scope.strip_prefix("repository:"))
        .and_then(|scope| scope.rsplit_once(':'))
        .and_then(|(repository, actions)| match actions {
            "pull" => Some((repository, false)),
            "pull,push" | "push,pull" | "push" => Some((repository, true)),
            _ => None,
        })
    else {
        return registry_error(
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED",
            "scope must be repository:<owner>/<name>:pull or :pull,push",
        );
    };
    let caller = match headers.get(AUTHORIZATION) {
        None => None,
        Some(value) => match basic_password(value.to_str().unwrap_or_default())
            .and_then(|password| shared.world().caller(&password))
        {
            Some(caller) => Some(caller),
            None => {
                return registry_error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED",
                    "authentication required",
                );
            }
        },
    };
    let token = shared.grant(Grant {
        caller,
        repository: repository.to_ascii_lowercase(),
        push,
    });
    Json(json!({"token": token})).into_response()
}

/// The password of a `Basic` header (the username is ignored, as on ghcr.io).
fn basic_password(header: &str) -> Option<String> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    decoded
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}

async fn manifest(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((repository, reference)) = path.rsplit_once("/manifests/") else {
        return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "unknown route");
    };
    let Some((owner, name)) = repository.split_once('/') else {
        return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "unknown repository");
    };
    let Some(grant) = grant(&shared, &headers, repository) else {
        return challenge(&shared.base_url, repository, "pull");
    };
    let mut world = shared.world();
    let Some(package_id) = readable_package(&world, &grant, owner, name).map(|package| package.id)
    else {
        return registry_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    };
    let served = world.package_by_id_mut(package_id).and_then(|package| {
        let index = package.served_by(reference)?;
        package.versions.get_mut(index)?.manifest.as_mut()
    });
    let Some(served) = served else {
        return registry_error(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            "manifest unknown",
        );
    };
    if let Some(left) = served.outage.filter(|left| *left > 0) {
        if left != u32::MAX {
            served.outage = Some(left - 1);
        }
        return registry_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "service unavailable",
        );
    }
    if served.unreadable {
        return registry_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            "unknown error",
        );
    }
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, served.media_type)
        .header("docker-content-digest", &served.digest)
        .body(Body::from(
            served.wrong_bytes.as_ref().unwrap_or(&served.bytes).clone(),
        ))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// 401 with the challenge for `actions` (`pull`, or `pull,push` for a write).
pub fn challenge(base_url: &str, repository: &str, actions: &str) -> Response {
    let host = base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let value = format!(
        "Bearer realm=\"{base_url}/token\",service=\"{host}\",scope=\"repository:{}:{actions}\"",
        repository.to_ascii_lowercase()
    );
    let mut response = registry_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "authentication required",
    );
    if let Ok(value) = value.parse() {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

/// The live container package `owner/name`, if the grant's caller may read it. Guess: the
/// registry follows the REST API's rules, minus the `/users` prefix quirk.
pub fn readable_package<'w>(
    world: &'w World,
    grant: &Grant,
    owner: &str,
    name: &str,
) -> Option<&'w Package> {
    let package = world.packages.iter().find(|package| {
        package.package_type == "container"
            && package.deleted_at.is_none()
            && same_login(&package.owner, owner)
            && package.name.eq_ignore_ascii_case(name)
    })?;
    let public = package.visibility == Visibility::Public;
    let allowed = public
        || grant
            .caller
            .as_ref()
            .is_some_and(|caller| match &caller.kind {
                TokenKind::Pat { .. } => world
                    .owner(&package.owner)
                    .is_some_and(|owner| owner.is_admin(&caller.login)),
                TokenKind::GithubToken { repository } => package.is_repository(repository),
            });
    allowed.then_some(package)
}
