//! Test fixtures shared by the unit tests of the modules that plan, report and audit
//! versions. Compiled for tests only; it imports nothing of ours but `model`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::manifest::Blob;
use crate::model::version::Version;

/// A day, in seconds.
pub const DAY: u64 = 86_400;

/// The clock of the tests: day 1,000 after the epoch.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_000 * DAY)
}

/// The digest of version `id`: `sha256:` + `id` as 64 hex digits.
pub fn digest(id: u64) -> String {
    format!("sha256:{id:064x}")
}

/// Blob `n` of `size` bytes: its digest holds `n` in the half a blob is told apart by
/// ([`Blob::id`]), so that no two test blobs are the same blob.
pub fn blob(n: u64, size: u64) -> Blob {
    let id = Blob::id_of(&format!("sha256:{n:032x}{:032x}", 0)).expect("a sha256 digest");
    Blob { id, size }
}

/// The cosign signature tag of the image whose digest is [`digest`]`(subject)`.
pub fn signature_tag(subject: u64) -> String {
    format!("sha256-{subject:064x}.sig")
}

/// A container version named [`digest`]`(id)`, with known `tags`, created and updated at `at`.
pub fn image_at(id: u64, tags: &[&str], at: SystemTime) -> Version {
    Version {
        id,
        name: digest(id),
        tags: tags.iter().map(|tag| tag.to_string()).collect(),
        tags_known: true,
        created_at: at,
        updated_at: at,
        deleted_at: None,
    }
}

/// A container version `id` days before [`now`] (so higher ids are older), with `tags`.
pub fn version(id: u64, tags: &[&str]) -> Version {
    image_at(id, tags, now() - Duration::from_secs(id * DAY))
}
