//! `order-by: version`: keep-latest keeps the highest versions, not the newest pushes, and
//! what is not a version is kept.

use fake_github::{FakeGitHub, PackageSeed, VersionSeed, days};

use crate::harness::*;

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

fn entry(run: &Finished, id: u64) -> serde_json::Value {
    run.json()
        .into_iter()
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("no json entry for {id}: {}", run.outputs["json"]))
}

/// npm `lib`, pushed in this order: 1.4.5, 2.0.0, 1.4.6, the hotfix 1.4.7, the backport
/// 1.3.9 (ids 1 to 5).
fn hotfix_after_a_release() -> FakeGitHub {
    let versions = vec![
        release(1, 50, "1.4.5"),
        release(2, 40, "2.0.0"),
        release(3, 30, "1.4.6"),
        release(4, 20, "1.4.7"),
        release(5, 10, "1.3.9"),
    ];
    FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "npm", "lib")
                .repository("acme/app")
                .versions(versions),
        ),
    )
    .expect("fake starts")
}

#[test]
fn a_hotfix_pushed_after_a_release_keeps_the_release_and_the_next_highest() {
    let fake = hotfix_after_a_release();
    let by_push = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "3")
        .input("dry-run", "true")
        .run();
    by_push.assert_success();
    assert_eq!(by_push.ids(), vec![1, 2], "by push, 2.0.0 would go");

    let run = janitor(&fake, ALICE)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "3")
        .input("order-by", "version")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 5]);
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![2, 3, 4]);
    for id in [1, 5] {
        assert_eq!(entry(&run, id)["reason"], "matches the policy");
    }
    assert!(
        run.summary
            .contains("- **Filters:** keep-latest 3 · order-by version"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("kept by keep-latest (\\#1 highest version)"),
        "{}",
        run.summary
    );
}

#[test]
fn the_latest_patch_of_each_minor_stays_whatever_was_pushed_last() {
    // v1.0.2 is a backport pushed after v1.0.3; v1.1.1 was pushed before v1.1.0-rc.1.
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            v(1, 60).tags(&["v1.0.3"]),
            v(2, 10).tags(&["v1.0.2"]),
            v(3, 50).tags(&["v1.1.1"]),
            v(4, 5).tags(&["v1.1.0-rc.1"]),
            v(5, 40).tags(&["v2.0.0", "latest"]),
            v(6, 70).tags(&["v1.0.10"]),
        ],
    )))
    .expect("fake starts");
    let rules = "- name: latest patch of each minor\n  group-by: '^v?(\\d+\\.\\d+)\\.'\n  keep-latest: 1\n  order-by: version\n";
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("rules", rules)
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 2, 4]);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![3, 5, 6]);
    assert!(
        run.summary.contains(
            "kept by rule latest patch of each minor: among the 1 highest versions of group \\`1.0\\`"
        ),
        "{}",
        run.summary
    );
}

#[test]
fn container_images_are_ordered_by_their_highest_version_tag_and_others_are_kept() {
    // Multi-arch image 10 carries floating tags and its full version, 1.10.0 (the highest);
    // image 1 is 1.9.3, image 2 1.9.2; `edge` and the untagged image 30 are no versions.
    let (amd64, arm64) = (11, 12);
    let fake = FakeGitHub::start(accounts().package(container(
        "acme",
        "app",
        vec![
            v(1, 5).tags(&["1.9.3"]),
            v(2, 30).tags(&["1.9.2", "v1.9.2"]),
            v(amd64, 40).platform("linux/amd64"),
            v(arm64, 40).platform("linux/arm64"),
            v(10, 40)
                .index(&[amd64, arm64])
                .tags(&["1", "1.10", "1.10.0"]),
            v(20, 50).tags(&["edge"]),
            v(30, 60),
        ],
    )))
    .expect("fake starts");
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("keep-latest", "1")
        .input("order-by", "version")
        .run();
    run.assert_success();
    assert_eq!(run.ids(), vec![1, 2]);
    assert_eq!(
        fake.active_ids("acme", "container", "app"),
        vec![10, 11, 12, 20, 30]
    );
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
    for reason in ["not a version: edge", "not a version: untagged"] {
        assert!(run.summary.contains(reason), "{reason}:\n{}", run.summary);
    }
}
