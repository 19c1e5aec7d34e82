//! Tests of the version orders: each ecosystem's rules, table by table, and properties: the
//! order is total and consistent with equality on generated versions of every ecosystem.

use std::cmp::Ordering;

use proptest::prelude::*;

use super::*;

fn key(package_type: PackageType, text: &str) -> VersionKey {
    parse(package_type, text)
        .unwrap_or_else(|| panic!("{package_type}: `{text}` should be a version"))
}

/// Each version is strictly below the next.
#[track_caller]
fn assert_ascending(package_type: PackageType, versions: &[&str]) {
    for pair in versions.windows(2) {
        let (low, high) = (key(package_type, pair[0]), key(package_type, pair[1]));
        assert_eq!(
            low.cmp(&high),
            Ordering::Less,
            "{package_type}: `{}` < `{}`",
            pair[0],
            pair[1]
        );
    }
}

/// Each pair is one version written two ways.
#[track_caller]
fn assert_equal(package_type: PackageType, pairs: &[(&str, &str)]) {
    for (a, b) in pairs {
        assert_eq!(
            key(package_type, a),
            key(package_type, b),
            "{package_type}: `{a}` = `{b}`"
        );
    }
}

#[track_caller]
fn assert_not_versions(package_type: PackageType, texts: &[&str]) {
    for text in texts {
        assert_eq!(
            parse(package_type, text),
            None,
            "{package_type}: `{text}` is not a version"
        );
    }
}

#[test]
fn semver_orders_pre_releases_below_their_release_as_the_spec_lists_them() {
    // SemVer 2.0 §11's own example, then the numbers.
    assert_ascending(
        PackageType::Npm,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.4.7",
            "1.10.0",
            "2.0.0-0",
            "2.0.0",
            "10.0.0",
        ],
    );
}

#[test]
fn container_tags_are_semver_with_an_optional_leading_v_and_build_metadata_ignored() {
    for package_type in [
        PackageType::Container,
        PackageType::Docker,
        PackageType::Npm,
    ] {
        assert_equal(
            package_type,
            &[
                ("v1.2.3", "1.2.3"),
                ("1.0.0+a", "1.0.0+b"),
                ("v2.0.0-rc.1+build.5", "2.0.0-rc.1"),
            ],
        );
        assert_ascending(package_type, &["v1.9.9", "1.10.0-rc.1", "v1.10.0", "2.0.0"]);
        assert_not_versions(
            package_type,
            &[
                "latest",
                "1.2",
                "1",
                "01.2.3",
                "1.2.3.4",
                "1.2.3-",
                "1.2.3-01",
                "vv1.2.3",
                "V1.2.3",
                " 1.2.3",
                "sha-1a2b3c",
                "sha256-0123.sig",
                "",
            ],
        );
    }
}

#[test]
fn maven_follows_comparable_version_on_the_qualifiers_and_numbers_of_its_own_tests() {
    // Maven 3.9's ComparableVersionTest: VERSIONS_QUALIFIER and VERSIONS_NUMBER.
    assert_ascending(
        PackageType::Maven,
        &[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ],
    );
    assert_ascending(
        PackageType::Maven,
        &[
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
            "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
            "11", "11.a", "11b", "11c", "11m",
        ],
    );
}

#[test]
fn maven_snapshots_and_release_qualifiers_order_as_the_pom_reference_says() {
    assert_ascending(
        PackageType::Maven,
        &[
            "1.0-alpha-1",
            "1.0-beta-1",
            "1.0-M1",
            "1.0-rc1-SNAPSHOT",
            "1.0-rc1",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0-sp",
            "1.0-foo",
            "1.0-1",
            "1.0.1-SNAPSHOT",
            "1.0.1",
            "1.1",
        ],
    );
    // The POM reference's examples, and `1.0.RC2 < 1.0-RC3 < 1.0.1` (MNG-7644).
    assert_ascending(PackageType::Maven, &["1", "1.1"]);
    assert_ascending(PackageType::Maven, &["1-snapshot", "1", "1-sp"]);
    assert_ascending(PackageType::Maven, &["1-foo2", "1-foo10"]);
    assert_ascending(PackageType::Maven, &["1-foo", "1-1", "1.1"]);
    assert_ascending(PackageType::Maven, &["1-ga", "1-sp"]);
    assert_ascending(PackageType::Maven, &["1-ga.1", "1-sp.1"]);
    assert_ascending(PackageType::Maven, &["1.K", "1.7"]);
    assert_ascending(PackageType::Maven, &["5.aardvark", "5.zebra"]);
    assert_ascending(PackageType::Maven, &["1.0.RC2", "1.0-RC3", "1.0.1"]);
    assert_ascending(
        PackageType::Maven,
        &["5.4.0.Final", "5.4.1.CR1", "5.4.1.Final"],
    );
    assert_ascending(
        PackageType::Maven,
        &["1.0.20240101", "1.0.20240101123456789012"],
    );
    assert_equal(
        PackageType::Maven,
        &[
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.ga", "1"),
            ("1-ga", "1"),
            ("1-final", "1"),
            ("1-release", "1"),
            ("5.4.1.Final", "5.4.1"),
            ("2.7.RELEASE", "2.7"),
            ("1.foo", "1-foo"),
            ("1a", "1-a"),
            ("1.0.0x", "1-x"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1-a1", "1-alpha-1"),
            ("1.0-ALPHA1", "1.0-alpha1"),
            ("1.0.0-SNAPSHOT", "1-snapshot"),
            ("1.007", "1.7"),
        ],
    );
}

#[test]
fn maven_shapes_on_which_comparable_version_is_not_a_total_order_are_not_versions() {
    // `1-alpha.1 < 1 < 1.sp.1 < 1-alpha.1` in ComparableVersion: a qualifier in the middle
    // of a list, or a sub-list starting with one, is kept rather than ranked.
    assert_not_versions(
        PackageType::Maven,
        &[
            "1.sp.1",
            "1.0.alpha.1",
            "2.0.Beta.1",
            "1-0-alpha",
            "1-ga-1",
            "Hoxton.SR1",
            "latest",
            "1.0_01",
            "1.0+build",
            "",
            "v1.0",
        ],
    );
    assert!(parse(PackageType::Maven, "1-alpha.1").is_some());
}

#[test]
fn nuget_allows_four_parts_and_normalizes_them() {
    assert_equal(
        PackageType::Nuget,
        &[
            ("1.0", "1.0.0"),
            ("1.0.0.0", "1.0.0"),
            ("1", "1.0.0"),
            ("1.00", "1.0"),
            ("1.01.1", "1.1.1"),
            ("1.0.01.0", "1.0.1"),
            ("1.0.7+r3456", "1.0.7"),
            ("1.0.0-Beta", "1.0.0-beta"),
        ],
    );
    assert_ascending(
        PackageType::Nuget,
        &[
            "1.0.0-1",
            "1.0.0-2",
            "1.0.0-10",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.10",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1-beta",
            "1.0.0.1",
            "1.0.0.10",
            "1.0.1",
            "1.2.3.4",
            "2.0",
        ],
    );
    assert_not_versions(
        PackageType::Nuget,
        &[
            "1.0.0-01",
            "1.2.3.4.5",
            "1.0.0-",
            "1.0.0+",
            "1..0",
            "1.0.0-beta..1",
            "2147483648.0",
            "-1.0",
            "v1.0.0",
            " 1.0",
            "latest",
            "",
        ],
    );
}

#[test]
fn rubygems_puts_pre_releases_below_their_release() {
    assert_ascending(
        PackageType::Rubygems,
        &[
            "0.9",
            "1.0.0.a",
            "1.0.0.a.2",
            "1.0.0.b1",
            "1.0.0.pre",
            "1.0.0.pre1",
            "1.0.0.pre2",
            "1.0.0.rc1",
            "1.0.0",
            "1.0.1",
            "1.9.2.99",
            "1.9.3",
            "1.9.3.1",
            "1.10",
        ],
    );
    // Gem::Version's own test cases (test_gem_version.rb, `test_spaceship`).
    assert_ascending(PackageType::Rubygems, &["1.8.2.a", "1.8.2.b", "1.8.2"]);
    assert_ascending(PackageType::Rubygems, &["1.8.2.a9", "1.8.2.a10"]);
    assert_ascending(PackageType::Rubygems, &["5.a", "5.0.0.rc2", "5.x"]);
    assert_ascending(PackageType::Rubygems, &["0.0.beta", "0.0.beta.1"]);
    assert_ascending(PackageType::Rubygems, &["1.0.0-1", "1"]);
    assert_ascending(PackageType::Rubygems, &["1.0.0-rc1", "1.0.0"]);
    assert_ascending(PackageType::Rubygems, &["1.0.1", "1.0.4294967296"]);
    assert_equal(
        PackageType::Rubygems,
        &[
            ("1.0", "1"),
            ("1.0.0", "1"),
            ("0.beta.1", "0.0.beta.1"),
            ("1.0.0-1", "1.0.0.pre.1"),
            ("1.2.b1", "1.2.b.1"),
            ("1.01", "1.1"),
        ],
    );
    assert_not_versions(
        PackageType::Rubygems,
        &[
            "junk", "1..2", "1.0\n2.0", "1.2 3.4", "1.", "-1", "", " 1.0", "v1.0",
        ],
    );
}

#[test]
fn a_text_longer_than_the_bound_is_not_a_version() {
    let long = format!("1.0.{}", "1".repeat(MAX_LENGTH));
    for package_type in PackageType::ALL {
        assert_eq!(parse(package_type, &long), None, "{package_type}");
    }
}

/// Text that is often a version of `package_type`'s ecosystem, and often almost one.
fn version_text(package_type: PackageType) -> BoxedStrategy<String> {
    let number = prop::sample::select(vec!["0", "1", "2", "9", "10", "01", "00", "4294967296"]);
    match package_type {
        PackageType::Container | PackageType::Docker | PackageType::Npm => {
            let identifier = prop::sample::select(vec![
                "0", "1", "2", "10", "alpha", "beta", "rc", "x-y", "a1", "A", "01",
            ]);
            (
                prop::option::of(Just("v")),
                number.clone(),
                number.clone(),
                number,
                prop::collection::vec(identifier, 0..4),
                prop::option::of("[0-9a-z]{1,3}"),
            )
                .prop_map(|(v, major, minor, patch, pre, build)| {
                    let mut text = format!("{}{major}.{minor}.{patch}", v.unwrap_or(""));
                    if !pre.is_empty() {
                        text = format!("{text}-{}", pre.join("."));
                    }
                    if let Some(build) = build {
                        text = format!("{text}+{build}");
                    }
                    text
                })
                .boxed()
        }
        PackageType::Maven => {
            let token = prop::sample::select(vec![
                "0",
                "1",
                "2",
                "10",
                "00",
                "a",
                "b",
                "m",
                "alpha",
                "beta",
                "milestone",
                "rc",
                "cr",
                "snapshot",
                "ga",
                "final",
                "release",
                "sp",
                "foo",
                "x",
                "SNAPSHOT",
                "",
            ]);
            let separator = prop::sample::select(vec![".", "-", ""]);
            prop_oneof![
                (number, prop::collection::vec((separator, token), 0..6)).prop_map(
                    |(first, rest)| {
                        rest.into_iter()
                            .fold(first.to_owned(), |text, (sep, token)| text + sep + token)
                    }
                ),
                "[0-9][0-9a-z.\\-]{0,10}",
            ]
            .boxed()
        }
        PackageType::Nuget => {
            let label = prop::sample::select(vec![
                "0",
                "1",
                "2",
                "10",
                "-1",
                "alpha",
                "Alpha",
                "beta",
                "rc",
                "a-b",
                "2147483648",
                "01",
            ]);
            (
                prop::collection::vec(number, 1..5),
                prop::option::of(prop::collection::vec(label, 1..4)),
                prop::option::of("[0-9a-z]{1,3}"),
            )
                .prop_map(|(numbers, labels, metadata)| {
                    let mut text = numbers.join(".");
                    if let Some(labels) = labels {
                        text = format!("{text}-{}", labels.join("."));
                    }
                    if let Some(metadata) = metadata {
                        text = format!("{text}+{metadata}");
                    }
                    text
                })
                .boxed()
        }
        PackageType::Rubygems => prop_oneof![
            "[0-9]{1,3}(\\.[0-9a-zA-Z]{1,3}){0,4}(-[0-9a-z\\-]{1,3}(\\.[0-9a-z\\-]{1,2}){0,2})?",
            (
                number,
                prop::collection::vec(
                    prop::sample::select(vec!["0", "1", "2", "10", "a", "b", "pre", "rc1", "z"]),
                    0..5
                )
            )
                .prop_map(|(first, rest)| {
                    rest.into_iter()
                        .fold(first.to_owned(), |text, part| format!("{text}.{part}"))
                }),
        ]
        .boxed(),
    }
}

/// A few texts of one ecosystem at a time, so that every triple of them is checked.
fn versions_of_one_type() -> impl Strategy<Value = (PackageType, Vec<String>)> {
    prop::sample::select(PackageType::ALL.to_vec()).prop_flat_map(|package_type| {
        (
            Just(package_type),
            prop::collection::vec(version_text(package_type), 2..10),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn every_order_is_total_and_consistent_with_equality(
        (package_type, texts) in versions_of_one_type(),
    ) {
        let keys: Vec<VersionKey> = texts
            .iter()
            .filter_map(|text| parse(package_type, text))
            .collect();
        for a in &keys {
            prop_assert_eq!(a.cmp(a), Ordering::Equal);
            for b in &keys {
                let forward = a.cmp(b);
                prop_assert_eq!(forward, b.cmp(a).reverse(), "antisymmetric: {:?} {:?}", a, b);
                prop_assert_eq!(a == b, forward == Ordering::Equal, "equality: {:?} {:?}", a, b);
                for c in &keys {
                    if forward != Ordering::Greater && b.cmp(c) != Ordering::Greater {
                        prop_assert_ne!(
                            a.cmp(c),
                            Ordering::Greater,
                            "transitive: {:?} <= {:?} <= {:?}",
                            a,
                            b,
                            c
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn any_text_parses_or_is_not_a_version_without_panicking(
        package_type in prop::sample::select(PackageType::ALL.to_vec()),
        text in prop_oneof![any::<String>(), "[0-9a-zA-Z.+\\-]{0,20}"],
    ) {
        let parsed = parse(package_type, &text);
        if let Some(key) = parsed {
            prop_assert_eq!(key.cmp(&key), Ordering::Equal);
        }
    }
}
