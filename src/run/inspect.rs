//! Container packages: read the manifests the image graph needs from the registry, with
//! bounded concurrency, plan again with `keep-latest` counting images
//! ([`plan::plan_images`]), adjust the plan with [`images::adjust`], and say what could
//! not be read.

use std::collections::HashMap;

use futures_util::StreamExt;

use super::environment::Environment;
use crate::config::{Config, Mode};
use crate::model::image::describe_image;
use crate::policy::images::{self, Manifests, Rules};
use crate::policy::plan::{self, Decision, Plan, Reason};
use crate::registry::{Manifest, Registry, RegistryError};
use crate::report::log::Log;

/// Manifest reads in flight at once: quick for big packages, gentle on the registry.
const READS_AT_ONCE: usize = 8;

/// The delete-mode plan of a container package, made safe for its images. Nothing is read
/// when the plan selects nothing and `delete-orphans` is off: then nothing can break, and
/// every match is kept already, so counting images could keep no more.
/// Every listed version's manifest is read otherwise, since any of them may be an index
/// that references a selected version, or an artifact of one.
///
/// Every unreadable manifest gets a warning naming its version and the reason. When the
/// registry's token realm is not on its own host, the token is not sent and the package
/// fails (an error naming the realm's host): nothing in it is deleted. With a state file,
/// `known` holds the manifests read before by digest: those are not read again, and new
/// reads are added to it.
pub async fn images_plan<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    config: &Config,
    env: &Environment,
    plan: Plan,
    known: Option<&mut HashMap<String, Manifest>>,
    log: &mut Log<W>,
) -> anyhow::Result<Plan> {
    if config.mode != Mode::Delete || (plan.order.is_empty() && !config.delete_orphans) {
        return Ok(plan);
    }
    let mut empty = HashMap::new();
    let known = known.unwrap_or(&mut empty);
    log.progress("reading manifests", plan.versions.len());
    let read = read_manifests(registry, repository, &plan, known, log).await;
    log.progress_done();
    if let Some(host) = read
        .values()
        .find_map(|read| read.as_ref().err()?.untrusted_realm())
    {
        let message = format!(
            "{repository}: the registry {} asks for tokens at {host}, which is not its own host over https: the token was not sent, and nothing in this package was deleted. Check input `registry-url` (it must be the registry the package lives in, such as https://ghcr.io).",
            config.registry_url
        );
        log.error(&message);
        anyhow::bail!(message);
    }
    let unreadable = read.values().filter(|read| read.is_err()).count();
    let from_state = plan
        .versions
        .iter()
        .filter(|planned| known.contains_key(&planned.version.name))
        .count();
    log.info(&format!(
        "{} manifests read from {}/{repository}, {unreadable} unreadable, {from_state} known from the state file",
        read.len().saturating_sub(from_state),
        config.registry_url
    ));
    for planned in &plan.versions {
        if let Some(Ok(manifest)) = read.get(&planned.version.id) {
            known
                .entry(planned.version.name.clone())
                .or_insert_with(|| manifest.clone());
        }
    }
    let manifests: Manifests = read
        .iter()
        .map(|(id, read)| (*id, read.clone().map_err(|err| err.reason())))
        .collect();
    let rules = Rules {
        policy: &config.policy,
        now: env.now,
        delete_orphans: config.delete_orphans,
    };
    let top_level = images::top_level_images(&plan, &manifests);
    let plan = plan::plan_images(
        plan,
        &config.policy,
        config.package_type,
        config.mode,
        env.now,
        &top_level,
    );
    let by_policy = plan.order.len();
    let plan = images::adjust(plan, &manifests, &rules);
    log.info(&format!(
        "{} selected after following the images (the policy selected {by_policy})",
        plan.order.len()
    ));
    warn_unreadable(repository, &plan, &read, log);
    let closed_by = plan
        .versions
        .iter()
        .find_map(|planned| match planned.reason {
            Reason::FailClosed(id) => Some(id),
            _ => None,
        });
    if let Some(id) = closed_by {
        let why = match read.get(&id) {
            Some(Err(err)) => err.reason(),
            _ => "it was not read".to_string(),
        };
        log.warning(&format!(
            "{repository}: fail closed: the manifest of kept version {id} could not be read ({why}), so what it references is unknown and no untagged version is deleted in this run"
        ));
    }
    Ok(plan)
}

/// A warning for every version whose manifest could not be read, newest first, and one
/// more when none could be read at all.
fn warn_unreadable<W: std::io::Write>(
    repository: &str,
    plan: &Plan,
    read: &HashMap<u64, Result<Manifest, RegistryError>>,
    log: &mut Log<W>,
) {
    let mut first = None;
    for planned in &plan.versions {
        let id = planned.version.id;
        let why = match read.get(&id) {
            Some(Ok(_)) => continue,
            Some(Err(err)) => err.reason(),
            None => "it was not read".to_string(),
        };
        let fate = match planned.decision {
            Decision::Keep => "kept in this run",
            Decision::Act => {
                "deleted only because version-ids names it; what it references is unknown"
            }
        };
        log.warning(&format!(
            "{repository}: the manifest of version {id} ({}) could not be read ({why}): {fate}",
            describe_image(&planned.version)
        ));
        first.get_or_insert(why);
    }
    if let Some(why) = first
        && read.values().all(Result::is_err)
    {
        log.warning(&format!(
            "{repository}: none of the {} manifests could be read (the first: {why}), so no version is deleted by the policy in this run. Check input `registry-url` and that the token may read this package.",
            read.len()
        ));
    }
}

/// The manifest of every listed version, read by digest, at most [`READS_AT_ONCE`] at a time;
/// digests in `known` are taken from there (content-addressed, so they cannot have
/// changed). Each read done advances the log's progress bar.
async fn read_manifests<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    plan: &Plan,
    known: &HashMap<String, Manifest>,
    log: &mut Log<W>,
) -> HashMap<u64, Result<Manifest, RegistryError>> {
    let reads = plan.versions.iter().map(|planned| async move {
        let read = match known.get(&planned.version.name) {
            Some(manifest) => Ok(manifest.clone()),
            None => registry.manifest(repository, &planned.version.name).await,
        };
        (planned.version.id, read)
    });
    futures_util::stream::iter(reads)
        .buffer_unordered(READS_AT_ONCE)
        .inspect(|_| log.advance())
        .collect()
        .await
}
