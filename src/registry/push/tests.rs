//! Tests of registry writes against scripted servers: the `push` scope, the probe and its
//! cancel, uploads that point elsewhere, and what a `PUT` must be answered with.

use std::time::Duration;

use fake_github::{Heard, Scripted, ScriptedServer};

use crate::registry::placeholder::{EMPTY_BLOB, EMPTY_BLOB_DIGEST, OCI_INDEX, sha256};
use crate::registry::{ErrorKind, Patience, Registry};
use crate::transport::pacing::Pacing;
use crate::transport::token::Token;

const TOKEN: &str = "ghp_secret_of_the_push_test";

fn patience() -> Patience {
    Patience {
        retry_base: Duration::from_millis(5),
        ..Patience::from_pacing(&Pacing::default())
    }
}

fn serve(
    ip: &str,
    script: impl Fn(usize, &Heard) -> Scripted + Send + Sync + 'static,
) -> ScriptedServer {
    ScriptedServer::start(ip, script).expect("server starts")
}

fn client(base: &str) -> Registry {
    Registry::new(base, &Token::new(TOKEN.into()), patience()).expect("client builds")
}

fn requests(server: &ScriptedServer) -> Vec<String> {
    server
        .heard()
        .iter()
        .map(|heard| format!("{} {}", heard.method, heard.path))
        .collect()
}

/// A registry that challenges every request without a bearer token, hands out `t` at
/// `/token`, and answers the rest with `answer`.
fn challenging(answer: impl Fn(&Heard) -> Scripted + Send + Sync + 'static) -> ScriptedServer {
    serve("127.0.0.1", move |_, heard| {
        let host = heard.header("host").unwrap_or_default().to_string();
        if heard.path.starts_with("/token") {
            Scripted::new(200).body(r#"{"token":"t"}"#)
        } else if heard.header("authorization").is_none() {
            let challenge = format!(
                "Bearer realm=\"http://{host}/token\",service=\"r\",scope=\"repository:acme/app:pull\""
            );
            Scripted::new(401).header("www-authenticate", &challenge)
        } else {
            answer(heard)
        }
    })
}

#[tokio::test]
async fn the_push_probe_asks_for_push_scope_and_cancels_the_upload_it_starts() {
    let registry = challenging(|heard| match heard.method.as_str() {
        "POST" => Scripted::new(202).header("location", "/v2/acme/app/blobs/uploads/u1?_state=x"),
        _ => Scripted::new(204),
    });
    client(&registry.url())
        .check_push("acme/app")
        .await
        .expect("may push");
    assert_eq!(
        requests(&registry),
        vec![
            "POST /v2/acme/app/blobs/uploads/",
            "GET /token?service=r&scope=repository:acme/app:pull%2Cpush",
            "POST /v2/acme/app/blobs/uploads/",
            "DELETE /v2/acme/app/blobs/uploads/u1?_state=x",
        ]
    );
}

#[tokio::test]
async fn a_token_that_cannot_push_is_denied_and_nothing_else_is_sent() {
    for status in [401, 403] {
        let registry = challenging(move |_| {
            Scripted::new(status).body(
                r#"{"errors":[{"code":"DENIED","message":"permission_denied: write_package"}]}"#,
            )
        });
        let err = client(&registry.url())
            .check_push("acme/app")
            .await
            .expect_err("denied");
        assert!(err.is_denied(), "{err}");
        assert_eq!(err.method, "POST");
        assert!(
            err.to_string()
                .contains("DENIED permission_denied: write_package"),
            "{err}"
        );
        let posts = requests(&registry)
            .into_iter()
            .filter(|request| request.starts_with("POST"))
            .count();
        assert_eq!(posts, 2, "once without a token, once with the push token");
    }
}

#[tokio::test]
async fn an_upload_location_on_another_host_is_never_followed() {
    let elsewhere = serve("127.0.0.2", |_, _| Scripted::new(201));
    let target = elsewhere.url();
    let locations = [
        format!("{target}/v2/acme/app/blobs/uploads/u1"),
        "/v2/acme/other/blobs/uploads/u1".to_string(),
        "/v2/acme/app/blobs/uploads/../../../token".to_string(),
    ];
    for location in locations {
        let registry = challenging(move |heard| match heard.method.as_str() {
            "POST" => Scripted::new(202).header("location", &location),
            "HEAD" => Scripted::new(404),
            _ => Scripted::new(201),
        });
        let client = client(&registry.url());
        let err = client
            .ensure_blob("acme/app", EMPTY_BLOB)
            .await
            .expect_err("not followed");
        assert_eq!(err.kind, ErrorKind::Malformed, "{err}");
        assert!(err.to_string().contains("not followed"), "{err}");
        assert!(
            !requests(&registry).iter().any(|r| r.starts_with("PUT")),
            "{:?}",
            requests(&registry)
        );
        client
            .check_push("acme/app")
            .await
            .expect("the probe passes");
        assert!(!requests(&registry).iter().any(|r| r.starts_with("DELETE")));
    }
    assert_eq!(elsewhere.heard(), vec![], "nothing went to the other host");
}

#[tokio::test]
async fn a_blob_the_registry_has_is_not_uploaded_again_and_one_it_lacks_is() {
    let has = challenging(|_| Scripted::new(200));
    client(&has.url())
        .ensure_blob("acme/app", EMPTY_BLOB)
        .await
        .expect("present");
    assert_eq!(
        requests(&has).last().map(String::as_str),
        Some(format!("HEAD /v2/acme/app/blobs/{EMPTY_BLOB_DIGEST}").as_str())
    );
    let lacks = challenging(|heard| match heard.method.as_str() {
        "HEAD" => Scripted::new(404),
        "POST" => Scripted::new(202).header("location", "/v2/acme/app/blobs/uploads/u2?a=b"),
        _ => Scripted::new(201),
    });
    client(&lacks.url())
        .ensure_blob("acme/app", EMPTY_BLOB)
        .await
        .expect("uploaded");
    let put = format!(
        "PUT /v2/acme/app/blobs/uploads/u2?a=b&digest={}",
        EMPTY_BLOB_DIGEST.replace(':', "%3A")
    );
    assert_eq!(requests(&lacks).last(), Some(&put));
}

#[tokio::test]
async fn a_manifest_put_must_be_stored_under_the_digest_of_its_bytes() {
    let bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let digest = sha256(bytes);
    let stored = digest.clone();
    let right = challenging(move |_| Scripted::new(201).header("docker-content-digest", &stored));
    let put = client(&right.url())
        .put_manifest("acme/app", "sha-1", OCI_INDEX, bytes)
        .await;
    assert_eq!(put, Ok(digest));
    let put_head = right
        .heard()
        .into_iter()
        .rfind(|heard| heard.method == "PUT")
        .expect("a PUT");
    assert_eq!(put_head.path, "/v2/acme/app/manifests/sha-1");
    assert_eq!(put_head.header("content-type"), Some(OCI_INDEX));

    let other = sha256(b"other");
    let wrong = challenging(move |_| Scripted::new(201).header("docker-content-digest", &other));
    let err = client(&wrong.url())
        .put_manifest("acme/app", "sha-1", OCI_INDEX, bytes)
        .await
        .expect_err("another digest");
    assert_eq!(err.kind, ErrorKind::DigestMismatch);

    let refused = challenging(|_| {
        Scripted::new(400).body(r#"{"errors":[{"code":"MANIFEST_INVALID","message":"bad"}]}"#)
    });
    let err = client(&refused.url())
        .put_manifest("acme/app", "sha-1", OCI_INDEX, bytes)
        .await
        .expect_err("refused");
    assert!(err.to_string().starts_with("PUT "), "{err}");
    assert_eq!(err.reason(), "400 MANIFEST_INVALID bad");
}

#[tokio::test]
async fn a_tag_that_would_bend_the_url_is_never_pushed_to() {
    let registry = challenging(|_| Scripted::new(201));
    for tag in ["../../token", "v1?x", &sha256(b"x")] {
        let err = client(&registry.url())
            .put_manifest("acme/app", tag, OCI_INDEX, b"{}")
            .await
            .expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Malformed, "{tag}: {err}");
    }
    assert_eq!(registry.heard(), vec![]);
}

#[tokio::test]
async fn the_push_token_never_goes_to_a_realm_on_another_host() {
    let realm = serve("127.0.0.2", |_, _| {
        Scripted::new(200).body(r#"{"token":"t"}"#)
    });
    let port = realm
        .url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let registry = serve("127.0.0.1", move |_, _| {
        let challenge = format!("Bearer realm=\"http://127.0.0.2:{port}/token\",scope=\"x\"");
        Scripted::new(401).header("www-authenticate", &challenge)
    });
    let err = client(&registry.url())
        .check_push("acme/app")
        .await
        .expect_err("untrusted realm");
    assert_eq!(err.untrusted_realm(), Some("127.0.0.2"), "{err}");
    assert_eq!(realm.heard(), vec![]);
    assert!(
        registry
            .heard()
            .iter()
            .all(|heard| heard.header("authorization").is_none())
    );
}

/// One client for every case, built inside a runtime as in a run; it sends nothing.
fn registry_without_requests() -> (&'static str, &'static Registry) {
    static CLIENT: std::sync::OnceLock<(tokio::runtime::Runtime, Registry)> =
        std::sync::OnceLock::new();
    let base = "http://127.0.0.1:5000";
    let (_, registry) = CLIENT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let registry = {
            let _inside = runtime.enter();
            client(base)
        };
        (runtime, registry)
    });
    (base, registry)
}

proptest::proptest! {
    /// Any `Location` a registry answers an upload with: the URL followed is always on the
    /// registry's own origin, under this repository's upload path, with nothing that could
    /// bend it (`..`, a fragment, spaces or control characters).
    #[test]
    fn an_upload_location_is_followed_only_within_the_repositorys_uploads(
        location in proptest::option::of(proptest::prop_oneof![
            proptest::prelude::any::<String>(),
            "(https?://127\\.0\\.0\\.[12]:5000)?/v2/acme/(app|other)/blobs/uploads/[a-z0-9./?=&#%-]{0,20}",
        ]),
    ) {
        let (base, registry) = registry_without_requests();
        if let Ok(url) = registry.upload_url("acme/app", location.as_deref()) {
            let path = url.strip_prefix(base).expect("the registry's own origin");
            proptest::prop_assert!(path.starts_with("/v2/acme/app/blobs/uploads/"), "{}", url);
            proptest::prop_assert!(!path.contains("..") && !path.contains('#'), "{}", url);
            proptest::prop_assert!(path.bytes().all(|byte| byte.is_ascii_graphic()), "{}", url);
        }
    }
}
