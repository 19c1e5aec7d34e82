//! Tests of a plan's Markdown: what it shows, where it folds, that it stays bounded, and
//! that hostile text in a plan shows as text.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::model::mode::Mode;
use crate::model::plan_file::{Kept, KeptRow, PlanEntry, Scope};
use crate::model::version::{PackageType, Version};
use crate::report::plan_note::Comparison;

const DAY: u64 = 86_400;

fn at(day: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(20_000 * DAY + day * DAY)
}

fn entry(id: u64, tags: &[&str]) -> PlanEntry {
    PlanEntry {
        scope: Scope::Version,
        version: Version {
            id,
            name: format!("sha256:{id:064x}"),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
            created_at: at(1),
            updated_at: at(2),
            deleted_at: None,
        },
        reason: "matches the policy".into(),
        rule: Some("#1".into()),
        parent_id: None,
        role: None,
    }
}

fn plan(delete: Vec<PlanEntry>, kept: u64) -> PlanFile {
    let listed = delete.len() as u64 + kept;
    PlanFile {
        made_at: at(10),
        expires_at: at(11),
        owner: "acme".into(),
        api_url: "https://api.github.com".into(),
        registry_url: "https://ghcr.io".into(),
        package_type: PackageType::Container,
        mode: Mode::Delete,
        packages_input: vec!["app".into()],
        policy: PolicyInputs {
            tag_regex: Some("^pr-".into()),
            tag_state: "any".into(),
            keep_latest: 2,
            ..PolicyInputs::default()
        },
        packages: vec![PlannedPackage {
            name: "app".into(),
            listed,
            whole: false,
            not_planned: None,
            delete,
            kept: Kept {
                total: kept,
                by_reason: if kept > 0 {
                    BTreeMap::from([("keep-latest".into(), kept)])
                } else {
                    BTreeMap::new()
                },
                versions: (0..kept.min(1_000))
                    .map(|n| KeptRow {
                        id: 100_000 + n,
                        name: format!("sha256:{n:064x}"),
                        tags: vec![format!("v{n}")],
                        updated_at: at(9),
                        reason: "kept by keep-latest (#1 newest)".into(),
                    })
                    .collect(),
            },
            left: 0,
        }],
    }
}

/// The rows of the tables, in order.
fn rows(markdown: &str) -> Vec<&str> {
    markdown
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| id "))
        .collect()
}

#[test]
fn a_plan_shows_who_it_is_for_its_policy_each_version_and_what_it_keeps() {
    let mut child = entry(2, &[]);
    child.parent_id = Some(1);
    child.role = Some("platform manifest linux/amd64".into());
    let markdown = render(
        &plan(vec![entry(1, &["pr-1"]), child], 1),
        &Sanitizer::default(),
    );
    assert!(markdown.starts_with(MARKER), "{markdown}");
    assert!(
        markdown.contains("## package-janitor plan: 2 versions to delete in 1 package"),
        "{markdown}"
    );
    for expected in [
        "**Owner:** `acme` on `https://api.github.com`",
        "**Packages:** container `app`",
        "**Made:** 2024-10-14T00:00:00Z · **expires:** 2024-10-15T00:00:00Z",
        "tag-regex `^pr-` · keep-latest 2 · fingerprint `sha256:",
        "### `app`: 2 to delete · 1 kept · 3 listed",
        "<details><summary>1 version kept, and why</summary>",
        "kept because of keep-latest: 1",
    ] {
        assert!(markdown.contains(expected), "{expected} in\n{markdown}");
    }
    assert_eq!(
        rows(&markdown),
        [
            "| 1 | pr-1 | 2024-10-06T00:00:00Z | matches the policy |",
            "| 2 | └ platform manifest linux/amd64 of 1 · sha256:000000000000… | 2024-10-06T00:00:00Z | matches the policy |",
            "| 100000 | v0 | 2024-10-13T00:00:00Z | kept by keep-latest (\\#1 newest) |",
        ]
    );
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count()
    );
}

#[test]
fn the_versions_to_delete_fold_past_fifty_rows() {
    for (count, folded) in [(50, false), (51, true)] {
        let delete = (1..=count).map(|id| entry(id, &[])).collect();
        let markdown = render(&plan(delete, 0), &Sanitizer::default());
        let summary = format!("<details><summary>{count} versions to delete</summary>");
        assert_eq!(markdown.contains(&summary), folded, "{count}:\n{markdown}");
        assert_eq!(rows(&markdown).len(), count as usize);
    }
}

#[test]
fn a_huge_plan_stays_under_the_comment_limit_with_a_note_counting_the_rest() {
    let delete: Vec<PlanEntry> = (1..=50_000).map(|id| entry(id, &["pr-x"])).collect();
    let markdown = render(&plan(delete, 5_000), &Sanitizer::default());
    assert!(
        markdown.len() <= MAX_MARKDOWN_BYTES,
        "{} bytes",
        markdown.len()
    );
    let shown = rows(&markdown).len();
    assert!(shown > 200, "rows are cut late, not early: {shown}");
    let note = format!("_{} of 51000 are not shown", plural(51_000 - shown, "row"));
    assert!(markdown.contains(&note), "expected {note}");
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count(),
        "every fold is closed"
    );
}

#[test]
fn hostile_tags_names_and_reasons_show_as_text_and_the_token_is_redacted() {
    let token = "ghp_plan_secret_value_1234";
    let mut hostile = entry(
        1,
        &[
            "v1\n## fake heading",
            "<!-- hide the rest",
            "</details><script>x</script>",
            "a|b",
            token,
        ],
    );
    hostile.reason = "x\n| fake | row |".into();
    hostile.role = Some("<img src=x>".into());
    hostile.parent_id = Some(1);
    let mut plan = plan(vec![hostile], 0);
    plan.packages[0].name = "app\n<!--".into();
    plan.policy.tag_regex = Some("`|<!--".into());
    let markdown = render(&plan, &Sanitizer::new(token));
    assert!(!markdown.contains(token), "{markdown}");
    assert_eq!(
        markdown.matches("<!--").count(),
        1,
        "only the marker: {markdown}"
    );
    assert!(!markdown.contains("<script>"), "{markdown}");
    assert!(!markdown.contains("<img"), "{markdown}");
    assert_eq!(markdown.matches("</details>").count(), 0, "{markdown}");
    let lines: Vec<&str> = markdown.lines().collect();
    assert!(
        !lines.iter().any(|l| l.starts_with("## fake")),
        "{markdown}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("| fake")), "{markdown}");
    assert_eq!(rows(&markdown).len(), 1, "{markdown}");
}

#[test]
fn a_comparison_says_what_was_planned_and_what_came_of_it() {
    let cases = [
        (
            Comparison {
                planned: 3,
                deleted: 3,
                ..Comparison::default()
            },
            "3 planned, 3 deleted",
        ),
        (
            Comparison {
                planned: 5,
                deleted: 2,
                changed: 1,
                skipped: 1,
                left: 1,
                not_in_plan: 2,
                ..Comparison::default()
            },
            "5 planned, 2 deleted, 1 skipped as changed since the plan, 1 skipped, 1 left for the next run; 2 selected by today's policy but not in the plan were not deleted",
        ),
        (
            Comparison {
                planned: 1,
                failed: 1,
                not_in_plan: 1,
                ..Comparison::default()
            },
            "1 planned, 0 deleted, 1 failed; 1 selected by today's policy but not in the plan was not deleted",
        ),
    ];
    for (comparison, expected) in cases {
        assert_eq!(comparison.counts(), expected);
    }
    let section = summary_section(
        &PlanNote::Applied(Comparison {
            path: "plan/plan.json".into(),
            planned: 1,
            deleted: 1,
            ..Comparison::default()
        }),
        &Sanitizer::default(),
    );
    assert_eq!(
        section,
        "> [!NOTE]\n> **Plan applied:** `plan/plan.json`: 1 planned, 1 deleted.\n\n"
    );
}
