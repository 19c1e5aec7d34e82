//! How storage figures read: what a cleanup freed per package and in total (the summary's
//! storage table; the headline says the total, see [`super::freed_part`]), and an audited
//! package's bytes as a Mermaid pie chart with its table beside it. Outside text
//! (package names, tags, reasons) goes through the [`Sanitizer`].

use std::fmt::Write as _;

use super::sanitize::Sanitizer;
use super::{RunReport, bytes, plural};
use crate::model::version::PackageType;
use crate::policy::audit::Audit;
use crate::policy::storage::{Holdings, Note, Size, Storage};

/// Packages past this many fold their storage rows into a collapsed `<details>`, so that
/// the summary's top stays on one screen; the total stays in sight.
const FOLD_PACKAGES: usize = 50;

/// What the figures are, said once under each storage table.
const WHAT_THEY_ARE: &str = "_Each blob (config or layer) is counted once per package, however many images list it. These are the bytes the package no longer references: GitHub may keep deleted blobs for 30 days so that versions can be restored, and billing is GitHub's. More in package-janitor's `docs/storage.md`._";

/// A figure as a cell or a phrase: `1.5 KiB`, `1.5 KiB (partial)` or `unknown`.
pub fn size(size: Size) -> String {
    match size {
        Size::Exact(exact) => bytes(exact),
        Size::Partial(counted) => format!("{} (partial)", bytes(counted)),
        Size::Unknown => "unknown".to_string(),
    }
}

/// The summary's storage table: per package what the cleanup freed (or would) and what
/// stays, a total row when there is more than one package, why a figure is partial or
/// unknown, and what the figures are. Empty when no package has figures (restore mode).
pub fn cleanup_section(report: &RunReport, dry_run: bool, clean: &Sanitizer) -> String {
    let measured: Vec<(&str, &Storage)> = report
        .packages
        .iter()
        .filter_map(|package| Some((package.name.as_str(), package.storage.as_ref()?)))
        .collect();
    if measured.is_empty() {
        return String::new();
    }
    let freed = if dry_run { "would free" } else { "freed" };
    let total = report
        .storage()
        .filter(|_| report.packages.len() > 1)
        .map(|(freed, kept)| format!("| **all packages** | {} | {} |\n", size(freed), size(kept)));
    let header = format!("| package | {freed} | kept |\n|---|---:|---:|\n");
    let folded = measured.len() > FOLD_PACKAGES;
    let mut out = String::new();
    if let (true, Some(total)) = (folded, &total) {
        // The total stays in sight above the fold.
        let _ = writeln!(out, "{header}{total}");
    }
    if folded {
        let _ = writeln!(
            out,
            "<details><summary>{} of {} packages</summary>\n",
            if dry_run {
                "What each would free"
            } else {
                "What each freed"
            },
            measured.len()
        );
    }
    out.push_str(&header);
    for (name, storage) in &measured {
        let (freed, kept) = match no_sizes(storage) {
            Some(_) => (
                "no sizes from GitHub".to_string(),
                "no sizes from GitHub".to_string(),
            ),
            None => (size(storage.freed), size(storage.kept)),
        };
        let _ = writeln!(out, "| {} | {freed} | {kept} |", clean.code(name));
    }
    if let (false, Some(total)) = (folded, &total) {
        out.push_str(total);
    }
    if folded {
        out.push_str("\n</details>\n");
    }
    out.push('\n');
    let mut said_no_sizes = false;
    let mut notes = String::new();
    for (name, storage) in &measured {
        for note in &storage.notes {
            if matches!(note, Note::NoSizes(_)) {
                if std::mem::replace(&mut said_no_sizes, true) {
                    continue;
                }
                let _ = writeln!(notes, "- {}", note_text(note, clean));
            } else {
                let _ = writeln!(notes, "- {}: {}", clean.code(name), note_text(note, clean));
            }
        }
    }
    if !notes.is_empty() {
        out.push_str(&notes);
        out.push('\n');
    }
    let _ = writeln!(out, "{WHAT_THEY_ARE}\n");
    out
}

/// The package type a storage's note says GitHub gives no sizes for, if it says so.
fn no_sizes(storage: &Storage) -> Option<PackageType> {
    storage.notes.iter().find_map(|note| match note {
        Note::NoSizes(package_type) => Some(*package_type),
        _ => None,
    })
}

/// Why a figure is partial or unknown, as a sentence.
fn note_text(note: &Note, clean: &Sanitizer) -> String {
    match note {
        Note::NoSizes(package_type) => format!(
            "GitHub's API gives no sizes for {package_type} packages, so none are shown."
        ),
        Note::NotRead => "nothing was selected, so its manifests were not read: it frees nothing, and what it holds was not measured.".to_string(),
        Note::Uncounted { count, id, why } => format!(
            "the sizes of {} are unreadable and not summed, so its figures are partial; the first, version {id}: {}.",
            plural(*count, "version"),
            clean.markdown(why)
        ),
        Note::NotReadHere { count } => format!(
            "the manifests of {} are known from the state file by their digest alone and were not read in this run, so what they store is not known: a figure they could change is left unknown rather than guessed. A run that reads them again (one without `state-file`, or after the state file is removed) measures it.",
            plural(*count, "version")
        ),
        Note::ListingFromState { unconfirmed } => format!(
            "this run did not read its whole listing ({} known only from the state file), so versions added, deleted or restored since may be missing, and the figures are left unknown rather than guessed. A run that lists the package whole measures them.",
            plural(*unconfirmed, "version")
        ),
        Note::PastLimit => {
            "its sizes add up past 2^53 bytes (8 PiB), which no package holds: they are not believed.".to_string()
        }
    }
}

/// An audited package's storage: the total, a Mermaid pie chart of the bytes tagged
/// images, untagged versions and orphans hold, the numbers in a table, and the largest
/// images.
pub fn audit_section(audit: &Audit, clean: &Sanitizer) -> String {
    let holdings = &audit.storage;
    let mut out = format!("\n**Storage:** {}", size(holdings.total));
    if holdings.orphaned.counted().is_some_and(|bytes| bytes > 0) {
        let _ = write!(
            out,
            "; a `delete-orphans` cleanup would free {}",
            size(holdings.orphaned)
        );
    }
    out.push_str(".\n");
    for note in &holdings.notes {
        let _ = writeln!(out, "\n> [!NOTE]\n> Storage: {}", note_text(note, clean));
    }
    out.push_str(&pie(holdings, clean));
    let _ = writeln!(
        out,
        "\n| held by | size | bytes |\n|---|---:|---:|\n| tagged images | {} | {} |\n| untagged versions no tag reaches, kept by a `delete-orphans` cleanup | {} | {} |\n| orphans | {} | {} |\n| **total** | {} | {} |",
        size(holdings.tagged),
        counted_bytes(holdings.tagged),
        size(holdings.untagged),
        counted_bytes(holdings.untagged),
        size(holdings.orphaned),
        counted_bytes(holdings.orphaned),
        size(holdings.total),
        counted_bytes(holdings.total),
    );
    if !holdings.largest.is_empty() {
        let _ = writeln!(
            out,
            "\n| largest images | size (its platforms and artifacts, each blob once) |\n|---|---:|"
        );
        for (id, image_size) in &holdings.largest {
            let tags: Vec<String> = audit
                .images
                .iter()
                .find(|image| image.id == *id)
                .map(|image| image.tags.iter().map(|tag| clean.code(tag)).collect())
                .unwrap_or_default();
            let _ = writeln!(out, "| {} | {} |", tags.join(", "), size(*image_size));
        }
    }
    out
}

/// The bytes a figure counted (its size column says when that is partial), or `—`.
fn counted_bytes(size: Size) -> String {
    size.counted()
        .map_or_else(|| "—".to_string(), |bytes| bytes.to_string())
}

/// A Mermaid pie chart of who holds the bytes, each slice labelled with its size; slices
/// of 0 bytes are left out (Mermaid draws only positive values), and so is the chart when
/// nothing is counted.
fn pie(holdings: &Holdings, clean: &Sanitizer) -> String {
    let slices: Vec<(&str, u64)> = [
        ("tagged", holdings.tagged),
        ("untagged", holdings.untagged),
        ("orphaned", holdings.orphaned),
    ]
    .into_iter()
    .filter_map(|(label, size)| Some((label, size.counted().filter(|bytes| *bytes > 0)?)))
    .collect();
    if slices.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n```mermaid\npie\n");
    for (label, count) in slices {
        let label = clean.mermaid_label(&format!("{label} {}", bytes(count)));
        let _ = writeln!(out, "    {label} : {count}");
    }
    out.push_str("```\n");
    out
}

#[cfg(test)]
mod tests;
