//! Maven's version order: a port of `org.apache.maven.artifact.versioning.ComparableVersion`
//! as Maven 3.9 ships it (the class behind the POM reference's "Version Order
//! Specification", <https://maven.apache.org/pom.html#version-order-specification>).
//!
//! Parsing, as `ComparableVersion.parseVersion` does it, case-insensitively:
//! - `.` separates items; `-` separates them and opens a sub-list; so does a change between
//!   digits and letters (`1.0alpha1` is `[1, [alpha, [1]]]`). An empty item is `0`.
//! - A qualifier that ends the version, or is followed by digits, after other items, opens a
//!   sub-list too (MNG-7644: `1.0.0.RC1` orders like `1.0.0-RC1`).
//! - Qualifiers: `a`, `b` and `m` directly followed by a digit mean `alpha`, `beta` and
//!   `milestone`; `cr` means `rc`; `ga`, `final` and `release` mean the empty qualifier.
//! - Each list is normalized: trailing "null" items (`0`, the empty qualifier, an empty
//!   list) are removed, and so are nulls before a trailing sub-list (`1.0.0-SNAPSHOT` is
//!   `[1, [snapshot]]`).
//!
//! Comparing, as the items' `compareTo` do: lists item by item, a missing item compared as
//! "null"; numbers numerically; qualifiers in the order `alpha < beta < milestone < rc <
//! snapshot < "" < sp`, then unknown qualifiers alphabetically; a qualifier below a
//! sub-list below a number (`1-alpha < 1-1 < 1.1`); against null, a number is above it
//! unless 0, a qualifier as it compares with `""`, and a sub-list by its first item that is
//! not equal to null (MNG-6964). So `1-SNAPSHOT < 1 < 1-sp` and `1.0 = 1 = 1-ga`.
//!
//! `ComparableVersion` is not a total order on every string: `1-alpha.1 < 1 < 1.sp.1 <
//! 1-alpha.1`, because a qualifier in the middle of a list (`.sp.`) or a sub-list that
//! starts with a sub-list (`1-0-alpha`) compares inconsistently with null. Those shapes,
//! which real Maven versions do not use, are not read as versions here (so they are kept),
//! and what remains is a total order (checked by the property tests):
//! - only ASCII letters, digits, `.` and `-`, starting with a digit (the POM reference:
//!   "versions are expected to start with numbers"); no `_`, on which the POM reference and
//!   `ComparableVersion` disagree;
//! - after normalizing, a qualifier only as the first item of a sub-list, and no sub-list
//!   whose first item is a sub-list.

use std::cmp::Ordering;

use super::cmp_digits;

/// Known qualifiers, lowest first; the empty one is the release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The rank of the release (empty) qualifier in [`QUALIFIERS`].
const RELEASE: usize = 5;

/// A Maven version, parsed and normalized.
#[derive(Debug, Clone)]
pub struct Maven(Vec<Item>);

#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros; empty for 0.
    Number(String),
    /// A qualifier: its rank in [`QUALIFIERS`], or `QUALIFIERS.len()` with its name when it
    /// is not a known one.
    Qualifier(usize, String),
    /// A sub-list, opened by `-` or by a change between digits and letters.
    List(Vec<Item>),
}

impl Item {
    fn number(digits: &str) -> Item {
        Item::Number(digits.trim_start_matches('0').to_owned())
    }

    /// `StringItem(value, followedByDigit)`: aliases resolved, then ranked.
    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        let name = match (text, followed_by_digit) {
            ("a", true) => "alpha",
            ("b", true) => "beta",
            ("m", true) => "milestone",
            ("cr", _) => "rc",
            ("ga" | "final" | "release", _) => "",
            (other, _) => other,
        };
        match QUALIFIERS.iter().position(|known| *known == name) {
            Some(rank) => Item::Qualifier(rank, String::new()),
            None => Item::Qualifier(QUALIFIERS.len(), name.to_owned()),
        }
    }

    fn parsed(is_digit: bool, text: &str) -> Item {
        if is_digit {
            Item::number(text)
        } else {
            Item::qualifier(text, false)
        }
    }

    /// `0`, the empty qualifier or an empty list: what normalizing removes at the end.
    fn is_null(&self) -> bool {
        match self {
            Item::Number(digits) => digits.is_empty(),
            Item::Qualifier(rank, _) => *rank == RELEASE,
            Item::List(items) => items.is_empty(),
        }
    }

    /// `compareTo(null)`: how the item compares with a missing one.
    fn cmp_null(&self) -> Ordering {
        match self {
            Item::Number(digits) if digits.is_empty() => Ordering::Equal,
            Item::Number(_) => Ordering::Greater,
            Item::Qualifier(rank, _) => rank.cmp(&RELEASE),
            Item::List(items) => items
                .iter()
                .map(Item::cmp_null)
                .find(|order| order.is_ne())
                .unwrap_or(Ordering::Equal),
        }
    }

    /// `compareTo(item)`.
    fn cmp_item(&self, other: &Item) -> Ordering {
        match (self, other) {
            (Item::Number(a), Item::Number(b)) => cmp_digits(a, b),
            (Item::Number(_), _) => Ordering::Greater,
            (_, Item::Number(_)) => Ordering::Less,
            (Item::Qualifier(a, a_name), Item::Qualifier(b, b_name)) => {
                a.cmp(b).then_with(|| a_name.cmp(b_name))
            }
            (Item::Qualifier(..), Item::List(_)) => Ordering::Less,
            (Item::List(_), Item::Qualifier(..)) => Ordering::Greater,
            (Item::List(a), Item::List(b)) => cmp_lists(a, b),
        }
    }
}

/// Lists item by item; past the end of one, the other's items against null.
fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let length = a.len().max(b.len());
    (0..length)
        .map(|at| match (a.get(at), b.get(at)) {
            (Some(a), Some(b)) => a.cmp_item(b),
            (Some(a), None) => a.cmp_null(),
            (None, Some(b)) => b.cmp_null().reverse(),
            (None, None) => Ordering::Equal,
        })
        .find(|order| order.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// `ListItem.normalize`: from the end, remove null items, stepping over sub-lists, until
/// an item that is neither.
fn normalize(items: &mut Vec<Item>) {
    let mut at = items.len();
    while at > 0 {
        at -= 1;
        if items[at].is_null() {
            items.remove(at);
        } else if !matches!(items[at], Item::List(_)) {
            break;
        }
    }
}

/// `text` as a Maven version, or `None` when it is not one we can order (see the module
/// documentation).
pub fn parse(text: &str) -> Option<Maven> {
    let well_formed = text.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-');
    if !well_formed {
        return None;
    }
    let text = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    // The open lists, outermost first; the last is where items go.
    let mut lists: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'.' | b'-' => {
                let item = if at == start {
                    Item::Number(String::new())
                } else {
                    Item::parsed(is_digit, &text[start..at])
                };
                current(&mut lists).push(item);
                start = at + 1;
                if byte == b'-' {
                    lists.push(Vec::new());
                }
            }
            b'0'..=b'9' => {
                if !is_digit && at > start {
                    if !current(&mut lists).is_empty() {
                        lists.push(Vec::new());
                    }
                    current(&mut lists).push(Item::qualifier(&text[start..at], true));
                    start = at;
                    lists.push(Vec::new());
                }
                is_digit = true;
            }
            _ => {
                if is_digit && at > start {
                    current(&mut lists).push(Item::number(&text[start..at]));
                    start = at;
                    lists.push(Vec::new());
                }
                is_digit = false;
            }
        }
    }
    if bytes.len() > start {
        if !is_digit && !current(&mut lists).is_empty() {
            lists.push(Vec::new());
        }
        current(&mut lists).push(Item::parsed(is_digit, &text[start..]));
    }
    // Close the lists innermost first, each normalized before its parent is.
    let mut closed = lists.pop().unwrap_or_default();
    normalize(&mut closed);
    while let Some(mut parent) = lists.pop() {
        parent.push(Item::List(closed));
        normalize(&mut parent);
        closed = parent;
    }
    orderable(&closed, true).then_some(Maven(closed))
}

/// The list items go into: the innermost open one (there is always the outermost).
fn current(lists: &mut Vec<Vec<Item>>) -> &mut Vec<Item> {
    if lists.is_empty() {
        lists.push(Vec::new());
    }
    let last = lists.len() - 1;
    &mut lists[last]
}

/// Whether `items` (the version's list when `outermost`) has only the shapes on which
/// `ComparableVersion` is a total order: a qualifier only first in a sub-list, and no
/// sub-list that starts with a sub-list.
fn orderable(items: &[Item], outermost: bool) -> bool {
    items.iter().enumerate().all(|(at, item)| match item {
        Item::Number(_) => true,
        Item::Qualifier(..) => !outermost && at == 0,
        Item::List(inner) => (outermost || at > 0) && orderable(inner, false),
    })
}

impl Ord for Maven {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.0, &other.0)
    }
}

impl PartialOrd for Maven {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Maven {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Maven {}
