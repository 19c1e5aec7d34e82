//! The Packages endpoints this action uses, decoded into compact [`Version`]s.

use std::collections::HashSet;
use std::time::SystemTime;

use futures_util::StreamExt;
use octocrab::models::packages::PackageVersion;
use serde::Deserialize;

use super::ratelimit::Cover;
use super::{ApiError, GitHub, Method, Namespace, decode, encode_segment};
use crate::model::version::{PackageType, Version};

/// GitHub caps `per_page` at 100; asking for the maximum keeps the request count low.
pub const PER_PAGE: u32 = 100;

/// Listing packages answers 400 past `page × per_page` = 10000, so it stops there.
const MAX_PACKAGE_PAGES: u32 = 10_000 / PER_PAGE;

/// Which versions a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Active,
    Deleted,
}

impl VersionState {
    /// The `state` query value, also how logs name the versions listed.
    pub fn as_str(self) -> &'static str {
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
    /// Every version of a package in one state.
    ///
    /// The first page's `last` link says how many pages there are; the rest are fetched
    /// concurrently (at most `max_concurrency` at once, paced like every request) and
    /// assembled in order, each page reduced to compact [`Version`]s as it arrives. Without
    /// a `last` link the `next` links are followed one by one. Before fetching the rest, the
    /// primary budget must cover them: otherwise the listing stops as rate limited, without
    /// spending requests on a listing it cannot finish. A version seen twice (pages shift
    /// when versions are deleted meanwhile) is kept once.
    pub async fn list_versions(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
        state: VersionState,
    ) -> Result<Vec<Version>, ApiError> {
        let first = format!(
            "{}/versions?per_page={PER_PAGE}&state={}",
            package_route(namespace, package_type, name),
            state.as_str()
        );
        let response = self.send(Method::Get, &first).await?;
        let mut versions = decode_versions(&first, &response.body)?;
        let pages = response
            .last
            .as_deref()
            .and_then(|last| page_number(last).map(|count| (last, count)));
        if let Some((last, count)) = pages {
            self.ensure_budget_for(count.saturating_sub(1), &first)?;
            // Sized once from the page count, so the list never over-allocates.
            versions.reserve_exact((count as usize).saturating_sub(1) * PER_PAGE as usize);
            let routes: Vec<String> = (2..=count).map(|page| with_page(last, page)).collect();
            let mut fetched = futures_util::stream::iter(routes)
                .map(|route| async move {
                    let response = self.send(Method::Get, &route).await?;
                    decode_versions(&route, &response.body)
                })
                .buffered(self.pacing().max_concurrency.max(1));
            while let Some(page) = fetched.next().await {
                versions.extend(page?);
            }
        } else {
            let mut next = response.next;
            while let Some(route) = next {
                let response = self.send(Method::Get, &route).await?;
                versions.extend(decode_versions(&route, &response.body)?);
                next = response.next;
            }
        }
        let mut seen = HashSet::with_capacity(versions.len());
        versions.retain(|version| seen.insert(version.id));
        versions.shrink_to_fit();
        Ok(versions)
    }

    /// One page of a package's versions (`page` from 1) and the page count its `last` link
    /// gives (the page itself when there is none): for listings that span runs.
    pub async fn list_page(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
        state: VersionState,
        page: u32,
    ) -> Result<(Vec<Version>, u32), ApiError> {
        let route = format!(
            "{}/versions?per_page={PER_PAGE}&state={}&page={page}",
            package_route(namespace, package_type, name),
            state.as_str()
        );
        let response = self.send(Method::Get, &route).await?;
        let pages = match response.last.as_deref().and_then(page_number) {
            Some(last) => last.max(page),
            None if response.next.is_some() => page.saturating_add(1),
            None => page,
        };
        Ok((decode_versions(&route, &response.body)?, pages))
    }

    /// Fails as rate limited when the primary budget, less the reserve, cannot cover
    /// `requests` more requests before it resets.
    fn ensure_budget_for(&self, requests: u32, route: &str) -> Result<(), ApiError> {
        let Some(rate) = self.rate_limit() else {
            return Ok(());
        };
        // When it refills in time, `send` waits for each reset as the budget runs out.
        let Cover::Short { usable } =
            rate.covers(u64::from(requests), self.pacing(), SystemTime::now())
        else {
            return Ok(());
        };
        let message = format!(
            "listing needs {requests} more requests, and only {usable} of the primary rate \
             limit's {} are left until it resets",
            rate.limit
        );
        Err(ApiError::new(Method::Get, route, None, message).rate_limited(Some(rate.reset)))
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

/// A page of versions, decoded and reduced at once so no response body outlives its page.
fn decode_versions(route: &str, body: &str) -> Result<Vec<Version>, ApiError> {
    let page: Vec<PackageVersion> = decode(route, body)?;
    Ok(page.into_iter().map(compact).collect())
}

/// The `page` query parameter of a route.
fn page_number(route: &str) -> Option<u32> {
    let (_, query) = route.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|page| page.parse().ok())
}

/// `route` with its `page` query parameter set to `page`.
fn with_page(route: &str, page: u32) -> String {
    let (path, query) = route.split_once('?').unwrap_or((route, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("page="))
        .map(str::to_string)
        .collect();
    pairs.push(format!("page={page}"));
    format!("{path}?{}", pairs.join("&"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_read_and_replaced_in_the_query() {
        let last = "/orgs/a/packages/container/b/versions?per_page=100&state=active&page=1000";
        assert_eq!(page_number(last), Some(1000));
        assert_eq!(page_number("/x?per_page=100"), None);
        assert_eq!(page_number("/x"), None);
        let cases = [
            (
                last,
                7,
                "/orgs/a/packages/container/b/versions?per_page=100&state=active&page=7",
            ),
            ("/x?page=3&per_page=100", 2, "/x?per_page=100&page=2"),
            ("/x", 2, "/x?page=2"),
        ];
        for (route, page, expected) in cases {
            assert_eq!(with_page(route, page), expected, "{route}");
        }
    }
}
