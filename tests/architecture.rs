//! The import check: the modules of `src/` import one way. It fails, naming the modules and
//! the lines that tie them, when modules import each other (a circle of any length), and
//! when a pure layer imports what it must not: `model` and `transport` nothing of ours,
//! `policy` only `model`, the two HTTP clients only `model` and `transport`; and when a file
//! of `run/` imports `run/mod.rs`, which is the flow only.
//!
//! It reads the source as text, with comments and string literals blanked: every `crate::`
//! path (and each branch of a `crate::{…}` use tree), every `super::` and `self::` path
//! resolved against the module it stands in, and every path that starts with the name of a
//! child module. A top-level module is one node; inside `run/` and `report/` each file is
//! its own node. Test code counts like any other code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Folders whose files are nodes of their own; every other top-level module is one node.
const BY_FILE: &[&str] = &["report", "run"];

/// Folders whose `mod.rs` is the flow alone: no file inside imports it, so that what its
/// files share lives in a file of its own (`run/package.rs`, `run/failures.rs`, …) and a
/// new phase is a new file rather than a callback into the parent.
const FLOW_ONLY: &[&str] = &["run"];

/// The pure layers and all they may import of ours. Any other module may import anything
/// that does not import it back.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("transport", &[]),
    ("policy", &["model", "testing"]),
    ("github", &["model", "transport"]),
    ("registry", &["model", "transport"]),
    ("testing", &["model"]),
];

/// Circles known and left on purpose, each with its way out. The check fails once one is
/// gone, so that its entry goes with it.
const KNOWN_CIRCLES: &[(&str, &str)] = &[];

#[test]
fn the_modules_of_src_import_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_rust_files(root, &root.join("src"), &mut files);
    assert!(files.len() > 20, "read only {} files of src/", files.len());
    let problems = check(&files, KNOWN_CIRCLES);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn no_file_of_run_imports_the_flow_in_run_mod_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_rust_files(root, &root.join("src"), &mut files);
    assert!(
        files.iter().any(|(path, _)| path == "src/run/mod.rs"),
        "src/run/mod.rs was not read"
    );
    let problems = calls_into_the_flow(&files);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_file_of_src_opens_with_a_doc_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_rust_files(root, &root.join("src"), &mut files);
    let undocumented: Vec<&str> = files
        .iter()
        .filter(|(_, text)| !text.starts_with("//! "))
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(
        undocumented,
        Vec::<&str>::new(),
        "files without a `//!` line"
    );
}

/// Every `.rs` file under `dir`, as (path from `root` with `/`, text), in path order.
fn read_rust_files(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_rust_files(root, &path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
            let relative = path.strip_prefix(root).expect("under the root");
            let name: Vec<_> = relative.iter().map(|part| part.to_string_lossy()).collect();
            files.push((name.join("/"), text));
        }
    }
}

/// What is wrong with the imports of `files` (path from the crate root, text): circles,
/// pure layers importing what they may not, and known circles that are gone.
fn check(files: &[(String, String)], known_circles: &[(&str, &str)]) -> Vec<String> {
    let graph = Graph::read(files);
    let mut problems = Vec::new();
    // A known circle is tolerated by setting its back edge aside; any other circle, including
    // one that runs through a known pair and a third module, is still found.
    let mut without_known = Graph {
        edges: graph.edges.clone(),
    };
    for (a, b) in known_circles {
        let forth = (a.to_string(), b.to_string());
        let back = (b.to_string(), a.to_string());
        if graph.edges.contains_key(&forth) && graph.edges.contains_key(&back) {
            without_known.edges.remove(&back);
        } else {
            problems.push(format!(
                "{a} and {b} no longer import each other: remove them from KNOWN_CIRCLES"
            ));
        }
    }
    for circle in without_known.circles() {
        let mut problem = format!(
            "these modules import each other: {} -> {}",
            circle.join(" -> "),
            circle[0]
        );
        for (from, to) in circle.iter().zip(circle.iter().cycle().skip(1)) {
            problem.push_str(&format!("\n    {from} -> {to}: {}", graph.why(from, to)));
        }
        problems.push(problem);
    }
    for (from, to) in graph.edges.keys() {
        let (from_layer, to_layer) = (top(from), top(to));
        let allowed = MAY_IMPORT.iter().find(|(layer, _)| *layer == from_layer);
        if let Some((_, allowed)) = allowed
            && from_layer != to_layer
            && !allowed.contains(&to_layer)
        {
            problems.push(format!(
                "{from_layer} may import only {allowed:?} of ours, and {from} imports {to}: {}",
                graph.why(from, to)
            ));
        }
    }
    problems
}

/// Files of a [`FLOW_ONLY`] folder that import its `mod.rs`, circle or not.
fn calls_into_the_flow(files: &[(String, String)]) -> Vec<String> {
    let graph = Graph::read(files);
    graph
        .edges
        .keys()
        .filter(|(from, to)| FLOW_ONLY.contains(&to.as_str()) && top(from) == to)
        .map(|(from, to)| {
            format!(
                "{from} imports {to}, whose mod.rs is the flow only: move what it needs into a file of its own: {}",
                graph.why(from, to)
            )
        })
        .collect()
}

/// The top-level module of a node (`run` for `run::audit`).
fn top(node: &str) -> &str {
    node.split("::").next().unwrap_or(node)
}

/// Nodes and the arrows between them, each arrow with where it was seen.
struct Graph {
    /// (from, to) → the places that import, as `file:line path`.
    edges: BTreeMap<(String, String), Vec<String>>,
}

impl Graph {
    fn read(files: &[(String, String)]) -> Graph {
        let modules: BTreeSet<Vec<String>> =
            files.iter().map(|(path, _)| module_of(path)).collect();
        let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (path, text) in files {
            let module = module_of(path);
            let Some(from) = node(&module, &modules) else {
                continue;
            };
            for (line, target) in references(&module, &blank_comments_and_strings(text)) {
                let Some(to) = node(&target, &modules) else {
                    continue;
                };
                if to != from {
                    edges
                        .entry((from.clone(), to))
                        .or_default()
                        .push(format!("{path}:{line} {}", target.join("::")));
                }
            }
        }
        Graph { edges }
    }

    fn why(&self, from: &str, to: &str) -> String {
        let places = &self.edges[&(from.to_string(), to.to_string())];
        let more = match places.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        format!("{}{more}", places[0])
    }

    fn targets(&self, from: &str) -> impl Iterator<Item = &String> {
        self.edges
            .keys()
            .filter(move |(source, _)| source == from)
            .map(|(_, to)| to)
    }

    /// One circle through each group of nodes that reach each other, in order from its
    /// smallest node (Tarjan's strongly connected components).
    fn circles(&self) -> Vec<Vec<String>> {
        let nodes: BTreeSet<&String> = self.edges.keys().flat_map(|(a, b)| [a, b]).collect();
        let mut tarjan = Tarjan::default();
        for node in &nodes {
            if !tarjan.index.contains_key(*node) {
                tarjan.visit(self, node);
            }
        }
        tarjan
            .components
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| self.circle_through(&component))
            .collect()
    }

    /// A shortest circle from the smallest node of `component` back to it, inside it.
    fn circle_through(&self, component: &BTreeSet<String>) -> Vec<String> {
        let start = component
            .iter()
            .next()
            .expect("a component has nodes")
            .clone();
        let mut came_from: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        while let Some(node) = queue.pop_front() {
            for next in self.targets(&node).filter(|next| component.contains(*next)) {
                if *next == start {
                    let mut circle = vec![node.clone()];
                    while let Some(before) = came_from.get(circle.last().expect("not empty")) {
                        circle.push(before.clone());
                    }
                    circle.reverse();
                    return circle;
                }
                if !came_from.contains_key(next) && *next != start {
                    came_from.insert(next.clone(), node.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        component.iter().cloned().collect()
    }
}

#[derive(Default)]
struct Tarjan {
    next: usize,
    index: BTreeMap<String, usize>,
    low: BTreeMap<String, usize>,
    stack: Vec<String>,
    on_stack: BTreeSet<String>,
    components: Vec<BTreeSet<String>>,
}

impl Tarjan {
    fn visit(&mut self, graph: &Graph, node: &str) {
        self.index.insert(node.to_string(), self.next);
        self.low.insert(node.to_string(), self.next);
        self.next += 1;
        self.stack.push(node.to_string());
        self.on_stack.insert(node.to_string());
        for next in graph.targets(node) {
            if !self.index.contains_key(next) {
                self.visit(graph, next);
                let low = self.low[node].min(self.low[next]);
                self.low.insert(node.to_string(), low);
            } else if self.on_stack.contains(next) {
                let low = self.low[node].min(self.index[next]);
                self.low.insert(node.to_string(), low);
            }
        }
        if self.low[node] == self.index[node] {
            let mut component = BTreeSet::new();
            while let Some(member) = self.stack.pop() {
                self.on_stack.remove(&member);
                let done = member == node;
                component.insert(member);
                if done {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

/// The module a file defines: `src/run/audit.rs` → `run::audit`, `src/run/mod.rs` → `run`,
/// `src/lib.rs` → the crate root (empty).
fn module_of(path: &str) -> Vec<String> {
    let inside = path.strip_prefix("src/").unwrap_or(path);
    let inside = inside.strip_suffix(".rs").unwrap_or(inside);
    let mut parts: Vec<String> = inside.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    parts
}

/// The node a path belongs to: its longest prefix that is a file's module, cut to the top
/// module (or to the file, inside a [`BY_FILE`] folder). `None` for the crate root.
fn node(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<String> {
    let known = (1..=path.len())
        .rev()
        .map(|len| &path[..len])
        .find(|prefix| modules.contains(*prefix))?;
    let depth = if BY_FILE.contains(&known[0].as_str()) {
        2
    } else {
        1
    };
    Some(known[..known.len().min(depth)].join("::"))
}

/// `text` with comments and the insides of string and character literals turned to
/// spaces, line breaks kept, so that only code is searched for paths.
fn blank_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let mut end = i + 1;
        if c == '/' && next == Some('/') {
            while end < chars.len() && chars[end] != '\n' {
                end += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 1;
            end = i + 2;
            while end < chars.len() && depth > 0 {
                match (chars[end], chars.get(end + 1)) {
                    ('/', Some('*')) => (depth, end) = (depth + 1, end + 2),
                    ('*', Some('/')) => (depth, end) = (depth - 1, end + 2),
                    _ => end += 1,
                }
            }
        } else if let Some(after) = raw_string_end(&chars, i).filter(|_| !ident_before) {
            end = after;
        } else if c == '"' {
            while end < chars.len() && chars[end] != '"' {
                end += if chars[end] == '\\' { 2 } else { 1 };
            }
            end += 1;
        } else if c == '\'' && next == Some('\\') {
            // The escaped character is skipped whatever it is, `'` included.
            end = i + 3;
            while end < chars.len() && chars[end] != '\'' {
                end += 1;
            }
            end += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            end = i + 3;
        } else {
            out.push(c);
            i += 1;
            continue;
        }
        let end = end.min(chars.len());
        out.extend(chars[i..end].iter().map(|&c| blank(c)));
        i = end;
    }
    out
}

/// Where a raw string (`r"…"`, `r#"…"#`, `br"…"`) that starts at `i` ends, if one does.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let mut at = i;
    if chars.get(at) == Some(&'b') {
        at += 1;
    }
    if chars.get(at) != Some(&'r') {
        return None;
    }
    at += 1;
    let hashes = chars[at..].iter().take_while(|&&c| c == '#').count();
    at += hashes;
    if chars.get(at) != Some(&'"') {
        return None;
    }
    at += 1;
    while at < chars.len() {
        if chars[at] == '"'
            && chars[at + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(at + 1 + hashes);
        }
        at += 1;
    }
    Some(chars.len())
}

/// A token of code: a word (identifier or keyword) or one punctuation character; `::` is
/// one token.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

fn tokens(code: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token {
                text: chars[start..i].iter().collect(),
                line,
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    tokens
}

fn is_word(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Every path of `code` (comments and strings blanked) that names a module of this crate,
/// absolute, with its line: `crate::…`, `super::…` and `self::…` resolved against the module
/// (inline `mod name { … }` blocks included), and paths that start with a child module
/// declared by `mod name;`.
fn references(module: &[String], code: &str) -> Vec<(usize, Vec<String>)> {
    let tokens = tokens(code);
    let children: BTreeSet<&str> = tokens
        .windows(3)
        .filter(|w| w[0].text == "mod" && is_word(&w[1].text) && w[2].text == ";")
        .map(|w| w[1].text.as_str())
        .collect();
    let mut found = Vec::new();
    // The inline modules open at this point, with the brace depth each closes at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let text = tokens[i].text.as_str();
        match text {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if inline.last().is_some_and(|(_, at)| *at == depth) {
                    inline.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t.text == "{") => {
                inline.push((tokens[i + 1].text.clone(), depth));
            }
            _ => {}
        }
        let after_path = i > 0 && matches!(tokens[i - 1].text.as_str(), "::" | "$" | ".");
        let starts_path = tokens.get(i + 1).is_some_and(|t| t.text == "::")
            && !after_path
            && (matches!(text, "crate" | "super" | "self") || children.contains(text));
        if !starts_path {
            i += 1;
            continue;
        }
        let here: Vec<String> = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        let (paths, next) = path_tree(&tokens, i, &[]);
        for path in paths {
            if let Some(absolute) = resolve(&here, &path) {
                found.push((tokens[i].line, absolute));
            }
        }
        i = next.max(i + 1);
    }
    found
}

/// The paths of the path or use tree starting at `tokens[i]`, each with `prefix` before
/// it, and the index after the tree.
fn path_tree(tokens: &[Token], mut i: usize, prefix: &[String]) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix.to_vec();
    while i < tokens.len() {
        let text = &tokens[i].text;
        if text == "{" {
            let mut paths = Vec::new();
            i += 1;
            while i < tokens.len() && tokens[i].text != "}" {
                if tokens[i].text == "," {
                    i += 1;
                    continue;
                }
                if tokens[i].text == "self" {
                    paths.push(path.clone());
                    i += 1;
                    continue;
                }
                let (branch, next) = path_tree(tokens, i, &path);
                paths.extend(branch);
                i = next.max(i + 1);
            }
            return (paths, i + 1);
        }
        if !is_word(text) {
            break;
        }
        path.push(text.clone());
        if tokens.get(i + 1).is_some_and(|t| t.text == "::") {
            i += 2;
        } else {
            i += 1;
            break;
        }
    }
    (vec![path], i)
}

/// `path` as seen from module `here`, absolute (without `crate`).
fn resolve(here: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = here.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|part| part == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

mod negative {
    //! The check catches what it must: each case a tiny tree of files, as text.

    use super::*;

    fn tree(files: &[(&str, &str)]) -> Vec<(String, String)> {
        files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect()
    }

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        check(&tree(files), &[])
    }

    #[test]
    fn two_modules_that_import_each_other_are_named_with_the_lines_that_tie_them() {
        let found = problems(&[
            ("src/config/mod.rs", "use crate::github::pacing::Pacing;\n"),
            (
                "src/github/mod.rs",
                "pub mod pacing;\n\nuse crate::config::Token;\n",
            ),
            ("src/github/pacing.rs", "pub struct Pacing;\n"),
        ]);
        // The circle, and the HTTP client importing the configuration.
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[1].starts_with("github may import only [\"model\", \"transport\"] of ours"),
            "{}",
            found[1]
        );
        assert!(
            found[0].starts_with("these modules import each other: config -> github -> config"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("src/config/mod.rs:1 github::pacing::Pacing"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("src/github/mod.rs:3 config::Token"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_longer_circle_is_found_and_walked_in_order() {
        let found = problems(&[
            ("src/a.rs", "fn f() { crate::b::g(); }"),
            ("src/b.rs", "use crate::c::H;"),
            ("src/c.rs", "pub fn h() -> crate::a::T { todo!() }"),
            ("src/d.rs", "use crate::a::T;"),
        ]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("these modules import each other: a -> b -> c -> a"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn inside_run_files_are_nodes_and_super_and_child_paths_count() {
        let found = problems(&[
            (
                "src/run/mod.rs",
                "mod audit;\nmod cancel;\n\nfn run() { audit::run(); }\n",
            ),
            (
                "src/run/audit.rs",
                "use super::cancel::Cancel;\nfn run() { super::find_packages(); }\n",
            ),
            ("src/run/cancel.rs", "pub struct Cancel;\n"),
        ]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("these modules import each other: run -> run::audit -> run"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("src/run/mod.rs:4 run::audit::run"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("src/run/audit.rs:2 run::find_packages"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_file_of_run_that_calls_into_run_mod_rs_is_refused_even_without_a_circle() {
        let found = calls_into_the_flow(&tree(&[
            (
                "src/run/mod.rs",
                "mod act;\nmod package;\n\npub fn run() {}\n",
            ),
            (
                "src/run/act.rs",
                "use super::package::PackageRun;\nfn act() { super::rate_limited(); }\n",
            ),
            ("src/run/package.rs", "pub struct PackageRun;\n"),
            ("src/report/mod.rs", "mod summary;\npub fn plural() {}\n"),
            ("src/report/summary.rs", "use super::plural;\n"),
        ]));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("run::act imports run, whose mod.rs is the flow only"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("src/run/act.rs:2 run::rate_limited"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn comments_strings_and_a_modules_own_tests_are_not_imports() {
        let found = problems(&[
            (
                "src/a.rs",
                "//! Reads [`crate::b`].\n/* crate::b::X */\nconst S: &str = \"crate::b::X\";\n\
                 const R: &str = r#\"crate::b\"#;\nconst C: char = '\"';\nfn f<'a>(x: &'a str) {}\n\
                 #[cfg(test)]\nmod tests {\n    use super::*;\n    use self::super::f;\n}\n",
            ),
            ("src/b.rs", "use crate::a::f;\n"),
        ]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn each_branch_of_a_use_tree_is_an_import() {
        let files = tree(&[
            ("src/a.rs", "use crate::{b::X, c::{self, d::Y}};\n"),
            ("src/b.rs", ""),
            ("src/c/mod.rs", "pub mod d;\n"),
            ("src/c/d.rs", "use crate::a;\n"),
        ]);
        let graph = Graph::read(&files);
        let arrows: Vec<(&str, &str)> = graph
            .edges
            .keys()
            .map(|(from, to)| (from.as_str(), to.as_str()))
            .collect();
        assert_eq!(arrows, [("a", "b"), ("a", "c"), ("c", "a")]);
    }

    #[test]
    fn a_pure_layer_that_imports_an_io_layer_is_refused() {
        let found = problems(&[
            (
                "src/policy/plan.rs",
                "use crate::config::Mode;\nuse crate::model::version::Version;\n",
            ),
            ("src/model/version.rs", "pub struct Version;\n"),
            (
                "src/transport/token.rs",
                "use crate::model::version::Version;\n",
            ),
            ("src/config/mod.rs", "pub enum Mode {}\n"),
        ]);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("policy may import only [\"model\", \"testing\"] of ours, and policy imports config: src/policy/plan.rs:1"), "{}", found[0]);
        assert!(
            found[1]
                .starts_with("transport may import only [] of ours, and transport imports model"),
            "{}",
            found[1]
        );
    }

    #[test]
    fn a_known_circle_passes_while_it_lasts_and_fails_once_it_is_gone() {
        let circle = [
            ("src/run/mod.rs", "mod audit;\nfn f() { audit::g(); }\n"),
            ("src/run/audit.rs", "fn g() { super::f(); }\n"),
        ];
        assert_eq!(
            check(&tree(&circle), &[("run", "run::audit")]),
            Vec::<String>::new()
        );
        let gone = check(&tree(&circle[..1]), &[("run", "run::audit")]);
        assert_eq!(
            gone,
            ["run and run::audit no longer import each other: remove them from KNOWN_CIRCLES"]
        );
    }
}
