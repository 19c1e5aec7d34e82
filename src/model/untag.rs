//! Tags removed from an image that stays (`untag`), or put back on it (`restore-tags`): what
//! happened to each tag, shared by the run that records it and the reports that show it.

use std::fmt;

/// What happened to one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagOutcome {
    /// Removed from its image: the placeholder pushed under it was deleted again.
    Removed,
    /// A dry run: would be removed.
    WouldRemove,
    /// Put back on the image it named (`restore-tags`).
    Restored,
    /// Put back, off the placeholder digest it named (one an earlier run left behind):
    /// that placeholder's version is left, untagged, to be deleted by hand.
    RestoredOffPlaceholder(String),
    /// A dry run of `restore-tags`: would be put back.
    WouldRestore,
    /// Someone pushed under the tag while it was being removed: it now names this digest,
    /// which is left alone. The image the run meant to untag no longer carries it.
    Superseded(String),
    /// Not done, for a known reason that is not a failure (the tag moved before the run
    /// got to it, the image is already tagged so).
    Skipped(String),
    /// Not done, or done only in part (a placeholder left behind): the reason says what is
    /// left to do.
    Failed(String),
    /// Not tried: the run stopped first (rate limit, cancel).
    Left(String),
}

impl fmt::Display for TagOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagOutcome::Removed => f.write_str("tag removed"),
            TagOutcome::WouldRemove => f.write_str("would remove the tag"),
            TagOutcome::Restored => f.write_str("tag restored"),
            TagOutcome::RestoredOffPlaceholder(digest) => write!(
                f,
                "tag restored, off the placeholder {digest}, whose version is left untagged: delete it by hand"
            ),
            TagOutcome::WouldRestore => f.write_str("would restore the tag"),
            TagOutcome::Superseded(digest) => write!(
                f,
                "superseded: pushed again meanwhile, the tag now names {digest}, which is left alone"
            ),
            TagOutcome::Skipped(reason) => write!(f, "skipped: {reason}"),
            TagOutcome::Failed(reason) => write!(f, "failed: {reason}"),
            TagOutcome::Left(reason) => write!(f, "left for the next run: {reason}"),
        }
    }
}

/// One tag removed from (or put back on) one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry {
    /// The version the tag was on; `None` when putting a tag back, which reads no listing
    /// of active versions.
    pub id: Option<u64>,
    /// The image's digest.
    pub digest: String,
    pub tag: String,
    /// The image's tags as this run listed them (empty when not listed).
    pub tags: Vec<String>,
    pub outcome: TagOutcome,
    /// Why the tag goes (the policy's reason), or why it comes back.
    pub reason: String,
    /// The rule that selected the tag, if any.
    pub rule: Option<String>,
    /// The placeholder version pushed under the tag, once the listing showed it: deleted
    /// when the outcome is `Removed`, to be deleted by hand when it is `Failed`.
    pub placeholder: Option<u64>,
}
