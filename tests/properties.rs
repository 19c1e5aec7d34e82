//! Property tests: arbitrary strings into every input, arbitrary version lists and policies
//! into the planner. Nothing panics; bad inputs give clear errors; plans keep their promises.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use package_janitor::config::{Config, Mode, Policy, TagState};
use package_janitor::model::version::{PackageType, Version};
use package_janitor::policy::plan::{self, Decision, Reason};
use package_janitor::state::RunState;
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
    ("INPUT_STATE-FILE", "state-file"),
    ("GITHUB_REPOSITORY_OWNER", "owner"),
    ("GITHUB_API_URL", "GITHUB_API_URL"),
    ("PACKAGE_JANITOR_RETRY_BASE", "PACKAGE_JANITOR_RETRY_BASE"),
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
            .map(|((name, tags, updated_at, deleted_at), id)| Version {
                id,
                name,
                tags,
                created_at: updated_at,
                updated_at,
                deleted_at,
            })
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
    in_ids && not_excluded && state && matches && old_enough && deleted_within
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
        Just("1".to_string()),
        "[0-9]{1,20}",
        "-1"
    ];
    (number.clone(), number.clone(), number, "[a-z:/\\.]{0,12}", any::<bool>()).prop_map(
        |(format, id, pages, text, tagged)| {
            let tags = if tagged { r#"["v1"]"# } else { "[]" };
            format!(
                r#"{{"format":{format},"api":"https://api.github.com","owner":"acme","finished":["{text}"],
                   "packages":[{{"type":"container","name":"{text}","total":{id},"pages":[{pages},{pages}],
                   "versions":[[{id},"{text}",{tags},{id},{pages}]],
                   "manifests":[["{text}",true,[["{text}",null,"{text}",null]],null,"{text}"]]}}]}}"#
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
