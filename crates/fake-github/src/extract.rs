//! Request extractors: the caller from `Authorization`, the owner prefix, package and version
//! from the path.
//!
//! Routing matches the raw path, so `team%2Fapp` is one segment and an unencoded `team/app`
//! is two (and matches no package route); `Path` then percent-decodes `team%2Fapp` to the
//! package name `team/app`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::access::{self, Caller, Prefix};
use crate::errors::ApiError;
use crate::server::Shared;

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        access::authenticate(&shared.world(), parts.headers.get(AUTHORIZATION))
    }
}

async fn path_params(
    parts: &mut Parts,
    shared: &Arc<Shared>,
) -> Result<HashMap<String, String>, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, shared)
        .await
        .map_err(|_| ApiError::not_found())?;
    Ok(params)
}

impl FromRequestParts<Arc<Shared>> for Prefix {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let params = path_params(parts, shared).await?;
        // Only the `/orgs/{owner}` and `/users/{owner}` routes have an `owner` parameter.
        Ok(match params.get("owner") {
            Some(login) if parts.uri.path().starts_with("/orgs/") => Prefix::Org(login.clone()),
            Some(login) => Prefix::User(login.clone()),
            None => Prefix::Me,
        })
    }
}

/// `{prefix}/packages/{package_type}/{package_name}`.
#[derive(Debug, Clone)]
pub struct PackageRef {
    pub prefix: Prefix,
    pub package_type: String,
    pub name: String,
}

impl FromRequestParts<Arc<Shared>> for PackageRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let prefix = Prefix::from_request_parts(parts, shared).await?;
        let mut params = path_params(parts, shared).await?;
        let mut take = |key: &str| params.remove(key).ok_or_else(ApiError::not_found);
        Ok(Self {
            prefix,
            package_type: take("package_type")?,
            name: take("package_name")?,
        })
    }
}

/// `{prefix}/packages/{package_type}/{package_name}/versions/{version_id}`.
#[derive(Debug, Clone)]
pub struct VersionRef {
    pub package: PackageRef,
    pub id: u64,
}

impl FromRequestParts<Arc<Shared>> for VersionRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let package = PackageRef::from_request_parts(parts, shared).await?;
        let params = path_params(parts, shared).await?;
        let id = params
            .get("version_id")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| {
                ApiError::unprocessable("The version_id parameter must be an integer.")
            })?;
        Ok(Self { package, id })
    }
}
