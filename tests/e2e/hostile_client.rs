//! The GitHub client against a hostile API: pagination loops, absurd page counts, waits
//! too long to sleep, bodies that drip or never end, dates and metadata GitHub never sends,
//! and lists that ignore `state`. Each run must end (within a generous hang guard), send
//! no mutation it should not, print no line that server data starts, never print the
//! token, and still write its outputs and summary.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::harness::{Finished, janitor_without_api};
use crate::hostile_server::{Body, Hostile, Reply, Request};

const TOKEN: &str = "ghp_hostile_client_secret";
/// Every message the server writes starts with this, so a log line starting with it is a
/// line that server data began.
const MARK: &str = "HOSTILE";
/// No run may take longer than this: a hang guard, not a speed check.
const HANG_GUARD: Duration = Duration::from_secs(120);

const VERSIONS: &str = "/orgs/acme/packages/npm/app/versions";

/// A version object as GitHub lists it, with `extra` fields appended.
fn version(id: u64, name: &str, extra: &str) -> String {
    format!(
        r#"{{"id":{id},"name":"{name}","url":"https://x/{id}","package_html_url":"https://x","created_at":"2020-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z"{extra}}}"#
    )
}

fn page(versions: &[String]) -> String {
    format!("[{}]", versions.join(","))
}

/// The owner lookup every run starts with; `None` for any other route.
fn owner(request: &Request) -> Option<Reply> {
    (request.path() == "/users/acme")
        .then(|| Reply::json(200, r#"{"login":"acme","type":"Organization"}"#))
}

fn not_found() -> Reply {
    Reply::json(404, &format!(r#"{{"message":"{MARK} not found"}}"#))
}

/// Run the binary against `server` for package `app` of `package_type` with `inputs`.
fn run(server: &Hostile, package_type: &str, inputs: &[(&str, &str)]) -> Finished {
    let mut janitor = janitor_without_api()
        .env("GITHUB_API_URL", &server.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .env("PACKAGE_JANITOR_RETRY_BASE", "10ms")
        .env("PACKAGE_JANITOR_REQUEST_DEADLINE", "1s")
        .input("token", TOKEN)
        .input("registry-url", &server.url())
        .input("package-type", package_type)
        .input("packages", "app")
        .input("points-per-minute", "1000000")
        .input("mutation-interval", "0s");
    for (name, value) in inputs {
        janitor = janitor.input(name, value);
    }
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(janitor.run()));
    finished
        .recv_timeout(HANG_GUARD)
        .expect("the run ended within the hang guard")
}

/// What every run must hold to, whatever the server did: the exit code, no line begun by
/// server data, no token anywhere, and the outputs and summary written.
#[track_caller]
fn assert_held(finished: &Finished, code: i32) {
    assert_eq!(finished.code, Some(code), "{}", finished.log);
    for line in finished.log.lines() {
        assert!(
            !line.starts_with(MARK),
            "a line begun by server data: {line}"
        );
    }
    for text in [&finished.log, &finished.summary] {
        assert!(!text.contains(TOKEN), "the token was printed");
    }
    assert!(!finished.outputs.values().any(|value| value.contains(TOKEN)));
    for output in [
        "ids",
        "count",
        "failed-ids",
        "left-count",
        "bytes-freed",
        "bytes-kept",
        "json",
    ] {
        assert!(
            finished.outputs.contains_key(output),
            "output {output}: {:?}",
            finished.outputs
        );
    }
    assert!(!finished.summary.is_empty(), "no summary");
}

/// The token went to this server as GitHub's API token, and nowhere else was asked.
#[track_caller]
fn assert_token_only_as_api_auth(server: &Hostile) {
    for request in server.requests() {
        for (name, value) in &request.headers {
            if value.contains(TOKEN) {
                assert_eq!(name, "authorization", "{request:?}");
            }
        }
    }
}

#[test]
fn a_next_link_back_to_a_page_already_listed_ends_the_listing_with_an_error() {
    let server = Hostile::start(|request| {
        owner(request).unwrap_or_else(|| match request.path() {
            VERSIONS => {
                let itself = format!("http://{}{}", host(request), request.target);
                Reply::json(200, &page(&[version(1, "1.0.0", "")]))
                    .header("link", &format!("<{itself}>; rel=\"next\""))
            }
            _ => not_found(),
        })
    });
    let finished = run(&server, "npm", &[]);
    assert_held(&finished, 1);
    assert!(
        finished.log.contains("::error::") && finished.log.contains("already listed"),
        "{}",
        finished.log
    );
    let listings = server
        .sent("GET")
        .into_iter()
        .filter(|request| request.path() == VERSIONS)
        .count();
    assert_eq!(listings, 1, "the page is not asked for again");
    assert!(server.sent("DELETE").is_empty());
    assert_token_only_as_api_auth(&server);
}

#[test]
fn a_last_page_beyond_any_plausible_package_is_refused_before_listing_more() {
    for last in ["10001", "4294967295"] {
        let server = Hostile::start(move |request| {
            owner(request).unwrap_or_else(|| match request.path() {
                VERSIONS => {
                    let base = format!("http://{}{VERSIONS}", host(request));
                    Reply::json(200, &page(&[version(1, "1.0.0", "")])).header(
                        "link",
                        &format!(
                            "<{base}?per_page=100&page=2>; rel=\"next\", <{base}?per_page=100&page={last}>; rel=\"last\""
                        ),
                    )
                }
                _ => not_found(),
            })
        });
        let finished = run(&server, "npm", &[]);
        assert_held(&finished, 1);
        assert!(
            finished.log.contains("::error::") && finished.log.contains("pages of versions"),
            "{last}: {}",
            finished.log
        );
        assert_eq!(
            server.sent("GET").len(),
            2,
            "{last}: owner and the first page only"
        );
        assert!(server.sent("DELETE").is_empty());
    }
}

#[test]
fn a_retry_after_longer_than_rate_limit_wait_leaves_the_rest_for_the_next_run() {
    for retry_after in ["86400", "18446744073709551615"] {
        let server = Hostile::start(move |request| {
            owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
                ("GET", VERSIONS) => Reply::json(
                    200,
                    &page(&[version(1, "1.0.0", ""), version(2, "2.0.0", "")]),
                ),
                ("DELETE", _) => Reply::json(
                    429,
                    &format!(r#"{{"message":"{MARK} You have exceeded a secondary rate limit"}}"#),
                )
                .header("retry-after", retry_after),
                _ => not_found(),
            })
        });
        let finished = run(&server, "npm", &[]);
        assert_held(&finished, 0);
        assert_eq!(
            server.sent("DELETE").len(),
            1,
            "{retry_after}: no more mutations"
        );
        assert_eq!(finished.outputs["left-count"], "2", "{}", finished.log);
        assert_eq!(finished.outputs["failed-ids"], "");
        assert_eq!(finished.outputs["ids"], "");
        assert!(
            finished.log.contains("::warning::") && finished.log.contains("rate-limit-wait"),
            "{retry_after}: {}",
            finished.log
        );
    }
}

#[test]
fn a_secondary_limit_without_retry_after_is_not_waited_past_rate_limit_wait() {
    let server = Hostile::start(|request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", VERSIONS) => Reply::json(
                200,
                &page(&[version(1, "1.0.0", ""), version(2, "2.0.0", "")]),
            ),
            ("DELETE", _) => Reply::json(
                403,
                &format!(r#"{{"message":"{MARK} You have exceeded a secondary rate limit"}}"#),
            ),
            _ => not_found(),
        })
    });
    // Without a test's shortened backoff, the first pause without retry-after is a
    // minute: past a 30 s rate-limit-wait.
    let finished = janitor_without_api()
        .env("GITHUB_API_URL", &server.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .input("token", TOKEN)
        .input("package-type", "npm")
        .input("packages", "app")
        .input("mutation-interval", "0s")
        .input("rate-limit-wait", "30s")
        .run();
    assert_held(&finished, 0);
    assert_eq!(
        server.sent("DELETE").len(),
        1,
        "no retry, no more mutations"
    );
    assert_eq!(finished.outputs["left-count"], "2", "{}", finished.log);
    assert_eq!(finished.outputs["failed-ids"], "");
    assert!(
        finished
            .outcome_of(1)
            .contains("would be 60s, longer than rate-limit-wait"),
        "{}",
        finished.log
    );
    assert!(finished.log.contains("::warning::"), "{}", finished.log);
}

#[test]
fn a_spent_budget_that_resets_past_year_9999_stops_cleanly() {
    for reset in ["253402300800", "18446744073709551615"] {
        let server = Hostile::start(move |request| {
            owner(request).unwrap_or_else(|| match request.path() {
                VERSIONS => Reply::json(200, &page(&[version(1, "1.0.0", "")]))
                    .header("x-ratelimit-limit", "18446744073709551615")
                    .header("x-ratelimit-remaining", "0")
                    .header("x-ratelimit-used", "18446744073709551615")
                    .header("x-ratelimit-reset", reset),
                _ => not_found(),
            })
        });
        let finished = run(&server, "npm", &[]);
        assert_held(&finished, 0);
        assert!(server.sent("DELETE").is_empty(), "{reset}");
        assert_eq!(finished.outputs["left-count"], "1", "{}", finished.log);
        assert!(finished.log.contains("::warning::"), "{}", finished.log);
    }
}

#[test]
fn a_body_that_drips_hits_the_request_deadline_and_one_that_never_ends_hits_the_cap() {
    let cases = [
        (
            Body::Drip {
                every: Duration::from_millis(300),
            },
            "request deadline",
        ),
        (Body::Endless, "cap"),
    ];
    for (body, named) in cases {
        let server = Hostile::start(move |request| {
            owner(request).unwrap_or_else(|| match request.path() {
                VERSIONS => Reply::json(200, "").body(body.clone()),
                _ => not_found(),
            })
        });
        let finished = run(&server, "npm", &[]);
        assert_held(&finished, 1);
        assert!(
            finished.log.contains("::error::") && finished.log.contains(named),
            "{named}: {}",
            finished.log
        );
        assert!(server.sent("DELETE").is_empty());
    }
}

#[test]
fn dates_before_1970_or_after_9999_are_an_error_not_a_crash() {
    for date in [
        "1969-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
    ] {
        let server = Hostile::start(move |request| {
            owner(request).unwrap_or_else(|| match request.path() {
                VERSIONS => Reply::json(
                    200,
                    &format!(
                        r#"[{{"id":1,"name":"1.0.0","created_at":"{date}","updated_at":"{date}"}}]"#
                    ),
                ),
                _ => not_found(),
            })
        });
        let finished = run(&server, "npm", &[]);
        assert_held(&finished, 1);
        assert!(
            finished.log.contains("::error::") && finished.log.contains("created_at"),
            "{date}: {}",
            finished.log
        );
        assert!(server.sent("DELETE").is_empty());
    }
}

#[test]
fn docker_tags_are_read_from_tag_or_tags_and_a_version_without_metadata_goes_only_by_id() {
    const DOCKER: &str = "/orgs/acme/packages/docker/app/versions";
    let server = Hostile::start(|request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", DOCKER) => Reply::json(
                200,
                &page(&[
                    version(
                        1,
                        "sha256:1",
                        r#","metadata":{"package_type":"docker","docker":{"tags":["v1"]}}"#,
                    ),
                    version(
                        2,
                        "sha256:2",
                        r#","metadata":{"package_type":"docker","docker":{"tag":["v2"]}}"#,
                    ),
                    version(3, "sha256:3", ""),
                    version(
                        4,
                        "sha256:4",
                        r#","metadata":{"package_type":"docker","docker":{"tag":[]}}"#,
                    ),
                ]),
            ),
            ("DELETE", path) if path.starts_with(DOCKER) => Reply::json(204, ""),
            _ => not_found(),
        })
    });
    let finished = run(&server, "docker", &[("tag-state", "untagged")]);
    assert_held(&finished, 0);
    let deleted: Vec<String> = server
        .sent("DELETE")
        .iter()
        .map(|request| request.path().to_string())
        .collect();
    assert_eq!(deleted, [format!("{DOCKER}/4")], "{}", finished.log);
    assert_eq!(finished.outputs["ids"], "4");
    assert!(
        finished
            .log
            .lines()
            .any(|line| line.starts_with("::warning::") && line.contains("version 3")),
        "{}",
        finished.log
    );
    let by_id = run(&server, "docker", &[("version-ids", "3")]);
    assert_held(&by_id, 0);
    assert_eq!(
        by_id.outputs["ids"], "3",
        "version-ids still selects it by id"
    );
}

#[test]
fn a_container_version_without_metadata_is_kept_and_named_in_a_warning() {
    const CONTAINER: &str = "/orgs/acme/packages/container/app/versions";
    let digest = format!("sha256:{}", "a".repeat(64));
    let server = Hostile::start(move |request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", CONTAINER) => Reply::json(200, &page(&[version(5, &digest, "")])),
            ("DELETE", path) if path.starts_with(CONTAINER) => Reply::json(204, ""),
            _ => not_found(),
        })
    });
    let finished = run(&server, "container", &[("tag-state", "untagged")]);
    assert_held(&finished, 0);
    assert!(server.sent("DELETE").is_empty(), "{}", finished.log);
    assert_eq!(finished.outputs["ids"], "");
    assert!(
        finished
            .log
            .lines()
            .any(|line| line.starts_with("::warning::") && line.contains("version 5")),
        "{}",
        finished.log
    );
}

#[test]
fn a_list_that_ignores_state_never_gets_a_version_deleted_twice_or_restored_unasked() {
    let cases = [("delete", "1"), ("restore", "2")];
    for (mode, done) in cases {
        let server = Hostile::start(|request| {
            owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
                ("GET", VERSIONS) => Reply::json(
                    200,
                    &page(&[
                        version(1, "1.0.0", ""),
                        version(2, "2.0.0", r#","deleted_at":"2020-02-01T00:00:00Z""#),
                    ]),
                ),
                ("DELETE" | "POST", _) => Reply::json(204, ""),
                _ => not_found(),
            })
        });
        let finished = run(&server, "npm", &[("mode", mode)]);
        assert_held(&finished, 0);
        let mutations: Vec<String> = server
            .requests()
            .into_iter()
            .filter(|request| request.method != "GET")
            .map(|request| request.path().to_string())
            .collect();
        let expected_path = match mode {
            "delete" => format!("{VERSIONS}/{done}"),
            _ => format!("{VERSIONS}/{done}/restore"),
        };
        assert_eq!(mutations, [expected_path], "{mode}");
        assert_eq!(finished.outputs["ids"], done, "{mode}");
        // The version in the other state is left out of the listing, so it is neither acted
        // on nor counted (it would otherwise take a keep-latest place).
        let other = if done == "1" { 2 } else { 1 };
        let json = finished.json();
        assert!(
            json.iter().all(|entry| entry["id"] != other),
            "{mode}: {json:?}"
        );
        assert_eq!(json.len(), 1, "{mode}: {json:?}");
    }
}

/// The host:port the request was sent to, for links back to the same server.
fn host(request: &Request) -> String {
    request
        .headers
        .iter()
        .find(|(name, _)| name == "host")
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

#[test]
fn a_wait_over_ten_seconds_is_logged_with_its_reason_and_end_time() {
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = Hostile::start(move |request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", VERSIONS) => Reply::json(200, &page(&[version(1, "1.0.0", "")])),
            ("DELETE", _) if !answered.swap(true, std::sync::atomic::Ordering::SeqCst) => {
                Reply::json(
                    403,
                    &format!(r#"{{"message":"{MARK} You have exceeded a secondary rate limit"}}"#),
                )
                .header("retry-after", "11")
            }
            ("DELETE", _) => Reply::json(204, ""),
            _ => not_found(),
        })
    });
    let finished = run(&server, "npm", &[("rate-limit-wait", "1m")]);
    assert_held(&finished, 0);
    assert_eq!(
        server.sent("DELETE").len(),
        2,
        "retried once after the wait"
    );
    assert_eq!(finished.outputs["ids"], "1");
    let noted = finished
        .log
        .lines()
        .find(|line| line.contains("waiting 11s for GitHub's secondary rate limit, until "));
    assert!(noted.is_some(), "{}", finished.log);
}

#[test]
fn a_long_wait_is_logged_as_it_starts_so_a_job_cancelled_during_it_shows_why() {
    let server = Hostile::start(|request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", VERSIONS) => Reply::json(200, &page(&[version(1, "1.0.0", "")])),
            ("DELETE", _) => Reply::json(
                403,
                &format!(r#"{{"message":"{MARK} You have exceeded a secondary rate limit"}}"#),
            )
            .header("retry-after", "50"),
            _ => not_found(),
        })
    });
    let running = janitor_without_api()
        .env("GITHUB_API_URL", &server.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .input("token", TOKEN)
        .input("package-type", "npm")
        .input("packages", "app")
        .input("rate-limit-wait", "5m")
        .input("mutation-interval", "0s")
        .spawn();
    let started = std::time::Instant::now();
    while server.sent("DELETE").is_empty() && started.elapsed() < HANG_GUARD {
        thread::sleep(Duration::from_millis(20));
    }
    // The answer is read and the wait begins just after the request arrives.
    thread::sleep(Duration::from_millis(500));
    running.terminate();
    let finished = running.wait();
    assert_held(&finished, 1);
    assert_eq!(server.sent("DELETE").len(), 1, "no retry after the cancel");
    let noted = finished
        .log
        .lines()
        .find(|line| line.contains("waiting 50s for GitHub's secondary rate limit, until "));
    assert!(noted.is_some(), "{}", finished.log);
}

#[test]
fn a_listing_told_to_wait_a_day_leaves_the_package_for_the_next_run() {
    let server = Hostile::start(|request| {
        owner(request).unwrap_or_else(|| match request.path() {
            VERSIONS => Reply::json(
                403,
                &format!(r#"{{"message":"{MARK} You have exceeded a secondary rate limit"}}"#),
            )
            .header("retry-after", "86400"),
            _ => not_found(),
        })
    });
    let finished = run(&server, "npm", &[]);
    assert_held(&finished, 0);
    assert_eq!(server.sent("GET").len(), 2, "the listing is asked for once");
    assert!(server.sent("DELETE").is_empty());
    assert!(
        finished
            .log
            .lines()
            .any(|line| line.starts_with("::warning::") && line.contains("rate-limit-wait")),
        "{}",
        finished.log
    );
}

const PACKAGE_RESTORE: &str = "/orgs/acme/packages/npm/app/restore";

/// A server where package `app` looks deleted: its versions answer 404 `Package not
/// found.` (after `listing_delay`), and its restore answers 204 after `restore_delay`.
fn deleted_package(listing_delay: Duration, restore_delay: Duration) -> Hostile {
    Hostile::start(move |request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", VERSIONS) => {
                thread::sleep(listing_delay);
                Reply::json(404, r#"{"message":"Package not found."}"#)
            }
            ("POST", PACKAGE_RESTORE) => {
                thread::sleep(restore_delay);
                Reply::json(204, "")
            }
            _ => not_found(),
        })
    })
}

/// A restore run of `app`, signalled with SIGTERM as soon as `method path` arrives.
fn cancelled_restore(server: &Hostile, method: &str, path: &str) -> Finished {
    let running = janitor_without_api()
        .env("GITHUB_API_URL", &server.url())
        .env("GITHUB_REPOSITORY_OWNER", "acme")
        .input("token", TOKEN)
        .input("package-type", "npm")
        .input("packages", "app")
        .input("mode", "restore")
        .spawn();
    let started = std::time::Instant::now();
    let arrived = || {
        server
            .sent(method)
            .iter()
            .any(|request| request.path() == path)
    };
    while !arrived() && started.elapsed() < HANG_GUARD {
        thread::sleep(Duration::from_millis(20));
    }
    running.terminate();
    running.wait()
}

#[test]
fn a_cancel_while_a_deleted_package_is_listed_sends_no_package_restore() {
    let server = deleted_package(Duration::from_secs(3), Duration::ZERO);
    let finished = cancelled_restore(&server, "GET", VERSIONS);
    assert_eq!(finished.code, Some(1), "{}", finished.log);
    assert!(server.sent("POST").is_empty(), "{:?}", server.sent("POST"));
    assert!(
        finished.log.contains("before anything was changed"),
        "{}",
        finished.log
    );
}

#[test]
fn a_cancel_during_a_package_restore_lets_it_finish_and_writes_the_record() {
    let server = deleted_package(Duration::ZERO, Duration::from_secs(2));
    let finished = cancelled_restore(&server, "POST", PACKAGE_RESTORE);
    assert_held(&finished, 1);
    assert_eq!(server.sent("POST").len(), 1);
    let deleted_listings = server
        .sent("GET")
        .iter()
        .filter(|request| request.path() == VERSIONS && request.target.contains("state=deleted"))
        .count();
    assert_eq!(deleted_listings, 1, "not listed again after the cancel");
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&finished.outputs["json"]).expect("json output");
    assert!(
        json.iter()
            .any(|entry| entry["scope"] == "package" && entry["outcome"] == "restored"),
        "{json:?}"
    );
    assert!(finished.log.contains("cancelled"), "{}", finished.log);
}

#[test]
fn a_version_name_that_would_bend_the_registry_url_is_never_sent_and_the_version_is_kept() {
    const CONTAINER: &str = "/orgs/acme/packages/container/app/versions";
    let untagged = r#","metadata":{"package_type":"container","container":{"tags":[]}}"#;
    let server = Hostile::start(move |request| {
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", CONTAINER) => Reply::json(
                200,
                &page(&[version(5, "../../../../token?scope=x#", untagged)]),
            ),
            ("DELETE", path) if path.starts_with(CONTAINER) => Reply::json(204, ""),
            _ => not_found(),
        })
    });
    let finished = run(&server, "container", &[("tag-state", "untagged")]);
    assert_held(&finished, 0);
    assert!(server.sent("DELETE").is_empty(), "{}", finished.log);
    let registry_reads: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|request| {
            !["/orgs/", "/users/"]
                .iter()
                .any(|api| request.path().starts_with(api))
        })
        .map(|request| request.target)
        .collect();
    assert_eq!(registry_reads, Vec::<String>::new());
    assert!(
        finished
            .log
            .lines()
            .any(|line| line.starts_with("::warning::")
                && line.contains("version 5")
                && line.contains("neither a sha256 digest nor a tag")),
        "{}",
        finished.log
    );
}

#[test]
fn a_server_echoing_the_package_restore_token_later_never_gets_it_printed() {
    const RESTORE_TOKEN: &str = "pkg-restore-secret-value";
    let heard = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let server = Hostile::start(move |request| {
        let mut heard = heard.lock().expect("heard");
        owner(request).unwrap_or_else(|| match (request.method.as_str(), request.path()) {
            ("GET", VERSIONS) if heard.is_empty() => {
                Reply::json(404, r#"{"message":"Package not found."}"#)
            }
            // Every answer after the restore echoes the URL it was given.
            ("GET", VERSIONS) => Reply::json(
                500,
                &format!(r#"{{"message":"{MARK} after {}: boom"}}"#, heard),
            ),
            ("POST", PACKAGE_RESTORE) => {
                heard.clone_from(&request.target);
                Reply::json(204, "")
            }
            _ => not_found(),
        })
    });
    let finished = run(
        &server,
        "npm",
        &[
            ("mode", "restore"),
            ("package-restore-token", RESTORE_TOKEN),
        ],
    );
    assert_held(&finished, 1);
    assert_eq!(server.sent("POST").len(), 1);
    let told = format!("{}{}{:?}", finished.log, finished.summary, finished.outputs);
    assert!(
        !told.contains(RESTORE_TOKEN),
        "the restore token leaked: {told}"
    );
    assert!(told.contains("restore?token=***"), "{told}");
}
