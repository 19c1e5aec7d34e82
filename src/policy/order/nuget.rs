//! NuGet's version order, as `NuGetVersion.TryParse` reads a version and NuGet's
//! `VersionComparer` (its default mode) compares two
//! (<https://learn.microsoft.com/nuget/concepts/package-versioning>, and `NuGet.Versioning`
//! in NuGet/NuGet.Client):
//! - one to four numbers, `Major.Minor.Patch.Revision`, missing ones 0, leading zeros
//!   allowed and ignored: NuGet's normalization makes `1.0`, `1.0.0`, `1.00.0.0` equal;
//! - then an optional pre-release, `-` and dot-separated labels of ASCII letters, digits and
//!   `-`, where a numeric label has no leading zero; a version without labels is above any
//!   with them;
//! - then optional build metadata after `+`, which the order ignores.
//!
//! Labels compare one by one (`CompareRelease`): two labels that are 32-bit integers
//! numerically, an integer below any other label, others ordinally ignoring ASCII case, so
//! `1.0.0-Beta` equals `1.0.0-beta` (as NuGet treats them); more labels above a prefix.
//!
//! `System.Version` also accepts signs and spaces around the numbers; those forms are not
//! read as versions here, so they are kept.

use std::cmp::Ordering;

/// A NuGet version without its build metadata.
#[derive(Debug, Clone)]
pub struct NuGet {
    numbers: [u32; 4],
    /// `None` for a release.
    labels: Option<Vec<String>>,
}

/// `text` as a NuGet version.
pub fn parse(text: &str) -> Option<NuGet> {
    let (version, metadata) = match text.split_once('+') {
        Some((version, metadata)) => (version, Some(metadata)),
        None => (text, None),
    };
    if let Some(metadata) = metadata
        && !metadata.split('.').all(|part| valid_part(part, true))
    {
        return None;
    }
    let (numbers_text, labels_text) = match version.split_once('-') {
        Some((numbers, labels)) => (numbers, Some(labels)),
        None => (version, None),
    };
    let mut numbers = [0u32; 4];
    for (at, part) in numbers_text.split('.').enumerate() {
        let slot = numbers.get_mut(at)?;
        if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        // `System.Version` parts are non-negative 32-bit integers.
        *slot = part
            .parse::<i32>()
            .ok()
            .and_then(|n| u32::try_from(n).ok())?;
    }
    let labels = match labels_text {
        Some(labels) => {
            let labels: Vec<String> = labels.split('.').map(str::to_owned).collect();
            if !labels.iter().all(|label| valid_part(label, false)) {
                return None;
            }
            Some(labels)
        }
        None => None,
    };
    Some(NuGet { numbers, labels })
}

/// `SemanticVersion.IsValidPart`: non-empty, ASCII letters, digits and `-`, and, unless
/// `leading_zeros`, no leading zero in an all-digit part other than `0`.
fn valid_part(part: &str, leading_zeros: bool) -> bool {
    let chars_valid = !part.is_empty()
        && part
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    let leading_zero =
        part.len() > 1 && part.starts_with('0') && part.bytes().all(|byte| byte.is_ascii_digit());
    chars_valid && (leading_zeros || !leading_zero)
}

/// `VersionComparer.CompareRelease`: both `int.TryParse`-able, numerically; one of them, it
/// first; else ordinally ignoring case.
fn cmp_label(a: &str, b: &str) -> Ordering {
    match (a.parse::<i32>(), b.parse::<i32>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a
            .bytes()
            .map(|byte| byte.to_ascii_uppercase())
            .cmp(b.bytes().map(|byte| byte.to_ascii_uppercase())),
    }
}

impl Ord for NuGet {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| match (&self.labels, &other.labels) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a
                    .iter()
                    .zip(b)
                    .map(|(a, b)| cmp_label(a, b))
                    .find(|order| order.is_ne())
                    .unwrap_or_else(|| a.len().cmp(&b.len())),
            })
    }
}

impl PartialOrd for NuGet {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGet {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGet {}
