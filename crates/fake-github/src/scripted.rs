//! A tiny scripted HTTP/1.1 server for hostile-server tests: it answers every request with
//! what a test's closure says (any status, headers and body, optionally dripped a byte at a
//! time) and records every request head it hears, headers included, so a test can prove
//! where credentials went. Request bodies are read and dropped. One connection per request
//! (`connection: close`). It can also speak TLS, with a certificate from a certificate
//! authority made for it alone, so a test can prove what a client does with a certificate
//! it does not trust.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// The head of one request the server heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub method: String,
    /// As sent, with the query string.
    pub path: String,
    /// Names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
}

impl Heard {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What to answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Write the body one byte per this long (after the headers), instead of at once.
    pub drip: Option<Duration>,
}

impl Scripted {
    pub fn new(status: u16) -> Self {
        Scripted {
            status,
            ..Scripted::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn drip(mut self, every: Duration) -> Self {
        self.drip = Some(every);
        self
    }
}

type Script = dyn Fn(usize, &Heard) -> Scripted + Send + Sync;

/// A running scripted server; it stops accepting when dropped.
pub struct ScriptedServer {
    url: String,
    heard: Arc<Mutex<Vec<Heard>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// With TLS: the PEM certificate of the authority that signed the server's certificate.
    authority: Option<String>,
}

/// What every connection's thread shares.
struct Shared {
    heard: Arc<Mutex<Vec<Heard>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    script: Box<Script>,
    tls: Option<Arc<ServerConfig>>,
}

impl ScriptedServer {
    /// Listens on `ip` (any loopback address: `127.0.0.1`, `127.0.0.2`...) on a free port;
    /// `script` gets the number of requests heard before this one and its head.
    pub fn start(
        ip: &str,
        script: impl Fn(usize, &Heard) -> Scripted + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        ScriptedServer::listen(ip, Box::new(script), None)
    }

    /// Like [`ScriptedServer::start`], over TLS at `https://IP:PORT`: the certificate is for
    /// `ip`, signed by a certificate authority made for this server alone, which no client
    /// trusts unless given [`ScriptedServer::authority_pem`].
    pub fn start_tls(
        ip: &str,
        script: impl Fn(usize, &Heard) -> Scripted + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let (config, authority) = tls_identity(ip)?;
        let mut server = ScriptedServer::listen(ip, Box::new(script), Some(Arc::new(config)))?;
        server.authority = Some(authority);
        Ok(server)
    }

    fn listen(
        ip: &str,
        script: Box<Script>,
        tls: Option<Arc<ServerConfig>>,
    ) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind((ip, 0)).with_context(|| format!("cannot listen on {ip}"))?;
        listener.set_nonblocking(true)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            heard: Arc::new(Mutex::new(Vec::new())),
            connections: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
            script,
            tls,
        });
        let (heard, connections, stop) = (
            Arc::clone(&shared.heard),
            Arc::clone(&shared.connections),
            Arc::clone(&shared.stop),
        );
        let thread = std::thread::Builder::new()
            .name("scripted-server".into())
            .spawn(move || accept(&listener, &shared))?;
        Ok(ScriptedServer {
            url,
            heard,
            connections,
            stop,
            thread: Some(thread),
            authority: None,
        })
    }

    /// `http://IP:PORT` (`https://` with TLS), without a trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// How many connections were accepted, TLS handshakes that failed included.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// With TLS, the PEM certificate of the authority that signed the server's: a client
    /// given it (in `SSL_CERT_FILE`, say) trusts the server.
    pub fn authority_pem(&self) -> Option<&str> {
        self.authority.as_deref()
    }

    /// Every request head heard so far, in order.
    pub fn heard(&self) -> Vec<Heard> {
        self.heard
            .lock()
            .map(|heard| heard.clone())
            .unwrap_or_default()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(shared);
                std::thread::spawn(move || serve(stream, &shared));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    match &shared.tls {
        None => exchange(stream, shared),
        Some(config) => {
            let Ok(connection) = ServerConnection::new(Arc::clone(config)) else {
                return;
            };
            let mut tls = StreamOwned::new(connection, stream);
            exchange(&mut tls, shared);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

/// Read one request head and write the script's answer. Over TLS the handshake happens on
/// the first read, so a client that refuses the certificate ends the exchange there.
fn exchange(mut stream: impl Read + Write, shared: &Shared) {
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    // The body is read and dropped, so that answering never resets a connection the
    // client is still writing to (at most 1 MiB).
    let length = head
        .header("content-length")
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let _ = std::io::copy(&mut (&mut stream).take(length), &mut std::io::sink());
    let nth = {
        let Ok(mut heard) = shared.heard.lock() else {
            return;
        };
        heard.push(head.clone());
        heard.len() - 1
    };
    let reply = (shared.script)(nth, &head);
    let mut out = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    if stream.write_all(out.as_bytes()).is_err() {
        return;
    }
    match reply.drip {
        None => {
            let _ = stream.write_all(&reply.body);
        }
        Some(every) => {
            for byte in &reply.body {
                if shared.stop.load(Ordering::SeqCst) || stream.write_all(&[*byte]).is_err() {
                    return;
                }
                let _ = stream.flush();
                std::thread::sleep(every);
            }
        }
    }
    let _ = stream.flush();
}

/// A server certificate for `ip`, signed by a new certificate authority; the authority's
/// certificate in PEM.
fn tls_identity(ip: &str) -> anyhow::Result<(ServerConfig, String)> {
    let mut authority = CertificateParams::new(Vec::<String>::new())?;
    authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    authority.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    authority.distinguished_name.push(
        DnType::CommonName,
        "fake-github scripted server test authority",
    );
    let authority = CertifiedIssuer::self_signed(authority, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec![ip.to_owned()])?;
    server.distinguished_name.push(DnType::CommonName, ip);
    let certificate = server.signed_by(&key, &authority)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.der().clone()], key)?;
    Ok((config, authority.pem()))
}

/// The request line and headers, up to the blank line (at most 64 KiB).
fn read_head(stream: &mut impl Read) -> Option<Heard> {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        if bytes.len() > 64 << 10 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        bytes.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.split("\r\n");
    let mut request = lines.next()?.split(' ');
    let (method, path) = (request.next()?.to_owned(), request.next()?.to_owned());
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Heard {
        method,
        path,
        headers,
    })
}
