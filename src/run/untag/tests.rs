//! Tests of the tag work a package gets, and of what an interrupted run leaves.

use super::*;
use crate::model::version::PackageType;
use crate::policy::plan::{self, Reason};
use crate::testing::{digest, now, version};

fn config(pairs: &[(&str, &str)]) -> Config {
    Config::from_env(|name| match name {
        "INPUT_TOKEN" => Some("t".to_string()),
        "GITHUB_REPOSITORY_OWNER" => Some("acme".to_string()),
        "INPUT_PACKAGES" => Some("app, lib".to_string()),
        _ => pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string()),
    })
    .expect("valid inputs")
}

/// A delete plan in which version 1 loses `sha-1` (and keeps `v1`), and 2 is kept whole.
fn untag_plan() -> Plan {
    let mut plan = plan::plan(
        vec![version(1, &["sha-1", "v1"]), version(2, &["v2"])],
        &crate::policy::rules::Policy::default(),
        PackageType::Container,
        Mode::Delete,
        now(),
    );
    plan.versions[0].decision = crate::policy::plan::Decision::Keep;
    plan.versions[0].reason = Reason::Untag(vec!["sha-1".to_string()]);
    plan.order.clear();
    plan
}

fn tags_of(work: &Option<Work<'_>>) -> Vec<String> {
    match work {
        None => Vec::new(),
        Some(Work::Remove(removals)) => removals
            .iter()
            .flat_map(|removal| {
                removal
                    .tags
                    .iter()
                    .map(|tag| format!("{}:{tag}", removal.version.id))
            })
            .collect(),
        Some(Work::PutBack(tags)) => tags.iter().map(|tag| tag.tag.clone()).collect(),
    }
}

#[test]
fn a_package_has_tag_work_only_with_untag_in_delete_mode_or_restore_tags_for_it() {
    let plan = untag_plan();
    let restore = format!(
        r#"[{{"package": "app", "tag": "sha-1", "digest": "{}"}}, {{"package": "lib", "tag": "x", "digest": "{}"}}]"#,
        digest(1),
        digest(2)
    );
    let untag = config(&[("INPUT_UNTAG", "true")]);
    let plain = config(&[]);
    let restoring = config(&[("INPUT_MODE", "restore"), ("INPUT_RESTORE-TAGS", &restore)]);
    let cases: Vec<(&Config, &str, Option<&Plan>, Vec<&str>)> = vec![
        (&untag, "app", Some(&plan), vec!["1:sha-1"]),
        (&untag, "app", None, vec![]),
        (&plain, "app", Some(&plan), vec![]),
        (&restoring, "app", None, vec!["sha-1"]),
        (&restoring, "lib", Some(&plan), vec!["x"]),
        (&restoring, "other", None, vec![]),
    ];
    for (config, name, plan, expected) in cases {
        assert_eq!(tags_of(&work(config, name, plan)), expected, "{name}");
    }
}

#[test]
fn an_interrupted_run_leaves_every_tag_it_did_not_settle_and_keeps_those_it_did() {
    let plan = untag_plan();
    let config = config(&[("INPUT_UNTAG", "true")]);
    let mut two = plan.versions[0].clone();
    two.version.id = 3;
    two.version.name = digest(3);
    two.reason = Reason::Untag(vec!["sha-3".to_string(), "sha-4".to_string()]);
    let mut plan = plan;
    plan.versions.push(two);
    let work = work(&config, "app", Some(&plan)).expect("tag work");
    let mut entries = vec![TagEntry {
        id: Some(1),
        digest: digest(1),
        tag: "sha-1".to_string(),
        tags: vec!["sha-1".to_string(), "v1".to_string()],
        outcome: TagOutcome::Removed,
        reason: "kept by its other tags".to_string(),
        rule: None,
        placeholder: Some(9),
    }];
    leave_the_rest(&work, &mut entries, CANCELLED);
    let outcomes: Vec<(Option<u64>, &str, String)> = entries
        .iter()
        .map(|entry| (entry.id, entry.tag.as_str(), entry.outcome.to_string()))
        .collect();
    let left = format!("left for the next run: {CANCELLED}");
    assert_eq!(
        outcomes,
        vec![
            (Some(1), "sha-1", "tag removed".to_string()),
            (Some(3), "sha-3", left.clone()),
            (Some(3), "sha-4", left),
        ]
    );
}
