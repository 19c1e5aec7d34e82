//! The documents hold to the repository. Every file path that `README.md`,
//! `ARCHITECTURE.md`, `CONTRIBUTING.md`, `SECURITY.md` and `docs/*.md` name, in backticks or
//! as a link, exists; every link to a heading finds it; and the README's inputs table equals
//! the inputs of `action.yml` (names in order, and the default or `required` each row shows).
//!
//! A backticked text counts as a path when it looks like one (no spaces, no `:`, `<`, `*`,
//! `{`, `$`, `@`) and either starts with an entry of the repository's root (`src/…`,
//! `docs/`, `action.yml`) or ends in a file extension of ours (`.rs`, `.md`, `.yml`, …): so
//! `linux/amd64` and `.package-janitor/state` are not paths, and `release.yml` must be
//! written out as `.github/workflows/release.yml`. Fenced code blocks are examples, not
//! references, and are skipped. Backticked paths are from the repository's root; link
//! targets from the document's folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The documents checked, from the repository's root; every `docs/*.md` is added.
const DOCUMENTS: &[&str] = &[
    "README.md",
    "ARCHITECTURE.md",
    "CONTRIBUTING.md",
    "SECURITY.md",
];

/// Extensions that make a backticked text a file path wherever it starts.
const EXTENSIONS: &[&str] = &[
    "rs", "md", "sh", "yml", "yaml", "toml", "json", "lock", "txt",
];

/// Entries of the root that are not part of the repository (ignored by git).
const NOT_IN_THE_REPOSITORY: &[&str] = &[".git", "target", ".venv", "node_modules"];

#[test]
fn every_path_and_heading_the_documents_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repository = Repository::read(root);
    let documents = documents(root);
    assert!(
        documents.len() >= DOCUMENTS.len() + 5,
        "read only {} documents",
        documents.len()
    );
    let mut problems = Vec::new();
    let mut named = 0;
    for (path, text) in &documents {
        let found = references(text);
        named += found.len();
        problems.extend(repository.problems(path, &found));
    }
    assert!(
        named > 100,
        "found only {named} references in the documents"
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_readme_inputs_table_equals_action_yml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let action = std::fs::read_to_string(root.join("action.yml")).expect("action.yml");
    let problems = table_problems(&readme, &action);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(
        readme_inputs(&readme).len() > 20,
        "the README's inputs table was not found whole"
    );
}

/// `README.md`, `ARCHITECTURE.md`, `CONTRIBUTING.md`, `SECURITY.md` and every `docs/*.md`,
/// as (path from the root, text).
fn documents(root: &Path) -> Vec<(String, String)> {
    let mut paths: Vec<String> = DOCUMENTS.iter().map(|path| path.to_string()).collect();
    let mut docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("a docs/ folder")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    paths.extend(docs);
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(root.join(&path))
                .unwrap_or_else(|err| panic!("cannot read {path}: {err}"));
            (path, text)
        })
        .collect()
}

/// What a document names: paths in backticks (from the root) and link targets (from the
/// document's folder, with an optional `#heading`).
#[derive(Debug, PartialEq, Eq)]
enum Reference {
    Code(String),
    Link(String),
}

/// The repository as the check sees it: every file and folder, and the headings of its
/// Markdown files.
struct Repository {
    /// Files and folders, from the root, `/`-separated, folders without a trailing `/`.
    paths: BTreeSet<String>,
    /// The entries of the root.
    top: BTreeSet<String>,
    /// Markdown files by path, for their headings.
    markdown: BTreeMap<String, String>,
}

impl Repository {
    fn read(root: &Path) -> Repository {
        let mut repository = Repository {
            paths: BTreeSet::new(),
            top: BTreeSet::new(),
            markdown: BTreeMap::new(),
        };
        repository.walk(root, root);
        repository
    }

    fn walk(&mut self, root: &Path, dir: &Path) {
        for entry in std::fs::read_dir(dir).expect("a readable folder") {
            let path = entry.expect("a directory entry").path();
            let relative = path.strip_prefix(root).expect("under the root");
            let name: Vec<String> = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if name.len() == 1 && NOT_IN_THE_REPOSITORY.contains(&name[0].as_str()) {
                continue;
            }
            let name = name.join("/");
            if relative.iter().count() == 1 {
                self.top.insert(name.clone());
            }
            if path.is_dir() {
                self.walk(root, &path);
            } else if name.ends_with(".md") {
                let text = std::fs::read_to_string(&path).expect("a readable Markdown file");
                self.markdown.insert(name.clone(), text);
            }
            self.paths.insert(name);
        }
    }

    /// What is wrong with what `document` names: each path that does not exist and each
    /// heading not found, with the document and the text that names it.
    fn problems(&self, document: &str, references: &[Reference]) -> Vec<String> {
        let mut problems = Vec::new();
        for reference in references {
            match reference {
                Reference::Code(code) => {
                    if let Some(path) = self.code_path(code)
                        && !self.paths.contains(&path)
                    {
                        problems.push(format!("{document}: `{code}` does not exist"));
                    }
                }
                Reference::Link(target) => {
                    if let Some(problem) = self.link_problem(document, target) {
                        problems.push(format!("{document}: link ({target}) {problem}"));
                    }
                }
            }
        }
        problems
    }

    /// The path a backticked text names, if it is one (see the file's doc).
    fn code_path(&self, code: &str) -> Option<String> {
        let path = code.strip_prefix("./").unwrap_or(code);
        let path_like = !path.is_empty()
            && !path.starts_with('/')
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
        if !path_like {
            return None;
        }
        let path = path.trim_end_matches('/');
        let first = path.split('/').next().unwrap_or(path);
        let last = path.rsplit('/').next().unwrap_or(path);
        let extension = last.rsplit_once('.').map(|(_, extension)| extension);
        let ours = extension.is_some_and(|extension| EXTENSIONS.contains(&extension));
        (self.top.contains(first) || ours).then(|| path.to_string())
    }

    /// Why a link target of `document` does not resolve, if it does not. Links to other
    /// sites are not checked.
    fn link_problem(&self, document: &str, target: &str) -> Option<String> {
        if target.contains("://") || target.starts_with("mailto:") {
            return None;
        }
        let (file, heading) = match target.split_once('#') {
            Some((file, heading)) => (file, Some(heading)),
            None => (target, None),
        };
        let file = if file.is_empty() {
            document.to_string()
        } else {
            let folder = document.rsplit_once('/').map_or("", |(folder, _)| folder);
            let Some(file) = resolve(folder, file) else {
                return Some("leaves the repository".to_string());
            };
            file
        };
        if !self.paths.contains(&file) {
            return Some(format!("names {file}, which does not exist"));
        }
        let heading = heading?;
        let Some(text) = self.markdown.get(&file) else {
            return Some(format!("names a heading of {file}, which is not Markdown"));
        };
        (!headings(text).contains(heading)).then(|| format!("names no heading of {file}"))
    }
}

/// `path` from `folder`, `..` and `.` resolved, without a trailing `/`; `None` when it
/// leaves the root.
fn resolve(folder: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|part| !part.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `text` without its fenced code blocks (their lines left empty).
fn outside_fences(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The code spans and link targets of a Markdown text, outside fenced code blocks. A code
/// span opens with a run of backticks and closes with a run of the same length.
fn references(text: &str) -> Vec<Reference> {
    let text = outside_fences(text);
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            let start = i + run;
            let mut j = start;
            let mut end = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let close = chars[j..].iter().take_while(|&&c| c == '`').count();
                    if close == run {
                        end = Some(j);
                        break;
                    }
                    j += close;
                } else {
                    j += 1;
                }
            }
            let Some(end) = end else {
                i = start;
                continue;
            };
            let code: String = chars[start..end].iter().collect();
            found.push(Reference::Code(code.trim().to_string()));
            i = end + run;
        } else if chars[i] == ']' && chars.get(i + 1) == Some(&'(') {
            let start = i + 2;
            let end = chars[start..]
                .iter()
                .position(|&c| c == ')' || c.is_whitespace())
                .map_or(chars.len(), |at| start + at);
            found.push(Reference::Link(chars[start..end].iter().collect()));
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// The anchors GitHub gives the headings of a Markdown text: lower case, punctuation other
/// than `-` and `_` dropped, spaces turned into `-`.
fn headings(text: &str) -> BTreeSet<String> {
    outside_fences(text)
        .lines()
        .filter_map(|line| {
            let title = line.trim_start_matches('#');
            (title.len() < line.len() && title.starts_with(' ')).then_some(title.trim())
        })
        .map(|title| {
            title
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// The README's inputs table, row by row: the input's name and its default cell.
fn readme_inputs(readme: &str) -> Vec<(String, String)> {
    let mut lines = readme
        .lines()
        .skip_while(|line| line.trim() != "| input | default | meaning |")
        .skip(2);
    let mut rows = Vec::new();
    for line in lines.by_ref() {
        let Some(inner) = line.trim().strip_prefix('|') else {
            break;
        };
        let cells: Vec<&str> = inner.split(" | ").map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_string();
        let default = cells.get(1).copied().unwrap_or_default().to_string();
        rows.push((name, default));
    }
    rows
}

/// `action.yml`'s inputs in order: name, whether required, and default (empty when none).
fn action_inputs(action: &str) -> Vec<(String, bool, String)> {
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(action).expect("action.yml parses");
    action["inputs"]
        .as_mapping()
        .expect("action.yml has inputs")
        .iter()
        .map(|(name, spec)| {
            (
                name.as_str().expect("an input name").to_string(),
                spec["required"].as_bool().unwrap_or(false),
                spec["default"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Where the README's inputs table and `action.yml` differ. The table must list the same
/// inputs in the same order, and each default cell must agree: `required` for a required
/// input, `none` for an empty default, `` `value` `` for that default, and words (the
/// workflow's repository owner) only for an input whose default is empty because the run
/// works it out.
fn table_problems(readme: &str, action: &str) -> Vec<String> {
    let table = readme_inputs(readme);
    let declared = action_inputs(action);
    let mut problems = Vec::new();
    let in_table: Vec<&str> = table.iter().map(|(name, _)| name.as_str()).collect();
    let in_action: Vec<&str> = declared.iter().map(|(name, ..)| name.as_str()).collect();
    if in_table != in_action {
        problems.push(format!(
            "the README's inputs are {in_table:?}, action.yml's are {in_action:?}"
        ));
    }
    let declared: BTreeMap<&str, (bool, &str)> = declared
        .iter()
        .map(|(name, required, default)| (name.as_str(), (*required, default.as_str())))
        .collect();
    for (name, cell) in &table {
        let Some(&(required, default)) = declared.get(name.as_str()) else {
            continue;
        };
        let agrees = match cell.as_str() {
            "required" => required,
            "none" => !required && default.is_empty(),
            cell if cell.starts_with('`') && cell.ends_with('`') && cell.len() > 1 => {
                !required && cell[1..cell.len() - 1] == *default
            }
            _ => !required && default.is_empty(),
        };
        if !agrees {
            let declared = if required {
                "required".to_string()
            } else {
                format!("default {default:?}")
            };
            problems.push(format!(
                "input `{name}`: the README shows {cell:?}, action.yml says {declared}"
            ));
        }
    }
    problems
}

mod negative {
    //! Each check fails when it must: small documents and repositories, as text.

    use super::*;

    fn repository(paths: &[&str], markdown: &[(&str, &str)]) -> Repository {
        let paths: BTreeSet<String> = paths.iter().map(|path| path.to_string()).collect();
        let top = paths
            .iter()
            .map(|path| path.split('/').next().unwrap_or(path).to_string())
            .collect();
        let markdown = markdown
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect();
        Repository {
            paths,
            top,
            markdown,
        }
    }

    fn problems(document: &str, text: &str) -> Vec<String> {
        let repository = repository(
            &["src", "src/run", "src/run/mod.rs", "docs", "docs/cli.md"],
            &[(
                "docs/cli.md",
                "# The command line\n\n## Flags and variables\n",
            )],
        );
        repository.problems(document, &references(text))
    }

    #[test]
    fn a_missing_path_in_backticks_or_in_a_link_is_named() {
        let found = problems(
            "README.md",
            "The flow is `src/run/mod.rs`, phases in `src/run/phases.rs`.\n\
             See [the CLI](docs/cli.md) and [plans](docs/plans.md), and `docs/`.\n",
        );
        assert_eq!(
            found,
            [
                "README.md: `src/run/phases.rs` does not exist",
                "README.md: link (docs/plans.md) names docs/plans.md, which does not exist",
            ]
        );
    }

    #[test]
    fn a_file_of_ours_is_checked_wherever_it_starts_and_a_link_from_its_folder() {
        let found = problems(
            "docs/cli.md",
            "Written in `release.yml`; see [the flow](../src/run/mod.rs) and [the CLI](cli.md)\n\
             and [nowhere](../../outside.md).\n",
        );
        assert_eq!(
            found,
            [
                "docs/cli.md: `release.yml` does not exist",
                "docs/cli.md: link (../../outside.md) leaves the repository",
            ]
        );
    }

    #[test]
    fn a_link_to_a_missing_heading_is_named_and_a_present_one_passes() {
        let found = problems(
            "README.md",
            "[flags](docs/cli.md#flags-and-variables), [gone](docs/cli.md#plans)\n",
        );
        assert_eq!(
            found,
            ["README.md: link (docs/cli.md#plans) names no heading of docs/cli.md"]
        );
    }

    #[test]
    fn code_examples_urls_and_words_that_are_not_paths_are_not_checked() {
        let found = problems(
            "README.md",
            "```sh\ncat src/missing.rs `src/missing.rs`\n```\n\
             Platforms `linux/amd64`, state in `.package-janitor/state`, routes like\n\
             `/user/packages`, tags `sha256-<hex>.sig`, ``a `src/x.rs` inside`` and\n\
             [GitHub](https://docs.github.com/x.md).\n",
        );
        assert_eq!(found, Vec::<String>::new());
    }

    const ACTION: &str = "inputs:\n  token:\n    required: false\n    default: ${{ github.token }}\n  owner:\n    required: false\n    default: \"\"\n  packages:\n    required: true\n  keep-latest:\n    required: false\n    default: \"0\"\n";

    const TABLE: &str = "| input | default | meaning |\n| --- | --- | --- |\n\
        | `token` | `${{ github.token }}` | token |\n\
        | `owner` | the workflow's repository owner | owner |\n\
        | `packages` | required | names |\n\
        | `keep-latest` | `0` | keep N |\n\nAfter the table.\n";

    #[test]
    fn the_inputs_table_passes_when_it_equals_action_yml() {
        assert_eq!(table_problems(TABLE, ACTION), Vec::<String>::new());
        assert_eq!(readme_inputs(TABLE).len(), 4);
    }

    #[test]
    fn a_missing_extra_or_reordered_row_and_a_wrong_default_are_named() {
        let missing = TABLE.replace("| `keep-latest` | `0` | keep N |\n", "");
        let extra = TABLE.replace(
            "| `keep-latest` |",
            "| `dry-run` | `false` | plan only |\n| `keep-latest` |",
        );
        let reordered = TABLE
            .replace("| `owner` |", "| `OWNER` |")
            .replace("| `packages` |", "| `owner` |")
            .replace("| `OWNER` |", "| `packages` |");
        let wrong_default = TABLE.replace("| `0` |", "| `10` |");
        let not_required = TABLE.replace("| required |", "| none |");
        let cases = [
            (missing, "the README's inputs are"),
            (extra, "the README's inputs are"),
            (reordered, "the README's inputs are"),
            (
                wrong_default,
                "input `keep-latest`: the README shows \"`10`\", action.yml says default \"0\"",
            ),
            (
                not_required,
                "input `packages`: the README shows \"none\", action.yml says required",
            ),
        ];
        for (table, expected) in cases {
            let found = table_problems(&table, ACTION);
            assert!(
                found.iter().any(|problem| problem.starts_with(expected)),
                "{expected} in {found:#?}"
            );
        }
    }
}
