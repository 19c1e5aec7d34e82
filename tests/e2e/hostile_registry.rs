//! A hostile or faulty registry: tags that claim to be signatures, token realms elsewhere,
//! outages, unreadable indexes and bytes that do not match their digest. Every test asserts
//! what was sent (hosts, headers), what was printed (warnings, no token), what is left in
//! the fake, and that the outputs and summary were written.

use fake_github::{FakeGitHub, Heard, Scripted, ScriptedServer, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

fn start(versions: Vec<VersionSeed>) -> FakeGitHub {
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

fn active(fake: &FakeGitHub) -> Vec<u64> {
    fake.active_ids("acme", "container", "app")
}

fn deletes(fake: &FakeGitHub) -> usize {
    fake.requests()
        .iter()
        .filter(|request| request.method == "DELETE")
        .count()
}

/// The record exists and the token is in none of it.
#[track_caller]
fn assert_recorded_without_token(run: &Finished) {
    assert!(
        run.outputs.contains_key("ids"),
        "outputs: {:?}",
        run.outputs
    );
    assert!(
        run.outputs.contains_key("json"),
        "outputs: {:?}",
        run.outputs
    );
    assert!(!run.summary.is_empty(), "no summary:\n{}", run.log);
    for (what, text) in [
        ("log", run.log.clone()),
        ("summary", run.summary.clone()),
        ("outputs", format!("{:?}", run.outputs)),
    ] {
        assert!(!text.contains(ALICE), "the token is in the {what}:\n{text}");
    }
}

#[track_caller]
fn assert_whole(fake: &FakeGitHub) {
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
}

/// A log line (annotation or plain) with every one of `parts`.
fn logged(run: &Finished, parts: &[&str]) -> bool {
    run.log
        .lines()
        .any(|line| parts.iter().all(|part| line.contains(part)))
}

/// `sha256-<hex of version 1's digest>.sig`: manifests are deterministic, so a first fake
/// tells what the digest of version 1 will be.
fn signature_tag_of_version_1() -> String {
    let probe = start(vec![v(1, 30)]);
    let digest = probe.version_name("acme", "container", "app", 1);
    format!("sha256-{}.sig", digest.trim_start_matches("sha256:"))
}

#[test]
fn a_release_tagged_after_an_untagged_images_signature_survives_that_images_cleanup() {
    let claim = signature_tag_of_version_1();
    let fake = start(vec![
        v(1, 30),
        v(2, 20).tags(&["v1.0.0", "latest", &claim]),
        v(3, 30).cosign_signature_of(1),
        // Another tagged version, so that GitHub's "last tagged version" refusal cannot
        // be what saves the release.
        v(4, 10).tags(&["v0.9.0"]),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 3], "{}", run.log);
    assert_eq!(active(&fake), vec![2, 4]);
    assert!(!run.log.contains(": skipped"), "{}", run.log);
    assert_recorded_without_token(&run);
    assert_whole(&fake);
}

#[test]
fn a_bogus_signature_tag_does_not_make_a_release_an_orphan() {
    let zeros = format!("sha256-{}.sig", "0".repeat(64));
    let ones = format!("sha256-{}.sig", "1".repeat(64));
    let fake = start(vec![
        v(1, 30).tags(&["v1.0.0", &zeros]),
        v(2, 30).tags(&[&ones]),
        v(3, 30).tags(&["v2.0.0"]),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^nothing$")
        .input("delete-orphans", "true")
        .run();
    run.assert_success();
    assert_eq!(
        run.ids(),
        vec![2],
        "only the real orphan signature:\n{}",
        run.log
    );
    assert_eq!(active(&fake), vec![1, 3]);
    assert_recorded_without_token(&run);
    assert_whole(&fake);
}

#[test]
fn no_credentials_go_to_a_token_realm_on_another_host() {
    for (ip, host) in [("127.0.0.2", "127.0.0.2"), ("127.0.0.1", "localhost")] {
        let fake = start(vec![v(1, 30), v(2, 30).tags(&["v1"])]);
        let realm = ScriptedServer::start(ip, |_, _| Scripted::new(200).body(r#"{"token":"t"}"#))
            .expect("realm starts");
        let port = realm
            .url()
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let challenge = format!(
            "Bearer realm=\"http://{host}:{port}/token\",service=\"r\",scope=\"repository:acme/app:pull\""
        );
        let registry = ScriptedServer::start("127.0.0.1", move |_, _| {
            Scripted::new(401).header("www-authenticate", &challenge)
        })
        .expect("registry starts");
        let run = janitor(&fake, ALICE)
            .input("registry-url", &registry.url())
            .input("packages", "app")
            .input("tag-state", "untagged")
            .run();
        run.assert_failure();
        assert!(
            logged(&run, &["::error::", "acme/app", host, "token was not sent"]),
            "{}",
            run.log
        );
        assert_eq!(
            realm.heard(),
            Vec::<Heard>::new(),
            "the realm on {host} heard nothing"
        );
        let heard = registry.heard();
        assert!(!heard.is_empty());
        assert!(
            heard.iter().all(|h| h.header("authorization").is_none()),
            "{heard:?}"
        );
        assert_eq!(active(&fake), vec![1, 2]);
        assert_eq!(deletes(&fake), 0);
        assert!(
            run.summary.contains(&format!("asks for tokens at {host}")),
            "{}",
            run.summary
        );
        assert_recorded_without_token(&run);
    }
}

#[test]
fn a_503_on_a_kept_images_subject_linked_attestation_keeps_the_attestation() {
    let seed = |attestation: VersionSeed| vec![v(1, 30).tags(&["v1"]), attestation, v(3, 30)];
    let fake = start(seed(v(2, 30).github_attestation_of(1).unavailable()));
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new(), "{}", run.log);
    assert_eq!(active(&fake), vec![1, 2, 3]);
    assert!(
        logged(
            &run,
            &["::warning::", "version 2", "503", "kept in this run"]
        ),
        "{}",
        run.log
    );
    assert!(
        logged(&run, &["fail closed", "kept version 2"]),
        "{}",
        run.log
    );
    let tries = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v2/") && r.status == 503)
        .count();
    assert!(tries > 1, "a 503 is retried");
    assert_recorded_without_token(&run);

    let once = start(seed(v(2, 30).github_attestation_of(1).unavailable_once()));
    let run = janitor(&once, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(
        run.ids(),
        vec![3],
        "a retry reads the attestation:\n{}",
        run.log
    );
    assert_eq!(active(&once), vec![1, 2]);
    assert!(!run.log.contains("could not be read"), "{}", run.log);
    assert_recorded_without_token(&run);
}

#[test]
fn an_unreadable_selected_index_and_its_children_are_not_deleted() {
    let fake = start(vec![
        v(1, 30).platform("linux/amd64"),
        v(2, 30).index(&[1]).tags(&["old"]).unavailable(),
        v(3, 30).tags(&["new"]),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^old$")
        .input("delete-orphans", "true")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new(), "{}", run.log);
    assert_eq!(active(&fake), vec![1, 2, 3]);
    assert!(
        logged(
            &run,
            &[
                "::warning::",
                "version 2",
                "(old)",
                "503 UNAVAILABLE",
                "kept in this run"
            ]
        ),
        "{}",
        run.log
    );
    assert!(
        run.summary.contains("manifest unreadable"),
        "{}",
        run.summary
    );
    assert_eq!(deletes(&fake), 0);
    assert_recorded_without_token(&run);
    assert_whole(&fake);
}

#[test]
fn when_no_manifest_can_be_read_the_run_says_so_and_deletes_nothing() {
    let fake = start(vec![
        v(1, 30).unavailable(),
        v(2, 30).tags(&["old"]).unavailable(),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "any")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new(), "{}", run.log);
    assert_eq!(active(&fake), vec![1, 2]);
    assert!(
        logged(
            &run,
            &[
                "::warning::",
                "no manifest could be read from http://",
                "(2 manifests tried; the first: ",
                "Check input `registry-url`",
            ]
        ),
        "{}",
        run.log
    );
    assert_eq!(
        run.log.matches("could be read").count() + run.log.matches("could not be read").count(),
        1,
        "said once, not once per manifest:\n{}",
        run.log
    );
    assert!(!run.log.contains("manifests read from"), "{}", run.log);
    assert_eq!(
        run.summary
            .matches("no manifest could be read from http://")
            .count(),
        1,
        "the summary says it once, above the tables:\n{}",
        run.summary
    );
    assert_recorded_without_token(&run);
}

#[test]
fn an_index_served_with_bytes_that_miss_its_digest_is_unreadable_and_fails_closed() {
    let fake = start(vec![
        v(1, 30).platform("linux/amd64"),
        v(2, 30).platform("linux/arm64"),
        v(3, 30).index(&[1, 2]).tags(&["v1"]).wrong_digest_body(&[]),
        v(4, 30),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new(), "{}", run.log);
    assert_eq!(active(&fake), vec![1, 2, 3, 4]);
    assert!(
        logged(
            &run,
            &[
                "::warning::",
                "version 3",
                "digest mismatch",
                "kept in this run"
            ]
        ),
        "{}",
        run.log
    );
    assert!(
        logged(&run, &["fail closed", "kept version 3"]),
        "{}",
        run.log
    );
    assert_recorded_without_token(&run);
    assert_whole(&fake);
}

#[test]
fn only_version_ids_lets_a_version_with_an_unreadable_manifest_go() {
    let fake = start(vec![
        v(1, 30).tags(&["old"]).unavailable(),
        v(2, 30).tags(&["older"]).unavailable(),
        v(3, 10).tags(&["new"]),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("version-ids", "1")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1], "{}", run.log);
    assert_eq!(active(&fake), vec![2, 3]);
    assert!(
        logged(
            &run,
            &[
                "::warning::",
                "version 1",
                "deleted only because version-ids names it"
            ]
        ),
        "{}",
        run.log
    );
    assert!(
        logged(&run, &["::warning::", "version 2", "kept in this run"]),
        "{}",
        run.log
    );
    // The summary lists both, with what became of each.
    let row = |id: u64, tag: &str, fate: &str| {
        run.summary.lines().any(|line| {
            line.starts_with(&format!("| {id} | {tag} | "))
                && line.contains("503")
                && line.ends_with(&format!("| {fate} |"))
        })
    };
    assert!(row(1, "old", "deleted"), "{}", run.summary);
    assert!(row(2, "older", "kept"), "{}", run.summary);
    assert!(
        run.summary.contains("**2 manifests could not be read.**"),
        "{}",
        run.summary
    );
    assert_recorded_without_token(&run);
    assert_whole(&fake);
}

/// Two deleted images and a live one, for restore runs against a hostile registry.
fn start_deleted() -> FakeGitHub {
    start(vec![
        v(1, 30).tags(&["v1"]).deleted(days(2)),
        v(2, 20).tags(&["v2"]).deleted(days(2)),
        v(3, 10).tags(&["v3"]),
    ])
}

fn restores(fake: &FakeGitHub) -> usize {
    fake.requests()
        .iter()
        .filter(|request| request.method == "POST")
        .count()
}

/// `Bearer realm=…` on `host` (of another server), for a `www-authenticate` header.
fn challenge_at(host: &str) -> String {
    format!("Bearer realm=\"http://{host}/token\",service=\"r\",scope=\"repository:acme/app:pull\"")
}

#[test]
fn a_restore_fails_closed_before_restoring_anything_when_the_realm_is_elsewhere() {
    let fake = start_deleted();
    let realm = ScriptedServer::start("127.0.0.2", |_, _| {
        Scripted::new(200).body(r#"{"token":"t"}"#)
    })
    .expect("realm starts");
    let elsewhere = challenge_at(realm.url().trim_start_matches("http://"));
    let registry = ScriptedServer::start("127.0.0.1", move |_, _| {
        Scripted::new(401).header("www-authenticate", &elsewhere)
    })
    .expect("registry starts");
    let run = janitor(&fake, ALICE)
        .input("registry-url", &registry.url())
        .input("packages", "app")
        .input("mode", "restore")
        .run();
    run.assert_failure();
    assert!(
        logged(
            &run,
            &["::error::", "acme/app", "127.0.0.2", "token was not sent"]
        ),
        "{}",
        run.log
    );
    assert_eq!(
        realm.heard(),
        Vec::<Heard>::new(),
        "the realm heard nothing"
    );
    assert_eq!(restores(&fake), 0, "nothing restored");
    assert_eq!(active(&fake), vec![3]);
    assert_recorded_without_token(&run);
}

#[test]
fn a_restore_stops_and_fails_when_the_realm_moves_elsewhere_mid_run() {
    let fake = start_deleted();
    let realm = ScriptedServer::start("127.0.0.2", |_, _| {
        Scripted::new(200).body(r#"{"token":"t"}"#)
    })
    .expect("realm starts");
    let elsewhere = challenge_at(realm.url().trim_start_matches("http://"));
    let bearer_reads = std::sync::atomic::AtomicUsize::new(0);
    let registry = ScriptedServer::start("127.0.0.1", move |_, heard| {
        let host = heard.header("host").unwrap_or_default().to_string();
        if heard.path.starts_with("/token") {
            return Scripted::new(200).body(r#"{"token":"registry-token"}"#);
        }
        let first_with_bearer = heard.header("authorization").is_some()
            && bearer_reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        match (heard.header("authorization"), first_with_bearer) {
            (None, _) => Scripted::new(401).header("www-authenticate", &challenge_at(&host)),
            (Some(_), true) => Scripted::new(404)
                .body(r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"gone"}]}"#),
            (Some(_), false) => Scripted::new(401).header("www-authenticate", &elsewhere),
        }
    })
    .expect("registry starts");
    let run = janitor(&fake, ALICE)
        .input("registry-url", &registry.url())
        .input("packages", "app")
        .input("mode", "restore")
        .run();
    run.assert_failure();
    assert!(
        logged(
            &run,
            &["::error::", "acme/app", "127.0.0.2", "token was not sent"]
        ),
        "{}",
        run.log
    );
    assert_eq!(
        realm.heard(),
        Vec::<Heard>::new(),
        "the realm heard nothing"
    );
    assert_eq!(restores(&fake), 1, "only the version before the move");
    assert_eq!(active(&fake), vec![1, 3]);
    assert_eq!(run.ids(), vec![1]);
    assert!(
        run.outcome_of(2).starts_with("left for the next run"),
        "{}",
        run.outcome_of(2)
    );
    assert_recorded_without_token(&run);
}

#[test]
fn an_all_503_registry_reports_every_unreadable_manifest_tagged_ones_included() {
    let fake = start(vec![
        v(1, 30).tags(&["v1.0.0"]).unavailable(),
        v(2, 20).unavailable(),
        v(3, 10).unavailable(),
    ]);
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), Vec::<u64>::new(), "{}", run.log);
    assert_eq!(active(&fake), vec![1, 2, 3]);
    assert!(
        run.summary
            .contains("**3 manifests could not be read.** A tagged image whose manifest"),
        "{}",
        run.summary
    );
    let table = run
        .summary
        .find("| id | tags / version | age | why | in this run |")
        .unwrap_or_else(|| panic!("no table of unreadable manifests in\n{}", run.summary));
    let rows: Vec<&str> = run.summary[table..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 3, "{}", run.summary);
    // The tagged image first: it may be broken, and its tag is what a person knows it by.
    assert!(rows[0].starts_with("| 1 | v1.0.0 | 30d | "), "{}", rows[0]);
    for (row, id) in rows.iter().zip([1, 3, 2]) {
        assert!(row.starts_with(&format!("| {id} | ")), "{row}");
        assert!(row.contains("503"), "the reason is given: {row}");
        assert!(row.ends_with("| kept |"), "{row}");
    }
    // The log still says it once, not once per manifest.
    assert_eq!(
        run.log.matches("no manifest could be read").count(),
        1,
        "{}",
        run.log
    );
    assert_recorded_without_token(&run);
}
