//! Tests of the storage figures: what a cleanup frees and keeps, blob by blob, and where an
//! audited package's bytes are.

use std::collections::HashSet;

use super::*;
use crate::model::manifest::Manifest;
use crate::policy::images::Manifests;
use crate::testing::{blob, version};

/// How a version's manifest read: its blobs as (blob, size), or why it could not be.
enum Read {
    Blobs(Vec<(u64, u64)>),
    Unsized(&'static str),
    Unreadable,
    /// Held by its digest alone: a state file's claim, not read in this run.
    NotHeld,
}

/// The blobs held by versions `(id, read)`, in that order, over a listing read whole.
fn held(versions: &[(u64, Read)]) -> Held {
    held_read(versions, ReadHere::default())
}

/// [`held`] over a listing of which `read` says what this run read.
fn held_read(versions: &[(u64, Read)], read: ReadHere<'_>) -> Held {
    let listed: Vec<Version> = versions.iter().map(|(id, _)| version(*id, &[])).collect();
    let manifests: Manifests = versions
        .iter()
        .map(|(id, read)| {
            let blobs = match read {
                Read::Blobs(blobs) => {
                    Blobs::Sized(blobs.iter().map(|(n, size)| blob(*n, *size)).collect())
                }
                Read::Unsized(why) => Blobs::Unsized(why.to_string()),
                Read::NotHeld => Blobs::NotHeld,
                Read::Unreadable => return (*id, Err("GET … answered 500".to_string())),
            };
            (
                *id,
                Ok(Manifest {
                    blobs,
                    ..Manifest::default()
                }),
            )
        })
        .collect();
    Held::new(&listed, &manifests, read)
}

fn gone(ids: &[u64]) -> HashSet<u64> {
    ids.iter().copied().collect()
}

struct Case {
    name: &'static str,
    versions: Vec<(u64, Read)>,
    gone: &'static [u64],
    freed: Size,
    kept: Size,
}

#[test]
fn a_cleanup_frees_the_blobs_only_deleted_manifests_list_each_once() {
    let cases = [
        Case {
            name: "shared layers across two images: deleting one frees only its own layers",
            versions: vec![
                (1, Read::Blobs(vec![(0, 100), (1, 10)])),
                (2, Read::Blobs(vec![(0, 100), (2, 20)])),
            ],
            gone: &[2],
            freed: Size::Exact(20),
            kept: Size::Exact(110),
        },
        Case {
            name: "an index whose children share layers: each layer counted once",
            versions: vec![
                (1, Read::Blobs(vec![])),
                (2, Read::Blobs(vec![(0, 100), (2, 5)])),
                (3, Read::Blobs(vec![(0, 100), (3, 7)])),
                (4, Read::Blobs(vec![(0, 100), (4, 1)])),
            ],
            gone: &[1, 2, 3],
            freed: Size::Exact(12),
            kept: Size::Exact(101),
        },
        Case {
            name: "an index deleted with every image that shares its children's layers",
            versions: vec![
                (1, Read::Blobs(vec![])),
                (2, Read::Blobs(vec![(0, 100), (2, 5)])),
                (3, Read::Blobs(vec![(0, 100), (3, 7)])),
            ],
            gone: &[1, 2, 3],
            freed: Size::Exact(112),
            kept: Size::Exact(0),
        },
        Case {
            name: "an artifact with its own blob frees it with its image",
            versions: vec![
                (1, Read::Blobs(vec![(0, 100), (1, 10)])),
                (2, Read::Blobs(vec![(9, 3)])),
                (3, Read::Blobs(vec![(0, 100), (3, 30)])),
            ],
            gone: &[1, 2],
            freed: Size::Exact(13),
            kept: Size::Exact(130),
        },
        Case {
            name: "a blob listed by a kept and a deleted image frees nothing",
            versions: vec![
                (1, Read::Blobs(vec![(5, 50)])),
                (2, Read::Blobs(vec![(5, 50)])),
            ],
            gone: &[1],
            freed: Size::Exact(0),
            kept: Size::Exact(50),
        },
        Case {
            name: "the same blob listed twice in one manifest counts once",
            versions: vec![(1, Read::Blobs(vec![(5, 50), (5, 50), (6, 5)]))],
            gone: &[1],
            freed: Size::Exact(55),
            kept: Size::Exact(0),
        },
        Case {
            name: "a cleanup that deletes nothing frees exactly nothing",
            versions: vec![(1, Read::Blobs(vec![(5, 50)])), (2, Read::Unreadable)],
            gone: &[],
            freed: Size::Exact(0),
            kept: Size::Partial(50),
        },
        Case {
            name: "a kept version whose manifest could not be read leaves both figures partial",
            versions: vec![(1, Read::Blobs(vec![(5, 50)])), (2, Read::Unreadable)],
            gone: &[1],
            freed: Size::Partial(50),
            kept: Size::Partial(0),
        },
        Case {
            name: "a deleted version whose sizes cannot be counted leaves only the freed partial",
            versions: vec![
                (1, Read::Unsized("its layer claims -1 bytes")),
                (2, Read::Blobs(vec![(5, 50)])),
            ],
            gone: &[1],
            freed: Size::Partial(0),
            kept: Size::Exact(50),
        },
        Case {
            name: "a blob given another size by a second manifest is not counted in that one",
            versions: vec![
                (1, Read::Blobs(vec![(5, 50)])),
                (2, Read::Blobs(vec![(6, 1), (5, 60)])),
            ],
            gone: &[2],
            freed: Size::Partial(0),
            kept: Size::Exact(50),
        },
        Case {
            name: "a kept version held by its digest alone leaves both figures unknown",
            versions: vec![
                (1, Read::Blobs(vec![(0, 100), (1, 10)])),
                (2, Read::NotHeld),
                (3, Read::Unreadable),
            ],
            gone: &[1],
            freed: Size::Unknown,
            kept: Size::Unknown,
        },
        Case {
            name: "a deleted version held by its digest alone leaves only the freed unknown",
            versions: vec![
                (1, Read::Blobs(vec![(0, 100), (1, 10)])),
                (2, Read::NotHeld),
            ],
            gone: &[2],
            freed: Size::Unknown,
            kept: Size::Exact(110),
        },
        Case {
            name: "deleting nothing frees exactly nothing, whatever is held by digest alone",
            versions: vec![(1, Read::Blobs(vec![(5, 50)])), (2, Read::NotHeld)],
            gone: &[],
            freed: Size::Exact(0),
            kept: Size::Unknown,
        },
        Case {
            name: "sizes adding up past 2^53 bytes are not believed",
            versions: vec![
                (1, Read::Blobs(vec![(5, MAX_BYTES)])),
                (2, Read::Blobs(vec![(6, MAX_BYTES)])),
                (3, Read::Blobs(vec![(7, 1)])),
            ],
            gone: &[1, 2],
            freed: Size::Unknown,
            kept: Size::Exact(1),
        },
    ];
    for case in cases {
        let storage = held(&case.versions).cleanup(&gone(case.gone));
        assert_eq!(
            (storage.freed, storage.kept),
            (case.freed, case.kept),
            "{}",
            case.name
        );
    }
}

#[test]
fn the_notes_say_which_versions_were_not_counted_and_why() {
    let storage = held(&[
        (1, Read::Blobs(vec![(5, 50)])),
        (2, Read::Blobs(vec![(5, 60)])),
        (3, Read::Unreadable),
        (
            4,
            Read::Unsized("its layer sha256:222222222222… claims -1 bytes"),
        ),
    ])
    .cleanup(&gone(&[4]));
    let hex = &blob(5, 0).hex()[..12];
    assert_eq!(
        storage.notes,
        vec![Note::Uncounted {
            count: 3,
            id: 2,
            why: format!("it gives blob sha256:{hex}… 60 bytes, and another manifest 50"),
        }]
    );
    let unreadable = held(&[(7, Read::Unreadable)]).cleanup(&gone(&[]));
    assert_eq!(
        unreadable.notes,
        vec![Note::Uncounted {
            count: 1,
            id: 7,
            why: "its manifest could not be read: GET … answered 500".to_string(),
        }]
    );
    let past = held(&[(1, Read::Blobs(vec![(5, MAX_BYTES), (6, 1)]))]).cleanup(&gone(&[1]));
    assert_eq!(past.notes, vec![Note::PastLimit]);
}

#[test]
fn the_notes_say_how_many_versions_are_held_by_digest_alone() {
    let storage = held(&[
        (1, Read::NotHeld),
        (2, Read::Blobs(vec![(5, 50)])),
        (3, Read::NotHeld),
        (4, Read::Unreadable),
    ])
    .cleanup(&gone(&[2]));
    assert_eq!(
        storage.notes,
        vec![
            Note::NotReadHere { count: 2 },
            Note::Uncounted {
                count: 1,
                id: 4,
                why: "its manifest could not be read: GET … answered 500".to_string(),
            }
        ]
    );
}

#[test]
fn a_listing_partly_from_the_state_file_leaves_both_figures_unknown_and_says_why() {
    let versions = [
        (1, Read::Blobs(vec![(0, 100), (1, 10)])),
        (2, Read::Blobs(vec![(0, 100), (2, 20)])),
        (3, Read::Blobs(vec![(3, 30)])),
    ];
    let confirmed: HashSet<u64> = [1, 2].into();
    let read = ReadHere {
        confirmed: Some(&confirmed),
        unlisted: &[],
    };
    let cases = [
        (gone(&[2]), Size::Unknown, Size::Unknown),
        (gone(&[]), Size::Exact(0), Size::Unknown),
    ];
    for (gone, freed, kept) in cases {
        let storage = held_read(&versions, read).cleanup(&gone);
        assert_eq!((storage.freed, storage.kept), (freed, kept), "{gone:?}");
        assert_eq!(
            storage.notes,
            vec![Note::ListingFromState { unconfirmed: 1 }]
        );
    }
    let all_confirmed: HashSet<u64> = [1, 2, 3].into();
    let whole_pages_not_read = ReadHere {
        confirmed: Some(&all_confirmed),
        unlisted: &[],
    };
    let storage = held_read(&versions, whole_pages_not_read).cleanup(&gone(&[2]));
    assert_eq!(
        (storage.freed, &storage.notes[..]),
        (
            Size::Unknown,
            &[Note::ListingFromState { unconfirmed: 0 }][..]
        ),
        "a page not read may hold versions no one has seen"
    );
    assert_eq!(
        held(&versions).cleanup(&gone(&[2])).freed,
        Size::Exact(20),
        "the control: the same versions over a listing read whole"
    );
}

#[test]
fn packages_without_read_manifests_or_sizes_say_so_instead_of_zero() {
    let none = gone(&[]);
    let some = gone(&[3]);
    let cases = [
        (
            PackageType::Npm,
            &none,
            Size::Unknown,
            Size::Unknown,
            Note::NoSizes(PackageType::Npm),
        ),
        (
            PackageType::Maven,
            &some,
            Size::Unknown,
            Size::Unknown,
            Note::NoSizes(PackageType::Maven),
        ),
        (
            PackageType::Container,
            &none,
            Size::Exact(0),
            Size::Unknown,
            Note::NotRead,
        ),
        (
            PackageType::Container,
            &some,
            Size::Unknown,
            Size::Unknown,
            Note::NotRead,
        ),
    ];
    for (package_type, gone, freed, kept, note) in cases {
        let storage = cleanup(package_type, None, gone);
        assert_eq!(
            storage,
            Storage {
                freed,
                kept,
                notes: vec![note]
            },
            "{package_type}"
        );
    }
    let held = held(&[(3, Read::Blobs(vec![(5, 50)]))]);
    assert_eq!(
        cleanup(PackageType::Npm, Some(&held), &some).notes,
        vec![Note::NoSizes(PackageType::Npm)],
        "GitHub gives no sizes for npm, whatever was held"
    );
    assert_eq!(
        cleanup(PackageType::Container, Some(&held), &some).freed,
        Size::Exact(50)
    );
}

#[test]
fn sizes_add_up_exact_only_when_both_are_and_never_past_2_pow_53() {
    let cases = [
        (Size::Exact(1), Size::Exact(2), Size::Exact(3)),
        (Size::Exact(1), Size::Partial(2), Size::Partial(3)),
        (Size::Exact(1), Size::Unknown, Size::Partial(1)),
        (Size::Unknown, Size::Unknown, Size::Unknown),
        (
            Size::Exact(MAX_BYTES),
            Size::Exact(0),
            Size::Exact(MAX_BYTES),
        ),
        (Size::Exact(MAX_BYTES), Size::Exact(1), Size::Unknown),
        (Size::Exact(u64::MAX), Size::Exact(u64::MAX), Size::Unknown),
    ];
    for (a, b, sum) in cases {
        assert_eq!(a.plus(b), sum, "{a:?} + {b:?}");
        assert_eq!(b.plus(a), sum, "{b:?} + {a:?}");
    }
}

#[test]
fn an_audit_counts_each_blob_for_its_first_holder_and_the_holders_add_up() {
    let held = held(&[
        (1, Read::Blobs(vec![])),
        (2, Read::Blobs(vec![(0, 100), (1, 10)])),
        (3, Read::Blobs(vec![(0, 100), (2, 20)])),
        (4, Read::Blobs(vec![(0, 100), (2, 20), (3, 40)])),
        (5, Read::Blobs(vec![(4, 500)])),
    ]);
    let holder = |number: usize| match number {
        0 | 1 | 4 => Holder::Tagged,
        2 => Holder::Untagged,
        _ => Holder::Orphan,
    };
    let images = [(1, vec![0, 1]), (5, vec![4])].into_iter();
    let holdings = held.holdings(holder, images);
    assert_eq!(
        holdings.tagged,
        Size::Exact(610),
        "base, own layer and image 5"
    );
    assert_eq!(
        holdings.untagged,
        Size::Exact(20),
        "its base layer is tagged"
    );
    assert_eq!(
        holdings.orphaned,
        Size::Exact(40),
        "what delete-orphans frees"
    );
    assert_eq!(holdings.total, Size::Exact(670));
    assert_eq!(
        holdings.largest,
        vec![(5, Size::Exact(500)), (1, Size::Exact(110))]
    );
    assert!(holdings.notes.is_empty());
    let orphans: HashSet<u64> = [4].into();
    let freed = held.cleanup(&orphans).freed;
    assert_eq!(
        freed, holdings.orphaned,
        "orphaned bytes are what deleting orphans frees"
    );
}

#[test]
fn an_audits_total_holds_only_blobs_a_counted_version_lists() {
    // 2 gives blob 5 another size, so none of its blobs count; its blob 6 was met first.
    let held = held(&[
        (1, Read::Blobs(vec![(5, 50)])),
        (2, Read::Blobs(vec![(6, 1), (5, 60)])),
    ]);
    let holdings = held.holdings(|_| Holder::Tagged, [(1, vec![0])].into_iter());
    assert_eq!(
        (holdings.total, holdings.tagged),
        (Size::Partial(50), Size::Partial(50))
    );
    let not_held = held_read(
        &[(1, Read::Blobs(vec![(5, 50)])), (2, Read::NotHeld)],
        ReadHere::default(),
    );
    let holdings = not_held.holdings(|_| Holder::Tagged, [(2, vec![1])].into_iter());
    assert_eq!(
        (holdings.total, holdings.largest[0].1),
        (Size::Unknown, Size::Unknown)
    );
    assert_eq!(holdings.notes, vec![Note::NotReadHere { count: 1 }]);
}

#[test]
fn an_audit_names_its_ten_largest_images_and_marks_a_partial_one() {
    let versions: Vec<(u64, Read)> = (1..=12)
        .map(|id| match id {
            1 | 2 => (id, Read::Blobs(vec![(id, 7)])),
            n => (n, Read::Blobs(vec![(n, n * 100)])),
        })
        .chain([(13, Read::Unreadable)])
        .collect();
    let held = held(&versions);
    let images = (0..12).map(|number| (number as u64 + 1, vec![number]));
    let images = images.chain([(20, vec![11, 12])]);
    let holdings = held.holdings(|_| Holder::Tagged, images);
    let ids: Vec<u64> = holdings.largest.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, vec![12, 20, 11, 10, 9, 8, 7, 6, 5, 4]);
    assert_eq!(holdings.largest[0].1, Size::Exact(1200));
    assert_eq!(
        holdings.largest[1].1,
        Size::Partial(1200),
        "its tree holds the unreadable 13"
    );
    assert_eq!(holdings.total, Size::Partial(7514));
    assert!(matches!(
        holdings.notes[..],
        [Note::Uncounted {
            count: 1,
            id: 13,
            ..
        }]
    ));
}
