//! Container packages: read the manifests the image graph needs from the registry, with
//! bounded concurrency, plan again with `keep-latest` counting images
//! ([`plan::plan_images`]), adjust the plan with [`images::adjust`], keep the blobs each
//! version lists for the storage figures, and say what could not be read. With a state
//! file, the manifests it holds are proven before a plan that decides relies on them
//! ([`prove`]).

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;

use super::environment::Environment;
use super::package::Unreadable;
use super::sweep::LISTLESS_TYPES;
use crate::config::Config;
use crate::model::image::describe_image;
use crate::model::mode::Mode;
use crate::model::version::Version;
use crate::policy::images::{self, ByDigest, ManifestLookup, ReadHere, Rules};
use crate::policy::plan::{self, Decision, Plan, Reason};
use crate::policy::storage::Held;
use crate::policy::untag;
use crate::registry::{Registry, RegistryError};
use crate::report::log::Log;
use crate::report::plural;
use crate::state::{KnownManifests, Proof};

/// Manifest reads in flight at once: quick for big packages, gentle on the registry.
const READS_AT_ONCE: usize = 8;

/// What a run with a `state-file` brings to a container package's plan.
pub struct Cached<'a> {
    /// Manifests learned before, by digest, each with its proof; this run's reads are added.
    pub known: &'a mut KnownManifests,
    /// Whether the plan decides (so what the state file claims is proven first), or only
    /// chooses what to read again (claims guide it).
    pub decides: bool,
    /// What this run read itself, when part of the listing comes from the state file.
    pub read: ReadHere<'a>,
}

/// The delete-mode plan of a container package, made safe for its images. Nothing is read
/// when the plan selects nothing and `delete-orphans` is off: then nothing can break, and
/// every match is kept already, so counting images could keep no more.
/// Every listed version's manifest is read otherwise, since any of them may be an index
/// that references a selected version, or an artifact of one.
///
/// Every unreadable manifest gets a warning naming its version and the reason. When the
/// registry's token realm is not on its own host, the token is not sent and the package
/// fails (an error naming the realm's host): nothing in it is deleted. With a state file,
/// `cached` holds the manifests known before by digest: those are not read again, but a
/// plan that decides relies only on proven ones ([`prove`]), and new reads are added.
///
/// In restore mode the plan stays as it is, but before anything is restored one manifest
/// read checks the registry's token realm, with the same failure when it is elsewhere.
///
/// Also returns why each manifest that could not be read could not be, by version id, for
/// the report (empty when the plan only chooses what to read again).
pub async fn images_plan<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    config: &Config,
    env: &Environment,
    plan: Plan,
    cached: Option<Cached<'_>>,
    log: &mut Log<W>,
) -> anyhow::Result<(Plan, Unreadable)> {
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
        return Ok((plan, Unreadable::new()));
    }
    if plan.order.is_empty() && !config.delete_orphans {
        return Ok((plan, Unreadable::new()));
    }
    let with_state = cached.is_some();
    let mut empty = KnownManifests::default();
    let (known, decides, read) = match cached {
        Some(cached) => (cached.known, cached.decides, cached.read),
        None => (&mut empty, true, ReadHere::default()),
    };
    let to_read: Vec<&Version> = plan
        .versions
        .iter()
        .map(|planned| &planned.version)
        .filter(|version| !known.contains(&version.name))
        .collect();
    let read_count = to_read.len();
    let from_state = plan.versions.len() - read_count;
    // Grown once rather than doubled as reads arrive (each step frees the last table).
    known.reserve(read_count);
    log.progress("reading manifests", read_count);
    let reads = read_manifests(
        registry,
        repository,
        to_read.into_iter(),
        known,
        with_state,
        log,
    )
    .await;
    log.progress_done();
    if let Some(host) = &reads.untrusted_realm {
        let message = untrusted_realm(repository, config, host);
        log.error(&message);
        anyhow::bail!(message);
    }
    if let Some(refused) = &reads.refused_certificate {
        let message = refused_certificate(repository, config, refused);
        log.error(&message);
        anyhow::bail!(message);
    }
    let mut unreadable = reads.unreadable;
    if unreadable.len() < plan.versions.len() {
        let cached = if with_state {
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
    let by_policy = plan.order.len();
    let mut plan = follow_images(plan, known, &unreadable, config, env, read);
    if with_state && decides {
        plan = prove(
            registry,
            repository,
            plan,
            known,
            &mut unreadable,
            config,
            env,
            read,
            log,
        )
        .await?;
    }
    if !decides {
        // Only chooses what to read again: the plan that decides says the rest.
        return Ok((plan, Unreadable::new()));
    }
    log.info(&format!(
        "{} selected after following the images (the policy selected {by_policy})",
        plan.order.len()
    ));
    let manifests = ByDigest {
        known,
        unreadable: &unreadable,
    };
    warn_unreadable(repository, &config.registry_url, &plan, &manifests, log);
    let versions = plan.versions.iter().map(|planned| &planned.version);
    plan.blobs = Some(Box::new(Held::new(versions, &manifests, read)));
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
    Ok((plan, unreadable.into_iter().collect()))
}

/// `plan` planned again with `keep-latest` counting images, then adjusted to the image
/// graph of `known` (and of the unlisted images `read` found).
fn follow_images(
    plan: Plan,
    known: &KnownManifests,
    unreadable: &HashMap<u64, String>,
    config: &Config,
    env: &Environment,
    read: ReadHere<'_>,
) -> Plan {
    let manifests = ByDigest { known, unreadable };
    let rules = Rules {
        policy: &config.policy,
        now: env.now,
        delete_orphans: config.delete_orphans,
    };
    let top_level = images::top_level_images(&plan, &manifests, read.unlisted);
    let plan = plan::plan_images(
        plan,
        &config.policy,
        config.package_type,
        config.mode,
        env.now,
        &top_level,
        read.confirmed,
    );
    // `untag`: the keep set is settled over images first, then grows by the images that
    // only lose tags, before the graph keeps what every kept image references.
    let plan = if config.untag {
        untag::keep_by_other_tags(
            plan,
            &config.policy,
            config.package_type,
            env.now,
            &manifests,
        )
    } else {
        plan
    };
    images::adjust_read(plan, &manifests, &rules, read)
}

/// Rounds of [`prove`]: each reads what the plan would act on that is not proven whole.
const PROOF_ROUNDS: usize = 3;

/// With a state file, makes every manifest the plan relies on proven before it decides:
/// what the state file claimed is a plain image manifest is checked with a `HEAD` (its
/// media type), and what the plan would act on is read whole (`GET`, by digest), since a
/// `HEAD` cannot tell whether it has a subject. A claim found false is replaced by the
/// manifest read, and the plan is made again; one that cannot be proven counts as
/// unreadable (kept, and the run fails closed).
#[allow(clippy::too_many_arguments)] // The plan's inputs, threaded through once.
async fn prove<W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    mut plan: Plan,
    known: &mut KnownManifests,
    unreadable: &mut HashMap<u64, String>,
    config: &Config,
    env: &Environment,
    read: ReadHere<'_>,
    log: &mut Log<W>,
) -> anyhow::Result<Plan> {
    let acted: HashSet<u64> = plan.selected().map(|planned| planned.version.id).collect();
    let claimed: Vec<&Version> = plan
        .versions
        .iter()
        .map(|planned| &planned.version)
        .filter(|version| !acted.contains(&version.id) && !unreadable.contains_key(&version.id))
        .filter(|version| known.proof(&version.name) == Some(Proof::Claimed))
        .collect();
    let heads = claimed.len();
    let unlisted = |version: &Version| !read.confirms(version);
    for (id, why) in head_claims(registry, repository, claimed.into_iter(), known, unlisted).await {
        unreadable.insert(id, why);
    }
    let mut reread = 0;
    let mut false_claims = 0;
    for _ in 0..PROOF_ROUNDS {
        // What the plan acts on must be proven whole, and a claim its media type did not
        // prove is read.
        let unproven: Vec<&Version> = plan
            .versions
            .iter()
            .filter(|planned| !unreadable.contains_key(&planned.version.id))
            .filter(|planned| match known.proof(&planned.version.name) {
                Some(Proof::Claimed) => true,
                Some(Proof::Listless) => planned.decision == Decision::Act,
                Some(Proof::Whole) | None => false,
            })
            .map(|planned| &planned.version)
            .collect();
        if unproven.is_empty() {
            break;
        }
        reread += unproven.len();
        for version in &unproven {
            known.forget(&version.name);
        }
        let names: Vec<String> = unproven
            .iter()
            .map(|version| version.name.clone())
            .collect();
        let reads =
            read_manifests(registry, repository, unproven.into_iter(), known, true, log).await;
        if let Some(host) = &reads.untrusted_realm {
            let message = untrusted_realm(repository, config, host);
            log.error(&message);
            anyhow::bail!(message);
        }
        unreadable.extend(reads.unreadable);
        false_claims += names
            .iter()
            .filter(|name| {
                known
                    .get(name)
                    .is_some_and(|(manifest, _)| !manifest.is_leaf())
            })
            .count();
        plan = follow_images(plan, known, unreadable, config, env, read);
    }
    if false_claims > 0 {
        log.warning(&format!(
            "{repository}: the state file's claim that a manifest lists nothing and has no subject was false for {}: the plan rests on what was read in this run",
            plural(false_claims, "manifest")
        ));
    }
    log.info(&format!(
        "state file: {} checked by media type and {} read again before deciding",
        plural(heads, "manifest claim"),
        plural(reread, "manifest")
    ));
    Ok(plan)
}

/// `HEAD` of each of `versions`, whose manifests the state file claims are plain image
/// manifests: a media type that lists nothing proves the claim ([`Proof::Listless`]);
/// any other leaves it a claim, to be read whole. A version `gone` says may be gone (this
/// run did not list it) that the registry does not know counts as listing nothing.
/// Returns why a `HEAD` failed, by id.
async fn head_claims<'a>(
    registry: &Registry,
    repository: &str,
    versions: impl Iterator<Item = &'a Version>,
    known: &mut KnownManifests,
    gone: impl Fn(&Version) -> bool,
) -> Vec<(u64, String)> {
    let heads = versions
        .map(|version| async move { (version, registry.head(repository, &version.name).await) });
    let mut heads = futures_util::stream::iter(heads).buffer_unordered(READS_AT_ONCE);
    let mut failed = Vec::new();
    while let Some((version, head)) = heads.next().await {
        match head {
            Ok(head) => {
                let listless = head
                    .media_type
                    .as_deref()
                    .is_some_and(|media_type| LISTLESS_TYPES.contains(&media_type));
                if listless {
                    known.prove_listless(&version.name);
                }
            }
            // Not in the registry: a version known only from the state file that was
            // deleted since references nothing. One listed in this run is unreadable.
            Err(err) if err.is_unknown() && gone(version) => {
                known.prove_listless(&version.name);
            }
            Err(err) => failed.push((version.id, err.reason())),
        }
    }
    failed
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
/// into `known` as each arrives (so every manifest is held once, by digest; with
/// `keep_bytes`, the bytes of those that are not plain image manifests too, for the state
/// file); the reasons of those that cannot be read are returned. Each read done advances
/// the log's progress bar.
pub(super) async fn read_manifests<'a, W: std::io::Write>(
    registry: &Registry,
    repository: &str,
    versions: impl Iterator<Item = &'a Version>,
    known: &mut KnownManifests,
    keep_bytes: bool,
    log: &mut Log<W>,
) -> ManifestReads {
    let reads = versions.map(|version| async move {
        (
            version,
            registry.manifest_read(repository, &version.name).await,
        )
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
            Ok(read) => {
                known.read(version.name.clone(), read.manifest, read.bytes, keep_bytes);
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
