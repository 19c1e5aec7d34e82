//! RubyGems' version order: `Gem::Version` as RubyGems 3 defines it
//! (`lib/rubygems/version.rb`, the revision the `gem_version` crate cites,
//! <https://github.com/rubygems/rubygems/blob/ecc8e895b69063562b9bf749b353948e051e4171/lib/rubygems/version.rb>):
//! - a version matches `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, and each
//!   `-` reads as `.pre.`;
//! - its segments are the runs of digits (numbers) and of letters (strings) in it, so
//!   `1.0.a10` is `[1, 0, "a", 10]`;
//! - canonically, trailing zeros are dropped from the numbers before the first string and
//!   from the rest, so `1.0` equals `1` and `1.0.0.pre` equals `1.pre`;
//! - segments compare in turn, a missing one as 0: numbers numerically, strings bytewise,
//!   and a string below a number, so a version with a string (a pre-release, `1.0.0.pre`,
//!   `1.0.0.rc1`) is below the release it precedes (`1.0.0`).
//!
//! Numbers are compared as digit strings, whatever their size (Ruby's integers are
//! unbounded). Surrounding spaces and the empty string, which Ruby accepts, are not read
//! as versions here.

use std::cmp::Ordering;

use super::cmp_digits;

/// A gem version's canonical segments.
#[derive(Debug, Clone)]
pub struct Gem(Vec<Segment>);

#[derive(Debug, Clone)]
enum Segment {
    /// Digits without leading zeros; empty for 0.
    Number(String),
    Text(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(digits) if digits.is_empty())
    }

    fn cmp_segment(&self, other: &Segment) -> Ordering {
        match (self, other) {
            (Segment::Number(a), Segment::Number(b)) => cmp_digits(a, b),
            (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
            (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Text(a), Segment::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

/// `text` as a gem version.
pub fn parse(text: &str) -> Option<Gem> {
    if !matches_pattern(text) {
        return None;
    }
    let text = text.replace('-', ".pre.");
    let mut segments = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
        rest = &rest[start..];
        let digits = rest.starts_with(|c: char| c.is_ascii_digit());
        let end = rest
            .find(|c: char| {
                if digits {
                    !c.is_ascii_digit()
                } else {
                    !c.is_ascii_alphabetic()
                }
            })
            .unwrap_or(rest.len());
        segments.push(if digits {
            Segment::Number(rest[..end].trim_start_matches('0').to_owned())
        } else {
            Segment::Text(rest[..end].to_owned())
        });
        rest = &rest[end..];
    }
    // `canonical_segments`: trailing zeros dropped from the numbers before the first string
    // and from the rest.
    let split = segments
        .iter()
        .position(|segment| matches!(segment, Segment::Text(_)))
        .unwrap_or(segments.len());
    let mut tail = segments.split_off(split);
    while segments.last().is_some_and(Segment::is_zero) {
        segments.pop();
    }
    while tail.last().is_some_and(Segment::is_zero) {
        tail.pop();
    }
    segments.extend(tail);
    Some(Gem(segments))
}

/// `Gem::Version::ANCHORED_VERSION_PATTERN`, without the surrounding spaces it allows.
fn matches_pattern(text: &str) -> bool {
    let (release, pre) = match text.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (text, None),
    };
    let mut parts = release.split('.');
    let first_is_number = parts
        .next()
        .is_some_and(|first| !first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()));
    let rest_valid =
        parts.all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_valid = pre.is_none_or(|pre| {
        pre.split('.').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    });
    first_is_number && rest_valid && pre_valid
}

impl Ord for Gem {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(String::new());
        let length = self.0.len().max(other.0.len());
        (0..length)
            .map(|at| {
                let a = self.0.get(at).unwrap_or(&zero);
                let b = other.0.get(at).unwrap_or(&zero);
                a.cmp_segment(b)
            })
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for Gem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Gem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Gem {}
