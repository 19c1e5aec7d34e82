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
use crate::model::plan_file::{PlanEntry, PlanFile};
use crate::policy::apply::{self, CHANGED};
use crate::policy::plan::Plan;
use crate::report::log::Log;
use crate::report::plan_note::Comparison;
use crate::report::{PackageReport, RunReport, plural, timestamp};

/// Ids named in a log line before the rest are counted.
const IDS_SHOWN: usize = 10;

/// A plan being applied: per package, what it names and what narrowing found.
#[derive(Debug)]
pub struct Applied {
    path: String,
    made_at: SystemTime,
    expires_at: SystemTime,
    /// Versions the plan names, over every package.
    planned: usize,
    packages: HashMap<String, AppliedPackage>,
    /// Packages the plan deletes from that this run did not find, with their planned
    /// versions skipped as gone.
    missing: Vec<PackageReport>,
}

#[derive(Debug, Default)]
struct AppliedPackage {
    /// Ids the plan names in this package.
    planned: HashSet<u64>,
    /// Planned ids skipped because they changed since the plan.
    changed: HashSet<u64>,
    /// Whether it may be deleted whole: the plan says so, and today's listing is exactly
    /// the planned versions, unchanged.
    whole: bool,
    /// The entries narrowing settled: changed since the plan, and not in the plan.
    skipped: Vec<Entry>,
}

/// Narrow each of today's plans (`None`: the package could not be listed) to what `plan`
/// allows, logging what is skipped and why.
pub fn narrow<'a, W: std::io::Write>(
    plan: &PlanFile,
    path: &str,
    today: impl Iterator<Item = (&'a str, Option<&'a mut Plan>)>,
    log: &mut Log<W>,
) -> Applied {
    log.info(&format!(
        "plan {path}: made {}, expires {}: {} to delete in {}; only those are deleted, each only if it is unchanged and today's policy still selects it",
        timestamp(plan.made_at),
        timestamp(plan.expires_at),
        plural(plan.deletions(), "version"),
        plural(
            plan.packages.iter().filter(|p| !p.delete.is_empty()).count(),
            "package"
        )
    ));
    let mut packages = HashMap::new();
    for (name, today) in today {
        let recorded = plan.package(name);
        let entries: &[PlanEntry] = recorded.map_or(&[], |package| &package.delete);
        let mut package = AppliedPackage {
            planned: entries.iter().map(|entry| entry.version.id).collect(),
            ..AppliedPackage::default()
        };
        if let Some(today) = today {
            let narrowed = apply::narrow(entries, std::mem::take(today));
            package.whole = recorded.is_some_and(|package| package.whole)
                && apply::exactly_planned(entries, &narrowed.plan);
            *today = narrowed.plan;
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
            package.changed = narrowed.changed.iter().map(|e| e.version.id).collect();
            package.skipped = narrowed
                .changed
                .into_iter()
                .chain(narrowed.not_in_plan)
                .collect();
        }
        packages.insert(name.to_owned(), package);
    }
    let mut missing = Vec::new();
    for package in &plan.packages {
        if package.delete.is_empty() || packages.contains_key(&package.name) {
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
        packages.insert(
            package.name.clone(),
            AppliedPackage {
                planned: ids.clone(),
                changed: ids,
                ..AppliedPackage::default()
            },
        );
        missing.push(PackageReport::planned(
            &package.name,
            &Plan::default(),
            entries,
        ));
    }
    Applied {
        path: path.to_owned(),
        made_at: plan.made_at,
        expires_at: plan.expires_at,
        planned: plan.deletions(),
        packages,
        missing,
    }
}

impl Applied {
    /// Whether package `name` may be deleted whole: planned whole, and today's listing is
    /// exactly the planned versions, unchanged (`whole_package` reads it again just before
    /// the DELETE, as always).
    pub fn may_go_whole(&self, name: &str) -> bool {
        self.packages.get(name).is_some_and(|package| package.whole)
    }

    /// The entries narrowing settled for package `name` (once).
    pub fn take_skipped(&mut self, name: &str) -> Vec<Entry> {
        self.packages
            .get_mut(name)
            .map(|package| std::mem::take(&mut package.skipped))
            .unwrap_or_default()
    }

    /// Whether the plan names version `id` of package `name`.
    pub fn is_planned(&self, name: &str, id: u64) -> bool {
        self.packages
            .get(name)
            .is_some_and(|package| package.planned.contains(&id))
    }

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
            let applied = self.packages.get(&package.name);
            for entry in &package.entries {
                let id = entry.version.id;
                let Some(applied) = applied.filter(|applied| applied.planned.contains(&id)) else {
                    if entry.outcome == Outcome::Skipped(apply::NOT_IN_PLAN.into()) {
                        comparison.not_in_plan += 1;
                    }
                    continue;
                };
                match &entry.outcome {
                    Outcome::Deleted | Outcome::DeletedWithPackage => comparison.deleted += 1,
                    Outcome::Skipped(_) if applied.changed.contains(&id) => {
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
