//! Version order per ecosystem, for `order-by: version`: a version name or tag read as its
//! package's ecosystem reads it, and compared the way that ecosystem compares it.
//!
//! - npm versions and container (and docker) tags: [SemVer 2.0](https://semver.org) with an
//!   optional leading `v` ([`semantic`]);
//! - Maven: Maven 3.9's `ComparableVersion` ([`maven`]);
//! - NuGet: `NuGetVersion` and NuGet's `VersionComparer` ([`nuget`]);
//! - RubyGems: `Gem::Version` ([`gem`]).
//!
//! A text that is not a version of its ecosystem has no [`VersionKey`]: the planner keeps it
//! (`not a version: …`), and it never takes a `keep-latest` slot. Every order here is total
//! (antisymmetric, transitive, and equal exactly when `==`), which the property tests in
//! `order/tests.rs` check on generated versions: sorting needs it, and Rust's sort may panic
//! on an order that is not. Two different texts may still be equal versions (`v1.0.0` and
//! `1.0.0`, `1.0` and `1.0.0` in NuGet, `1.0.0+a` and `1.0.0+b`); the planner breaks such
//! ties by push order.
//!
//! Texts longer than [`MAX_LENGTH`] are not versions: a tag is at most 128 characters, and
//! the bound keeps the work on server data small.

mod gem;
mod maven;
mod nuget;
mod semantic;

use crate::model::version::PackageType;

/// The longest text read as a version (Maven itself refuses longer ones).
pub const MAX_LENGTH: usize = 256;

/// A version as its ecosystem orders it. Keys of one package are always of one ecosystem;
/// keys of different ecosystems order by ecosystem, so that the order stays total.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionKey(Key);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    SemVer(semantic::SemVer),
    Maven(maven::Maven),
    NuGet(nuget::NuGet),
    Gem(gem::Gem),
}

/// `text` (a version name, or a container tag) as `package_type`'s ecosystem reads it, or
/// `None` when it is not a version there.
pub fn parse(package_type: PackageType, text: &str) -> Option<VersionKey> {
    if text.len() > MAX_LENGTH {
        return None;
    }
    let key = match package_type {
        PackageType::Container | PackageType::Docker | PackageType::Npm => {
            Key::SemVer(semantic::parse(text)?)
        }
        PackageType::Maven => Key::Maven(maven::parse(text)?),
        PackageType::Nuget => Key::NuGet(nuget::parse(text)?),
        PackageType::Rubygems => Key::Gem(gem::parse(text)?),
    };
    Some(VersionKey(key))
}

/// Digit strings compared by value, whatever their length (a date-stamped `20240101123456`
/// overflows 32 bits): leading zeros stripped, then shorter is smaller, then by digits.
fn cmp_digits(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests;
