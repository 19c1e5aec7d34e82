//! The apply phase of a reviewed plan (`plan-file`, not a dry run): the run lists and plans
//! every package afresh, as every run does, then each package's plan is narrowed to the
//! versions the reviewed plan names that still match their record ([`policy::apply`]).
//! What changed since the plan is skipped with what changed; what today's policy selects
//! and the plan does not name is not deleted. The rest of the run (the caps, the scopes
//! check, whole packages, the executor, the report) then works on the narrowed plans.
//!
//! [`policy::apply`]: crate::policy::apply

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use crate::model::image::describe;
use crate::model::outcome::{Entry, Outcome};
use crate::model::plan_file::PlanEntry;
use crate::policy::apply::{self, CHANGED};
use crate::policy::plan::Plan;
use crate::report::log::Log;
use crate::report::plan_note::Comparison;
use crate::report::{PackageReport, RunReport, plural, timestamp};

use super::package::{PackageRun, Reviewed};
use super::plan_file::Loaded;

/// Ids named in a log line before the rest are counted.
const IDS_SHOWN: usize = 10;

/// A plan being applied: what it names, per package, and what narrowing found, for the
/// comparison at the end.
#[derive(Debug)]
pub struct Applied {
    path: String,
    made_at: SystemTime,
    expires_at: SystemTime,
    /// Versions the plan names, over every package.
    planned: usize,
    /// Per package: the ids the plan names, and those skipped as changed since the plan.
    packages: HashMap<String, (HashSet<u64>, HashSet<u64>)>,
    /// Packages the plan deletes from that this run did not find, with their planned
    /// versions skipped as gone.
    missing: Vec<PackageReport>,
}

/// Narrow each package's plan to what the reviewed plan allows, set what it says of the
/// package in [`PackageRun::reviewed`], and log what is skipped and why.
pub fn narrow<W: std::io::Write>(
    loaded: &Loaded,
    packages: &mut [PackageRun],
    log: &mut Log<W>,
) -> Applied {
    let plan = &loaded.plan;
    log.info(&format!(
        "plan {}: made {}, expires {}: {} to delete in {}; only those are deleted, each only if it is unchanged and today's policy still selects it",
        loaded.path,
        timestamp(plan.made_at),
        timestamp(plan.expires_at),
        plural(plan.deletions(), "version"),
        plural(
            plan.packages.iter().filter(|p| !p.delete.is_empty()).count(),
            "package"
        )
    ));
    let mut named = HashMap::new();
    for package in packages.iter_mut() {
        let recorded = plan.package(&package.name);
        let entries: &[PlanEntry] = recorded.map_or(&[], |recorded| &recorded.delete);
        let mut reviewed = Reviewed {
            planned: entries.iter().map(|entry| entry.version.id).collect(),
            ..Reviewed::default()
        };
        let mut changed = HashSet::new();
        if let Ok(today) = package.plan.as_mut() {
            let narrowed = apply::narrow(entries, std::mem::take(today));
            reviewed.whole = recorded.is_some_and(|recorded| recorded.whole)
                && apply::exactly_planned(entries, &narrowed.plan);
            *today = narrowed.plan;
            let name = &package.name;
            for entry in &narrowed.changed {
                log.warning(&format!(
                    "{name}: {} {}: {}",
                    entry.version.id,
                    describe(&entry.version),
                    entry.outcome
                ));
            }
            if !narrowed.not_in_plan.is_empty() {
                log.info(&format!(
                    "{name}: {} selected by today's policy but not in the plan, so not deleted: {}",
                    plural(narrowed.not_in_plan.len(), "version"),
                    ids(&narrowed.not_in_plan)
                ));
            }
            changed = narrowed.changed.iter().map(|e| e.version.id).collect();
            reviewed.skipped = narrowed
                .changed
                .into_iter()
                .chain(narrowed.not_in_plan)
                .collect();
        }
        named.insert(package.name.clone(), (reviewed.planned.clone(), changed));
        package.reviewed = Some(reviewed);
    }
    let mut missing = Vec::new();
    for package in &plan.packages {
        if package.delete.is_empty() || named.contains_key(&package.name) {
            continue;
        }
        let entries: Vec<Entry> = package
            .delete
            .iter()
            .map(|entry| Entry {
                version: entry.version.clone(),
                outcome: Outcome::Skipped(format!(
                    "{CHANGED}: deleted (its package was not found by this run)"
                )),
                relation: None,
                reason: entry.reason.clone(),
                rule: entry.rule.clone(),
            })
            .collect();
        log.warning(&format!(
            "package `{}` of the plan was not found by this run: its {} are skipped",
            package.name,
            plural(entries.len(), "planned version")
        ));
        let ids: HashSet<u64> = entries.iter().map(|entry| entry.version.id).collect();
        named.insert(package.name.clone(), (ids.clone(), ids));
        missing.push(PackageReport::planned(
            &package.name,
            &Plan::default(),
            entries,
        ));
    }
    Applied {
        path: loaded.path.clone(),
        made_at: plan.made_at,
        expires_at: plan.expires_at,
        planned: plan.deletions(),
        packages: named,
        missing,
    }
}

impl Applied {
    /// The reports of the planned packages this run did not find (once).
    pub fn take_missing(&mut self) -> Vec<PackageReport> {
        std::mem::take(&mut self.missing)
    }

    /// How what the run did compares with the plan: each planned version deleted, skipped
    /// as changed, skipped or failed otherwise, or left (not tried, or in a package not
    /// listed); and the versions selected today that the plan does not name.
    pub fn compare(&self, report: &RunReport) -> Comparison {
        let mut comparison = Comparison {
            path: self.path.clone(),
            made_at: Some(self.made_at),
            expires_at: Some(self.expires_at),
            planned: self.planned,
            ..Comparison::default()
        };
        for package in &report.packages {
            let named = self.packages.get(&package.name);
            for entry in &package.entries {
                let id = entry.version.id;
                let Some((_, changed)) = named.filter(|(planned, _)| planned.contains(&id)) else {
                    if entry.outcome == Outcome::Skipped(apply::NOT_IN_PLAN.into()) {
                        comparison.not_in_plan += 1;
                    }
                    continue;
                };
                match &entry.outcome {
                    Outcome::Deleted | Outcome::DeletedWithPackage => comparison.deleted += 1,
                    Outcome::Skipped(_) if changed.contains(&id) => {
                        comparison.changed += 1;
                    }
                    Outcome::Skipped(_) => comparison.skipped += 1,
                    Outcome::Failed(_) => comparison.failed += 1,
                    _ => comparison.left += 1,
                }
            }
        }
        let accounted = comparison.deleted
            + comparison.changed
            + comparison.skipped
            + comparison.failed
            + comparison.left;
        comparison.left += comparison.planned.saturating_sub(accounted);
        comparison
    }
}

/// `1, 2, 3` or the first [`IDS_SHOWN`] and how many more.
fn ids(entries: &[Entry]) -> String {
    let shown: Vec<String> = entries
        .iter()
        .take(IDS_SHOWN)
        .map(|entry| entry.version.id.to_string())
        .collect();
    match entries.len().saturating_sub(IDS_SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}
