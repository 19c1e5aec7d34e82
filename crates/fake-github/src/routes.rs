//! The REST routes and their handlers.
//!
//! Every handler checks in the order GitHub reveals things: authentication (401), then the
//! path's shape (422 for a non-integer version id), then scopes (403), then the owner and
//! package (404), then visibility (404) and admin rights (403), then the operation's own rules.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde_json::Value;

use crate::access::{self, Action, Caller, Prefix};
use crate::during;
use crate::errors::ApiError;
use crate::extract::{PackageRef, VersionRef};
use crate::limits;
use crate::mirror;
use crate::pagination::Page;
use crate::record;
use crate::render;
use crate::seed::UsersListing;
use crate::server::Shared;
use crate::state::{Owner, PACKAGE_TYPES, Package, Version, World, same_login};

/// Listing packages refuses pages reaching past this many results (documented).
const PACKAGE_LISTING_LIMIT: usize = 10_000;

/// The handlers' view of the server.
type App = State<Arc<Shared>>;

pub fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new()
        .route("/user", get(get_authenticated_user))
        .route("/users/{owner}", get(get_user));
    for prefix in ["/orgs/{owner}", "/users/{owner}", "/user"] {
        let package = format!("{prefix}/packages/{{package_type}}/{{package_name}}");
        let version = format!("{package}/versions/{{version_id}}");
        router = router
            .route(&format!("{prefix}/packages"), get(list_packages))
            .route(&format!("{prefix}/docker/conflicts"), get(docker_conflicts))
            .route(&package, get(get_package).delete(delete_package))
            .route(&format!("{package}/restore"), post(restore_package))
            .route(&format!("{package}/versions"), get(list_versions))
            .route(&version, get(get_version).delete(delete_version))
            .route(&format!("{version}/restore"), post(restore_version));
    }
    // Rate limits, faults and counters cover the REST API only: ghcr.io does not spend the
    // REST budget, so the registry routes are merged after the limits are layered on.
    router
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            during::after_deletes,
        ))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            limits::enforce,
        ))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            access::oauth_scopes,
        ))
        .merge(crate::registry::routes())
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            record::record,
        ))
        .with_state(shared)
}

async fn get_authenticated_user(
    caller: Caller,
    State(shared): App,
) -> Result<Json<Value>, ApiError> {
    access::require_user_token(&caller)?;
    let world = shared.world();
    let owner = world.owner(&caller.login).ok_or_else(ApiError::not_found)?;
    Ok(Json(render::user(owner)))
}

async fn get_user(
    _caller: Caller,
    State(shared): App,
    Path(login): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let world = shared.world();
    let owner = world.owner(&login).ok_or_else(ApiError::not_found)?;
    Ok(Json(render::user(owner)))
}

async fn list_packages(
    caller: Caller,
    prefix: Prefix,
    State(shared): App,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    access::require_user_token(&caller)?;
    // Guess: GitHub requires `package_type`; the fake answers 422 without a valid one.
    let package_type = query
        .get("package_type")
        .filter(|t| PACKAGE_TYPES.contains(&t.as_str()))
        .ok_or_else(|| {
            ApiError::unprocessable(format!(
                "package_type must be one of: {}.",
                PACKAGE_TYPES.join(", ")
            ))
        })?;
    access::require_scopes(&caller, Action::Read, package_type)?;
    let page = Page::from_query(&query);
    if page.reaches_past(PACKAGE_LISTING_LIMIT) {
        return Err(ApiError::bad_request(
            "Pagination is limited to the first 10000 packages: lower page or per_page.",
        ));
    }
    let world = shared.world();
    let owner = access::resolve_owner(&world, &caller, &prefix)?;
    let visibility = query.get("visibility");
    let packages: Vec<&Package> = world
        .packages
        .iter()
        .filter(|p| same_login(&p.owner, &owner.login) && &p.package_type == package_type)
        .filter(|p| p.deleted_at.is_none() && access::can_see(&caller, &prefix, owner, p))
        .filter(|p| visibility.is_none_or(|v| v == p.visibility.as_str()))
        .collect();
    let items = page
        .slice(&packages)
        .iter()
        .map(|p| render::package(&shared.base_url, owner, p))
        .collect();
    let link = page.link_header(packages.len(), &shared.base_url, uri.path(), uri.query());
    Ok(paginated(items, link))
}

/// The owner's packages that conflict with the Docker migration. Guess: like listing
/// packages, a GITHUB_TOKEN may not call it (403) and a PAT needs `read:packages`.
async fn docker_conflicts(
    caller: Caller,
    prefix: Prefix,
    State(shared): App,
) -> Result<Response, ApiError> {
    access::require_user_token(&caller)?;
    access::require_scopes(&caller, Action::Read, "docker")?;
    let world = shared.world();
    let owner = access::resolve_owner(&world, &caller, &prefix)?;
    let items: Vec<Value> = world
        .packages
        .iter()
        .filter(|p| same_login(&p.owner, &owner.login) && p.docker_conflict)
        .filter(|p| p.deleted_at.is_none() && access::can_see(&caller, &prefix, owner, p))
        .map(|p| render::package(&shared.base_url, owner, p))
        .collect();
    Ok(Json(Value::Array(items)).into_response())
}

/// Scopes, owner, package, visibility and admin rights for `action` on the target package,
/// which must be live.
///
/// Guess: a deleted package answers 404 `Package not found.` on every route but its
/// restore, exactly like a package the caller cannot see (reported for the versions
/// listing), and the list-packages endpoint has no `state` to find deleted packages with.
/// So a client learns that a package is deleted only by restoring it.
fn locate<'w>(
    world: &'w World,
    caller: &Caller,
    target: &PackageRef,
    action: Action,
) -> Result<(&'w Owner, &'w Package), ApiError> {
    access::require_scopes(caller, action, &target.package_type)?;
    let owner = access::resolve_owner(world, caller, &target.prefix)?;
    let package = world
        .package(&owner.login, &target.package_type, &target.name)
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(ApiError::package_not_found)?;
    access::authorize(caller, &target.prefix, owner, package, action)?;
    Ok((owner, package))
}

/// Runs `change` on the located package; answers 204 like GitHub's DELETE and restore.
fn mutate(
    shared: &Shared,
    caller: &Caller,
    target: &PackageRef,
    action: Action,
    change: impl FnOnce(&mut Package, SystemTime) -> Result<(), ApiError>,
) -> Result<StatusCode, ApiError> {
    let mut world = shared.world();
    let id = locate(&world, caller, target, action)?.1.id;
    let package = world
        .package_by_id_mut(id)
        .ok_or_else(ApiError::package_not_found)?;
    change(package, SystemTime::now())?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_package(
    caller: Caller,
    target: PackageRef,
    State(shared): App,
) -> Result<Json<Value>, ApiError> {
    let world = shared.world();
    let (owner, package) = locate(&world, &caller, &target, Action::Read)?;
    Ok(Json(render::package(&shared.base_url, owner, package)))
}

async fn delete_package(
    caller: Caller,
    target: PackageRef,
    State(shared): App,
) -> Result<StatusCode, ApiError> {
    mutate(&shared, &caller, &target, Action::Delete, Package::delete)
}

/// Restores a deleted package; `token` picks one of several deleted packages of the name
/// (see `World::package_to_restore` for what the fake guesses).
async fn restore_package(
    caller: Caller,
    target: PackageRef,
    State(shared): App,
    Query(query): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    access::require_scopes(&caller, Action::Restore, &target.package_type)?;
    let mut world = shared.world();
    let owner = access::resolve_owner(&world, &caller, &target.prefix)?.clone();
    // Visibility and admin rights come before the restore's own rules (409 among several).
    let named = world
        .package(&owner.login, &target.package_type, &target.name)
        .ok_or_else(ApiError::package_not_found)?;
    access::authorize(&caller, &target.prefix, &owner, named, Action::Restore)?;
    let id = world.package_to_restore(
        &owner.login,
        &target.package_type,
        &target.name,
        query.get("token").map(String::as_str),
    )?;
    let package = world
        .package_by_id_mut(id)
        .ok_or_else(ApiError::package_not_found)?;
    access::authorize(&caller, &target.prefix, &owner, package, Action::Restore)?;
    package.restore(SystemTime::now())?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_versions(
    caller: Caller,
    target: PackageRef,
    State(shared): App,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    if let Some(listing) = ignored_parameters(&shared, &target) {
        return list_versions_ignoring_parameters(&shared, &caller, &target, listing, &query, &uri);
    }
    // Honoured on all three prefixes: documented for /orgs and /user, and clients send it on
    // /users too (guess: GitHub honours it there as well, unless seeded otherwise).
    let (deleted, action) = match query.get("state").map(String::as_str) {
        None | Some("active") => (false, Action::Read),
        Some("deleted") => (true, Action::ListDeleted),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "state must be one of: active, deleted.",
            ));
        }
    };
    let page = Page::from_query(&query);
    let remote = {
        let world = shared.world();
        locate(&world, &caller, &target, action)?.1.mirror.clone()
    };
    // A mirrored package reflects what was pushed to its registry since (see `mirror`).
    if let Some(remote) = remote {
        let found = mirror::refresh(&remote).await.map_err(|error| {
            ApiError::fake_failure(StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}"))
        })?;
        let mut world = shared.world();
        if let Some(package) = world.packages.iter_mut().find(|package| {
            package.deleted_at.is_none() && package.mirror.as_ref() == Some(&remote)
        }) {
            package.merge_mirrored(found, SystemTime::now());
        }
    }
    let world = shared.world();
    let (owner, package) = locate(&world, &caller, &target, action)?;
    // Versions are kept newest first from the start (see `World::from_seed`).
    let versions: Vec<&Version> = package
        .versions
        .iter()
        .filter(|v| v.is_active() != deleted)
        .collect();
    let items = page
        .slice(&versions)
        .iter()
        .map(|v| render::version(&shared.base_url, owner, package, v))
        .collect();
    let link = page.link_header(versions.len(), &shared.base_url, uri.path(), uri.query());
    Ok(paginated(items, link))
}

/// The `/users/{login}` listing of an owner seeded to ignore `page`, `per_page` and
/// `state`, if this request is one.
fn ignored_parameters(shared: &Shared, target: &PackageRef) -> Option<UsersListing> {
    let Prefix::User(login) = &target.prefix else {
        return None;
    };
    let world = shared.world();
    let listing = world.owner(login)?.users_listing;
    (listing != UsersListing::Honours).then_some(listing)
}

/// Every version, active and deleted, newest first: on one page, or in pages linked by the
/// fake's own `cursor` (an offset). Reading is all it needs, since `state` is not read.
fn list_versions_ignoring_parameters(
    shared: &Shared,
    caller: &Caller,
    target: &PackageRef,
    listing: UsersListing,
    query: &HashMap<String, String>,
    uri: &Uri,
) -> Result<Response, ApiError> {
    let world = shared.world();
    let (owner, package) = locate(&world, caller, target, Action::Read)?;
    let all = &package.versions;
    let (start, size) = match listing {
        UsersListing::OwnPages(size) => {
            let cursor = query.get("cursor").and_then(|cursor| cursor.parse().ok());
            (cursor.unwrap_or(0).min(all.len()), size.max(1))
        }
        UsersListing::Honours | UsersListing::OnePage => (0, all.len().max(1)),
    };
    let end = start.saturating_add(size).min(all.len());
    let items = all[start..end]
        .iter()
        .map(|v| render::version(&shared.base_url, owner, package, v))
        .collect();
    let link = (end < all.len()).then(|| {
        format!(
            "<{}{}?cursor={end}>; rel=\"next\"",
            shared.base_url,
            uri.path()
        )
    });
    Ok(paginated(items, link))
}

/// Guess: a deleted version can still be fetched by id (with `deleted_at`).
async fn get_version(
    caller: Caller,
    target: VersionRef,
    State(shared): App,
) -> Result<Json<Value>, ApiError> {
    let world = shared.world();
    let (owner, package) = locate(&world, &caller, &target.package, Action::Read)?;
    let version = package
        .version(target.id)
        .ok_or_else(ApiError::package_not_found)?;
    Ok(Json(render::version(
        &shared.base_url,
        owner,
        package,
        version,
    )))
}

/// Deletes the version; in a mirrored package, then its manifest in the registry (undone
/// when the registry refuses: see `mirror`).
async fn delete_version(
    caller: Caller,
    target: VersionRef,
    headers: HeaderMap,
    State(shared): App,
) -> Result<StatusCode, ApiError> {
    let mut remote = None;
    let status = mutate(
        &shared,
        &caller,
        &target.package,
        Action::Delete,
        |package, now| {
            package.delete_version(target.id, now)?;
            remote = package
                .mirror
                .clone()
                .zip(package.version(target.id).map(|v| v.name.clone()));
            Ok(())
        },
    )
    .map_err(|err| err.echoing(&headers))?;
    let Some((remote, digest)) = remote else {
        return Ok(status);
    };
    if let Err(error) = mirror::delete(&remote, &digest).await {
        if let Some(version) = shared
            .world()
            .packages
            .iter_mut()
            .flat_map(|package| package.versions.iter_mut())
            .find(|version| version.id == target.id)
        {
            version.deleted_at = None;
        }
        return Err(ApiError::fake_failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the mirrored registry did not delete {digest}: {error:#}"),
        ));
    }
    Ok(status)
}

/// Guess (see `mirror`): a mirrored package's versions cannot be restored.
async fn restore_version(
    caller: Caller,
    target: VersionRef,
    headers: HeaderMap,
    State(shared): App,
) -> Result<StatusCode, ApiError> {
    mutate(
        &shared,
        &caller,
        &target.package,
        Action::Restore,
        |package, now| {
            if package.mirror.is_some() {
                return Err(ApiError::fake_failure(
                    StatusCode::NOT_IMPLEMENTED,
                    "the fake cannot restore a version of a mirrored registry",
                ));
            }
            package.restore_version(target.id, now)
        },
    )
    .map_err(|err| err.echoing(&headers))
}

fn paginated(items: Vec<Value>, link: Option<String>) -> Response {
    let mut response = Json(items).into_response();
    // The link is built from the request's own URI, so it is always a valid header value.
    if let Some(value) = link.and_then(|link| HeaderValue::try_from(link).ok()) {
        response.headers_mut().insert(LINK, value);
    }
    response
}
