//! Who may see and change which packages: tokens, scopes, owners and the three URL prefixes.
//!
//! From GitHub's "About permissions for GitHub Packages"
//! (https://docs.github.com/en/packages/learn-github-packages/about-permissions-for-github-packages)
//! and the REST "Packages" endpoints (https://docs.github.com/en/rest/packages/packages), and
//! what users report of them:
//! - No `Authorization` header: 401 `Requires authentication`; an unknown token: 401
//!   `Bad credentials`. Both `Bearer X` and `token X` are accepted.
//! - A classic PAT needs `read:packages` to read, `delete:packages` to delete, `write:packages`
//!   to restore, and `delete:packages` to list deleted versions. Deleting or restoring in a
//!   repository-scoped registry (npm, maven, rubygems, docker, nuget) also needs `repo`.
//! - A package the token cannot see answers 404 `Package not found.`, not 403.
//! - A `GITHUB_TOKEN` gets 403 `Resource not accessible by integration` on `GET /user`, on
//!   listing an owner's packages and when it lacks admin on a package. It administers the
//!   packages linked to its own repository.
//!
//! The fake's guesses, where the facts are silent:
//! - `write:packages` implies `read:packages` (GitHub's token page ticks both together).
//! - A PAT sees everything of its own user through `/user`, everything of an organization
//!   it is a member of through `/orgs/{org}`, and public packages of anyone. Through
//!   `/users/{user}` it sees only public packages, even its own: private user packages are
//!   reachable only through `/user`.
//! - A PAT administers (may delete, restore, list deleted versions of) packages of its own
//!   user and of organizations that list it in `members`; any other visible package answers
//!   403 with a message about admin rights.
//! - A `GITHUB_TOKEN` sees the packages linked to its repository and public packages,
//!   through `/orgs/{org}` or `/users/{user}` (no private-only-via-`/user` rule for it). It
//!   needs no scopes: the workflow is assumed to grant `packages: write`.
//! - `/orgs/{x}` only finds organizations and `/users/{x}` only users; the other kind answers
//!   404, so a client that picks the wrong prefix notices.
//! - A missing scope answers 403 naming the scope; scopes are checked before the package is
//!   looked up, so a token lacking a scope learns that even for a package that does not exist.
//! - Every REST answer to a classic PAT carries `x-oauth-scopes: a, b` (its scopes, as
//!   GitHub sends them); answers to a `GITHUB_TOKEN` carry none.
//! - Only Maven and the legacy docker registry are scoped to a repository on github.com
//!   (npm, NuGet and RubyGems have granular permissions), so only they need `repo` to
//!   delete or restore.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;

use crate::errors::ApiError;
use crate::seed::{OwnerKind, TokenKind, Visibility};
use crate::server::Shared;
use crate::state::{Owner, Package, World, same_login};

/// The authenticated token behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub login: String,
    pub kind: TokenKind,
}

/// Which of the three owner prefixes a request came through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prefix {
    /// `/orgs/{org}`
    Org(String),
    /// `/users/{username}`
    User(String),
    /// `/user`: the token's own login.
    Me,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    ListDeleted,
    Delete,
    Restore,
}

impl Action {
    fn is_admin_only(self) -> bool {
        self != Action::Read
    }
}

/// Resolves the `Authorization` header to a seeded token.
pub fn authenticate(world: &World, header: Option<&HeaderValue>) -> Result<Caller, ApiError> {
    let Some(header) = header else {
        return Err(ApiError::requires_authentication());
    };
    let value = header.to_str().map_err(|_| ApiError::bad_credentials())?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(ApiError::bad_credentials)?;
    let known_scheme =
        scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    if !known_scheme {
        return Err(ApiError::bad_credentials());
    }
    world
        .caller(token.trim())
        .ok_or_else(ApiError::bad_credentials)
}

/// The middleware that adds `x-oauth-scopes` to every REST answer to a classic PAT.
pub async fn oauth_scopes(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let scopes = authenticate(&shared.world(), request.headers().get(AUTHORIZATION))
        .ok()
        .and_then(|caller| match caller.kind {
            TokenKind::Pat { scopes } => HeaderValue::from_str(&scopes.join(", ")).ok(),
            TokenKind::GithubToken { .. } => None,
        });
    let mut response = next.run(request).await;
    if let Some(scopes) = scopes {
        response.headers_mut().insert("x-oauth-scopes", scopes);
    }
    response
}

/// For what only a user's own token may do: `GET /user`, listing an owner's packages.
pub fn require_user_token(caller: &Caller) -> Result<(), ApiError> {
    match caller.kind {
        TokenKind::Pat { .. } => Ok(()),
        TokenKind::GithubToken { .. } => Err(ApiError::not_accessible_by_integration()),
    }
}

/// Checks the PAT scopes `action` needs on a package of `package_type`.
pub fn require_scopes(caller: &Caller, action: Action, package_type: &str) -> Result<(), ApiError> {
    let TokenKind::Pat { scopes } = &caller.kind else {
        return Ok(());
    };
    let has = |scope: &str| {
        scopes.iter().any(|s| s == scope)
            || (scope == "read:packages" && scopes.iter().any(|s| s == "write:packages"))
    };
    let repository_scoped = matches!(package_type, "maven" | "docker");
    let needed: &[&str] = match action {
        Action::Read => &["read:packages"],
        Action::ListDeleted => &["read:packages", "delete:packages"],
        Action::Delete if repository_scoped => &["read:packages", "delete:packages", "repo"],
        Action::Delete => &["read:packages", "delete:packages"],
        Action::Restore if repository_scoped => &["read:packages", "write:packages", "repo"],
        Action::Restore => &["read:packages", "write:packages"],
    };
    match needed.iter().find(|scope| !has(scope)) {
        Some(missing) => Err(ApiError::forbidden(format!(
            "This request needs a personal access token with the {missing} scope."
        ))),
        None => Ok(()),
    }
}

/// The owner a prefix names, if it exists and is of the kind the prefix expects.
pub fn resolve_owner<'s>(
    world: &'s World,
    caller: &Caller,
    prefix: &Prefix,
) -> Result<&'s Owner, ApiError> {
    let (login, kind) = match prefix {
        Prefix::Org(login) => (login.as_str(), OwnerKind::Organization),
        Prefix::User(login) => (login.as_str(), OwnerKind::User),
        Prefix::Me => {
            require_user_token(caller)?;
            (caller.login.as_str(), OwnerKind::User)
        }
    };
    world
        .owner(login)
        .filter(|owner| owner.kind == kind)
        .ok_or_else(ApiError::package_not_found)
}

/// Whether the caller sees `package` (of `owner`) through `prefix`.
pub fn can_see(caller: &Caller, prefix: &Prefix, owner: &Owner, package: &Package) -> bool {
    let public = package.visibility == Visibility::Public;
    match (&caller.kind, prefix) {
        (TokenKind::Pat { .. }, Prefix::Me) => same_login(&owner.login, &caller.login),
        (TokenKind::Pat { .. }, Prefix::User(_)) => public,
        (TokenKind::Pat { .. }, Prefix::Org(_)) => public || owner.is_admin(&caller.login),
        (TokenKind::GithubToken { repository }, _) => public || package.is_repository(repository),
    }
}

/// Visibility (404) then admin rights (403) for `action` on `package`.
pub fn authorize(
    caller: &Caller,
    prefix: &Prefix,
    owner: &Owner,
    package: &Package,
    action: Action,
) -> Result<(), ApiError> {
    if !can_see(caller, prefix, owner, package) {
        return Err(ApiError::package_not_found());
    }
    if !action.is_admin_only() {
        return Ok(());
    }
    match &caller.kind {
        TokenKind::Pat { .. } if owner.is_admin(&caller.login) => Ok(()),
        TokenKind::Pat { .. } => Err(ApiError::forbidden(
            "You must have admin rights on this package to do this.",
        )),
        TokenKind::GithubToken { repository } if package.is_repository(repository) => Ok(()),
        TokenKind::GithubToken { .. } => Err(ApiError::not_accessible_by_integration()),
    }
}
