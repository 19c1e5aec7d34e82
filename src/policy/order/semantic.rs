//! SemVer 2.0 precedence, for npm versions and container tags (<https://semver.org>, §11):
//! major, minor and patch numerically; a pre-release below its release
//! (`1.0.0-rc.1 < 1.0.0`); pre-release identifiers one by one, numeric ones numerically and
//! below alphanumeric ones, which compare in ASCII order, and a longer list above its prefix.
//! Build metadata (`+…`) is ignored (§10), so `1.0.0+a` and `1.0.0+b` are equal.
//!
//! One leading `v` is allowed, as tags are often written (`v1.2.3`, the SemVer FAQ's "is
//! `v1.2.3` a semantic version?"). Parsing is the `semver` crate's, which is strict: three
//! numbers without leading zeros, so `1.2` or `01.2.3` are not versions. Floating container
//! tags such as `1.2` or `1` are therefore never ranked; the image they sit on is ranked by
//! its full version tag.

use std::cmp::Ordering;

/// A SemVer version without its build metadata.
#[derive(Debug, Clone)]
pub struct SemVer {
    major: u64,
    minor: u64,
    patch: u64,
    pre: semver::Prerelease,
}

/// `text`, with one optional leading `v`, as a SemVer 2.0 version.
pub fn parse(text: &str) -> Option<SemVer> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    let version = semver::Version::parse(bare).ok()?;
    Some(SemVer {
        major: version.major,
        minor: version.minor,
        patch: version.patch,
        pre: version.pre,
    })
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            // `semver::Prerelease` orders by SemVer precedence, the empty one (a release)
            // above every pre-release.
            .then_with(|| self.pre.cmp(&other.pre))
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemVer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVer {}
