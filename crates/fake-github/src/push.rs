//! The registry's writes, as ghcr.io answers them where docs/github-behaviour.md says,
//! guesses otherwise (each written down): blob uploads and `PUT /v2/<owner>/<name>/manifests/<ref>`.
//!
//! - A write needs a bearer token whose scope asked for `push`; one without it answers 401
//!   with a challenge for `pull,push` (as distribution does). Guess: whether the caller may
//!   push is checked at each write, not at the token exchange: a classic PAT with
//!   `write:packages` whose user administers the owner, or a `GITHUB_TOKEN` of the package's
//!   repository; anyone else gets 403 `DENIED` (docs/github-behaviour.md: pushing needs
//!   write access to the package).
//! - `POST /v2/<name>/blobs/uploads/` starts an upload: 202 with a relative `Location`
//!   (`/v2/<name>/blobs/uploads/<id>`); `PUT` of that `Location` with `?digest=` and the
//!   whole blob finishes it (201; 400 `DIGEST_INVALID` when the bytes do not hash to it);
//!   `DELETE` cancels it (204). `HEAD|GET /v2/<name>/blobs/<digest>` answers 200 for a blob
//!   uploaded, or referenced by a manifest of the package (the fake stores no layers).
//! - A manifest `PUT` (at most 4 MiB) must be served as one of the four manifest media types
//!   its body names; an image's config and layers must be blobs the package has (400
//!   `MANIFEST_BLOB_UNKNOWN`), an index's children active versions (the same). Its digest is
//!   the sha256 of the bytes; a `PUT` by digest must name it (400 `DIGEST_INVALID`).
//! - As ghcr.io does, a pushed manifest is a version: the active version of that digest, or
//!   a new one (the newest, created now, with the next free id) when there is none. A `PUT`
//!   under a tag moves the tag there, off whichever version had it, which keeps its place.
//!   Guess: pushing a digest whose version was deleted makes a new version.
//! - Answers 201 with `Location` and `Docker-Content-Digest`. Scheduled retags (see
//!   `during`) happen right after a `PUT`, before its answer leaves.
//! - `DELETE /v2/<name>/manifests/<ref>` answers 405 `UNSUPPORTED`, as ghcr.io does.
//! - A mirrored package (see `mirror`) is written in its real registry, not here: 405.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::manifests::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Served, sha256};
use crate::registry::{Grant, challenge, grant, readable_package, registry_error};
use crate::seed::TokenKind;
use crate::server::Shared;
use crate::state::{Package, Version, World};

/// The largest manifest a `PUT` may carry (ghcr.io's limit is not documented; distribution's
/// default is 4 MiB).
const MAX_MANIFEST: usize = 4 << 20;

/// What was pushed to a package besides manifests: blobs and open uploads.
#[derive(Debug, Default)]
pub struct Pushed {
    blobs: HashSet<String>,
    uploads: HashSet<String>,
    uploads_started: u64,
}

/// `POST /v2/<name>/blobs/uploads/`.
pub async fn post_route(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(repository) = path.strip_suffix("/blobs/uploads/") else {
        return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "unknown route");
    };
    let mut world = shared.world();
    let package = match writable(&shared, &mut world, &headers, repository) {
        Ok(package) => package,
        Err(refusal) => return *refusal,
    };
    package.pushed.uploads_started += 1;
    let id = format!("upload-{}", package.pushed.uploads_started);
    package.pushed.uploads.insert(id.clone());
    answer(
        StatusCode::ACCEPTED,
        &[
            ("location", format!("/v2/{repository}/blobs/uploads/{id}")),
            ("docker-upload-uuid", id),
        ],
    )
}

/// `PUT` of an upload (with `?digest=`) or of a manifest.
pub async fn put_route(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((repository, id)) = path.rsplit_once("/blobs/uploads/") {
        return finish_upload(
            &shared,
            repository,
            id,
            query.get("digest"),
            &headers,
            &body,
        );
    }
    let Some((repository, reference)) = path.rsplit_once("/manifests/") else {
        return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "unknown route");
    };
    let answered = put_manifest(&shared, repository, reference, &headers, &body);
    let due = shared.scheduled().manifest_put();
    if !due.is_empty() {
        let mut world = shared.world();
        for retag in &due {
            retag.apply(&mut world);
        }
    }
    answered
}

/// `DELETE` of an upload (cancelled), or of a manifest (405, as on ghcr.io).
pub async fn delete_route(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((repository, id)) = path.rsplit_once("/blobs/uploads/") else {
        return registry_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "The operation is unsupported.",
        );
    };
    let mut world = shared.world();
    let package = match writable(&shared, &mut world, &headers, repository) {
        Ok(package) => package,
        Err(refusal) => return *refusal,
    };
    if package.pushed.uploads.remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        registry_error(
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown",
        )
    }
}

/// `HEAD|GET /v2/<name>/blobs/<digest>`: 200 (and no body: the fake keeps no blob bytes)
/// when the package has the blob.
pub fn blob(
    State(shared): State<Arc<Shared>>,
    repository: &str,
    digest: &str,
    headers: HeaderMap,
) -> Response {
    let Some(grant) = grant(&shared, &headers, repository) else {
        return challenge(&shared.base_url, repository, "pull");
    };
    let world = shared.world();
    let Some(package) = package_of(&world, &grant, repository) else {
        return registry_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    };
    if has_blob(package, digest) {
        answer(
            StatusCode::OK,
            &[("docker-content-digest", digest.to_owned())],
        )
    } else {
        registry_error(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            "blob unknown to registry",
        )
    }
}

fn finish_upload(
    shared: &Shared,
    repository: &str,
    id: &str,
    digest: Option<&String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut world = shared.world();
    let package = match writable(shared, &mut world, headers, repository) {
        Ok(package) => package,
        Err(refusal) => return *refusal,
    };
    if !package.pushed.uploads.contains(id) {
        return registry_error(
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown",
        );
    }
    let actual = sha256(body);
    if digest != Some(&actual) {
        return registry_error(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
        );
    }
    package.pushed.uploads.remove(id);
    package.pushed.blobs.insert(actual.clone());
    answer(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{repository}/blobs/{actual}")),
            ("docker-content-digest", actual),
        ],
    )
}

fn put_manifest(
    shared: &Shared,
    repository: &str,
    reference: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut world = shared.world();
    let next_id = world
        .packages
        .iter()
        .flat_map(|package| &package.versions)
        .map(|version| version.id)
        .max()
        .unwrap_or(0)
        + 1;
    let package = match writable(shared, &mut world, headers, repository) {
        Ok(package) => package,
        Err(refusal) => return *refusal,
    };
    let invalid =
        |message: &str| registry_error(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", message);
    if body.len() > MAX_MANIFEST {
        return invalid("manifest too large");
    }
    let content_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim())
        .unwrap_or_default();
    let Some(media_type) = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST]
        .into_iter()
        .find(|known| *known == content_type)
    else {
        return invalid("unsupported manifest media type");
    };
    let Ok(parsed) = serde_json::from_slice::<Value>(body) else {
        return invalid("the manifest is not JSON");
    };
    if parsed["mediaType"]
        .as_str()
        .is_some_and(|named| named != media_type)
    {
        return invalid("the manifest's mediaType differs from its Content-Type");
    }
    let digest = sha256(body);
    let is_digest = reference.starts_with("sha256:");
    if is_digest && reference != digest {
        return registry_error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "digest mismatch");
    }
    let children = digests(&parsed["manifests"]);
    let blobs: Vec<String> = std::iter::once(&parsed["config"])
        .filter_map(|config| config["digest"].as_str().map(str::to_owned))
        .chain(digests(&parsed["layers"]))
        .collect();
    let missing_child = children
        .iter()
        .any(|child| package.served_by(child).is_none());
    if missing_child || blobs.iter().any(|blob| !has_blob(package, blob)) {
        return registry_error(
            StatusCode::BAD_REQUEST,
            "MANIFEST_BLOB_UNKNOWN",
            "blob unknown to registry",
        );
    }
    let tag = (!is_digest).then_some(reference);
    if let Some(tag) = tag {
        for version in &mut package.versions {
            version.tags.retain(|held| held != tag);
        }
    }
    let existing = package
        .versions
        .iter_mut()
        .find(|version| version.is_active() && version.name == digest);
    match existing {
        Some(version) => version.tags.extend(tag.map(str::to_owned)),
        None => {
            let now = SystemTime::now();
            package.versions.insert(
                0,
                Version {
                    id: next_id,
                    name: digest.clone(),
                    tags: tag.map(str::to_owned).into_iter().collect(),
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                    downloads: 0,
                    deleted_concurrently: false,
                    manifest: Some(Served {
                        media_type,
                        bytes: body.to_vec(),
                        digest: digest.clone(),
                        children,
                        unreadable: false,
                        outage: None,
                        wrong_bytes: None,
                        implied_tags: Vec::new(),
                    }),
                    answer: None,
                },
            );
        }
    }
    package.lookup = None;
    answer(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{repository}/manifests/{digest}")),
            ("docker-content-digest", digest),
        ],
    )
}

/// The package `repository` names when the request may write to it; else the answer that
/// refuses (see the module documentation).
fn writable<'w>(
    shared: &Shared,
    world: &'w mut World,
    headers: &HeaderMap,
    repository: &str,
) -> Result<&'w mut Package, Box<Response>> {
    let Some(grant) = grant(shared, headers, repository).filter(|grant| grant.push) else {
        return Err(Box::new(challenge(
            &shared.base_url,
            repository,
            "pull,push",
        )));
    };
    let not_known = || {
        Box::new(registry_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        ))
    };
    let package = package_of(world, &grant, repository).ok_or_else(not_known)?;
    let may_push = grant
        .caller
        .as_ref()
        .is_some_and(|caller| match &caller.kind {
            TokenKind::Pat { scopes } => {
                scopes.iter().any(|scope| scope == "write:packages")
                    && world
                        .owner(&package.owner)
                        .is_some_and(|owner| owner.is_admin(&caller.login))
            }
            TokenKind::GithubToken { repository } => package.is_repository(repository),
        });
    if !may_push {
        return Err(Box::new(registry_error(
            StatusCode::FORBIDDEN,
            "DENIED",
            "permission_denied: write_package",
        )));
    }
    if package.mirror.is_some() {
        return Err(Box::new(registry_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "the fake writes a mirrored package in its real registry only",
        )));
    }
    let id = package.id;
    world.package_by_id_mut(id).ok_or_else(not_known)
}

/// The readable live container package `owner/name`.
fn package_of<'w>(world: &'w World, grant: &Grant, repository: &str) -> Option<&'w Package> {
    let (owner, name) = repository.split_once('/')?;
    readable_package(world, grant, owner, name)
}

/// Whether `package` has the blob `digest`: uploaded, or referenced by one of its manifests.
fn has_blob(package: &Package, digest: &str) -> bool {
    package.pushed.blobs.contains(digest)
        || package.versions.iter().any(|version| {
            version.manifest.as_ref().is_some_and(|served| {
                serde_json::from_slice::<Value>(&served.bytes).is_ok_and(|body| {
                    body["config"]["digest"].as_str() == Some(digest)
                        || digests(&body["layers"]).iter().any(|layer| layer == digest)
                })
            })
        })
}

/// The `digest` of each descriptor in a JSON array.
fn digests(descriptors: &Value) -> Vec<String> {
    descriptors
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|descriptor| descriptor["digest"].as_str().map(str::to_owned))
        .collect()
}

/// An empty answer with `headers`.
fn answer(status: StatusCode, headers: &[(&'static str, String)]) -> Response {
    let mut response = status.into_response();
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}
