//! The manifests a package's state knows by digest, each with how far a run may rely on it.
//! Plain image manifests (nothing listed, no subject: nearly every version of a large
//! package) are held as their proof alone, plus the blobs they store when this run read
//! them; the others with the manifest and its bytes.

use std::collections::HashMap;

use crate::model::manifest::{Blobs, Manifest};
use crate::policy::images::Digests;

/// What every plain image manifest is to the image graph. Its blobs are not held here:
/// [`KnownManifests::blobs`] says what each one stores, when that is known.
static PLAIN: Manifest = Manifest {
    is_index: false,
    children: Vec::new(),
    artifact_type: None,
    subject: None,
    blobs: Blobs::NotHeld,
};

/// The blobs of a plain image manifest known by its digest alone.
static NOT_HELD: Blobs = Blobs::NotHeld;

/// How far a known manifest is proven to be its digest's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// Its bytes hash to its digest: read from the registry in this run, or saved with
    /// bytes that were checked when loaded.
    Whole,
    /// The state file says it is a plain image manifest (nothing listed, no subject). Not
    /// proven: a run proves it before it relies on it.
    Claimed,
    /// A plain image manifest by the media type the registry gave for it in this run: it
    /// lists nothing; that it has no subject is the state file's claim still.
    Listless,
}

/// A plain image manifest, as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plain {
    Claimed,
    Listless,
    /// Proven whole by bytes the state file saved. This build saves no plain manifest's
    /// bytes, so such a record is not one it wrote: its proof is kept, what it stores is
    /// not (a crafted file of them costs no more memory than claims).
    Proven,
    /// Read whole in this run, with the blobs it stores. Boxed, so that a claim (nearly
    /// every entry of a run that resumes) costs no more than its proof.
    Read(Box<Blobs>),
}

impl Plain {
    fn proof(&self) -> Proof {
        match self {
            Plain::Claimed => Proof::Claimed,
            Plain::Listless => Proof::Listless,
            Plain::Proven | Plain::Read(_) => Proof::Whole,
        }
    }
}

/// A manifest that lists others or has a subject, known whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Whole {
    manifest: Manifest,
    /// Its exact bytes, for the state file (kept only for a run with one).
    bytes: Option<String>,
}

/// The manifests known by digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownManifests {
    /// Plain image manifests, by digest: how far each is proven, and what it stores when
    /// this run read it.
    plain: HashMap<String, Plain>,
    /// The others, read whole (in this run, or from the state file's checked bytes).
    whole: HashMap<String, Whole>,
}

impl KnownManifests {
    /// The manifest of `digest` and how far it is proven, if known.
    pub fn get(&self, digest: &str) -> Option<(&Manifest, Proof)> {
        match self.plain.get(digest) {
            Some(plain) => Some((&PLAIN, plain.proof())),
            None => self
                .whole
                .get(digest)
                .map(|whole| (&whole.manifest, Proof::Whole)),
        }
    }

    /// The blobs the manifest of `digest` stores, if it is known: those of bytes whose
    /// sha256 is the digest (read in this run, or, for a manifest that is not plain, saved
    /// whole in the state file), or [`Blobs::NotHeld`] for a plain manifest this run did
    /// not read. Sizes are facts only about bytes that prove to be the digest's: a size the
    /// state file could say beside a digest would be its word alone, so none is kept there.
    pub fn blobs(&self, digest: &str) -> Option<&Blobs> {
        match self.plain.get(digest) {
            Some(Plain::Read(blobs)) => Some(blobs),
            Some(Plain::Claimed | Plain::Listless | Plain::Proven) => Some(&NOT_HELD),
            None => self.whole.get(digest).map(|whole| &whole.manifest.blobs),
        }
    }

    /// How far the manifest of `digest` is proven, if known.
    pub fn proof(&self, digest: &str) -> Option<Proof> {
        self.get(digest).map(|(_, proof)| proof)
    }

    pub fn contains(&self, digest: &str) -> bool {
        self.plain.contains_key(digest) || self.whole.contains_key(digest)
    }

    pub fn len(&self) -> usize {
        self.plain.len() + self.whole.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `more` manifests, at once rather than by doubling as they arrive.
    pub fn reserve(&mut self, more: usize) {
        self.plain.reserve(more);
    }

    /// A manifest read from the registry in this run, with the bytes served: kept with them
    /// (`keep_bytes`, for the state file) unless it is a plain image manifest. It replaces
    /// whatever was known of the digest.
    pub fn read(&mut self, digest: String, manifest: Manifest, bytes: Vec<u8>, keep_bytes: bool) {
        if manifest.is_leaf() {
            self.whole.remove(&digest);
            self.plain
                .insert(digest, Plain::Read(Box::new(manifest.blobs)));
        } else {
            self.plain.remove(&digest);
            let bytes = keep_bytes.then(|| String::from_utf8(bytes).ok()).flatten();
            self.whole.insert(digest, Whole { manifest, bytes });
        }
    }

    /// A plain image manifest the state file claims, not proven.
    pub fn claim(&mut self, digest: String) {
        self.plain.insert(digest, Plain::Claimed);
    }

    /// A manifest loaded from the state file with `bytes` that hash to `digest`: a plain
    /// one as its proof alone ([`Plain::Proven`]), any other whole, with what it stores.
    pub fn checked(&mut self, digest: String, manifest: Manifest, bytes: String) {
        if manifest.is_leaf() {
            self.plain.insert(digest, Plain::Proven);
        } else {
            let bytes = Some(bytes);
            self.whole.insert(digest, Whole { manifest, bytes });
        }
    }

    /// A claim proven by the media type the registry gave for `digest` in this run.
    pub fn prove_listless(&mut self, digest: &str) {
        if let Some(plain) = self.plain.get_mut(digest)
            && *plain == Plain::Claimed
        {
            *plain = Plain::Listless;
        }
    }

    /// Forgets `digest`, to read it again.
    pub fn forget(&mut self, digest: &str) {
        self.plain.remove(digest);
        self.whole.remove(digest);
    }

    /// Keeps the manifests whose digest `keep` says.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.plain.retain(|digest, _| keep(digest));
        self.whole.retain(|digest, _| keep(digest));
    }

    /// Every manifest as the state file saves it, in digest order (so that an unchanged
    /// state writes the same bytes): its bytes, or `None` for a plain image manifest. One
    /// read in this run without its bytes kept, which is not plain, is left out.
    pub fn saved(&self) -> Vec<(&str, Option<&str>)> {
        let plain = self.plain.keys().map(|digest| (digest.as_str(), None));
        let whole = self.whole.iter().filter_map(|(digest, whole)| {
            let bytes = whole.bytes.as_deref()?;
            Some((digest.as_str(), Some(bytes)))
        });
        let mut saved: Vec<(&str, Option<&str>)> = plain.chain(whole).collect();
        saved.sort_unstable_by(|a, b| a.0.cmp(b.0));
        saved
    }
}

impl Digests for KnownManifests {
    fn by_digest(&self, digest: &str) -> Option<&Manifest> {
        self.get(digest).map(|(manifest, _)| manifest)
    }

    fn blobs_by_digest(&self, digest: &str) -> Option<&Blobs> {
        self.blobs(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::Child;

    fn index() -> Manifest {
        Manifest {
            is_index: true,
            children: vec![Child {
                digest: "sha256:c".to_string(),
                ..Child::default()
            }],
            ..Manifest::default()
        }
    }

    #[test]
    fn plain_manifests_are_held_as_their_proof_and_the_others_whole() {
        let mut known = KnownManifests::default();
        known.claim("sha256:a".to_string());
        known.read("sha256:b".to_string(), index(), b"{}".to_vec(), true);
        known.read(
            "sha256:d".to_string(),
            Manifest::default(),
            b"{}".to_vec(),
            true,
        );
        assert_eq!(known.get("sha256:a"), Some((&PLAIN, Proof::Claimed)));
        assert_eq!(known.get("sha256:b"), Some((&index(), Proof::Whole)));
        assert_eq!(known.proof("sha256:d"), Some(Proof::Whole));
        known.prove_listless("sha256:a");
        known.prove_listless("sha256:d");
        assert_eq!(known.proof("sha256:a"), Some(Proof::Listless));
        assert_eq!(
            known.proof("sha256:d"),
            Some(Proof::Whole),
            "proven already"
        );
        assert_eq!(
            known.saved(),
            [
                ("sha256:a", None),
                ("sha256:b", Some("{}")),
                ("sha256:d", None)
            ]
        );
        known.read("sha256:a".to_string(), index(), b"{}".to_vec(), false);
        assert_eq!(known.get("sha256:a"), Some((&index(), Proof::Whole)));
        assert_eq!(
            known.saved().len(),
            2,
            "read without its bytes: read again next time"
        );
        known.retain(|digest| digest != "sha256:b");
        known.forget("sha256:d");
        assert_eq!(known.len(), 1);
    }

    fn sized(sizes: &[u64]) -> Blobs {
        Blobs::Sized(
            sizes
                .iter()
                .enumerate()
                .map(|(n, size)| crate::testing::blob(n as u64, *size))
                .collect(),
        )
    }

    #[test]
    fn what_a_manifest_stores_is_known_only_from_bytes_that_prove_to_be_its_digests() {
        let mut known = KnownManifests::default();
        let image = |sizes: &[u64]| Manifest {
            blobs: sized(sizes),
            ..Manifest::default()
        };
        let artifact = Manifest {
            subject: Some("sha256:a".to_string()),
            ..image(&[7])
        };
        known.read(
            "sha256:read".to_string(),
            image(&[1, 2]),
            b"{}".to_vec(),
            false,
        );
        known.claim("sha256:claimed".to_string());
        known.claim("sha256:listless".to_string());
        known.prove_listless("sha256:listless");
        known.checked(
            "sha256:saved-plain".to_string(),
            image(&[3]),
            "{}".to_string(),
        );
        known.checked(
            "sha256:saved-artifact".to_string(),
            artifact,
            "{}".to_string(),
        );
        let cases = [
            ("sha256:read", Some(sized(&[1, 2]))),
            ("sha256:claimed", Some(Blobs::NotHeld)),
            ("sha256:listless", Some(Blobs::NotHeld)),
            ("sha256:saved-plain", Some(Blobs::NotHeld)),
            ("sha256:saved-artifact", Some(sized(&[7]))),
            ("sha256:unknown", None),
        ];
        for (digest, blobs) in cases {
            assert_eq!(known.blobs(digest).cloned(), blobs, "{digest}");
        }
        assert_eq!(
            known.proof("sha256:saved-plain"),
            Some(Proof::Whole),
            "proven, though what it stores is not kept"
        );
        assert_eq!(
            known
                .get("sha256:read")
                .map(|(manifest, _)| &manifest.blobs),
            Some(&Blobs::NotHeld),
            "the graph's view of a plain manifest holds no blobs: ask `blobs`"
        );
    }
}
