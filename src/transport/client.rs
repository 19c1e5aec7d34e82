//! The HTTP client under both API clients: octocrab over hyper and rustls, trusting the
//! system's certificate authorities (or `SSL_CERT_FILE`/`SSL_CERT_DIR` when set), naming
//! package-janitor in the `User-Agent` of every request, and telling a refused TLS
//! certificate apart from a network failure.
//!
//! octocrab's own client always sends `User-Agent: octocrab` (an added header would be a
//! second one), so the client is built here from the same parts its `default-client`
//! feature uses, with our headers instead.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use http::header::{HeaderName, HeaderValue, USER_AGENT};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use octocrab::service::middleware::auth_header::AuthHeaderLayer;
use octocrab::service::middleware::base_uri::BaseUriLayer;
use octocrab::service::middleware::extra_headers::ExtraHeadersLayer;
use octocrab::{AuthState, OctoBody, Octocrab, OctocrabBuilder};

use super::token::Token;

/// Where package-janitor lives, from Cargo.toml: the `User-Agent` names it.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The crate version, and the commit when the build set `PACKAGE_JANITOR_COMMIT`, as
/// `--version` prints it.
pub fn version() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match commit() {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version.to_owned(),
    }
}

/// The build's commit, when it was given one: letters and digits only, at most 40, so it is
/// always a valid header value.
fn commit() -> Option<String> {
    let commit: String = option_env!("PACKAGE_JANITOR_COMMIT")?
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    (!commit.is_empty()).then_some(commit)
}

/// `package-janitor/1.2.3 (+https://github.com/…)`, with `commit abc; ` before the URL when the
/// build has one: the application's name and where to find it, as GitHub asks of clients.
pub fn user_agent() -> String {
    let commit = commit()
        .map(|commit| format!("commit {commit}; "))
        .unwrap_or_default();
    format!(
        "package-janitor/{} ({commit}+{REPOSITORY})",
        env!("CARGO_PKG_VERSION")
    )
}

/// How long to wait for a connection (TCP and TLS handshake) before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for `base`: relative routes go there, and `bearer`, when given, is sent as
/// `Authorization: Bearer …` to `base`'s host only (octocrab's rule). Every request carries
/// our `User-Agent` and `headers`. Reads time out after `read_timeout`.
///
/// Fails when `base` is not a URL or no certificate authority can be loaded (a missing or
/// empty `SSL_CERT_FILE`, say).
pub fn build(
    base: &str,
    bearer: Option<&Token>,
    headers: &[(HeaderName, &'static str)],
    read_timeout: Duration,
) -> Result<Octocrab, String> {
    let base_uri: Uri = base
        .parse()
        .map_err(|err| format!("`{base}` is not a valid URL: {err}"))?;
    let mut extra = vec![(
        USER_AGENT,
        HeaderValue::from_str(&user_agent())
            .map_err(|err| format!("the User-Agent is not a header value: {err}"))?,
    )];
    extra.extend(
        headers
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_static(value))),
    );
    let authorization = bearer
        .map(|token| {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| "the token is not a valid header value".to_string())?;
            value.set_sensitive(true);
            Ok::<_, String>(value)
        })
        .transpose()?;
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls_config()?)
        .https_or_http()
        .enable_http1()
        .build();
    let mut connector = TimeoutConnector::new(https);
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector.set_read_timeout(Some(read_timeout));
    let service = Client::builder(TokioExecutor::new()).build::<_, OctoBody>(connector);
    let built = OctocrabBuilder::new_empty()
        .with_service(service)
        .with_layer(&ExtraHeadersLayer::new(Arc::new(extra)))
        .with_layer(&BaseUriLayer::new(base_uri.clone()))
        .with_layer(&AuthHeaderLayer::new(
            authorization,
            base_uri.clone(),
            base_uri,
        ))
        .with_auth(AuthState::None)
        .build();
    match built {
        Ok(crab) => Ok(crab),
        Err(never) => match never {},
    }
}

/// rustls with ring, its safe protocol versions and the system's certificate authorities,
/// as rustls-native-certs finds them: from `SSL_CERT_FILE` and `SSL_CERT_DIR` when either
/// is set (they then replace the system's), else the system's store.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let from = match std::env::var_os("SSL_CERT_FILE") {
            Some(file) => format!("SSL_CERT_FILE ({})", file.to_string_lossy()),
            None => "the system's certificate store".to_string(),
        };
        let why = found
            .errors
            .first()
            .map(|err| format!(": {err}"))
            .unwrap_or_default();
        return Err(format!(
            "no trusted certificate authority could be loaded from {from}{why}. Point SSL_CERT_FILE at a PEM file of certificate authorities"
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS setup failed: {err}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The most of a TLS library's own words about a certificate kept in a message: they may
/// quote the names the server's certificate presents, which the server chose.
const MAX_DETAIL: usize = 300;

/// Why the server's TLS certificate was refused, when `error` or one of its causes is
/// rustls refusing it; `None` for every other failure (refused connections, timeouts, DNS).
pub fn certificate_problem(error: &(dyn Error + 'static)) -> Option<String> {
    causes(error).find_map(|cause| match cause.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(refused)) => Some(describe_certificate(refused)),
        _ => None,
    })
}

/// `error` and its causes, outermost first. `std::io::Error::source` skips the error it
/// wraps, and the TLS and timeout layers wrap errors in `io::Error`s (one in another), so
/// the cause of an `io::Error` is the error inside it.
fn causes<'a>(error: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&current| cause_of(current))
}

fn cause_of<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    match error.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
        None => error.source(),
    }
}

/// What is wrong with a refused certificate, in plain words, then rustls's own.
fn describe_certificate(refused: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Refused;
    let plain = match refused {
        Refused::UnknownIssuer => {
            "it is signed by a certificate authority this runner does not trust"
        }
        Refused::Expired | Refused::ExpiredContext { .. } => "it has expired",
        Refused::NotValidYet | Refused::NotValidYetContext { .. } => "it is not valid yet",
        Refused::NotValidForName | Refused::NotValidForNameContext { .. } => {
            "it is not valid for this host name"
        }
        Refused::Revoked => "it has been revoked",
        _ => "it was refused",
    };
    let detail: String = refused.to_string().chars().take(MAX_DETAIL).collect();
    format!("{plain} ({detail})")
}

/// The error both clients give for a refused certificate: the host, what is wrong, that it
/// is not retried, and what fixes it.
pub fn certificate_message(host: &str, problem: &str) -> String {
    format!(
        "TLS certificate problem: the certificate of {host} is not trusted: {problem}. Not retried: a certificate does not fix itself. If {host} is GitHub Enterprise Server (or its registry) with a private certificate authority, set SSL_CERT_FILE to a PEM file holding that authority's certificate (it replaces the system's certificate authorities, so include the public ones if the run also reaches github.com)"
    )
}

/// The host (and port, if any) of an absolute URL, for messages; the URL itself when it
/// has none.
pub fn host_of(url: &str) -> String {
    url.parse::<Uri>()
        .ok()
        .and_then(|uri| uri.authority().map(|authority| authority.to_string()))
        .unwrap_or_else(|| url.to_string())
}

/// An error and its causes, one after the other (`client error (Connect): tcp connect
/// error: Connection refused`), each said once.
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(error) {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Headers every REST API request carries besides the User-Agent: GitHub's media type and
/// the API version, explicit because the next version (`2026-03-10`) has breaking changes.
pub const REST_HEADERS: [(HeaderName, &str); 2] = [
    (http::header::ACCEPT, "application/vnd.github+json"),
    (
        HeaderName::from_static("x-github-api-version"),
        "2022-11-28",
    ),
];

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn the_user_agent_names_the_application_its_version_and_where_it_lives() {
        let agent = user_agent();
        assert!(
            agent.starts_with(&format!("package-janitor/{} (", env!("CARGO_PKG_VERSION"))),
            "{agent}"
        );
        assert!(agent.ends_with(&format!("+{REPOSITORY})")), "{agent}");
        assert!(
            REPOSITORY.starts_with("https://github.com/"),
            "{REPOSITORY}"
        );
        assert!(HeaderValue::from_str(&agent).is_ok(), "{agent}");
        assert!(version().starts_with(env!("CARGO_PKG_VERSION")));
    }

    /// An error wrapping another, as hyper's and the connector's errors do.
    #[derive(Debug)]
    struct Wrapped(&'static str, Box<dyn Error + Send + Sync>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(self.1.as_ref())
        }
    }

    /// rustls's error as the connection reports it: inside an `io::Error` (itself inside
    /// another, as the timeout layer wraps it), inside hyper's.
    fn connect_failure(tls: rustls::Error) -> Wrapped {
        let io = io::Error::new(io::ErrorKind::InvalidData, tls);
        Wrapped("client error (Connect)", Box::new(io::Error::other(io)))
    }

    #[test]
    fn a_refused_certificate_is_found_deep_in_the_chain_and_said_plainly() {
        use rustls::CertificateError as Refused;
        let cases = [
            (
                Refused::UnknownIssuer,
                "it is signed by a certificate authority this runner does not trust (UnknownIssuer)",
            ),
            (Refused::Expired, "it has expired (Expired)"),
            (
                Refused::NotValidForName,
                "it is not valid for this host name (NotValidForName)",
            ),
            (Refused::Revoked, "it has been revoked (Revoked)"),
            (Refused::BadSignature, "it was refused (BadSignature)"),
        ];
        for (refused, expected) in cases {
            let error = connect_failure(rustls::Error::InvalidCertificate(refused));
            assert_eq!(
                certificate_problem(&error).as_deref(),
                Some(expected),
                "{error:?}"
            );
        }
    }

    #[test]
    fn other_connection_failures_are_not_certificate_problems() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused");
        let cases = [
            connect_failure(rustls::Error::NoCertificatesPresented),
            connect_failure(rustls::Error::General("handshake".into())),
            Wrapped("client error (Connect)", Box::new(refused)),
        ];
        for error in cases {
            assert_eq!(certificate_problem(&error), None, "{error:?}");
        }
    }

    #[test]
    fn a_description_says_each_cause_once() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused");
        let error = Wrapped(
            "client error (Connect)",
            Box::new(io::Error::other(refused)),
        );
        assert_eq!(
            describe(&error),
            "client error (Connect): Connection refused"
        );
    }

    #[test]
    fn hosts_are_named_with_their_port() {
        let cases = [
            ("https://127.0.0.1:8443/v2/a/b", "127.0.0.1:8443"),
            ("https://ghcr.io/token?scope=x", "ghcr.io"),
            ("not a url", "not a url"),
        ];
        for (url, host) in cases {
            assert_eq!(host_of(url), host);
        }
    }
}
