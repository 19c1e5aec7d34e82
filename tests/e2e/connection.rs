//! How the binary talks to servers: who it says it is and what it asks for, what it does
//! with a TLS certificate it does not trust (and with one `SSL_CERT_FILE` makes it trust),
//! and the registry's retries in the closing count.

use fake_github::{FakeGitHub, Scripted, ScriptedServer};

use crate::harness::*;

/// The `User-Agent` the binary should send, from what `--version` prints: `package-janitor
/// 1.2.3` or `package-janitor 1.2.3 (commit abc)`.
fn expected_user_agent() -> String {
    let printed = janitor_without_api().arg("--version").run();
    printed.assert_success();
    let version = printed
        .log
        .trim()
        .strip_prefix("package-janitor ")
        .unwrap_or_else(|| panic!("--version printed {}", printed.log));
    let repository = env!("CARGO_PKG_REPOSITORY");
    match version.split_once(" (commit ") {
        Some((version, commit)) => format!(
            "package-janitor/{version} (commit {}; +{repository})",
            commit.trim_end_matches(')')
        ),
        None => format!("package-janitor/{version} (+{repository})"),
    }
}

/// A container package whose images need manifest reads, so both clients are used.
fn fake_with_images() -> FakeGitHub {
    FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![image(1, 50, &[]), image(2, 40, &["v2"]), image(3, 30, &[])],
    )))
    .expect("fake starts")
}

/// Whether the fake served `path` as the registry (manifests, tags, token exchange).
fn is_registry(path: &str) -> bool {
    path.starts_with("/v2/") || path.starts_with("/token")
}

#[test]
fn every_request_names_the_client_and_rest_requests_ask_for_githubs_json_and_api_version() {
    let fake = fake_with_images();
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2]);
    let agent = expected_user_agent();
    assert!(
        agent.starts_with(&format!("package-janitor/{} (", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
    let requests = fake.requests();
    let (registry, rest): (Vec<_>, Vec<_>) = requests
        .iter()
        .partition(|request| is_registry(&request.path));
    assert!(rest.len() >= 3, "listing and deletes: {rest:?}");
    assert!(!registry.is_empty(), "manifest reads: {requests:?}");
    for request in &requests {
        let agents: Vec<&str> = request
            .headers
            .iter()
            .filter(|(name, _)| name == "user-agent")
            .map(|(_, value)| value.as_str())
            .collect();
        assert_eq!(agents, vec![agent.as_str()], "{request:?}");
    }
    for request in rest {
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json"),
            "{request:?}"
        );
        assert_eq!(
            request.header("x-github-api-version"),
            Some("2022-11-28"),
            "{request:?}"
        );
    }
    for request in registry.iter().filter(|r| r.path.contains("/manifests/")) {
        let accept = request.header("accept").unwrap_or_default();
        assert!(
            accept.contains("application/vnd.oci.image.index.v1+json")
                && !accept.contains("vnd.github"),
            "{request:?}"
        );
    }
}

/// A TLS server that answers every request 401 `Bad credentials`, as GitHub would a token
/// it does not know: a run that gets an answer at all fails on the token, not the TLS.
fn tls_api() -> ScriptedServer {
    ScriptedServer::start_tls("127.0.0.1", |_, _| {
        Scripted::new(401)
            .header("content-type", "application/json")
            .body(r#"{"message":"Bad credentials"}"#)
    })
    .expect("TLS server starts")
}

#[test]
fn an_api_with_a_certificate_the_runner_does_not_trust_fails_at_once_naming_the_host() {
    let server = tls_api();
    let host = server.url().trim_start_matches("https://").to_string();
    let run = janitor_without_api()
        .env("GITHUB_API_URL", &server.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .input("token", ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_failure();
    assert_eq!(
        server.connections(),
        1,
        "one try, not retried:\n{}",
        run.log
    );
    assert_eq!(server.heard(), vec![], "nothing was sent over it");
    let error = run
        .log
        .lines()
        .find(|line| line.starts_with("::error::"))
        .unwrap_or_else(|| panic!("no error line:\n{}", run.log));
    for expected in [
        format!("TLS certificate problem: the certificate of {host} is not trusted"),
        "signed by a certificate authority this runner does not trust".to_string(),
        "SSL_CERT_FILE".to_string(),
        "GitHub Enterprise Server".to_string(),
    ] {
        assert!(error.contains(&expected), "{expected}:\n{error}");
    }
    assert!(!run.log.contains("gave up after"), "{}", run.log);

    // The same server, its authority trusted through SSL_CERT_FILE: the run gets answers.
    let authority = std::env::temp_dir().join(format!("pj-ca-{}.pem", std::process::id()));
    std::fs::write(&authority, server.authority_pem().expect("a TLS server")).expect("CA file");
    let trusted = janitor_without_api()
        .env("GITHUB_API_URL", &server.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .env("SSL_CERT_FILE", authority.to_str().expect("utf-8 path"))
        .input("token", ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    let _ = std::fs::remove_file(&authority);
    trusted.assert_failure();
    assert!(!server.heard().is_empty(), "{}", trusted.log);
    assert!(
        !trusted.log.contains("TLS certificate problem"),
        "{}",
        trusted.log
    );
    assert!(trusted.log.contains("Bad credentials"), "{}", trusted.log);
}

#[test]
fn an_ssl_cert_file_that_holds_no_certificate_fails_before_any_request_naming_it() {
    let fake = fake_with_images();
    let missing = std::env::temp_dir().join(format!("pj-no-ca-{}.pem", std::process::id()));
    let run = janitor(&fake, ALICE)
        .env("SSL_CERT_FILE", missing.to_str().expect("utf-8 path"))
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_failure();
    assert_eq!(fake.requests(), vec![], "no request was sent");
    let expected = format!(
        "::error::cannot set up the client for the API at {}: no trusted certificate authority could be loaded from SSL_CERT_FILE ({})",
        fake.url(),
        missing.display()
    );
    assert!(run.log.starts_with(&expected), "{expected}\n{}", run.log);
}

#[test]
fn a_registry_with_a_certificate_the_runner_does_not_trust_fails_the_package_without_retries() {
    let fake = fake_with_images();
    let registry = ScriptedServer::start_tls("127.0.0.1", |_, _| Scripted::new(200))
        .expect("TLS server starts");
    let host = registry.url().trim_start_matches("https://").to_string();
    let run = janitor(&fake, ALICE)
        .input("registry-url", &registry.url())
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_failure();
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2, 3]);
    assert!(
        registry.connections() <= 3,
        "at most one try for each of the 3 manifests, none retried: {}\n{}",
        registry.connections(),
        run.log
    );
    assert_eq!(registry.heard(), vec![]);
    let error = run
        .log
        .lines()
        .find(|line| line.starts_with("::error::acme/app: "))
        .unwrap_or_else(|| panic!("no error for the package:\n{}", run.log));
    for expected in [
        format!("TLS certificate problem: the certificate of {host} is not trusted"),
        "SSL_CERT_FILE".to_string(),
        "Nothing in this package was deleted".to_string(),
    ] {
        assert!(error.contains(&expected), "{expected}:\n{error}");
    }
    let closing = format!(
        "; registry: {} requests, 0 retried\n",
        registry.connections()
    );
    assert!(run.log.contains(&closing), "{closing}\n{}", run.log);
}

#[test]
fn the_closing_count_says_the_registrys_retries_apart_from_the_apis() {
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            image(1, 50, &[]).unavailable_once(),
            image(2, 40, &["v2"]),
            image(3, 30, &[]),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2]);
    let registry_requests = fake
        .requests()
        .iter()
        .filter(|request| is_registry(&request.path))
        .count();
    let closing = run
        .log
        .lines()
        .find(|line| line.starts_with("API: "))
        .unwrap_or_else(|| panic!("no closing count:\n{}", run.log));
    assert!(closing.contains(" requests, 0 retried, "), "{closing}");
    assert!(
        closing.ends_with(&format!(
            "; registry: {registry_requests} requests, 1 retried"
        )),
        "{closing}"
    );
}
