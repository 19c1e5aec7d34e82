//! Which route prefix an owner's packages live under: `/orgs`, `/users` or `/user`.

use std::path::Path;

use anyhow::bail;

use crate::github::{ApiErrorKind, GitHub, Namespace, OwnerKind};

/// The owner's kind from the workflow event payload (`repository.owner.type`), when the
/// payload is about that same owner. Saves a request; scheduled events may carry nothing.
pub fn kind_from_event(event_path: Option<&Path>, owner: &str) -> Option<OwnerKind> {
    let event_path = event_path?;
    let payload: serde_json::Value =
        serde_json::from_slice(&std::fs::read(event_path).ok()?).ok()?;
    let repo_owner = payload.get("repository")?.get("owner")?;
    let login = repo_owner.get("login")?.as_str()?;
    if !login.eq_ignore_ascii_case(owner) {
        return None;
    }
    match repo_owner.get("type")?.as_str()? {
        "Organization" => Some(OwnerKind::Organization),
        "User" => Some(OwnerKind::User),
        _ => None,
    }
}

/// Decide the namespace: organizations use `/orgs/{owner}`; a user uses `/user` when the
/// token is that user's own (a PAT sees its private packages only there) and
/// `/users/{owner}` otherwise, including for a GITHUB_TOKEN, which `/user` refuses with 403.
pub async fn resolve(
    github: &GitHub,
    owner: &str,
    known_kind: Option<OwnerKind>,
) -> anyhow::Result<(Namespace, OwnerKind)> {
    let kind = match known_kind {
        Some(kind) => kind,
        None => match github.owner_kind(owner).await {
            Ok(kind) => kind,
            Err(err) if err.kind == ApiErrorKind::NotFound => {
                bail!("input `owner`: no user or organization `{owner}` exists ({err})")
            }
            Err(err) => return Err(unauthorized_hint(err.into())),
        },
    };
    if kind == OwnerKind::Organization {
        return Ok((Namespace::Org(owner.to_string()), kind));
    }
    let namespace = match github.token_login().await {
        Ok(login) if login.eq_ignore_ascii_case(owner) => Namespace::AuthenticatedUser,
        Ok(_) => Namespace::User(owner.to_string()),
        Err(err) if err.kind == ApiErrorKind::Forbidden => Namespace::User(owner.to_string()),
        Err(err) => return Err(unauthorized_hint(err.into())),
    };
    Ok((namespace, kind))
}

/// Turn a 401 into advice; other errors keep their own message.
pub fn unauthorized_hint(err: anyhow::Error) -> anyhow::Error {
    let unauthorized = err
        .downcast_ref::<crate::github::ApiError>()
        .is_some_and(|api| api.kind == ApiErrorKind::Unauthorized);
    if unauthorized {
        err.context(
            "input `token` was rejected by GitHub: check that the secret is set and not expired",
        )
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_payload_gives_the_kind_only_for_the_same_owner() {
        let dir = std::env::temp_dir().join(format!("pj-owner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("event.json");
        std::fs::write(
            &path,
            r#"{"repository":{"owner":{"login":"Acme","type":"Organization"}}}"#,
        )
        .unwrap();
        let cases = [
            ("acme", Some(OwnerKind::Organization)),
            ("ACME", Some(OwnerKind::Organization)),
            ("someone-else", None),
        ];
        for (owner, expected) in cases {
            assert_eq!(kind_from_event(Some(&path), owner), expected, "{owner}");
        }
        std::fs::write(&path, r#"{"schedule":"0 3 * * *"}"#).unwrap();
        assert_eq!(kind_from_event(Some(&path), "acme"), None);
        assert_eq!(
            kind_from_event(Some(&dir.join("missing.json")), "acme"),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
