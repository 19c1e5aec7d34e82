//! Tests of applying a plan: each change between plan and apply, and the narrowed plan.

use std::time::Duration;

use super::*;
use crate::model::image::{Relation, Role};
use crate::model::mode::Mode;
use crate::model::plan_file::Scope;
use crate::model::version::PackageType;
use crate::policy::plan::Unconfirmed;
use crate::policy::rules::Policy;
use crate::testing::{DAY, now, version};

fn selected(version: Version) -> PlannedVersion {
    PlannedVersion {
        version,
        decision: Decision::Act,
        reason: Reason::Selected,
        relation: None,
        rule: Some(0),
    }
}

fn kept(version: Version, reason: Reason) -> PlannedVersion {
    PlannedVersion {
        decision: Decision::Keep,
        reason,
        ..selected(version)
    }
}

fn entry(version: Version) -> PlanEntry {
    PlanEntry {
        scope: Scope::Version,
        version,
        reason: "matches the policy".into(),
        rule: Some("#1".into()),
        parent_id: None,
        role: None,
    }
}

#[test]
fn each_change_since_the_plan_is_named_and_only_an_unchanged_selected_version_applies() {
    let planned = version(1, &["pr-1"]);
    let with = |change: fn(&mut Version)| {
        let mut today = planned.clone();
        change(&mut today);
        today
    };
    let cases: Vec<(&str, Option<PlannedVersion>, Check)> = vec![
        (
            "unchanged and selected",
            Some(selected(planned.clone())),
            Check::Apply,
        ),
        (
            "gone from the listing",
            None,
            Check::Changed("deleted (no longer listed as active)".into()),
        ),
        (
            "listed as deleted",
            Some(selected(with(|v| v.deleted_at = Some(now())))),
            Check::Changed("deleted".into()),
        ),
        (
            "another digest",
            Some(selected(with(|v| v.name = "sha256:other".into()))),
            Check::Changed("its name (digest) is now sha256:other".into()),
        ),
        (
            "tags unknown",
            Some(selected(with(|v| v.tags_known = false))),
            Check::Changed("its tags are unknown today (listed without tag metadata)".into()),
        ),
        (
            "a tag added",
            Some(selected(with(|v| v.tags.push("v2.0".into())))),
            Check::Changed("tag v2.0 added".into()),
        ),
        (
            "a tag moved away",
            Some(selected(with(|v| v.tags.clear()))),
            Check::Changed("tag pr-1 removed".into()),
        ),
        (
            "retagged",
            Some(selected(with(|v| {
                v.tags = (0..7).map(|n| format!("v{n}")).collect();
            }))),
            Check::Changed("tags v0, v1, v2, v3, v4 and 2 more added, tag pr-1 removed".into()),
        ),
        (
            "updated",
            Some(selected(with(|v| v.updated_at += Duration::from_secs(DAY)))),
            Check::Changed(
                "updated (updated_at 1972-09-26T00:00:00Z in the plan, 1972-09-27T00:00:00Z today)"
                    .into(),
            ),
        ),
        (
            "the same second, another sub-second",
            Some(selected(with(|v| v.updated_at += Duration::from_millis(1)))),
            Check::Apply,
        ),
        (
            "kept by today's policy",
            Some(kept(planned.clone(), Reason::TooRecent)),
            Check::Changed("no longer selected: updated more recently than older-than".into()),
        ),
        (
            "part of an image today's graph keeps",
            Some(kept(
                planned.clone(),
                Reason::PartOfKept {
                    role: Role::Platform("linux/amd64".into()),
                    image: "sha256:aaaa (v3)".into(),
                    parent: 9,
                },
            )),
            Check::Changed(
                "no longer selected: platform manifest linux/amd64 of kept image sha256:aaaa (v3)"
                    .into(),
            ),
        ),
        (
            "not confirmed by today's reads",
            Some(kept(
                planned.clone(),
                Reason::Unconfirmed(Unconfirmed::NotListed),
            )),
            Check::Unconfirmed,
        ),
    ];
    for (what, today, expected) in cases {
        assert_eq!(check(&planned, today.as_ref()), expected, "{what}");
    }
}

/// Ids in the narrowed plan's execution order, and the ids of each kind of entry.
fn shape(narrowed: &Narrowed) -> (Vec<u64>, Vec<u64>, Vec<u64>, Vec<u64>) {
    let ids = |entries: &[Entry]| entries.iter().map(|e| e.version.id).collect::<Vec<_>>();
    (
        narrowed.plan.selected().map(|p| p.version.id).collect(),
        ids(&narrowed.changed),
        ids(&narrowed.not_in_plan),
        narrowed.unconfirmed.clone(),
    )
}

#[test]
fn today_is_narrowed_to_the_unchanged_planned_versions_and_nothing_else_acts() {
    let versions: Vec<Version> = (1..=6).map(|id| version(id, &[])).collect();
    let today = crate::policy::plan::plan(
        versions.clone(),
        &Policy::default(),
        PackageType::Npm,
        Mode::Delete,
        now(),
    );
    // The plan named 1, 2, 3 and 7; today 2 was retagged, 7 is gone, 4 to 6 are new to
    // the policy (all selected today).
    let mut gone = version(7, &[]);
    gone.name = "gone".into();
    let planned = vec![
        entry(versions[0].clone()),
        entry(versions[1].clone()),
        entry(versions[2].clone()),
        entry(gone),
    ];
    let mut today = today;
    today.versions[1].version.tags.push("v2.0".into());
    let narrowed = narrow(&planned, today);
    assert_eq!(
        shape(&narrowed),
        (vec![3, 1], vec![2, 7], vec![6, 5, 4], vec![])
    );
    let outcome = |entries: &[Entry], id: u64| {
        entries
            .iter()
            .find(|e| e.version.id == id)
            .map(|e| e.outcome.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        outcome(&narrowed.changed, 2),
        "skipped: changed since the plan: tag v2.0 added"
    );
    assert_eq!(
        outcome(&narrowed.changed, 7),
        "skipped: changed since the plan: deleted (no longer listed as active)"
    );
    assert_eq!(
        narrowed.changed[1].version.name, "gone",
        "a gone version is shown as the plan recorded it"
    );
    assert_eq!(
        outcome(&narrowed.not_in_plan, 4),
        format!("skipped: {NOT_IN_PLAN}")
    );
    let acting: Vec<u64> = narrowed
        .plan
        .versions
        .iter()
        .filter(|p| p.decision == Decision::Act)
        .map(|p| p.version.id)
        .collect();
    assert_eq!(acting, vec![1, 3], "only what is executed acts");
    assert!(!exactly_planned(&planned, &narrowed.plan));
}

#[test]
fn a_child_keeps_its_relation_so_it_waits_for_its_planned_image() {
    let index = version(1, &["pr-1"]);
    let child = version(2, &[]);
    let mut child_planned = selected(child.clone());
    child_planned.relation = Some(Relation {
        parents: vec![1],
        role: Role::Platform("linux/amd64".into()),
    });
    let today = Plan {
        versions: vec![selected(index.clone()), child_planned],
        order: vec![0, 1],
        rules: Vec::new(),
        blobs: None,
    };
    let narrowed = narrow(&[entry(index), entry(child)], today);
    assert_eq!(shape(&narrowed), (vec![1, 2], vec![], vec![], vec![]));
    assert_eq!(
        narrowed.plan.versions[1]
            .relation
            .as_ref()
            .map(|r| r.parents.clone()),
        Some(vec![1])
    );
}

#[test]
fn a_package_goes_whole_only_when_today_lists_exactly_the_planned_versions_unchanged() {
    let versions: Vec<Version> = (1..=3).map(|id| version(id, &[])).collect();
    let plan_of = |versions: &[Version]| {
        crate::policy::plan::plan(
            versions.to_vec(),
            &Policy::default(),
            PackageType::Npm,
            Mode::Delete,
            now(),
        )
    };
    let all: Vec<PlanEntry> = versions.iter().cloned().map(entry).collect();
    let cases: Vec<(&str, Vec<PlanEntry>, Vec<Version>, bool)> = vec![
        ("the same three", all.clone(), versions.clone(), true),
        ("one gone since", all.clone(), versions[..2].to_vec(), false),
        (
            "one published since",
            all.clone(),
            [versions.clone(), vec![version(9, &[])]].concat(),
            false,
        ),
        (
            "one updated since",
            all.clone(),
            {
                let mut changed = versions.clone();
                changed[0].updated_at += Duration::from_secs(60);
                changed
            },
            false,
        ),
        ("planned partly", all[..2].to_vec(), versions.clone(), false),
        ("nothing listed", all.clone(), Vec::new(), false),
    ];
    for (what, planned, listed, expected) in cases {
        let narrowed = narrow(&planned, plan_of(&listed));
        assert_eq!(
            exactly_planned(&planned, &narrowed.plan),
            expected,
            "{what}"
        );
    }
}
