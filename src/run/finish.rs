//! Finish a run: turn each [`PackageRun`] into its report (what was not settled is left for
//! the next run, with why; what a reviewed plan skipped, with what changed), then write the outputs and the summary (to the log outside
//! Actions) and close the log with the totals and what to do next.

use std::collections::{BTreeSet, HashSet};

use crate::config::Config;
use crate::config::cli::Format;
use crate::github::{GitHub, Namespace, OwnerKind};
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome};
use crate::policy::plan::{self, Plan};
use crate::policy::storage;
use crate::registry::Registry;
use crate::report::log::Log;
use crate::report::outputs::Outputs;
use crate::report::{PackageReport, RunReport, plural, publish, summary, text, timestamp};
use crate::state::RunState;

use super::across::Relisting;
use super::cancel;
use super::environment::Environment;
use super::failures::{rate_limited, unlisted};
use super::package::PackageRun;
use super::plan_file;
use super::requested;
use super::resume;
use super::untag;

/// Every package's report, in the order they were worked on. With `interrupted`, each
/// selected version without an outcome is left for the next run. In delete mode the state
/// (`state`, with `state-file`) remembers each planned package's versions for the next run.
/// The ids of `version-ids` that no listing returned go with the first package.
pub fn package_reports<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    packages: Vec<PackageRun>,
    interrupted: bool,
    mut state: Option<&mut RunState>,
    log: &mut Log<W>,
) -> Vec<PackageReport> {
    let not_found = not_found_entries(config, &packages, log);
    let mut reports = Vec::with_capacity(packages.len());
    for package in packages {
        let PackageRun {
            name,
            plan,
            revived,
            mut entries,
            deleted_whole,
            unreadable,
            reviewed,
            mut tags,
            ..
        } = package;
        if interrupted && let Some(work) = untag::work(config, &name, plan.as_ref().ok()) {
            untag::leave_the_rest(&work, &mut tags, left_reason(env.cancel.is_requested()));
        }
        let (revived, came_back) = match revived {
            Some(revived) => (Some(revived.entry), revived.versions),
            None => (None, Vec::new()),
        };
        let whole = deleted_whole.or(revived);
        let report = match plan {
            Ok(plan) => {
                if interrupted {
                    leave_the_rest(&plan, &mut entries, env.cancel.is_requested());
                }
                // Applying a reviewed plan, what it skipped comes first, and only planned
                // versions are left for the next run: the rest were never to be deleted.
                let (skipped, planned) = match reviewed {
                    Some(reviewed) => (reviewed.skipped, Some(reviewed.planned)),
                    None => (Vec::new(), None),
                };
                let unconfirmed = unconfirmed_entries(&plan).into_iter().filter(|entry| {
                    planned
                        .as_ref()
                        .is_none_or(|planned| planned.contains(&entry.version.id))
                });
                let entries: Vec<Entry> = came_back
                    .into_iter()
                    .chain(skipped)
                    .chain(entries)
                    .chain(unconfirmed)
                    .collect();
                let report = PackageReport::planned(&name, &plan, entries)
                    .with_whole(whole)
                    .with_unreadable(&plan, &unreadable)
                    .with_tags(tags);
                let gone = report.acted_on();
                let storage = (config.mode == Mode::Delete)
                    .then(|| storage::cleanup(config.package_type, plan.blobs.as_deref(), &gone));
                let report = PackageReport { storage, ..report };
                let remembering = state.as_deref_mut().filter(|_| config.mode == Mode::Delete);
                if let Some(state) = remembering {
                    let saved = state.package_mut(config.package_type, &name);
                    let order = std::mem::take(&mut saved.order);
                    resume::remember(
                        saved,
                        plan.versions.into_iter().map(|planned| planned.version),
                        &order,
                        &deleted_ids(&report),
                    );
                }
                report
            }
            Err(err) => not_planned(&name, &err).with_whole(whole).with_tags(tags),
        };
        reports.push(report);
    }
    if let Some(first) = reports.first_mut() {
        first.entries.extend(not_found);
    }
    reports
}

/// The report of a package that has no plan: left for the next run (a listing not
/// finished, a saved listing to read afresh, a spent rate limit), or failed.
fn not_planned(name: &str, err: &anyhow::Error) -> PackageReport {
    let unfinished = err.downcast_ref::<resume::Unfinished>();
    let relisting = err.downcast_ref::<Relisting>();
    match (unfinished, relisting, rate_limited(err)) {
        (Some(unfinished), _, _) => PackageReport {
            undecided: unfinished.undecided,
            ..PackageReport::left(name, unfinished.to_string())
        },
        (None, Some(relisting), _) => PackageReport::left(name, relisting.to_string()),
        (None, None, Some(reason)) => PackageReport {
            undecided: unlisted(err).unwrap_or(0),
            ..PackageReport::left(name, reason)
        },
        (None, None, None) => PackageReport::failed(name, format!("{err:#}")),
    }
}

/// After an interruption, every selected version of `plan` without an outcome is left for the
/// next run.
fn leave_the_rest(plan: &Plan, entries: &mut Vec<Entry>, cancelled: bool) {
    let reason = left_reason(cancelled);
    let done: HashSet<u64> = entries.iter().map(|entry| entry.version.id).collect();
    for planned in plan.selected() {
        if !done.contains(&planned.version.id) {
            entries.push(plan.entry(planned, Outcome::Left(reason.to_string())));
        }
    }
}

/// Why what an interrupted run did not get to is left for the next run.
fn left_reason(cancelled: bool) -> &'static str {
    if cancelled {
        cancel::CANCELLED
    } else {
        "not tried: the run stopped on an error"
    }
}

/// The versions the plan would act on but this run's reads do not confirm: left for the
/// next run, each with why.
fn unconfirmed_entries(plan: &Plan) -> Vec<Entry> {
    plan.versions
        .iter()
        .filter(|planned| matches!(planned.reason, plan::Reason::Unconfirmed(_)))
        .map(|planned| Entry {
            relation: None,
            ..plan.entry(planned, Outcome::Left(UNCONFIRMED.to_string()))
        })
        .collect()
}

/// The outcome of a version left because this run's reads do not confirm it.
const UNCONFIRMED: &str =
    "not confirmed by this run's reads; the next run reads it before deciding";

/// The ids a package report says were deleted (one by one, or with the package).
fn deleted_ids(report: &PackageReport) -> HashSet<u64> {
    report
        .entries
        .iter()
        .filter(|entry| entry.outcome.is_deleted())
        .map(|entry| entry.version.id)
        .collect()
}

/// Ids of `version-ids` that no listing returned, as `not found` entries for the first
/// package, each with a warning. Only when every package was listed: otherwise the id may
/// be in the one that was not. Versions that came back with a restored package were found.
fn not_found_entries<W: std::io::Write>(
    config: &Config,
    packages: &[PackageRun],
    log: &mut Log<W>,
) -> Vec<Entry> {
    let Some(asked) = &config.policy.version_ids else {
        return Vec::new();
    };
    let listed: Option<Vec<(&str, &Plan)>> = packages
        .iter()
        .map(|package| Some((package.name.as_str(), package.plan.as_ref().ok()?)))
        .collect();
    let Some(listed) = listed else {
        return Vec::new();
    };
    let came_back: BTreeSet<u64> = packages
        .iter()
        .filter_map(|package| package.revived.as_ref())
        .flat_map(|revived| revived.versions.iter().map(|entry| entry.version.id))
        .collect();
    let missing = requested::not_found(asked, config.mode, listed, &came_back);
    for entry in &missing {
        log.warning(&format!(
            "input `version-ids`: {}: {}",
            entry.version.id, entry.outcome
        ));
    }
    missing
}

/// The owner as the summary shows it, in Markdown.
pub fn owner_label<W: std::io::Write>(
    owner: &str,
    kind: OwnerKind,
    namespace: &Namespace,
    log: &Log<W>,
) -> String {
    let kind = match kind {
        OwnerKind::Organization => "organization",
        OwnerKind::User => "user",
    };
    let clean = log.sanitizer();
    format!(
        "{} ({kind}, through {})",
        clean.code(owner),
        clean.code(&namespace.prefix())
    )
}

/// Said once in the summary when the token named no scopes (a `GITHUB_TOKEN`), so they
/// could not be checked.
const PERMISSIONS_NOTE: &str = "\n> **Permissions:** the token did not name its scopes (a `GITHUB_TOKEN` does not), so they were not checked before the first change. The job needs `permissions: packages: write`, and the repository needs Admin access to each package (package settings → Manage Actions access).\n";

/// Finish a run that stopped on the primary rate limit before any package was found:
/// nothing was changed, and the next run carries on.
pub fn stopped<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    github: &GitHub,
    reason: String,
    log: &mut Log<W>,
) -> anyhow::Result<bool> {
    let mut report = RunReport {
        packages: Vec::new(),
        refusal: None,
        stopped: Some(reason),
        interrupted: None,
        now: env.now,
        plan: None,
    };
    // A dry run that was to write a plan wrote none: it fails.
    report.plan = plan_file::conclude(config, env, None, &report, log);
    let owner = log.sanitizer().code(&config.owner);
    publish_and_close(config, env, &owner, &report, github, None, log)?;
    Ok(report.succeeded())
}

/// Write outputs and summary (to the log when run outside Actions) and the final total.
/// Outputs and summary are each written even when the other cannot be; the first failure
/// is returned after the log is complete.
pub fn publish_and_close<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    owner: &str,
    report: &RunReport,
    github: &GitHub,
    registry: Option<&Registry>,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let clean = log.sanitizer().clone();
    let outputs = Outputs::from_report(report, &clean);
    publish::warn_cut_short(&outputs.truncated, log);
    let mut markdown = summary::render(config, owner, report, log.notes(), &clean);
    if github.scopes().is_none() && report.stopped.is_none() {
        markdown.push_str(PERMISSIONS_NOTE);
    }
    let published = match env.print {
        None => publish::publish(env.files(), &outputs.render(&clean), &markdown, log),
        Some(print) => {
            let printed = match print.format {
                Format::Text => text::render(config, report, log.notes(), print, &clean),
                Format::Json => format!("{}\n", clean.json_text(&outputs.json)),
                Format::Markdown => markdown.clone(),
            };
            publish::publish_printed(
                env.files(),
                &outputs.render(&clean),
                &markdown,
                &printed,
                &mut std::io::stdout(),
                log,
            )
        }
    };
    if let Some(interrupted) = &report.interrupted {
        log.error(&format!(
            "the run was cut short: {interrupted}. What was done is in the outputs and the summary; run again for the rest."
        ));
    }
    if let Some(refusal) = &report.refusal {
        log.error(&format!("input `{}`: {}", refusal.input, refusal.message));
    }
    let dry = if config.dry_run { " (dry run)" } else { "" };
    log.info(&format!(
        "package-janitor{dry}: {}",
        report.headline(config.mode, config.dry_run)
    ));
    let stats = github.stats();
    let registry = registry
        .map(Registry::stats)
        .map(|stats| {
            format!(
                "; registry: {} requests, {} retried",
                stats.requests, stats.retries
            )
        })
        .unwrap_or_default();
    log.info(&format!(
        "API: {} GET and {} DELETE/POST requests, {} retried, {} secondary-limit answers, {} waits for the primary reset{registry}",
        stats.gets, stats.mutations, stats.retries, stats.secondary_answers, stats.primary_waits
    ));
    close(config, report, github, log);
    published.result(log)
}

/// The log's last lines: why the run stopped early, and what failed, each with what to do.
fn close<W: std::io::Write>(
    config: &Config,
    report: &RunReport,
    github: &GitHub,
    log: &mut Log<W>,
) {
    let totals = report.totals();
    if let Some(stopped) = &report.stopped {
        log.warning(&format!(
            "stopped before listing: {stopped}. Nothing was changed; the next run carries on."
        ));
    } else if report.cut_short() && report.interrupted.is_none() {
        let reset = github
            .rate_limit()
            .map(|rate| format!(" It resets at {}.", timestamp(rate.reset)))
            .unwrap_or_default();
        let unconfirmed = report
            .entries()
            .filter(|(_, entry)| matches!(&entry.outcome, Outcome::Left(why) if why == UNCONFIRMED))
            .count();
        let of_them = if unconfirmed > 0 {
            format!(
                ", {unconfirmed} of the versions because this run did not read their listing pages"
            )
        } else {
            String::new()
        };
        let undecided = if totals.undecided > 0 {
            format!(
                ", and at least {} not yet listed or decided",
                plural(totals.undecided, "version")
            )
        } else {
            String::new()
        };
        log.warning(&format!(
            "this run stopped early on GitHub's rate limits: {} and {} are left for the next run (the oldest were done first{of_them}){undecided}.{reset}",
            plural(totals.left - totals.undecided, "selected version"),
            plural(totals.packages_left, "package")
        ));
    }
    if totals.not_found > 0 {
        let ids = plural(totals.not_found, "id");
        let were = if totals.not_found == 1 { "was" } else { "were" };
        log.error(&format!(
            "{ids} in `version-ids` {were} not found among the versions `mode: {}` acts on, so neither {} nor skipped (see the warnings above). Check the ids and `mode`.",
            config.mode.as_str(),
            config.mode.past_tense()
        ));
    }
    if totals.failed > 0 || totals.packages_failed > 0 {
        log.error(&format!(
            "{} and {} failed; see the errors above. Versions that were done stay done; run again to retry the rest.",
            plural(totals.failed, "version"),
            plural(totals.packages_failed, "package")
        ));
    }
}
