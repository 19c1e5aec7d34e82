//! The placeholder manifest `untag` pushes under a tag to take it off its image: empty, of
//! the same media type as what the tag names, and unique to the run and the tag (its
//! annotations name both), so that its digest is a version no one else has.
//!
//! - An index (OCI or Docker) lists no manifest.
//! - An image manifest references the OCI empty descriptor (`{}`, 2 bytes,
//!   `application/vnd.oci.empty.v1+json`) as its config (and, for OCI, as its one layer, as
//!   the image spec's guidance for an empty descriptor asks); registries check that the
//!   blobs a manifest references exist, so that blob is pushed first ([`EMPTY_BLOB`]).
//! - Docker media types have no `annotations` field; registries keep the bytes as pushed, so
//!   the annotations still make it unique (and say what it is to anyone who reads it).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The OCI empty JSON blob, `{}`.
pub const EMPTY_BLOB: &[u8] = b"{}";

/// Its digest.
pub const EMPTY_BLOB_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The `artifactType` of an OCI image placeholder (the spec asks for one when the config
/// is the empty descriptor).
pub const ARTIFACT_TYPE: &str = "application/vnd.package-janitor.placeholder.v1+json";

/// The annotation naming the tag a placeholder was pushed under.
pub const TAG_ANNOTATION: &str = "vnd.package-janitor.placeholder.tag";
/// The annotation naming the run that pushed it.
pub const RUN_ANNOTATION: &str = "vnd.package-janitor.placeholder.run";
const DESCRIPTION: &str = "org.opencontainers.image.description";

/// The manifest media types a placeholder can be made of, as `'static` values (the one a
/// tag's `HEAD` names must be one of them).
pub const MEDIA_TYPES: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// One placeholder, ready to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    /// `sha256:<hex>` of `bytes`: the version the listing must show.
    pub digest: String,
    /// Whether it references [`EMPTY_BLOB`], which must be in the repository first.
    pub needs_empty_blob: bool,
}

/// The `'static` form of `media_type` when it is one a placeholder can be made of.
pub fn known_media_type(media_type: &str) -> Option<&'static str> {
    MEDIA_TYPES
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(media_type.trim()))
}

/// The placeholder for `tag`, pushed by `run` (an id unique to this run), of `media_type`;
/// `None` for a media type no placeholder is made of.
pub fn placeholder(media_type: &str, tag: &str, run: &str) -> Option<Placeholder> {
    let media_type = known_media_type(media_type)?;
    let annotations = json!({
        DESCRIPTION: format!(
            "package-janitor placeholder: pushed under tag {tag} to take the tag off its image, \
             and deleted right after; if it is still here, delete it"
        ),
        TAG_ANNOTATION: tag,
        RUN_ANNOTATION: run,
    });
    let empty = |media_type: &str| json!({"mediaType": media_type, "digest": EMPTY_BLOB_DIGEST, "size": EMPTY_BLOB.len()});
    let (body, needs_empty_blob): (Value, bool) = match media_type {
        OCI_INDEX | DOCKER_LIST => (
            json!({
                "schemaVersion": 2,
                "mediaType": media_type,
                "manifests": [],
                "annotations": annotations,
            }),
            false,
        ),
        OCI_MANIFEST => (
            json!({
                "schemaVersion": 2,
                "mediaType": media_type,
                "artifactType": ARTIFACT_TYPE,
                "config": empty(OCI_EMPTY),
                "layers": [empty(OCI_EMPTY)],
                "annotations": annotations,
            }),
            true,
        ),
        _ => (
            json!({
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": empty(DOCKER_CONFIG),
                "layers": [],
                "annotations": annotations,
            }),
            true,
        ),
    };
    let bytes = serde_json::to_vec(&body).ok()?;
    Some(Placeholder {
        media_type,
        digest: sha256(&bytes),
        bytes,
        needs_empty_blob,
    })
}

/// The tag a package-janitor placeholder was pushed under ([`TAG_ANNOTATION`]), when the
/// manifest `bytes` are one: a tag is put back only off a placeholder made for that very
/// tag, and never onto a placeholder.
pub fn placeholder_tag(bytes: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(bytes).ok()?;
    Some(
        body.get("annotations")?
            .get(TAG_ANNOTATION)?
            .as_str()?
            .to_string(),
    )
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::manifest;

    #[test]
    fn the_empty_blob_digest_is_the_oci_empty_descriptors() {
        assert_eq!(sha256(EMPTY_BLOB), EMPTY_BLOB_DIGEST);
    }

    #[test]
    fn each_media_type_gets_an_empty_placeholder_of_its_own_kind() {
        let cases = [
            (OCI_INDEX, true, false),
            (DOCKER_LIST, true, false),
            (OCI_MANIFEST, false, true),
            (DOCKER_MANIFEST, false, true),
        ];
        for (media_type, is_index, needs_blob) in cases {
            let made = placeholder(media_type, "sha-1a2b", "run-7").expect("known type");
            assert_eq!(made.media_type, media_type);
            assert_eq!(made.digest, sha256(&made.bytes));
            assert_eq!(made.needs_empty_blob, needs_blob, "{media_type}");
            let parsed = manifest::parse(Some(media_type), &made.bytes).expect("a manifest");
            assert_eq!(parsed.is_index, is_index, "{media_type}");
            assert!(parsed.children.is_empty() && parsed.subject.is_none());
            let body: Value = serde_json::from_slice(&made.bytes).expect("JSON");
            assert_eq!(body["mediaType"], media_type);
            assert_eq!(body["annotations"][TAG_ANNOTATION], "sha-1a2b");
            assert_eq!(body["annotations"][RUN_ANNOTATION], "run-7");
            assert_eq!(placeholder_tag(&made.bytes).as_deref(), Some("sha-1a2b"));
        }
    }

    #[test]
    fn placeholders_differ_by_tag_and_by_run_and_unknown_types_get_none() {
        let one = placeholder(OCI_INDEX, "a", "run-1").expect("known");
        assert_ne!(
            one.digest,
            placeholder(OCI_INDEX, "b", "run-1").expect("known").digest
        );
        assert_ne!(
            one.digest,
            placeholder(OCI_INDEX, "a", "run-2").expect("known").digest
        );
        assert_eq!(one, placeholder(OCI_INDEX, "a", "run-1").expect("known"));
        assert_eq!(
            placeholder("application/vnd.oci.image.layer.v1.tar", "a", "r"),
            None
        );
        assert_eq!(
            known_media_type("Application/VND.oci.image.index.v1+json"),
            Some(OCI_INDEX)
        );
        assert_eq!(
            placeholder_tag(br#"{"schemaVersion":2,"manifests":[]}"#),
            None
        );
        assert_eq!(placeholder_tag(b"not json"), None);
        let other = format!(r#"{{"annotations":{{"{TAG_ANNOTATION}":7}}}}"#);
        assert_eq!(placeholder_tag(other.as_bytes()), None);
    }
}
