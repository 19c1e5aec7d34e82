//! Image manifests and indexes as registries serve them (OCI and Docker media types), parsed
//! into [`Manifest`]s: what the image graph needs of them, and the sizes of the blobs an
//! image manifest stores.

use serde::Deserialize;
use serde_json::Value;

use crate::model::image::short_digest;
use crate::model::manifest::{Blob, Blobs, Child, MAX_BLOBS, MAX_BYTES, Manifest};

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

/// Characters of a digest that is not sha256 shown in why the sizes cannot be counted.
const SHOWN_DIGEST_CHARS: usize = 24;

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
    /// Read loosely: a config or layer the sizes cannot use makes the sizes unknown, never
    /// the manifest unreadable (the image graph does not need them).
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    layers: Option<Value>,
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
    let blobs = if is_index {
        Blobs::default()
    } else {
        blobs(raw.config.as_ref(), raw.layers.as_ref())
    };
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
        blobs,
    })
}

/// The config and layers of an image manifest, each with its size, or why they cannot be
/// counted: a descriptor without a sha256 digest, or with a size that is missing,
/// negative, fractional or past [`MAX_BYTES`] (OCI sizes are int64; nothing real is near),
/// or more than [`MAX_BLOBS`] of them.
fn blobs(config: Option<&Value>, layers: Option<&Value>) -> Blobs {
    let layers = match layers {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(layers)) => layers.as_slice(),
        Some(_) => return Blobs::Unsized("its `layers` is not a list".to_string()),
    };
    let config = config.filter(|config| !config.is_null());
    if layers.len() + usize::from(config.is_some()) > MAX_BLOBS {
        return Blobs::Unsized(format!("it lists more than {MAX_BLOBS} blobs"));
    }
    let described = config
        .map(|config| ("config", config))
        .into_iter()
        .chain(layers.iter().map(|layer| ("layer", layer)));
    let mut blobs = Vec::with_capacity(layers.len() + 1);
    for (what, descriptor) in described {
        match blob(descriptor) {
            Ok(blob) => blobs.push(blob),
            Err(why) => return Blobs::Unsized(format!("its {what} {why}")),
        }
    }
    Blobs::Sized(blobs.into_boxed_slice())
}

fn blob(descriptor: &Value) -> Result<Blob, String> {
    let Some(digest) = descriptor.get("digest").and_then(Value::as_str) else {
        return Err("has no digest".to_string());
    };
    let Some(id) = Blob::id_of(digest) else {
        let shown: String = digest.chars().take(SHOWN_DIGEST_CHARS).collect();
        let cut = if shown.len() < digest.len() {
            "…"
        } else {
            ""
        };
        return Err(format!("{shown}{cut} is not a sha256 digest"));
    };
    let digest = short_digest(digest);
    match descriptor.get("size") {
        None | Some(Value::Null) => Err(format!("{digest} has no size")),
        Some(Value::Number(size)) => match size.as_u64().filter(|size| *size <= MAX_BYTES) {
            Some(size) => Ok(Blob { id, size }),
            None => Err(format!(
                "{digest} claims a size of {size} bytes: negative, not whole, or past 2^53"
            )),
        },
        Some(_) => Err(format!("{digest} has a size that is not a number")),
    }
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

    fn blob(digest: &str, size: u64) -> Blob {
        Blob {
            id: Blob::id_of(digest).unwrap_or_else(|| panic!("{digest}")),
            size,
        }
    }

    #[test]
    fn oci_and_docker_image_manifests_have_no_children_and_store_their_config() {
        for media_type in [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ] {
            let body = format!(
                r#"{{"schemaVersion":2,"mediaType":"{media_type}",
                "config":{{"mediaType":"x","digest":"{AMD64}","size":1}},"layers":[]}}"#
            );
            let manifest = parsed(Some(media_type), &body);
            let expected = Manifest {
                blobs: Blobs::Sized([blob(AMD64, 1)].into()),
                ..Manifest::default()
            };
            assert_eq!(manifest, expected, "{media_type}");
        }
    }

    /// An image manifest with `config` and `layers` as given (JSON text).
    fn image_with(config: &str, layers: &str) -> Manifest {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{config},"layers":{layers}}}"#
        );
        parsed(None, &body)
    }

    #[test]
    fn the_config_and_every_layer_are_stored_with_their_sizes_in_order_repeats_included() {
        let config = format!(r#"{{"digest":"{AMD64}","size":1469}}"#);
        let layers = format!(
            r#"[{{"digest":"{ARM64}","size":29126484}},{{"digest":"{ATTEST}","size":9007199254740992}},
               {{"digest":"{ARM64}","size":29126484}}]"#
        );
        assert_eq!(
            image_with(&config, &layers).blobs,
            Blobs::Sized(
                [
                    blob(AMD64, 1469),
                    blob(ARM64, 29_126_484),
                    blob(ATTEST, 1 << 53),
                    blob(ARM64, 29_126_484),
                ]
                .into()
            )
        );
        assert_eq!(
            image_with("null", "null").blobs,
            Blobs::Sized(Box::default())
        );
    }

    #[test]
    fn a_size_that_cannot_be_makes_the_sizes_unknown_but_the_manifest_still_reads() {
        let cases = [
            ("-1", "claims a size of -1 bytes"),
            (
                "9007199254740993",
                "claims a size of 9007199254740993 bytes",
            ),
            ("18446744073709551616", "past 2^53"),
            ("1e300", "claims a size of 1e+300 bytes"),
            ("12.5", "claims a size of 12.5 bytes"),
            (r#""12""#, "a size that is not a number"),
            ("null", "has no size"),
        ];
        for (size, why) in cases {
            let layers = format!(r#"[{{"digest":"{ARM64}","size":{size}}}]"#);
            let manifest = image_with("null", &layers);
            match &manifest.blobs {
                Blobs::Unsized(reason) => {
                    assert!(
                        reason.starts_with("its layer sha256:222222222222…"),
                        "{reason}"
                    );
                    assert!(reason.contains(why), "{size}: {reason}");
                }
                sized => panic!("{size} was summed: {sized:?}"),
            }
        }
        let subject = format!(
            r#"{{"schemaVersion":2,"config":{{"digest":"{AMD64}","size":-5}},"layers":[],
                "subject":{{"digest":"{ARM64}","size":1}}}}"#
        );
        let manifest = parsed(None, &subject);
        assert_eq!(
            manifest.subject.as_deref(),
            Some(ARM64),
            "the graph still reads it"
        );
        assert!(matches!(manifest.blobs, Blobs::Unsized(_)));
    }

    #[test]
    fn a_digest_that_is_not_sha256_or_layers_that_are_not_a_list_leave_the_sizes_unknown() {
        let long = format!("sha512:{}", "ab".repeat(64));
        let cases = [
            (
                format!(r#"{{"digest":"{long}","size":1}}"#),
                "[]".to_string(),
                "its config sha512:ababababababababa… is not a sha256 digest",
            ),
            (
                "null".to_string(),
                r#"[{"size":1}]"#.to_string(),
                "its layer has no digest",
            ),
            (
                "null".to_string(),
                r#"{"digest":"x"}"#.to_string(),
                "its `layers` is not a list",
            ),
        ];
        for (config, layers, why) in cases {
            assert_eq!(
                image_with(&config, &layers).blobs,
                Blobs::Unsized(why.to_string())
            );
        }
    }

    #[test]
    fn a_manifest_of_more_than_max_blobs_blobs_is_not_counted_and_one_of_max_blobs_is() {
        let layers = |count: usize| {
            let layer = format!(r#"{{"digest":"{ARM64}","size":1}}"#);
            format!("[{}]", vec![layer; count].join(","))
        };
        let config = format!(r#"{{"digest":"{AMD64}","size":1}}"#);
        match image_with(&config, &layers(MAX_BLOBS - 1)).blobs {
            Blobs::Sized(blobs) => assert_eq!(blobs.len(), MAX_BLOBS),
            other => panic!("{MAX_BLOBS} blobs were not counted: {other:?}"),
        }
        assert_eq!(
            image_with(&config, &layers(MAX_BLOBS)).blobs,
            Blobs::Unsized(format!("it lists more than {MAX_BLOBS} blobs"))
        );
    }

    #[test]
    fn an_index_stores_no_blobs_of_its_own() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{{"digest":"{AMD64}","size":529}}],
            "layers":[{{"digest":"{ARM64}","size":-1}}]}}"#
        );
        assert_eq!(parsed(None, &body).blobs, Blobs::Sized(Box::default()));
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
