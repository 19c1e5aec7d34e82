//! `untag`: take tags off images that stay, and `restore-tags`: put them back. ghcr.io has
//! no tag delete, so a tag goes the one way it can (docs/github-behaviour.md, "No tag delete
//! on ghcr.io"), one tag at a time ([`remove`]):
//! 1. `HEAD` of the tag: it must still name the image this run planned on (else the tag
//!    moved since the listing, and it is left alone);
//! 2. push, under the tag, a placeholder unique to this run and tag, of the same media type
//!    ([`placeholder`](crate::registry::placeholder)): the tag leaves the image for a new,
//!    empty version;
//! 3. read the first page of the package's versions (newest first) and find the version
//!    whose digest is exactly the placeholder's, carrying no other tag;
//! 4. delete that version by id. The tag goes with it.
//!
//! Anything else found under the tag (someone pushed there meanwhile) is left alone and
//! reported; a placeholder that cannot be found or deleted is reported with what to delete
//! by hand (and its id in `failed-ids`). The REST cost is one listing read and one DELETE
//! per tag (a read is repeated, at most twice, only while the placeholder is not listed
//! yet). Before the first change, [`check_push`] makes sure the token may push at all.
//!
//! Putting a tag back ([`put_back`]) pushes the image's own manifest bytes, read by digest
//! (so checked), under the tag: the digest is unchanged, so the tag names exactly the image
//! it named. A tag that names another image by now is moved back only off a placeholder
//! made for that tag.
//!
//! The run joins here in two phases: [`check_push`] in the checks before the first change,
//! and [`act`] after each package's versions are acted on.

mod put_back;
mod remove;

use std::collections::HashSet;

use crate::config::Config;
use crate::config::restore_tags::TagToRestore;
use crate::model::image::describe;
use crate::model::mode::Mode;
use crate::model::untag::{TagEntry, TagOutcome};
use crate::model::version::Version;
use crate::policy::plan::{Plan, PlannedVersion};
use crate::policy::untag::tags_to_remove;
use crate::registry;
use crate::report::log::Log;
use crate::report::plural;

use super::cancel::CANCELLED;
use super::execute::{Images, Stop, Target, check_budget};
use super::package::{PackageRun, Scope};
use put_back::put_back;
use remove::Remover;

/// What one package's tags come to: those `untag` removes, or those `restore-tags` puts
/// back.
pub enum Work<'a> {
    Remove(Vec<Removal<'a>>),
    PutBack(Vec<&'a TagToRestore>),
}

/// The tags to take off one image that stays.
pub struct Removal<'a> {
    pub version: &'a Version,
    pub tags: &'a [String],
    /// Why: the plan's reason.
    pub reason: String,
    pub rule: Option<&'a str>,
}

impl Work<'_> {
    fn tags(&self) -> usize {
        match self {
            Work::Remove(removals) => removals.iter().map(|removal| removal.tags.len()).sum(),
            Work::PutBack(tags) => tags.len(),
        }
    }
}

/// The tag work of package `name`: with `untag`, the tags its plan removes; with
/// `restore-tags`, the entries for it (whether or not its deleted versions could be
/// listed). `None` when there is none.
pub fn work<'a>(config: &'a Config, name: &str, plan: Option<&'a Plan>) -> Option<Work<'a>> {
    match (&config.restore_tags, plan) {
        (Some(tags), _) if config.mode == Mode::Restore => {
            let tags: Vec<&TagToRestore> = tags.iter().filter(|tag| tag.is_for(name)).collect();
            (!tags.is_empty()).then_some(Work::PutBack(tags))
        }
        (_, Some(plan)) if config.untag && config.mode == Mode::Delete => {
            let removals: Vec<Removal<'a>> = tags_to_remove(plan)
                .map(|(planned, tags)| removal(plan, planned, tags))
                .collect();
            (!removals.is_empty()).then_some(Work::Remove(removals))
        }
        _ => None,
    }
}

fn removal<'a>(plan: &'a Plan, planned: &'a PlannedVersion, tags: &'a [String]) -> Removal<'a> {
    Removal {
        version: &planned.version,
        tags,
        reason: planned.reason.to_string(),
        rule: plan.rule_label(planned),
    }
}

/// How many images lose tags: they count as affected for `max-versions`.
pub fn images_affected(config: &Config, packages: &[PackageRun]) -> usize {
    packages
        .iter()
        .filter_map(|package| work(config, &package.name, package.plan.as_ref().ok()))
        .map(|work| match work {
            Work::Remove(removals) => removals.len(),
            Work::PutBack(_) => 0,
        })
        .sum()
}

/// Before the first change: whether the token may push to every package with tag work.
/// `Ok(None)` when it may (or there is no tag work); `Ok(Some(why))` when it may not, in a
/// dry run (which reports each tag failed with `why`, and fails); `Err` in a real run,
/// which then stops before changing anything. A classic PAT without `write:packages` is
/// refused on its scopes; any other token by the registry itself
/// ([`Registry::check_push`](crate::registry::Registry::check_push)), which also finds a
/// `GITHUB_TOKEN` without write access or an App token the registry refuses writes.
pub async fn check_push<W: std::io::Write>(
    scope: &Scope<'_>,
    packages: &[PackageRun],
    log: &mut Log<W>,
) -> anyhow::Result<Option<String>> {
    let (config, github) = (scope.config, scope.github);
    let Some(registry) = scope.registry else {
        return Ok(None);
    };
    let mut refusal = None;
    for package in packages {
        if work(config, &package.name, package.plan.as_ref().ok()).is_none() {
            continue;
        }
        let repository = registry::repository(&config.owner, &package.name);
        let scopes = github.scopes();
        if let Some(held) = scopes
            .as_ref()
            .filter(|held| !held.iter().any(|s| s == "write:packages"))
        {
            refusal = Some(format!(
                "input `token`: this classic PAT lacks the `write:packages` scope (its scopes: {}), and {} pushes to the registry. Add `write:packages` to the token",
                if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(", ")
                },
                pushing(config)
            ));
            break;
        }
        if let Err(err) = registry.check_push(&repository).await {
            let advice = if err.is_denied() {
                match scopes {
                    Some(_) => "The classic PAT has `write:packages`, so its user needs write access to the package (package settings → Manage access)".to_string(),
                    None => "Give the job `permissions: packages: write` and the repository Write access to the package (package settings → Manage Actions access); a GitHub App installation token may be refused registry writes: use a classic PAT with `write:packages` then".to_string(),
                }
            } else {
                "Check input `registry-url` and that the registry is reachable".to_string()
            };
            refusal = Some(format!(
                "input `token`: this token cannot push to {}/{repository} ({}), and {} pushes there. {advice}",
                config.registry_url,
                err.reason(),
                pushing(config)
            ));
            break;
        }
    }
    match refusal {
        None => Ok(None),
        Some(refusal) if config.dry_run => {
            log.error(&format!(
                "{refusal}: the real run would stop before its first change."
            ));
            Ok(Some(refusal))
        }
        Some(refusal) => anyhow::bail!("{refusal}; nothing was changed."),
    }
}

/// What pushes, for the permission errors.
fn pushing(config: &Config) -> &'static str {
    match config.mode {
        Mode::Restore => "`restore-tags` puts a tag back by pushing its manifest, which",
        Mode::Delete | Mode::Audit => {
            "`untag` removes a tag by pushing a placeholder under it, which"
        }
    }
}

/// What every package's tag work shares: the run's clients and inputs, and what the checks
/// decided.
pub struct Acting<'a> {
    pub scope: &'a Scope<'a>,
    /// Why no tag is changed in this run (`max-versions`), if so.
    pub refusal: Option<&'a str>,
    /// Why the token may not push (a dry run reports each tag failed with it).
    pub push_refusal: Option<&'a str>,
}

/// Do one package's tag work, recording each tag in `entries` as it is settled (a tag
/// whose placeholder is in flight is recorded first as left, so that a run abandoned
/// mid-way still says what may be left under it). Nothing without a registry (a package
/// type without one has no tag work).
pub async fn act<W: std::io::Write>(
    acting: &Acting<'_>,
    target: &Target<'_>,
    work: &Work<'_>,
    stop: &mut Stop,
    entries: &mut Vec<TagEntry>,
    log: &mut Log<W>,
) {
    let (config, Some(registry)) = (acting.scope.config, acting.scope.registry) else {
        return;
    };
    let images = Images {
        registry,
        repository: registry::repository(&config.owner, target.name),
    };
    let verb = match work {
        Work::Remove(_) => "removing",
        Work::PutBack(_) => "putting back",
    };
    let dry = if config.dry_run { "dry run, " } else { "" };
    log.group(&format!(
        "container package {}: {dry}{verb} {}",
        target.name,
        plural(work.tags(), "tag")
    ));
    match work {
        Work::Remove(removals) => {
            let mut remover = Remover {
                acting,
                target,
                images: &images,
                blob_ready: false,
            };
            for removal in removals {
                for tag in removal.tags {
                    entries.push(TagEntry {
                        id: Some(removal.version.id),
                        digest: removal.version.name.clone(),
                        tag: tag.clone(),
                        tags: removal.version.tags.clone(),
                        outcome: TagOutcome::Left(CANCELLED.to_string()),
                        reason: removal.reason.clone(),
                        rule: removal.rule.map(str::to_owned),
                        placeholder: None,
                    });
                    let settled = remover
                        .remove(removal.version, tag, stop, entries, log)
                        .await;
                    if let Some(last) = entries.last_mut() {
                        last.outcome = settled.0;
                        last.placeholder = settled.1;
                    }
                    log_tag(log, target.name, entries.last());
                }
            }
        }
        Work::PutBack(tags) => {
            for wanted in tags {
                let outcome = put_back(acting, &images, wanted, stop).await;
                entries.push(TagEntry {
                    id: None,
                    digest: wanted.digest.clone(),
                    tag: wanted.tag.clone(),
                    tags: Vec::new(),
                    outcome,
                    reason: "restore-tags".to_string(),
                    rule: None,
                    placeholder: None,
                });
                log_tag(log, target.name, entries.last());
            }
        }
    }
    log.end_group();
}

/// Before each tag: what holds it back before anything is sent (the refusals, a stop, the
/// cancel), if anything.
fn held_back(acting: &Acting<'_>, stop: &mut Stop) -> Option<TagOutcome> {
    if let Some(refusal) = acting.refusal {
        return Some(TagOutcome::Skipped(refusal.to_string()));
    }
    if let Some(refusal) = acting.push_refusal {
        return Some(TagOutcome::Failed(refusal.to_string()));
    }
    if stop.reason.is_none() && stop.cancel.is_requested() {
        stop.reason = Some(CANCELLED.to_string());
    }
    stop.reason.clone().map(TagOutcome::Left)
}

/// Before each tag that a placeholder removes: [`held_back`], then in a dry run `dry`, and
/// the REST budget the listing read and the DELETE will spend.
async fn before_change<W: std::io::Write>(
    acting: &Acting<'_>,
    stop: &mut Stop,
    log: &mut Log<W>,
    dry: TagOutcome,
) -> Option<TagOutcome> {
    if let Some(outcome) = held_back(acting, stop) {
        return Some(outcome);
    }
    if acting.scope.config.dry_run {
        return Some(dry);
    }
    check_budget(acting.scope.github, stop, log).await;
    stop.reason.clone().map(TagOutcome::Left)
}

/// One line of the log for a settled tag: an error when it failed, a warning when it was
/// skipped or someone pushed under it meanwhile.
fn log_tag<W: std::io::Write>(log: &mut Log<W>, package: &str, entry: Option<&TagEntry>) {
    let Some(entry) = entry else {
        return;
    };
    let image = match entry.id {
        Some(id) => format!("{id} {}", describe_digest(entry)),
        None => describe_digest(entry),
    };
    let placeholder = entry
        .placeholder
        .map(|id| format!(" (placeholder version {id})"))
        .unwrap_or_default();
    let line = format!(
        "{image}: tag `{}`: {}{placeholder}",
        entry.tag, entry.outcome
    );
    match entry.outcome {
        TagOutcome::Failed(_) => log.error(&format!("{package}: {line}")),
        TagOutcome::Skipped(_) | TagOutcome::Superseded(_) => {
            log.warning(&format!("{package}: {line}"))
        }
        _ => log.info(&format!("{package}: {line}")),
    }
}

/// The image a tag entry is about, as rows name versions.
fn describe_digest(entry: &TagEntry) -> String {
    describe(&Version {
        id: entry.id.unwrap_or_default(),
        name: entry.digest.clone(),
        tags: entry.tags.clone(),
        tags_known: true,
        created_at: std::time::UNIX_EPOCH,
        updated_at: std::time::UNIX_EPOCH,
        deleted_at: None,
    })
}

/// After an interruption, every tag of `work` without an entry is left for the next run.
pub fn leave_the_rest(work: &Work<'_>, entries: &mut Vec<TagEntry>, reason: &str) {
    let done: HashSet<(Option<u64>, &str)> = entries
        .iter()
        .map(|entry| (entry.id, entry.tag.as_str()))
        .collect();
    let mut rest = Vec::new();
    match work {
        Work::Remove(removals) => {
            for removal in removals {
                for tag in removal.tags {
                    if !done.contains(&(Some(removal.version.id), tag.as_str())) {
                        rest.push(TagEntry {
                            id: Some(removal.version.id),
                            digest: removal.version.name.clone(),
                            tag: tag.clone(),
                            tags: removal.version.tags.clone(),
                            outcome: TagOutcome::Left(reason.to_string()),
                            reason: removal.reason.clone(),
                            rule: removal.rule.map(str::to_owned),
                            placeholder: None,
                        });
                    }
                }
            }
        }
        Work::PutBack(tags) => {
            for wanted in tags {
                if !done.contains(&(None, wanted.tag.as_str())) {
                    rest.push(TagEntry {
                        id: None,
                        digest: wanted.digest.clone(),
                        tag: wanted.tag.clone(),
                        tags: Vec::new(),
                        outcome: TagOutcome::Left(reason.to_string()),
                        reason: "restore-tags".to_string(),
                        rule: None,
                        placeholder: None,
                    });
                }
            }
        }
    }
    entries.extend(rest);
}

#[cfg(test)]
mod tests;
