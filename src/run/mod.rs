//! One run: resolve the owner and packages, list and plan each, act unless told not to, report.

pub mod environment;
pub mod execute;
pub mod inspect;
pub mod resume;

use std::collections::HashSet;
use std::time::SystemTime;

pub use environment::Environment;

use crate::config::{Config, Mode, PackageSelector};
use crate::github::ratelimit::Cover;
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace, OwnerKind, VersionState};
use crate::model::outcome::{Entry, Outcome};
use crate::model::version::PackageType;
use crate::owner;
use crate::policy::plan::{self, Plan};
use crate::registry::{self, Registry};
use crate::report::log::Log;
use crate::report::outputs::Outputs;
use crate::report::{PackageReport, RunReport, summary, timestamp};
use crate::state::{PackageState, RunState};
use execute::{Images, Stop, Target};
use inspect::images_plan;

/// Run once and report. `Ok(false)` means the run finished but something failed or was
/// refused (exit code 1); `Err` means it could not get as far as planning. Running out of
/// the primary rate limit is not a failure: what is left is reported for the next run.
pub async fn run<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    log: &mut Log<W>,
) -> anyhow::Result<bool> {
    let github = GitHub::new(&config.api_url, &config.token, config.pacing.clone())?;
    let mut state = config.state_file.as_ref().map(|path| {
        let loaded = RunState::load(path, &config.api_url, &config.owner);
        if let Some(warning) = &loaded.warning {
            log.warning(warning);
        }
        loaded.state
    });
    let known_kind = owner::kind_from_event(env.event_path.as_deref(), &config.owner);
    let found = match find_packages(&github, config, known_kind, log).await {
        Ok(found) => found,
        Err(err) => {
            let Some(reason) = rate_limited(&err) else {
                return Err(err);
            };
            let report = RunReport {
                packages: Vec::new(),
                refusal: None,
                stopped: Some(reason),
                now: env.now,
            };
            finish(
                config,
                env,
                &format!("`{}`", config.owner),
                &report,
                &github,
                log,
            )?;
            return Ok(report.succeeded());
        }
    };
    let (namespace, kind, mut names) = found;
    if let Some(state) = &state {
        names = state.resume_order(config.package_type, &names);
    }
    let registry = match config.package_type {
        PackageType::Container => Some(Registry::new(&config.registry_url, &config.token)?),
        _ => None,
    };

    let mut plans = Vec::with_capacity(names.len());
    for name in &names {
        let mut saved = state
            .as_mut()
            .map(|state| state.package_mut(config.package_type, name));
        let plan = match (
            list_and_plan(
                &github,
                &namespace,
                config,
                env,
                name,
                saved.as_deref_mut(),
                log,
            )
            .await,
            &registry,
        ) {
            (Ok(listed), Some(registry)) => {
                let repository = registry::repository(&config.owner, name);
                let known = saved.map(|saved| &mut saved.manifests);
                Ok(images_plan(registry, &repository, config, env, listed, known, log).await)
            }
            (plan, _) => plan,
        };
        plans.push((name, plan));
    }
    let selected: usize = plans
        .iter()
        .filter_map(|(_, plan)| plan.as_ref().ok())
        .map(|plan| plan.selected().count())
        .sum();
    let refusal = config
        .max_versions
        .filter(|max| selected > *max)
        .map(|max| {
            format!(
                "{selected} versions would be affected, more than max-versions ({max}): nothing was changed. Narrow the filters or raise max-versions."
            )
        });
    if refusal.is_none() && !config.dry_run {
        announce_budget(&github, selected, log);
    }

    let mut stop = Stop::default();
    let mut packages = Vec::with_capacity(plans.len());
    for (name, plan) in plans {
        let plan = match plan {
            Ok(plan) => plan,
            Err(err) => {
                let unfinished = err.downcast_ref::<resume::Unfinished>();
                packages.push(match (unfinished, rate_limited(&err)) {
                    (Some(unfinished), _) => PackageReport {
                        undecided: unfinished.undecided,
                        ..PackageReport::left(name, unfinished.to_string())
                    },
                    (None, Some(reason)) => PackageReport::left(name, reason),
                    (None, None) => PackageReport::failed(name, format!("{err:#}")),
                });
                continue;
            }
        };
        let entries = if let Some(refusal) = &refusal {
            refused(&plan, refusal)
        } else {
            let images = registry.as_ref().map(|registry| Images {
                registry,
                repository: registry::repository(&config.owner, name),
            });
            let target = Target {
                namespace: &namespace,
                package_type: config.package_type,
                name,
            };
            act(
                &github,
                config,
                &target,
                &plan,
                images.as_ref(),
                &mut stop,
                log,
            )
            .await
        };
        let deleted: HashSet<u64> = entries
            .iter()
            .filter(|entry| entry.outcome == Outcome::Deleted)
            .map(|entry| entry.version.id)
            .collect();
        packages.push(PackageReport::planned(name, &plan, entries));
        if let Some(state) = state.as_mut().filter(|_| config.mode == Mode::Delete) {
            let versions = plan.versions.into_iter().map(|planned| planned.version);
            resume::remember(
                state.package_mut(config.package_type, name),
                versions,
                &deleted,
            );
        }
    }
    if let (Some(state), Some(path)) = (state.as_mut(), &config.state_file) {
        let done: Vec<String> = packages
            .iter()
            .filter(|package| {
                package.left.is_none()
                    && package.error.is_none()
                    && !package
                        .entries
                        .iter()
                        .any(|entry| matches!(entry.outcome, Outcome::Left(_)))
            })
            .map(|package| package.name.clone())
            .collect();
        state.record_finished(config.package_type, &names, &done);
        if let Err(err) = state.save(path) {
            log.warning(&format!(
                "input `state-file`: the run state was not saved, so the next run starts afresh: {err:#}"
            ));
        }
    }

    let report = RunReport {
        packages,
        refusal,
        stopped: None,
        now: env.now,
    };
    finish(
        config,
        env,
        &owner_label(&config.owner, kind, &namespace),
        &report,
        &github,
        log,
    )?;
    Ok(report.succeeded())
}

/// The owner's namespace and kind, and the package names to work on.
async fn find_packages<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    known_kind: Option<OwnerKind>,
    log: &mut Log<W>,
) -> anyhow::Result<(Namespace, OwnerKind, Vec<String>)> {
    let (namespace, kind) = owner::resolve(github, &config.owner, known_kind).await?;
    let names = package_names(github, &namespace, config, log).await?;
    Ok((namespace, kind, names))
}

/// When `err` is the primary budget running out, the reason to report, with the reset.
fn rate_limited(err: &anyhow::Error) -> Option<String> {
    let api = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<ApiError>())?;
    (api.kind == ApiErrorKind::RateLimited).then(|| match api.reset {
        Some(reset) => format!(
            "GitHub's primary rate limit is spent ({}); it resets at {}",
            api.message,
            timestamp(reset)
        ),
        None => format!("GitHub's primary rate limit is spent ({})", api.message),
    })
}

/// Say up front when the primary budget cannot cover every selected version.
fn announce_budget<W: std::io::Write>(github: &GitHub, selected: usize, log: &mut Log<W>) {
    let Some(rate) = github.rate_limit() else {
        return;
    };
    let covered = rate.covers(selected as u64, github.pacing(), SystemTime::now());
    if let Cover::Short { usable } = covered {
        log.info(&format!(
            "the primary rate limit allows {usable} of the {selected} selected versions before it resets at {}: the oldest go first, the rest are left for the next run",
            timestamp(rate.reset)
        ));
    }
}

/// Exact names as given; wildcard patterns expanded through the list-packages endpoint.
async fn package_names<W: std::io::Write>(
    github: &GitHub,
    namespace: &Namespace,
    config: &Config,
    log: &mut Log<W>,
) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut listed: Option<Vec<String>> = None;
    for selector in &config.packages {
        let matches = match selector {
            PackageSelector::Exact(name) => vec![name.clone()],
            PackageSelector::Wildcard(pattern) => {
                if listed.is_none() {
                    let all = github
                        .list_package_names(namespace, config.package_type)
                        .await
                        .map_err(|err| cannot_list(err, pattern))?;
                    listed = Some(all);
                }
                let found: Vec<String> = listed
                    .iter()
                    .flatten()
                    .filter(|name| wildcard_matches(pattern, name))
                    .cloned()
                    .collect();
                if found.is_empty() {
                    log.warning(&format!(
                        "input `packages`: no {} package of `{}` matches `{pattern}`",
                        config.package_type, config.owner
                    ));
                }
                found
            }
        };
        for name in matches {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

fn cannot_list(err: ApiError, pattern: &str) -> anyhow::Error {
    let advice = match err.kind {
        ApiErrorKind::Forbidden | ApiErrorKind::NotFound | ApiErrorKind::Unauthorized => {
            "this token cannot list the owner's packages (a GITHUB_TOKEN never can): name the packages exactly, or use a classic PAT with read:packages"
        }
        _ => "listing the owner's packages failed",
    };
    anyhow::Error::new(err).context(format!(
        "input `packages`: `{pattern}` is a wildcard, and {advice}"
    ))
}

/// Whether `name` matches a `*`/`?` pattern as a whole, ignoring ASCII case.
/// Greedy matching with backtracking to the last `*`, linear in practice.
fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let name: Vec<char> = name.to_ascii_lowercase().chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            last_star = Some((p, n));
            p += 1;
        } else if let Some((star, matched)) = last_star {
            p = star + 1;
            n = matched + 1;
            last_star = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&ch| ch == '*')
}

async fn list_and_plan<W: std::io::Write>(
    github: &GitHub,
    namespace: &Namespace,
    config: &Config,
    env: &Environment,
    name: &str,
    saved: Option<&mut PackageState>,
    log: &mut Log<W>,
) -> anyhow::Result<Plan> {
    log.group(&format!("{} package {name}: listing", config.package_type));
    let state = match config.mode {
        Mode::Delete => VersionState::Active,
        Mode::Restore => VersionState::Deleted,
    };
    let listed = match saved.filter(|_| config.mode == Mode::Delete) {
        Some(saved) => list_across_runs(github, namespace, config, name, saved, log).await,
        None => github
            .list_versions(namespace, config.package_type, name, state)
            .await
            .map_err(|err| listing_failed(err, config, namespace, name)),
    };
    let result = listed.map(|versions| {
        let count = versions.len();
        let plan = plan::plan(
            versions,
            &config.policy,
            config.package_type,
            config.mode,
            env.now,
        );
        log.info(&format!(
            "{count} {} versions listed, {} selected by the policy",
            state.as_str(),
            plan.selected().count()
        ));
        plan
    });
    if let Err(err) = &result {
        match rate_limited(err) {
            _ if err.is::<resume::Unfinished>() => {}
            Some(reason) => log.warning(&format!("package `{name}` not listed: {reason}")),
            None => log.error(&format!("{err:#}")),
        }
    }
    log.end_group();
    result
}

/// The listing of a package with a state file: carried on from the last run. An unfinished
/// listing is an [`resume::Unfinished`] error, reported as work left for the next run.
async fn list_across_runs<W: std::io::Write>(
    github: &GitHub,
    namespace: &Namespace,
    config: &Config,
    name: &str,
    saved: &mut PackageState,
    log: &mut Log<W>,
) -> anyhow::Result<Vec<crate::model::version::Version>> {
    let listing = resume::list(github, namespace, config.package_type, name, saved)
        .await
        .map_err(|err| listing_failed(err, config, namespace, name))?;
    if let Some(why) = &listing.relisted {
        log.warning(&format!(
            "package `{name}`: {why}: a version was restored or deleted outside this action, so the listing starts again from page 1 before anything is deleted"
        ));
    }
    if listing.complete {
        return Ok(listing.versions);
    }
    saved.versions = listing.versions;
    let unfinished = resume::Unfinished {
        pages_listed: listing.pages_listed,
        pages_total: listing.pages_total,
        undecided: usize::try_from(listing.total).unwrap_or(usize::MAX).max(1),
    };
    log.warning(&format!(
        "package `{name}`: left for the next run: {unfinished} ({} versions seen, none decided yet; the listing carries on next run)",
        listing.total
    ));
    Err(anyhow::Error::new(unfinished))
}

fn listing_failed(
    err: ApiError,
    config: &Config,
    namespace: &Namespace,
    name: &str,
) -> anyhow::Error {
    let advice = match err.kind {
        ApiErrorKind::NotFound => format!(
            "package `{name}` ({}) was not found under {}, or the token cannot see it. Check `owner`, `package-type` and the name. A GITHUB_TOKEN needs `permissions: packages: write` and the repository needs access to the package (package settings → Manage Actions access); a classic PAT needs read:packages (delete:packages to delete, write:packages to restore).",
            config.package_type,
            namespace.prefix()
        ),
        ApiErrorKind::Forbidden => format!(
            "the token may not read package `{name}`: give the workflow `permissions: packages: write` and the repository access to the package, or use a classic PAT with read:packages"
        ),
        ApiErrorKind::Unauthorized => {
            "input `token` was rejected by GitHub: check that the secret is set and not expired"
                .to_string()
        }
        _ => format!("listing the versions of package `{name}` failed"),
    };
    anyhow::Error::new(err).context(advice)
}

async fn act<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    target: &Target<'_>,
    plan: &Plan,
    images: Option<&Images<'_>>,
    stop: &mut Stop,
    log: &mut Log<W>,
) -> Vec<Entry> {
    let count = plan.selected().count();
    if count == 0 {
        return Vec::new();
    }
    let verb = match (config.mode, config.dry_run) {
        (_, true) => format!("dry run, would {}", config.mode.as_str()),
        (Mode::Delete, false) => "deleting".to_string(),
        (Mode::Restore, false) => "restoring".to_string(),
    };
    log.group(&format!(
        "{} package {}: {verb} {count} versions",
        config.package_type, target.name
    ));
    let entries = if config.dry_run {
        execute::dry_run(plan, config.mode, images.is_some(), target.name, log)
    } else {
        execute::execute(github, target, plan, config.mode, images, stop, log).await
    };
    log.end_group();
    entries
}

/// Under a max-versions refusal every selected version is reported, and none is touched.
fn refused(plan: &Plan, refusal: &str) -> Vec<Entry> {
    plan.selected()
        .map(|planned| Entry {
            version: planned.version.clone(),
            outcome: Outcome::Skipped(refusal.to_string()),
            relation: planned.relation.clone(),
            reason: planned.reason.to_string(),
        })
        .collect()
}

fn owner_label(owner: &str, kind: OwnerKind, namespace: &Namespace) -> String {
    let kind = match kind {
        OwnerKind::Organization => "organization",
        OwnerKind::User => "user",
    };
    format!("`{owner}` ({kind}, through `{}`)", namespace.prefix())
}

/// Write outputs and summary (to the log when run outside Actions) and the final total.
fn finish<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    owner: &str,
    report: &RunReport,
    github: &GitHub,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let outputs = Outputs::from_report(report);
    for name in &outputs.truncated {
        log.warning(&format!(
            "output `{name}` was cut short to stay under GitHub's 1 MB limit per output"
        ));
    }
    let markdown = summary::render(config, owner, report);
    match &env.output_path {
        Some(path) => outputs.append_to(path)?,
        None => {
            log.group("outputs (GITHUB_OUTPUT is not set)");
            log.info(outputs.render().trim_end());
            log.end_group();
        }
    }
    match &env.summary_path {
        Some(path) => summary::append_to(path, &markdown)?,
        None => {
            log.group("summary (GITHUB_STEP_SUMMARY is not set)");
            log.info(markdown.trim_end());
            log.end_group();
        }
    }
    if let Some(refusal) = &report.refusal {
        log.error(&format!("input `max-versions`: {refusal}"));
    }
    let totals = report.totals();
    let done = config.mode.past_tense();
    let mode = if config.dry_run {
        format!("would be {done} (dry run)")
    } else {
        done.to_string()
    };
    log.info(&format!(
        "package-janitor: {} {mode}, {} skipped, {} failed, {} left for the next run, in {} packages ({} versions listed)",
        totals.acted_on,
        totals.skipped,
        totals.failed,
        totals.left,
        report.packages.len(),
        totals.listed
    ));
    let stats = github.stats();
    log.info(&format!(
        "API: {} GET and {} DELETE/POST requests, {} retried, {} secondary-limit answers, {} waits for the primary reset",
        stats.gets, stats.mutations, stats.retries, stats.secondary_answers, stats.primary_waits
    ));
    if let Some(stopped) = &report.stopped {
        log.warning(&format!(
            "stopped before listing: {stopped}. Nothing was changed; the next run carries on."
        ));
    } else if report.cut_short() {
        let reset = github
            .rate_limit()
            .map(|rate| format!(" It resets at {}.", timestamp(rate.reset)))
            .unwrap_or_default();
        log.warning(&format!(
            "this run stopped early on GitHub's rate limits: {} selected versions and {} packages are left for the next run (the oldest were done first).{reset}",
            totals.left, totals.packages_left
        ));
    }
    if totals.failed > 0 || totals.packages_failed > 0 {
        log.error(&format!(
            "{} versions and {} packages failed; see the errors above. Versions that were done stay done; run again to retry the rest.",
            totals.failed, totals.packages_failed
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names_case_insensitively() {
        let cases = [
            ("app-*", "app-web", true),
            ("app-*", "app-", true),
            ("app-*", "my-app-web", false),
            ("app-?", "app-1", true),
            ("app-?", "app-12", false),
            ("*", "anything/with/slashes", true),
            ("team/*", "team/app", true),
            ("a.b*", "axb", false),
            ("APP*", "app", true),
            ("*-web-*", "a-web-b-web-c", true),
            ("a*b*c", "abxbyc", true),
            ("a*b*c", "abxbyd", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                wildcard_matches(pattern, name),
                expected,
                "{pattern} vs {name}"
            );
        }
    }
}
