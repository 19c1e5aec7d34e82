//! One run, as a short list of phases over one value per package ([`package::PackageRun`]):
//! find the packages ([`discover`]), list and plan each ([`list`], [`plan`]; with a
//! `state-file`, [`across`]), narrow the plans to a reviewed plan when one is applied
//! ([`plan_file`], [`apply_plan`]), check before the first change ([`check`]), act
//! ([`act`]), verify what was kept ([`verify`]), finish ([`finish`]; a dry run with
//! `plan-file` writes its plan there). `untag` and `restore-tags` join the check and act
//! phases ([`untag`]). `mode: audit` is a run of its
//! own ([`audit`]). Each phase is a file; what several share lives in a file of its own
//! ([`package`], [`failures`], [`clients`], [`cancel`]), never here: no file of `run/`
//! imports this one.
//!
//! Where a feature joins: data every package's planning reads goes into [`package::Scope`];
//! data about one package goes into [`package::PackageRun`], set by the phase that learns
//! it; a mode that replaces the flow is dispatched at the top of [`run`], as audit is; what
//! the report shows is assembled in [`finish`].

mod across;
mod act;
mod apply_plan;
mod audit;
mod cancel;
mod check;
mod clients;
mod discover;
mod environment;
mod execute;
mod failures;
mod finish;
mod inspect;
mod list;
mod listing;
mod package;
mod plan;
mod plan_file;
mod recheck;
mod references;
mod requested;
// `resume` and `sweep` are public for `tests/across_runs.rs`, the property test that runs
// the real listing across runs (issue 19) without HTTP.
pub mod resume;
mod revive;
mod scopes;
mod share_cap;
mod state_file;
pub mod sweep;
mod untag;
mod verify;
mod whole_package;

pub use cancel::{Cancel, listen};
pub use environment::Environment;

use crate::config::Config;
use crate::model::mode::Mode;
use crate::report::RunReport;
use crate::report::log::Log;

use discover::Discovered;
use package::Scope;

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
    let github = clients::github(config, log)?;
    if config.mode == Mode::Audit {
        return audit::run(&github, config, env, log).await;
    }
    // A run that applies a reviewed plan reads and checks it before any request.
    let reviewed = plan_file::load(config, env)?;
    let mut state = state_file::load(config, log);
    let references = references::read(config, &env.workspace, log)?;

    // 1. Find the owner and the packages.
    let found = match discover::discover(&github, config, env, log).await? {
        Discovered::Found(found) => found,
        Discovered::Stopped(reason) => return finish::stopped(config, env, &github, reason, log),
    };
    let registry = clients::registry(config)?;
    let scope = Scope {
        github: &github,
        namespace: &found.namespace,
        registry: registry.as_ref(),
        config,
        env,
        references: references.as_deref(),
    };

    // 2. List and plan every package: changes nothing (but restores a deleted package).
    let mut packages = list::list_all(&scope, found.names, state.as_mut(), log).await?;
    references::warn_missing(
        config,
        references.as_deref(),
        packages
            .iter()
            .filter_map(|package| Some((package.name.as_str(), package.plan.as_ref().ok()?))),
        log,
    );

    // 2b. Applying a reviewed plan: each plan narrows to the versions it names, unchanged.
    let mut applied = reviewed.map(|loaded| apply_plan::narrow(&loaded, &mut packages, log));

    // 3. The checks before the first change.
    let checked = check::before_acting(&scope, &packages, log).await?;

    // 4. Act, recording every version's outcome in its package.
    let interrupted = act::act_all(&scope, &checked, &mut packages, log).await;
    let verified = verify::kept(config, registry.as_ref(), &packages, log).await;

    // 5. Finish: the reports, the state for the next run, outputs and summary.
    let mut packages = finish::package_reports(
        config,
        env,
        packages,
        interrupted.is_some(),
        state.as_mut(),
        log,
    );
    if let Some(applied) = applied.as_mut() {
        packages.extend(applied.take_missing());
    }
    if let (Some(state), Some(path)) = (state.as_mut(), &config.state_file) {
        state_file::save(state, path, env, config.package_type, &packages, log);
    }
    let mut report = RunReport {
        packages,
        refusal: checked.refusal,
        stopped: None,
        interrupted,
        now: env.now,
        plan: None,
    };
    let comparison = applied.map(|applied| applied.compare(&report));
    report.plan = plan_file::conclude(config, env, comparison, &report, log);
    let owner = finish::owner_label(&config.owner, found.kind, &found.namespace, log);
    finish::publish_and_close(
        config,
        env,
        &owner,
        &report,
        &github,
        registry.as_ref(),
        log,
    )?;
    let whole = match &verified {
        Some(verified) => verify::report(env, verified, log)?,
        None => true,
    };
    Ok(report.succeeded() && whole)
}
