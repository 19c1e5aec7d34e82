//! A whole retention policy in one step: the `rules` input, keep-N per group, keeping wins,
//! and `keep-latest` counting images rather than package versions.

use fake_github::{FakeGitHub, VersionSeed, days};

use crate::harness::*;

/// The policy the README shows.
const EXAMPLE: &str = r"- name: releases
  tag-regex: ^v\d+\.\d+\.\d+$
  keep-latest: 30
- name: newest patches of every minor
  tag-regex: ^v\d+\.\d+\.\d+$
  group-by: ^v(\d+\.\d+)\.
  keep-latest: 2
- name: dev builds
  tag-regex: ^dev-
  keep-latest: 20
- name: pull requests
  tag-regex: ^pr-\d+$
  older-than: 14d
- name: untagged
  tag-state: untagged
  older-than: 7d
";

fn v(id: u64, age_days: u64) -> VersionSeed {
    VersionSeed::new(id, days(age_days))
}

fn start(versions: Vec<VersionSeed>) -> FakeGitHub {
    FakeGitHub::start(accounts().package(container("acme", "app", versions))).expect("fake starts")
}

/// A buildx push: index `first` tagged `tag`, amd64 and arm64 manifests and an attestation
/// manifest for each (ids `first..=first + 4`), and a cosign signature of the index
/// (`first + 5`), all `age_days` old.
fn signed_buildx(first: u64, age_days: u64, tag: &str) -> Vec<VersionSeed> {
    let (amd64, arm64) = (first + 1, first + 2);
    vec![
        v(amd64, age_days).platform("linux/amd64"),
        v(arm64, age_days).platform("linux/arm64"),
        v(first + 3, age_days).attestation_for(amd64),
        v(first + 4, age_days).attestation_for(arm64),
        v(first, age_days)
            .index(&[amd64, arm64, first + 3, first + 4])
            .tags(&[tag]),
        v(first + 5, age_days).cosign_signature_of(first),
    ]
}

/// The flat inputs as the runner passes them when a workflow leaves them out.
fn runner_defaults(janitor: Janitor) -> Janitor {
    janitor
        .input("tag-regex", "")
        .input("tag-state", "any")
        .input("older-than", "")
        .input("keep-latest", "0")
}

fn entry(run: &Finished, id: u64) -> serde_json::Value {
    run.json()
        .into_iter()
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("no json entry for {id}"))
}

#[test]
fn the_readme_policy_keeps_releases_and_new_builds_and_deletes_the_rest_in_one_step() {
    let releases = [
        signed_buildx(100, 100, "v1.0.0"),
        vec![v(110, 90).tags(&["v1.0.1"])],
        signed_buildx(120, 80, "v1.0.2"),
        vec![v(130, 70).tags(&["v1.1.0"]), v(140, 60).tags(&["v1.1.1"])],
        signed_buildx(150, 50, "v2.0.0"),
    ]
    .concat();
    // dev-0 (1 day old, id 200) to dev-21 (22 days old, id 221).
    let dev: Vec<VersionSeed> = (0..22)
        .map(|n| v(200 + n, n + 1).tags(&[&format!("dev-{n}")]))
        .collect();
    let pulls = vec![
        v(300, 20).tags(&["pr-1"]),
        v(301, 3).tags(&["pr-2"]),
        v(302, 15).tags(&["pr-267"]),
    ];
    let untagged = vec![v(400, 10), v(401, 3)];
    let fake = start([releases, dev, pulls, untagged].concat());

    let run = runner_defaults(janitor(&fake, ALICE))
        .input("packages", "app")
        .input("rules", EXAMPLE)
        .run();
    run.assert_success();

    assert_eq!(run.ids(), vec![220, 221, 300, 302, 400]);
    let active = fake.active_ids("acme", "container", "app");
    for kept in [
        100, 105, 110, 120, 125, 130, 140, 150, 155, 200, 219, 301, 401,
    ] {
        assert!(active.contains(&kept), "{kept} is kept: {active:?}");
    }
    assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());

    let cases = [
        (220, "dev builds"),
        (221, "dev builds"),
        (300, "pull requests"),
        (302, "pull requests"),
        (400, "untagged"),
    ];
    for (id, rule) in cases {
        let entry = entry(&run, id);
        assert_eq!(entry["rule"], rule, "{entry}");
        assert_eq!(
            entry["reason"],
            format!("selected by rule {rule}"),
            "{entry}"
        );
        assert_eq!(entry["outcome"], "deleted", "{entry}");
    }

    // Per rule: matched (the rule's own filters, overlapping), then each version once under
    // the rule that decided it. Releases keep their 15 platform, attestation and signature
    // manifests with them; the untagged rule matches 12 of those, but decides only 400.
    let table = rules_table(&run.summary);
    assert_eq!(
        table,
        [
            "| 1 releases | 6 | 21 | 0 | 0 |",
            "| 2 newest patches of every minor | 6 | 0 | 0 | 0 |",
            "| 3 dev builds | 22 | 20 | 2 | 2 |",
            "| 4 pull requests | 2 | 0 | 2 | 2 |",
            "| 5 untagged | 13 | 0 | 1 | 1 |",
            "| no rule | | 2 | 0 | 0 |",
            "| **all** | | **43** | **5** | **5** |",
        ],
        "{}",
        run.summary
    );
    assert_adds_up(&run.summary);
    assert!(
        run.summary
            .contains("| rule | matched | kept | selected | deleted |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("_Each version counts once, under the rule that decided it"),
        "the line under the table says what the columns mean:\n{}",
        run.summary
    );
    for kept in [
        "| 100 | v1.0.0 | 100d | kept by rule releases: among the 30 newest |",
        "| 219 | dev-19 | 20d | kept by rule dev builds: among the 20 newest |",
    ] {
        assert!(run.summary.contains(kept), "{kept} in\n{}", run.summary);
    }
    assert!(
        run.summary
            .contains("rules: 1 releases, 2 newest patches of every minor, 3 dev builds"),
        "{}",
        run.summary
    );
}

#[test]
fn keep_latest_counts_images_so_a_signature_or_platform_manifest_takes_no_slot() {
    // Four multi-arch releases, each signed; v3's signature (id 45) is the newest version.
    let versions = [
        signed_buildx(10, 40, "v0"),
        signed_buildx(20, 30, "v1"),
        signed_buildx(30, 20, "v2"),
        signed_buildx(40, 10, "v3"),
    ]
    .concat();
    // (inputs, the rule every deleted version names: its own, or its image's)
    let rules = "- name: three images\n  tag-state: tagged\n  keep-latest: 3";
    let policies: [(&[(&str, &str)], &str); 2] = [
        (&[("tag-state", "tagged"), ("keep-latest", "3")], "#1"),
        (&[("rules", rules)], "three images"),
    ];
    for (inputs, rule) in policies {
        let fake = start(versions.clone());
        let mut janitor = janitor(&fake, ALICE).input("packages", "app");
        for (name, value) in inputs {
            janitor = janitor.input(name, value);
        }
        let run = janitor.run();
        run.assert_success();
        assert_eq!(
            run.ids(),
            range(10, 15),
            "{inputs:?}: v0 and all of its image"
        );
        assert_eq!(
            fake.active_ids("acme", "container", "app"),
            [range(20, 25), range(30, 35), range(40, 45)].concat(),
            "{inputs:?}: v1, v2 and v3 with their manifests and signatures"
        );
        assert_eq!(fake.broken_images("acme", "app"), Vec::<String>::new());
        for id in range(10, 15) {
            assert_eq!(entry(&run, id)["rule"], rule, "{inputs:?}: {id}");
        }
        assert_eq!(entry(&run, 11)["role"], "platform manifest linux/amd64");
    }
}

#[test]
fn bad_rules_fail_before_any_api_call_naming_the_rule_and_the_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[(
                "rules",
                "- name: a\n  keep-latest: 1\n- name: b\n  keep-latest: 1\n- name: dev builds\n  older-than: 2 weeks ago",
            )],
            "input `rules`: rule 3 (dev builds): older-than: `2 weeks ago` is not a valid duration",
        ),
        (
            &[("rules", "- name: r\n  keep-lastest: 3")],
            "input `rules`: rule 1 (r): `keep-lastest` is not a rule key (closest: `keep-latest`)",
        ),
        (
            &[("rules", "- name: all\n  exclude-tag-regex: ^latest$")],
            "input `rules`: rule 1 (all): has no filter and no keep-latest",
        ),
        (
            &[("rules", "- tag-regex: ^pr-"), ("keep-latest", "5")],
            "input `keep-latest`: `5` cannot be combined with `rules`: put it in a rule",
        ),
        (
            &[("rules", "- tag-regex: ^pr-"), ("older-than", "1d")],
            "input `older-than`: `1d` cannot be combined with `rules`: put it in a rule",
        ),
    ];
    let fake = FakeGitHub::start(accounts()).expect("fake starts");
    for (inputs, message) in cases {
        let mut janitor = runner_defaults(janitor(&fake, ALICE)).input("packages", "app");
        for (name, value) in *inputs {
            janitor = janitor.input(name, value);
        }
        let run = janitor.run();
        run.assert_failure();
        let error = run
            .log
            .lines()
            .find(|line| line.starts_with("::error::"))
            .unwrap_or_else(|| panic!("{inputs:?}: no ::error:: in\n{}", run.log));
        assert!(
            error.contains(message),
            "{inputs:?}:\n{error}\nlacks\n{message}"
        );
    }
    assert_eq!(
        fake.requests().len(),
        0,
        "no request before the inputs are valid"
    );
}

#[test]
fn a_restore_by_rule_brings_back_whole_images_each_version_carrying_the_rule() {
    let deleted = |seed: VersionSeed| seed.deleted(days(1));
    let fake = start(
        [
            signed_buildx(1, 20, "v1.0.0")
                .into_iter()
                .map(deleted)
                .collect(),
            vec![
                deleted(v(10, 20).tags(&["dev-1"])),
                v(11, 5).tags(&["v2.0.0"]),
            ],
        ]
        .concat(),
    );
    let run = janitor(&fake, ALICE)
        .input("packages", "app")
        .input("mode", "restore")
        .input("rules", "- name: releases\n  tag-regex: ^v\\d")
        .run();
    run.assert_success();
    assert_eq!(
        run.ids(),
        range(1, 6),
        "v1.0.0 with its manifests and signature"
    );
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![10]);
    for id in range(1, 6) {
        assert_eq!(entry(&run, id)["rule"], "releases", "{id}");
    }
    assert_eq!(entry(&run, 1)["reason"], "selected by rule releases");
    assert!(
        run.summary
            .contains("| rule | matched | kept | selected | restored |"),
        "{}",
        run.summary
    );
    assert_eq!(
        rules_table(&run.summary),
        [
            "| 1 releases | 1 | 0 | 6 | 6 |",
            "| no rule | | 1 | 0 | 0 |",
            "| **all** | | **1** | **6** | **6** |",
        ],
        "{}",
        run.summary
    );
    assert_adds_up(&run.summary);
}

#[test]
fn overlapping_rules_under_a_global_exclude_count_each_version_once_and_add_up() {
    // Three rules that overlap, and a global exclude that protects `v2.0.0` and `latest`:
    // - releases keeps the 2 newest `v` tags (v2.0.0 is excluded, so v1.2.0 and v1.1.0);
    // - old builds selects everything 5 days old or more;
    // - pr selects `pr-` tags and keeps the newest.
    let fake = start(vec![
        v(1, 60).tags(&["v1.0.0"]),
        v(2, 50).tags(&["v1.1.0"]),
        v(3, 40).tags(&["v1.2.0"]),
        v(4, 30).tags(&["v2.0.0"]),
        v(5, 20).tags(&["pr-1"]),
        v(6, 10).tags(&["pr-2"]),
        v(7, 6).tags(&["pr-3"]),
        v(8, 2).tags(&["latest", "pr-4"]),
        v(9, 1).tags(&["dev"]),
    ]);
    let rules = "- name: releases\n  tag-regex: ^v\n  keep-latest: 2\n\
                 - name: old builds\n  older-than: 5d\n\
                 - name: pr\n  tag-regex: ^pr-\n  keep-latest: 1\n";
    let run = runner_defaults(janitor(&fake, ALICE))
        .input("packages", "app")
        .input("rules", rules)
        .input("exclude-tag-regex", "^(v2\\.0\\.0|latest)$")
        .input("dry-run", "true")
        .run();
    run.assert_success();
    // v1.0.0 (releases keeps only 2) and pr-1, pr-2 (pr keeps pr-3, the newest it matches,
    // as pr-4 is excluded); old builds selects them, and keeping wins everywhere else.
    assert_eq!(run.ids(), vec![1, 5, 6]);
    assert_eq!(fake.active_ids("acme", "container", "app"), range(1, 9));
    assert!(
        first_line_with(
            &run.summary,
            "**3 selected, 3 would be deleted, 6 kept, would free 20.3 KiB (9 versions listed in 1 package)**"
        ),
        "{}",
        run.summary
    );
    assert_eq!(
        rules_table(&run.summary),
        [
            // matched counts v2.0.0 though the global exclude keeps it.
            "| 1 releases | 4 | 2 | 1 | 1 |",
            "| 2 old builds | 7 | 0 | 2 | 2 |",
            "| 3 pr | 4 | 1 | 0 | 0 |",
            "| no rule | | 3 | 0 | 0 |",
            "| **all** | | **6** | **3** | **3** |",
        ],
        "{}",
        run.summary
    );
    assert_adds_up(&run.summary);
    for (id, rule) in [(1, "releases"), (5, "old builds"), (6, "old builds")] {
        assert_eq!(entry(&run, id)["rule"], rule, "{id}");
    }
}

/// Whether `summary` has a line that is exactly `line`.
fn first_line_with(summary: &str, line: &str) -> bool {
    summary.lines().any(|l| l == line)
}

/// The rows of the first rules table in `summary`, header left out.
fn rules_table(summary: &str) -> Vec<&str> {
    let Some(start) = summary.find("| rule | matched |") else {
        panic!("no rules table in\n{summary}");
    };
    summary[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .collect()
}

/// The rules table's kept, selected and done columns add up to its last row, and that row
/// equals the package's own counts and the headline (one package).
#[track_caller]
fn assert_adds_up(summary: &str) {
    let number = |cell: &str| -> usize {
        cell.trim()
            .trim_matches('*')
            .parse()
            .unwrap_or_else(|_| panic!("`{cell}` in\n{summary}"))
    };
    let rows: Vec<Vec<usize>> = rules_table(summary)
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
            cells[2..].iter().map(|cell| number(cell)).collect()
        })
        .collect();
    let (total, rules) = rows.split_last().expect("a total row");
    for column in 0..3 {
        let sum: usize = rules.iter().map(|row| row[column]).sum();
        assert_eq!(sum, total[column], "column {column} of\n{summary}");
    }
    let (kept, selected, done) = (total[0], total[1], total[2]);
    let headline = summary
        .lines()
        .find(|line| line.starts_with("**"))
        .expect("a headline");
    assert!(
        headline.starts_with(&format!("**{selected} selected, {done} ")),
        "{headline} vs {total:?}"
    );
    let kept_part = format!(", {kept} kept");
    assert!(
        kept == 0 || headline.contains(&kept_part),
        "{headline} vs {total:?}"
    );
    assert!(
        summary.contains(&format!(" · {selected} selected · ")),
        "the package line says {selected} selected:\n{summary}"
    );
}

#[test]
fn a_120_kb_bad_rules_value_gives_one_error_line_under_1_kb_pointing_at_the_fault() {
    let value = format!(
        "{}- name: late\n  tag-regex: [oops\n",
        "- keep-latest: 1\n".repeat(7300)
    );
    assert!(value.len() > 120 * 1024, "{} bytes", value.len());
    let fake = FakeGitHub::start(accounts()).expect("fake starts");
    let run = runner_defaults(janitor(&fake, ALICE))
        .input("packages", "app")
        .input("rules", &value)
        .run();
    run.assert_failure();
    let errors: Vec<&str> = run
        .log
        .lines()
        .filter(|line| line.starts_with("::error::"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", &run.log[..4096.min(run.log.len())]);
    let error = errors[0];
    assert!(error.len() < 1024, "{} bytes: {error}", error.len());
    assert!(
        error.starts_with("::error::input `rules`: line 7303, column 1: `- keep-latest: 1"),
        "{error}"
    );
    let length = value.trim().chars().count();
    assert!(
        error.contains(&format!(
            "({length} characters; the first 200 shown) is not valid YAML"
        )),
        "{error}"
    );
    assert!(
        run.log.len() < 2048,
        "the value is echoed nowhere else: {}",
        run.log.len()
    );
    assert_eq!(fake.requests(), vec![], "no API call was made");
}
