//! Property tests: arbitrary strings into every input, arbitrary version lists and policies
//! into the planner. Nothing panics; bad inputs give clear errors; plans keep their promises.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use package_janitor::config::{Config, Mode, Policy, Rule, TagState};
use package_janitor::model::version::{PackageType, Version};
use package_janitor::policy::plan::{self, Decision, Reason};
use proptest::prelude::*;
use regex::Regex;

/// Every variable `Config::from_env` reads, and the name its errors give it.
const VARIABLES: &[(&str, &str)] = &[
    ("INPUT_OWNER", "owner"),
    ("INPUT_PACKAGE-TYPE", "package-type"),
    ("INPUT_PACKAGES", "packages"),
    ("INPUT_MODE", "mode"),
    ("INPUT_TAG-REGEX", "tag-regex"),
    ("INPUT_EXCLUDE-TAG-REGEX", "exclude-tag-regex"),
    ("INPUT_OLDER-THAN", "older-than"),
    ("INPUT_TAG-STATE", "tag-state"),
    ("INPUT_KEEP-LATEST", "keep-latest"),
    ("INPUT_VERSION-IDS", "version-ids"),
    ("INPUT_DELETED-WITHIN", "deleted-within"),
    ("INPUT_MAX-VERSIONS", "max-versions"),
    ("INPUT_DRY-RUN", "dry-run"),
    ("INPUT_POINTS-PER-MINUTE", "points-per-minute"),
    ("INPUT_MUTATION-INTERVAL", "mutation-interval"),
    ("INPUT_RATE-LIMIT-WAIT", "rate-limit-wait"),
    ("INPUT_REGISTRY-URL", "registry-url"),
    ("INPUT_DELETE-ORPHANS", "delete-orphans"),
    ("INPUT_RULES", "rules"),
    ("GITHUB_REPOSITORY_OWNER", "owner"),
    ("GITHUB_API_URL", "GITHUB_API_URL"),
    ("PACKAGE_JANITOR_RETRY_BASE", "PACKAGE_JANITOR_RETRY_BASE"),
    (
        "PACKAGE_JANITOR_REQUEST_DEADLINE",
        "PACKAGE_JANITOR_REQUEST_DEADLINE",
    ),
];

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
        values in prop::collection::vec(value(), VARIABLES.len()),
        token in "[A-Za-z0-9]{12,20}",
    ) {
        let token = format!("ghp_{token}");
        let mut env: HashMap<String, String> = VARIABLES
            .iter()
            .zip(values)
            .filter_map(|((name, _), value)| value.map(|value| (name.to_string(), value)))
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
                    VARIABLES.iter().any(|(_, input)| *input == error.input()),
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
                    version_ids: ids.map(|ids| ids.into_iter().collect()),
                    deleted_within,
                    rules: Vec::new(),
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
        version_ids: policy.version_ids.clone(),
        deleted_within: policy.deleted_within,
        rules: Vec::new(),
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
            plan = plan::plan_images(plan, &policy, package_type, mode, now, &images);
        }
        let is_image = |id: u64| images.as_ref().is_none_or(|images| images.contains(&id));

        // Each rule ranks its own matches, newest first, per group.
        let mut newest_first = versions.clone();
        newest_first.sort_by_key(|v| std::cmp::Reverse((v.updated_at, v.id)));
        let mut kept: HashSet<u64> = HashSet::new();
        let mut matched: HashSet<u64> = HashSet::new();
        for (index, rule) in policy.rules.iter().enumerate() {
            let mut slots: HashMap<Option<String>, usize> = HashMap::new();
            let (mut matches, mut kept_here) = (0, 0);
            for version in &newest_first {
                let Some(group) = rule_match(version, rule, &policy, package_type, mode) else {
                    continue;
                };
                matches += 1;
                matched.insert(version.id);
                let taken = slots.entry(group).or_insert(0);
                if is_image(version.id) && *taken < rule.keep_latest {
                    *taken += 1;
                    kept_here += 1;
                    kept.insert(version.id);
                }
            }
            let tally = &plan.rules[index];
            prop_assert_eq!(tally.matched, matches, "rule {}", index + 1);
            prop_assert_eq!(tally.kept, kept_here, "rule {}", index + 1);
            prop_assert_eq!(tally.selected, matches - kept_here, "rule {}", index + 1);
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
