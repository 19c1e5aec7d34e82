//! Putting one tag back on the image a `restore-tags` entry names (see [`super`]).

use crate::config::restore_tags::TagToRestore;
use crate::model::untag::TagOutcome;
use crate::registry::placeholder;

use super::super::execute::{Images, Stop};
use super::{Acting, held_back};

/// Puts `wanted.tag` back on `wanted.digest` (see the module documentation). The entry
/// comes from another step's output, so nothing in it is trusted beyond its checked shape:
/// - the digest must be a manifest of this very repository (read by digest, so the bytes
///   are proven to be it), and not a placeholder;
/// - the tag must name nothing, or a placeholder pushed under this very tag: a tag that
///   names any other image is never moved;
/// - the bytes pushed are the registry's own, under the media type they were served with,
///   so the tag names exactly the digest the entry gave.
pub async fn put_back(
    acting: &Acting<'_>,
    images: &Images<'_>,
    wanted: &TagToRestore,
    stop: &mut Stop,
) -> TagOutcome {
    if let Some(outcome) = held_back(acting, stop) {
        return outcome;
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
    if acting.scope.config.dry_run {
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
