//! A tiny scripted HTTP/1.1 server for hostile-server tests: it answers every request with
//! what a test's closure says (any status, headers and body, optionally dripped a byte at a
//! time) and records every request head it hears, headers included, so a test can prove
//! where credentials went. Request bodies are read and dropped. One connection per request
//! (`connection: close`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

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
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedServer {
    /// Listens on `ip` (any loopback address: `127.0.0.1`, `127.0.0.2`...) on a free port;
    /// `script` gets the number of requests heard before this one and its head.
    pub fn start(
        ip: &str,
        script: impl Fn(usize, &Heard) -> Scripted + Send + Sync + 'static,
    ) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind((ip, 0)).with_context(|| format!("cannot listen on {ip}"))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let thread = {
            let (heard, stop) = (Arc::clone(&heard), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("scripted-server".into())
                .spawn(move || accept(&listener, &heard, &stop, &script))?
        };
        Ok(ScriptedServer {
            url,
            heard,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://IP:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
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

fn accept(
    listener: &TcpListener,
    heard: &Arc<Mutex<Vec<Heard>>>,
    stop: &Arc<AtomicBool>,
    script: &Arc<Script>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (heard, stop, script) =
                    (Arc::clone(heard), Arc::clone(stop), Arc::clone(script));
                std::thread::spawn(move || serve(stream, &heard, &stop, script.as_ref()));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(mut stream: TcpStream, heard: &Mutex<Vec<Heard>>, stop: &AtomicBool, script: &Script) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
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
        let Ok(mut heard) = heard.lock() else {
            return;
        };
        heard.push(head.clone());
        heard.len() - 1
    };
    let reply = script(nth, &head);
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
                if stop.load(Ordering::SeqCst) || stream.write_all(&[*byte]).is_err() {
                    return;
                }
                let _ = stream.flush();
                std::thread::sleep(every);
            }
        }
    }
    let _ = stream.flush();
}

/// The request line and headers, up to the blank line (at most 64 KiB).
fn read_head(stream: &mut TcpStream) -> Option<Heard> {
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
