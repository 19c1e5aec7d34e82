//! A scripted, hostile HTTP server on 127.0.0.1 for the client's fault tests: each test
//! decides every answer (headers, status, a body that drips or never ends) and reads back
//! every request the binary sent.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// How the body of an answer is sent.
#[derive(Debug, Clone)]
pub enum Body {
    Fixed(String),
    /// One byte every `every`, forever, behind a large content-length.
    Drip {
        every: Duration,
    },
    /// Bytes without end, as fast as the client reads them.
    Endless,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Fixed(body.to_string()),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: Body) -> Reply {
        self.body = body;
        self
    }
}

type Script = dyn Fn(&Request) -> Reply + Send + Sync;

/// The running server; it stops with the test process.
pub struct Hostile {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Hostile {
    /// Serve every request with `script`, one thread per connection.
    pub fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let recorded = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let script = Arc::clone(&script);
                let recorded = Arc::clone(&recorded);
                thread::spawn(move || serve(stream, &*script, &recorded));
            }
        });
        Hostile { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("request log").clone()
    }

    /// Requests with this method.
    pub fn sent(&self, method: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|request| request.method == method)
            .collect()
    }
}

/// Answer requests on one connection until it closes.
fn serve(stream: TcpStream, script: &Script, recorded: &Mutex<Vec<Request>>) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader);
    let mut writer = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        recorded.lock().expect("request log").push(request.clone());
        let reply = script(&request);
        if write_reply(&mut writer, &reply).is_err() {
            return;
        }
        if !matches!(reply.body, Body::Fixed(_)) {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim().to_string();
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; length];
    std::io::Read::read_exact(reader, &mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
    })
}

fn write_reply(writer: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Hostile\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &reply.body {
        Body::Fixed(body) => {
            head.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            ));
            writer.write_all(head.as_bytes())?;
            writer.write_all(body.as_bytes())?;
            writer.flush()
        }
        Body::Drip { every } => {
            head.push_str("content-type: application/json\r\ncontent-length: 1000000\r\n\r\n");
            writer.write_all(head.as_bytes())?;
            writer.write_all(b"[")?;
            loop {
                writer.flush()?;
                thread::sleep(*every);
                writer.write_all(b" ")?;
            }
        }
        Body::Endless => {
            head.push_str("content-type: application/json\r\nconnection: close\r\n\r\n");
            writer.write_all(head.as_bytes())?;
            writer.write_all(b"[")?;
            let chunk = vec![b' '; 64 * 1024];
            loop {
                writer.write_all(&chunk)?;
            }
        }
    }
}
