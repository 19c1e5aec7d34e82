//! Container packages: read the manifests the image graph needs from the registry, with
//! bounded concurrency, and adjust the policy plan with [`images::adjust`].

use futures_util::StreamExt;

use super::environment::Environment;
use crate::config::{Config, Mode};
use crate::policy::images::{self, DeleteOrphans, Manifests};
use crate::policy::plan::{Plan, Reason};
use crate::registry::Registry;
use crate::report::log::Log;

/// Manifest reads in flight at once: quick for big packages, gentle on the registry.
const READS_AT_ONCE: usize = 8;

/// The delete-mode plan of a container package, made safe for its images. Nothing is read
/// when the plan selects nothing and `delete-orphans` is off: then nothing can break.
/// Every listed version's manifest is read otherwise, since any of them may be an index
/// that references a selected version, or an artifact of one.
pub async fn images_plan<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    config: &Config,
    env: &Environment,
    plan: Plan,
    log: &mut Log<W>,
) -> Plan {
    if config.mode != Mode::Delete || (plan.order.is_empty() && !config.delete_orphans) {
        return plan;
    }
    log.progress("reading manifests", plan.versions.len());
    let manifests = read_manifests(registry, repository, &plan, log).await;
    log.progress_done();
    let unreadable = manifests.values().filter(|read| read.is_err()).count();
    log.info(&format!(
        "{} manifests read from {}/{repository}, {unreadable} unreadable",
        manifests.len(),
        config.registry_url
    ));
    let delete_orphans = config.delete_orphans.then_some(DeleteOrphans {
        policy: &config.policy,
        now: env.now,
    });
    let by_policy = plan.order.len();
    let plan = images::adjust(plan, &manifests, delete_orphans);
    log.info(&format!(
        "{} selected after following the images (the policy selected {by_policy})",
        plan.order.len()
    ));
    let closed_by = plan
        .versions
        .iter()
        .find_map(|planned| match planned.reason {
            Reason::FailClosed(id) => Some(id),
            _ => None,
        });
    if let Some(id) = closed_by {
        let why = match manifests.get(&id) {
            Some(Err(err)) => err.clone(),
            _ => "it was not read".to_string(),
        };
        log.warning(&format!(
            "{repository}: fail closed: the manifest of kept version {id} could not be read ({why}), so what it references is unknown and no untagged version is deleted in this run"
        ));
    }
    plan
}

/// The manifest of every listed version, read by digest, at most [`READS_AT_ONCE`] at a time;
/// each read done advances the log's progress bar.
async fn read_manifests<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    plan: &Plan,
    log: &mut Log<W>,
) -> Manifests {
    let reads = plan.versions.iter().map(|planned| async move {
        let read = registry
            .manifest(repository, &planned.version.name)
            .await
            .map_err(|err| err.to_string());
        (planned.version.id, read)
    });
    futures_util::stream::iter(reads)
        .buffer_unordered(READS_AT_ONCE)
        .inspect(|_| log.advance())
        .collect()
        .await
}
