//! Planning a package with a `state-file` (delete mode): list across runs
//! ([`resume::list`]), plan once on everything the listing knows only to find what this run
//! would act on, read the listing pages that hold it again ([`resume::confirm`]), then plan
//! for real on what this run read. A version no page of this run returned, or whose place
//! among the `keep-latest` newest rests on versions not read in this run, is kept and left
//! for the next run. Container packages also take today's tags from the registry
//! ([`sweep`]) and prove every manifest the state file holds before it decides
//! ([`images_plan`]).

use std::collections::HashSet;

use super::failures::{listing_failed, rate_limited};
use super::inspect::{Cached, images_plan};
use super::package::{Scope, Unreadable};
use super::plan::warn_unknown_tags;
use super::resume::{self, ConfirmError, Pages, Unfinished};
use super::sweep::sweep;
use crate::model::version::{PackageType, Version};
use crate::policy::images::{ReadHere, Unlisted};
use crate::policy::plan::{self, Plan, PlannedVersion, Reason};
use crate::registry;
use crate::report::log::Log;
use crate::report::plural;
use crate::state::PackageState;

/// The saved listing placed pages wrongly, so the package is left for a run that lists it
/// afresh. Not a failure.
#[derive(Debug)]
pub struct Relisting(pub String);

impl std::fmt::Display for Relisting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Relisting {}

/// List and plan one package with its saved state, in a log group of its own: the plan,
/// whether its listing came partly from the state file ([`resume::Listing::from_state`]:
/// `false` only when this run read every page of it), and the manifests that could not be
/// read.
pub(super) async fn plan_package<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    saved: &mut PackageState,
    log: &mut Log<W>,
) -> (anyhow::Result<Plan>, bool, Unreadable) {
    let config = scope.config;
    log.group(&format!("{} package {name}: listing", config.package_type));
    let mut from_state = true;
    let mut unreadable = Unreadable::new();
    let planned = plan_listed(scope, name, saved, &mut from_state, &mut unreadable, log).await;
    if let Err(err) = &planned {
        let quiet = err.is::<Unfinished>() || err.is::<Relisting>();
        match rate_limited(err) {
            _ if quiet => {}
            Some(reason) => log.warning(&format!("package `{name}` not listed: {reason}")),
            None => log.error(&format!("{err:#}")),
        }
    }
    log.end_group();
    (planned, from_state, unreadable)
}

/// [`plan_package`]'s work: sets `from_state`, and `unreadable` once manifests were read.
async fn plan_listed<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    saved: &mut PackageState,
    from_state: &mut bool,
    unreadable: &mut Unreadable,
    log: &mut Log<W>,
) -> anyhow::Result<Plan> {
    let Scope {
        github,
        namespace,
        config,
        ..
    } = *scope;
    let pages = Pages {
        github,
        namespace,
        package_type: config.package_type,
        name,
    };
    let failed = |err| listing_failed(err, config, namespace, name);
    let mut listing = resume::list(&pages, saved).await.map_err(failed)?;
    if let Some(warning) = listing.state_warning.take() {
        log.warning(&warning);
    }
    if let Some(why) = &listing.relisted {
        log.warning(&format!(
            "package `{name}`: {why}: the saved listing is not used, and the listing starts again from page 1 before anything is deleted"
        ));
    }
    if !listing.complete {
        saved.versions = std::mem::take(&mut listing.merged.versions);
        let seen = usize::try_from(listing.total).unwrap_or(usize::MAX);
        let unfinished = Unfinished {
            pages_listed: listing.pages_listed,
            pages_total: listing.pages_total,
            undecided: seen.max(1),
        };
        log.warning(&format!(
            "package `{name}`: left for the next run: {unfinished} ({} seen, none decided yet; the listing carries on next run)",
            plural(seen, "version")
        ));
        return Err(anyhow::Error::new(unfinished));
    }
    let mut today = Today::default();
    let mut room = Vec::new();
    if listing.from_state {
        // The registry's tags are read only when the policy may select something: otherwise
        // nothing is decided on them.
        let container = config.package_type == PackageType::Container;
        if container
            && (config.delete_orphans
                || plan::may_select(
                    &listing.merged.versions,
                    &config.policy,
                    config.package_type,
                    config.mode,
                    scope.env.now,
                ))
        {
            today = registry_tags(scope, name, &mut listing, saved, log).await;
        }
        let wanted = match provisional(scope, name, &mut listing.merged.versions, saved, log).await
        {
            Ok(wanted) => wanted,
            Err(err) => {
                saved.versions = std::mem::take(&mut listing.merged.versions);
                return Err(err);
            }
        };
        let allowance = resume::listing_budget(github);
        let batch = listing
            .merged
            .batch(&wanted.holders, &wanted.order, allowance);
        room = wanted.room;
        let mut targets = wanted.holders;
        targets.extend_from_slice(&batch);
        let read = match resume::confirm(&pages, &mut listing, &targets, allowance).await {
            Ok(read) => read,
            Err(ConfirmError::Api(err)) => {
                saved.versions = std::mem::take(&mut listing.merged.versions);
                return Err(failed(err));
            }
            Err(ConfirmError::OrderChanged(changed)) => {
                *saved = PackageState::default();
                let why = ConfirmError::OrderChanged(changed).to_string();
                log.warning(&format!("package `{name}`: left for the next run: {why}"));
                return Err(anyhow::Error::new(Relisting(why)));
            }
        };
        log.info(&format!(
            "{} of {} read in this run ({} read again to confirm the {} this run may act on); the rest is known from the state file",
            plural(listing.merged.pages_read(), "page"),
            listing.pages_total,
            plural(read as usize, "page"),
            plural(batch.len(), "version")
        ));
    }
    *from_state = listing.from_state;
    let (plan, unread) = decide(scope, name, listing, today, room, saved, log).await?;
    *unreadable = unread;
    Ok(plan)
}

/// What the registry says of a container package today, when its listing comes partly
/// from the state file ([`sweep`]).
#[derive(Default)]
struct Today {
    /// Images tagged in the registry whose versions are not listed.
    unlisted: Vec<Unlisted>,
    /// Why the tags could not be read whole: then nothing is acted on.
    unread: Option<String>,
}

/// Gives the listed versions of a container package their tags of today, from the
/// registry, and finds the tagged images not listed. Other package types have no tags.
async fn registry_tags<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    listing: &mut resume::Listing,
    saved: &mut PackageState,
    log: &mut Log<W>,
) -> Today {
    let config = scope.config;
    let Some(registry) = scope
        .registry
        .filter(|_| config.package_type == PackageType::Container)
    else {
        return Today::default();
    };
    let repository = registry::repository(&config.owner, name);
    let swept = sweep(
        registry,
        &repository,
        &mut listing.merged.versions,
        &listing.merged.confirmed,
        &mut saved.manifests,
    )
    .await;
    match swept {
        Ok(swept) => {
            log.info(&format!(
                "registry: {} on {} read, {} with other tags than the listing, {} tagged but not listed",
                plural(swept.tags, "tag"),
                plural(swept.tag_pages, "page"),
                plural(swept.retagged, "listed version"),
                plural(swept.unlisted.len(), "image")
            ));
            Today {
                unlisted: swept.unlisted,
                unread: None,
            }
        }
        Err(why) => {
            log.warning(&format!(
                "{repository}: {why}: what this run would delete is kept, since the tags that keep images are not known"
            ));
            Today {
                unlisted: Vec::new(),
                unread: Some(why),
            }
        }
    }
}

/// What a provisional plan says this run would act on: the ids in the order they would
/// be acted on, and the versions the decision of those rests on (the `keep-latest` newest
/// of their rules), which are read first.
struct Wanted {
    order: Vec<u64>,
    holders: Vec<u64>,
    /// The plan's buffer, emptied, for the plan that decides.
    room: Vec<PlannedVersion>,
}

/// Plans `versions` as they are known (saved tags and all), only to find what this run
/// would act on; they are back in `versions`, in the listing's order, afterwards.
async fn provisional<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    versions: &mut Vec<Version>,
    saved: &mut PackageState,
    log: &mut Log<W>,
) -> anyhow::Result<Wanted> {
    let (config, env) = (scope.config, scope.env);
    let order: Vec<u64> = versions.iter().map(|version| version.id).collect();
    let planned = plan::plan(
        std::mem::take(versions),
        &config.policy,
        config.package_type,
        config.mode,
        env.now,
    );
    let planned = match scope.registry {
        Some(registry) if config.package_type == PackageType::Container => {
            let cached = Cached {
                known: &mut saved.manifests,
                decides: false,
                read: ReadHere::default(),
            };
            let repository = registry::repository(&config.owner, name);
            images_plan(
                registry,
                &repository,
                config,
                env,
                planned,
                Some(cached),
                log,
            )
            .await?
            .0
        }
        _ => planned,
    };
    let acting: Vec<u64> = planned
        .selected()
        .map(|planned| planned.version.id)
        .collect();
    let rules: HashSet<usize> = planned
        .selected()
        .filter_map(|planned| planned.rule)
        .collect();
    let holders = planned
        .versions
        .iter()
        .filter(|planned| {
            matches!(
                planned.reason,
                Reason::KeptLatest(_) | Reason::KeptBy { .. }
            ) && planned.rule.is_some_and(|rule| rules.contains(&rule))
        })
        .map(|planned| planned.version.id)
        .collect();
    let mut room = planned.versions;
    *versions = room.drain(..).map(|planned| planned.version).collect();
    resume::in_order(versions, &order);
    Ok(Wanted {
        order: acting,
        holders,
        room,
    })
}

/// The plan that decides: on what this run read, with the manifests that could not be
/// read. When part of the listing comes from the state file, only versions read in this
/// run may be acted on, and a container package takes every tag's digest from the
/// registry first.
async fn decide<W: std::io::Write>(
    scope: &Scope<'_>,
    name: &str,
    mut listing: resume::Listing,
    today: Today,
    room: Vec<PlannedVersion>,
    saved: &mut PackageState,
    log: &mut Log<W>,
) -> anyhow::Result<(Plan, Unreadable)> {
    let (config, env) = (scope.config, scope.env);
    let confirmed = std::mem::take(&mut listing.merged.confirmed);
    let confirmed = listing.from_state.then_some(&confirmed);
    let versions = std::mem::take(&mut listing.merged.versions);
    saved.order = versions.iter().map(|version| version.id).collect();
    let container = scope
        .registry
        .filter(|_| config.package_type == PackageType::Container);
    let repository = registry::repository(&config.owner, name);
    // An image found unlisted may be listed now, on a page read again.
    let listed: HashSet<&str> = versions
        .iter()
        .map(|version| version.name.as_str())
        .collect();
    let unlisted: Vec<Unlisted> = today
        .unlisted
        .into_iter()
        .filter(|image| !listed.contains(image.digest.as_str()))
        .collect();
    drop(listed);
    let count = versions.len();
    let planned = plan::plan_in(
        room,
        versions,
        &config.policy,
        config.package_type,
        config.mode,
        env.now,
        confirmed,
    );
    log.info(&format!(
        "{} listed, {} selected by the policy{}",
        plural(count, "active version"),
        planned.selected().count(),
        match confirmed {
            Some(read) => format!(", {} read in this run", plural(read.len(), "version")),
            None => String::new(),
        }
    ));
    warn_unknown_tags(&planned, config, name, log);
    let mut unreadable = Unreadable::new();
    let planned = match container {
        Some(registry) => {
            let cached = Cached {
                known: &mut saved.manifests,
                decides: true,
                read: ReadHere {
                    confirmed,
                    unlisted: &unlisted,
                },
            };
            let (planned, unread) = images_plan(
                registry,
                &repository,
                config,
                env,
                planned,
                Some(cached),
                log,
            )
            .await?;
            unreadable = unread;
            plan::carry_rules(planned)
        }
        None => planned,
    };
    let unconfirmed = planned
        .versions
        .iter()
        .filter(|planned| matches!(planned.reason, Reason::Unconfirmed(_)))
        .count();
    if unconfirmed > 0 {
        log.info(&format!(
            "not confirmed by this run's reads: {} the policy selects, left for the next run (which reads them before deciding)",
            plural(unconfirmed, "version")
        ));
    }
    let planned = match today.unread {
        Some(why) if confirmed.is_some() => plan::hold(planned, &why),
        _ => planned,
    };
    Ok((planned, unreadable))
}
