//! The JSON bodies GitHub sends for users, packages and versions, with URLs on this server.

use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::seed::OwnerKind;
use crate::state::{Owner, Package, Version};

/// Everything but RFC 3986 unreserved characters, so `team/app` becomes `team%2Fapp`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `team/app` -> `team%2Fapp`, as clients must send package names.
pub fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// RFC 3339 in UTC with whole seconds, e.g. `2026-01-02T03:04:05Z`.
fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

fn owner_type(owner: &Owner) -> &'static str {
    match owner.kind {
        OwnerKind::User => "User",
        OwnerKind::Organization => "Organization",
    }
}

/// `orgs/acme` or `users/alice`: the canonical prefix for the owner's URLs.
fn owner_path(owner: &Owner) -> String {
    let kind = match owner.kind {
        OwnerKind::User => "users",
        OwnerKind::Organization => "orgs",
    };
    format!("{kind}/{}", encode_segment(&owner.login))
}

pub fn user(owner: &Owner) -> Value {
    json!({"login": owner.login, "id": owner.id, "type": owner_type(owner)})
}

struct PackageUrls {
    api: String,
    html: String,
}

impl PackageUrls {
    fn new(base_url: &str, owner: &Owner, package: &Package) -> Self {
        let (owner, kind, name) = (
            owner_path(owner),
            &package.package_type,
            encode_segment(&package.name),
        );
        Self {
            api: format!("{base_url}/{owner}/packages/{kind}/{name}"),
            html: format!("{base_url}/{owner}/packages/{kind}/package/{name}"),
        }
    }
}

pub fn package(base_url: &str, owner: &Owner, package: &Package) -> Value {
    let urls = PackageUrls::new(base_url, owner, package);
    json!({
        "id": package.id,
        "name": package.name,
        "package_type": package.package_type,
        "owner": user(owner),
        "version_count": package.active_versions().count(),
        "visibility": package.visibility.as_str(),
        "url": urls.api,
        "html_url": urls.html,
        "repository": package.repository.as_ref().map(|full_name| json!({"full_name": full_name})),
        "created_at": timestamp(package.created_at),
        "updated_at": timestamp(package.updated_at()),
    })
}

pub fn version(base_url: &str, owner: &Owner, package: &Package, version: &Version) -> Value {
    let urls = PackageUrls::new(base_url, owner, package);
    let metadata = match package.package_type.as_str() {
        "container" => json!({"package_type": "container", "container": {"tags": version.tags}}),
        "docker" => json!({"package_type": "docker", "docker": {"tag": version.tags}}),
        other => json!({"package_type": other}),
    };
    let mut body = json!({
        "id": version.id,
        "name": version.name,
        "url": format!("{}/versions/{}", urls.api, version.id),
        "package_html_url": urls.html,
        "html_url": format!("{}/{}", urls.html, version.id),
        "created_at": timestamp(version.created_at),
        "updated_at": timestamp(version.updated_at),
        "metadata": metadata,
    });
    if let (Some(deleted_at), Some(fields)) = (version.deleted_at, body.as_object_mut()) {
        fields.insert("deleted_at".into(), timestamp(deleted_at).into());
    }
    body
}
