//! Tests of finding references: the forms that count, those that do not, and properties on
//! generated text (nothing panics, what is found is well formed, a reference placed in any
//! text is found on its line, other owners and hosts never are).

use proptest::prelude::*;

use super::*;

const HOST: &str = "ghcr.io";
const OWNER: &str = "acme";

fn digest(fill: char) -> String {
    format!("sha256:{}", fill.to_string().repeat(64))
}

fn tag(tag: &str) -> Target {
    Target::Tag(tag.to_owned())
}

fn found(text: &str) -> Vec<(usize, String, Target)> {
    references(text, HOST, OWNER)
        .into_iter()
        .map(|found| (found.line, found.repository, found.target))
        .collect()
}

#[test]
fn a_compose_file_and_a_kubernetes_manifest_name_images_by_tag_and_by_digest() {
    let compose = format!(
        "services:\n  web:\n    image: ghcr.io/acme/web:1.4.2\n  worker:\n    image: \"ghcr.io/acme/worker@{}\"\n  db:\n    image: postgres:16\n",
        digest('a')
    );
    assert_eq!(
        found(&compose),
        vec![
            (3, "acme/web".to_owned(), tag("1.4.2")),
            (5, "acme/worker".to_owned(), Target::Digest(digest('a'))),
        ]
    );
    let manifest = format!(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: GHCR.IO/Acme/Team/App:v2.0.0@{}\n        - name: sidecar\n          image: ghcr.io/acme/sidecar\n",
        digest('B')
    );
    assert_eq!(
        found(&manifest),
        vec![
            (
                8,
                "acme/team/app".to_owned(),
                Target::TagAndDigest {
                    tag: "v2.0.0".to_owned(),
                    digest: digest('b'),
                }
            ),
            (10, "acme/sidecar".to_owned(), Target::Repository),
        ]
    );
}

#[test]
fn references_count_wherever_the_host_starts_them_and_they_end_cleanly() {
    let cases = [
        ("uses: docker://ghcr.io/acme/tool:1.0", vec![tag("1.0")]),
        (
            "['ghcr.io/acme/app:v1', 'ghcr.io/acme/app:v2']",
            vec![tag("v1"), tag("v2")],
        ),
        ("{\"image\":\"ghcr.io/acme/app:edge\"}", vec![tag("edge")]),
        ("docker pull ghcr.io/acme/app:1.0;", vec![tag("1.0")]),
        ("image=ghcr.io/acme/app:1.0\tnext", vec![tag("1.0")]),
        ("`ghcr.io/acme/app:1.0`", vec![tag("1.0")]),
        ("ghcr.io/acme/app:_private", vec![tag("_private")]),
    ];
    for (text, expected) in cases {
        let targets: Vec<Target> = found(text).into_iter().map(|(_, _, t)| t).collect();
        assert_eq!(targets, expected, "{text}");
    }
}

#[test]
fn templates_other_owners_other_hosts_and_host_less_names_do_not_count() {
    let texts = [
        "image: ghcr.io/acme/app:${{ github.sha }}",
        "image: ghcr.io/acme/app:v1-${{ env.SUFFIX }}",
        "image: ghcr.io/acme/app:{{ .Values.tag }}",
        "image: ghcr.io/acme/app:$TAG",
        "image: ghcr.io/acme/app@sha256:1234",
        "image: ghcr.io/acme/app@sha512:aaaa",
        "image: ghcr.io/acme/app:",
        "image: ghcr.io/acme/app/",
        "image: ghcr.io/acme",
        "image: ghcr.io/acmecorp/app:1.0",
        "image: ghcr.io/other/app:1.0",
        "image: myghcr.io/acme/app:1.0",
        "image: ghcr.io.evil.example/acme/app:1.0",
        "image: ghcr.io:443/acme/app:1.0",
        "image: docker.io/acme/app:1.0",
        "image: acme/app:1.0",
        "image: ghcr.io/acme/app:1.0/more",
        &format!("image: ghcr.io/acme/app:{}", "x".repeat(129)),
        &format!("image: ghcr.io/acme/app@{}0", digest('c')),
    ];
    for text in texts {
        assert_eq!(found(text), Vec::new(), "{text}");
    }
}

#[test]
fn the_host_is_registry_urls_and_the_owner_is_compared_ignoring_case() {
    let text = "a: containers.ghes.example.com/ACME/App:1\nb: ghcr.io/acme/app:2";
    let on_ghes: Vec<Found> = references(text, "containers.ghes.example.com", "acme");
    assert_eq!(on_ghes.len(), 1);
    assert_eq!(on_ghes[0].repository, "acme/app");
    assert_eq!(on_ghes[0].target, tag("1"));
    let local = references("x 127.0.0.1:5000/acme/app:3", "127.0.0.1:5000", "ACME");
    assert_eq!(local.len(), 1);
    assert_eq!(local[0].target, tag("3"));
}

/// A valid reference to one of OWNER's packages: its text and what it names.
fn reference() -> impl Strategy<Value = (String, String, Target)> {
    let component = "[a-z0-9][a-z0-9._-]{0,8}";
    let tag_text = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}";
    let hex = "[0-9a-f]{64}";
    (
        prop::collection::vec(component, 1..3),
        prop::option::of(tag_text),
        prop::option::of(hex),
        prop::sample::select(vec!["ghcr.io", "GHCR.io"]),
        prop::sample::select(vec!["acme", "Acme"]),
    )
        .prop_map(|(components, tag, hex, host, owner)| {
            let repository = format!("{OWNER}/{}", components.join("/"));
            let mut text = format!("{host}/{owner}/{}", components.join("/"));
            if let Some(tag) = &tag {
                text = format!("{text}:{tag}");
            }
            let digest = hex.map(|hex| format!("sha256:{hex}"));
            if let Some(digest) = &digest {
                text = format!("{text}@{digest}");
            }
            let target = match (tag, digest) {
                (Some(tag), Some(digest)) => Target::TagAndDigest { tag, digest },
                (Some(tag), None) => Target::Tag(tag),
                (None, Some(digest)) => Target::Digest(digest),
                (None, None) => Target::Repository,
            };
            (text, repository, target)
        })
}

/// Lines of text that hold no reference to OWNER on HOST.
fn noise() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9 :=#.\\-]{0,30}",
            Just("image: ghcr.io/other/app:1.0".to_owned()),
            Just("image: quay.io/acme/app:1.0".to_owned()),
            Just("image: acme/app:1.0".to_owned()),
            Just("image: ghcr.io/acme/app:${{ env.TAG }}".to_owned()),
        ],
        0..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_gives_well_formed_references_on_lines_that_name_the_host(
        text in prop_oneof![
            any::<String>(),
            "([gG][hH][cC][rR]\\.[iI][oO]/[aA]cme/[a-z/.:@_\\-]{0,12}[ \\n\"$]?){0,4}",
        ],
    ) {
        let lines: Vec<&str> = text.split('\n').collect();
        for found in references(&text, HOST, OWNER) {
            prop_assert!(found.line >= 1 && found.line <= lines.len(), "{:?}", found);
            let line = lines[found.line - 1].to_ascii_lowercase();
            prop_assert!(line.contains(HOST), "{:?} not on its line", found);
            prop_assert!(found.repository.starts_with("acme/"), "{:?}", found);
            prop_assert_eq!(found.repository.to_ascii_lowercase(), found.repository.clone());
            let (tag, digest) = match &found.target {
                Target::Tag(tag) => (Some(tag), None),
                Target::Digest(digest) => (None, Some(digest)),
                Target::TagAndDigest { tag, digest } => (Some(tag), Some(digest)),
                Target::Repository => (None, None),
            };
            if let Some(tag) = tag {
                prop_assert!(!tag.is_empty() && tag.len() <= MAX_TAG, "{}", tag);
                prop_assert!(tag.bytes().all(is_component), "{}", tag);
                prop_assert!(!tag.starts_with(['.', '-']), "{}", tag);
            }
            if let Some(digest) = digest {
                let hex = digest.strip_prefix("sha256:").unwrap_or_default();
                prop_assert_eq!(hex.len(), SHA256_HEX);
                prop_assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            }
        }
    }

    #[test]
    fn a_reference_placed_in_any_text_is_found_on_its_line(
        before in noise(),
        after in noise(),
        (text, repository, target) in reference(),
        prefix in prop::sample::select(vec!["image: ", "- ", "image: \"", "uses: docker://", ""]),
        suffix in prop::sample::select(vec!["", "\"", " # pinned", ",", "\r"]),
    ) {
        let line = before.len() + 1;
        let document = before
            .iter()
            .cloned()
            .chain(std::iter::once(format!("{prefix}{text}{suffix}")))
            .chain(after.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n");
        let found = references(&document, HOST, OWNER);
        prop_assert_eq!(
            found,
            vec![Found { line, repository, target }],
            "in:\n{}",
            document
        );
    }

    #[test]
    fn another_owner_or_host_finds_nothing(
        (text, _, _) in reference(),
        host in prop::sample::select(vec!["quay.io", "ghcr.i", "hcr.io"]),
    ) {
        prop_assert_eq!(references(&text, HOST, "acmecorp"), Vec::new());
        prop_assert_eq!(references(&text, host, OWNER), Vec::new());
    }
}
