//! Tests of how storage figures read: binary units, the cleanup's table and the audit's pie.

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::model::manifest::{Blobs, Child, Manifest};
use crate::policy::audit;
use crate::policy::images::Manifests;
use crate::report::PackageReport;
use crate::testing::{blob, digest, image_at};

#[test]
fn partial_and_unknown_cells_say_so() {
    let cases = [
        (size(Size::Exact(1536)), "1.5 KiB"),
        (size(Size::Partial(1536)), "1.5 KiB (partial)"),
        (size(Size::Unknown), "unknown"),
    ];
    for (shown, expected) in cases {
        assert_eq!(shown, expected);
    }
}

fn package(name: &str, storage: Option<Storage>) -> PackageReport {
    PackageReport {
        storage,
        ..PackageReport::failed(name, String::new())
    }
}

fn run(packages: Vec<PackageReport>) -> RunReport {
    RunReport {
        packages,
        refusal: None,
        stopped: None,
        interrupted: None,
        now: UNIX_EPOCH,
        plan: None,
    }
}

fn storage(freed: Size, kept: Size, notes: Vec<Note>) -> Option<Storage> {
    Some(Storage { freed, kept, notes })
}

#[test]
fn the_cleanup_table_has_a_row_per_package_a_total_and_why_a_figure_is_partial() {
    let uncounted = Note::Uncounted {
        count: 2,
        id: 7,
        why: "its manifest could not be read: | fake | cell".to_string(),
    };
    let report = run(vec![
        package(
            "app",
            storage(Size::Exact(2048), Size::Exact(1 << 30), vec![]),
        ),
        package(
            "web\n## heading",
            storage(Size::Partial(1024), Size::Partial(5), vec![uncounted]),
        ),
        package(
            "cli",
            storage(Size::Exact(0), Size::Unknown, vec![Note::NotRead]),
        ),
        package("gone", None),
    ]);
    let clean = Sanitizer::new("token");
    let table = cleanup_section(&report, true, &clean);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "| package | would free | kept |",
            "|---|---:|---:|",
            "| `app` | 2.0 KiB | 1.0 GiB |",
            "| `web\\n## heading` | 1.0 KiB (partial) | 5 B (partial) |",
            "| `cli` | 0 B | unknown |",
            "| **all packages** | 3.0 KiB (partial) | 1.0 GiB (partial) |",
        ],
        "{table}"
    );
    assert!(
        table.contains("- `web\\n## heading`: the sizes of 2 versions are unreadable and not summed, so its figures are partial; the first, version 7: its manifest could not be read: \\| fake \\| cell."),
        "{table}"
    );
    assert!(table.contains("- `cli`: nothing was selected, so its manifests were not read"));
    assert!(table.contains("GitHub may keep deleted blobs for 30 days"));
    assert!(!lines.iter().any(|line| line.starts_with("## heading")));
    let real = cleanup_section(&report, false, &clean);
    assert!(real.starts_with("| package | freed | kept |\n"), "{real}");
}

#[test]
fn figures_a_state_file_could_not_prove_are_unknown_and_the_notes_say_why() {
    let notes = vec![
        Note::ListingFromState { unconfirmed: 9_000 },
        Note::NotReadHere { count: 1 },
    ];
    let report = run(vec![
        package("big", storage(Size::Unknown, Size::Unknown, notes)),
        package("small", storage(Size::Exact(10), Size::Exact(20), vec![])),
    ]);
    let table = cleanup_section(&report, false, &Sanitizer::default());
    for line in [
        "| `big` | unknown | unknown |",
        "| **all packages** | 10 B (partial) | 20 B (partial) |",
        "- `big`: this run did not read its whole listing (9000 versions known only from the state file), so versions added, deleted or restored since may be missing, and the figures are left unknown rather than guessed.",
        "- `big`: the manifests of 1 version are known from the state file by their digest alone and were not read in this run, so what they store is not known",
    ] {
        assert!(table.contains(line), "{line}\n{table}");
    }
    assert_eq!(
        report.storage(),
        Some((Size::Partial(10), Size::Partial(20))),
        "not exact, so no output: what is counted is not all there is"
    );
}

#[test]
fn packages_without_sizes_say_so_in_every_cell_and_once_below() {
    let no_sizes = || {
        storage(
            Size::Unknown,
            Size::Unknown,
            vec![Note::NoSizes(PackageType::Npm)],
        )
    };
    let report = run(vec![package("a", no_sizes()), package("b", no_sizes())]);
    let table = cleanup_section(&report, false, &Sanitizer::default());
    assert!(
        table.contains("| `a` | no sizes from GitHub | no sizes from GitHub |"),
        "{table}"
    );
    assert!(
        !table.contains("all packages"),
        "no sizes, no total:\n{table}"
    );
    assert!(!table.contains(" 0 B"), "{table}");
    assert_eq!(
        table
            .matches("GitHub's API gives no sizes for npm packages")
            .count(),
        1,
        "{table}"
    );
    assert_eq!(report.storage(), None, "nor in the headline or the outputs");
    let restore = run(vec![package("a", None)]);
    assert_eq!(cleanup_section(&restore, false, &Sanitizer::default()), "");
}

fn sized(blobs: &[(u64, u64)]) -> Manifest {
    let blobs = blobs.iter().map(|(n, size)| blob(*n, *size)).collect();
    Manifest {
        blobs: Blobs::Sized(blobs),
        ..Manifest::default()
    }
}

/// A tagged multi-arch image (1 over 2 and 3, sharing a base layer) and an orphan (4).
fn audited(hostile_tag: &str) -> Audit {
    let at = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let versions = vec![
        image_at(1, &[hostile_tag], at),
        image_at(2, &[], at),
        image_at(3, &[], at),
        image_at(4, &[], at),
    ];
    let index = Manifest {
        is_index: true,
        children: [2, 3]
            .map(|id| Child {
                digest: digest(id),
                platform: Some("linux/amd64".to_string()),
                ..Child::default()
            })
            .to_vec(),
        ..Manifest::default()
    };
    let manifests: Manifests = [
        (1, index),
        (2, sized(&[(0, 3 << 20), (1, 1 << 20)])),
        (3, sized(&[(0, 3 << 20), (2, 1 << 19)])),
        (4, sized(&[(0, 3 << 20), (3, 1 << 30)])),
    ]
    .into_iter()
    .map(|(id, manifest)| (id, Ok(manifest)))
    .collect();
    audit::audit(versions, &manifests, at)
}

#[test]
fn the_audit_draws_a_pie_of_who_holds_the_bytes_with_the_numbers_beside_it() {
    let section = audit_section(&audited("v1"), &Sanitizer::default());
    let pie = "```mermaid\npie\n    \"tagged 4.5 MiB\" : 4718592\n    \"orphaned 1.0 GiB\" : 1073741824\n```\n";
    assert!(section.contains(pie), "{section}");
    for row in [
        "| tagged images | 4.5 MiB | 4718592 |",
        "| untagged versions no tag reaches, kept by a `delete-orphans` cleanup | 0 B | 0 |",
        "| orphans | 1.0 GiB | 1073741824 |",
        "| **total** | 1.0 GiB | 1078460416 |",
        "| `v1` | 4.5 MiB |",
    ] {
        assert!(section.contains(row), "{row}:\n{section}");
    }
    assert!(
        section.starts_with(
            "\n**Storage:** 1.0 GiB; a `delete-orphans` cleanup would free 1.0 GiB.\n"
        ),
        "{section}"
    );
}

#[test]
fn a_hostile_tag_in_the_largest_images_is_text_and_the_pie_takes_no_outside_data() {
    let hostile = "v1`</code>\n```\npie\n\"x\" : 1";
    let section = audit_section(&audited(hostile), &Sanitizer::default());
    assert_eq!(section.matches("```").count(), 2, "{section}");
    assert!(
        !section
            .lines()
            .any(|line| line == "pie\n\"x\" : 1" || line == "\"x\" : 1")
    );
    let pie = &section[section.find("```mermaid").unwrap_or(0)..];
    let pie = &pie[..pie.find("```\n").unwrap_or(pie.len())];
    assert!(!pie.contains("v1"), "{pie}");
}

#[test]
fn a_package_whose_bytes_are_all_zero_gets_no_pie() {
    let holdings = Holdings {
        total: Size::Exact(0),
        tagged: Size::Exact(0),
        untagged: Size::Exact(0),
        orphaned: Size::Exact(0),
        largest: Vec::new(),
        notes: Vec::new(),
    };
    assert_eq!(pie(&holdings, &Sanitizer::default()), "");
}

#[test]
fn more_than_fifty_packages_fold_their_rows_and_keep_the_total_in_sight() {
    for (count, folded) in [(FOLD_PACKAGES, false), (FOLD_PACKAGES + 1, true)] {
        let packages = (0..count)
            .map(|n| {
                let figures = storage(Size::Exact(1024), Size::Exact(2048), vec![]);
                package(&format!("app-{n}"), figures)
            })
            .collect();
        let table = cleanup_section(&run(packages), false, &Sanitizer::default());
        let total = format!("| **all packages** | {count}.0 KiB | {}.0 KiB |", 2 * count);
        let fold = table.find("<details>");
        assert_eq!(fold.is_some(), folded, "{count} packages:\n{table}");
        let at = table.find(&total).expect("a total row");
        assert!(fold.is_none_or(|fold| at < fold), "{table}");
        assert_eq!(table.matches("| `app-").count(), count);
    }
}
