//! List every package, one after the other, and plan each as soon as it is listed
//! ([`super::plan`]); with a `state-file`, the listing carries on across runs
//! ([`super::across`]), and the packages the last run did not finish go first. Changes
//! nothing, except that restore mode restores a deleted package (named exactly) before
//! listing it again ([`super::revive`]).
//!
//! A cancel ends the reads at once. Once a package restore has been sent, it gets the grace
//! to finish, and listing ends with the packages planned so far, so that the run still
//! writes its record (with every version left for the next run); before that, a cancel
//! is an error and nothing is written.

use crate::model::mode::Mode;
use crate::model::version::VersionState;
use crate::report::log::Log;
use crate::state::{PackageState, RunState};

use super::across;
use super::cancel::{CANCELLED_PLANNING, CANCELLED_RUN};
use super::failures::listing_failed;
use super::package::{PackageRun, Scope};
use super::plan::{images_planned, plan_listed};
use super::references;
use super::revive::{self, Revived};
use super::scopes;

/// List and plan every package of `names`, one [`PackageRun`] each, in the order they are
/// worked on.
pub async fn list_all<W: std::io::Write>(
    scope: &Scope<'_>,
    names: Vec<String>,
    mut state: Option<&mut RunState>,
    log: &mut Log<W>,
) -> anyhow::Result<Vec<PackageRun>> {
    let config = scope.config;
    let names = match &state {
        Some(state) => state.resume_order(config.package_type, &names),
        None => names,
    };
    let mut packages = Vec::with_capacity(names.len());
    log.progress("listing packages", names.len());
    let mut names = names.into_iter();
    while let Some(name) = names.next() {
        let saved = state
            .as_deref_mut()
            .map(|state| state.package_mut(config.package_type, &name));
        match list_package(scope, &name, saved, log).await {
            Some(package) => packages.push(package),
            None => {
                // Not listed: say so, rather than let the record look complete.
                let not_listed = std::iter::once(name).chain(names.by_ref());
                packages.extend(not_listed.map(|name| {
                    let err = anyhow::anyhow!("not listed: cancelled (SIGTERM or SIGINT)");
                    PackageRun::listed_now(&name, Err(err), None)
                }));
            }
        }
        log.advance();
    }
    log.progress_done();
    if scope.env.cancel.is_requested() && packages.iter().all(|package| package.revived.is_none()) {
        anyhow::bail!(CANCELLED_PLANNING);
    }
    Ok(packages)
}

/// List and plan one package. In restore mode, a package named exactly whose listing
/// answers 404 `Package not found.` may have been deleted as a whole: it is restored, then
/// listed again. `None` when a cancel came before anything of this package was changed.
async fn list_package<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    saved: Option<&mut PackageState>,
    log: &mut Log<W>,
) -> Option<PackageRun> {
    // Planned with the references that pin this package's versions, if any.
    let pinned = references::config_for(scope.config, scope.references, name);
    let pinned_scope;
    let scope = match &pinned {
        Some(config) => {
            pinned_scope = Scope { config, ..*scope };
            &pinned_scope
        }
        None => scope,
    };
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
        let (plan, from_state, unreadable) = tokio::select! {
            planned = across::plan_package(scope, name, saved, log) => planned,
            () = env.cancel.requested() => return None,
        };
        return Some(PackageRun::planned(name, plan, None, from_state).with_unreadable(unreadable));
    }
    let list = || github.list_versions(namespace, config.package_type, name, state);
    let mut listed = tokio::select! {
        listed = list() => listed,
        () = env.cancel.requested() => return None,
    };
    let mut revived = None;
    if let Err(err) = &listed
        && revive::may_revive(config, name, err)
    {
        if env.cancel.is_requested() {
            return None;
        }
        if let Some(needed) = scopes::lacking_now(github, config) {
            // The scopes check stops a real run before its first change; this is one.
            log.info(&format!(
                "package `{name}` may have been deleted as a whole, but this classic PAT lacks `{needed}`, so it is not restored"
            ));
            let listed = listed.map_err(|err| listing_failed(err, config, namespace, name));
            return Some(PackageRun::listed_now(
                name,
                plan_listed(listed, scope, name, log),
                None,
            ));
        }
        // The restore request is sent: let it finish within the grace, like any mutation.
        let answered = tokio::select! {
            revived = revive::revive(github, namespace, config, name, log) => Some(revived),
            () = env.cancel.grace_over() => None,
        };
        let Some(answered) = answered else {
            let cut_off = revive::abandoned(name, log);
            let cancelled = Err(anyhow::anyhow!(CANCELLED_RUN));
            return Some(PackageRun::listed_now(name, cancelled, Some(cut_off)));
        };
        revived = answered;
        if revived.as_ref().is_some_and(Revived::restored) {
            listed = tokio::select! {
                listed = list() => listed,
                () = env.cancel.requested() => {
                    let cancelled = Err(anyhow::anyhow!(CANCELLED_RUN));
                    return Some(PackageRun::listed_now(name, cancelled, revived));
                }
            };
        }
    }
    let listed = listed.map_err(|err| listing_failed(err, config, namespace, name));
    let plan = plan_listed(listed, scope, name, log);
    images_planned(scope, name, plan, revived, log).await
}
