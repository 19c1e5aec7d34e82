//! A container manifest or index, reduced to what the image graph needs: the manifests an
//! index lists, and what an artifact is about. The registry client parses them; the state
//! file keeps them between runs.

/// One manifest: an index (multi-arch image, referrers index) with children, or an image
/// manifest, possibly an artifact with a subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub is_index: bool,
    /// What an index lists, in order; empty for image manifests.
    pub children: Vec<Child>,
    /// OCI 1.1 `artifactType` (e.g. a sigstore bundle for GitHub artifact attestations).
    pub artifact_type: Option<String>,
    /// OCI 1.1 `subject`: the digest of the manifest this one is about.
    pub subject: Option<String>,
}

impl Manifest {
    /// A plain image manifest: it lists nothing and has no subject, so nothing depends on
    /// it through its manifest.
    pub fn is_leaf(&self) -> bool {
        !self.is_index && self.children.is_empty() && self.subject.is_none()
    }
}

/// One entry of an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Child {
    pub digest: String,
    /// `os/architecture[/variant]`, when the entry names a real platform.
    pub platform: Option<String>,
    /// For a buildx attestation manifest: the digest of the platform manifest it attests.
    pub attests: Option<String>,
    pub artifact_type: Option<String>,
}
