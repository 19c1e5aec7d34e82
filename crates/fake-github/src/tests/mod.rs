//! HTTP-level tests: real HTTP/1.1 requests over TCP against a started fake.

mod access;
mod during;
mod limits;
mod listing;
mod mutations;
mod push;
mod registry;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::{FakeGitHub, OwnerSeed, Seed, TokenSeed};

/// PAT of alice with every package scope; alice is a member of the `acme` organization.
const ALICE: &str = "ghp_alice";
/// PAT of alice that may only read.
const READER: &str = "ghp_reader";
/// PAT of bob with every package scope; bob belongs to no organization.
const BOB: &str = "ghp_bob";
/// `GITHUB_TOKEN` of the `acme/app` repository.
const CI: &str = "ghs_app";

const ALL_SCOPES: &[&str] = &["read:packages", "write:packages", "delete:packages", "repo"];

/// The tokens and owners most tests share; tests add their packages.
fn world() -> Seed {
    Seed::new()
        .token(TokenSeed::pat(ALICE, "alice", ALL_SCOPES))
        .token(TokenSeed::pat(READER, "alice", &["read:packages"]))
        .token(TokenSeed::pat(BOB, "bob", ALL_SCOPES))
        .token(TokenSeed::github_token(CI, "acme/app"))
        .owner(OwnerSeed::org("acme").members(&["alice"]))
}

fn start(seed: Seed) -> FakeGitHub {
    FakeGitHub::start(seed).expect("the fake starts")
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The items of a JSON array body.
    fn items(&self) -> Vec<Value> {
        match self.json() {
            Value::Array(items) => items,
            other => panic!("not an array: {other}"),
        }
    }

    /// The `id`s of a JSON array body, in order.
    fn ids(&self) -> Vec<u64> {
        self.items()
            .iter()
            .map(|item| item["id"].as_u64().expect("an id"))
            .collect()
    }

    /// The `name`s of a JSON array body, in order.
    fn names(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|item| item["name"].as_str().expect("a name").to_owned())
            .collect()
    }
}

/// Sends one request with an optional raw `Authorization` header value.
fn request(fake: &FakeGitHub, method: &str, path: &str, authorization: Option<&str>) -> Reply {
    send(fake, method, path, authorization, None, b"")
}

/// Sends one request with an optional `Authorization` value, `Content-Type` and a body.
fn send(
    fake: &FakeGitHub,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    let address = fake.url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect to the fake");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    let content_type = content_type
        .map(|value| format!("Content-Type: {value}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}{content_type}\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("send the request");
    stream.write_all(body).expect("send the body");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");

    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn call(fake: &FakeGitHub, method: &str, path: &str, token: &str) -> Reply {
    request(fake, method, path, Some(&format!("Bearer {token}")))
}

fn get(fake: &FakeGitHub, path: &str, token: &str) -> Reply {
    call(fake, "GET", path, token)
}

/// Asserts a GitHub error answer: status, exact message and the body's `status` string.
#[track_caller]
fn assert_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.message(), message);
    assert_eq!(reply.json()["status"], status.to_string());
}
