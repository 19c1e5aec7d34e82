//! Reviewed plans (`plan-file`) and the relative cap (`max-percent`): a dry run writes the
//! plan and its Markdown; a later run deletes only what that plan names and what is
//! unchanged since; a plan for another owner, host, package set or policy, or an expired
//! one, is refused before any request.

use std::path::Path;

use fake_github::{
    FakeGitHub, Limits, PackageSeed, PrimaryLimit, Seed, TokenSeed, VersionSeed, days,
};
use serde_json::Value;

use crate::harness::*;

/// Where the tests keep the plan, relative to the workspace.
const PLAN: &str = "plan/plan.json";

/// `app`: `pr-1` to `pr-6` (50 to 25 days old), `v1` (10 days) and `latest` (1 day).
fn app() -> PackageSeed {
    container(
        "acme",
        "app",
        (1..=6)
            .map(|id| image(id, 55 - 5 * id, &[&format!("pr-{id}")]))
            .chain([image(7, 10, &["v1"]), image(8, 1, &["latest"])])
            .collect(),
    )
}

fn start(seed: Seed) -> FakeGitHub {
    FakeGitHub::start(seed).expect("fake starts")
}

/// The inputs both runs share: `app`, pull-request tags older than a week.
fn cleanup(fake: &FakeGitHub, workspace: &Path) -> Janitor {
    janitor(fake, ALICE)
        .in_dir(workspace)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("older-than", "7d")
        .input("plan-file", PLAN)
}

fn plan_of(workspace: &Path) -> Value {
    let text = std::fs::read_to_string(workspace.join(PLAN)).expect("the plan was written");
    serde_json::from_str(&text).expect("the plan is JSON")
}

fn write_plan(workspace: &Path, plan: &Value) {
    std::fs::write(workspace.join(PLAN), plan.to_string()).expect("the plan is written");
}

/// The ids a package of the plan deletes, in its order.
fn planned_ids(plan: &Value, package: usize) -> Vec<u64> {
    plan["packages"][package]["delete"]
        .as_array()
        .expect("a list of versions to delete")
        .iter()
        .map(|entry| entry["id"].as_u64().expect("an id"))
        .collect()
}

/// The version ids of the DELETE requests the fake answered from `from` on, sorted.
fn deletes(fake: &FakeGitHub, from: usize) -> Vec<u64> {
    let mut ids: Vec<u64> = fake.requests()[from..]
        .iter()
        .filter(|request| request.method == "DELETE")
        .filter_map(|request| request.path.rsplit('/').next()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// Requests from `from` on that change something (anything but GET and HEAD).
fn mutations(fake: &FakeGitHub, from: usize) -> Vec<String> {
    fake.requests()[from..]
        .iter()
        .filter(|request| !matches!(request.method.as_str(), "GET" | "HEAD"))
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

#[test]
fn a_dry_run_writes_the_plan_and_its_markdown_and_changes_nothing() {
    let fake = start(accounts().package(app()));
    let workspace = workspace();
    let run = cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .input("plan-expires", "3d")
        .run();
    run.assert_success();
    assert_eq!(mutations(&fake, 0), Vec::<String>::new());
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 8));

    let plan = plan_of(&workspace);
    assert_eq!(plan["package_janitor_plan"], 1);
    assert_eq!(plan["owner"], "acme");
    assert_eq!(plan["api_url"], fake.url());
    assert_eq!(plan["mode"], "delete");
    assert_eq!(plan["packages_input"], serde_json::json!(["app"]));
    assert_eq!(plan["policy"]["inputs"]["tag-regex"], "^pr-");
    assert_eq!(plan["policy"]["inputs"]["older-than"], "7days");
    assert!(
        plan["policy"]["fingerprint"]
            .as_str()
            .is_some_and(|print| print.starts_with("sha256:") && print.len() == 71),
        "{plan}"
    );
    let made = humantime::parse_rfc3339(plan["made_at"].as_str().expect("made_at"));
    let expires = humantime::parse_rfc3339(plan["expires_at"].as_str().expect("expires_at"));
    let lifetime = expires
        .expect("a time")
        .duration_since(made.expect("a time"))
        .expect("expires after it was made");
    assert_eq!(lifetime, days(3));

    let package = &plan["packages"][0];
    assert_eq!(package["name"], "app");
    assert_eq!(package["listed"], 8);
    let mut planned = planned_ids(&plan, 0);
    planned.sort_unstable();
    assert_eq!(planned, range(1, 6));
    let first = package["delete"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["id"] == 1))
        .expect("version 1 is planned");
    let digest = fake.version_name("acme", "container", "app", 1);
    assert_eq!(first["scope"], "version");
    assert_eq!(first["name"], digest.as_str());
    assert_eq!(first["digest"], digest.as_str());
    assert_eq!(first["tags"], serde_json::json!(["pr-1"]));
    assert_eq!(first["reason"], "matches the policy");
    assert!(
        first["updated_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );
    assert_eq!(package["kept"]["total"], 2);
    assert_eq!(
        package["kept"]["versions"].as_array().map(Vec::len),
        Some(2)
    );

    let markdown = std::fs::read_to_string(workspace.join(format!("{PLAN}.md")))
        .expect("the Markdown is written beside the plan");
    assert!(markdown.starts_with("<!-- package-janitor plan -->\n## package-janitor plan: 6 versions to delete in 1 package"), "{markdown}");
    assert!(markdown.contains("| 1 | pr-1 |"), "{markdown}");
    assert!(
        run.summary.contains("**Plan written** to `plan/plan.json`"),
        "{}",
        run.summary
    );
    assert!(
        run.log.contains("plan written to plan/plan.json"),
        "{}",
        run.log
    );
    assert_eq!(run.ids(), range(1, 6));
}

#[test]
fn applying_the_plan_deletes_exactly_its_versions_and_says_so() {
    let fake = start(accounts().package(app()));
    let workspace = workspace();
    cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .run()
        .assert_success();
    let before = fake.requests().len();
    let run = cleanup(&fake, &workspace).run();
    run.assert_success();
    assert_eq!(deletes(&fake, before), range(1, 6));
    assert_eq!(mutations(&fake, before).len(), 6);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![7, 8]);
    assert_eq!(run.ids(), range(1, 6));
    assert_eq!(run.outputs["left-count"], "0");
    assert_eq!(run.outcome_of(3), "deleted");
    assert!(
        run.summary.contains("**Plan applied:** `plan/plan.json`"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(": 6 planned, 6 deleted."),
        "{}",
        run.summary
    );
    assert!(
        run.log
            .contains("plan plan/plan.json applied: 6 planned, 6 deleted"),
        "{}",
        run.log
    );
}

#[test]
fn versions_changed_since_the_plan_are_skipped_with_what_changed_and_the_rest_applied() {
    let fake = start(accounts().package(app().version(image(9, 45, &["pr-9"]).deleted(days(2)))));
    let workspace = workspace();
    cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .run()
        .assert_success();
    let mut planned = planned_ids(&plan_of(&workspace), 0);
    planned.sort_unstable();
    assert_eq!(planned, range(1, 6), "9 was deleted when the plan was made");

    fake.add_tag("acme", "container", "app", 2, "v2.0");
    // pr-4 moves to 7: 4 loses its only tag, and 7 is now selected, but not planned.
    fake.move_tag("acme", "container", "app", "pr-4", 7);
    fake.touch("acme", "container", "app", 5);
    fake.delete_behind("acme", "container", "app", 6);
    // 9 comes back: today's policy selects it, and the plan does not name it.
    fake.restore_behind("acme", "container", "app", 9);

    let before = fake.requests().len();
    let run = cleanup(&fake, &workspace).run();
    run.assert_success();
    assert_eq!(deletes(&fake, before), vec![1, 3]);
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![2, 4, 5, 7, 8, 9]
    );
    assert_eq!(run.ids(), vec![1, 3]);
    let changed = "skipped: changed since the plan: ";
    assert_eq!(run.outcome_of(2), format!("{changed}tag v2.0 added"));
    assert_eq!(run.outcome_of(4), format!("{changed}tag pr-4 removed"));
    assert!(
        run.outcome_of(5)
            .starts_with(&format!("{changed}updated (updated_at ")),
        "{}",
        run.outcome_of(5)
    );
    assert_eq!(
        run.outcome_of(6),
        format!("{changed}deleted (no longer listed as active)")
    );
    for id in [7, 9] {
        assert!(
            run.outcome_of(id).starts_with("skipped: not in the plan"),
            "{id}: {}",
            run.outcome_of(id)
        );
    }
    assert!(
        run.log.contains("::warning::app: 2 ") && run.log.contains("tag v2.0 added"),
        "{}",
        run.log
    );
    assert!(
        run.summary.contains(
            ": 6 planned, 2 deleted, 4 skipped as changed since the plan; 2 selected by today's policy but not in the plan were not deleted."
        ),
        "{}",
        run.summary
    );
    assert_eq!(run.outputs["left-count"], "0");
}

#[test]
fn planned_versions_the_budget_does_not_reach_are_left_and_counted_in_left_count() {
    // Each token has 15 requests an hour: the plan's run spends a few with ALICE; the run
    // that applies it, with another token of alice's, deletes 8 of the 20 planned (the
    // owner lookup and a page first, 5 kept in reserve) and leaves 12.
    const SECOND: &str = "ghp_alice_second_token";
    let old: Vec<VersionSeed> = (1..=20)
        .map(|id| image(id, 100 - id, &[&format!("pr-{id}")]))
        .chain((21..=25).map(|id| image(id, 1, &[&format!("v{id}")])))
        .collect();
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 15, std::time::Duration::from_secs(3_600)),
        secondary: None,
    };
    let fake = start(
        accounts()
            .token(TokenSeed::pat(
                SECOND,
                "alice",
                &["read:packages", "write:packages", "delete:packages", "repo"],
            ))
            .package(container("acme", "app", old))
            .limits(limits),
    );
    let workspace = workspace();
    cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .input("rate-limit-wait", "0s")
        .run()
        .assert_success();
    assert_eq!(planned_ids(&plan_of(&workspace), 0).len(), 20);
    let run = cleanup(&fake, &workspace)
        .input("token", SECOND)
        .input("rate-limit-wait", "0s")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), range(1, 8), "the oldest go first");
    assert_eq!(run.outputs["left-count"], "12");
    assert_eq!(fake.active_ids("acme", "container", "app"), range(9, 25));
    assert!(
        run.outcome_of(9)
            .starts_with("left for the next run: GitHub's primary rate limit is spent"),
        "{}",
        run.outcome_of(9)
    );
    assert!(
        run.summary
            .contains(": 20 planned, 8 deleted, 12 left for the next run."),
        "{}",
        run.summary
    );
    // Applied again once the budget is back, the plan finishes: what went already is gone.
    fake.reset_budgets();
    let again = cleanup(&fake, &workspace).input("token", SECOND).run();
    again.assert_success();
    assert_eq!(again.ids(), range(9, 20));
    assert_eq!(fake.active_ids("acme", "container", "app"), range(21, 25));
    assert_eq!(
        again.outcome_of(1),
        "skipped: changed since the plan: deleted (no longer listed as active)"
    );
    assert_eq!(again.outputs["left-count"], "0");
}

#[test]
fn a_version_the_plan_does_not_name_is_never_deleted_though_todays_policy_selects_it() {
    let versions = (1..=5)
        .map(|id| release(id, 60 - id, &format!("1.0.{id}")))
        .collect();
    let fake = start(accounts().package(PackageSeed::new("acme", "npm", "lib").versions(versions)));
    let workspace = workspace();
    let lib = |fake: &FakeGitHub| {
        janitor(fake, ALICE)
            .in_dir(&workspace)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("keep-latest", "2")
            .input("plan-file", PLAN)
    };
    lib(&fake).input("dry-run", "true").run().assert_success();
    let mut planned = planned_ids(&plan_of(&workspace), 0);
    planned.sort_unstable();
    assert_eq!(planned, vec![1, 2, 3]);
    // A push: keep-latest now keeps 6 and 5, and would delete 4 too.
    fake.publish("acme", "npm", "lib", 6, "1.0.6");
    let before = fake.requests().len();
    let run = lib(&fake).run();
    run.assert_success();
    assert_eq!(deletes(&fake, before), vec![1, 2, 3]);
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![4, 5, 6]);
    assert!(run.outcome_of(4).starts_with("skipped: not in the plan"));
    assert!(
        run.summary.contains(
            "3 planned, 3 deleted; 1 selected by today's policy but not in the plan was not deleted"
        ),
        "{}",
        run.summary
    );
}

/// A change to the apply run or to the plan that makes the plan not this run's, and words
/// the `::error::` must hold.
type Mismatch = (
    &'static str,
    fn(Janitor, &FakeGitHub) -> Janitor,
    fn(&mut Value),
    &'static str,
);

#[test]
fn a_plan_that_is_not_for_this_run_is_refused_whole_before_any_request() {
    let same: fn(Janitor, &FakeGitHub) -> Janitor = |run, _| run;
    let untouched: fn(&mut Value) = |_| {};
    let cases: &[Mismatch] = &[
        (
            "expired",
            same,
            |plan| {
                for field in ["made_at", "expires_at"] {
                    let at = humantime::parse_rfc3339(plan[field].as_str().expect("a time"))
                        .expect("a time");
                    plan[field] = humantime::format_rfc3339_seconds(at - days(2))
                        .to_string()
                        .into();
                }
            },
            "expired at",
        ),
        (
            "another owner",
            |run, _| run.input("owner", "alice"),
            untouched,
            "was made for owner `acme`, and this run is for `alice`",
        ),
        (
            "another host",
            |run, fake| {
                run.env(
                    "GITHUB_API_URL",
                    &fake.url().replace("127.0.0.1", "localhost"),
                )
            },
            untouched,
            "was made against the API at http://127.0.0.1",
        ),
        (
            "another package set",
            |run, _| run.input("packages", "app, lib"),
            untouched,
            "was made for the packages `app`, and this run is for `app, lib`",
        ),
        (
            "other policy inputs",
            |run, _| run.input("older-than", "3d").input("keep-latest", "1"),
            untouched,
            "older-than, keep-latest differ",
        ),
    ];
    for (what, change_run, change_plan, expected) in cases {
        let fake = start(accounts().package(app()));
        let workspace = workspace();
        cleanup(&fake, &workspace)
            .input("dry-run", "true")
            .run()
            .assert_success();
        let mut plan = plan_of(&workspace);
        change_plan(&mut plan);
        write_plan(&workspace, &plan);
        let before = fake.requests().len();
        let run = change_run(cleanup(&fake, &workspace), &fake).run();
        run.assert_failure();
        let error = run
            .log
            .lines()
            .find(|line| line.starts_with("::error::"))
            .unwrap_or_else(|| panic!("{what}: no ::error:: in\n{}", run.log));
        assert!(error.contains(expected), "{what}: {error}");
        assert!(
            error.contains("The whole plan is refused: nothing was changed."),
            "{what}: {error}"
        );
        assert_eq!(fake.requests().len(), before, "{what}: a request was sent");
        assert_eq!(
            fake.active_ids("acme", "container", "app"),
            range(1, 8),
            "{what}"
        );
        assert!(run.outputs.is_empty(), "{what}: {:?}", run.outputs);
        assert!(!run.log.contains(ALICE), "{what}: the token leaked");
    }
}

/// A plan file the apply run cannot use, and words the `::error::` must hold.
type Unusable = (&'static str, fn(&Path), &'static str);

#[test]
fn a_plan_file_that_is_missing_changed_or_not_a_plan_is_refused_before_any_request() {
    let cases: &[Unusable] = &[
        (
            "no plan there",
            |workspace| std::fs::remove_file(workspace.join(PLAN)).expect("removed"),
            "there is no plan at plan/plan.json. Make the plan first",
        ),
        (
            "not JSON",
            |workspace| std::fs::write(workspace.join(PLAN), "<html>").expect("written"),
            "it is not a plan file",
        ),
        (
            "another format",
            |workspace| {
                let mut plan = plan_of(workspace);
                plan["package_janitor_plan"] = 2.into();
                write_plan(workspace, &plan);
            },
            "it is a plan of format 2",
        ),
        (
            "its policy changed by hand",
            |workspace| {
                let mut plan = plan_of(workspace);
                plan["policy"]["inputs"]["older-than"] = "1day".into();
                write_plan(workspace, &plan);
            },
            "its policy fingerprint is not the hash of its policy inputs",
        ),
        (
            "a link that leads out of the workspace",
            |workspace| {
                let outside = workspace.with_extension("outside.json");
                std::fs::copy(workspace.join(PLAN), &outside).expect("copied");
                std::fs::remove_file(workspace.join(PLAN)).expect("removed");
                std::os::unix::fs::symlink(&outside, workspace.join(PLAN)).expect("linked");
            },
            "outside the workspace",
        ),
    ];
    for (what, spoil, expected) in cases {
        let fake = start(accounts().package(app()));
        let workspace = workspace();
        cleanup(&fake, &workspace)
            .input("dry-run", "true")
            .run()
            .assert_success();
        spoil(&workspace);
        let before = fake.requests().len();
        let run = cleanup(&fake, &workspace).run();
        let _ = std::fs::remove_file(workspace.with_extension("outside.json"));
        run.assert_failure();
        let error = run
            .log
            .lines()
            .find(|line| line.starts_with("::error::"))
            .unwrap_or_else(|| panic!("{what}: no ::error:: in\n{}", run.log));
        assert!(error.contains("input `plan-file`"), "{what}: {error}");
        assert!(error.contains(expected), "{what}: {error}");
        assert!(
            error.to_lowercase().contains("nothing was changed"),
            "{what}: {error}"
        );
        assert_eq!(fake.requests().len(), before, "{what}: a request was sent");
        assert_eq!(
            fake.active_ids("acme", "container", "app"),
            range(1, 8),
            "{what}"
        );
    }
}

#[test]
fn a_plan_for_several_packages_applies_each_and_skips_what_changed_in_either() {
    let api = container(
        "acme",
        "api",
        vec![
            image(21, 40, &["pr-21"]),
            image(22, 30, &["pr-22"]),
            image(23, 2, &["latest"]),
        ],
    );
    let fake = start(accounts().package(app()).package(api));
    let workspace = workspace();
    let both = |fake: &FakeGitHub| cleanup(fake, &workspace).input("packages", "app, api");
    both(&fake).input("dry-run", "true").run().assert_success();
    let plan = plan_of(&workspace);
    let names: Vec<&str> = plan["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();
    assert_eq!(names, ["app", "api"]);
    fake.add_tag("acme", "container", "api", 22, "v2");
    let before = fake.requests().len();
    let run = both(&fake).run();
    run.assert_success();
    assert_eq!(deletes(&fake, before), vec![1, 2, 3, 4, 5, 6, 21]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![7, 8]);
    assert_eq!(fake.active_ids("acme", "container", "api"), vec![22, 23]);
    assert_eq!(
        run.outcome_of(22),
        "skipped: changed since the plan: tag v2 added"
    );
    assert!(
        run.summary
            .contains(": 8 planned, 7 deleted, 1 skipped as changed since the plan."),
        "{}",
        run.summary
    );
}

#[test]
fn a_package_planned_whole_goes_whole_only_while_it_holds_exactly_the_planned_versions() {
    let old = |name: &str, first: u64| {
        PackageSeed::new("acme", "npm", name).versions(vec![
            release(first, 50, "1.0.0"),
            release(first + 1, 40, "1.0.1"),
        ])
    };
    let fake = start(
        accounts()
            .package(old("gone-a", 1))
            .package(old("gone-b", 11)),
    );
    let workspace = workspace();
    let run = |fake: &FakeGitHub| {
        janitor(fake, ALICE)
            .in_dir(&workspace)
            .input("package-type", "npm")
            .input("packages", "gone-a, gone-b")
            .input("older-than", "7d")
            .input("delete-empty-packages", "true")
            .input("plan-file", PLAN)
    };
    run(&fake).input("dry-run", "true").run().assert_success();
    let plan = plan_of(&workspace);
    assert_eq!(plan["packages"][0]["whole"], true, "{plan}");
    assert_eq!(plan["packages"][1]["whole"], true, "{plan}");
    // gone-b gains a version the plan never saw: it is not deleted whole; its planned
    // versions still go.
    fake.publish("acme", "npm", "gone-b", 13, "1.0.2");
    let before = fake.requests().len();
    let applied = run(&fake).run();
    applied.assert_success();
    assert!(fake.package_deleted("acme", "npm", "gone-a"));
    assert!(!fake.package_deleted("acme", "npm", "gone-b"));
    assert_eq!(fake.active_ids("acme", "npm", "gone-b"), vec![13]);
    assert_eq!(deletes(&fake, before), vec![11, 12]);
    assert_eq!(
        mutations(&fake, before)
            .iter()
            .filter(|request| request.ends_with("/npm/gone-a"))
            .count(),
        1,
        "gone-a is deleted with one request"
    );
}

#[test]
fn max_percent_refuses_a_run_over_the_share_before_any_change() {
    let fake = start(accounts().package(app()));
    let before = fake.requests().len();
    // 6 of 8 (75%) would go.
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("max-percent", "50")
        .run();
    run.assert_failure();
    assert_eq!(mutations(&fake, before), Vec::<String>::new());
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 8));
    assert_eq!(run.ids(), Vec::<u64>::new());
    // An annotation's `%` is written `%25`; the runner shows it as `%`.
    let error = "::error::input `max-percent`: app: 6 of its 8 active versions (75%25) would be deleted, more than max-percent (50%25): nothing was changed.";
    assert!(run.log.contains(error), "{}", run.log);
    assert!(
        run.summary
            .contains("> [!CAUTION]\n> app: 6 of its 8 active versions (75%) would be deleted"),
        "{}",
        run.summary
    );
    // Said once above; the rows say what the run would have done (issue 25).
    assert!(!run.summary.contains("skipped:"), "{}", run.summary);
    assert!(run.summary.contains("| would delete |"), "{}", run.summary);
    assert!(
        run.summary.contains("- **max-percent:** 50%"),
        "{}",
        run.summary
    );

    let within = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("tag-regex", "^pr-")
        .input("max-percent", "75")
        .run();
    within.assert_success();
    assert_eq!(within.ids(), range(1, 6));
}

#[test]
fn a_dry_run_over_max_percent_writes_no_plan_and_fails() {
    let fake = start(accounts().package(app()));
    let workspace = workspace();
    let run = cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .input("max-percent", "10")
        .run();
    run.assert_failure();
    assert!(!workspace.join(PLAN).exists());
    assert!(
        run.summary
            .contains("> [!CAUTION]\n> **No plan was written** to the `plan-file`: max-percent refused the run."),
        "{}",
        run.summary
    );
    assert!(
        run.log.contains(
            "::error::input `plan-file`: no plan was written: max-percent refused the run"
        ),
        "{}",
        run.log
    );
}

#[test]
fn a_dry_run_stopped_before_listing_writes_no_plan_and_fails() {
    let limits = Limits {
        primary: PrimaryLimit::new(1000, 0, std::time::Duration::from_secs(3_600)),
        secondary: None,
    };
    let fake = start(accounts().package(app()).limits(limits));
    let workspace = workspace();
    let run = cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .input("rate-limit-wait", "1m")
        .run();
    run.assert_failure();
    assert!(!workspace.join(PLAN).exists());
    assert!(
        run.log.contains(
            "::error::input `plan-file`: no plan was written: the run stopped before listing (GitHub's primary rate limit is spent"
        ),
        "{}",
        run.log
    );
    assert!(
        run.summary.contains("**No plan was written**"),
        "{}",
        run.summary
    );
}

/// Text that would add a line, a cell, a heading or a hidden comment if it reached the
/// Markdown raw.
const HOSTILE_TAGS: &[&str] = &[
    "pr-a\n## pwned-heading",
    "pr-b| pwned | row |",
    "pr-c<!-- pwned-comment",
    "pr-d<img src=x onerror=alert(1)>",
];

#[test]
fn hostile_tags_reach_the_plans_markdown_only_escaped_and_it_stays_bounded() {
    let mut versions: Vec<VersionSeed> = (1..=4)
        .map(|id| image(id, 50, &[HOSTILE_TAGS[id as usize - 1]]))
        .collect();
    versions.extend((5..=3_000).map(|id| image(id, 40, &[&format!("pr-{id}")])));
    let fake = start(accounts().package(container("acme", "app", versions)));
    let workspace = workspace();
    cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .run()
        .assert_success();
    let markdown = std::fs::read_to_string(workspace.join(format!("{PLAN}.md")))
        .expect("the Markdown is written");
    assert!(markdown.len() <= 60_000, "{} bytes", markdown.len());
    assert!(markdown.contains("<details><summary>3000 versions to delete</summary>"));
    assert!(
        markdown.contains("are not shown, to keep this under GitHub's size limit for a comment"),
        "{}",
        &markdown[markdown.len() - 500..]
    );
    for line in markdown.lines() {
        assert!(!line.starts_with("## pwned"), "{line}");
        assert!(
            !line.contains("<!-- pwned") && !line.contains("<img"),
            "{line}"
        );
        if line.starts_with("| ") {
            assert_eq!(
                line.matches(" | ").count(),
                3,
                "a row gained a cell: {line}"
            );
        }
    }
    for shown in [
        "&lt;!-- pwned-comment",
        "pr-b\\| pwned \\| row \\|",
        "&lt;img src=x",
    ] {
        assert!(
            markdown.contains(shown),
            "{shown} not in\n{}",
            &markdown[..4_000]
        );
    }
    // The JSON keeps the tags as data, and the run that applies it deletes them.
    let plan = plan_of(&workspace);
    let tags: Vec<&str> = plan["packages"][0]["delete"]
        .as_array()
        .expect("entries")
        .iter()
        .flat_map(|entry| entry["tags"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    for tag in HOSTILE_TAGS {
        assert!(tags.contains(tag), "{tag} missing");
    }
}

#[test]
fn a_hostile_tag_written_into_a_plan_reaches_the_summary_only_escaped() {
    let fake = start(accounts().package(app()));
    let workspace = workspace();
    cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .run()
        .assert_success();
    let mut plan = plan_of(&workspace);
    let entries = plan["packages"][0]["delete"]
        .as_array_mut()
        .expect("entries");
    for entry in entries.iter_mut() {
        entry["tags"] = serde_json::json!(["x\n## pwned-heading<!-- pwned-comment | pwned |"]);
    }
    write_plan(&workspace, &plan);
    let run = cleanup(&fake, &workspace).run();
    run.assert_success();
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 8));
    assert!(
        run.outcome_of(1).starts_with(
            "skipped: changed since the plan: tag pr-1 added, tag x\n## pwned-heading"
        ),
        "{}",
        run.outcome_of(1)
    );
    for line in run.summary.lines() {
        assert!(!line.starts_with("## pwned"), "{line}");
        assert!(!line.contains("<!-- pwned"), "{line}");
    }
    assert!(
        run.summary.contains("&lt;!-- pwned-comment"),
        "{}",
        run.summary
    );
    for line in run.log.lines() {
        assert!(!line.starts_with("## pwned"), "{line}");
    }
}

/// A buildx push: index `first` tagged `tag`, amd64 and arm64 manifests and an attestation
/// for each, ids `first..=first + 4`, `age` days old.
fn buildx(first: u64, age: u64, tag: &str) -> Vec<VersionSeed> {
    let v = |id| VersionSeed::new(id, days(age));
    let (amd64, arm64) = (first + 1, first + 2);
    vec![
        v(amd64).platform("linux/amd64"),
        v(arm64).platform("linux/arm64"),
        v(first + 3).attestation_for(amd64),
        v(first + 4).attestation_for(arm64),
        v(first)
            .index(&[amd64, arm64, first + 3, first + 4])
            .tags(&[tag]),
    ]
}

#[test]
fn an_image_changed_since_the_plan_keeps_its_planned_platform_manifests() {
    let versions = [
        buildx(1, 40, "pr-1"),
        buildx(11, 30, "pr-11"),
        buildx(21, 1, "latest"),
    ]
    .concat();
    let fake = start(accounts().package(container("acme", "app", versions)));
    let workspace = workspace();
    cleanup(&fake, &workspace)
        .input("dry-run", "true")
        .run()
        .assert_success();
    let plan = plan_of(&workspace);
    let mut planned = planned_ids(&plan, 0);
    planned.sort_unstable();
    assert_eq!(planned, [range(1, 5), range(11, 15)].concat());
    let child = plan["packages"][0]["delete"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["id"] == 12))
        .expect("12 is planned");
    assert_eq!(child["parent_id"], 11);
    assert!(
        child["role"]
            .as_str()
            .is_some_and(|role| role.contains("linux/amd64"))
    );
    // A release tag on index 11: today's policy still selects it (pr-11 matches), but it
    // changed, so it stays, and so do its platform and attestation manifests.
    fake.add_tag("acme", "container", "app", 11, "v2");
    let before = fake.requests().len();
    let run = cleanup(&fake, &workspace).run();
    run.assert_success();
    assert_eq!(deletes(&fake, before), range(1, 5));
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        [range(11, 15), range(21, 25)].concat()
    );
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
    assert_eq!(
        run.outcome_of(11),
        "skipped: changed since the plan: tag v2 added"
    );
    assert!(
        run.outcome_of(12)
            .starts_with("skipped: its image 11 was not deleted"),
        "{}",
        run.outcome_of(12)
    );
    assert!(
        run.summary
            .contains(": 10 planned, 5 deleted, 1 skipped as changed since the plan, 4 skipped."),
        "{}",
        run.summary
    );
}
