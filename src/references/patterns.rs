//! The `keep-referenced` input: glob patterns of files, relative to the workspace, checked
//! once when the configuration is read.
//!
//! Globs as `.gitignore` and shells read them: `*` and `?` never match `/`, `**` matches any
//! number of folders, `[abc]` and `{a,b}` as usual; matching is case-sensitive. Patterns
//! are separated by newlines or by commas outside `{…}`. A pattern may not be absolute or
//! climb out with `..`: only the workspace is read.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// The checked patterns, compiled into one set.
#[derive(Debug, Clone)]
pub struct Patterns {
    texts: Vec<String>,
    set: GlobSet,
    /// Per pattern, what bounds where its matches can be: for pruning the walk.
    reach: Vec<Reach>,
}

/// Where a pattern's matches can be: under its leading literal folders, and, without `**`,
/// exactly as many path components deep as it has.
#[derive(Debug, Clone)]
struct Reach {
    prefix: Vec<String>,
    depth: Option<usize>,
}

impl Patterns {
    /// Split, check and compile `value`. The error says what is wrong with which pattern.
    pub fn parse(value: &str) -> Result<Patterns, String> {
        let mut texts: Vec<String> = Vec::new();
        for pattern in split(value) {
            let pattern = pattern.trim_start_matches("./");
            if !texts.iter().any(|known| known == pattern) {
                texts.push(pattern.to_owned());
            }
        }
        if texts.is_empty() {
            return Err("lists no pattern".to_owned());
        }
        let mut builder = GlobSetBuilder::new();
        let mut reach = Vec::with_capacity(texts.len());
        for text in &texts {
            builder.add(glob(text)?);
            reach.push(Reach::of(text));
        }
        let set = builder
            .build()
            .map_err(|error| format!("cannot be compiled: {error}"))?;
        Ok(Patterns { texts, set, reach })
    }

    /// The patterns as given (trimmed, each once), in order.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// The indexes of the patterns that match `path` (relative, with `/`).
    pub fn matching(&self, path: &str) -> Vec<usize> {
        self.set.matches(path)
    }

    /// Whether a folder at `folder` (relative components) may hold a file some pattern
    /// matches, so that the walk needs to enter it.
    pub fn may_hold_matches(&self, folder: &[&str]) -> bool {
        self.reach.iter().any(|reach| {
            let on_prefix = folder
                .iter()
                .zip(&reach.prefix)
                .all(|(component, literal)| component == literal);
            on_prefix && reach.depth.is_none_or(|depth| folder.len() < depth)
        })
    }
}

/// The patterns of `value`: split on newlines, and on commas outside `{…}`; trimmed; empty
/// ones dropped.
fn split(value: &str) -> impl Iterator<Item = &str> {
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, ch) in value.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                pieces.push(&value[start..at]);
                start = at + 1;
            }
            '\n' => {
                pieces.push(&value[start..at]);
                start = at + 1;
                depth = 0;
            }
            _ => {}
        }
    }
    pieces.push(&value[start..]);
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
}

/// One pattern, checked: relative, inside the workspace, and a valid glob.
fn glob(text: &str) -> Result<Glob, String> {
    if text.starts_with('/') || text.contains('\\') {
        return Err(format!(
            "`{text}` is not a pattern relative to the workspace (write `deploy/*.yaml`, with `/`)"
        ));
    }
    if text.split('/').any(|component| component == "..") {
        return Err(format!(
            "`{text}` climbs out of the workspace with `..`: only files in the workspace are read"
        ));
    }
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(false)
        .build()
        .map_err(|error| format!("`{text}` is not a glob pattern: {error}"))
}

impl Reach {
    fn of(text: &str) -> Reach {
        let components: Vec<&str> = text.split('/').filter(|c| !c.is_empty()).collect();
        let is_literal = |component: &&&str| !component.contains(['*', '?', '[', '{', ']', '}']);
        let prefix = components
            .iter()
            .take_while(is_literal)
            .map(|component| (*component).to_owned())
            .collect();
        let depth = (!components.iter().any(|c| c.contains("**"))).then_some(components.len());
        Reach { prefix, depth }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_split_on_newlines_and_commas_outside_braces() {
        let patterns = Patterns::parse(
            "deploy/**/*.yaml, docker-compose*.yml\n.github/workflows/*.{yml,yaml}\n\n ./deploy/**/*.yaml ",
        )
        .expect("valid patterns");
        assert_eq!(
            patterns.texts(),
            [
                "deploy/**/*.yaml",
                "docker-compose*.yml",
                ".github/workflows/*.{yml,yaml}"
            ]
        );
    }

    #[test]
    fn globs_match_like_gitignore_with_stars_that_stay_in_one_folder() {
        let patterns =
            Patterns::parse("deploy/**/*.yaml, docker-compose*.yml, .github/workflows/*.yml")
                .expect("valid patterns");
        let cases = [
            ("deploy/prod.yaml", vec![0]),
            ("deploy/eu/west/prod.yaml", vec![0]),
            ("deploy/prod.yml", vec![]),
            ("docker-compose.yml", vec![1]),
            ("docker-compose.prod.yml", vec![1]),
            ("sub/docker-compose.yml", vec![]),
            (".github/workflows/release.yml", vec![2]),
            (".github/workflows/sub/release.yml", vec![]),
            ("Deploy/prod.yaml", vec![]),
        ];
        for (path, expected) in cases {
            assert_eq!(patterns.matching(path), expected, "{path}");
        }
    }

    #[test]
    fn the_walk_enters_only_folders_a_pattern_can_reach() {
        let patterns = Patterns::parse("deploy/**/*.yaml, docker-compose*.yml, k8s/*/app.yaml")
            .expect("valid patterns");
        let cases: [(&[&str], bool); 8] = [
            (&[], true),
            (&["deploy"], true),
            (&["deploy", "a", "b", "c"], true),
            (&["k8s"], true),
            (&["k8s", "prod"], true),
            (&["k8s", "prod", "deeper"], false),
            (&["node_modules"], false),
            (&["src", "deploy"], false),
        ];
        for (folder, expected) in cases {
            assert_eq!(patterns.may_hold_matches(folder), expected, "{folder:?}");
        }
        let anywhere = Patterns::parse("**/compose.yml").expect("valid");
        assert!(anywhere.may_hold_matches(&["any", "where", "at", "all"]));
    }

    #[test]
    fn a_pattern_outside_the_workspace_or_broken_is_refused_naming_it() {
        let cases = [
            ("/etc/*.yaml", "is not a pattern relative to the workspace"),
            (
                "deploy\\*.yaml",
                "is not a pattern relative to the workspace",
            ),
            ("../other/*.yaml", "climbs out of the workspace"),
            ("deploy/../../x.yml", "climbs out of the workspace"),
            ("deploy/[z-a].yaml", "is not a glob pattern"),
            ("deploy/{a,b.yaml", "is not a glob pattern"),
            (" , \n ", "lists no pattern"),
        ];
        for (value, problem) in cases {
            let error = Patterns::parse(value).expect_err(value);
            assert!(error.contains(problem), "{value}: {error}");
        }
    }
}
