//! The manifests the fake registry serves, built from the seed: deterministic JSON bytes whose
//! sha256 becomes the version's name. Children are built before their parents, so an index
//! embeds the real digests (and sizes) of the manifests it lists.

use std::collections::HashMap;

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::seed::{LayerSeed, ManifestKind, ManifestSeed, Outage, VersionSeed};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// One manifest as the registry serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    /// Digests an index lists: what must exist for the image to be pullable.
    pub children: Vec<String>,
    pub unreadable: bool,
    /// 503s still to answer before serving: `None` when there is no outage, `u32::MAX`
    /// for one that never ends.
    pub outage: Option<u32>,
    /// Bytes served instead of `bytes`, which do not hash to `digest`.
    pub wrong_bytes: Option<Vec<u8>>,
    /// Tags the kind implies: `sha256-<hex>.sig` for a cosign signature, `sha256-<hex>` for
    /// a referrers index.
    pub implied_tags: Vec<String>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in hash {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The manifest of every container version that the registry serves, by version id.
/// Versions with an explicit name and no manifest are left out (they are not in the registry).
pub fn build(versions: &[VersionSeed]) -> anyhow::Result<HashMap<u64, Served>> {
    let seeds: HashMap<u64, &VersionSeed> = versions.iter().map(|v| (v.id, v)).collect();
    let mut built = HashMap::new();
    for version in versions {
        ensure!(
            version.name.is_none() || version.manifest.is_none(),
            "version {}: a version with a manifest is named by its digest; drop `name`",
            version.id
        );
        if version.name.is_none() {
            build_one(version.id, &seeds, &mut built, &mut Vec::new())?;
        }
    }
    Ok(built)
}

fn build_one(
    id: u64,
    seeds: &HashMap<u64, &VersionSeed>,
    built: &mut HashMap<u64, Served>,
    visiting: &mut Vec<u64>,
) -> anyhow::Result<()> {
    if built.contains_key(&id) {
        return Ok(());
    }
    ensure!(
        !visiting.contains(&id),
        "manifest references form a cycle through versions {visiting:?}"
    );
    let seed = seeds
        .get(&id)
        .with_context(|| format!("a manifest references version {id}, not in this package"))?;
    ensure!(
        seed.name.is_none(),
        "version {id} has an explicit name, so it has no manifest to reference"
    );
    let manifest = seed.manifest.clone().unwrap_or_default();
    visiting.push(id);
    let instead = manifest.wrong_body.iter().flatten();
    for reference in manifest
        .manifests
        .iter()
        .chain(&manifest.subject)
        .chain(instead)
    {
        build_one(*reference, seeds, built, visiting)?;
    }
    visiting.pop();
    let served = serve(id, &manifest, seeds, built)?;
    built.insert(id, served);
    Ok(())
}

/// Builds one manifest; everything it references is already in `built`.
fn serve(
    id: u64,
    manifest: &ManifestSeed,
    seeds: &HashMap<u64, &VersionSeed>,
    built: &HashMap<u64, Served>,
) -> anyhow::Result<Served> {
    let get = |reference: u64| {
        built
            .get(&reference)
            .with_context(|| format!("version {reference} has no manifest"))
    };
    let subject = manifest.subject.map(get).transpose()?;
    let needs_subject = !matches!(manifest.kind, ManifestKind::Image | ManifestKind::Index);
    ensure!(
        needs_subject == subject.is_some(),
        "version {id}: `subject` is required for attestations, signatures and referrers, \
         and only for them"
    );
    let lists = matches!(
        manifest.kind,
        ManifestKind::Index | ManifestKind::Referrers | ManifestKind::StaleReferrers
    );
    ensure!(
        lists || manifest.manifests.is_empty(),
        "version {id}: only an index or referrers index lists manifests"
    );
    let mut entries = Vec::new();
    for child in &manifest.manifests {
        entries.push(index_entry(get(*child)?, seeds.get(child), built)?);
    }
    let subject_hex = subject.map(|s| s.digest.trim_start_matches("sha256:").to_owned());
    let (media_type, body, implied_tags) = match manifest.kind {
        ManifestKind::Image => {
            let media_type = if manifest.docker {
                DOCKER_MANIFEST
            } else {
                OCI_MANIFEST
            };
            let body = image(id, manifest.docker, None, &manifest.layers);
            (media_type, body, Vec::new())
        }
        ManifestKind::Index => {
            let media_type = if manifest.docker {
                DOCKER_LIST
            } else {
                OCI_INDEX
            };
            let body = json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries});
            (media_type, body, Vec::new())
        }
        ManifestKind::Attestation => (
            OCI_MANIFEST,
            image(
                id,
                false,
                Some("application/vnd.in-toto+json"),
                &manifest.layers,
            ),
            Vec::new(),
        ),
        ManifestKind::CosignSignature => (
            OCI_MANIFEST,
            image(
                id,
                false,
                Some("application/vnd.dev.cosign.simplesigning.v1+json"),
                &manifest.layers,
            ),
            subject_hex
                .iter()
                .map(|hex| format!("sha256-{hex}.sig"))
                .collect(),
        ),
        ManifestKind::GithubAttestation => {
            let mut body = image(id, false, Some(SIGSTORE_BUNDLE), &manifest.layers);
            if let (Some(fields), Some(subject)) = (body.as_object_mut(), subject) {
                fields.insert("artifactType".into(), SIGSTORE_BUNDLE.into());
                fields.insert("subject".into(), descriptor(subject));
            }
            (OCI_MANIFEST, body, Vec::new())
        }
        ManifestKind::Referrers | ManifestKind::StaleReferrers => {
            let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
            // The tag moved on from a stale index when an artifact was added.
            let tags = match manifest.kind {
                ManifestKind::Referrers => subject_hex
                    .iter()
                    .map(|hex| format!("sha256-{hex}"))
                    .collect(),
                _ => Vec::new(),
            };
            (OCI_INDEX, body, tags)
        }
    };
    if manifest.docker && !matches!(manifest.kind, ManifestKind::Image | ManifestKind::Index) {
        bail!("version {id}: only images and indexes can use Docker media types");
    }
    let bytes = serde_json::to_vec(&body)?;
    let wrong_bytes = match &manifest.wrong_body {
        None => None,
        Some(listed) => {
            let mut entries = Vec::new();
            for other in listed {
                entries.push(index_entry(get(*other)?, seeds.get(other), built)?);
            }
            let index_type = if manifest.docker {
                DOCKER_LIST
            } else {
                OCI_INDEX
            };
            let body = json!({"schemaVersion": 2, "mediaType": index_type, "manifests": entries,
                              "annotations": {"served-instead-of": sha256(&bytes)}});
            Some(serde_json::to_vec(&body)?)
        }
    };
    let outage = manifest.unavailable.map(|outage| match outage {
        Outage::Once => 1,
        Outage::Always => u32::MAX,
    });
    Ok(Served {
        media_type,
        digest: sha256(&bytes),
        bytes,
        children: manifest
            .manifests
            .iter()
            .map(|child| get(*child).map(|served| served.digest.clone()))
            .collect::<anyhow::Result<_>>()?,
        unreadable: manifest.unreadable,
        outage,
        wrong_bytes,
        implied_tags,
    })
}

/// `{mediaType, digest, size}` of a served manifest.
fn descriptor(served: &Served) -> Value {
    json!({
        "mediaType": served.media_type,
        "digest": served.digest,
        "size": served.bytes.len(),
    })
}

/// An index entry for `child`: with its platform, as a buildx attestation (platform
/// `unknown/unknown` and the reference annotations), or with its artifact type.
fn index_entry(
    child: &Served,
    seed: Option<&&VersionSeed>,
    built: &HashMap<u64, Served>,
) -> anyhow::Result<Value> {
    let mut entry = descriptor(child);
    let manifest = seed
        .and_then(|seed| seed.manifest.clone())
        .unwrap_or_default();
    let Some(fields) = entry.as_object_mut() else {
        bail!("a descriptor is an object");
    };
    if let Some(platform) = &manifest.platform {
        fields.insert("platform".into(), platform_json(platform));
    }
    match manifest.kind {
        ManifestKind::Attestation => {
            let subject = manifest
                .subject
                .and_then(|subject| built.get(&subject))
                .context("an attestation needs its subject")?;
            fields.insert("platform".into(), platform_json("unknown/unknown"));
            fields.insert(
                "annotations".into(),
                json!({
                    "vnd.docker.reference.digest": subject.digest,
                    "vnd.docker.reference.type": "attestation-manifest",
                }),
            );
        }
        ManifestKind::GithubAttestation => {
            fields.insert("artifactType".into(), SIGSTORE_BUNDLE.into());
        }
        _ => {}
    }
    Ok(entry)
}

fn platform_json(platform: &str) -> Value {
    let mut parts = platform.split('/');
    let mut value = json!({
        "os": parts.next().unwrap_or_default(),
        "architecture": parts.next().unwrap_or_default(),
    });
    if let (Some(variant), Some(fields)) = (parts.next(), value.as_object_mut()) {
        fields.insert("variant".into(), variant.into());
    }
    value
}

/// The config blob's size in every image manifest the fake builds.
pub const CONFIG_BYTES: u64 = 1234;

/// The size of the one layer of an image manifest seeded without `layers`.
pub const LAYER_BYTES: u64 = 5678;

/// An image manifest with a config whose digest is derived from the id, so that every
/// version's bytes (and so its digest) differ, and the seeded `layers` (the same name is
/// the same blob in every manifest), or else one layer of its own.
fn image(id: u64, docker: bool, layer_type: Option<&str>, layers: &[LayerSeed]) -> Value {
    let (media_type, config_type, default_layer) = if docker {
        (
            DOCKER_MANIFEST,
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        )
    } else {
        (
            OCI_MANIFEST,
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        )
    };
    let layer_type = layer_type.unwrap_or(default_layer);
    let layers: Vec<Value> = if layers.is_empty() {
        vec![json!({
            "mediaType": layer_type,
            "digest": sha256(format!("layer of version {id}").as_bytes()),
            "size": LAYER_BYTES,
        })]
    } else {
        layers
            .iter()
            .map(|layer| {
                json!({
                    "mediaType": layer_type,
                    "digest": layer_digest(&layer.blob),
                    "size": size_value(layer.size),
                })
            })
            .collect()
    };
    json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": config_type,
            "digest": sha256(format!("config of version {id}").as_bytes()),
            "size": CONFIG_BYTES,
        },
        "layers": layers,
    })
}

/// A seeded size as JSON: an integer when JSON readers take it as one, else (past 2^64 or
/// below -2^63) the nearest float, as a hostile registry could write it.
fn size_value(size: i128) -> Value {
    match (u64::try_from(size), i64::try_from(size)) {
        (Ok(size), _) => size.into(),
        (_, Ok(size)) => size.into(),
        _ => (size as f64).into(),
    }
}

/// The digest of the seeded layer named `blob`: the same in every manifest that lists it.
pub fn layer_digest(blob: &str) -> String {
    sha256(format!("seeded layer {blob}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::days;

    fn v(id: u64) -> VersionSeed {
        VersionSeed::new(id, days(1))
    }

    #[test]
    fn an_index_embeds_the_real_digests_of_its_children() {
        let built = build(&[
            v(3).index(&[1, 2]),
            v(1).platform("linux/amd64"),
            v(2).attestation_for(1),
        ])
        .expect("valid");
        let index: Value = serde_json::from_slice(&built[&3].bytes).expect("JSON");
        assert_eq!(index["manifests"][0]["digest"], built[&1].digest);
        assert_eq!(index["manifests"][0]["platform"]["architecture"], "amd64");
        assert_eq!(
            index["manifests"][1]["annotations"]["vnd.docker.reference.digest"],
            built[&1].digest
        );
        assert_eq!(
            built[&3].children,
            vec![built[&1].digest.clone(), built[&2].digest.clone()]
        );
        assert_eq!(built[&3].digest, sha256(&built[&3].bytes));
    }

    #[test]
    fn signatures_and_referrers_are_tagged_after_their_subject() {
        let built = build(&[
            v(1),
            v(2).cosign_signature_of(1),
            v(3).github_attestation_of(1),
            v(4).referrers_of(1, &[3, 5]),
            v(5).github_attestation_of(1),
            v(6).stale_referrers_of(1, &[3]),
        ])
        .expect("valid");
        let hex = built[&1].digest.trim_start_matches("sha256:");
        assert_eq!(built[&2].implied_tags, vec![format!("sha256-{hex}.sig")]);
        assert_eq!(built[&4].implied_tags, vec![format!("sha256-{hex}")]);
        // The tag moved on to 4: the stale index lists the older set, untagged.
        assert!(built[&6].implied_tags.is_empty());
        assert_eq!(built[&6].children, vec![built[&3].digest.clone()]);
        assert_eq!(built[&6].media_type, OCI_INDEX);
        let attestation: Value = serde_json::from_slice(&built[&3].bytes).expect("JSON");
        assert_eq!(attestation["subject"]["digest"], built[&1].digest);
        assert_eq!(attestation["artifactType"], SIGSTORE_BUNDLE);
    }

    #[test]
    fn seeded_layers_are_shared_by_name_and_keep_the_sizes_seeded_even_absurd_ones() {
        let built = build(&[
            v(1).layers(&[("base", 1000), ("one", 10)]),
            v(2).layers(&[("base", 1000), ("two", -1)]),
            v(3).layers(&[("huge", 1 << 70)]),
            v(4),
        ])
        .expect("valid");
        let layers = |id: u64| -> Vec<Value> {
            let body: Value = serde_json::from_slice(&built[&id].bytes).expect("JSON");
            assert_eq!(body["config"]["size"], CONFIG_BYTES, "version {id}");
            body["layers"].as_array().cloned().unwrap_or_default()
        };
        let (one, two) = (layers(1), layers(2));
        assert_eq!(one[0]["digest"], layer_digest("base"));
        assert_eq!(one[0]["digest"], two[0]["digest"], "shared by name");
        assert_ne!(one[1]["digest"], two[1]["digest"]);
        assert_eq!((&one[1]["size"], &two[1]["size"]), (&json!(10), &json!(-1)));
        let huge = layers(3)[0]["size"].as_f64().unwrap_or_default();
        assert!(
            huge > 1.18e21 && huge < 1.19e21,
            "2^70 as the nearest float: {huge}"
        );
        let own = layers(4);
        assert_eq!((own.len(), &own[0]["size"]), (1, &json!(LAYER_BYTES)));
    }

    #[test]
    fn impossible_manifest_seeds_are_rejected() {
        let cases = [
            (vec![v(1).index(&[2]), v(2).index(&[1])], "cycle"),
            (vec![v(1).index(&[9])], "not in this package"),
            (
                vec![v(1).named("sha256:x").platform("linux/amd64")],
                "drop `name`",
            ),
            (
                vec![v(1).index(&[2]), v(2).named("sha256:x")],
                "explicit name",
            ),
        ];
        for (versions, expected) in cases {
            let error = build(&versions).expect_err(expected);
            assert!(format!("{error:#}").contains(expected), "{error:#}");
        }
    }
}
