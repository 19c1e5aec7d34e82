//! Property tests: arbitrary strings into every input, arbitrary version lists and policies
//! into the planner. Nothing panics; bad inputs give clear errors; plans keep their promises.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use package_janitor::config::Config;
use package_janitor::config::inputs::{INPUTS, RUNNER_VARIABLES, variable};
use package_janitor::model::mode::Mode;
use package_janitor::model::reference::Referenced;
use package_janitor::model::version::{PackageType, Version};
use package_janitor::policy::plan::{self, Decision, Reason};
use package_janitor::policy::rules::{OrderBy, Policy, Rule, TagState};
use package_janitor::report::log::Log;
use package_janitor::report::sanitize::Sanitizer;
use package_janitor::state::RunState;
use proptest::prelude::*;
use regex::Regex;

/// Every variable `Config::from_env` reads: each input of the one inputs table, as the runner
/// sets it, and the runner's own variables.
fn variables() -> Vec<String> {
    INPUTS
        .iter()
        .map(|input| variable(input.name))
        .chain(RUNNER_VARIABLES.iter().map(|name| name.to_string()))
        .collect()
}

/// Whether an error names what the run reads: an input, or a runner variable.
fn names_an_input_or_variable(name: &str) -> bool {
    INPUTS.iter().any(|input| input.name == name) || RUNNER_VARIABLES.contains(&name)
}

/// Anything at all, text that looks almost right, or a valid value: so that parsing gets
/// past the first inputs often enough to reach the later ones.
fn value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        any::<String>(),
        "[0-9a-zA-Z ,;\\[\\]\"\\-\\.\\*\\?/_\\n]{0,16}",
        prop::sample::select(vec![
            "container",
            "npm",
            "delete",
            "restore",
            "true",
            "false",
            "tagged",
            "untagged",
            "30d",
            "0s",
            "1m",
            "900",
            "3",
            "[1, 2]",
            "1,2",
            "^v",
            "app",
            "octo-org",
            "https://api.github.com",
            "- tag-regex: ^v\n  keep-latest: 2",
            "- name: x\n  group-by: ^v(\\d)\n  keep-latest: 1",
            "[{\"older-than\": \"1d\"}, {\"tag-state\": \"untagged\"}]",
            "- keep-lates: 3",
        ])
        .prop_map(str::to_string),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_input_strings_parse_or_fail_with_an_error_naming_the_input(
        values in prop::collection::vec(value(), variables().len()),
        token in "[A-Za-z0-9]{12,20}",
    ) {
        let token = format!("ghp_{token}");
        let mut env: HashMap<String, String> = variables()
            .into_iter()
            .zip(values)
            .filter_map(|(name, value)| value.map(|value| (name, value)))
            .collect();
        env.insert("INPUT_TOKEN".into(), token.clone());
        match Config::from_env(|name| env.get(name).cloned()) {
            Ok(config) => {
                prop_assert!(!config.packages.is_empty());
                prop_assert!(config.pacing.points_per_minute >= 1);
            }
            Err(error) => {
                let shown = error.to_string();
                prop_assert!(
                    names_an_input_or_variable(error.input()),
                    "unknown input {} in {shown}", error.input()
                );
                prop_assert!(shown.contains(&format!("`{}`", error.input())), "{shown}");
                prop_assert!(!error.problem().is_empty());
                prop_assert!(!shown.contains(&token), "the token leaked: {shown}");
                let debug = format!("{error:?}");
                prop_assert!(!debug.contains(&token), "the token leaked: {debug}");
            }
        }
    }
}

const NOW_SECS: u64 = 2_000_000_000;

fn time() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        Just(UNIX_EPOCH),
        (NOW_SECS - 1_000..NOW_SECS + 1_000).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        (0..u64::from(u32::MAX)).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    ]
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "v1",
            "latest",
            "pr-1",
            "pr-22",
            "1.0.0",
            "2.0.0-rc.1",
            ""
        ])
        .prop_map(str::to_string),
        "[a-z0-9.\\-]{0,8}",
    ]
}

/// Versions with distinct ids (some ids far apart, some adjacent).
fn versions() -> impl Strategy<Value = Vec<Version>> {
    prop::collection::vec(
        (
            label(),
            prop::collection::vec(label(), 0..3),
            time(),
            prop::option::of(time()),
            prop::bool::weighted(0.8),
        ),
        0..40,
    )
    .prop_flat_map(|specs| {
        let count = specs.len();
        (
            Just(specs),
            prop::collection::btree_set(1..u64::MAX, count..=count),
        )
    })
    .prop_map(|(specs, ids)| {
        specs
            .into_iter()
            .zip(ids)
            .map(
                |((name, tags, updated_at, deleted_at, tags_known), id)| Version {
                    id,
                    name,
                    // A version listed without tag metadata has no tags to read.
                    tags: if tags_known { tags } else { Vec::new() },
                    tags_known,
                    created_at: updated_at,
                    updated_at,
                    deleted_at,
                },
            )
            .collect()
    })
}

fn duration() -> impl Strategy<Value = Option<Duration>> {
    prop::option::of(prop_oneof![
        (0..3_000u64).prop_map(Duration::from_secs),
        (0..u64::MAX).prop_map(Duration::from_secs),
    ])
}

fn regex() -> impl Strategy<Value = Option<Regex>> {
    prop::option::of(
        prop::sample::select(vec!["^pr-", "rc", "^v\\d", "", "latest$", "."])
            .prop_map(|pattern| Regex::new(pattern).expect("a valid test pattern")),
    )
}

fn policy(ids: Vec<u64>) -> impl Strategy<Value = Policy> {
    (
        regex(),
        regex(),
        duration(),
        prop::sample::select(vec![TagState::Any, TagState::Tagged, TagState::Untagged]),
        0..6usize,
        prop::option::of(prop::sample::subsequence(ids.clone(), 0..=ids.len())),
        duration(),
    )
        .prop_map(
            |(
                tag_regex,
                exclude_tag_regex,
                older_than,
                tag_state,
                keep_latest,
                ids,
                deleted_within,
            )| {
                Policy {
                    tag_regex,
                    exclude_tag_regex,
                    older_than,
                    tag_state,
                    keep_latest,
                    order_by: OrderBy::Pushed,
                    version_ids: ids.map(|ids| ids.into_iter().collect()),
                    deleted_within,
                    rules: Vec::new(),
                    referenced: Referenced::default(),
                }
            },
        )
}

/// Whether `version` passes every filter of `policy` (all but keep-latest), restated from
/// the documented rules rather than from the planner's code.
fn passes(version: &Version, policy: &Policy, package_type: PackageType, mode: Mode) -> bool {
    let now = UNIX_EPOCH + Duration::from_secs(NOW_SECS);
    let labels = version.labels(package_type);
    let in_ids = policy
        .version_ids
        .as_ref()
        .is_none_or(|ids| ids.contains(&version.id));
    // Unknown tags: only version-ids selects it, and no tag-state can be judged.
    let known = !package_type.has_tags()
        || version.tags_known
        || (policy.version_ids.is_some() && policy.tag_state == TagState::Any);
    let not_excluded = policy
        .exclude_tag_regex
        .as_ref()
        .is_none_or(|regex| !labels.iter().any(|label| regex.is_match(label)));
    let state = !package_type.has_tags()
        || match policy.tag_state {
            TagState::Any => true,
            TagState::Tagged => !version.tags.is_empty(),
            TagState::Untagged => version.tags.is_empty(),
        };
    let matches = policy
        .tag_regex
        .as_ref()
        .is_none_or(|regex| labels.iter().any(|label| regex.is_match(label)));
    let old_enough = policy.older_than.is_none_or(|age| {
        now.checked_sub(age)
            .is_some_and(|cutoff| version.updated_at <= cutoff)
    });
    let deleted_within = mode == Mode::Delete
        || policy.deleted_within.is_none_or(|within| {
            version
                .deleted_at
                .is_some_and(|at| now.checked_sub(within).is_none_or(|cutoff| at >= cutoff))
        });
    in_ids && known && not_excluded && state && matches && old_enough && deleted_within
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn plans_decide_every_version_once_and_act_only_on_what_passes_every_filter(
        (versions, policy) in versions().prop_flat_map(|versions| {
            let ids = versions.iter().map(|version| version.id).collect();
            (Just(versions), policy(ids))
        }),
        package_type in prop::sample::select(PackageType::ALL.to_vec()),
        mode in prop::sample::select(vec![Mode::Delete, Mode::Restore]),
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(NOW_SECS);
        let plan = plan::plan(versions.clone(), &policy, package_type, mode, now);

        let planned: Vec<u64> = plan.versions.iter().map(|p| p.version.id).collect();
        let unique: BTreeSet<u64> = planned.iter().copied().collect();
        prop_assert_eq!(planned.len(), versions.len());
        prop_assert_eq!(unique, versions.iter().map(|v| v.id).collect::<BTreeSet<_>>());

        let passing = versions
            .iter()
            .filter(|v| passes(v, &policy, package_type, mode))
            .count();
        let mut kept_latest = 0;
        let mut seen_act = false;
        for planned in &plan.versions {
            let passed = passes(&planned.version, &policy, package_type, mode);
            match (&planned.decision, &planned.reason) {
                (Decision::Act, Reason::Selected) => {
                    prop_assert!(passed, "acted on {:?}", planned.version);
                    seen_act = true;
                }
                (Decision::Keep, Reason::KeptLatest(rank)) => {
                    prop_assert!(passed);
                    prop_assert!(!seen_act, "keep-latest keeps the newest, before any act");
                    kept_latest += 1;
                    prop_assert_eq!(*rank, kept_latest);
                }
                (Decision::Keep, _) => prop_assert!(!passed, "kept {:?}", planned),
                (Decision::Act, reason) => prop_assert!(false, "act with reason {reason:?}"),
            }
        }
        prop_assert_eq!(kept_latest, passing.min(policy.keep_latest));
        prop_assert_eq!(plan.selected().count(), passing - kept_latest);
    }
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop::option::of(prop::sample::select(vec!["a", "b"])),
        regex(),
        regex(),
        prop::sample::select(vec![TagState::Any, TagState::Tagged, TagState::Untagged]),
        duration(),
        0..4usize,
        prop::option::of(
            prop::sample::select(vec!["^v(\\d)", "(.)", "^(pr|dev)-", "(x)?"])
                .prop_map(|pattern| Regex::new(pattern).expect("a valid test pattern")),
        ),
    )
        .prop_map(
            |(name, tag_regex, exclude_tag_regex, tag_state, older_than, keep_latest, group_by)| {
                Rule {
                    name: name.map(str::to_owned),
                    tag_regex,
                    exclude_tag_regex,
                    tag_state,
                    older_than,
                    keep_latest,
                    group_by,
                    order_by: OrderBy::Pushed,
                }
            },
        )
}

/// Whether `version` is a match of `rule` (global filters included), and its group,
/// restated from the README rather than from the planner's code.
fn rule_match(
    version: &Version,
    rule: &Rule,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
) -> Option<Option<String>> {
    let flat = Policy {
        tag_regex: rule.tag_regex.clone(),
        exclude_tag_regex: policy.exclude_tag_regex.clone(),
        older_than: rule.older_than,
        tag_state: rule.tag_state,
        keep_latest: 0,
        order_by: OrderBy::Pushed,
        version_ids: policy.version_ids.clone(),
        deleted_within: policy.deleted_within,
        rules: Vec::new(),
        referenced: Referenced::default(),
    };
    let labels = version.labels(package_type);
    let excluded = rule
        .exclude_tag_regex
        .as_ref()
        .is_some_and(|regex| labels.iter().any(|label| regex.is_match(label)));
    if excluded || !passes(version, &flat, package_type, mode) {
        return None;
    }
    match &rule.group_by {
        None => Some(None),
        Some(group_by) => labels.iter().find_map(|label| {
            let captures = group_by.captures(label)?;
            Some(Some(captures.get(1).map_or("", |m| m.as_str()).to_owned()))
        }),
    }
}

/// Whether `version` passes `rule`'s own filters (and its group if so), whatever the
/// global filters say: what the rule's `matched` counts. Unknown tags pass no `tag-state`
/// but `any`, and no `tag-regex`.
fn own_match(version: &Version, rule: &Rule, package_type: PackageType) -> Option<Option<String>> {
    let alone = Policy {
        // Named by `version-ids`, so that unknown tags are judged as the rule alone would.
        version_ids: Some(std::iter::once(version.id).collect()),
        ..Policy::default()
    };
    rule_match(version, rule, &alone, package_type, Mode::Delete)
}

/// Server text built to break out: line breaks, command starts, markup, and ordinary text.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "\n",
        "\r",
        "\r\n",
        "::",
        "::error::",
        "::add-mask::",
        "::stop-commands::",
        "##[",
        "<!--",
        "|",
        "`",
        "*",
        "#",
        " ",
        "\t",
        "\u{a0}",
        "\u{85}",
        "\u{2028}",
        "\u{202e}",
        "\u{1b}[31m",
        "%0A",
        "%",
        "x",
        "v1.0",
        "-",
        "é",
        "日本",
    ]);
    prop_oneof![
        any::<String>(),
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat()),
        (any::<String>(), any::<char>()).prop_map(|(text, last)| format!("{text}{last}")),
    ]
}

/// The token as a server could echo it.
fn echoed(token: &str, form: usize) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    match form % 6 {
        0 => token.to_string(),
        1 => format!("Bearer {token}"),
        2 => format!(
            "Basic {}",
            STANDARD.encode(format!("x-access-token:{token}"))
        ),
        3 => format!(
            "Basic {}",
            STANDARD.encode(format!("package-janitor:{token}"))
        ),
        4 => STANDARD.encode(format!("u:{token}")),
        _ => token.replace('_', "%5F"),
    }
}

/// Whether `text` shows the token in any of the forms [`echoed`] makes.
fn shows_token(text: &str, token: &str) -> bool {
    (0..6).any(|form| {
        let echo = echoed(token, form);
        let secret = echo.rsplit(' ').next().unwrap_or(&echo);
        text.contains(secret)
    })
}

/// Variables as the process gives them: any bytes, under input names, near misses and
/// the token variables.
#[cfg(unix)]
fn raw_environment() -> impl Strategy<Value = Vec<(std::ffi::OsString, std::ffi::OsString)>> {
    use std::os::unix::ffi::OsStringExt;
    let names = prop::sample::select(vec![
        "INPUT_DRY-RUN",
        "INPUT_DRY_RUN",
        "INPUT_TAG-REGEX",
        "INPUT_TAGREGEX",
        "INPUT_VERSION-IDS",
        "INPUT_PACKAGES",
        "INPUT_TOKEN",
        "INPUT_",
        "INPUT_ZZZ",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_REPOSITORY",
        "HOME",
    ]);
    prop::collection::vec((names, prop::collection::vec(any::<u8>(), 0..12)), 0..10).prop_map(
        |pairs| {
            pairs
                .into_iter()
                .map(|(name, bytes)| (name.into(), std::ffi::OsString::from_vec(bytes)))
                .collect()
        },
    )
}

#[cfg(unix)]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn with_rules_a_version_is_acted_on_exactly_when_a_rule_selects_it_and_none_keeps_it(
        (versions, policy, images) in versions().prop_flat_map(|versions| {
            let ids: Vec<u64> = versions.iter().map(|version| version.id).collect();
            (
                Just(versions),
                (policy(ids.clone()), prop::collection::vec(rule(), 1..4)).prop_map(
                    |(flat, rules)| Policy {
                        exclude_tag_regex: flat.exclude_tag_regex,
                        version_ids: flat.version_ids,
                        deleted_within: flat.deleted_within,
                        rules,
                        ..Policy::default()
                    },
                ),
                prop::option::of(prop::sample::subsequence(ids.clone(), 0..=ids.len())),
            )
        }),
        package_type in prop::sample::select(PackageType::ALL.to_vec()),
        mode in prop::sample::select(vec![Mode::Delete, Mode::Restore]),
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(NOW_SECS);
        let mut plan = plan::plan(versions.clone(), &policy, package_type, mode, now);
        if let Some(images) = &images {
            let images: HashSet<u64> = images.iter().copied().collect();
            plan = plan::plan_images(plan, &policy, package_type, mode, now, &images, None);
        }
        let is_image = |id: u64| images.as_ref().is_none_or(|images| images.contains(&id));

        // Each rule ranks its own matches, newest first, per group.
        let mut newest_first = versions.clone();
        newest_first.sort_by_key(|v| std::cmp::Reverse((v.updated_at, v.id)));
        let mut kept: HashSet<u64> = HashSet::new();
        let mut matched: HashSet<u64> = HashSet::new();
        for (index, rule) in policy.rules.iter().enumerate() {
            let mut slots: HashMap<Option<String>, usize> = HashMap::new();
            for version in &newest_first {
                let Some(group) = rule_match(version, rule, &policy, package_type, mode) else {
                    continue;
                };
                matched.insert(version.id);
                let taken = slots.entry(group).or_insert(0);
                if is_image(version.id) && *taken < rule.keep_latest {
                    *taken += 1;
                    kept.insert(version.id);
                }
            }
            // `matched` counts the rule's own filters, whatever the global ones say.
            let own = versions
                .iter()
                .filter(|version| own_match(version, rule, package_type).is_some())
                .count();
            prop_assert_eq!(plan.rules[index].matched, own, "rule {}", index + 1);
        }
        prop_assert_eq!(plan.versions.len(), versions.len());
        for planned in &plan.versions {
            let id = planned.version.id;
            let acts = matched.contains(&id) && !kept.contains(&id);
            prop_assert_eq!(planned.decision == Decision::Act, acts, "{:?}", planned);
            match &planned.reason {
                Reason::SelectedBy(_) => prop_assert!(acts),
                Reason::KeptBy { .. } => prop_assert!(kept.contains(&id)),
                Reason::NoRuleMatches => prop_assert!(!matched.contains(&id)),
                _ => prop_assert!(!acts),
            }
            prop_assert_eq!(plan.rule_label(planned).is_some(), matched.contains(&id));
        }
    }
}

/// Registry data: manifests, `www-authenticate` challenges, token realms, and the image
/// graph built from them. Paths are spelled out so this block stands on its own.
mod registry {
    use std::collections::{BTreeSet, HashMap};
    use std::time::{Duration, UNIX_EPOCH};

    use package_janitor::model::image::may_be_artifact;
    use package_janitor::model::manifest::{Blobs, Child, MAX_BYTES, Manifest};
    use package_janitor::model::mode::Mode;
    use package_janitor::model::version::{PackageType, Version};
    use package_janitor::policy::audit;
    use package_janitor::policy::images::{self, Manifests, Rules};
    use package_janitor::policy::plan::{self, Decision};
    use package_janitor::policy::rules::{Policy, TagState};
    use package_janitor::registry::challenge;
    use package_janitor::registry::manifest;
    use proptest::prelude::*;

    fn digest(id: u64) -> String {
        format!("sha256:{id:064x}")
    }

    /// JSON that looks like a manifest, with arbitrary values where strings go.
    fn manifest_json() -> impl Strategy<Value = String> {
        let text = prop_oneof![
            any::<String>(),
            "sha256:[0-9a-f]{0,64}",
            "unknown|linux|amd64"
        ];
        let descriptor = (
            text.clone(),
            prop::option::of((text.clone(), text.clone(), prop::option::of(text.clone()))),
            prop::option::of((text.clone(), text.clone())),
        )
            .prop_map(|(digest, platform, annotation)| {
                let mut entry = serde_json::json!({"digest": digest});
                if let Some((os, architecture, variant)) = platform {
                    entry["platform"] =
                        serde_json::json!({"os": os, "architecture": architecture, "variant": variant});
                }
                if let Some((kind, about)) = annotation {
                    entry["annotations"] = serde_json::json!({
                        "vnd.docker.reference.type": kind,
                        "vnd.docker.reference.digest": about,
                    });
                }
                entry
            });
        (
            prop::option::of(text.clone()),
            prop::option::of(prop::collection::vec(descriptor.clone(), 0..4)),
            prop::option::of(descriptor),
        )
            .prop_map(|(media_type, manifests, subject)| {
                serde_json::json!({"mediaType": media_type, "manifests": manifests, "subject": subject})
                    .to_string()
            })
    }

    /// An image manifest whose config and layers have digests and sizes of every kind: the
    /// sha256 form and others, sizes as integers of any sign and width, fractions, huge
    /// numbers, strings and nothing.
    fn image_json() -> impl Strategy<Value = String> {
        let size = prop_oneof![
            any::<u64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            (0u64..=(1 << 53)).prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            Just(serde_json::json!(1e300)),
            Just(serde_json::json!("12")),
            Just(serde_json::Value::Null),
        ];
        let digest = prop_oneof![
            "sha256:[0-9a-f]{64}",
            "sha256:[0-9a-fA-F]{60,66}",
            any::<String>()
        ];
        let descriptor = (digest, size)
            .prop_map(|(digest, size)| serde_json::json!({"digest": digest, "size": size}));
        (
            prop::option::of(descriptor.clone()),
            prop::collection::vec(descriptor, 0..6),
        )
            .prop_map(|(config, layers)| {
                serde_json::json!({"schemaVersion": 2, "config": config, "layers": layers})
                    .to_string()
            })
    }

    /// A version's tags, drawn so that artifact tags, releases and near-misses all occur.
    fn tags(n: u64) -> impl Strategy<Value = Vec<String>> {
        let tag = prop_oneof![
            (1..=n).prop_map(|id| format!("sha256-{id:064x}.sig")),
            (1..=n).prop_map(|id| format!("sha256-{id:064x}")),
            Just(format!("sha256-{}.att", "0".repeat(64))),
            Just("sha256-abc.sig".to_string()),
            Just("v1.0.0".to_string()),
            Just("latest".to_string()),
        ];
        prop::collection::vec(tag, 0..3)
    }

    /// What a version's manifest read gave: an image, an index of some versions, an
    /// artifact of one, or an error.
    fn read(n: u64) -> impl Strategy<Value = Result<Manifest, String>> {
        prop_oneof![
            Just(Ok(Manifest::default())),
            prop::collection::vec(1..=n, 0..3).prop_map(|children| Ok(Manifest {
                is_index: true,
                children: children
                    .into_iter()
                    .map(|id| Child {
                        digest: digest(id),
                        ..Child::default()
                    })
                    .collect(),
                ..Manifest::default()
            })),
            (1..=n).prop_map(|subject| Ok(Manifest {
                subject: Some(digest(subject)),
                ..Manifest::default()
            })),
            Just(Err("503 UNAVAILABLE".to_string())),
        ]
    }

    fn package() -> impl Strategy<Value = (Vec<Version>, Manifests)> {
        (1u64..8).prop_flat_map(|n| {
            let versions = (1..=n)
                .map(|id| {
                    (tags(n), 0u64..100).prop_map(move |(tags, age)| {
                        let at = UNIX_EPOCH + Duration::from_secs(1_000_000 - age * 1000);
                        Version {
                            id,
                            name: digest(id),
                            tags,
                            tags_known: true,
                            created_at: at,
                            updated_at: at,
                            deleted_at: None,
                        }
                    })
                })
                .collect::<Vec<_>>();
            let reads = prop::collection::vec(read(n), n as usize);
            (versions, reads).prop_map(|(versions, reads)| {
                let manifests = versions.iter().map(|v| v.id).zip(reads).collect();
                (versions, manifests)
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_manifest_parser_never_panics_on_any_bytes(
            content_type in prop::option::of(any::<String>()),
            body in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let _ = manifest::parse(content_type.as_deref(), &body);
        }

        #[test]
        fn the_manifest_parser_never_panics_on_manifest_shaped_json(body in manifest_json()) {
            if let Ok(parsed) = manifest::parse(None, body.as_bytes()) {
                prop_assert!(parsed.is_index || parsed.children.is_empty());
            }
        }

        #[test]
        fn every_size_the_manifest_parser_keeps_is_a_whole_number_of_at_most_2_pow_53_bytes(
            body in image_json(),
        ) {
            let parsed = manifest::parse(None, body.as_bytes());
            prop_assert!(parsed.is_ok(), "sizes never make a manifest unreadable: {body}");
            let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            let listed = json["layers"].as_array().map_or(0, Vec::len)
                + usize::from(!json["config"].is_null());
            match parsed.map(|manifest| manifest.blobs) {
                Ok(Blobs::Sized(blobs)) => {
                    prop_assert_eq!(blobs.len(), listed);
                    prop_assert!(blobs.iter().all(|blob| blob.size <= MAX_BYTES));
                }
                Ok(Blobs::Unsized(why)) => prop_assert!(!why.is_empty()),
                Ok(Blobs::NotHeld) => prop_assert!(false, "a manifest read holds its blobs"),
                Err(_) => {}
            }
        }

        #[test]
        fn the_challenge_parser_never_panics_and_never_yields_an_empty_realm(
            header in prop_oneof![
                any::<String>(),
                "(Bearer|bearer|Basic) [a-zA-Z]{0,6}=(\"[^\"]{0,12}\"?|[^,]{0,12})(,[a-z]{0,6}=\"?[^\"]{0,8}\"?){0,3}",
            ],
        ) {
            if let Some(parsed) = challenge::parse(&header) {
                prop_assert!(!parsed.realm.is_empty());
            }
        }

        #[test]
        fn a_trusted_realm_is_always_on_the_registrys_host(
            realm in prop_oneof![any::<String>(), "(https?|ftp)://[a-zA-Z0-9.@:\\[\\]]{0,20}(/[a-z]{0,5})?"],
            registry in prop_oneof![any::<String>(), "(https?)://[a-zA-Z0-9.:]{0,20}"],
        ) {
            if challenge::trust(&realm, &registry).is_ok() {
                let realm: http::Uri = realm.parse().expect("a trusted realm parses");
                let registry: http::Uri = registry.parse().expect("so does its registry");
                prop_assert!(realm.host().is_some_and(|host| registry
                    .host()
                    .is_some_and(|own| own.eq_ignore_ascii_case(host))));
                prop_assert!(
                    realm.scheme_str() == Some("https") || registry.scheme_str() == Some("http")
                );
            }
        }

        /// What the image graph deletes: a version with a tag that is not an artifact tag
        /// only when the policy itself selected it, a version whose manifest could not be
        /// read only when version-ids names it, and never a child of a kept readable index.
        #[test]
        fn the_image_graph_deletes_only_what_is_proven(
            (versions, manifests) in package(),
            tag_state in prop::sample::select(vec![TagState::Any, TagState::Tagged, TagState::Untagged]),
            named in prop::collection::btree_set(1u64..8, 0..3),
            use_ids in any::<bool>(),
            delete_orphans in any::<bool>(),
        ) {
            let policy = Policy {
                tag_state,
                version_ids: use_ids.then_some(named),
                ..Policy::default()
            };
            let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
            let planned = plan::plan(versions, &policy, PackageType::Container, Mode::Delete, now);
            let by_policy: BTreeSet<u64> = planned.selected().map(|p| p.version.id).collect();
            let rules = Rules { policy: &policy, now, delete_orphans };
            let adjusted = images::adjust(planned, &manifests, &rules);
            let acted: BTreeSet<u64> = adjusted.selected().map(|p| p.version.id).collect();
            let by_digest: HashMap<&str, &plan::PlannedVersion> =
                adjusted.versions.iter().map(|p| (p.version.name.as_str(), p)).collect();
            for planned in &adjusted.versions {
                let id = planned.version.id;
                let acting = planned.decision == Decision::Act;
                prop_assert_eq!(acting, acted.contains(&id));
                if acting && !may_be_artifact(&planned.version.tags) {
                    prop_assert!(by_policy.contains(&id), "release {id} deleted by the graph");
                }
                if acting && !matches!(manifests.get(&id), Some(Ok(_))) {
                    prop_assert!(
                        policy.version_ids.as_ref().is_some_and(|ids| ids.contains(&id)),
                        "unreadable {id} deleted without version-ids"
                    );
                }
                if let (false, Some(Ok(manifest))) = (acting, manifests.get(&id)) {
                    for child in &manifest.children {
                        if let Some(child) = by_digest.get(child.digest.as_str()) {
                            prop_assert_eq!(
                                child.decision, Decision::Keep,
                                "child {} of kept {}", child.version.id, id
                            );
                        }
                    }
                }
            }
        }

        /// The audit never panics on any graph, its orphans are exactly what a cleanup that
        /// keeps every image by `keep-latest` deletes with `delete-orphans`, no tag reaches
        /// an orphan, and every broken entry names a tag of its version.
        #[test]
        fn the_audit_never_panics_and_its_orphans_are_what_delete_orphans_deletes(
            (versions, manifests) in package(),
        ) {
            let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
            let found = audit::audit(versions.clone(), &manifests, now);
            let policy = Policy { keep_latest: 100, ..Policy::default() };
            let planned = plan::plan(versions.clone(), &policy, PackageType::Container, Mode::Delete, now);
            let rules = Rules { policy: &policy, now, delete_orphans: true };
            let cleanup: BTreeSet<u64> = images::adjust(planned, &manifests, &rules)
                .selected()
                .map(|p| p.version.id)
                .collect();
            let orphans: BTreeSet<u64> = found.orphans.iter().copied().collect();
            prop_assert_eq!(&orphans, &cleanup);
            prop_assert_eq!(found.counts.orphans, orphans.len());
            prop_assert_eq!(found.versions.len(), versions.len());
            for audited in &found.versions {
                if orphans.contains(&audited.version.id) {
                    prop_assert!(!audited.reachable, "orphan {} reached by a tag", audited.version.id);
                }
            }
            for broken in &found.broken {
                let version = versions.iter().find(|v| v.id == broken.id);
                prop_assert!(version.is_some_and(|v| v.tags.contains(&broken.tag)));
                prop_assert!(!broken.missing.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_is_logged_as_exactly_one_line_that_no_data_starts_and_no_token_shows(
        before in hostile_text(),
        after in hostile_text(),
        secret in "[A-Za-z0-9_]{20,40}",
        form in 0usize..6,
        kind in 0usize..3,
    ) {
        let token = format!("ghp_{secret}");
        let text = format!("{before}{}{after}", echoed(&token, form));
        let mut log = Log::new(Vec::new());
        log.redacting(Sanitizer::new(&token));
        match kind {
            0 => log.info(&text),
            1 => log.warning(&text),
            _ => log.error(&text),
        }
        let written = String::from_utf8(log.into_inner()).unwrap_or_default();
        let line = written.strip_suffix('\n').unwrap_or_default();
        prop_assert!(!line.contains(['\n', '\r']), "{written:?}");
        prop_assert!(!line.contains("##["), "{line:?}");
        prop_assert!(!shows_token(line, &token), "{line:?}");
        let start = line.trim_start();
        match kind {
            0 => prop_assert!(!start.starts_with("::"), "{line:?}"),
            1 => prop_assert!(line.starts_with("::warning::"), "{line:?}"),
            _ => prop_assert!(line.starts_with("::error::"), "{line:?}"),
        }
    }

    #[test]
    fn any_text_in_the_summary_stays_inside_its_cell_and_shows_no_html_or_token(
        before in hostile_text(),
        after in hostile_text(),
        secret in "[A-Za-z0-9_]{20,40}",
        form in 0usize..6,
    ) {
        let token = format!("ghp_{secret}");
        let text = format!("{before}{}{after}", echoed(&token, form));
        let clean = Sanitizer::new(&token);
        let cell = clean.markdown(&text);
        prop_assert!(!cell.contains(['\n', '\r', '<']), "{cell:?}");
        prop_assert!(!shows_token(&cell, &token), "{cell:?}");
        let unescaped_pipe = cell
            .char_indices()
            .any(|(at, ch)| ch == '|' && cell[..at].chars().rev().take_while(|c| *c == '\\').count() % 2 == 0);
        prop_assert!(!unescaped_pipe, "{cell:?}");
        let code = clean.code(&text);
        let inner = code
            .strip_prefix("<code>")
            .and_then(|rest| rest.strip_suffix("</code>"))
            .unwrap_or(&code);
        prop_assert!(!inner.contains(['\n', '\r', '<', '|']), "{code:?}");
        let value = clean.output_value(&text);
        prop_assert!(!value.contains(['\n', '\r']), "{value:?}");
        prop_assert!(!shows_token(&value, &token), "{value:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_in_any_variable_parse_or_fail_naming_an_input_and_never_show_a_token(
        environment in raw_environment(),
    ) {
        use package_janitor::config::InputError;
        use package_janitor::config::inputs::Variables;
        let known = |name: &str| {
            INPUTS.iter().any(|input| input.name == name)
                || ["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL"]
                    .contains(&name)
        };
        let tokens: Vec<String> = environment
            .iter()
            .filter(|(name, _)| name.to_str().is_some_and(|name| name.ends_with("TOKEN")))
            .filter_map(|(_, value)| value.to_str().map(str::trim).map(str::to_owned))
            .filter(|token| token.len() >= 4)
            .collect();
        let shown = match Variables::collect(environment, []) {
            Err(error) => {
                prop_assert!(known(&error.name), "{}", error.name);
                InputError::not_unicode(&error.name).to_string()
            }
            Ok(variables) => {
                for warning in &variables.warnings {
                    prop_assert!(warning.starts_with("`INPUT_"), "{warning}");
                }
                match Config::from_env(|name| variables.get(name)) {
                    Ok(_) => String::new(),
                    Err(error) => {
                        prop_assert!(known(error.input()), "{}", error.input());
                        error.to_string()
                    }
                }
            }
        };
        for token in tokens {
            prop_assert!(!shown.contains(&token), "a token leaked: {shown}");
        }
    }
}

/// `bytes` gzip-compressed, so the state parser gets past the gzip layer to the JSON.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("writing to a Vec");
    encoder.finish().expect("writing to a Vec")
}

/// JSON that looks almost like a run state, so decoding reaches the inner checks.
fn state_like() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        Just("0".to_string()),
        Just("2".to_string()),
        "[0-9]{1,20}",
        "-1"
    ];
    (number.clone(), number.clone(), number, "[a-z:/\\.]{0,12}", any::<bool>()).prop_map(
        |(format, id, pages, text, tagged)| {
            let tags = if tagged { r#"["v1"]"# } else { "[]" };
            let leaf = format!("sha256:{}", "a".repeat(64));
            format!(
                r#"{{"format":{format},"api":"https://api.github.com","owner":"acme","finished":["{text}"],
                   "packages":[{{"type":"container","name":"{text}","total":{id},"pages":[{pages},{pages}],
                   "versions":[[{id},"{text}",{tags},{id},{pages}]],
                   "manifests":[["{text}","{text}"],["{leaf}",null],["{leaf}","{{}}"]]}}]}}"#
            )
        },
    )
}

proptest! {
    #[test]
    fn the_state_parser_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        json in state_like(),
    ) {
        let api = "https://api.github.com";
        for input in [bytes.clone(), gzip(&bytes), gzip(json.as_bytes())] {
            if let Ok(state) = RunState::decode(&input, api, "acme") {
                prop_assert_eq!(state.owner.as_str(), "acme");
                let again = state.encode().expect("encoding a decoded state");
                prop_assert_eq!(RunState::decode(&again, api, "acme").ok(), Some(state));
            }
        }
    }
}

proptest! {
    #[test]
    fn the_tag_list_parser_never_panics_and_gives_only_tags(
        body in prop_oneof![
            any::<String>(),
            "\\{\"tags\":\\[(\"[a-zA-Z0-9_.\\-/?#%]{0,8}\",?){0,4}\\]\\}",
        ],
    ) {
        if let Ok(tags) = package_janitor::registry::tags::parse_tags(body.as_bytes()) {
            prop_assert!(tags.iter().all(|tag| package_janitor::registry::is_tag(tag)));
        }
    }

    #[test]
    fn a_link_gives_a_next_page_only_for_this_repository_and_only_a_tag(
        link in prop_oneof![
            any::<String>(),
            "<(https?://[a-z.]{1,8})?/v2/(acme/app|acme/other|token)/tags/list\\?(n=[0-9]{1,3}&)?last=[a-zA-Z0-9%._\\-/]{0,10}>; ?rel=\"?(next|prev)\"?",
        ],
    ) {
        if let Ok(Some(last)) = package_janitor::registry::tags::next_last(&link, "acme/app") {
            prop_assert!(package_janitor::registry::is_tag(&last), "{last}");
            prop_assert!(link.contains("/v2/acme/app/tags/list"), "{link}");
        }
    }
}

/// Storage figures (issue 23) over hostile input: a state file crafted with absurd blob
/// sizes and counts, and held blobs of any size, never overflow, stay bounded, and are
/// exact only over what was counted.
mod storage {
    use std::collections::{BTreeMap, HashMap, HashSet};
    use std::time::UNIX_EPOCH;

    use package_janitor::model::manifest::{Blob, Blobs, MAX_BLOBS, MAX_BYTES, Manifest};
    use package_janitor::model::version::{PackageType, Version};
    use package_janitor::policy::images::{ByDigest, Manifests, ReadHere};
    use package_janitor::policy::storage::{Held, Size};
    use package_janitor::state::{FORMAT, RunState};
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    const API: &str = "https://api.github.com";

    /// A size as a hostile manifest could write it.
    fn size() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            (0u64..1 << 20).prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::from(MAX_BYTES)),
            Just(serde_json::Value::from(MAX_BYTES + 1)),
            any::<i64>().prop_map(serde_json::Value::from),
            Just(serde_json::json!(1e300)),
            Just(serde_json::json!(0.5)),
        ]
    }

    /// How a crafted record saves its manifest.
    #[derive(Debug, Clone, Copy)]
    enum Kind {
        /// With a subject: saved whole, so what it stores is kept when its bytes prove.
        Artifact,
        /// Plain, with bytes: never written by this build.
        PlainWithBytes,
        /// Plain, by its digest alone (a claim).
        Claim,
    }

    /// One crafted manifest: its kind, and a layer count from a handful to past
    /// [`MAX_BLOBS`], each layer of one of four blobs, with its size.
    fn crafted() -> impl Strategy<Value = (Kind, Vec<(u8, serde_json::Value)>)> {
        let kind = prop_oneof![
            Just(Kind::Artifact),
            Just(Kind::PlainWithBytes),
            Just(Kind::Claim)
        ];
        let count = prop_oneof![8 => 0usize..6, 1 => (MAX_BLOBS - 1)..=(MAX_BLOBS + 1)];
        let layers = count.prop_flat_map(|count| {
            (
                prop::collection::vec(0u8..4, count),
                prop::collection::vec(size(), 1..4),
            )
                .prop_map(|(blobs, sizes)| {
                    blobs
                        .into_iter()
                        .enumerate()
                        .map(|(n, blob)| (blob, sizes[n % sizes.len()].clone()))
                        .collect()
                })
        });
        (kind, layers)
    }

    fn sha256(bytes: &[u8]) -> String {
        let hex: String = Sha256::digest(bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("sha256:{hex}")
    }

    /// The bytes of a crafted manifest: an image manifest whose layers are `layers`, with
    /// a subject for an artifact.
    fn manifest_bytes(n: usize, kind: Kind, layers: &[(u8, serde_json::Value)]) -> String {
        let layers: Vec<serde_json::Value> = layers
            .iter()
            .map(|(blob, size)| {
                serde_json::json!({"digest": format!("sha256:{}", format!("{blob:02x}").repeat(32)), "size": size})
            })
            .collect();
        let mut manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"digest": format!("sha256:{}", format!("{:02x}", 100 + n).repeat(32)), "size": 7},
            "layers": layers,
        });
        if matches!(kind, Kind::Artifact) {
            manifest["subject"] =
                serde_json::json!({"digest": format!("sha256:{}", "e".repeat(64)), "size": 1});
        }
        manifest.to_string()
    }

    /// Every blob size the figures hold is one a manifest could honestly give, and one
    /// manifest holds at most [`MAX_BLOBS`]; only bytes that prove to be the digest's give
    /// any; the figures over them never overflow and are exact only when nothing is
    /// held by digest alone.
    fn check_crafted(
        manifests: &[(Kind, Vec<(u8, serde_json::Value)>)],
        gone_mask: u8,
    ) -> Result<(), TestCaseError> {
        let mut records = Vec::new();
        let mut versions = Vec::new();
        for (n, (kind, layers)) in manifests.iter().enumerate() {
            let bytes = manifest_bytes(n, *kind, layers);
            let digest = sha256(bytes.as_bytes());
            let saved = match kind {
                Kind::Claim => serde_json::Value::Null,
                Kind::Artifact | Kind::PlainWithBytes => serde_json::Value::from(bytes),
            };
            records.push(serde_json::json!([digest, saved]));
            versions.push(serde_json::json!([
                n + 1,
                digest,
                null,
                1_700_000_000u64,
                1_700_000_000u64
            ]));
        }
        // Written out in the saved order: a package's type and name come before its
        // records (`json!` would sort the keys).
        let json = format!(
            r#"{{"format":{FORMAT},"api":"{API}","owner":"acme","finished":[],"packages":[{{"type":"container","name":"app","total":{},"pages":[1,1],"versions":{},"manifests":{}}}]}}"#,
            versions.len(),
            serde_json::Value::from(versions),
            serde_json::Value::from(records),
        );
        let state = RunState::decode(&super::gzip(json.as_bytes()), API, "acme")
            .map_err(|why| TestCaseError::fail(format!("not decoded: {why}")))?;
        let package = state
            .package(PackageType::Container, "app")
            .ok_or_else(|| TestCaseError::fail("no package"))?;
        let known = &package.manifests;
        for (version, (kind, _)) in package.versions.iter().zip(manifests) {
            match (known.blobs(&version.name), kind) {
                (Some(Blobs::Sized(blobs)), Kind::Artifact) => {
                    prop_assert!(blobs.len() <= MAX_BLOBS);
                    prop_assert!(blobs.iter().all(|blob| blob.size <= MAX_BYTES));
                }
                (Some(Blobs::Unsized(why)), Kind::Artifact) => prop_assert!(!why.is_empty()),
                (Some(Blobs::NotHeld), Kind::PlainWithBytes | Kind::Claim) => {}
                (other, kind) => prop_assert!(false, "{kind:?} gave {other:?}"),
            }
        }
        let unreadable = HashMap::new();
        let lookup = ByDigest {
            known,
            unreadable: &unreadable,
        };
        let held = Held::new(&package.versions, &lookup, ReadHere::default());
        let gone: HashSet<u64> = package
            .versions
            .iter()
            .filter(|version| gone_mask & (1 << (version.id % 8)) != 0)
            .map(|version| version.id)
            .collect();
        let storage = held.cleanup(&gone);
        for figure in [storage.freed, storage.kept] {
            prop_assert!(figure.counted().is_none_or(|bytes| bytes <= MAX_BYTES));
        }
        let kept_claim = package
            .versions
            .iter()
            .zip(manifests)
            .any(|(version, (kind, _))| {
                !gone.contains(&version.id) && !matches!(kind, Kind::Artifact)
            });
        if kept_claim {
            prop_assert_eq!(storage.kept, Size::Unknown);
        }
        Ok(())
    }

    /// A held version: its blobs as (blob, size), or why they are not counted.
    #[derive(Debug, Clone)]
    enum HeldVersion {
        Sized(Vec<(u8, u64)>),
        Unsized,
        NotHeld,
        Unreadable,
    }

    fn held_version() -> impl Strategy<Value = HeldVersion> {
        let blob_size = prop_oneof![
            0u64..1_000,
            Just(MAX_BYTES),
            Just(MAX_BYTES / 2 + 1),
            Just(u64::MAX),
            any::<u64>(),
        ];
        prop_oneof![
            6 => prop::collection::vec((0u8..6, blob_size), 0..5).prop_map(HeldVersion::Sized),
            1 => Just(HeldVersion::Unsized),
            1 => Just(HeldVersion::NotHeld),
            1 => Just(HeldVersion::Unreadable),
        ]
    }

    /// The bytes of the distinct blobs `versions` list, if every one is counted, gives one
    /// size to each blob, and the sum is at most [`MAX_BYTES`]: what an exact figure must be.
    fn reference<'a>(versions: impl Iterator<Item = &'a HeldVersion>) -> Option<BTreeMap<u8, u64>> {
        let mut sizes = BTreeMap::new();
        for version in versions {
            let HeldVersion::Sized(blobs) = version else {
                return None;
            };
            for (blob, size) in blobs {
                if *sizes.entry(*blob).or_insert(*size) != *size {
                    return None;
                }
            }
        }
        Some(sizes)
    }

    fn total(sizes: impl Iterator<Item = u64>) -> Option<u64> {
        let sum: u128 = sizes.map(u128::from).sum();
        u64::try_from(sum).ok().filter(|sum| *sum <= MAX_BYTES)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn a_crafted_state_files_blob_sizes_and_counts_are_bounded_and_proven_or_not_counted(
            manifests in prop::collection::vec(crafted(), 1..5),
            gone_mask in any::<u8>(),
        ) {
            check_crafted(&manifests, gone_mask)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn storage_figures_never_overflow_and_are_exact_only_over_what_was_counted(
            held in prop::collection::vec(held_version(), 0..10),
            gone_mask in any::<u16>(),
            from_state in any::<bool>(),
        ) {
            let versions: Vec<Version> = (0..held.len() as u64)
                .map(|id| Version {
                    id,
                    name: format!("sha256:{id:064x}"),
                    tags_known: true,
                    tags: Vec::new(),
                    created_at: UNIX_EPOCH,
                    updated_at: UNIX_EPOCH,
                    deleted_at: None,
                })
                .collect();
            let manifests: Manifests = held
                .iter()
                .enumerate()
                .map(|(id, version)| {
                    let blobs = match version {
                        HeldVersion::Sized(blobs) => Blobs::Sized(
                            blobs
                                .iter()
                                .map(|(blob, size)| Blob { id: [*blob; 16], size: *size })
                                .collect(),
                        ),
                        HeldVersion::Unsized => Blobs::Unsized("its layer claims -1 bytes".into()),
                        HeldVersion::NotHeld => Blobs::NotHeld,
                        HeldVersion::Unreadable => return (id as u64, Err("500".to_string())),
                    };
                    (id as u64, Ok(Manifest { blobs, ..Manifest::default() }))
                })
                .collect();
            let is_gone = |id: usize| gone_mask & (1 << id) != 0;
            let gone: HashSet<u64> = (0..held.len()).filter(|id| is_gone(*id)).map(|id| id as u64).collect();
            let confirmed: HashSet<u64> = HashSet::new();
            let read = ReadHere {
                confirmed: from_state.then_some(&confirmed),
                unlisted: &[],
            };
            let storage = Held::new(&versions, &manifests, read).cleanup(&gone);
            for figure in [storage.freed, storage.kept] {
                prop_assert!(figure.counted().is_none_or(|bytes| bytes <= MAX_BYTES), "{figure:?}");
            }
            if gone.is_empty() {
                prop_assert_eq!(storage.freed, Size::Exact(0));
            } else if from_state {
                prop_assert_eq!(storage.freed, Size::Unknown);
            }
            if from_state {
                prop_assert_eq!(storage.kept, Size::Unknown);
            }
            let kept = held.iter().enumerate().filter(|(id, _)| !is_gone(*id)).map(|(_, v)| v);
            if let Size::Exact(bytes) = storage.kept {
                let sizes = reference(kept);
                prop_assert!(sizes.is_some(), "exact over what was not counted");
                let sizes = sizes.unwrap_or_default();
                prop_assert_eq!(Some(bytes), total(sizes.values().copied()));
            }
            if let (Size::Exact(bytes), false) = (storage.freed, gone.is_empty()) {
                let all = reference(held.iter());
                prop_assert!(all.is_some(), "exact over what was not counted");
                let kept_blobs: BTreeMap<u8, u64> = reference(
                    held.iter().enumerate().filter(|(id, _)| !is_gone(*id)).map(|(_, v)| v),
                ).unwrap_or_default();
                let gone_blobs = reference(held.iter().enumerate().filter(|(id, _)| is_gone(*id)).map(|(_, v)| v)).unwrap_or_default();
                let freed = gone_blobs
                    .iter()
                    .filter(|(blob, _)| !kept_blobs.contains_key(*blob))
                    .map(|(_, size)| *size);
                prop_assert_eq!(Some(bytes), total(freed));
            }
        }
    }
}

/// The plan file (`plan-file`) is outside data once it travels as an artifact: its parser
/// reads back exactly what a dry run wrote, refuses any change that breaks a bound or
/// disagrees with another field, and never panics; its Markdown stays bounded and shows
/// hostile text as text.
mod plan_files {
    use std::collections::{BTreeMap, HashSet};

    use package_janitor::model::plan_file::{
        Kept, KeptRow, MAX_LIFETIME, PlanEntry, PlanFile, PlannedPackage, PolicyInputs, RuleInputs,
        Scope,
    };
    use package_janitor::report::plan::{MARKER, MAX_MARKDOWN_BYTES, render};
    use serde_json::Value;

    use super::*;

    /// A time in whole seconds, as a plan writes them.
    fn whole_time() -> impl Strategy<Value = SystemTime> {
        (0..u64::from(u32::MAX)).prop_map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
    }

    fn short_hostile() -> impl Strategy<Value = String> {
        hostile_text().prop_map(|text| text.chars().take(60).collect())
    }

    fn tags() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(short_hostile(), 0..4).prop_map(|tags| {
            let mut seen = HashSet::new();
            tags.into_iter()
                .filter(|tag| !tag.is_empty() && seen.insert(tag.clone()))
                .collect()
        })
    }

    fn policy_inputs() -> impl Strategy<Value = PolicyInputs> {
        let state = || prop::sample::select(vec!["any", "tagged", "untagged"]);
        let rule = (
            prop::option::of(short_hostile()),
            prop::option::of(short_hostile()),
            state(),
            0u64..5,
        )
            .prop_map(|(name, tag_regex, tag_state, keep_latest)| RuleInputs {
                name,
                tag_regex,
                tag_state: tag_state.into(),
                keep_latest,
                older_than: Some("14days".into()),
                ..RuleInputs::default()
            });
        (
            prop::option::of(short_hostile()),
            prop::option::of(prop::sample::select(vec![
                "1day",
                "14days",
                "1year 2months",
            ])),
            state(),
            any::<u64>(),
            prop::collection::vec(rule, 0..3),
            prop::option::of(prop::collection::btree_set(1u64..1_000, 0..4)),
            any::<bool>(),
            (
                prop::sample::select(vec!["pushed", "version"]),
                prop::option::of(prop::collection::vec(short_hostile(), 1..3)),
            ),
        )
            .prop_map(
                |(
                    tag_regex,
                    older_than,
                    tag_state,
                    keep_latest,
                    rules,
                    ids,
                    orphans,
                    (order_by, keep_referenced),
                )| {
                    PolicyInputs {
                        tag_regex,
                        exclude_tag_regex: None,
                        older_than: older_than.map(str::to_owned),
                        tag_state: tag_state.into(),
                        keep_latest,
                        order_by: order_by.into(),
                        rules,
                        version_ids: ids.map(|ids| ids.into_iter().collect()),
                        keep_referenced,
                        delete_orphans: orphans,
                        delete_empty_packages: !orphans,
                    }
                },
            )
    }

    /// One package's raw pieces: entries (tags, a parent among the earlier ones), kept
    /// counts by reason, kept rows, and what is not counted.
    type RawPackage = (
        Vec<(Vec<String>, Option<usize>, String)>,
        BTreeMap<String, u64>,
        usize,
        u64,
        u64,
        bool,
        Option<String>,
    );

    fn raw_package() -> impl Strategy<Value = RawPackage> {
        (
            prop::collection::vec((tags(), prop::option::of(0usize..8), short_hostile()), 0..8),
            prop::collection::btree_map(short_hostile(), 0u64..5, 0..3),
            0usize..4,
            0u64..3,
            0u64..3,
            any::<bool>(),
            prop::option::of(short_hostile()),
        )
    }

    /// A plan valid by construction, with hostile text wherever the format allows text.
    fn plan_file() -> impl Strategy<Value = PlanFile> {
        (
            whole_time(),
            1u64..=MAX_LIFETIME.as_secs(),
            "[A-Za-z0-9][A-Za-z0-9-]{0,20}",
            prop::sample::select(PackageType::ALL.to_vec()),
            prop::collection::vec("[a-z0-9*._-]{1,12}", 1..4),
            policy_inputs(),
            prop::collection::vec(raw_package(), 0..4),
            whole_time(),
        )
            .prop_map(
                |(made_at, lifetime, owner, package_type, inputs, policy, raw, at)| {
                    let mut next_id = 1u64;
                    let packages = raw
                        .into_iter()
                        .enumerate()
                        .map(|(number, raw)| {
                            planned_package(number, raw, package_type, at, &mut next_id)
                        })
                        .collect();
                    PlanFile {
                        made_at,
                        expires_at: made_at + Duration::from_secs(lifetime),
                        owner,
                        api_url: "https://api.github.com".into(),
                        registry_url: "https://ghcr.io".into(),
                        package_type,
                        mode: Mode::Delete,
                        packages_input: inputs,
                        policy,
                        packages,
                    }
                },
            )
    }

    fn planned_package(
        number: usize,
        (raw_entries, by_reason, rows, extra, left, whole, not_planned): RawPackage,
        package_type: PackageType,
        at: SystemTime,
        next_id: &mut u64,
    ) -> PlannedPackage {
        let mut delete: Vec<PlanEntry> = Vec::new();
        if not_planned.is_none() {
            for (tags, parent, reason) in raw_entries {
                let id = *next_id;
                *next_id += 1;
                let parent = parent
                    .and_then(|at| delete.get(at))
                    .map(|entry| entry.version.id);
                delete.push(PlanEntry {
                    scope: Scope::Version,
                    version: Version {
                        id,
                        name: if package_type.has_tags() {
                            format!("sha256:{id:064x}")
                        } else {
                            format!("1.0.{id}")
                        },
                        tags: if package_type.has_tags() {
                            tags
                        } else {
                            Vec::new()
                        },
                        tags_known: true,
                        created_at: at,
                        updated_at: at,
                        deleted_at: None,
                    },
                    reason,
                    rule: Some("#1".into()),
                    parent_id: parent,
                    role: parent.map(|_| "platform manifest linux/amd64".into()),
                });
            }
        }
        let whole = whole && not_planned.is_none() && !delete.is_empty();
        let by_reason = if whole { BTreeMap::new() } else { by_reason };
        let total: u64 = by_reason.values().sum();
        let versions = (0..rows.min(total as usize))
            .map(|row| {
                let id = *next_id;
                *next_id += 1;
                KeptRow {
                    id,
                    name: format!("kept-{row}"),
                    tags: Vec::new(),
                    updated_at: at,
                    reason: "updated more recently than older-than".into(),
                }
            })
            .collect();
        let listed = delete.len() as u64 + total + if whole { 0 } else { extra };
        PlannedPackage {
            name: format!("package-{number}"),
            listed,
            whole,
            not_planned,
            delete,
            kept: Kept {
                total,
                by_reason,
                versions,
            },
            left,
        }
    }

    /// Every place in a JSON value, as a path of keys and indexes.
    fn paths(value: &Value, here: Vec<Value>, all: &mut Vec<Vec<Value>>) {
        all.push(here.clone());
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let mut path = here.clone();
                    path.push(Value::from(key.as_str()));
                    paths(child, path, all);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    let mut path = here.clone();
                    path.push(Value::from(index));
                    paths(child, path, all);
                }
            }
            _ => {}
        }
    }

    fn at_path<'a>(value: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
        path.iter().try_fold(value, |value, step| match step {
            Value::String(key) => value.get_mut(key.as_str()),
            Value::Number(index) => value.get_mut(usize::try_from(index.as_u64()?).ok()?),
            _ => None,
        })
    }

    fn json_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            hostile_text().prop_map(Value::from),
            Just(Value::from("sha256:0")),
            Just(Value::from("2026-01-02T03:04:05Z")),
            Just(serde_json::json!([])),
            Just(serde_json::json!({})),
            Just(serde_json::json!([1, 1])),
        ]
    }

    /// What every plan the parser accepts holds, whatever file it came from.
    fn assert_bounded(plan: &PlanFile) -> Result<(), TestCaseError> {
        let lifetime = plan.expires_at.duration_since(plan.made_at);
        prop_assert!(lifetime.is_ok_and(|life| !life.is_zero() && life <= MAX_LIFETIME));
        prop_assert_eq!(plan.mode, Mode::Delete);
        let mut ids = HashSet::new();
        for package in &plan.packages {
            prop_assert!(
                package.delete.len() as u64 + package.kept.total <= package.listed,
                "{} deletes and keeps more than it listed",
                package.name
            );
            prop_assert!(package.not_planned.is_none() || package.delete.is_empty());
            for entry in &package.delete {
                prop_assert!(entry.version.id > 0 && ids.insert(entry.version.id));
                prop_assert!(!entry.version.name.is_empty());
                prop_assert!(plan.package_type.has_tags() || entry.version.tags.is_empty());
                let own: HashSet<u64> = package.delete.iter().map(|e| e.version.id).collect();
                prop_assert!(entry.parent_id.is_none_or(|parent| own.contains(&parent)));
            }
        }
        Ok(())
    }

    /// Whether `markdown` holds HTML that the renderer did not write itself.
    fn foreign_html(markdown: &str) -> bool {
        let ours = [
            MARKER,
            "<details>",
            "</details>",
            "<summary>",
            "</summary>",
            "<code>",
            "</code>",
        ];
        let mut rest = markdown.to_owned();
        for tag in ours {
            rest = rest.replace(tag, "");
        }
        rest.contains('<')
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_plan_reads_back_exactly_as_it_was_written(plan in plan_file()) {
            let read = PlanFile::from_json(&plan.to_json());
            prop_assert_eq!(read, Ok(plan));
        }

        #[test]
        fn a_plan_changed_in_any_one_place_is_refused_or_read_within_every_bound(
            plan in plan_file(),
            place in any::<prop::sample::Index>(),
            replacement in json_value(),
        ) {
            let mut value: Value = serde_json::from_slice(&plan.to_json()).expect("JSON");
            let mut all = Vec::new();
            paths(&value, Vec::new(), &mut all);
            let path = place.get(&all).clone();
            if let Some(slot) = at_path(&mut value, &path) {
                *slot = replacement;
            }
            if let Ok(read) = PlanFile::from_json(value.to_string().as_bytes()) {
                assert_bounded(&read)?;
                prop_assert_eq!(read.fingerprint(), read.policy.fingerprint());
                prop_assert_eq!(PlanFile::from_json(&read.to_json()), Ok(read));
            }
        }

        #[test]
        fn the_plan_parser_never_panics_on_any_bytes(
            bytes in prop::collection::vec(any::<u8>(), 0..512),
            text in hostile_text(),
        ) {
            for input in [bytes, text.into_bytes()] {
                if let Ok(plan) = PlanFile::from_json(&input) {
                    assert_bounded(&plan)?;
                }
            }
        }

        #[test]
        fn any_plans_markdown_is_bounded_shows_no_foreign_html_and_adds_no_cell(
            plan in plan_file(),
            secret in "[A-Za-z0-9_]{20,40}",
        ) {
            let token = format!("ghp_{secret}");
            let mut plan = plan;
            if let Some(entry) = plan.packages.iter_mut().flat_map(|p| &mut p.delete).next() {
                entry.reason = format!("echoes {token}");
            }
            let markdown = render(&plan, &Sanitizer::new(&token));
            prop_assert!(markdown.len() <= MAX_MARKDOWN_BYTES, "{} bytes", markdown.len());
            prop_assert!(markdown.starts_with(MARKER));
            prop_assert!(!foreign_html(&markdown), "{markdown}");
            prop_assert!(!markdown.contains(&token));
            for line in markdown.lines().filter(|line| line.starts_with('|')) {
                let cells = line
                    .char_indices()
                    .filter(|(at, ch)| {
                        *ch == '|'
                            && line[..*at].chars().rev().take_while(|c| *c == '\\').count() % 2 == 0
                    })
                    .count();
                prop_assert_eq!(cells, 5, "{}", line);
            }
        }
    }
}

/// `untag` and `restore-tags`: the split never deletes more nor touches what the policy
/// keeps, and the parsers of what comes from outside (the `restore-tags` value, manifest
/// bytes from the registry) never panic and let through only what they promise.
mod untag {
    use std::collections::{BTreeSet, HashSet};
    use std::time::{Duration, UNIX_EPOCH};

    use package_janitor::config::PackageSelector;
    use package_janitor::config::restore_tags;
    use package_janitor::model::image::tag_subject;
    use package_janitor::model::manifest::Manifest;
    use package_janitor::model::mode::Mode;
    use package_janitor::model::version::{PackageType, Version};
    use package_janitor::policy::images::{self, Manifests, Rules};
    use package_janitor::policy::plan::{self, Decision, Plan};
    use package_janitor::policy::rules::Policy;
    use package_janitor::policy::untag::{keep_by_other_tags, tags_to_remove};
    use package_janitor::registry::placeholder;
    use proptest::prelude::*;
    use regex::Regex;

    fn digest(id: u64) -> String {
        format!("sha256:{id:064x}")
    }

    /// Tags drawn so that sha builds, releases, artifact tags and duplicates all occur.
    fn tags(n: u64) -> impl Strategy<Value = Vec<String>> {
        let tag = prop_oneof![
            (1..=n).prop_map(|id| format!("sha-{id}")),
            (1..=n).prop_map(|id| format!("v1.{id}.0")),
            (1..=n).prop_map(|id| format!("sha256-{id:064x}.sig")),
            Just("latest".to_string()),
        ];
        prop::collection::btree_set(tag, 0..4).prop_map(|tags| tags.into_iter().collect())
    }

    fn package() -> impl Strategy<Value = Vec<Version>> {
        (1u64..9).prop_flat_map(|n| {
            (1..=n)
                .map(|id| {
                    (tags(n), 0u64..60, any::<bool>()).prop_map(move |(tags, age, known)| {
                        let at = UNIX_EPOCH + Duration::from_secs(100 * 86_400 - age * 86_400);
                        Version {
                            id,
                            name: digest(id),
                            tags,
                            tags_known: known || id % 2 == 0,
                            created_at: at,
                            updated_at: at,
                            deleted_at: None,
                        }
                    })
                })
                .collect::<Vec<_>>()
        })
    }

    fn policy() -> impl Strategy<Value = Policy> {
        let regex = |patterns: Vec<&'static str>| {
            prop::option::of(prop::sample::select(patterns))
                .prop_map(|pattern| pattern.map(|p| Regex::new(p).expect("regex")))
        };
        (
            regex(vec!["^sha-", "^v1", "sha", "^latest$"]),
            regex(vec!["^v1\\.1\\.", "^latest$"]),
            prop::option::of(prop::sample::select(vec![0u64, 20, 40])),
            0usize..3,
        )
            .prop_map(
                |(tag_regex, exclude_tag_regex, older, keep_latest)| Policy {
                    tag_regex,
                    exclude_tag_regex,
                    older_than: older.map(|days| Duration::from_secs(days * 86_400)),
                    keep_latest,
                    ..Policy::default()
                },
            )
    }

    /// A container delete plan over plain images, with or without the untag split.
    fn planned(versions: Vec<Version>, policy: &Policy, untag: bool) -> Plan {
        let now = UNIX_EPOCH + Duration::from_secs(100 * 86_400);
        let read: Manifests = versions
            .iter()
            .map(|v| (v.id, Ok(Manifest::default())))
            .collect();
        let plan = plan::plan(versions, policy, PackageType::Container, Mode::Delete, now);
        let top_level = images::top_level_images(&plan, &read, &[]);
        let plan = plan::plan_images(
            plan,
            policy,
            PackageType::Container,
            Mode::Delete,
            now,
            &top_level,
            None,
        );
        let plan = if untag {
            keep_by_other_tags(plan, policy, PackageType::Container, now, &read)
        } else {
            plan
        };
        let rules = Rules {
            policy,
            now,
            delete_orphans: false,
        };
        images::adjust(plan, &read, &rules)
    }

    /// A `restore-tags` value: arbitrary text, JSON of the right shape with arbitrary
    /// strings, or valid entries.
    fn restore_value() -> impl Strategy<Value = String> {
        let text = prop_oneof![
            any::<String>(),
            "[a-zA-Z0-9_.-]{0,8}",
            "sha256:[0-9a-fA-F]{60,66}",
            Just("app".to_string()),
        ];
        let entry = (prop::option::of(text.clone()), text.clone(), text).prop_map(
            |(package, tag, digest)| {
                let mut entry = serde_json::json!({"tag": tag, "digest": digest});
                if let Some(package) = package {
                    entry["package"] = package.into();
                }
                entry
            },
        );
        prop_oneof![
            any::<String>(),
            prop::collection::vec(entry, 0..4)
                .prop_map(|entries| serde_json::json!(entries).to_string()),
        ]
    }

    fn is_tag(tag: &str) -> bool {
        Regex::new("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
            .expect("regex")
            .is_match(tag)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// With `untag`, the run deletes no version it would keep without it, takes tags
        /// only off versions the policy selected (never one it keeps), keeps every such
        /// version, never removes an artifact tag or an image's last tag, and never touches
        /// a version whose tags are unknown.
        #[test]
        fn untag_never_deletes_more_nor_touches_what_the_policy_keeps(
            versions in package(),
            policy in policy(),
        ) {
            let plain = planned(versions.clone(), &policy, false);
            let split = planned(versions.clone(), &policy, true);
            let plain_acted: BTreeSet<u64> = plain.selected().map(|p| p.version.id).collect();
            let split_acted: BTreeSet<u64> = split.selected().map(|p| p.version.id).collect();
            prop_assert!(split_acted.is_subset(&plain_acted), "{split_acted:?} ⊄ {plain_acted:?}");
            let mut split_ids = HashSet::new();
            for (planned, removed) in tags_to_remove(&split) {
                let id = planned.version.id;
                split_ids.insert(id);
                prop_assert!(plain_acted.contains(&id), "tags taken off {id}, which the policy keeps");
                prop_assert_eq!(planned.decision, Decision::Keep);
                prop_assert!(planned.version.tags_known);
                prop_assert!(!removed.is_empty());
                prop_assert!(removed.len() < planned.version.tags.len(), "{id} loses its last tag");
                for tag in removed {
                    prop_assert!(planned.version.tags.contains(tag));
                    prop_assert!(tag_subject(tag).is_none(), "artifact tag {tag} removed");
                }
            }
            // Whatever untag keeps that the plain plan deletes is an image that loses tags,
            // or went with one in the plain plan (its platforms, its signature).
            let mut explained = split_ids.clone();
            loop {
                let grown: Vec<u64> = plain
                    .versions
                    .iter()
                    .filter(|p| !explained.contains(&p.version.id))
                    .filter(|p| p.relation.as_ref().is_some_and(|relation| {
                        relation.parents.iter().any(|parent| explained.contains(parent))
                    }))
                    .map(|p| p.version.id)
                    .collect();
                if grown.is_empty() {
                    break;
                }
                explained.extend(grown);
            }
            for id in plain_acted.difference(&split_acted) {
                prop_assert!(explained.contains(id), "{id} kept without losing a tag");
            }
        }

        /// The `restore-tags` parser never panics; what it accepts is an OCI tag on a
        /// lower-case sha256 digest, for a package the run names, at most 10,000 of them.
        #[test]
        fn the_restore_tags_parser_accepts_only_tags_on_digests_of_named_packages(
            value in restore_value(),
            several in any::<bool>(),
        ) {
            let mut packages = vec![PackageSelector::Exact("app".to_string())];
            if several {
                packages.push(PackageSelector::Exact("lib".to_string()));
            }
            if let Ok(entries) = restore_tags::parse(&value, &packages) {
                prop_assert!(entries.len() <= restore_tags::MAX_TAGS);
                for entry in entries {
                    prop_assert!(is_tag(&entry.tag), "{:?}", entry.tag);
                    let hex = entry.digest.strip_prefix("sha256:").unwrap_or_default();
                    prop_assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                    match entry.package.as_deref() {
                        Some(name) => prop_assert!(name == "app" || (several && name == "lib")),
                        None => prop_assert!(!several),
                    }
                }
            }
        }

        /// Any bytes from the registry: reading them as a placeholder never panics, and a
        /// placeholder made for any tag and run reads back as made for that tag, with a
        /// digest that tells it apart from one for another tag.
        #[test]
        fn placeholders_name_their_tag_and_any_bytes_are_read_safely(
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            tag in "[A-Za-z0-9_][A-Za-z0-9._-]{0,20}",
            other in "[A-Za-z0-9_][A-Za-z0-9._-]{0,20}",
            run in any::<String>(),
            kind in prop::sample::select(placeholder::MEDIA_TYPES.to_vec()),
        ) {
            let _ = placeholder::placeholder_tag(&bytes);
            let made = placeholder::placeholder(kind, &tag, &run).expect("a known media type");
            prop_assert_eq!(placeholder::placeholder_tag(&made.bytes), Some(tag.clone()));
            prop_assert_eq!(placeholder::sha256(&made.bytes), made.digest.clone());
            if other != tag {
                let another = placeholder::placeholder(kind, &other, &run).expect("known");
                prop_assert_ne!(another.digest, made.digest);
            }
        }
    }
}
