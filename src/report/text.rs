//! The report as a person reads it, at a terminal or in a pipe (`--format text`, the default
//! outside Actions): the headline, what refused, stopped or cut the run short, the warnings
//! a reader must not miss, then per package the versions selected (an aligned table, an
//! image's platform manifests and artifacts indented beneath it), the manifests that could
//! not be read, and the kept versions counted by reason (listed with `--verbose`). No
//! Markdown, and ANSI (a bold title) only when stdout is a terminal.
//!
//! Every name, tag and message goes through the run's [`Sanitizer`]: a tag holding an ANSI
//! escape or a line break shows as text, never as a command to the terminal.

use std::fmt::Write as _;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::sanitize::Sanitizer;
use super::summary::tree;
use super::terminal::Print;
use super::{PackageReport, RunReport, age, plural};
use crate::config::Config;
use crate::model::image::{Role, describe};
use crate::model::outcome::{Outcome, PackageEntry};
use crate::model::version::Version;

/// Selected versions listed per package without `--verbose`; the rest are counted.
const MAX_ROWS: usize = 1_000;

/// The widest a cell other than the last is shown, in terminal columns; longer text is cut
/// with `…`, so that one long tag does not push the whole table off the screen.
const MAX_CELL: usize = 60;

/// The report for a person. `notes` are the warnings the log kept for the summary.
pub fn render(
    config: &Config,
    report: &RunReport,
    notes: &[String],
    print: Print,
    clean: &Sanitizer,
) -> String {
    let mut out = String::new();
    let mode = config.mode.as_str();
    let title = if config.dry_run {
        format!("package-janitor: {mode} (dry run: nothing was changed)")
    } else {
        format!("package-janitor: {mode}")
    };
    let _ = writeln!(out, "{}", bold(&title, print.colour));
    let _ = writeln!(out, "{}\n", report.headline(config.mode, config.dry_run));
    if let Some(refusal) = &report.refusal {
        let _ = writeln!(
            out,
            "refused: {} The tables below say what this run would have done.\n",
            clean.terminal(&refusal.message)
        );
    }
    if let Some(interrupted) = &report.interrupted {
        let _ = writeln!(
            out,
            "cut short: {}. What it did is listed below; versions not done are left for the next run.\n",
            clean.terminal(interrupted)
        );
    }
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(
            out,
            "stopped before listing: {}. The next run carries on.\n",
            clean.terminal(stopped)
        );
    } else if report.cut_short() && report.interrupted.is_none() {
        let totals = report.totals();
        let _ = writeln!(
            out,
            "stopped early on GitHub's rate limits: {} and {} are left for the next run.\n",
            plural(totals.left, "version"),
            plural(totals.packages_left, "package")
        );
    }
    for note in notes {
        let _ = writeln!(out, "warning: {}\n", clean.terminal(note));
    }
    let would = format!("would {mode}");
    let done = if config.dry_run {
        would.as_str()
    } else {
        config.mode.past_tense()
    };
    let words = Words {
        would: &would,
        done,
    };
    for package in &report.packages {
        package_section(&mut out, config, package, report, &words, print, clean);
    }
    out
}

/// What every package's section says the same way.
struct Words<'a> {
    /// What a refusal held back would have had done: `would delete`, `would restore`.
    would: &'a str,
    /// What was done: `deleted`, `would delete`.
    done: &'a str,
}

/// One package: its counts, then its tables, each indented under it.
fn package_section(
    out: &mut String,
    config: &Config,
    package: &PackageReport,
    report: &RunReport,
    words: &Words<'_>,
    print: Print,
    clean: &Sanitizer,
) {
    let _ = writeln!(
        out,
        "{} package {}: {} listed, {} selected",
        config.package_type,
        clean.terminal(&package.name),
        package.listed,
        package.entries.len()
    );
    if let Some(whole) = &package.whole {
        let _ = writeln!(out, "  whole package: {}", whole_line(whole, clean));
    }
    if let Some(error) = &package.error {
        let _ = writeln!(out, "  not processed: {}\n", clean.terminal(error));
        return;
    }
    if let Some(left) = &package.left {
        let _ = writeln!(out, "  left for the next run: {}\n", clean.terminal(left));
        return;
    }
    if !package.entries.is_empty() {
        selected(out, package, report, words.would, print.verbose, clean);
    }
    if package.unreadable_count > 0 {
        unreadable(out, package, report, words.done, clean);
    }
    let count = package.kept_count();
    let causes: Vec<String> = package
        .kept
        .iter()
        .map(|(cause, count)| format!("{cause}: {count}"))
        .collect();
    if count == 0 {
        let _ = writeln!(out, "  none kept");
    } else if print.verbose {
        let _ = writeln!(out, "  kept {count} · {}", causes.join(", "));
        kept(out, package, report, clean);
    } else {
        let _ = writeln!(
            out,
            "  kept {count} · {} (--verbose lists them)",
            causes.join(", ")
        );
    }
    out.push('\n');
}

/// The selected versions, images with what goes with them beneath.
fn selected(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    would: &str,
    verbose: bool,
    clean: &Sanitizer,
) {
    let rows = tree(
        &package.entries,
        |entry| entry.version.id,
        |entry| {
            entry
                .relation
                .as_ref()
                .and_then(|relation| relation.parents.first().copied())
        },
    );
    let shown = if verbose { rows.len() } else { MAX_ROWS };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .take(shown)
        .map(|(depth, entry)| {
            let version = &entry.version;
            let role = entry.relation.as_ref().map(|relation| &relation.role);
            let outcome = match (&entry.outcome, &report.refusal) {
                (Outcome::Skipped(reason), Some(refusal)) if *reason == refusal.message => {
                    would.to_string()
                }
                (outcome, _) => clean.terminal(&outcome.to_string()),
            };
            vec![
                version.id.to_string(),
                label(version, role, *depth, clean),
                if entry.outcome.is_listed(version) {
                    age(report.now, version.updated_at)
                } else {
                    "-".to_string()
                },
                outcome,
            ]
        })
        .collect();
    table(out, &["ID", "TAGS / VERSION", "AGE", "OUTCOME"], &cells);
    if rows.len() > cells.len() {
        let _ = writeln!(
            out,
            "  … and {} more (--verbose lists them; --format json gives every one)",
            plural(rows.len() - cells.len(), "version")
        );
    }
}

/// The manifests that could not be read, tagged first, each with why and whether the
/// version stays (or was `done`).
fn unreadable(
    out: &mut String,
    package: &PackageReport,
    report: &RunReport,
    done: &str,
    clean: &Sanitizer,
) {
    let count = package.unreadable_count;
    let _ = writeln!(
        out,
        "  {} could not be read (a tagged image the registry cannot serve may be broken):",
        plural(count, "manifest")
    );
    let cells: Vec<Vec<String>> = package
        .unreadable
        .iter()
        .map(|unreadable| {
            let version = &unreadable.version;
            vec![
                version.id.to_string(),
                cut(&clean.terminal(&describe(version))),
                age(report.now, version.updated_at),
                if unreadable.kept { "kept" } else { done }.to_string(),
                clean.terminal(&unreadable.why),
            ]
        })
        .collect();
    table(out, &["ID", "TAGS / VERSION", "AGE", "FATE", "WHY"], &cells);
    if count > cells.len() {
        let _ = writeln!(
            out,
            "  … and {} more",
            plural(count - cells.len(), "unreadable manifest")
        );
    }
}

/// Every kept version with why, a kept image with its parts beneath it.
fn kept(out: &mut String, package: &PackageReport, report: &RunReport, clean: &Sanitizer) {
    let rows = tree(
        &package.kept_versions,
        |kept| kept.version.id,
        |kept| kept.image.as_ref().map(|(parent, _)| *parent),
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(depth, kept)| {
            let role = kept.image.as_ref().map(|(_, role)| role);
            vec![
                kept.version.id.to_string(),
                label(&kept.version, role, *depth, clean),
                age(report.now, kept.version.updated_at),
                clean.terminal(&kept.reason),
            ]
        })
        .collect();
    table(
        out,
        &["ID", "TAGS / VERSION", "AGE", "KEPT BECAUSE"],
        &cells,
    );
    let count = package.kept_count();
    if count > cells.len() {
        let _ = writeln!(
            out,
            "  … and {} more",
            plural(count - cells.len(), "kept version")
        );
    }
}

/// A row's name: tags or short digest; beneath an image, indented, what it is to it.
fn label(version: &Version, role: Option<&Role>, depth: usize, clean: &Sanitizer) -> String {
    let name = clean.terminal(&describe(version));
    match (role, depth) {
        (Some(role), 1..) => cut(&format!(
            "{}└ {} · {name}",
            "  ".repeat(depth - 1),
            clean.terminal(role.label())
        )),
        _ => cut(&name),
    }
}

/// What happened to the package itself.
fn whole_line(whole: &PackageEntry, clean: &Sanitizer) -> String {
    let versions = plural(whole.version_ids.len(), "version");
    let what = match &whole.outcome {
        Outcome::Deleted => format!("deleted, with every active version ({versions})"),
        Outcome::WouldDeletePackage => format!("would be deleted, with {versions}"),
        Outcome::Restored => format!("restored; {versions} came back with it"),
        other => format!("{other} ({})", whole.reason),
    };
    clean.terminal(&what)
}

/// `rows` under `header`, two spaces in, columns aligned on their widest cell; the first
/// column (ids) to the right, the others to the left, the last not padded.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|title| title.width()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let line = |out: &mut String, cells: &[&str]| {
        out.push_str("  ");
        let last = cells.len().saturating_sub(1);
        for (column, cell) in cells.iter().enumerate() {
            let pad = widths
                .get(column)
                .copied()
                .unwrap_or(0)
                .saturating_sub(cell.width());
            match column {
                0 => {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                }
                _ if column == last => out.push_str(cell),
                _ => {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad));
                }
            }
            if column < last {
                out.push_str("  ");
            }
        }
        out.push('\n');
    };
    line(out, header);
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(out, &cells);
    }
}

/// `text` cut to [`MAX_CELL`] columns, with `…` when it was longer.
fn cut(text: &str) -> String {
    if text.width() <= MAX_CELL {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut width = 0;
    for ch in text.chars() {
        let next = ch.width().unwrap_or(0);
        if width + next > MAX_CELL - 1 {
            break;
        }
        width += next;
        kept.push(ch);
    }
    kept.push('…');
    kept
}

/// `text` in bold when colour is on.
fn bold(text: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_display_width_ids_to_the_right_and_the_last_unpadded() {
        let rows = vec![
            vec!["7".to_string(), "v1".to_string(), "done".to_string()],
            vec![
                "1234".to_string(),
                "版本二".to_string(),
                "done too".to_string(),
            ],
        ];
        let mut out = String::new();
        table(&mut out, &["ID", "TAG", "OUTCOME"], &rows);
        assert_eq!(
            out,
            "    ID  TAG     OUTCOME\n     7  v1      done\n  1234  版本二  done too\n"
        );
    }

    #[test]
    fn a_long_cell_is_cut_to_the_widest_a_cell_may_be() {
        let long = "x".repeat(200);
        let shown = cut(&long);
        assert_eq!(shown.width(), MAX_CELL);
        assert!(shown.ends_with('…'));
        let wide = "版".repeat(100);
        assert!(cut(&wide).width() <= MAX_CELL);
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn a_hostile_tag_is_one_inert_label() {
        let clean = Sanitizer::new("ghp_text_token");
        let version = crate::testing::version(3, &["pr-1\u{1b}[2J\nrm -rf ghp_text_token"]);
        let shown = label(&version, Some(&Role::Signature), 2, &clean);
        assert_eq!(shown, "  └ signature · pr-1\\u{1b}[2J\\nrm -rf ***");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\n'));
    }
}
