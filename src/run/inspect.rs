//! Container packages: read the manifests the image graph needs from the registry, with
//! bounded concurrency, and adjust the policy plan with [`images::adjust`].

use std::collections::HashMap;

use futures_util::StreamExt;

use super::environment::Environment;
use crate::config::{Config, Mode};
use crate::policy::images::{self, DeleteOrphans, Manifests};
use crate::policy::plan::{Plan, Reason};
use crate::registry::{Manifest, Registry};
use crate::report::log::Log;

/// Manifest reads in flight at once: quick for big packages, gentle on the registry.
const READS_AT_ONCE: usize = 8;

/// The delete-mode plan of a container package, made safe for its images. Nothing is read
/// when the plan selects nothing and `delete-orphans` is off: then nothing can break.
/// Every listed version's manifest is read otherwise, since any of them may be an index
/// that references a selected version, or an artifact of one. With a state file, `known`
/// holds the manifests read before by digest: those are not read again, and new reads
/// are added to it.
pub async fn images_plan<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    config: &Config,
    env: &Environment,
    plan: Plan,
    known: Option<&mut HashMap<String, Manifest>>,
    log: &mut Log<W>,
) -> Plan {
    if config.mode != Mode::Delete || (plan.order.is_empty() && !config.delete_orphans) {
        return plan;
    }
    let mut empty = HashMap::new();
    let known = known.unwrap_or(&mut empty);
    let manifests = read_manifests(registry, repository, &plan, known).await;
    let unreadable = manifests.values().filter(|read| read.is_err()).count();
    let from_state = plan
        .versions
        .iter()
        .filter(|planned| known.contains_key(&planned.version.name))
        .count();
    log.info(&format!(
        "{} manifests read from {}/{repository}, {unreadable} unreadable, {from_state} known from the state file",
        manifests.len() - from_state,
        config.registry_url
    ));
    for (planned, read) in plan.versions.iter().filter_map(|planned| {
        manifests
            .get(&planned.version.id)
            .map(|read| (planned, read))
    }) {
        if let Ok(manifest) = read {
            known
                .entry(planned.version.name.clone())
                .or_insert_with(|| manifest.clone());
        }
    }
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
/// digests in `known` are taken from there (content-addressed, so they cannot have changed).
async fn read_manifests(
    registry: &Registry,
    repository: &str,
    plan: &Plan,
    known: &HashMap<String, Manifest>,
) -> Manifests {
    let reads = plan.versions.iter().map(|planned| async move {
        let read = match known.get(&planned.version.name) {
            Some(manifest) => Ok(manifest.clone()),
            None => registry
                .manifest(repository, &planned.version.name)
                .await
                .map_err(|err| err.to_string()),
        };
        (planned.version.id, read)
    });
    futures_util::stream::iter(reads)
        .buffer_unordered(READS_AT_ONCE)
        .collect()
        .await
}
