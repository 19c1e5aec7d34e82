//! A classic PAT's scopes (`x-oauth-scopes`) are checked before the first change.

use fake_github::{FakeGitHub, PackageSeed, TokenSeed};

use crate::harness::*;

const READ_ONLY: &str = "ghp_read_only_value";
const DELETER: &str = "ghp_deleter_value";

fn fake() -> FakeGitHub {
    FakeGitHub::start(
        accounts()
            .token(TokenSeed::pat(READ_ONLY, "alice", &["read:packages"]))
            .token(TokenSeed::pat(
                DELETER,
                "alice",
                &["read:packages", "delete:packages"],
            ))
            .package(container(
                "acme",
                "app",
                vec![
                    image(1, 60, &[]),
                    image(2, 50, &["v2"]),
                    image(3, 40, &["v3"]).deleted(fake_github::days(1)),
                ],
            ))
            .package(
                PackageSeed::new("acme", "maven", "jar")
                    .repository("acme/app")
                    .versions(vec![release(5, 40, "1.0"), release(6, 30, "1.1")]),
            )
            .package(
                PackageSeed::new("acme", "npm", "lib")
                    .repository("acme/app")
                    .versions(vec![release(7, 40, "1.0"), release(8, 30, "1.1")]),
            ),
    )
    .expect("fake starts")
}

fn mutations(fake: &FakeGitHub) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|request| request.method != "GET")
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

#[test]
fn a_missing_scope_warns_in_a_dry_run_and_stops_a_real_run_before_any_change() {
    let cases = [
        (READ_ONLY, "delete", "delete:packages"),
        (DELETER, "restore", "write:packages"),
    ];
    for (token, mode, scope) in cases {
        let fake = fake();
        let dry = janitor(&fake, token)
            .input("packages", "app")
            .input("mode", mode)
            .input("dry-run", "true")
            .run();
        dry.assert_success();
        assert!(
            dry.log.lines().any(|line| line.starts_with("::warning::")
                && line.contains(&format!("`{scope}`"))),
            "{mode}:\n{}",
            dry.log
        );

        let real = janitor(&fake, token)
            .input("packages", "app")
            .input("mode", mode)
            .run();
        real.assert_failure();
        assert!(
            real.log
                .lines()
                .any(|line| line.starts_with("::error::") && line.contains(&format!("`{scope}`"))),
            "{mode}:\n{}",
            real.log
        );
        assert!(!real.log.contains(token), "the token leaked:\n{}", real.log);
        assert_eq!(mutations(&fake), Vec::<String>::new(), "{mode}");
        assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2]);
    }
}

#[test]
fn a_token_with_the_needed_scope_runs_and_is_not_warned_about() {
    let fake = fake();
    let run = janitor(&fake, DELETER)
        .input("packages", "app")
        .input("tag-state", "untagged")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1]);
    assert!(!run.log.contains("scope"), "{}", run.log);
    assert!(!run.summary.contains("**Permissions:**"), "{}", run.summary);
}

#[test]
fn a_missing_repo_scope_warns_only_for_repository_scoped_registries() {
    let cases = [("maven", "jar", true), ("npm", "lib", false)];
    for (package_type, name, warned) in cases {
        let fake = fake();
        let run = janitor(&fake, DELETER)
            .input("package-type", package_type)
            .input("packages", name)
            .input("dry-run", "true")
            .run();
        run.assert_success();
        let repo_warnings = run
            .log
            .lines()
            .filter(|line| line.starts_with("::warning::") && line.contains("`repo`"))
            .count();
        assert_eq!(
            repo_warnings,
            usize::from(warned),
            "{package_type}, once:\n{}",
            run.log
        );
    }
}

#[test]
fn without_scopes_the_summary_says_once_which_permissions_the_job_needs() {
    let fake = fake();
    let run = janitor(&fake, WORKFLOW_TOKEN)
        .input("packages", "app")
        .input("dry-run", "true")
        .run();
    run.assert_success();
    assert_eq!(
        run.summary.matches("**Permissions:**").count(),
        1,
        "{}",
        run.summary
    );
    assert!(run.summary.contains("packages: write"), "{}", run.summary);
}

#[test]
fn a_token_without_write_packages_never_restores_a_deleted_package() {
    let fake = FakeGitHub::start(
        accounts()
            .token(TokenSeed::pat(
                DELETER,
                "alice",
                &["read:packages", "delete:packages"],
            ))
            .package(
                PackageSeed::new("acme", "npm", "lib")
                    .versions(vec![release(7, 40, "1.0")])
                    .deleted(fake_github::days(1)),
            ),
    )
    .expect("fake starts");
    let run = janitor(&fake, DELETER)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("mode", "restore")
        .run();
    run.assert_failure();
    assert_eq!(mutations(&fake), Vec::<String>::new());
    assert!(fake.package_deleted("acme", "npm", "lib"));
    assert!(run.log.contains("lacks `write:packages`"), "{}", run.log);
}
