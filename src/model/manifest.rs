//! A container manifest or index, reduced to what the image graph and the storage figures
//! need: the manifests an index lists, what an artifact is about, and the blobs an image
//! manifest stores with their sizes. The registry client parses them; the state file keeps
//! them between runs.

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
    /// The blobs an image manifest stores (its config and layers), with the sizes it gives
    /// them; none for an index, whose entries are manifests of their own.
    pub blobs: Blobs,
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

/// The largest size a blob may claim, and the largest sum the figures believe: 2^53 bytes
/// (8 PiB), past any real image, and the last integer a JSON reader's double holds exactly.
pub const MAX_BYTES: u64 = 1 << 53;

/// The most blobs one manifest's sizes are kept for: far past any image (Docker stops near
/// 127 layers), and a bound on what one crafted manifest costs in memory.
pub const MAX_BLOBS: usize = 10_000;

/// What an image manifest stores, as far as its sizes can be believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blobs {
    /// Every blob it lists, in its order; a blob listed twice is here twice. A boxed
    /// slice, not a `Vec`: a run may hold 100k of these at once.
    Sized(Box<[Blob]>),
    /// Its blobs cannot be counted, and why: a size that is negative, not a whole number
    /// or past [`MAX_BYTES`], a digest that is not sha256, or more than [`MAX_BLOBS`] blobs.
    Unsized(String),
    /// Not known: the manifest is held by its digest alone (a state file's claim, or its
    /// proof), not as bytes read in this run, so what it stores is not known.
    NotHeld,
}

impl Default for Blobs {
    fn default() -> Self {
        Blobs::Sized(Box::default())
    }
}

/// One blob of a manifest: a config or a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Blob {
    /// The first half of the sha256 its digest names: 16 bytes rather than a 71-character
    /// digest, since a run over a package of 100k versions holds hundreds of thousands of
    /// blobs at once. Blobs are told apart by these 128 bits: two differing only past them
    /// would take about 2^64 hashes to make on purpose, and would only be counted as one
    /// blob.
    pub id: [u8; 16],
    /// Bytes, at most [`MAX_BYTES`].
    pub size: u64,
}

impl Blob {
    /// The id of a `sha256:` digest of 64 lowercase hex digits (the only form the OCI spec
    /// allows for sha256); `None` for any other digest.
    pub fn id_of(digest: &str) -> Option<[u8; 16]> {
        let hex = digest.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.bytes().all(|digit| lower_hex(digit).is_some()) {
            return None;
        }
        let mut id = [0u8; 16];
        for (byte, pair) in id.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            *byte = (lower_hex(pair[0])? << 4) | lower_hex(pair[1])?;
        }
        Some(id)
    }

    /// The id as 32 lowercase hex digits: the first half of the digest's hex.
    pub fn hex(&self) -> String {
        self.id.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

fn lower_hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sha256_digest_of_64_lowercase_hex_digits_names_a_blob() {
        let hex = "0123456789abcdef".repeat(4);
        let id = Blob::id_of(&format!("sha256:{hex}")).expect("a sha256 digest");
        assert_eq!(Blob { id, size: 1 }.hex(), hex[..32]);
        for digest in [
            format!("sha256:{}", hex.to_uppercase()),
            format!("sha256:{}", &hex[..63]),
            format!("sha256:{hex}0"),
            format!("sha512:{hex}{hex}"),
            format!("sha256:{}g", &hex[..63]),
            hex.clone(),
            String::new(),
        ] {
            assert_eq!(Blob::id_of(&digest), None, "{digest}");
        }
    }
}
