//! Taking one tag off one image: read the tag again, push the placeholder, find its
//! version on the first listing page and delete exactly it (see [`super`]).

use std::time::Duration;

use crate::github::{ApiError, ApiErrorKind};
use crate::model::untag::{TagEntry, TagOutcome};
use crate::model::version::{Version, VersionState};
use crate::registry::placeholder::{self, EMPTY_BLOB};
use crate::report::log::Log;

use super::super::execute::{Images, Stop, Target, stops_the_run};
use super::{Acting, before_change};

/// Reads of the first listing page after a push, while the placeholder is not listed yet.
const LISTING_READS: u32 = 3;

/// Takes tags off images of one package.
pub struct Remover<'a> {
    pub acting: &'a Acting<'a>,
    pub target: &'a Target<'a>,
    pub images: &'a Images<'a>,
    /// Whether the empty blob an image placeholder references is known to be there.
    pub blob_ready: bool,
}

impl Remover<'_> {
    /// Removes `tag` from `version`: the outcome, and the placeholder's version id once
    /// the listing showed it.
    pub async fn remove<W: std::io::Write>(
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
        let run = &self.acting.scope.env.run_id;
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
        let github = self.acting.scope.github;
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
    if let Some(reason) = stops_the_run(err) {
        stop.reason = Some(reason);
    }
}

fn skipped(reason: &str) -> (TagOutcome, Option<u64>) {
    (TagOutcome::Skipped(reason.to_string()), None)
}

fn failed(reason: String) -> (TagOutcome, Option<u64>) {
    (TagOutcome::Failed(reason), None)
}
