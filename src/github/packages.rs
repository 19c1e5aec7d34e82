//! The Packages endpoints this action uses, decoded into compact [`Version`]s.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde::Deserialize;

use super::error::ListingSize;
use super::ratelimit::Cover;
use super::{ApiError, GitHub, Method, Namespace, decode};
use crate::model::version::{PackageType, Version, VersionState};
use crate::transport::encode::{encode_segment, percent_encode};

/// GitHub caps `per_page` at 100; asking for the maximum keeps the request count low.
pub const PER_PAGE: u32 = 100;

/// Listing packages answers 400 past `page × per_page` = 10000, so it stops there.
const MAX_PACKAGE_PAGES: u32 = 10_000 / PER_PAGE;

/// More pages of versions than any plausible package has (a million versions): a listing
/// that claims more is refused before anything is reserved for it.
pub const MAX_VERSION_PAGES: u32 = 10_000;

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
    /// when versions are deleted meanwhile) is kept once, and a version in the other state
    /// is left out (see [`decode_versions`]): `GET /users/{username}/…/versions` documents no
    /// `page`, `per_page` or `state`, so its answer may hold every version, on one page or on
    /// pages of its own, and any `Link` it gives is followed within the same bounds.
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
        let mut versions = decode_versions(&first, &response.body, package_type, state)?;
        let pages = match response.last.as_deref() {
            Some(last) => page_number(last).map(|count| (last, count)),
            None => None,
        };
        if let Some((last, count)) = pages {
            plausible_pages(&first, count)?;
            self.ensure_budget_for(count.saturating_sub(1), &first)
                .map_err(|err| self.with_size(err, count, versions.len()))?;
            // Sized once from the bounded page count, so the list never over-allocates.
            let more = usize::try_from(count.saturating_sub(1)).unwrap_or(0);
            versions.reserve_exact(more.saturating_mul(PER_PAGE as usize));
            let routes: Vec<String> = (2..=count).map(|page| with_page(last, page)).collect();
            let mut fetched = futures_util::stream::iter(routes)
                .map(|route| async move {
                    let response = self.send(Method::Get, &route).await?;
                    decode_versions(&route, &response.body, package_type, state)
                })
                .buffered(self.pacing().max_concurrency.max(1));
            while let Some(page) = fetched.next().await {
                versions.extend(page?);
            }
        } else {
            let mut visited = HashSet::from([first.clone()]);
            let mut next = response.next;
            while let Some(route) = next {
                if !visited.insert(route.clone()) || visited.len() > MAX_VERSION_PAGES as usize {
                    return Err(ApiError::new(
                        Method::Get,
                        &route,
                        Some(200),
                        format!(
                            "the next page link leads back to a page already listed, or past \
                             {MAX_VERSION_PAGES} pages; the listing was stopped"
                        ),
                    ));
                }
                let response = self.send(Method::Get, &route).await?;
                versions.extend(decode_versions(
                    &route,
                    &response.body,
                    package_type,
                    state,
                )?);
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
        plausible_pages(&route, pages)?;
        Ok((
            decode_versions(&route, &response.body, package_type, state)?,
            pages,
        ))
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

    /// `err`, a listing refused for the budget, with the size of the package: `pages` pages
    /// of which the first held `first_page` versions.
    fn with_size(&self, err: ApiError, pages: u32, first_page: usize) -> ApiError {
        let Some(rate) = self.rate_limit() else {
            return err;
        };
        let per_page = u64::try_from(first_page).unwrap_or(u64::MAX);
        let usable = rate.limit.saturating_sub(self.pacing().budget_reserve);
        ApiError {
            listing: Some(ListingSize {
                pages,
                versions_at_least: u64::from(pages.saturating_sub(1))
                    .saturating_mul(per_page)
                    .saturating_add(1),
                limit: rate.limit,
                beyond_one_budget: pages > usable,
            }),
            ..err
        }
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

    /// The names of the owner's packages that conflict with the Docker-to-Container
    /// migration (`GET {prefix}/docker/conflicts`), for an audit.
    pub async fn docker_conflicts(&self, namespace: &Namespace) -> Result<Vec<String>, ApiError> {
        let route = format!("{}/docker/conflicts", namespace.prefix());
        let (listed, _): (Vec<PackageName>, _) = self.get_json(&route).await?;
        Ok(listed.into_iter().map(|package| package.name).collect())
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

/// A version object as GitHub lists it; only the fields policy and reports use are read.
#[derive(Deserialize)]
struct ListedVersion {
    id: u64,
    name: String,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    deleted_at: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    container: Option<ContainerMetadata>,
    #[serde(default)]
    docker: Option<DockerMetadata>,
}

#[derive(Deserialize)]
struct ContainerMetadata {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// GitHub's description declares `tag` and marks `tags` required: either is read.
#[derive(Deserialize)]
struct DockerMetadata {
    #[serde(default)]
    tag: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// Refuse a page count beyond any plausible package before anything is reserved for it.
fn plausible_pages(route: &str, count: u32) -> Result<(), ApiError> {
    if count <= MAX_VERSION_PAGES {
        return Ok(());
    }
    Err(ApiError::new(
        Method::Get,
        route,
        Some(200),
        format!(
            "the last page link claims {count} pages of versions, more than any plausible \
             package ({MAX_VERSION_PAGES}); the listing was not trusted"
        ),
    ))
}

/// A page of versions, decoded and reduced at once so no response body outlives its page,
/// keeping only the versions in `state`: deleted when they have `deleted_at`, active when
/// they have none. An answer that ignores `state` (the `/users/{username}` listing may) then
/// lists the other state's versions too, and those must not count: a deleted version among
/// the active ones would take a `keep-latest` place, and an active one would be restored.
fn decode_versions(
    route: &str,
    body: &str,
    package_type: PackageType,
    state: VersionState,
) -> Result<Vec<Version>, ApiError> {
    let page: Vec<ListedVersion> = decode(route, body)?;
    let mut versions = Vec::with_capacity(page.len());
    for listed in page {
        let version = compact(listed, package_type)
            .map_err(|message| ApiError::new(Method::Get, route, Some(200), message))?;
        if version.deleted_at.is_some() == (state == VersionState::Deleted) {
            versions.push(version);
        }
    }
    Ok(versions)
}

/// The last second RFC 3339 can write (9999-12-31T23:59:59Z).
const LAST_SECOND: u64 = 253_402_300_799;

/// An RFC 3339 time between 1970 and 9999, as GitHub writes them; anything else is an
/// error naming the field, since a version's age decides whether it is deleted.
fn parse_time(field: &str, id: u64, value: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(value.trim())
        .ok()
        .filter(|time| {
            time.duration_since(UNIX_EPOCH)
                .is_ok_and(|since| since <= Duration::from_secs(LAST_SECOND))
        })
        .ok_or_else(|| {
            format!("version {id}: `{field}` is not a date between 1970 and 9999 in RFC 3339")
        })
}

/// Reduce an API version object to the fields policy and reports use.
fn compact(listed: ListedVersion, package_type: PackageType) -> Result<Version, String> {
    let id = listed.id;
    let metadata = listed.metadata;
    let tags = match package_type {
        PackageType::Container => metadata
            .and_then(|metadata| metadata.container)
            .and_then(|container| container.tags),
        PackageType::Docker => metadata
            .and_then(|metadata| metadata.docker)
            .and_then(|docker| match (docker.tag, docker.tags) {
                (Some(mut tag), Some(tags)) => {
                    for extra in tags {
                        if !tag.contains(&extra) {
                            tag.push(extra);
                        }
                    }
                    Some(tag)
                }
                (tag, tags) => tag.or(tags),
            }),
        _ => Some(Vec::new()),
    };
    let tags_known = tags.is_some();
    let mut tags = tags.unwrap_or_default();
    // Decoded into room for four; 100k versions are held at once.
    tags.shrink_to_fit();
    Ok(Version {
        id,
        name: listed.name,
        tags_known,
        tags,
        created_at: parse_time("created_at", id, &listed.created_at)?,
        updated_at: parse_time("updated_at", id, &listed.updated_at)?,
        deleted_at: listed
            .deleted_at
            .map(|deleted_at| parse_time("deleted_at", id, &deleted_at))
            .transpose()?,
    })
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

/// Whole packages: probe, delete and restore. A package is deleted with one request when a
/// run empties it, and a deleted package must be restored before its versions can be listed.
impl GitHub {
    /// `DELETE {prefix}/packages/{type}/{name}`: the package and every version it has.
    pub async fn delete_package(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
    ) -> Result<(), ApiError> {
        let route = package_route(namespace, package_type, name);
        self.send(Method::Delete, &route).await.map(drop)
    }

    /// `POST {prefix}/packages/{type}/{name}/restore[?token=]`. GitHub wants its `token`
    /// query parameter when several deleted packages share the name. The token never
    /// appears in an error: it is replaced by `***` in the route and in the message (a
    /// transport error may quote the URL).
    pub async fn restore_package(
        &self,
        namespace: &Namespace,
        package_type: PackageType,
        name: &str,
        token: Option<&str>,
    ) -> Result<(), ApiError> {
        let route = format!("{}/restore", package_route(namespace, package_type, name));
        let Some(token) = token else {
            return self.send(Method::Post, &route).await.map(drop);
        };
        let encoded = percent_encode(token, b"-._~");
        self.send(Method::Post, &format!("{route}?token={encoded}"))
            .await
            .map(drop)
            .map_err(|mut err| {
                err.route = format!("{route}?token=***");
                err.message = err.message.replace(&encoded, "***").replace(token, "***");
                err
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use VersionState::{Active, Deleted};

    fn listed(metadata: &str) -> String {
        format!(
            r#"[{{"id":7,"name":"n","created_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-02T00:00:00Z"{metadata}}}]"#
        )
    }

    #[test]
    fn tags_are_known_only_when_github_sent_them() {
        use PackageType::{Container, Docker, Npm};
        let v1 = || vec!["v1".to_string()];
        let cases: Vec<(&str, PackageType, &str, Option<Vec<String>>)> = vec![
            (
                "container tags are read",
                Container,
                r#","metadata":{"package_type":"container","container":{"tags":["v1"]}}"#,
                Some(v1()),
            ),
            (
                "empty container tags mean untagged",
                Container,
                r#","metadata":{"container":{"tags":[]}}"#,
                Some(vec![]),
            ),
            ("no metadata means unknown", Container, "", None),
            (
                "metadata without container means unknown",
                Container,
                r#","metadata":{"package_type":"container"}"#,
                None,
            ),
            (
                "container without tags means unknown",
                Container,
                r#","metadata":{"container":{}}"#,
                None,
            ),
            (
                "docker tag is read",
                Docker,
                r#","metadata":{"docker":{"tag":["v1"]}}"#,
                Some(v1()),
            ),
            (
                "docker tags is read",
                Docker,
                r#","metadata":{"docker":{"tags":["v1"]}}"#,
                Some(v1()),
            ),
            (
                "docker tag and tags are merged",
                Docker,
                r#","metadata":{"docker":{"tag":["v1"],"tags":["v1","v2"]}}"#,
                Some(vec!["v1".into(), "v2".into()]),
            ),
            ("docker without metadata is unknown", Docker, "", None),
            ("npm has no tags to know", Npm, "", Some(vec![])),
        ];
        for (case, package_type, metadata, expected) in cases {
            let versions =
                decode_versions("/r", &listed(metadata), package_type, Active).expect("decodes");
            let version = &versions[0];
            assert_eq!(version.tags_known, expected.is_some(), "{case}");
            assert_eq!(version.tags, expected.unwrap_or_default(), "{case}");
        }
    }

    #[test]
    fn a_page_that_ignored_state_keeps_only_the_versions_in_the_state_asked_for() {
        let version = |id: u64, deleted: &str| {
            format!(
                r#"{{"id":{id},"name":"1.0.{id}","created_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z"{deleted}}}"#
            )
        };
        let body = format!(
            "[{},{},{},{}]",
            version(4, ""),
            version(3, r#","deleted_at":"2020-02-01T00:00:00Z""#),
            version(2, r#","deleted_at":null"#),
            version(1, r#","deleted_at":"2020-03-01T00:00:00Z""#),
        );
        let cases = [(Active, vec![4, 2]), (Deleted, vec![3, 1])];
        for (state, expected) in cases {
            let ids: Vec<u64> = decode_versions("/r", &body, PackageType::Npm, state)
                .expect("decodes")
                .iter()
                .map(|version| version.id)
                .collect();
            assert_eq!(ids, expected, "{state:?}");
        }
    }

    #[test]
    fn dates_outside_1970_to_9999_are_errors_naming_the_field() {
        let cases = [
            ("2020-01-01T00:00:00Z", None),
            ("2020-01-01T00:00:00.123Z", None),
            ("9999-12-31T23:59:59Z", None),
            ("1970-01-01T00:00:00Z", None),
            ("1969-12-31T23:59:59Z", Some("created_at")),
            ("0000-01-01T00:00:00Z", Some("created_at")),
            ("+10000-01-01T00:00:00Z", Some("created_at")),
            ("yesterday", Some("created_at")),
        ];
        for (date, error) in cases {
            let body = format!(
                r#"[{{"id":1,"name":"n","created_at":"{date}","updated_at":"2020-01-01T00:00:00Z"}}]"#
            );
            let decoded = decode_versions("/r", &body, PackageType::Npm, Active);
            match error {
                None => assert!(decoded.is_ok(), "{date}: {decoded:?}"),
                Some(field) => {
                    let message = decoded.expect_err(date).message;
                    assert!(message.contains(field), "{date}: {message}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_bytes_as_a_version_page_decode_or_fail_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let body = String::from_utf8_lossy(&bytes);
            for package_type in PackageType::ALL {
                for state in [Active, Deleted] {
                    let _ = decode_versions("/r", &body, package_type, state);
                }
            }
        }

        #[test]
        fn any_dates_and_numbers_in_a_version_object_never_panic(
            id in any::<u64>(),
            created in ".{0,40}",
            deleted in prop::option::of(".{0,40}"),
            tags in prop::collection::vec(".{0,10}", 0..4),
        ) {
            let deleted = deleted.map_or("null".to_string(), |d| serde_json::json!(d).to_string());
            let body = format!(
                r#"[{{"id":{id},"name":"n","created_at":{},"updated_at":"2020-01-01T00:00:00Z","deleted_at":{deleted},"metadata":{{"docker":{{"tags":{}}},"container":{{"tags":{}}}}}}}]"#,
                serde_json::json!(created),
                serde_json::json!(tags),
                serde_json::json!(tags),
            );
            for package_type in PackageType::ALL {
                for state in [Active, Deleted] {
                    let _ = decode_versions("/r", &body, package_type, state);
                }
            }
        }

        #[test]
        fn any_route_gives_a_page_number_or_none_without_panic(route in ".{0,80}", page in any::<u32>()) {
            let _ = page_number(&route);
            let replaced = with_page(&route, page);
            prop_assert_eq!(page_number(&replaced), Some(page));
        }
    }

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
