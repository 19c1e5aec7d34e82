//! One run: resolve the owner and packages, list and plan each, act unless told not to, report.

mod across;
pub mod audit;
pub mod cancel;
pub mod environment;
pub mod execute;
pub mod inspect;
pub mod listing;
pub mod recheck;
pub mod requested;
pub mod resume;
pub mod scopes;
pub mod sweep;
pub mod untag;
pub mod verify;
pub mod whole_package;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

pub use environment::Environment;

use crate::config::{Config, PackageSelector};
use crate::github::ratelimit::Cover;
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace, OwnerKind};
use crate::model::image::describe;
use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::untag::TagEntry;
use crate::model::version::{PackageType, VersionState};
use crate::owner;
use crate::policy::plan::{self, Plan};
use crate::registry::{self, Patience, Registry};
use crate::report::log::Log;
use crate::report::outputs::Outputs;
use crate::report::{PackageReport, RunReport, plural, publish, summary, timestamp};
use crate::state::{PackageState, RunState};
use execute::{Images, Stop, Target};
use inspect::images_plan;

/// Run once and report. `Ok(false)` means the run finished but something failed, was
/// refused or was cut short (exit code 1); `Err` means it ended before anything was changed.
/// Once changes may have been sent, every ending writes the outputs and the summary: a
/// cancel, an error, a fatal answer. Running out of the primary rate limit is not a
/// failure: what is left is reported for the next run.
pub async fn run<W: std::io::Write + Send + 'static>(
    config: &Config,
    env: &Environment,
    log: &mut Log<W>,
) -> anyhow::Result<bool> {
    let mut github = GitHub::new(&config.api_url, &config.token, config.pacing.clone())?;
    // A long wait is logged as it starts, while the run is busy awaiting the request.
    let side = log.side();
    github.announce_waits(Arc::new(move |notice| {
        side.info(&execute::wait_line(notice))
    }));
    if config.mode == Mode::Audit {
        return audit::run(&github, config, env, log).await;
    }
    let mut state = config.state_file.as_ref().map(|path| {
        let loaded = RunState::load(path, &config.api_url, &config.owner);
        if let Some(warning) = &loaded.warning {
            log.warning(warning);
        }
        loaded.state
    });
    let prepared = prepare(&github, config, env, state.as_mut(), log).await?;
    let Ready {
        namespace,
        kind,
        registry,
        plans,
    } = match prepared {
        Prepared::Ready(ready) => *ready,
        Prepared::Stopped(reason) => {
            let report = RunReport {
                packages: Vec::new(),
                refusal: None,
                stopped: Some(reason),
                interrupted: None,
                now: env.now,
            };
            let owner = log.sanitizer().code(&config.owner);
            finish(config, env, &owner, &report, &github, log)?;
            return Ok(report.succeeded());
        }
    };
    let selected: usize = plans
        .iter()
        .filter_map(|planned| planned.plan.as_ref().ok())
        .map(|plan| plan.selected().count())
        .sum();
    // untag (issue 22): the tags each package loses (or gets back); an image that loses
    // tags counts as affected for max-versions.
    let names: Vec<&str> = plans.iter().map(|planned| planned.name.as_str()).collect();
    let tag_work = untag::work(
        config,
        plans
            .iter()
            .map(|planned| (planned.name.as_str(), planned.plan.as_ref().ok())),
    );
    let selected = selected + untag::images_affected(&tag_work);
    let refusal = config
        .max_versions
        .filter(|max| selected > *max)
        .map(|max| {
            format!(
                "{} would be affected, more than max-versions ({max}): nothing was changed. Narrow the filters or raise max-versions.",
                plural(selected, "version")
            )
        });
    if refusal.is_none() && selected > 0 {
        check_scopes(&github, config, log)?;
    }
    // untag (issue 22): a token that cannot push stops a real run here, before any change.
    let push_refusal = match refusal {
        None => untag::check(&tag_work, &names, registry.as_ref(), &github, config, log).await?,
        Some(_) => None,
    };
    if refusal.is_none() && !config.dry_run {
        announce_budget(&github, selected, log);
    }
    let deletable = whole_package::deletable(
        config,
        plans.iter().map(|planned| whole_package::Candidate {
            name: &planned.name,
            full: planned
                .plan
                .as_ref()
                .is_ok_and(whole_package::fully_selected),
            from_state: planned.from_state,
        }),
        wildcard_matches,
        log,
    );

    let mut stop = Stop {
        reason: None,
        cancel: env.cancel.clone(),
        fatal: None,
    };
    let mut entries: Vec<Vec<Entry>> = plans.iter().map(|_| Vec::new()).collect();
    let mut deleted_whole: Vec<Option<PackageEntry>> = plans.iter().map(|_| None).collect();
    let acting = Acting {
        github: &github,
        config,
        namespace: &namespace,
        registry: registry.as_ref(),
        refusal: refusal.as_deref(),
        deletable: &deletable,
    };
    let mut sinks = Sinks {
        entries: &mut entries,
        deleted_whole: &mut deleted_whole,
    };
    let acted = act_all(&acting, env, &plans, &mut stop, &mut sinks, log).await;
    // untag (issue 22): then the tags, unless acting was cut short.
    let tag_acting = registry.as_ref().map(|registry| untag::Acting {
        github: &github,
        registry,
        config,
        env,
        refusal: refusal.as_deref(),
        push_refusal: push_refusal.as_deref(),
    });
    let (tags, acted) = untag::act_all(
        tag_acting.as_ref(),
        &tag_work,
        &names,
        &namespace,
        &mut stop,
        acted,
        log,
    )
    .await;
    let interrupted = match acted {
        Err(err) => Some(format!("{err:#}")),
        Ok(()) if env.cancel.is_requested() => Some(CANCELLED_RUN.to_string()),
        Ok(()) => None,
    };
    let verified = verify_kept(
        config,
        registry.as_ref(),
        &plans,
        (&entries, &tags),
        &deleted_whole,
        log,
    )
    .await;
    let not_found = not_found_entries(config, &plans, log);
    let mut packages = plans
        .into_iter()
        .zip(entries)
        .zip(deleted_whole)
        .zip(tags)
        .map(|(((planned, mut entries), deleted), tags)| {
            let PackagePlan {
                name,
                plan,
                revived,
                ..
            } = planned;
            let (revived, came_back) = match revived {
                Some(revived) => (Some(revived.entry), revived.versions),
                None => (None, Vec::new()),
            };
            let whole = deleted.or(revived);
            match plan {
                Ok(plan) => {
                    if interrupted.is_some() {
                        leave_the_rest(&plan, &mut entries, env.cancel.is_requested());
                    }
                    let entries: Vec<Entry> = came_back
                        .into_iter()
                        .chain(entries)
                        .chain(unconfirmed_entries(&plan))
                        .collect();
                    let report = PackageReport::planned(&name, &plan, entries)
                        .with_whole(whole)
                        .with_tags(tags);
                    if let Some(state) = state.as_mut().filter(|_| config.mode == Mode::Delete) {
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
                Err(err) => {
                    let unfinished = err.downcast_ref::<resume::Unfinished>();
                    let relisting = err.downcast_ref::<across::Relisting>();
                    match (unfinished, relisting, rate_limited(&err)) {
                        (Some(unfinished), _, _) => PackageReport {
                            undecided: unfinished.undecided,
                            ..PackageReport::left(&name, unfinished.to_string())
                        },
                        (None, Some(relisting), _) => {
                            PackageReport::left(&name, relisting.to_string())
                        }
                        (None, None, Some(reason)) => PackageReport::left(&name, reason),
                        (None, None, None) => PackageReport::failed(&name, format!("{err:#}")),
                    }
                    .with_whole(whole)
                    .with_tags(tags)
                }
            }
        })
        .collect::<Vec<PackageReport>>();
    if let Some(first) = packages.first_mut() {
        first.entries.extend(not_found);
    }
    if let (Some(state), Some(path)) = (state.as_mut(), &config.state_file) {
        save_state(state, path, env, config.package_type, &packages, log);
    }

    let report = RunReport {
        packages,
        refusal,
        stopped: None,
        interrupted,
        now: env.now,
    };
    let owner = owner_label(&config.owner, kind, &namespace, log);
    finish(config, env, &owner, &report, &github, log)?;
    let whole = match &verified {
        Some(verified) => verify::report(env, verified, log)?,
        None => true,
    };
    Ok(report.succeeded() && whole)
}

/// With `verify: true` in delete mode, re-read the kept tags of every container package that
/// was not deleted whole.
async fn verify_kept<W: std::io::Write>(
    config: &Config,
    registry: Option<&Registry>,
    plans: &[PackagePlan],
    (entries, tags): (&[Vec<Entry>], &[Vec<TagEntry>]),
    deleted_whole: &[Option<PackageEntry>],
    log: &mut Log<W>,
) -> Option<verify::Verified> {
    if !config.verify || config.mode != Mode::Delete {
        return None;
    }
    let Some(registry) = registry else {
        log.warning("input `verify` applies to container packages only: nothing was verified");
        return None;
    };
    let kept = plans
        .iter()
        .zip(entries.iter().zip(tags))
        .zip(deleted_whole)
        .filter(|(_, whole)| whole.is_none())
        .filter_map(|((PackagePlan { name, plan, .. }, (entries, tags)), _)| {
            Some(verify::Kept {
                name,
                repository: registry::repository(&config.owner, name),
                plan: plan.as_ref().ok()?,
                entries,
                untagged: tags,
            })
        })
        .collect();
    Some(verify::verify(registry, kept, log).await)
}

/// Why a cancelled run failed, for the log and the summary.
const CANCELLED_RUN: &str = "cancelled (SIGTERM or SIGINT: the job was cancelled or timed out); nothing was sent after the signal";

/// What planning ends with: everything acting needs, or a stop before any package was found.
enum Prepared {
    Ready(Box<Ready>),
    /// The primary budget ran out before the packages were found: the reason.
    Stopped(String),
}

struct Ready {
    namespace: Namespace,
    kind: OwnerKind,
    registry: Option<Registry>,
    plans: Vec<PackagePlan>,
}

/// One package as planned.
struct PackagePlan {
    name: String,
    /// Its plan, or why it could not be listed.
    plan: anyhow::Result<Plan>,
    /// In restore mode, the package itself when it had been deleted and was restored first.
    revived: Option<whole_package::Revived>,
    /// Whether its listing used versions saved in the state file: it is then never deleted
    /// whole (see [`whole_package::deletable`]).
    from_state: bool,
}

impl PackagePlan {
    /// A package whose listing, if any, was read in this run alone.
    fn listed_now(
        name: &str,
        plan: anyhow::Result<Plan>,
        revived: Option<whole_package::Revived>,
    ) -> PackagePlan {
        PackagePlan {
            name: name.to_string(),
            plan,
            revived,
            from_state: false,
        }
    }
}

/// Why a run cancelled while planning failed, when nothing had been changed yet.
const CANCELLED_PLANNING: &str = "cancelled (SIGTERM or SIGINT) before anything was changed";

/// Find the owner and packages, then list and plan every package. Changes nothing, except
/// that restore mode restores a deleted package (named exactly) before listing it again.
///
/// A cancel ends the reads at once. Once a package restore has been sent, it gets the grace
/// to finish, and planning ends with the packages planned so far, so that the run still
/// writes its record (with every version left for the next run); before that, a cancel
/// is an error and nothing is written.
async fn prepare<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    env: &Environment,
    mut state: Option<&mut RunState>,
    log: &mut Log<W>,
) -> anyhow::Result<Prepared> {
    let known_kind = owner::kind_from_event(env.event_path.as_deref(), &config.owner);
    let found = tokio::select! {
        found = find_packages(github, config, known_kind, log) => found,
        () = env.cancel.requested() => anyhow::bail!(CANCELLED_PLANNING),
    };
    let (namespace, kind, mut names) = match found {
        Ok(found) => found,
        Err(err) => {
            return match rate_limited(&err) {
                Some(reason) => Ok(Prepared::Stopped(reason)),
                None => Err(err),
            };
        }
    };
    let registry = registry_for(config)?;
    if let Some(state) = &state {
        names = state.resume_order(config.package_type, &names);
    }
    let mut plans = Vec::with_capacity(names.len());
    log.progress("listing packages", names.len());
    let mut names = names.into_iter();
    while let Some(name) = names.next() {
        let scope = Scope {
            github,
            namespace: &namespace,
            registry: registry.as_ref(),
            config,
            env,
        };
        let saved = state
            .as_deref_mut()
            .map(|state| state.package_mut(config.package_type, &name));
        match plan_package(&scope, &name, saved, log).await {
            Some(planned) => plans.push(planned),
            None => {
                // Not listed: say so, rather than let the record look complete.
                let not_listed = std::iter::once(name).chain(names.by_ref());
                plans.extend(not_listed.map(|name| {
                    let err = anyhow::anyhow!("not listed: cancelled (SIGTERM or SIGINT)");
                    PackagePlan::listed_now(&name, Err(err), None)
                }));
            }
        }
        log.advance();
    }
    log.progress_done();
    if env.cancel.is_requested() && plans.iter().all(|planned| planned.revived.is_none()) {
        anyhow::bail!(CANCELLED_PLANNING);
    }
    Ok(Prepared::Ready(Box::new(Ready {
        namespace,
        kind,
        registry,
        plans,
    })))
}

/// What every package's acting shares.
struct Acting<'a> {
    github: &'a GitHub,
    config: &'a Config,
    namespace: &'a Namespace,
    registry: Option<&'a Registry>,
    refusal: Option<&'a str>,
    /// The packages `delete-empty-packages` may delete with one request.
    deletable: &'a HashSet<String>,
}

/// Where acting records what it did, one slot per plan: each version's outcome, and the
/// package itself when it was deleted whole.
struct Sinks<'a> {
    entries: &'a mut [Vec<Entry>],
    deleted_whole: &'a mut [Option<PackageEntry>],
}

/// Act on every planned package in turn, recording each version's outcome in `entries` (one
/// list per plan) as it is settled. A package `delete-empty-packages` may delete whole is
/// first offered to [`whole_package::delete`], which leaves what it did not settle to the
/// executor. After a cancel nothing more is sent; if the request in flight (a version's, or
/// the package DELETE) does not finish within the grace, it is abandoned and this fails, so
/// the record is still written in time.
async fn act_all<W: std::io::Write>(
    acting: &Acting<'_>,
    env: &Environment,
    plans: &[PackagePlan],
    stop: &mut Stop,
    sinks: &mut Sinks<'_>,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let config = acting.config;
    let slots = sinks.entries.iter_mut().zip(sinks.deleted_whole.iter_mut());
    for (PackagePlan { name, plan, .. }, (entries, deleted_whole)) in plans.iter().zip(slots) {
        let Ok(plan) = plan else {
            continue;
        };
        if let Some(refusal) = acting.refusal {
            *entries = refused(plan, refusal);
            continue;
        }
        let images = acting.registry.map(|registry| Images {
            registry,
            repository: registry::repository(&config.owner, name),
        });
        let target = Target {
            namespace: acting.namespace,
            package_type: config.package_type,
            name,
        };
        let narrowed;
        let mut plan = plan;
        if acting.deletable.contains(name) {
            let deleted =
                whole_package::delete(acting.github, &target, plan, config.dry_run, stop, log)
                    .await;
            if let Some(deleted) = deleted {
                *deleted_whole = Some(deleted.entry);
                *entries = deleted.entries;
                if let Some(fatal) = stop.fatal.take() {
                    anyhow::bail!(fatal);
                }
                match deleted.rest {
                    whole_package::Rest::Settled => continue,
                    whole_package::Rest::All => {}
                    whole_package::Rest::Narrowed(rest) => {
                        narrowed = rest;
                        plan = &narrowed;
                    }
                }
            }
        }
        let finished = tokio::select! {
            () = act(acting, &target, plan, images.as_ref(), stop, entries, log) => true,
            () = env.cancel.grace_over() => false,
        };
        if let Some(fatal) = stop.fatal.take() {
            anyhow::bail!(fatal);
        }
        if !finished {
            log.end_group();
            anyhow::bail!(
                "cancelled (SIGTERM or SIGINT), and the request in flight did not finish within {} s: the version it was for may have been {} all the same",
                cancel::GRACE.as_secs(),
                config.mode.past_tense()
            );
        }
    }
    Ok(())
}

/// After an interruption, every selected version of `plan` without an outcome is left for the
/// next run.
fn leave_the_rest(plan: &Plan, entries: &mut Vec<Entry>, cancelled: bool) {
    let reason = if cancelled {
        cancel::CANCELLED
    } else {
        "not tried: the run stopped on an error"
    };
    let done: HashSet<u64> = entries.iter().map(|entry| entry.version.id).collect();
    for planned in plan.selected() {
        if !done.contains(&planned.version.id) {
            entries.push(Entry {
                version: planned.version.clone(),
                outcome: Outcome::Left(reason.to_string()),
                relation: planned.relation.clone(),
                reason: planned.reason.to_string(),
                rule: plan.rule_label(planned).map(str::to_owned),
            });
        }
    }
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
    if api.kind == ApiErrorKind::AskedToWait {
        return Some(execute::asked_to_wait(api));
    }
    (api.kind == ApiErrorKind::RateLimited).then(|| match api.reset {
        Some(reset) => format!(
            "GitHub's primary rate limit is spent ({}); it resets at {}",
            api.message,
            timestamp(reset)
        ),
        None => format!("GitHub's primary rate limit is spent ({})", api.message),
    })
}

/// The scope a classic PAT lacks for the mode, if the answers so far name its scopes.
fn lacking_scope(github: &GitHub, config: &Config) -> Option<&'static str> {
    let held = github.scopes()?;
    scopes::lacking(&held, config.mode, config.package_type)?.needed
}

/// With a classic PAT, stop a real run before its first change when the token lacks the
/// scope the mode needs (a dry run warns); warn when a repository-scoped registry's token
/// lacks `repo`.
fn check_scopes<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let Some(held) = github.scopes() else {
        return Ok(());
    };
    let Some(lacking) = scopes::lacking(&held, config.mode, config.package_type) else {
        return Ok(());
    };
    if lacking.repo {
        log.warning(&format!(
            "input `token`: this classic PAT lacks the `repo` scope, which {} packages need to be {}: GitHub may refuse each one",
            config.package_type,
            config.mode.past_tense()
        ));
    }
    let Some(needed) = lacking.needed else {
        return Ok(());
    };
    let problem = format!(
        "input `token`: this classic PAT lacks the `{needed}` scope, which `mode: {}` needs (its scopes: {}). Add `{needed}` to the token",
        config.mode.as_str(),
        if held.is_empty() {
            "none".to_owned()
        } else {
            held.join(", ")
        }
    );
    if config.dry_run {
        log.warning(&format!(
            "{problem}: the real run would stop before its first change."
        ));
        Ok(())
    } else {
        anyhow::bail!("{problem}; nothing was changed.")
    }
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

/// What planning one package reads from.
struct Scope<'a> {
    github: &'a GitHub,
    namespace: &'a Namespace,
    registry: Option<&'a Registry>,
    config: &'a Config,
    env: &'a Environment,
}

/// List and plan one package. In restore mode, a package named exactly whose listing
/// answers 404 `Package not found.` may have been deleted as a whole: it is restored, then
/// listed again. `None` when a cancel came before anything of this package was changed.
async fn plan_package<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    saved: Option<&mut PackageState>,
    log: &mut Log<W>,
) -> Option<PackagePlan> {
    let Scope {
        github,
        namespace,
        config,
        env,
        ..
    } = *scope;
    let state = match config.mode {
        Mode::Delete | Mode::Audit => VersionState::Active,
        Mode::Restore => VersionState::Deleted,
    };
    if let Some(saved) = saved.filter(|_| config.mode == Mode::Delete) {
        let planned = tokio::select! {
            planned = across::plan_package(scope, name, saved, log) => planned,
            () = env.cancel.requested() => return None,
        };
        return Some(PackagePlan {
            name: name.to_string(),
            plan: planned.0,
            revived: None,
            from_state: planned.1,
        });
    }
    let list = || github.list_versions(namespace, config.package_type, name, state);
    let mut listed = tokio::select! {
        listed = list() => listed,
        () = env.cancel.requested() => return None,
    };
    let mut revived = None;
    if let Err(err) = &listed
        && whole_package::may_revive(config, name, err)
    {
        if env.cancel.is_requested() {
            return None;
        }
        if let Some(needed) = lacking_scope(github, config) {
            // The scopes check stops a real run before its first change; this is one.
            log.info(&format!(
                "package `{name}` may have been deleted as a whole, but this classic PAT lacks `{needed}`, so it is not restored"
            ));
            let listed = listed.map_err(|err| listing_failed(err, config, namespace, name));
            return Some(PackagePlan::listed_now(
                name,
                plan_listed(listed, scope, name, log),
                None,
            ));
        }
        // The restore request is sent: let it finish within the grace, like any mutation.
        let answered = tokio::select! {
            revived = whole_package::revive(github, namespace, config, name, log) => Some(revived),
            () = env.cancel.grace_over() => None,
        };
        let Some(answered) = answered else {
            let cut_off = whole_package::abandoned(name, log);
            let cancelled = Err(anyhow::anyhow!(CANCELLED_RUN));
            return Some(PackagePlan::listed_now(name, cancelled, Some(cut_off)));
        };
        revived = answered;
        if revived
            .as_ref()
            .is_some_and(whole_package::Revived::restored)
        {
            listed = tokio::select! {
                listed = list() => listed,
                () = env.cancel.requested() => {
                    let cancelled = Err(anyhow::anyhow!(CANCELLED_RUN));
                    return Some(PackagePlan::listed_now(name, cancelled, revived));
                }
            };
        }
    }
    let listed = listed.map_err(|err| listing_failed(err, config, namespace, name));
    let plan = plan_listed(listed, scope, name, log);
    let (plan, revived) = images_planned(scope, name, plan, revived, log).await?;
    Some(PackagePlan::listed_now(name, plan, revived))
}

/// For container packages, make the plan safe for its images (see [`images_plan`]); a
/// cancel ends the reads at once. `None` when a cancel came before anything of this
/// package was changed (it was not `revived`).
async fn images_planned<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    plan: anyhow::Result<Plan>,
    revived: Option<whole_package::Revived>,
    log: &mut Log<W>,
) -> Option<(anyhow::Result<Plan>, Option<whole_package::Revived>)> {
    let (config, env) = (scope.config, scope.env);
    let plan = match (plan, scope.registry) {
        (Ok(listed), Some(registry)) => {
            let repository = registry::repository(&config.owner, name);
            tokio::select! {
                plan = images_plan(registry, &repository, config, env, listed, None, log) => {
                    plan.map(plan::carry_rules)
                }
                () = env.cancel.requested() => {
                    // Nothing of this package was changed unless it was restored whole.
                    revived.as_ref()?;
                    Err(anyhow::anyhow!(CANCELLED_RUN))
                }
            }
        }
        (plan, _) => plan,
    };
    Some((plan, revived))
}

/// Plan what the listing gave, or say why there is nothing to plan.
fn plan_listed<W: std::io::Write>(
    listed: anyhow::Result<Vec<crate::model::version::Version>>,
    scope: &Scope<'_>,
    name: &str,
    log: &mut Log<W>,
) -> anyhow::Result<Plan> {
    let (config, env) = (scope.config, scope.env);
    log.group(&format!("{} package {name}: listing", config.package_type));
    let state = match config.mode {
        Mode::Delete | Mode::Audit => VersionState::Active,
        Mode::Restore => VersionState::Deleted,
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
            "{} listed, {} selected by the policy",
            plural(count, &format!("{} version", state.as_str())),
            plan.selected().count()
        ));
        warn_unknown_tags(&plan, config, name, log);
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

/// A warning for every version listed without its tag metadata: kept, since its tags are
/// unknown.
fn warn_unknown_tags<W: std::io::Write>(
    plan: &Plan,
    config: &Config,
    name: &str,
    log: &mut Log<W>,
) {
    for planned in &plan.versions {
        if planned.reason == plan::Reason::TagsUnknown {
            log.warning(&format!(
                "package `{name}`: version {} ({}) was listed without its {} tag metadata, so its tags are unknown: it is kept (only version-ids can select it)",
                planned.version.id,
                describe(&planned.version),
                config.package_type
            ));
        }
    }
}

/// The versions the plan would act on but this run's reads do not confirm: left for the
/// next run, each with why.
fn unconfirmed_entries(plan: &Plan) -> Vec<Entry> {
    plan.versions
        .iter()
        .filter(|planned| matches!(planned.reason, plan::Reason::Unconfirmed(_)))
        .map(|planned| Entry {
            version: planned.version.clone(),
            outcome: Outcome::Left(UNCONFIRMED.to_string()),
            relation: None,
            reason: planned.reason.to_string(),
            rule: plan.rule_label(planned).map(str::to_owned),
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
        .filter(|entry| {
            matches!(
                entry.outcome,
                Outcome::Deleted | Outcome::DeletedWithPackage
            )
        })
        .map(|entry| entry.version.id)
        .collect()
}

/// Record which packages this run finished, and write the state for the next run, inside
/// the workspace only. A state that cannot be written only costs the next run this run's
/// progress.
fn save_state<W: std::io::Write>(
    state: &mut RunState,
    path: &std::path::Path,
    env: &Environment,
    package_type: PackageType,
    packages: &[PackageReport],
    log: &mut Log<W>,
) {
    let names: Vec<String> = packages
        .iter()
        .map(|package| package.name.clone())
        .collect();
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
    state.record_finished(package_type, &names, &done);
    if let Err(err) = state.save(path, &env.workspace) {
        log.warning(&format!(
            "input `state-file`: this run's state was not saved, so the next run cannot carry on from it: {err:#}"
        ));
    }
}

fn listing_failed(
    err: ApiError,
    config: &Config,
    namespace: &Namespace,
    name: &str,
) -> anyhow::Error {
    let advice = match err.kind {
        ApiErrorKind::NotFound => format!(
            "package `{name}` ({}) was not found under {}, or the token cannot see it. Check `owner`, `package-type` and the name. A GITHUB_TOKEN needs `permissions: packages: write` and the repository needs access to the package (package settings → Manage Actions access); a classic PAT needs read:packages (delete:packages to delete, write:packages to restore).{}",
            config.package_type,
            namespace.prefix(),
            restore_hint(config)
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

/// In restore mode a package whose listing answers 404 is restored if it was deleted, so a
/// listing that still answers 404 may be one of several deleted packages of that name.
fn restore_hint(config: &Config) -> &'static str {
    match (config.mode, config.dry_run) {
        (Mode::Delete | Mode::Audit, _) => "",
        (Mode::Restore, true) => {
            " If the package itself was deleted, a run without `dry-run` restores it first."
        }
        (Mode::Restore, false) => {
            " A package named exactly is restored first if it was deleted, and GitHub found no deleted package of that name to restore either; if several deleted packages share the name, set `package-restore-token` to pick one."
        }
    }
}

async fn act<W: std::io::Write>(
    acting: &Acting<'_>,
    target: &Target<'_>,
    plan: &Plan,
    images: Option<&Images<'_>>,
    stop: &mut Stop,
    entries: &mut Vec<Entry>,
    log: &mut Log<W>,
) {
    let (github, config) = (acting.github, acting.config);
    let count = plan.selected().count();
    if count == 0 {
        return;
    }
    let verb = match (config.mode, config.dry_run) {
        (_, true) => format!("dry run, would {}", config.mode.as_str()),
        (Mode::Delete | Mode::Audit, false) => "deleting".to_string(),
        (Mode::Restore, false) => "restoring".to_string(),
    };
    log.group(&format!(
        "{} package {}: {verb} {}",
        config.package_type,
        target.name,
        plural(count, "version")
    ));
    if config.dry_run {
        *entries = execute::dry_run(plan, config.mode, images.is_some(), target.name, log);
    } else {
        log.progress(&verb, count);
        execute::execute(
            github,
            target,
            plan,
            config.mode,
            images,
            stop,
            entries,
            log,
        )
        .await;
        log.progress_done();
    }
    log.end_group();
}

/// Ids of `version-ids` that no listing returned, as `not found` entries for the first
/// package, each with a warning. Only when every package was listed: otherwise the id may
/// be in the one that was not. Versions that came back with a restored package were found.
fn not_found_entries<W: std::io::Write>(
    config: &Config,
    plans: &[PackagePlan],
    log: &mut Log<W>,
) -> Vec<Entry> {
    let Some(asked) = &config.policy.version_ids else {
        return Vec::new();
    };
    let listed: Option<Vec<(&str, &Plan)>> = plans
        .iter()
        .map(|planned| Some((planned.name.as_str(), planned.plan.as_ref().ok()?)))
        .collect();
    let Some(listed) = listed else {
        return Vec::new();
    };
    let came_back: BTreeSet<u64> = plans
        .iter()
        .filter_map(|planned| planned.revived.as_ref())
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

/// Under a max-versions refusal every selected version is reported, and none is touched.
fn refused(plan: &Plan, refusal: &str) -> Vec<Entry> {
    plan.selected()
        .map(|planned| Entry {
            version: planned.version.clone(),
            outcome: Outcome::Skipped(refusal.to_string()),
            relation: planned.relation.clone(),
            reason: planned.reason.to_string(),
            rule: plan.rule_label(planned).map(str::to_owned),
        })
        .collect()
}

/// The owner as the summary shows it, in Markdown.
fn owner_label<W: std::io::Write>(
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

/// Write outputs and summary (to the log when run outside Actions) and the final total.
/// Outputs and summary are each written even when the other cannot be; the first failure
/// is returned after the log is complete.
fn finish<W: std::io::Write>(
    config: &Config,
    env: &Environment,
    owner: &str,
    report: &RunReport,
    github: &GitHub,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let clean = log.sanitizer().clone();
    let outputs = Outputs::from_report(report, &clean);
    publish::warn_cut_short(&outputs.truncated, log);
    let mut markdown = summary::render(config, owner, report, log.notes(), &clean);
    if github.scopes().is_none() && report.stopped.is_none() {
        markdown.push_str(PERMISSIONS_NOTE);
    }
    let published = publish::publish(env.files(), &outputs.render(&clean), &markdown, log);
    if let Some(interrupted) = &report.interrupted {
        log.error(&format!(
            "the run was cut short: {interrupted}. What was done is in the outputs and the summary; run again for the rest."
        ));
    }
    if let Some(refusal) = &report.refusal {
        log.error(&format!("input `max-versions`: {refusal}"));
    }
    let totals = report.totals();
    let done = config.mode.past_tense();
    let dry = if config.dry_run { " (dry run)" } else { "" };
    log.info(&format!(
        "package-janitor{dry}: {}",
        report.headline(config.mode, config.dry_run)
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
        log.warning(&format!(
            "this run stopped early on GitHub's rate limits: {} and {} are left for the next run (the oldest were done first{of_them}).{reset}",
            plural(totals.left, "selected version"),
            plural(totals.packages_left, "package")
        ));
    }
    if totals.not_found > 0 {
        let ids = plural(totals.not_found, "id");
        let were = if totals.not_found == 1 { "was" } else { "were" };
        log.error(&format!(
            "{ids} in `version-ids` {were} not found among the versions `mode: {}` acts on, so neither {done} nor skipped (see the warnings above). Check the ids and `mode`.",
            config.mode.as_str()
        ));
    }
    if totals.failed > 0 || totals.packages_failed > 0 {
        log.error(&format!(
            "{} and {} failed; see the errors above. Versions that were done stay done; run again to retry the rest.",
            plural(totals.failed, "version"),
            plural(totals.packages_failed, "package")
        ));
    }
    published.result(log)
}

/// The registry client of a container package's manifests; other types have none.
fn registry_for(config: &Config) -> anyhow::Result<Option<Registry>> {
    Ok(match config.package_type {
        PackageType::Container => Some(Registry::new(
            &config.registry_url,
            &config.token,
            Patience::from_pacing(&config.pacing),
        )?),
        _ => None,
    })
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
