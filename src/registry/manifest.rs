//! Image manifests and indexes as registries serve them (OCI and Docker media types), parsed
//! into [`Manifest`]s: what the image graph needs of them.

use serde::Deserialize;

use crate::model::manifest::{Child, Manifest};

/// Everything this client can read, in the order it prefers.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Media types of manifests that list other manifests.
const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Annotation buildx puts on an attestation entry, and the one naming what it attests.
const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    subject: Option<RawDescriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    digest: String,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    annotations: Option<std::collections::HashMap<String, String>>,
    #[serde(default)]
    artifact_type: Option<String>,
}

#[derive(Deserialize)]
struct RawPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// Parse a manifest body. `content_type` is the response's `Content-Type`; the body's own
/// `mediaType`, when present, wins. A body with a `manifests` array is an index whatever
/// the media types say (old Docker registries omit them).
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Manifest, String> {
    let raw: RawManifest =
        serde_json::from_slice(body).map_err(|err| format!("not a manifest: {err}"))?;
    let media_type = raw
        .media_type
        .as_deref()
        .or(content_type)
        .map(|value| value.split(';').next().unwrap_or_default().trim());
    let is_index = raw.manifests.is_some() || media_type.is_some_and(|t| INDEX_TYPES.contains(&t));
    let children = raw
        .manifests
        .unwrap_or_default()
        .into_iter()
        .map(child)
        .collect();
    Ok(Manifest {
        is_index,
        children,
        artifact_type: raw.artifact_type,
        subject: raw.subject.map(|subject| subject.digest),
    })
}

fn child(raw: RawDescriptor) -> Child {
    let annotations = raw.annotations.unwrap_or_default();
    let attests = (annotations.get(REFERENCE_TYPE).map(String::as_str)
        == Some("attestation-manifest"))
    .then(|| annotations.get(REFERENCE_DIGEST).cloned())
    .flatten();
    let platform = raw
        .platform
        .filter(|p| !(p.os == "unknown" && p.architecture == "unknown"))
        .filter(|p| !p.os.is_empty() || !p.architecture.is_empty())
        .map(|p| match p.variant {
            Some(variant) if !variant.is_empty() => {
                format!("{}/{}/{variant}", p.os, p.architecture)
            }
            _ => format!("{}/{}", p.os, p.architecture),
        });
    Child {
        digest: raw.digest,
        platform,
        attests,
        artifact_type: raw.artifact_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AMD64: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const ARM64: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const ATTEST: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    fn parsed(content_type: Option<&str>, body: &str) -> Manifest {
        parse(content_type, body.as_bytes()).unwrap_or_else(|err| panic!("{err}: {body}"))
    }

    #[test]
    fn an_oci_index_lists_platforms_and_buildx_attestations() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{AMD64}","size":1,
                "platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{ARM64}","size":1,
                "platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
              {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{ATTEST}","size":1,
                "platform":{{"architecture":"unknown","os":"unknown"}},
                "annotations":{{"vnd.docker.reference.digest":"{AMD64}",
                                "vnd.docker.reference.type":"attestation-manifest"}}}}]}}"#
        );
        let manifest = parsed(None, &body);
        assert!(manifest.is_index);
        assert_eq!(
            manifest.children,
            vec![
                Child {
                    digest: AMD64.into(),
                    platform: Some("linux/amd64".into()),
                    ..Child::default()
                },
                Child {
                    digest: ARM64.into(),
                    platform: Some("linux/arm64/v8".into()),
                    ..Child::default()
                },
                Child {
                    digest: ATTEST.into(),
                    attests: Some(AMD64.into()),
                    ..Child::default()
                },
            ]
        );
    }

    #[test]
    fn a_docker_manifest_list_is_an_index_even_without_a_media_type_in_the_body() {
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{AMD64}","platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
        );
        let manifest = parsed(
            Some("application/vnd.docker.distribution.manifest.list.v2+json"),
            &body,
        );
        assert!(manifest.is_index);
        assert_eq!(manifest.children.len(), 1);
    }

    #[test]
    fn oci_and_docker_image_manifests_have_no_children() {
        for media_type in [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ] {
            let body = format!(
                r#"{{"schemaVersion":2,"mediaType":"{media_type}",
                "config":{{"mediaType":"x","digest":"{AMD64}","size":1}},"layers":[]}}"#
            );
            let manifest = parsed(Some(media_type), &body);
            assert_eq!(manifest, Manifest::default(), "{media_type}");
        }
    }

    #[test]
    fn an_artifact_names_its_type_and_subject() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",
            "config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{ARM64}","size":2}},
            "layers":[],
            "subject":{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{AMD64}","size":9}}}}"#
        );
        let manifest = parsed(None, &body);
        assert!(!manifest.is_index);
        assert_eq!(
            manifest.artifact_type.as_deref(),
            Some("application/vnd.dev.sigstore.bundle.v0.3+json")
        );
        assert_eq!(manifest.subject.as_deref(), Some(AMD64));
    }

    #[test]
    fn a_referrers_index_entry_keeps_its_artifact_type() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{{"digest":"{ATTEST}","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}}]}}"#
        );
        let manifest = parsed(Some("application/vnd.oci.image.index.v1+json"), &body);
        assert_eq!(
            manifest.children[0].artifact_type.as_deref(),
            Some("application/vnd.dev.sigstore.bundle.v0.3+json")
        );
        assert_eq!(manifest.children[0].platform, None);
    }

    #[test]
    fn a_body_that_is_not_a_manifest_is_an_error() {
        for body in ["", "not json", "[1,2]", r#"{"manifests":[{"size":1}]}"#] {
            assert!(parse(None, body.as_bytes()).is_err(), "{body}");
        }
    }
}
