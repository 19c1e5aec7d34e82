//! Act on every planned package in turn: report what a `max-versions` or `max-percent`
//! refusal held back, offer a package `delete-empty-packages` may delete whole to
//! [`whole_package::delete`], and hand the rest to the executor ([`execute`]), or in a dry
//! run only say what it would do. Each version's outcome is recorded in its [`PackageRun`]
//! as it is settled. Then the package's tags, with `untag` or `restore-tags`
//! ([`untag::act`]).

use crate::model::mode::Mode;
use crate::model::outcome::{Entry, Outcome};
use crate::policy::plan::Plan;
use crate::registry;
use crate::report::log::Log;
use crate::report::plural;

use super::cancel::{self, CANCELLED_RUN};
use super::check::Checked;
use super::execute::{self, Images, Stop, Target};
use super::package::{PackageRun, Scope};
use super::untag;
use super::whole_package::{self, Rest};

/// Act on every package, and say why acting was cut short, if it was: an error that ended
/// the run, or a cancel. After a cancel nothing more is sent; if the request in flight (a
/// version's, or the package DELETE) does not finish within the grace, it is abandoned, so
/// the record is still written in time.
pub async fn act_all<W: std::io::Write>(
    scope: &Scope<'_>,
    checked: &Checked,
    packages: &mut [PackageRun],
    log: &mut Log<W>,
) -> Option<String> {
    let cancel = &scope.env.cancel;
    let mut stop = Stop {
        reason: None,
        cancel: cancel.clone(),
        fatal: None,
    };
    match act_on_each(scope, checked, packages, &mut stop, log).await {
        Err(err) => Some(format!("{err:#}")),
        Ok(()) if cancel.is_requested() => Some(CANCELLED_RUN.to_string()),
        Ok(()) => None,
    }
}

/// Act on each package in turn; `Err` ends the run (a fatal answer, or a request in flight
/// cut off by the cancel grace).
async fn act_on_each<W: std::io::Write>(
    scope: &Scope<'_>,
    checked: &Checked,
    packages: &mut [PackageRun],
    stop: &mut Stop,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    for package in packages {
        act_on_versions(scope, checked, package, stop, log).await?;
        act_on_tags(scope, checked, package, stop, log).await?;
    }
    Ok(())
}

/// Act on the selected versions of one package: whole, when `delete-empty-packages` may,
/// then one by one. `Err` ends the run.
async fn act_on_versions<W: std::io::Write>(
    scope: &Scope<'_>,
    checked: &Checked,
    package: &mut PackageRun,
    stop: &mut Stop,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let config = scope.config;
    let PackageRun {
        name,
        plan,
        entries,
        deleted_whole,
        ..
    } = package;
    let Ok(plan) = plan else {
        return Ok(());
    };
    if let Some(refusal) = &checked.refusal {
        *entries = refused(plan, &refusal.message);
        return Ok(());
    }
    let images = scope.registry.map(|registry| Images {
        registry,
        repository: registry::repository(&config.owner, name),
    });
    let target = Target {
        namespace: scope.namespace,
        package_type: config.package_type,
        name,
    };
    let narrowed;
    let mut plan: &Plan = plan;
    if checked.deletable.contains(name.as_str()) {
        let deleted =
            whole_package::delete(scope.github, &target, plan, config.dry_run, stop, log).await;
        if let Some(deleted) = deleted {
            *deleted_whole = Some(deleted.entry);
            *entries = deleted.entries;
            if let Some(fatal) = stop.fatal.take() {
                anyhow::bail!(fatal);
            }
            match deleted.rest {
                Rest::Settled => return Ok(()),
                Rest::All => {}
                Rest::Narrowed(rest) => {
                    narrowed = rest;
                    plan = &narrowed;
                }
            }
        }
    }
    let finished = tokio::select! {
        () = act(scope, &target, plan, images.as_ref(), stop, entries, log) => true,
        () = scope.env.cancel.grace_over() => false,
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
    Ok(())
}

/// Remove (or put back) the tags of one package, once its versions are settled; a cancel
/// gives the tag in flight the grace. `Err` ends the run.
async fn act_on_tags<W: std::io::Write>(
    scope: &Scope<'_>,
    checked: &Checked,
    package: &mut PackageRun,
    stop: &mut Stop,
    log: &mut Log<W>,
) -> anyhow::Result<()> {
    let Some(work) = untag::work(scope.config, &package.name, package.plan.as_ref().ok()) else {
        return Ok(());
    };
    let acting = untag::Acting {
        scope,
        refusal: checked
            .refusal
            .as_ref()
            .map(|refusal| refusal.message.as_str()),
        push_refusal: checked.push_refusal.as_deref(),
    };
    let target = Target {
        namespace: scope.namespace,
        package_type: scope.config.package_type,
        name: &package.name,
    };
    let finished = tokio::select! {
        () = untag::act(&acting, &target, &work, stop, &mut package.tags, log) => true,
        () = scope.env.cancel.grace_over() => false,
    };
    if !finished {
        log.end_group();
        anyhow::bail!(
            "cancelled (SIGTERM or SIGINT), and the registry or API request in flight did not finish within {} s: a placeholder pushed for the tag in flight may be left under it (see its outcome)",
            cancel::GRACE.as_secs()
        );
    }
    Ok(())
}

/// Act on the selected versions of one package, in a log group of its own: the executor,
/// or in a dry run the entries of what it would do.
async fn act<W: std::io::Write>(
    scope: &Scope<'_>,
    target: &Target<'_>,
    plan: &Plan,
    images: Option<&Images<'_>>,
    stop: &mut Stop,
    entries: &mut Vec<Entry>,
    log: &mut Log<W>,
) {
    let (github, config) = (scope.github, scope.config);
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

/// Under a max-versions or max-percent refusal every selected version is reported, and
/// none is touched.
fn refused(plan: &Plan, refusal: &str) -> Vec<Entry> {
    plan.selected()
        .map(|planned| plan.entry(planned, Outcome::Skipped(refusal.to_string())))
        .collect()
}
