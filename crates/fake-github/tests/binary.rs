//! The `fake-github` binary: serves a JSON seed, announces its URL, stops on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

const SEED: &str = r#"{
  "tokens": [{"token": "ghp_demo", "login": "alice", "kind": {"pat": {"scopes": ["read:packages"]}}}],
  "owners": [{"login": "acme", "kind": "Organization", "members": ["alice"]}],
  "packages": [{"owner": "acme", "package_type": "container", "name": "app",
                "versions": [{"id": 7, "tags": ["v1"], "age": "3d"}]}]
}"#;

fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect to the fake");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: token ghp_demo\r\n\
         Connection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    answer
}

#[cfg(unix)]
#[test]
fn the_binary_serves_a_seed_file_until_sigterm() {
    let seed = std::env::temp_dir().join(format!("fake-github-seed-{}.json", std::process::id()));
    std::fs::write(&seed, SEED).expect("write the seed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .arg("--seed")
        .arg(&seed)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the binary");

    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the announcement");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the announcement")
        .to_owned();
    let answer = get(
        url.trim_start_matches("http://"),
        "/orgs/acme/packages/container/app/versions",
    );

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    let status = child.wait().expect("the binary exits");
    std::fs::remove_file(&seed).expect("remove the seed");

    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""id":7"#), "{answer}");
    assert!(terminated.success());
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_binary_rejects_a_missing_seed_argument() {
    let output = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .output()
        .expect("run the binary");

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: fake-github --seed FILE"));
}

#[cfg(unix)]
#[test]
fn the_url_file_appears_whole_once_the_fake_accepts_connections() {
    let dir = std::env::temp_dir().join(format!("fake-github-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let seed = dir.join("seed.json");
    let url_file = dir.join("url");
    std::fs::write(&seed, SEED).expect("write the seed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .arg("--seed")
        .arg(&seed)
        .arg("--url-file")
        .arg(&url_file)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the binary");
    let mut url = String::new();
    for _ in 0..600 {
        if let Ok(text) = std::fs::read_to_string(&url_file) {
            url = text;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        url.ends_with('\n'),
        "the file holds one whole line: {url:?}"
    );
    let answer = get(
        url.trim().trim_start_matches("http://"),
        "/orgs/acme/packages/container/app/versions",
    );
    child.kill().expect("stop the binary");
    child.wait().expect("the binary exits");
    std::fs::remove_dir_all(&dir).expect("remove the temp dir");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
