//! `untag`: take tags off images that stay, and `restore-tags`: put them back. ghcr.io has
//! no tag delete, so a tag goes the one way it can (github-facts.md, "No tag delete on
//! ghcr.io"), one tag at a time:
//! 1. `HEAD` of the tag: it must still name the image this run planned on (else the tag
//!    moved since the listing, and it is left alone);
//! 2. push, under the tag, a placeholder unique to this run and tag, of the same media type
//!    ([`placeholder`]): the tag leaves the image for a new, empty version;
//! 3. read the first page of the package's versions (newest first) and find the version
//!    whose digest is exactly the placeholder's;
//! 4. delete that version by id. The tag goes with it.
//!
//! Anything else found under the tag (someone pushed there meanwhile) is left alone and
//! reported; a placeholder that cannot be found or deleted is reported with what to delete
//! by hand (and its id in `failed-ids`). The REST cost is one listing read and one DELETE
//! per tag (a read is repeated, at most twice, only while the placeholder is not listed
//! yet). Before the first change, [`check`] makes sure the token may push at all.
//!
//! Putting a tag back pushes the image's own manifest bytes, read by digest (so checked),
//! under the tag: the digest is unchanged, so the tag names exactly the image it named. A
//! tag that names another image by now is moved back only off one of our placeholders.

use std::collections::HashSet;
use std::time::Duration;

use crate::config::Config;
use crate::config::restore_tags::TagToRestore;
use crate::github::{ApiError, ApiErrorKind, GitHub};
use crate::model::image::describe;
use crate::model::mode::Mode;
use crate::model::untag::{TagEntry, TagOutcome};
use crate::model::version::{Version, VersionState};
use crate::policy::plan::{Plan, PlannedVersion};
use crate::policy::untag::tags_to_remove;
use crate::registry::placeholder::{self, EMPTY_BLOB};
use crate::registry::{self, Registry};
use crate::report::log::Log;
use crate::report::plural;

use super::cancel::CANCELLED;
use super::environment::Environment;
use super::execute::{Images, Stop, Target, asked_to_wait, check_budget, spent};

/// Reads of the first listing page after a push, while the placeholder is not listed yet.
const LISTING_READS: u32 = 3;

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

/// The tag work of each package, in the order of `plans` (one slot each, `None` when there
/// is none): with `untag`, the tags the plan removes; with `restore-tags`, the tags of that
/// package (whether or not its deleted versions could be listed).
pub fn work<'a>(
    config: &'a Config,
    plans: impl Iterator<Item = (&'a str, Option<&'a Plan>)>,
) -> Vec<Option<Work<'a>>> {
    plans
        .map(|(name, plan)| match (&config.restore_tags, plan) {
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
        })
        .collect()
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
pub fn images_affected(work: &[Option<Work<'_>>]) -> usize {
    work.iter()
        .flatten()
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
/// refused on its scopes; any other token by the registry itself ([`Registry::check_push`]),
/// which also finds a `GITHUB_TOKEN` without write access or an App token the registry
/// refuses writes.
pub async fn check<W: std::io::Write>(
    work: &[Option<Work<'_>>],
    names: &[&str],
    registry: Option<&Registry>,
    github: &GitHub,
    config: &Config,
    log: &mut Log<W>,
) -> anyhow::Result<Option<String>> {
    let Some(registry) = registry else {
        return Ok(None);
    };
    let mut refusal = None;
    for (work, name) in work.iter().zip(names) {
        if work.is_none() {
            continue;
        }
        let repository = registry::repository(&config.owner, name);
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

/// What every package's tag work shares.
pub struct Acting<'a> {
    pub github: &'a GitHub,
    pub registry: &'a Registry,
    pub config: &'a Config,
    pub env: &'a Environment,
    /// Why no tag is changed in this run (`max-versions`), if so.
    pub refusal: Option<&'a str>,
    /// Why the token may not push (a dry run reports each tag failed with it).
    pub push_refusal: Option<&'a str>,
}

/// Do one package's tag work, recording each tag in `entries` as it is settled (a tag
/// whose placeholder is in flight is recorded first as left, so that a run abandoned
/// mid-way still says what may be left under it).
pub async fn act<W: std::io::Write>(
    acting: &Acting<'_>,
    target: &Target<'_>,
    work: &Work<'_>,
    stop: &mut Stop,
    entries: &mut Vec<TagEntry>,
    log: &mut Log<W>,
) {
    let images = Images {
        registry: acting.registry,
        repository: registry::repository(&acting.config.owner, target.name),
    };
    let (verb, count) = match work {
        Work::Remove(_) => ("removing", work.tags()),
        Work::PutBack(_) => ("putting back", work.tags()),
    };
    let dry = if acting.config.dry_run {
        "dry run, "
    } else {
        ""
    };
    log.group(&format!(
        "container package {}: {dry}{verb} {}",
        target.name,
        plural(count, "tag")
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
                    let entry = TagEntry {
                        id: Some(removal.version.id),
                        digest: removal.version.name.clone(),
                        tag: tag.clone(),
                        tags: removal.version.tags.clone(),
                        outcome: TagOutcome::Left(CANCELLED.to_string()),
                        reason: removal.reason.clone(),
                        rule: removal.rule.map(str::to_owned),
                        placeholder: None,
                    };
                    entries.push(entry);
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

/// Before each tag: the refusals, the stop, the budget and the cancel; the outcome that
/// ends this tag's work before it starts, if any.
async fn before_change<W: std::io::Write>(
    acting: &Acting<'_>,
    stop: &mut Stop,
    log: &mut Log<W>,
    dry: TagOutcome,
) -> Option<TagOutcome> {
    if let Some(refusal) = acting.refusal {
        return Some(TagOutcome::Skipped(refusal.to_string()));
    }
    if let Some(refusal) = acting.push_refusal {
        return Some(TagOutcome::Failed(refusal.to_string()));
    }
    if acting.config.dry_run {
        return Some(dry);
    }
    if stop.reason.is_none() {
        check_budget(acting.github, stop, log).await;
    }
    if stop.reason.is_none() && stop.cancel.is_requested() {
        stop.reason = Some(CANCELLED.to_string());
    }
    stop.reason.clone().map(TagOutcome::Left)
}

/// Takes tags off images of one package.
struct Remover<'a> {
    acting: &'a Acting<'a>,
    target: &'a Target<'a>,
    images: &'a Images<'a>,
    /// Whether the empty blob an image placeholder references is known to be there.
    blob_ready: bool,
}

impl Remover<'_> {
    /// Removes `tag` from `version`: the outcome, and the placeholder's version id once
    /// the listing showed it.
    async fn remove<W: std::io::Write>(
        &mut self,
        version: &Version,
        tag: &str,
        stop: &mut Stop,
        entries: &mut [TagEntry],
        log: &mut Log<W>,
    ) -> (TagOutcome, Option<u64>) {
        if let Some(outcome) = before_change(self.acting, stop, log, TagOutcome::WouldRemove).await
        {
            return (outcome, None);
        }
        let (registry, repository) = (self.images.registry, self.images.repository.as_str());
        let head = match registry.head(repository, tag).await {
            Ok(head) => head,
            Err(err) if err.is_unknown() => {
                return skipped("the tag is no longer in the registry");
            }
            Err(err) => return failed(format!("could not read the tag: {}", err.reason())),
        };
        if !head.digest.eq_ignore_ascii_case(&version.name) {
            return skipped(&format!(
                "the tag names {} now, not this image (it moved since the listing): left alone",
                head.digest
            ));
        }
        let media_type = head.media_type.as_deref().unwrap_or_default();
        let run = &self.acting.env.run_id;
        let Some(made) = placeholder::placeholder(media_type, tag, run) else {
            return skipped(&format!(
                "its media type `{}` is not one a placeholder can be made of: left alone",
                media_type.chars().take(100).collect::<String>()
            ));
        };
        if made.needs_empty_blob && !self.blob_ready {
            if let Err(err) = registry.ensure_blob(repository, EMPTY_BLOB).await {
                return failed(format!(
                    "the empty blob a placeholder references could not be pushed ({err}): the tag is unchanged"
                ));
            }
            self.blob_ready = true;
        }
        if let Some(last) = entries.last_mut() {
            last.outcome = TagOutcome::Left(format!(
                "cancelled while its placeholder {} was pushed and deleted: if the tag names it, delete that version by hand",
                made.digest
            ));
        }
        let pushed = registry
            .put_manifest(repository, tag, made.media_type, &made.bytes)
            .await;
        if let Err(err) = &pushed
            && matches!(err.status(), Some(400..=499))
        {
            return failed(format!(
                "the registry refused the placeholder ({err}): the tag is unchanged"
            ));
        }
        let doubt = pushed
            .err()
            .map(|err| format!(" (its push answered: {err})"));
        self.settle(&made.digest, tag, doubt.as_deref(), stop).await
    }

    /// Finds the placeholder `digest` in the listing and deletes it.
    async fn settle(
        &self,
        digest: &str,
        tag: &str,
        doubt: Option<&str>,
        stop: &mut Stop,
    ) -> (TagOutcome, Option<u64>) {
        let github = self.acting.github;
        let target = self.target;
        let mut listed = None;
        for read in 0..LISTING_READS {
            if read > 0 {
                tokio::time::sleep(Duration::from_secs(u64::from(read))).await;
            }
            let page = github
                .list_page(
                    target.namespace,
                    target.package_type,
                    target.name,
                    VersionState::Active,
                    1,
                )
                .await;
            match page {
                Ok((versions, _)) => {
                    let found = versions.iter().any(|v| v.name.eq_ignore_ascii_case(digest));
                    listed = Some(versions);
                    if found {
                        break;
                    }
                }
                Err(err) => {
                    note_limits(&err, stop);
                    return failed(format!(
                        "its placeholder {digest} was pushed{}, but the listing could not be read ({err}): if the tag names it, delete that version by hand",
                        doubt.unwrap_or_default()
                    ));
                }
            }
        }
        let versions = listed.unwrap_or_default();
        let Some(placeholder) = versions
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(digest))
        else {
            return match doubt {
                Some(doubt) => failed(format!(
                    "the placeholder push failed{doubt}, and no version {digest} is listed: the tag may be unchanged; check it"
                )),
                None => failed(format!(
                    "its placeholder {digest} is not in the package's first listing page: once it is listed, delete it by hand (the tag names it)"
                )),
            };
        };
        let id = placeholder.id;
        if placeholder.tags.iter().any(|held| held != tag) {
            return (
                TagOutcome::Failed(format!(
                    "its placeholder (version {id}) also carries {}, so it was not deleted: delete it by hand once they are moved",
                    placeholder.tags.join(", ")
                )),
                Some(id),
            );
        }
        let pushed_since = versions
            .iter()
            .find(|v| v.id != id && v.tags.iter().any(|held| held == tag))
            .map(|v| v.name.clone());
        let deleted = github
            .delete_version(target.namespace, target.package_type, target.name, id)
            .await;
        match deleted {
            Ok(()) => {}
            Err(err) if err.kind == ApiErrorKind::NotFound => {}
            Err(err) => {
                note_limits(&err, stop);
                return (
                    TagOutcome::Failed(format!(
                        "its placeholder (version {id}) could not be deleted ({err}): delete version {id} by hand"
                    )),
                    Some(id),
                );
            }
        }
        match pushed_since {
            Some(other) => (TagOutcome::Superseded(other), Some(id)),
            None => (TagOutcome::Removed, Some(id)),
        }
    }
}

/// A REST answer that spends the budget, or asks for a long pause, stops the run.
fn note_limits(err: &ApiError, stop: &mut Stop) {
    match err.kind {
        ApiErrorKind::RateLimited => stop.reason = Some(spent(err.reset, None)),
        ApiErrorKind::AskedToWait => stop.reason = Some(asked_to_wait(err)),
        _ => {}
    }
}

fn skipped(reason: &str) -> (TagOutcome, Option<u64>) {
    (TagOutcome::Skipped(reason.to_string()), None)
}

fn failed(reason: String) -> (TagOutcome, Option<u64>) {
    (TagOutcome::Failed(reason), None)
}

/// Puts `wanted.tag` back on `wanted.digest` (see the module documentation). The entry
/// comes from another step's output, so nothing in it is trusted beyond its checked shape:
/// - the digest must be a manifest of this very repository (read by digest, so the bytes
///   are proven to be it), and not a placeholder;
/// - the tag must name nothing, or a placeholder pushed under this very tag: a tag that
///   names any other image is never moved;
/// - the bytes pushed are the registry's own, under the media type they were served with,
///   so the tag names exactly the digest the entry gave.
async fn put_back(
    acting: &Acting<'_>,
    images: &Images<'_>,
    wanted: &TagToRestore,
    stop: &mut Stop,
) -> TagOutcome {
    if let Some(refusal) = acting.refusal {
        return TagOutcome::Skipped(refusal.to_string());
    }
    if let Some(refusal) = acting.push_refusal {
        return TagOutcome::Failed(refusal.to_string());
    }
    if stop.reason.is_none() && stop.cancel.is_requested() {
        stop.reason = Some(CANCELLED.to_string());
    }
    if let Some(reason) = &stop.reason {
        return TagOutcome::Left(reason.clone());
    }
    let (registry, repository) = (images.registry, images.repository.as_str());
    let (tag, digest) = (wanted.tag.as_str(), wanted.digest.as_str());
    let mut moves_off = None;
    match registry.head(repository, tag).await {
        Ok(head) if head.digest.eq_ignore_ascii_case(digest) => {
            return TagOutcome::Skipped("the tag already names this image".to_string());
        }
        Ok(head) => match registry.manifest_read(repository, &head.digest).await {
            Ok(read) if placeholder::placeholder_tag(&read.bytes).as_deref() == Some(tag) => {
                moves_off = Some(head.digest);
            }
            Ok(_) => {
                return TagOutcome::Skipped(format!(
                    "the tag names {} now, pushed since it was removed: left alone",
                    head.digest
                ));
            }
            Err(err) => {
                return TagOutcome::Failed(format!(
                    "the tag names {} now, which could not be read ({}): left alone",
                    head.digest,
                    err.reason()
                ));
            }
        },
        Err(err) if err.is_unknown() => {}
        Err(err) => {
            return TagOutcome::Failed(format!("could not read the tag: {}", err.reason()));
        }
    }
    let read = match registry.manifest_read(repository, digest).await {
        Ok(read) => read,
        Err(err) if err.is_unknown() => {
            return TagOutcome::Failed(format!(
                "{digest} is not in {repository}: a deleted image must be restored first (with `version-ids`), and a digest of another package is never tagged here"
            ));
        }
        Err(err) => {
            return TagOutcome::Failed(format!("{digest} could not be read: {}", err.reason()));
        }
    };
    if placeholder::placeholder_tag(&read.bytes).is_some() {
        return TagOutcome::Failed(format!(
            "{digest} is a package-janitor placeholder, not an image: no tag is put on it"
        ));
    }
    let media_type = read
        .media_type
        .as_deref()
        .and_then(placeholder::known_media_type)
        .or_else(|| body_media_type(&read.bytes));
    let Some(media_type) = media_type else {
        return TagOutcome::Failed(format!(
            "{digest} is served with a media type this run does not push"
        ));
    };
    if acting.config.dry_run {
        return TagOutcome::WouldRestore;
    }
    match registry
        .put_manifest(repository, tag, media_type, &read.bytes)
        .await
    {
        Ok(_) => match moves_off {
            Some(placeholder) => TagOutcome::RestoredOffPlaceholder(placeholder),
            None => TagOutcome::Restored,
        },
        Err(err) => TagOutcome::Failed(format!("pushing the manifest under the tag failed: {err}")),
    }
}

/// The `mediaType` a manifest's own bytes name, when it is one this run pushes.
fn body_media_type(bytes: &[u8]) -> Option<&'static str> {
    let body: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    placeholder::known_media_type(body.get("mediaType")?.as_str()?)
}

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

/// Every package's tag work, once its versions are done (`acted`): none when acting ended
/// on an error or a cancel (every tag is then left), and a cancel during it gives the tag in
/// flight the grace. Returns the entries, one list per slot of `work`, and how acting ended
/// (an error when the tag work was cut off mid-request).
#[allow(clippy::too_many_arguments)] // The run's shared pieces, threaded through once.
pub async fn act_all<W: std::io::Write>(
    acting: Option<&Acting<'_>>,
    work: &[Option<Work<'_>>],
    names: &[&str],
    namespace: &crate::github::Namespace,
    stop: &mut Stop,
    acted: anyhow::Result<()>,
    log: &mut Log<W>,
) -> (Vec<Vec<TagEntry>>, anyhow::Result<()>) {
    let mut entries: Vec<Vec<TagEntry>> = work.iter().map(|_| Vec::new()).collect();
    let mut acted = acted;
    for ((work, name), entries) in work.iter().zip(names).zip(entries.iter_mut()) {
        let Some(work) = work else {
            continue;
        };
        let (Some(acting), Ok(())) = (acting, &acted) else {
            let reason = if stop.cancel.is_requested() {
                CANCELLED
            } else {
                "not tried: the run stopped on an error"
            };
            leave_the_rest(work, entries, reason);
            continue;
        };
        let target = Target {
            namespace,
            package_type: acting.config.package_type,
            name,
        };
        let finished = tokio::select! {
            () = act(acting, &target, work, stop, entries, log) => true,
            () = acting.env.cancel.grace_over() => false,
        };
        if !finished {
            log.end_group();
            leave_the_rest(work, entries, CANCELLED);
            acted = Err(anyhow::anyhow!(
                "cancelled (SIGTERM or SIGINT), and the registry or API request in flight did not finish within {} s: a placeholder pushed for the tag in flight may be left under it (see its outcome)",
                super::cancel::GRACE.as_secs()
            ));
        }
    }
    (entries, acted)
}
