//! Image vocabulary shared by the policy, the run and the reports: what a version is to the
//! image it belongs to, and how digests and images are named.

use std::fmt;

use super::version::Version;

/// What a version is to the image it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Listed in an index for this `os/arch[/variant]`.
    Platform(String),
    /// A buildx attestation manifest listed in an index.
    Attestation,
    /// Listed in an index without a platform (a nested index, for example).
    Child,
    /// Cosign `sha256-<hex>.sig`.
    Signature,
    /// Cosign `sha256-<hex>.att`.
    CosignAttestation,
    /// Cosign `sha256-<hex>.sbom`.
    Sbom,
    /// The referrers-tag index `sha256-<hex>`.
    Referrers,
    /// A manifest whose `artifactType` is a sigstore bundle (GitHub artifact attestation).
    ArtifactAttestation,
    /// Any other manifest with a `subject`, or a referrers entry.
    Artifact,
}

impl Role {
    /// A short label for the summary's tree (`linux/amd64`, `signature`).
    pub fn label(&self) -> &str {
        match self {
            Role::Platform(platform) => platform,
            Role::Attestation => "attestation",
            Role::Child => "child manifest",
            Role::Signature => "signature",
            Role::CosignAttestation => "cosign attestation",
            Role::Sbom => "SBOM",
            Role::Referrers => "referrers index",
            Role::ArtifactAttestation => "artifact attestation",
            Role::Artifact => "artifact",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Platform(platform) => write!(f, "platform manifest {platform}"),
            Role::Attestation => f.write_str("attestation manifest"),
            Role::Child => f.write_str("child manifest"),
            Role::Signature => f.write_str("cosign signature"),
            other => f.write_str(other.label()),
        }
    }
}

/// The images a version is acted on with, and what it is to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Ids of the parent versions; the first is the one the summary shows it under.
    pub parents: Vec<u64>,
    pub role: Role,
}

/// Hex digits a digest or an artifact tag is shortened to: enough to tell versions apart.
const SHORT_HEX: usize = 12;

/// `sha256:0123456789ab…`: the one form every row, reason and log line shows a digest in
/// (the full digest stays in the `json` output). Anything that is not an
/// `algorithm:hex` digest longer than that, such as an npm version `1.2.3`, is unchanged.
pub fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) if is_hex(hex) && hex.len() > SHORT_HEX => {
            format!("{algorithm}:{}…", &hex[..SHORT_HEX])
        }
        _ => digest.to_string(),
    }
}

/// A cosign or referrers tag shortened like a digest: `sha256-0123456789ab….sig`. Other
/// tags are unchanged.
pub fn short_tag(tag: &str) -> String {
    if tag_subject(tag).is_none() {
        return tag.to_string();
    }
    match tag.split_once('.') {
        Some((name, suffix)) => format!("{}.{suffix}", short_tag_name(name)),
        None => short_tag_name(tag),
    }
}

/// `sha256-<hex>` with its hex cut to [`SHORT_HEX`] digits; the caller checked the form.
fn short_tag_name(name: &str) -> String {
    match name.split_once('-') {
        Some((algorithm, hex)) if is_hex(hex) && hex.len() > SHORT_HEX => {
            format!("{algorithm}-{}…", &hex[..SHORT_HEX])
        }
        _ => name.to_string(),
    }
}

fn is_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// How reasons name an image: its short digest and its tags.
pub fn describe_image(version: &Version) -> String {
    let digest = short_digest(&version.name);
    if version.tags.is_empty() {
        digest
    } else {
        format!("{digest} ({})", short_tags(&version.tags))
    }
}

/// How rows and log lines name a version: its tags (artifact tags shortened), else its
/// name, a digest in its short form. Npm, Maven and other names are shown whole.
pub fn describe(version: &Version) -> String {
    if version.tags.is_empty() {
        short_digest(&version.name)
    } else {
        short_tags(&version.tags)
    }
}

/// Tags for a row or a line, artifact tags shortened ([`short_tag`]).
pub fn short_tags(tags: &[String]) -> String {
    tags.iter()
        .map(|tag| short_tag(tag))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The subject digest and role a cosign or referrers tag names: `sha256-<hex>.sig` →
/// (`sha256:<hex>`, signature); `sha256-<hex>` → (`sha256:<hex>`, referrers index).
pub fn tag_subject(tag: &str) -> Option<(String, Role)> {
    let rest = tag.strip_prefix("sha256-")?;
    let (hex, role) = match rest.split_once('.') {
        None => (rest, Role::Referrers),
        Some((hex, "sig")) => (hex, Role::Signature),
        Some((hex, "att")) => (hex, Role::CosignAttestation),
        Some((hex, "sbom")) => (hex, Role::Sbom),
        Some(_) => return None,
    };
    let is_hex = hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit());
    is_hex.then(|| (format!("sha256:{}", hex.to_ascii_lowercase()), role))
}

/// Whether tags leave a version free to be an artifact of another image: every tag is an
/// artifact tag (cosign `sha256-<hex>.sig|.att|.sbom`, referrers `sha256-<hex>`), or there
/// is none (an untagged manifest may still name its `subject`). A version carrying any
/// other tag (`v1.0.0`, `latest`, or a malformed `sha256-…`) is an image in its own right
/// whatever else it is tagged: anyone who can push a tag could otherwise add
/// `sha256-<digest>.sig` to a release and have it deleted with that digest's image.
pub fn may_be_artifact(tags: &[String]) -> bool {
    tags.iter().all(|tag| tag_subject(tag).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_artifact_tags_are_shortened_one_way_and_other_names_are_not() {
        let hex = "0123456789abcdef".repeat(4);
        let cases = [
            (
                short_digest(&format!("sha256:{hex}")),
                "sha256:0123456789ab…",
            ),
            (short_digest("sha256:0123456789ab"), "sha256:0123456789ab"),
            (
                short_digest("1.2.3-beta.20240101123456789"),
                "1.2.3-beta.20240101123456789",
            ),
            (
                short_digest("a:long-version-name-not-hex"),
                "a:long-version-name-not-hex",
            ),
            (
                short_tag(&format!("sha256-{hex}.sig")),
                "sha256-0123456789ab….sig",
            ),
            (short_tag(&format!("sha256-{hex}")), "sha256-0123456789ab…"),
            (short_tag("v1.2.0"), "v1.2.0"),
            (short_tag("sha256-abc.sig"), "sha256-abc.sig"),
        ];
        for (shown, expected) in cases {
            assert_eq!(shown, expected);
        }
    }
}
