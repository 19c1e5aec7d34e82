//! Applying a reviewed plan, purely: of the versions a plan names, which today's run may
//! delete. The run lists and plans afresh (it decides only on what it read); this then
//! narrows today's plan to the planned versions that still match their record.
//!
//! A version is deleted only when all of these hold:
//! - the plan names it;
//! - it is unchanged since the plan: still listed and active, the same name (digest), the
//!   same tags, the same `updated_at`;
//! - today's policy, on today's listing, still selects it (so a platform manifest of an
//!   index that today's graph keeps is kept, whatever the plan said).
//!
//! A planned version that fails one of these is skipped with what changed
//! (`changed since the plan: tag v2.0 added`); one that today's policy selects but the plan
//! does not name is not deleted either (`not in the plan`).

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::outcome::{Entry, Outcome};
use crate::model::plan_file::PlanEntry;
use crate::model::version::Version;

use super::plan::{Decision, Plan, PlannedVersion, Reason};

/// How a skip for a change reads: `changed since the plan: <what changed>`.
pub const CHANGED: &str = "changed since the plan";

/// How a skip for a version the plan does not name reads.
pub const NOT_IN_PLAN: &str =
    "not in the plan: today's policy selects it, and the reviewed plan does not name it";

/// Tags named in a change before the rest are counted.
const TAGS_SHOWN: usize = 5;

/// What today's reads say of one planned version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Unchanged and still selected: it may be deleted.
    Apply,
    /// Changed since the plan, or no longer selected: what changed.
    Changed(String),
    /// Today's reads do not confirm it (its listing page was not read in this run): left
    /// for the next run, like any unconfirmed version.
    Unconfirmed,
}

/// Compare a planned version with what today's plan made of the same id, if it listed it.
pub fn check(planned: &Version, today: Option<&PlannedVersion>) -> Check {
    let Some(today) = today else {
        return Check::Changed("deleted (no longer listed as active)".into());
    };
    let now = &today.version;
    if now.deleted_at.is_some() {
        return Check::Changed("deleted".into());
    }
    if now.name != planned.name {
        return Check::Changed(format!("its name (digest) is now {}", now.name));
    }
    if !now.tags_known {
        return Check::Changed("its tags are unknown today (listed without tag metadata)".into());
    }
    let tags = tag_changes(&planned.tags, &now.tags);
    if !tags.is_empty() {
        return Check::Changed(tags);
    }
    if seconds(now.updated_at) != seconds(planned.updated_at) {
        return Check::Changed(format!(
            "updated (updated_at {} in the plan, {} today)",
            rfc3339(planned.updated_at),
            rfc3339(now.updated_at)
        ));
    }
    match (&today.decision, &today.reason) {
        (_, Reason::Unconfirmed(_)) => Check::Unconfirmed,
        (Decision::Keep, reason) => Check::Changed(format!("no longer selected: {reason}")),
        (Decision::Act, _) => Check::Apply,
    }
}

/// Today's plan of one package, narrowed to the planned versions it may delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// Today's plan, acting only on the planned versions that passed [`check`]: every
    /// other version it selected is kept, and leaves the execution order.
    pub plan: Plan,
    /// Planned versions skipped because they changed since the plan (or, gone, with the
    /// version as the plan recorded it), each with what changed.
    pub changed: Vec<Entry>,
    /// Versions today's policy selects that the plan does not name: not deleted.
    pub not_in_plan: Vec<Entry>,
    /// Planned versions today's reads do not confirm: left for the next run.
    pub unconfirmed: Vec<u64>,
}

/// Narrow `today` to what `planned` (one package's planned deletions) allows, by [`check`].
pub fn narrow(planned: &[PlanEntry], mut today: Plan) -> Narrowed {
    let index: HashMap<u64, usize> = today
        .versions
        .iter()
        .enumerate()
        .map(|(at, planned)| (planned.version.id, at))
        .collect();
    let mut applied = HashSet::new();
    let mut changed = Vec::new();
    let mut unconfirmed = Vec::new();
    for entry in planned {
        let found = index.get(&entry.version.id).map(|&at| &today.versions[at]);
        match check(&entry.version, found) {
            Check::Apply => {
                applied.insert(entry.version.id);
            }
            Check::Unconfirmed => unconfirmed.push(entry.version.id),
            Check::Changed(what) => changed.push(Entry {
                version: found.map_or_else(|| entry.version.clone(), |v| v.version.clone()),
                outcome: Outcome::Skipped(format!("{CHANGED}: {what}")),
                relation: None,
                reason: entry.reason.clone(),
                rule: entry.rule.clone(),
            }),
        }
    }
    let named: HashSet<u64> = planned.iter().map(|entry| entry.version.id).collect();
    let mut not_in_plan = Vec::new();
    for at in &today.order {
        let Some(version) = today.versions.get(*at) else {
            continue;
        };
        if !named.contains(&version.version.id) {
            not_in_plan.push(today.entry(version, Outcome::Skipped(NOT_IN_PLAN.into())));
        }
    }
    for version in &mut today.versions {
        if version.decision == Decision::Act && !applied.contains(&version.version.id) {
            version.decision = Decision::Keep;
        }
    }
    let versions = &today.versions;
    today.order.retain(|at| {
        versions
            .get(*at)
            .is_some_and(|version| applied.contains(&version.version.id))
    });
    Narrowed {
        plan: today,
        changed,
        not_in_plan,
        unconfirmed,
    }
}

/// Whether a package planned whole may go whole today: its narrowed plan deletes every
/// version listed today, and those are exactly the planned ones.
pub fn exactly_planned(planned: &[PlanEntry], narrowed: &Plan) -> bool {
    let planned: HashSet<u64> = planned.iter().map(|entry| entry.version.id).collect();
    !narrowed.versions.is_empty()
        && narrowed.versions.len() == planned.len()
        && narrowed.versions.iter().all(|version| {
            version.decision == Decision::Act && planned.contains(&version.version.id)
        })
}

/// `tag v2.0 added`, `tags a, b removed`, or both; empty when the tags are the same.
fn tag_changes(planned: &[String], now: &[String]) -> String {
    let before: HashSet<&str> = planned.iter().map(String::as_str).collect();
    let after: HashSet<&str> = now.iter().map(String::as_str).collect();
    let added: Vec<&str> = now
        .iter()
        .map(String::as_str)
        .filter(|tag| !before.contains(tag))
        .collect();
    let removed: Vec<&str> = planned
        .iter()
        .map(String::as_str)
        .filter(|tag| !after.contains(tag))
        .collect();
    [(added, "added"), (removed, "removed")]
        .into_iter()
        .filter(|(tags, _)| !tags.is_empty())
        .map(|(tags, what)| {
            let noun = if tags.len() == 1 { "tag" } else { "tags" };
            let mut shown = tags
                .iter()
                .take(TAGS_SHOWN)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if tags.len() > TAGS_SHOWN {
                shown.push_str(&format!(" and {} more", tags.len() - TAGS_SHOWN));
            }
            format!("{noun} {shown} {what}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whole seconds since the epoch: times compare as GitHub writes them.
fn seconds(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(|since| since.as_secs())
}

/// RFC 3339 in whole seconds, or the seconds themselves past what it can write.
fn rfc3339(time: SystemTime) -> String {
    /// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    const LAST_SECOND: u64 = 253_402_300_799;
    match seconds(time) {
        Some(secs) if secs <= LAST_SECOND => humantime::format_rfc3339_seconds(time).to_string(),
        Some(secs) => format!("{secs} s after 1970"),
        None => "before 1970".into(),
    }
}

#[cfg(test)]
mod tests;
