//! Find the packages: the owner's namespace and kind, then the package names: exact names
//! as given, wildcard patterns (`*`, `?`) expanded through the list-packages endpoint with
//! this file's matcher.

use crate::config::{Config, PackageSelector};
use crate::github::{ApiError, ApiErrorKind, GitHub, Namespace, OwnerKind};
use crate::owner;
use crate::report::log::Log;

use super::cancel::CANCELLED_PLANNING;
use super::environment::Environment;
use super::failures::rate_limited;

/// The owner's namespace and kind, and the package names to work on, in the order given.
pub struct Packages {
    pub namespace: Namespace,
    pub kind: OwnerKind,
    pub names: Vec<String>,
}

/// What finding the packages ends with.
pub enum Discovered {
    Found(Packages),
    /// The primary budget ran out before the packages were found: the reason.
    Stopped(String),
}

/// Find the owner and packages. A cancel ends the reads at once, with an error: nothing
/// was changed.
pub async fn discover<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    env: &Environment,
    log: &mut Log<W>,
) -> anyhow::Result<Discovered> {
    let known_kind = owner::kind_from_event(env.event_path.as_deref(), &config.owner);
    let found = tokio::select! {
        found = find_packages(github, config, known_kind, log) => found,
        () = env.cancel.requested() => anyhow::bail!(CANCELLED_PLANNING),
    };
    match found {
        Ok(found) => Ok(Discovered::Found(found)),
        Err(err) => match rate_limited(&err) {
            Some(reason) => Ok(Discovered::Stopped(reason)),
            None => Err(err),
        },
    }
}

/// The owner's namespace and kind, and the package names to work on.
pub async fn find_packages<W: std::io::Write>(
    github: &GitHub,
    config: &Config,
    known_kind: Option<OwnerKind>,
    log: &mut Log<W>,
) -> anyhow::Result<Packages> {
    let (namespace, kind) = owner::resolve(github, &config.owner, known_kind).await?;
    let names = package_names(github, &namespace, config, log).await?;
    Ok(Packages {
        namespace,
        kind,
        names,
    })
}

/// Exact names as given; wildcard patterns expanded through the list-packages endpoint.
async fn package_names<W: std::io::Write>(
    github: &GitHub,
    namespace: &Namespace,
    config: &Config,
    log: &mut Log<W>,
) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut listed: Option<Vec<String>> = None;
    for selector in &config.packages {
        let matches = match selector {
            PackageSelector::Exact(name) => vec![name.clone()],
            PackageSelector::Wildcard(pattern) => {
                if listed.is_none() {
                    let all = github
                        .list_package_names(namespace, config.package_type)
                        .await
                        .map_err(|err| cannot_list(err, pattern))?;
                    listed = Some(all);
                }
                let found: Vec<String> = listed
                    .iter()
                    .flatten()
                    .filter(|name| wildcard_matches(pattern, name))
                    .cloned()
                    .collect();
                if found.is_empty() {
                    log.warning(&format!(
                        "input `packages`: no {} package of `{}` matches `{pattern}`",
                        config.package_type, config.owner
                    ));
                }
                found
            }
        };
        for name in matches {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

fn cannot_list(err: ApiError, pattern: &str) -> anyhow::Error {
    let advice = match err.kind {
        ApiErrorKind::Forbidden | ApiErrorKind::NotFound | ApiErrorKind::Unauthorized => {
            "this token cannot list the owner's packages (a GITHUB_TOKEN never can): name the packages exactly, or use a classic PAT with read:packages"
        }
        _ => "listing the owner's packages failed",
    };
    anyhow::Error::new(err).context(format!(
        "input `packages`: `{pattern}` is a wildcard, and {advice}"
    ))
}

/// Whether `name` matches a `*`/`?` pattern as a whole, ignoring ASCII case.
/// Greedy matching with backtracking to the last `*`, linear in practice.
pub fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let name: Vec<char> = name.to_ascii_lowercase().chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            last_star = Some((p, n));
            p += 1;
        } else if let Some((star, matched)) = last_star {
            p = star + 1;
            n = matched + 1;
            last_star = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&ch| ch == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_names_case_insensitively() {
        let cases = [
            ("app-*", "app-web", true),
            ("app-*", "app-", true),
            ("app-*", "my-app-web", false),
            ("app-?", "app-1", true),
            ("app-?", "app-12", false),
            ("*", "anything/with/slashes", true),
            ("team/*", "team/app", true),
            ("a.b*", "axb", false),
            ("APP*", "app", true),
            ("*-web-*", "a-web-b-web-c", true),
            ("a*b*c", "abxbyc", true),
            ("a*b*c", "abxbyd", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                wildcard_matches(pattern, name),
                expected,
                "{pattern} vs {name}"
            );
        }
    }
}
