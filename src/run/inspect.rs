//! Container packages: read the manifests the image graph needs from the registry, with
//! bounded concurrency, plan again with `keep-latest` counting images
//! ([`plan::plan_images`]), adjust the plan with [`images::adjust`], and say what could
//! not be read.

use std::collections::HashMap;

use futures_util::StreamExt;

use super::environment::Environment;
use crate::config::Config;
use crate::model::image::describe_image;
use crate::model::manifest::Manifest;
use crate::model::mode::Mode;
use crate::model::version::Version;
use crate::policy::images::{self, ByDigest, ManifestLookup, Rules};
use crate::policy::plan::{self, Decision, Plan, Reason};
use crate::registry::{Registry, RegistryError};
use crate::report::log::Log;
use crate::report::plural;

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
///
/// In restore mode the plan stays as it is, but before anything is restored one manifest
/// read checks the registry's token realm, with the same failure when it is elsewhere.
pub async fn images_plan<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    config: &Config,
    env: &Environment,
    plan: Plan,
    known: Option<&mut HashMap<String, Manifest>>,
    log: &mut Log<W>,
) -> anyhow::Result<Plan> {
    if config.mode == Mode::Restore {
        if !config.dry_run
            && let Some(first) = plan.selected().next()
        {
            // A restore reads manifests after each version, to bring back its image: first
            // make sure the registry's realm may have the token at all.
            let probe = registry.manifest(repository, &first.version.name).await;
            if let Some(host) = probe
                .as_ref()
                .err()
                .and_then(RegistryError::untrusted_realm)
            {
                let message = untrusted_realm(repository, config, host);
                log.error(&message);
                anyhow::bail!(message);
            }
            if let Some(refused) = probe.err().filter(RegistryError::refused_certificate) {
                let message = refused_certificate(repository, config, &refused.reason());
                log.error(&message);
                anyhow::bail!(message);
            }
        }
        return Ok(plan);
    }
    if plan.order.is_empty() && !config.delete_orphans {
        return Ok(plan);
    }
    let mut empty = HashMap::new();
    let known = known.unwrap_or(&mut empty);
    let to_read: Vec<&Version> = plan
        .versions
        .iter()
        .map(|planned| &planned.version)
        .filter(|version| !known.contains_key(&version.name))
        .collect();
    let read_count = to_read.len();
    let from_state = plan.versions.len() - read_count;
    log.progress("reading manifests", read_count);
    let read = read_manifests(registry, repository, to_read.into_iter(), known, log).await;
    log.progress_done();
    if let Some(host) = &read.untrusted_realm {
        let message = untrusted_realm(repository, config, host);
        log.error(&message);
        anyhow::bail!(message);
    }
    if let Some(refused) = &read.refused_certificate {
        let message = refused_certificate(repository, config, refused);
        log.error(&message);
        anyhow::bail!(message);
    }
    let unreadable = read.unreadable;
    if unreadable.len() < plan.versions.len() {
        let cached = if config.state_file.is_some() {
            format!(", {from_state} known from the state file")
        } else {
            String::new()
        };
        log.info(&format!(
            "{} read from {}/{repository}, {} unreadable{cached}",
            plural(read_count, "manifest"),
            config.registry_url,
            unreadable.len()
        ));
    }
    let manifests = ByDigest {
        known,
        unreadable: &unreadable,
    };
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
    warn_unreadable(repository, &config.registry_url, &plan, &manifests, log);
    let closed_by = plan
        .versions
        .iter()
        .find_map(|planned| match planned.reason {
            Reason::FailClosed(id) => Some(id),
            _ => None,
        });
    if let Some(id) = closed_by {
        let why = unreadable
            .get(&id)
            .map_or("it was not read", String::as_str);
        log.warning(&format!(
            "{repository}: fail closed: the manifest of kept version {id} could not be read ({why}), so what it references is unknown and no untagged version is deleted in this run"
        ));
    }
    Ok(plan)
}

/// The error for a registry whose token realm is not on its own host: the token was not
/// sent, and nothing in the package was changed.
pub fn untrusted_realm(repository: &str, config: &Config, host: &str) -> String {
    format!(
        "{repository}: the registry {} asks for tokens at {host}, which is not its own host over https: the token was not sent, and nothing in this package was {}. Check input `registry-url` (it must be the registry the package lives in, such as https://ghcr.io).",
        config.registry_url,
        config.mode.past_tense()
    )
}

/// The error for a registry whose TLS certificate was refused: a setup problem, so the
/// package fails rather than keep every version as unreadable.
fn refused_certificate(repository: &str, config: &Config, refused: &str) -> String {
    format!(
        "{repository}: {refused}. Nothing in this package was {}.",
        config.mode.past_tense()
    )
}

/// A warning for every version whose manifest could not be read, newest first; when none
/// could be read at all, one warning instead that says so and what to check (a wrong
/// `registry-url` makes every read fail the same way).
fn warn_unreadable<W: std::io::Write>(
    repository: &str,
    registry_url: &str,
    plan: &Plan,
    read: &impl ManifestLookup,
    log: &mut Log<W>,
) {
    let none_read = !plan.versions.is_empty()
        && plan
            .versions
            .iter()
            .all(|planned| !matches!(read.lookup(&planned.version), Some(Ok(_))));
    if none_read {
        let first = plan
            .versions
            .iter()
            .find_map(|planned| {
                let why = read.lookup(&planned.version)?.err()?;
                Some(format!("version {}: {why}", planned.version.id))
            })
            .unwrap_or_default();
        log.summary_warning(&format!(
            "{repository}: no manifest could be read from {registry_url} ({} tried; the first: {first}), so no version is deleted by the policy in this run. Check input `registry-url`: it must be the container registry of the server the package is on (https://ghcr.io for github.com; set it too when `GITHUB_API_URL` points at GitHub Enterprise Server or a test server), reachable from the runner, and the token must be able to read the package.",
            plural(plan.versions.len(), "manifest")
        ));
        return;
    }
    for planned in &plan.versions {
        let id = planned.version.id;
        let why = match read.lookup(&planned.version) {
            Some(Ok(_)) => continue,
            Some(Err(why)) => why,
            None => "it was not read",
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
    }
}

/// What [`read_manifests`] found besides the manifests: why each unreadable one could not
/// be read, by version id, and the host of a token realm the token was withheld from, if
/// the registry named one.
pub(super) struct ManifestReads {
    pub unreadable: HashMap<u64, String>,
    pub untrusted_realm: Option<String>,
    /// Why the registry's TLS certificate was refused, if it was.
    pub refused_certificate: Option<String>,
}

/// Reads the manifest of each of `versions` by digest, at most [`READS_AT_ONCE`] at a time,
/// into `known` as each arrives (so every manifest is held once, by digest); the reasons of
/// those that cannot be read are returned. Each read done advances the log's progress bar.
pub(super) async fn read_manifests<'a, W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    versions: impl Iterator<Item = &'a Version>,
    known: &mut HashMap<String, Manifest>,
    log: &mut Log<W>,
) -> ManifestReads {
    let reads = versions.map(|version| async move {
        (version, registry.manifest(repository, &version.name).await)
    });
    let mut reads = futures_util::stream::iter(reads).buffer_unordered(READS_AT_ONCE);
    let mut found = ManifestReads {
        unreadable: HashMap::new(),
        untrusted_realm: None,
        refused_certificate: None,
    };
    while let Some((version, read)) = reads.next().await {
        log.advance();
        match read {
            Ok(manifest) => {
                known.entry(version.name.clone()).or_insert(manifest);
            }
            Err(err) => {
                if let Some(host) = err.untrusted_realm() {
                    found
                        .untrusted_realm
                        .get_or_insert_with(|| host.to_string());
                }
                if err.refused_certificate() {
                    found
                        .refused_certificate
                        .get_or_insert_with(|| err.reason());
                }
                found.unreadable.insert(version.id, err.reason());
            }
        }
    }
    found
}
