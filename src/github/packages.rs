//! The Packages endpoints this action uses, decoded into compact [`Version`]s.

use std::time::SystemTime;

use octocrab::models::packages::PackageVersion;
use serde::Deserialize;

use super::{ApiError, GitHub, Method, Namespace, encode_segment};
use crate::version::{PackageType, Version};

/// GitHub caps `per_page` at 100; asking for the maximum keeps the request count low.
const PER_PAGE: u32 = 100;

/// Listing packages answers 400 past `page × per_page` = 10000, so it stops there.
const MAX_PACKAGE_PAGES: u32 = 10_000 / PER_PAGE;

/// Which versions a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Active,
    Deleted,
}

impl VersionState {
    fn as_str(self) -> &'static str {
        match self {
            VersionState::Active => "active",
            VersionState::Deleted => "deleted",
        }
    }
}

/// Whether an account is a user or an organization: it decides the route prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    User,
    Organization,
}

#[derive(Deserialize)]
struct Account {
    login: String,
    #[serde(rename = "type", default)]
    kind: String,
}

/// Only the name is read from a listed package; the rest of the object is not needed.
#[derive(Deserialize)]
struct PackageName {
    name: String,
}

fn package_route(namespace: &Namespace, package_type: PackageType, name: &str) -> String {
    format!(
        "{}/packages/{package_type}/{}",
        namespace.prefix(),
        encode_segment(name)
    )
}

impl GitHub {
    /// Every version of a package in one state, following pagination to the end.
    pub async fn list_versions(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
        state: VersionState,
    ) -> Result<Vec<Version>, ApiError> {
        let mut route = Some(format!(
            "{}/versions?per_page={PER_PAGE}&state={}",
            package_route(namespace, package_type, name),
            state.as_str()
        ));
        let mut versions = Vec::new();
        while let Some(current) = route {
            let (page, next): (Vec<PackageVersion>, _) = self.get_json(&current).await?;
            versions.extend(page.into_iter().map(compact));
            route = next;
        }
        Ok(versions)
    }

    /// The names of an owner's packages of one type (for wildcard expansion).
    pub async fn list_package_names(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
    ) -> Result<Vec<String>, ApiError> {
        let mut names = Vec::new();
        for page in 1..=MAX_PACKAGE_PAGES {
            let route = format!(
                "{}/packages?package_type={package_type}&per_page={PER_PAGE}&page={page}",
                namespace.prefix()
            );
            let (listed, next): (Vec<PackageName>, _) = self.get_json(&route).await?;
            names.extend(listed.into_iter().map(|package| package.name));
            if next.is_none() {
                break;
            }
        }
        Ok(names)
    }

    pub async fn delete_version(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
        id: u64,
    ) -> Result<(), ApiError> {
        let route = format!(
            "{}/versions/{id}",
            package_route(namespace, package_type, name)
        );
        self.send(Method::Delete, &route).await.map(drop)
    }

    pub async fn restore_version(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
        id: u64,
    ) -> Result<(), ApiError> {
        let route = format!(
            "{}/versions/{id}/restore",
            package_route(namespace, package_type, name)
        );
        self.send(Method::Post, &route).await.map(drop)
    }

    /// `GET /users/{login}`: whether the owner is a user or an organization.
    pub async fn owner_kind(&self, login: &str) -> Result<OwnerKind, ApiError> {
        let route = format!("/users/{}", encode_segment(login));
        let (account, _): (Account, _) = self.get_json(&route).await?;
        Ok(if account.kind.eq_ignore_ascii_case("Organization") {
            OwnerKind::Organization
        } else {
            OwnerKind::User
        })
    }

    /// `GET /user`: the token's own login. A GITHUB_TOKEN answers 403 here.
    pub async fn token_login(&self) -> Result<String, ApiError> {
        let (account, _): (Account, _) = self.get_json("/user").await?;
        Ok(account.login)
    }
}

/// Reduce an API version object to the fields policy and reports use.
fn compact(version: PackageVersion) -> Version {
    let tags = version
        .metadata
        .map(|metadata| {
            let container = metadata.container.map(|container| container.tags);
            let docker = metadata.docker.map(|docker| docker.tag);
            container.or(docker).unwrap_or_default()
        })
        .unwrap_or_default();
    Version {
        id: version.id.0,
        name: version.name,
        tags,
        created_at: SystemTime::from(version.created_at),
        updated_at: SystemTime::from(version.updated_at),
        deleted_at: version.deleted_at.map(SystemTime::from),
    }
}
