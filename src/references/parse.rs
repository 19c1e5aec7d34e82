//! Finding image references in a file's text, pure: `<host>/<owner>/<package>:<tag>`,
//! `…@sha256:<digest>` and `…:<tag>@sha256:<digest>`, where `<host>` is the registry's (from
//! `registry-url`, `ghcr.io` by default) and `<owner>` this run's, both compared ignoring
//! ASCII case. The text is read as plain text, whatever the file's format, so a reference
//! counts in a compose file, a Kubernetes manifest, a workflow (`docker://…` included) or a
//! script alike.
//!
//! What counts, and what does not:
//! - The host must be written: without it, Docker, Compose and Kubernetes read `acme/app:1`
//!   as Docker Hub's `docker.io/acme/app:1`, another image. So a host-less name never
//!   counts, and neither does the host with a port or another host.
//! - The host starts the reference: the character before it is not a letter, digit, `.`,
//!   `_` or `-` (so `docker://ghcr.io/…` and `"ghcr.io/…` count, `myghcr.io/…` does not).
//! - The repository is one or more `/`-separated components of letters, digits, `.`, `_`
//!   and `-` after the owner; it is compared in lower case, as registries store it.
//! - A tag is a letter, digit or `_`, then up to 127 letters, digits, `_`, `.` and `-` (the
//!   OCI distribution grammar); a digest is `sha256:` and 64 hex digits.
//! - The reference ends at the end of the text, white space, or one of `"'`,;)]}>|\` and
//!   the backquote. Anything else right after it (`${{ … }}`, `{{ .Values.tag }}`, `$TAG`)
//!   means the reference is a template, not a name: it does not count. Neither does a `:`
//!   or `@` that is not followed by a tag or a digest.
//! - The repository alone is the tag `latest`, as those tools pull it (see
//!   [`Target::Repository`]).

use crate::model::reference::Target;

/// The longest tag the OCI distribution grammar allows.
const MAX_TAG: usize = 128;
/// Hex digits of a sha256 digest.
const SHA256_HEX: usize = 64;

/// A reference found in a text: its line (from 1), the repository after the host in lower
/// case (`acme/app`), and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub line: usize,
    pub repository: String,
    pub target: Target,
}

/// Every reference to `owner`'s repositories on `host` in `text`, in order.
pub fn references(text: &str, host: &str, owner: &str) -> Vec<Found> {
    let host = host.to_ascii_lowercase();
    let owner = owner.to_ascii_lowercase();
    if host.is_empty() || owner.is_empty() {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut line = 1;
    let mut counted = 0;
    let mut from = 0;
    while let Some(offset) = lower[from..].find(&host) {
        let start = from + offset;
        from = start + 1;
        let before = start.checked_sub(1).map(|at| bytes[at]);
        if before.is_some_and(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte)) {
            continue;
        }
        let Some((repository, target)) = reference_at(bytes, start + host.len()) else {
            continue;
        };
        let Some(package) = repository.strip_prefix(&owner) else {
            continue;
        };
        if !package.starts_with('/') {
            continue;
        }
        line += bytes[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = start;
        found.push(Found {
            line,
            repository,
            target,
        });
    }
    found
}

/// The reference whose host ends at `at`: `/repository`, then an optional tag and digest,
/// then an end (see the module documentation). `None` when there is none.
fn reference_at(bytes: &[u8], at: usize) -> Option<(String, Target)> {
    let mut at = at;
    if bytes.get(at) != Some(&b'/') {
        return None;
    }
    at += 1;
    let path_end = run(bytes, at, |byte| is_component(byte) || byte == b'/');
    let path = std::str::from_utf8(&bytes[at..path_end]).ok()?;
    if path.split('/').count() < 2 || path.split('/').any(str::is_empty) {
        return None;
    }
    at = path_end;
    let mut tag = None;
    if bytes.get(at) == Some(&b':') {
        let start = at + 1;
        let first = *bytes.get(start)?;
        if !(first.is_ascii_alphanumeric() || first == b'_') {
            return None;
        }
        let end = run(bytes, start, is_component);
        if end - start > MAX_TAG {
            return None;
        }
        tag = Some(std::str::from_utf8(&bytes[start..end]).ok()?.to_owned());
        at = end;
    }
    let mut digest = None;
    if bytes.get(at) == Some(&b'@') {
        let algorithm = b"sha256:";
        let start = at + 1 + algorithm.len();
        let prefix = bytes.get(at + 1..start)?;
        if !prefix.eq_ignore_ascii_case(algorithm) {
            return None;
        }
        let end = run(bytes, start, |byte| byte.is_ascii_alphanumeric());
        let hex = bytes.get(start..end)?;
        if hex.len() != SHA256_HEX || !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let hex = std::str::from_utf8(hex).ok()?.to_ascii_lowercase();
        digest = Some(format!("sha256:{hex}"));
        at = end;
    }
    if !bytes.get(at).is_none_or(|&byte| ends_reference(byte)) {
        return None;
    }
    let repository = path.to_ascii_lowercase();
    let target = match (tag, digest) {
        (Some(tag), Some(digest)) => Target::TagAndDigest { tag, digest },
        (Some(tag), None) => Target::Tag(tag),
        (None, Some(digest)) => Target::Digest(digest),
        (None, None) => Target::Repository,
    };
    Some((repository, target))
}

/// The end of the run of bytes from `start` that `keep` accepts.
fn run(bytes: &[u8], start: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(start..)
        .and_then(|rest| rest.iter().position(|&byte| !keep(byte)))
        .map_or(bytes.len().max(start), |length| start + length)
}

/// A byte of a repository component or a tag.
fn is_component(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"._-".contains(&byte)
}

/// A byte that may follow a reference: white space or punctuation that closes a value.
fn ends_reference(byte: u8) -> bool {
    byte.is_ascii_whitespace() || b"\"'`,;)]}>|\\".contains(&byte)
}

#[cfg(test)]
mod tests;
