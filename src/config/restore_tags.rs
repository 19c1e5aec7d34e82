//! The `restore-tags` input: the `untagged` output of a run with `untag: true`, passed back
//! in restore mode to put each tag back on the image it named. Its text comes from another
//! step's output, so every entry is checked before it can shape a request: a JSON array of
//! at most [`MAX_TAGS`] objects, each an OCI tag and a `sha256:` digest, and the package
//! when the run names several.

use serde::Deserialize;

use super::{InputError, PackageSelector};

/// More entries than a run's `untagged` output can hold under GitHub's 1 MB output limit.
pub const MAX_TAGS: usize = 10_000;

/// One tag to put back: `tag` on the manifest `digest` of `package`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagToRestore {
    /// The package, as the run names it; `None` when the entry names none and the run has
    /// a single package.
    pub package: Option<String>,
    pub tag: String,
    pub digest: String,
}

impl TagToRestore {
    /// Whether this entry belongs to `package` (exact, as GitHub compares package names).
    pub fn is_for(&self, package: &str) -> bool {
        self.package.as_deref().is_none_or(|name| name == package)
    }
}

const EXAMPLE: &str = "expected the `untagged` output of a run with `untag: true`: a JSON array \
     such as `[{\"package\": \"app\", \"tag\": \"sha-1a2b3c\", \"digest\": \"sha256:…\"}]`";

/// Parses `restore-tags` for a run over `packages`. An entry without `package` is accepted
/// only when the run names exactly one package; one that names a package must name one of
/// the run's packages exactly.
pub fn parse(value: &str, packages: &[PackageSelector]) -> Result<Vec<TagToRestore>, InputError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        #[serde(default)]
        package: Option<String>,
        tag: String,
        digest: String,
    }
    let invalid = |value: &str, problem: String| {
        let shown: String = value.chars().take(200).collect();
        InputError::invalid("restore-tags", &shown, problem)
    };
    let raw: Vec<Raw> = serde_json::from_str(value)
        .map_err(|error| invalid(value, format!("is not valid ({EXAMPLE}): {error}")))?;
    if raw.len() > MAX_TAGS {
        return Err(invalid(
            value,
            format!(
                "lists {} tags, more than the {MAX_TAGS} a run's `untagged` output can hold",
                raw.len()
            ),
        ));
    }
    let exact: Vec<&str> = packages
        .iter()
        .filter_map(|selector| match selector {
            PackageSelector::Exact(name) => Some(name.as_str()),
            PackageSelector::Wildcard(_) => None,
        })
        .collect();
    let single = match (packages.len(), exact.as_slice()) {
        (1, [only]) => Some(*only),
        _ => None,
    };
    raw.into_iter()
        .map(|entry| {
            if !is_tag(&entry.tag) {
                return Err(invalid(
                    &entry.tag,
                    format!("is not a tag (letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`; {EXAMPLE})"),
                ));
            }
            if !is_digest(&entry.digest) {
                return Err(invalid(
                    &entry.digest,
                    format!("is not a `sha256:` digest of 64 hex digits ({EXAMPLE})"),
                ));
            }
            match &entry.package {
                Some(name) if !exact.contains(&name.as_str()) => Err(invalid(
                    name,
                    "names a package this run does not name exactly in `packages`: add it there, or drop the entry".to_owned(),
                )),
                None if single.is_none() => Err(invalid(
                    &entry.tag,
                    "names no package, and the run names several (or a wildcard): give each entry its `package`".to_owned(),
                )),
                _ => Ok(TagToRestore {
                    package: entry.package,
                    tag: entry.tag,
                    digest: entry.digest.to_ascii_lowercase(),
                }),
            }
        })
        .collect()
}

/// An OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag
            .as_bytes()
            .first()
            .is_some_and(|&byte| byte.is_ascii_alphanumeric() || byte == b'_')
        && tag
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
}

/// `sha256:` and 64 hex digits.
fn is_digest(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(names: &[&str]) -> Vec<PackageSelector> {
        names
            .iter()
            .map(|name| PackageSelector::Exact(name.to_string()))
            .collect()
    }

    #[test]
    fn the_untagged_output_parses_back_and_bad_entries_are_named() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let cases: Vec<(String, Vec<PackageSelector>, Result<usize, &str>)> = vec![
            (
                format!(r#"[{{"package":"app","tag":"sha-1","digest":"{digest}"}}]"#),
                exact(&["app", "lib"]),
                Ok(1),
            ),
            (
                format!(
                    r#"[{{"tag":"sha-1","digest":"{digest}"}},{{"tag":"v1","digest":"{digest}"}}]"#
                ),
                exact(&["app"]),
                Ok(2),
            ),
            ("[]".into(), exact(&["app"]), Ok(0)),
            (
                format!(r#"[{{"tag":"sha-1","digest":"{digest}"}}]"#),
                exact(&["app", "lib"]),
                Err("names no package"),
            ),
            (
                format!(r#"[{{"tag":"sha-1","digest":"{digest}"}}]"#),
                vec![PackageSelector::Wildcard("app-*".into())],
                Err("names no package"),
            ),
            (
                format!(r#"[{{"package":"other","tag":"sha-1","digest":"{digest}"}}]"#),
                exact(&["app"]),
                Err("does not name exactly"),
            ),
            (
                format!(r#"[{{"tag":"../../token","digest":"{digest}"}}]"#),
                exact(&["app"]),
                Err("is not a tag"),
            ),
            (
                r#"[{"tag":"v1","digest":"sha256:abc"}]"#.into(),
                exact(&["app"]),
                Err("is not a `sha256:` digest"),
            ),
            (
                format!(r#"[{{"tag":"v1","digest":"{digest}","id":3}}]"#),
                exact(&["app"]),
                Err("is not valid"),
            ),
            ("sha-1".into(), exact(&["app"]), Err("is not valid")),
        ];
        for (value, packages, expected) in cases {
            let parsed = parse(&value, &packages);
            match (parsed, expected) {
                (Ok(tags), Ok(count)) => assert_eq!(tags.len(), count, "{value}"),
                (Err(error), Err(problem)) => {
                    assert_eq!(error.input(), "restore-tags");
                    assert!(error.problem().contains(problem), "{value}: {error}");
                }
                (got, expected) => panic!("{value}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn an_entry_without_a_package_belongs_to_the_one_package() {
        let digest = format!("sha256:{}", "AB".repeat(32));
        let tags = parse(
            &format!(r#"[{{"tag":"sha-1","digest":"{digest}"}}]"#),
            &exact(&["app"]),
        )
        .expect("valid");
        assert!(tags[0].is_for("app"));
        assert_eq!(tags[0].digest, digest.to_ascii_lowercase());
    }
}
