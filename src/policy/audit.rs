//! The audit of one container package, pure: its versions and the manifests read for them →
//! broken images, orphans, every image with its platforms and artifacts, and counts.
//!
//! It reads the cleanup's own image graph ([`images::Graph`]), and its orphans are, by
//! construction, what a `delete-orphans: true` cleanup that keeps every image deletes: the
//! audit runs that cleanup's plan ([`orphan_plan`]) and reports what it selects. Its storage
//! figures ([`crate::policy::storage`]) count the bytes orphans alone hold, which is what
//! that cleanup frees.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::SystemTime;

use crate::model::image::{Role, may_be_artifact, short_digest};
use crate::model::mode::Mode;
use crate::model::version::{PackageType, Version};
use crate::policy::images::{self, Graph, ManifestLookup, ReadHere, Rules};
use crate::policy::plan::{self, Plan, Reason};
use crate::policy::rules::{Policy, TagState};
use crate::policy::storage::{Held, Holder, Holdings};

/// A tag whose image cannot be pulled whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub tag: String,
    pub id: u64,
    /// Digests the image needs that are missing or unreadable, in the order they were met.
    pub missing: Vec<String>,
    /// Why, for the first missing digest (and how many others there are).
    pub reason: String,
}

/// Where an edge of an image's tree leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Version(u64),
    /// A digest the parent references that is not in the package, or could not be read.
    Missing(String),
}

/// One edge of an image's tree: `from` (a version id) references `to` as `role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: u64,
    pub to: Target,
    pub role: Role,
}

/// A tagged image (a version with a tag that is not an artifact tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: u64,
    pub digest: String,
    pub tags: Vec<String>,
    pub created_at: SystemTime,
    /// `os/arch` of each platform manifest it lists, nested indexes included.
    pub platforms: Vec<String>,
    /// A cosign signature, or a GitHub artifact attestation, is about it.
    pub signed: bool,
    /// A cosign or buildx attestation, or an SBOM, is about it.
    pub attested: bool,
    pub broken: bool,
    /// Its tree: indexes to their entries, subjects to their artifacts.
    pub edges: Vec<Edge>,
}

/// One version as the `json` output shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    pub version: Version,
    /// `image`, `untagged manifest`, `artifact`, or what it is to its first parent.
    pub role: String,
    pub parent_ids: Vec<u64>,
    /// Whether a tag reaches it.
    pub reachable: bool,
}

/// The package's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub versions: usize,
    pub tagged: usize,
    pub untagged: usize,
    pub images: usize,
    pub platforms: usize,
    pub artifacts: usize,
    pub orphans: usize,
    pub broken: usize,
    pub oldest: Option<SystemTime>,
    pub newest: Option<SystemTime>,
}

/// What an audit of one container package found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Every version, newest first.
    pub versions: Vec<Audited>,
    pub images: Vec<Image>,
    pub broken: Vec<Broken>,
    /// Ids a `delete-orphans` cleanup deletes, in its order.
    pub orphans: Vec<u64>,
    /// The kept version whose unreadable manifest makes that cleanup fail closed, if any.
    pub fail_closed: Option<u64>,
    pub counts: Counts,
    /// Where its bytes are: tagged images, untagged versions kept, orphans.
    pub storage: Holdings,
}

/// The plan of the cleanup that keeps every image and deletes only orphans: `tag-state:
/// untagged` (no tagged image is selected; untagged versions follow the graph) with
/// `delete-orphans`, adjusted to the graph like every cleanup.
pub fn orphan_plan(
    versions: Vec<Version>,
    manifests: &impl ManifestLookup,
    now: SystemTime,
) -> Plan {
    let policy = Policy {
        tag_state: TagState::Untagged,
        ..Policy::default()
    };
    let planned = plan::plan(versions, &policy, PackageType::Container, Mode::Delete, now);
    let rules = Rules {
        policy: &policy,
        now,
        delete_orphans: true,
    };
    images::adjust(planned, manifests, &rules)
}

/// Audit one container package (see the module documentation).
pub fn audit(versions: Vec<Version>, manifests: &impl ManifestLookup, now: SystemTime) -> Audit {
    let plan = orphan_plan(versions, manifests, now);
    let orphans: Vec<u64> = plan.selected().map(|planned| planned.version.id).collect();
    let fail_closed = plan
        .versions
        .iter()
        .find_map(|planned| match planned.reason {
            Reason::FailClosed(id) => Some(id),
            _ => None,
        });
    let graph = Graph::new(&plan.versions, manifests);
    let versions: Vec<Version> = plan.versions.into_iter().map(|p| p.version).collect();
    let is_image =
        |index: usize| !versions[index].tags.is_empty() && !may_be_artifact(&versions[index].tags);
    let reachable = graph.reachable((0..versions.len()).filter(|&i| is_image(i)));
    let walker = Walker::new(&versions, manifests, &graph);
    let audited = (0..versions.len())
        .map(|index| Audited {
            version: versions[index].clone(),
            role: role_of(index, &versions, &graph),
            parent_ids: graph.parents[index]
                .iter()
                .map(|(parent, _)| versions[*parent].id)
                .collect(),
            reachable: reachable[index],
        })
        .collect();
    let mut broken = Vec::new();
    for (index, version) in versions.iter().enumerate() {
        let (missing, reason) = walker.missing(index);
        if missing.is_empty() {
            continue;
        }
        for tag in &version.tags {
            broken.push(Broken {
                tag: tag.clone(),
                id: version.id,
                missing: missing.clone(),
                reason: reason.clone(),
            });
        }
    }
    let images: Vec<Image> = (0..versions.len())
        .filter(|&index| is_image(index))
        .map(|index| walker.image(index))
        .collect();
    let has_role = |index: usize, wanted: fn(&Role) -> bool| {
        graph.parents[index].iter().any(|(_, role)| wanted(role))
    };
    let counts = Counts {
        versions: versions.len(),
        tagged: versions.iter().filter(|v| !v.tags.is_empty()).count(),
        untagged: versions.iter().filter(|v| v.tags.is_empty()).count(),
        images: images.len(),
        platforms: (0..versions.len())
            .filter(|&i| has_role(i, |role| matches!(role, Role::Platform(_))))
            .count(),
        artifacts: (0..versions.len())
            .filter(|&i| graph.artifact[i] || has_role(i, |role| *role == Role::Attestation))
            .count(),
        orphans: orphans.len(),
        broken: broken.len(),
        oldest: versions.iter().map(|v| v.created_at).min(),
        newest: versions.iter().map(|v| v.created_at).max(),
    };
    let orphaned: HashSet<u64> = orphans.iter().copied().collect();
    let holder = |index: usize| match (reachable[index], orphaned.contains(&versions[index].id)) {
        (true, _) => Holder::Tagged,
        (false, true) => Holder::Orphan,
        (false, false) => Holder::Untagged,
    };
    let trees = (0..versions.len())
        .filter(|&index| is_image(index))
        .map(|index| (versions[index].id, tree(&graph, index)));
    let storage = Held::new(&versions, manifests, ReadHere::default()).holdings(holder, trees);
    Audit {
        versions: audited,
        images,
        broken,
        orphans,
        fail_closed,
        counts,
        storage,
    }
}

/// The versions of `root`'s tree (itself, what its index lists, their artifacts), each once.
fn tree(graph: &Graph, root: usize) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut queue = vec![root];
    while let Some(current) = queue.pop() {
        if seen.insert(current) {
            queue.extend(graph.children[current].iter().copied());
        }
    }
    seen.into_iter().collect()
}

/// What a version is, for the `json` output.
fn role_of(index: usize, versions: &[Version], graph: &Graph) -> String {
    match graph.parents[index].first() {
        Some((_, role)) => role.to_string(),
        None if graph.artifact[index] => "artifact".to_string(),
        None if versions[index].tags.is_empty() => "untagged manifest".to_string(),
        None => "image".to_string(),
    }
}

/// Walks an image's tree over the manifests read.
struct Walker<'a, M> {
    versions: &'a [Version],
    manifests: &'a M,
    graph: &'a Graph,
    by_digest: HashMap<&'a str, usize>,
}

impl<'a, M: ManifestLookup> Walker<'a, M> {
    fn new(versions: &'a [Version], manifests: &'a M, graph: &'a Graph) -> Self {
        let by_digest = versions
            .iter()
            .enumerate()
            .map(|(index, version)| (version.name.as_str(), index))
            .collect();
        Walker {
            versions,
            manifests,
            graph,
            by_digest,
        }
    }

    /// Why `index`'s manifest cannot be used, if it cannot.
    fn unreadable(&self, index: usize) -> Option<String> {
        match self.manifests.lookup(&self.versions[index]) {
            Some(Ok(_)) => None,
            Some(Err(why)) => Some(format!("manifest unreadable: {why}")),
            None => Some("manifest not read".to_string()),
        }
    }

    /// The digests pulling `index` whole needs that are missing or unreadable (itself
    /// included), each once, and why the first one is. Each manifest is visited once.
    fn missing(&self, index: usize) -> (Vec<String>, String) {
        let mut missing: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        let mut seen_missing: BTreeSet<String> = BTreeSet::new();
        let mut queue = vec![index];
        while let Some(current) = queue.pop() {
            if !seen.insert(current) {
                continue;
            }
            let digest = &self.versions[current].name;
            if let Some(why) = self.unreadable(current) {
                if seen_missing.insert(digest.clone()) {
                    missing.push(digest.clone());
                    reasons.push(why);
                }
                continue;
            }
            let children = self
                .manifests
                .lookup(&self.versions[current])
                .and_then(Result::ok)
                .map(|manifest| manifest.children.as_slice())
                .unwrap_or_default();
            for child in children.iter().rev() {
                match self.by_digest.get(child.digest.as_str()) {
                    Some(&child_index) => queue.push(child_index),
                    None => {
                        if seen_missing.insert(child.digest.clone()) {
                            missing.push(child.digest.clone());
                            reasons.push("not in the package: deleted, or never pushed".into());
                        }
                    }
                }
            }
        }
        let reason = match (reasons.first(), reasons.len()) {
            (None, _) => String::new(),
            (Some(first), 1) => format!("{}: {first}", short_digest(&missing[0])),
            (Some(first), n) => format!(
                "{}: {first} (and {} more)",
                short_digest(&missing[0]),
                n - 1
            ),
        };
        (missing, reason)
    }

    /// The tagged image at `index`, with its tree.
    fn image(&self, index: usize) -> Image {
        let version = &self.versions[index];
        let mut edges = Vec::new();
        let mut platforms = Vec::new();
        let (mut signed, mut attested) = (false, false);
        let mut seen: HashSet<usize> = HashSet::new();
        let mut queue = vec![index];
        while let Some(current) = queue.pop() {
            if !seen.insert(current) {
                continue;
            }
            let from = self.versions[current].id;
            let listed = self
                .manifests
                .lookup(&self.versions[current])
                .and_then(Result::ok)
                .map(|manifest| manifest.children.as_slice())
                .unwrap_or_default();
            for child in listed {
                if !self.by_digest.contains_key(child.digest.as_str()) {
                    let role = match &child.platform {
                        Some(platform) => {
                            platforms.push(format!("{platform} (missing)"));
                            Role::Platform(platform.clone())
                        }
                        None => Role::Child,
                    };
                    edges.push(Edge {
                        from,
                        to: Target::Missing(child.digest.clone()),
                        role,
                    });
                }
            }
            for &child in &self.graph.children[current] {
                let Some((_, role)) = self.graph.parents[child]
                    .iter()
                    .find(|(parent, _)| *parent == current)
                else {
                    continue;
                };
                match role {
                    Role::Platform(platform) => platforms.push(platform.clone()),
                    Role::Signature | Role::ArtifactAttestation => signed = true,
                    Role::Attestation | Role::CosignAttestation | Role::Sbom => attested = true,
                    _ => {}
                }
                let to = match self.unreadable(child) {
                    Some(_) => Target::Missing(self.versions[child].name.clone()),
                    None => Target::Version(self.versions[child].id),
                };
                edges.push(Edge {
                    from,
                    to,
                    role: role.clone(),
                });
                queue.push(child);
            }
        }
        platforms.sort();
        platforms.dedup();
        Image {
            id: version.id,
            digest: version.name.clone(),
            tags: version.tags.clone(),
            created_at: version.created_at,
            platforms,
            signed,
            attested,
            broken: !self.missing(index).0.is_empty(),
            edges,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::{Child, Manifest};
    use crate::policy::images::Manifests;
    use crate::testing::{digest, now, signature_tag, version};

    fn index(children: &[(u64, &str)]) -> Manifest {
        Manifest {
            is_index: true,
            children: children
                .iter()
                .map(|(id, platform)| Child {
                    digest: digest(*id),
                    platform: Some(platform.to_string()),
                    ..Child::default()
                })
                .collect(),
            ..Manifest::default()
        }
    }

    struct Case {
        name: &'static str,
        versions: Vec<Version>,
        manifests: Vec<(u64, Manifest)>,
        unreadable: Vec<u64>,
        /// (tag, missing ids) per broken tag.
        broken: Vec<(&'static str, Vec<u64>)>,
        orphans: Vec<u64>,
        unreachable: Vec<u64>,
    }

    fn run(case: &Case) -> Audit {
        let mut manifests: Manifests = case
            .versions
            .iter()
            .map(|v| (v.id, Ok(Manifest::default())))
            .collect();
        for (id, manifest) in &case.manifests {
            manifests.insert(*id, Ok(manifest.clone()));
        }
        for id in &case.unreadable {
            manifests.insert(*id, Err("GET … answered 404".into()));
        }
        audit(case.versions.clone(), &manifests, now())
    }

    #[test]
    fn audits_find_broken_tags_orphans_and_reachability() {
        let cases = vec![
            Case {
                name: "a whole multi-arch image is neither broken nor orphaned",
                versions: vec![version(1, &["v1"]), version(2, &[]), version(3, &[])],
                manifests: vec![(1, index(&[(2, "linux/amd64"), (3, "linux/arm64")]))],
                unreadable: vec![],
                broken: vec![],
                orphans: vec![],
                unreachable: vec![],
            },
            Case {
                name: "a tag whose platform manifest is gone is broken, once per tag",
                versions: vec![version(1, &["v1", "latest"]), version(2, &[])],
                manifests: vec![(1, index(&[(2, "linux/amd64"), (9, "linux/arm64")]))],
                unreadable: vec![],
                broken: vec![("v1", vec![9]), ("latest", vec![9])],
                orphans: vec![],
                unreachable: vec![],
            },
            Case {
                name: "a nested index with an unreadable child breaks the outer tag",
                versions: vec![version(1, &["v1"]), version(2, &[]), version(3, &[])],
                manifests: vec![(1, index(&[(2, "linux/amd64")])), (2, index(&[(3, "x/y")]))],
                unreadable: vec![3],
                broken: vec![("v1", vec![3])],
                orphans: vec![],
                unreachable: vec![],
            },
            Case {
                name: "ghosts, partial pushes and a superseded index with its children are orphans",
                versions: vec![
                    version(1, &["v1"]),
                    version(2, &[]),
                    version(3, &[]),
                    version(4, &[]),
                    version(5, &[]),
                ],
                manifests: vec![(3, index(&[(4, "linux/amd64")]))],
                unreadable: vec![],
                broken: vec![],
                orphans: vec![5, 4, 3, 2],
                unreachable: vec![2, 3, 4, 5],
            },
            Case {
                name: "a signature of a gone image and a signature of an orphan are orphans",
                versions: vec![
                    version(1, &["v1"]),
                    version(2, &[&signature_tag(1)]),
                    version(3, &[&signature_tag(99)]),
                    version(4, &[]),
                    version(5, &[&signature_tag(4)]),
                ],
                manifests: vec![],
                unreadable: vec![],
                broken: vec![],
                orphans: vec![5, 4, 3],
                unreachable: vec![3, 4, 5],
            },
        ];
        for case in cases {
            let audit = run(&case);
            let broken: Vec<(String, Vec<String>)> = audit
                .broken
                .iter()
                .map(|b| (b.tag.clone(), b.missing.clone()))
                .collect();
            let expected: Vec<(String, Vec<String>)> = case
                .broken
                .iter()
                .map(|(tag, ids)| (tag.to_string(), ids.iter().map(|id| digest(*id)).collect()))
                .collect();
            assert_eq!(broken, expected, "{}", case.name);
            let mut orphans = audit.orphans.clone();
            orphans.sort_unstable();
            let mut wanted = case.orphans.clone();
            wanted.sort_unstable();
            assert_eq!(orphans, wanted, "{}", case.name);
            assert_eq!(audit.counts.orphans, case.orphans.len(), "{}", case.name);
            let unreachable: Vec<u64> = audit
                .versions
                .iter()
                .filter(|v| !v.reachable)
                .map(|v| v.version.id)
                .collect();
            let mut unreachable = unreachable;
            unreachable.sort_unstable();
            assert_eq!(unreachable, case.unreachable, "{}", case.name);
        }
    }

    #[test]
    fn images_name_their_platforms_signatures_and_attestations() {
        let versions = vec![
            version(1, &["v1"]),
            version(2, &[]),
            version(3, &[]),
            version(4, &[&signature_tag(1)]),
            version(5, &["v0"]),
        ];
        let mut manifests: Manifests = versions
            .iter()
            .map(|v| (v.id, Ok(Manifest::default())))
            .collect();
        let mut top = index(&[(2, "linux/amd64")]);
        top.children.push(Child {
            digest: digest(3),
            attests: Some(digest(2)),
            ..Child::default()
        });
        manifests.insert(1, Ok(top));
        let audit = audit(versions, &manifests, now());
        let v1 = &audit.images[0];
        assert_eq!(v1.tags, vec!["v1"]);
        assert_eq!(v1.platforms, vec!["linux/amd64"]);
        assert!(v1.signed && v1.attested && !v1.broken);
        let v0 = &audit.images[1];
        assert!(!v0.signed && !v0.attested && v0.platforms.is_empty());
        assert_eq!(audit.counts.images, 2);
        assert_eq!(audit.counts.platforms, 1);
        assert_eq!(audit.counts.artifacts, 2);
        assert_eq!(audit.counts.tagged, 3);
        assert_eq!(audit.counts.untagged, 2);
        let roles: Vec<&str> = audit.versions.iter().map(|v| v.role.as_str()).collect();
        assert_eq!(
            roles,
            vec![
                "image",
                "platform manifest linux/amd64",
                "attestation manifest",
                "cosign signature",
                "image"
            ]
        );
    }

    #[test]
    fn storage_is_held_by_tagged_images_orphans_and_untagged_versions_kept_when_closed() {
        use crate::model::manifest::Blobs;
        use crate::policy::storage::Size;
        use crate::testing::blob;
        let sized = |blobs: &[(u64, u64)]| Manifest {
            blobs: Blobs::Sized(blobs.iter().map(|(n, size)| blob(*n, *size)).collect()),
            ..Manifest::default()
        };
        let versions = vec![
            version(1, &["v1"]),
            version(2, &[]),
            version(3, &[]),
            version(4, &["v0"]),
        ];
        let mut manifests: Manifests = [
            (1, index(&[(2, "linux/amd64")])),
            (2, sized(&[(0, 100), (1, 10)])),
            (3, sized(&[(0, 100), (2, 20)])),
            (4, sized(&[(3, 7)])),
        ]
        .into_iter()
        .map(|(id, manifest)| (id, Ok(manifest)))
        .collect();
        let whole = audit(versions.clone(), &manifests, now());
        assert_eq!(whole.orphans, vec![3]);
        let storage = &whole.storage;
        assert_eq!(
            (
                storage.tagged,
                storage.untagged,
                storage.orphaned,
                storage.total
            ),
            (
                Size::Exact(117),
                Size::Exact(0),
                Size::Exact(20),
                Size::Exact(137)
            )
        );
        assert_eq!(
            storage.largest,
            vec![(1, Size::Exact(110)), (4, Size::Exact(7))]
        );

        manifests.insert(4, Err("GET … answered 404".into()));
        let closed = audit(versions, &manifests, now());
        assert!(closed.orphans.is_empty(), "the orphan cleanup fails closed");
        let storage = &closed.storage;
        assert_eq!(
            (storage.tagged, storage.untagged, storage.orphaned),
            (Size::Partial(110), Size::Partial(20), Size::Partial(0)),
            "3 is kept, untagged: no tag reaches it"
        );
    }

    #[test]
    fn an_unreadable_tagged_manifest_is_broken_and_the_orphan_cleanup_fails_closed() {
        let versions = vec![version(1, &["v1"]), version(2, &[])];
        let mut manifests: Manifests = versions
            .iter()
            .map(|v| (v.id, Ok(Manifest::default())))
            .collect();
        manifests.insert(1, Err("GET … answered 404".into()));
        let audit = audit(versions, &manifests, now());
        assert_eq!(audit.broken.len(), 1);
        assert_eq!(audit.broken[0].missing, vec![digest(1)]);
        assert!(audit.broken[0].reason.contains("answered 404"));
        assert_eq!(audit.fail_closed, Some(1));
        assert!(audit.orphans.is_empty());
    }
}
