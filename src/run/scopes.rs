//! Whether a classic PAT's scopes (GitHub's `x-oauth-scopes` header) allow what the run is
//! about to do, checked before the first delete or restore.

use crate::config::Config;
use crate::github::GitHub;
use crate::model::mode::Mode;
use crate::model::version::PackageType;

/// What the scopes lack for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lacking {
    /// The scope the mode needs (`delete:packages` to delete, `write:packages` to
    /// restore), if missing: a real run must stop before its first change.
    pub needed: Option<&'static str>,
    /// `repo` is missing and the registry is scoped to a repository: GitHub may refuse.
    pub repo: bool,
}

/// What `scopes` lack for `mode` on `package_type`; `None` when nothing is lacking. Only
/// Maven and the legacy docker registry are scoped to a repository on github.com (npm,
/// NuGet and RubyGems have granular permissions), so only they want `repo`.
pub fn lacking(scopes: &[String], mode: Mode, package_type: PackageType) -> Option<Lacking> {
    let has = |scope: &str| scopes.iter().any(|held| held == scope);
    let scope = match mode {
        Mode::Delete => "delete:packages",
        Mode::Restore => "write:packages",
        Mode::Audit => "read:packages",
    };
    let repository_scoped = matches!(package_type, PackageType::Maven | PackageType::Docker);
    let lacking = Lacking {
        needed: (!has(scope)).then_some(scope),
        repo: repository_scoped && !has("repo"),
    };
    (lacking.needed.is_some() || lacking.repo).then_some(lacking)
}

/// The scope a classic PAT lacks for the mode, if the answers read so far name its scopes
/// (a `GITHUB_TOKEN` names none).
pub fn lacking_now(github: &GitHub, config: &Config) -> Option<&'static str> {
    let held = github.scopes()?;
    lacking(&held, config.mode, config.package_type)?.needed
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case = (
        &'static [&'static str],
        Mode,
        PackageType,
        Option<(Option<&'static str>, bool)>,
    );

    #[test]
    fn each_mode_needs_its_scope_and_repository_scoped_registries_want_repo() {
        use Mode::{Delete, Restore};
        use PackageType::{Container, Docker, Maven, Npm, Nuget, Rubygems};
        let cases: &[Case] = &[
            (
                &["read:packages", "delete:packages"],
                Delete,
                Container,
                None,
            ),
            (
                &["write:packages"],
                Delete,
                Container,
                Some((Some("delete:packages"), false)),
            ),
            (
                &["delete:packages"],
                Restore,
                Container,
                Some((Some("write:packages"), false)),
            ),
            (&["write:packages"], Restore, Container, None),
            (&["delete:packages"], Delete, Maven, Some((None, true))),
            (&["delete:packages"], Delete, Docker, Some((None, true))),
            (&["delete:packages", "repo"], Delete, Maven, None),
            (&["delete:packages"], Delete, Npm, None),
            (&["delete:packages"], Delete, Nuget, None),
            (&["write:packages"], Restore, Rubygems, None),
            (&[], Delete, Maven, Some((Some("delete:packages"), true))),
        ];
        for (scopes, mode, package_type, expected) in cases {
            let scopes: Vec<String> = scopes.iter().map(|scope| scope.to_string()).collect();
            let got = lacking(&scopes, *mode, *package_type)
                .map(|lacking| (lacking.needed, lacking.repo));
            assert_eq!(got, *expected, "{scopes:?} {mode:?} {package_type}");
        }
    }
}
