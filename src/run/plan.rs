//! Plan one listed package: the policy over what the listing gave (every version a decision
//! and a reason), a warning for each version whose tags are unknown, and for container
//! packages the plan made safe for their images ([`images_plan`]).

use crate::config::Config;
use crate::model::image::describe;
use crate::model::mode::Mode;
use crate::model::version::{Version, VersionState};
use crate::policy::plan::{self, Plan};
use crate::registry;
use crate::report::log::Log;
use crate::report::plural;

use super::cancel::CANCELLED_RUN;
use super::failures::rate_limited;
use super::inspect::images_plan;
use super::package::{PackageRun, Scope, Unreadable};
use super::resume;
use super::revive::Revived;

/// Plan what the listing gave, or say why there is nothing to plan.
pub fn plan_listed<W: std::io::Write>(
    listed: anyhow::Result<Vec<Version>>,
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

/// For container packages, make the plan safe for its images (see [`images_plan`]); a
/// cancel ends the reads at once. `None` when a cancel came before anything of this
/// package was changed (it was not `revived`).
pub async fn images_planned<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    plan: anyhow::Result<Plan>,
    revived: Option<Revived>,
    log: &mut Log<W>,
) -> Option<PackageRun> {
    let (config, env) = (scope.config, scope.env);
    let (plan, unreadable) = match (plan, scope.registry) {
        (Ok(listed), Some(registry)) => {
            let repository = registry::repository(&config.owner, name);
            tokio::select! {
                planned = images_plan(registry, &repository, config, env, listed, None, log) => {
                    match planned {
                        Ok((plan, unreadable)) => (Ok(plan::carry_rules(plan)), unreadable),
                        Err(err) => (Err(err), Unreadable::new()),
                    }
                }
                () = env.cancel.requested() => {
                    // Nothing of this package was changed unless it was restored whole.
                    revived.as_ref()?;
                    (Err(anyhow::anyhow!(CANCELLED_RUN)), Unreadable::new())
                }
            }
        }
        (plan, _) => (plan, Unreadable::new()),
    };
    Some(PackageRun::listed_now(name, plan, revived).with_unreadable(unreadable))
}

/// A warning for every version listed without its tag metadata: kept, since its tags are
/// unknown.
pub fn warn_unknown_tags<W: std::io::Write>(
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
