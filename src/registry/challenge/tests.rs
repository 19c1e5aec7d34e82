//! Tests of reading a registry's challenge and of which realms the token may go to.

use super::*;

fn challenge(realm: &str, service: Option<&str>, scope: Option<&str>) -> Option<Challenge> {
    Some(Challenge {
        realm: realm.into(),
        service: service.map(Into::into),
        scope: scope.map(Into::into),
    })
}

#[test]
fn bearer_challenges_are_parsed_in_every_form_registries_send() {
    let table = [
        (
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#,
            challenge(
                "https://ghcr.io/token",
                Some("ghcr.io"),
                Some("repository:acme/app:pull"),
            ),
        ),
        (
            r#"bearer  Realm="https://r/token", Service="r", Scope="repository:a/b:pull,push""#,
            challenge(
                "https://r/token",
                Some("r"),
                Some("repository:a/b:pull,push"),
            ),
        ),
        (
            r#"Bearer realm="https://r/token""#,
            challenge("https://r/token", None, None),
        ),
        (
            r#"Bearer service=r,realm=https://r/token"#,
            challenge("https://r/token", Some("r"), None),
        ),
        (
            r#"Bearer realm="https://r/to\"ken",error="invalid_token""#,
            challenge("https://r/to\"ken", None, None),
        ),
    ];
    for (header, expected) in table {
        assert_eq!(parse(header), expected, "{header}");
    }
}

#[test]
fn only_a_realm_on_the_registrys_own_host_over_https_gets_the_token() {
    let table: [(&str, &str, Result<(), &str>); 14] = [
        ("https://ghcr.io/token", "https://ghcr.io", Ok(())),
        ("https://GHCR.io:443/token?x=1", "https://ghcr.io", Ok(())),
        ("https://127.0.0.1:9/token", "http://127.0.0.1:8", Ok(())),
        ("http://127.0.0.1:8/token", "http://127.0.0.1:8", Ok(())),
        ("http://ghcr.io/token", "https://ghcr.io", Err("ghcr.io")),
        (
            "https://evil.example/token",
            "https://ghcr.io",
            Err("evil.example"),
        ),
        (
            "https://ghcr.io.evil.example/t",
            "https://ghcr.io",
            Err("ghcr.io.evil.example"),
        ),
        (
            "http://localhost:8/token",
            "http://127.0.0.1:8",
            Err("localhost"),
        ),
        (
            "http://127.0.0.2:8/token",
            "http://127.0.0.1:8",
            Err("127.0.0.2"),
        ),
        (
            "https://user@ghcr.io/token",
            "https://ghcr.io",
            Err("ghcr.io"),
        ),
        ("ftp://ghcr.io/token", "https://ghcr.io", Err("ghcr.io")),
        ("/token", "https://ghcr.io", Err("/token")),
        ("ghcr.io/token", "https://ghcr.io", Err("ghcr.io/token")),
        ("https://ghcr.io/token", "not a url", Err("ghcr.io")),
    ];
    for (realm, registry, expected) in table {
        assert_eq!(
            trust(realm, registry),
            expected.map_err(str::to_string),
            "{realm} for {registry}"
        );
    }
}

#[test]
fn other_schemes_and_challenges_without_a_realm_are_not_bearer_challenges() {
    for header in [
        r#"Basic realm="registry""#,
        r#"Bearer service="ghcr.io""#,
        r#"Bearer realm="""#,
        r#"Bearer realm="unterminated"#,
        "Bearer",
        "",
    ] {
        assert_eq!(parse(header), None, "{header}");
    }
}
