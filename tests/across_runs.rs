//! Property tests of rules that span two runs, over random histories of pushes, retags, tag
//! moves, deletes and restores between them:
//! - issue 19, "decide on what this run read": the run that carries on from the first run's
//!   state never acts on a version that a run without the state file would keep;
//! - issue 21, "apply exactly the reviewed plan": the run that applies a dry run's plan
//!   deletes only versions the plan names, each unchanged since, and selected today.
//!
//! Both runs are the real listing and planning code: [`resume::list`] and
//! [`resume::confirm`] read pages from a model of the package (through
//! [`resume::Source`], with a budget), the listing merge and page finding are
//! `src/run/listing.rs` (through [`resume::Listing`]), the registry's tags are applied with
//! [`sweep::retag`], and the plans are the planner's and the image graph's. Only HTTP, the
//! registry client and the executor are left out: the property is about what is decided.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use package_janitor::github::ApiError;
use package_janitor::model::manifest::{Child, Manifest};
use package_janitor::model::mode::Mode;
use package_janitor::model::plan_file::{
    Kept, PlanEntry, PlanFile, PlannedPackage, PolicyInputs, Scope,
};
use package_janitor::model::version::{PackageType, Version};
use package_janitor::policy::images::{self, ReadHere, Rules, Unlisted};
use package_janitor::policy::plan::{self, Plan, Reason};
use package_janitor::policy::rules::{Policy, TagState};
use package_janitor::run::resume::{self, Source};
use package_janitor::run::sweep;
use package_janitor::state::PackageState;
use proptest::prelude::*;
use regex::Regex;

const DAY: u64 = 86_400;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(2_000 * DAY)
}

fn digest(id: u64) -> String {
    format!("sha256:{id:064x}")
}

/// One version of the model package; higher ids are newer (listed first).
#[derive(Debug, Clone)]
struct Model {
    id: u64,
    tags: Vec<String>,
    active: bool,
    /// Container: the ids an index lists.
    children: Vec<u64>,
    /// Whether GitHub moved its `updated_at` (a day later) since it was pushed.
    touched: bool,
}

/// The package as GitHub and the registry have it.
#[derive(Debug, Clone)]
struct World {
    package_type: PackageType,
    versions: Vec<Model>,
}

impl World {
    fn version(&self, model: &Model) -> Version {
        let at = now() - Duration::from_secs((1_000 - model.id) * DAY);
        let updated = at + Duration::from_secs(if model.touched { DAY } else { 0 });
        let container = self.package_type == PackageType::Container;
        Version {
            id: model.id,
            name: if container {
                digest(model.id)
            } else if model.id % 2 == 1 {
                format!("0.0.{}", model.id)
            } else {
                format!("1.0.{}", model.id)
            },
            tags: if container {
                model.tags.clone()
            } else {
                Vec::new()
            },
            tags_known: true,
            created_at: at,
            updated_at: updated,
            deleted_at: None,
        }
    }

    /// The active versions, newest first, as the API lists them.
    fn listing(&self) -> Vec<Version> {
        let mut active: Vec<&Model> = self.versions.iter().filter(|m| m.active).collect();
        active.sort_by_key(|model| std::cmp::Reverse(model.id));
        active
            .into_iter()
            .map(|model| self.version(model))
            .collect()
    }

    /// Every manifest by digest, as the registry would serve the active ones; a version
    /// gone lists nothing (a `HEAD` of it answers 404).
    fn manifests(&self) -> HashMap<String, Manifest> {
        self.versions
            .iter()
            .map(|model| {
                let manifest = if model.active && !model.children.is_empty() {
                    Manifest {
                        is_index: true,
                        children: model
                            .children
                            .iter()
                            .map(|child| Child {
                                digest: digest(*child),
                                platform: Some("linux/amd64".to_string()),
                                ..Child::default()
                            })
                            .collect(),
                        ..Manifest::default()
                    }
                } else {
                    Manifest::default()
                };
                (digest(model.id), manifest)
            })
            .collect()
    }

    /// A tag names one manifest: it leaves every other version.
    fn tag(&mut self, index: usize, tag: String) {
        for model in &mut self.versions {
            model.tags.retain(|held| *held != tag);
        }
        if let Some(model) = self.versions.get_mut(index) {
            model.tags.push(tag);
        }
    }
}

/// The listing pages of a world, 100 a page, each read spending one of `budget`.
struct Pages {
    listing: Vec<Version>,
    budget: Cell<u32>,
}

impl Source for Pages {
    async fn page(&self, number: u32) -> Result<(Vec<Version>, u32), ApiError> {
        self.budget.set(self.budget.get().saturating_sub(1));
        let pages = self.listing.len().div_ceil(100).max(1) as u32;
        let start = (number as usize - 1) * 100;
        let page = self
            .listing
            .get(start.min(self.listing.len())..(start + 100).min(self.listing.len()))
            .unwrap_or_default()
            .to_vec();
        Ok((page, pages))
    }

    fn budget(&self) -> u32 {
        self.budget.get()
    }

    fn concurrency(&self) -> usize {
        3
    }

    fn package(&self) -> (&str, &str) {
        ("container", "app")
    }
}

/// A change between the runs.
#[derive(Debug, Clone)]
enum Change {
    /// A new version, newest of all, tagged or not.
    Push(bool),
    /// A tag added to a version (leaving any other that had it): a promotion, or a move.
    Tag(usize, &'static str),
    Delete(usize),
    Restore(usize),
    /// GitHub moves a version's `updated_at`.
    Touch(usize),
}

/// The changes of issue 19's property (which reads dates from its saved state).
fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        any::<bool>().prop_map(Change::Push),
        (
            any::<usize>(),
            prop::sample::select(vec!["latest", "stable", "v9", "pr-9"])
        )
            .prop_map(|(at, tag)| Change::Tag(at, tag)),
        any::<usize>().prop_map(Change::Delete),
        any::<usize>().prop_map(Change::Restore),
    ]
}

fn apply(world: &mut World, changes: &[Change]) {
    for change in changes {
        let count = world.versions.len().max(1);
        match change {
            Change::Push(tagged) => {
                let id = world.versions.iter().map(|m| m.id).max().unwrap_or(0) + 1;
                let tags = if *tagged {
                    vec![format!("v{id}")]
                } else {
                    Vec::new()
                };
                world.versions.push(Model {
                    id,
                    tags,
                    active: true,
                    children: Vec::new(),
                    touched: false,
                });
            }
            Change::Tag(at, tag) if world.package_type == PackageType::Container => {
                world.tag(at % count, tag.to_string());
            }
            Change::Tag(..) => {}
            Change::Delete(at) => {
                let active: Vec<usize> = (0..world.versions.len())
                    .filter(|index| world.versions[*index].active)
                    .collect();
                if let Some(index) = active.get(at % active.len().max(1)) {
                    world.versions[*index].active = false;
                }
            }
            Change::Touch(at) => {
                if let Some(model) = world.versions.get_mut(at % count) {
                    model.touched = true;
                }
            }
            Change::Restore(at) => {
                let deleted: Vec<usize> = (0..world.versions.len())
                    .filter(|index| !world.versions[*index].active)
                    .collect();
                if let Some(index) = deleted.get(at % deleted.len().max(1)) {
                    world.versions[*index].active = true;
                }
            }
        }
    }
}

/// A package of `count` versions: every fifth tagged `v<id>`, every seventh `pr-<id>`, a
/// few deleted; with `images`, every ninth an index tagged `i<id>` of two versions `gap`
/// and `gap + 1` older (untagged): on its own listing page, or pages after.
fn world(package_type: PackageType, count: u64, deleted: &[u64], images: Option<u64>) -> World {
    let mut versions: Vec<Model> = (1..=count)
        .map(|id| Model {
            id,
            tags: if id % 5 == 0 {
                vec![format!("v{id}")]
            } else if id % 7 == 0 {
                vec![format!("pr-{id}")]
            } else {
                Vec::new()
            },
            active: !deleted.contains(&id),
            children: Vec::new(),
            touched: false,
        })
        .collect();
    if let Some(gap) = images.filter(|_| package_type == PackageType::Container) {
        for id in (gap + 2..=count).filter(|id| id % 9 == 0) {
            let children = [id - gap, id - gap - 1];
            versions[(id - 1) as usize].children = children.to_vec();
            versions[(id - 1) as usize].tags = vec![format!("i{id}")];
            for child in children {
                versions[(child - 1) as usize].tags.clear();
            }
        }
    }
    World {
        package_type,
        versions,
    }
}

fn policy() -> impl Strategy<Value = Policy> {
    let regex = |pattern: &str| Regex::new(pattern).ok();
    (
        prop::sample::select(vec![TagState::Any, TagState::Tagged, TagState::Untagged]),
        prop::sample::select(vec![None, regex("^pr-"), regex(r"^0\.0\.")]),
        prop::sample::select(vec![None, regex("^v"), regex("^latest$")]),
        0usize..4,
        prop::sample::select(vec![None, Some(Duration::from_secs(700 * DAY))]),
    )
        .prop_map(
            |(tag_state, tag_regex, exclude_tag_regex, keep_latest, older_than)| Policy {
                tag_state,
                tag_regex,
                exclude_tag_regex,
                keep_latest,
                older_than,
                ..Policy::default()
            },
        )
}

/// The ids a plan acts on.
fn acted(plan: &Plan) -> BTreeSet<u64> {
    plan.selected().map(|planned| planned.version.id).collect()
}

/// A container plan followed through the image graph of `manifests`.
fn follow(
    plan: Plan,
    manifests: &HashMap<String, Manifest>,
    policy: &Policy,
    read: ReadHere<'_>,
) -> Plan {
    let unreadable = HashMap::new();
    let lookup = images::ByDigest {
        known: manifests,
        unreadable: &unreadable,
    };
    let rules = Rules {
        policy,
        now: now(),
        delete_orphans: false,
    };
    let top = images::top_level_images(&plan, &lookup, read.unlisted);
    let plan = plan::plan_images(
        plan,
        policy,
        PackageType::Container,
        Mode::Delete,
        now(),
        &top,
        read.confirmed,
    );
    images::adjust_read(plan, &lookup, &rules, read)
}

/// The plan of a run without a state file: everything read now.
fn fresh_plan(world: &World, policy: &Policy) -> Plan {
    let planned = plan::plan(
        world.listing(),
        policy,
        world.package_type,
        Mode::Delete,
        now(),
    );
    match world.package_type {
        PackageType::Container => follow(planned, &world.manifests(), policy, ReadHere::default()),
        _ => planned,
    }
}

/// What a run without a state file acts on.
fn fresh_run(world: &World, policy: &Policy) -> BTreeSet<u64> {
    acted(&fresh_plan(world, policy))
}

/// The registry's tags of `world` for the versions in `versions` (index, tag), and the
/// tagged images not among them, with what they reference that is not either.
fn registry(world: &World, versions: &[Version]) -> (sweep::Found, Vec<Unlisted>) {
    let index: HashMap<&str, usize> = versions
        .iter()
        .enumerate()
        .map(|(at, version)| (version.name.as_str(), at))
        .collect();
    let manifests = world.manifests();
    let mut found = sweep::Found::default();
    let mut unlisted = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: Vec<(u64, Vec<String>)> = Vec::new();
    for model in world
        .versions
        .iter()
        .filter(|m| m.active && !m.tags.is_empty())
    {
        let name = digest(model.id);
        match index.get(name.as_str()) {
            Some(at) => {
                for tag in &model.tags {
                    found.push(*at, tag);
                }
            }
            None => queue.push((model.id, model.tags.clone())),
        }
    }
    while let Some((id, tags)) = queue.pop() {
        if !seen.insert(id) {
            continue;
        }
        let manifest = manifests.get(&digest(id)).cloned().unwrap_or_default();
        for child in &manifest.children {
            let child_id =
                u64::from_str_radix(child.digest.trim_start_matches("sha256:"), 16).unwrap_or(0);
            if !index.contains_key(child.digest.as_str()) {
                queue.push((child_id, Vec::new()));
            }
        }
        unlisted.push(Unlisted {
            digest: digest(id),
            tags,
            manifest,
        });
    }
    (found, unlisted)
}

/// The run that carries on from `saved`: list across runs, provisional plan, confirm the
/// pages of what it would act on, and the plan that decides, on what it read.
async fn state_run(
    world: &World,
    saved: &mut PackageState,
    policy: &Policy,
    budget: u32,
) -> BTreeSet<u64> {
    let pages = Pages {
        listing: world.listing(),
        budget: Cell::new(budget),
    };
    let Ok(mut listing) = resume::list(&pages, saved).await else {
        return BTreeSet::new();
    };
    if !listing.complete {
        return BTreeSet::new();
    }
    let container = world.package_type == PackageType::Container;
    let manifests = world.manifests();
    if listing.from_state {
        if container {
            let (found, _) = registry(world, &listing.merged.versions);
            sweep::retag(
                &mut listing.merged.versions,
                &listing.merged.confirmed,
                found,
            );
        }
        let provisional = plan::plan(
            listing.merged.versions.clone(),
            policy,
            world.package_type,
            Mode::Delete,
            now(),
        );
        let provisional = if container {
            follow(provisional, &manifests, policy, ReadHere::default())
        } else {
            provisional
        };
        let order: Vec<u64> = acted_in_order(&provisional);
        let rules: HashSet<usize> = provisional.selected().filter_map(|p| p.rule).collect();
        let holders: Vec<u64> = provisional
            .versions
            .iter()
            .filter(|p| {
                matches!(p.reason, Reason::KeptLatest(_) | Reason::KeptBy { .. })
                    && p.rule.is_some_and(|rule| rules.contains(&rule))
            })
            .map(|p| p.version.id)
            .collect();
        let allowance = pages.budget();
        let batch = listing.merged.batch(&holders, &order, allowance);
        let mut targets = holders;
        targets.extend(batch);
        if resume::confirm(&pages, &mut listing, &targets, allowance)
            .await
            .is_err()
        {
            return BTreeSet::new();
        }
    }
    let confirmed = listing.merged.confirmed.clone();
    let confirmed = listing.from_state.then_some(&confirmed);
    let versions = listing.merged.versions.clone();
    let planned = plan::plan_confirmed(
        versions.clone(),
        policy,
        world.package_type,
        Mode::Delete,
        now(),
        confirmed,
    );
    if !container {
        return acted(&planned);
    }
    let unlisted = if confirmed.is_some() {
        registry(world, &versions).1
    } else {
        Vec::new()
    };
    acted(&follow(
        planned,
        &manifests,
        policy,
        ReadHere {
            confirmed,
            unlisted: &unlisted,
        },
    ))
}

fn acted_in_order(plan: &Plan) -> Vec<u64> {
    plan.selected().map(|planned| planned.version.id).collect()
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_run_with_the_state_file_never_acts_on_what_a_run_without_it_keeps(
        package_type in prop::sample::select(vec![PackageType::Container, PackageType::Npm]),
        count in 0u64..420,
        deleted in prop::collection::vec(
            prop_oneof![1u64..420, (1u64..46).prop_map(|n| n * 9)],
            0..12,
        ),
        images in prop::sample::select(vec![None, Some(1), Some(150)]),
        changes in prop::collection::vec(change(), 0..12),
        policy in policy(),
        first_budget in prop::sample::select(vec![u32::MAX, 3, 8]),
        budget in prop::sample::select(vec![u32::MAX, 2, 5, 12, 40]),
    ) {
        let mut world = world(package_type, count, &deleted, images);
        // The first run lists what its budget allows and saves it (a dry run: nothing goes).
        let mut saved = PackageState::default();
        let pages = Pages { listing: world.listing(), budget: Cell::new(first_budget) };
        if let Ok(listing) = block_on(resume::list(&pages, &mut saved)) {
            saved.versions = listing.merged.versions;
        }
        apply(&mut world, &changes);
        let with_state = block_on(state_run(&world, &mut saved, &policy, budget));
        let without = fresh_run(&world, &policy);
        prop_assert!(
            with_state.is_subset(&without),
            "acted on with the state file but kept without it: {:?}",
            with_state.difference(&without).collect::<Vec<_>>()
        );
    }
}

/// The property is not empty: on an unchanged package, a run with the state file and a
/// small budget acts on what the run without it acts on, within its budget.
#[test]
fn an_unchanged_package_is_acted_on_across_runs_as_without_the_state_file() {
    let world = world(PackageType::Container, 350, &[], Some(150));
    let policy = Policy {
        tag_state: TagState::Untagged,
        ..Policy::default()
    };
    let mut saved = PackageState::default();
    let pages = Pages {
        listing: world.listing(),
        budget: Cell::new(u32::MAX),
    };
    let listing = block_on(resume::list(&pages, &mut saved)).expect("listed");
    saved.versions = listing.merged.versions;
    let with_state = block_on(state_run(&world, &mut saved, &policy, 30));
    let without = fresh_run(&world, &policy);
    assert!(!with_state.is_empty());
    assert!(with_state.is_subset(&without));
}

/// The restore the registry's tags find: the tagged index 243 (listing page 2), deleted
/// when the state was saved, lists 93 and 92 (page 3); restored between the runs, it is on
/// a page the run does not read, and still keeps them.
#[test]
fn a_restored_tagged_index_on_a_page_not_read_keeps_its_children() {
    let mut world = world(PackageType::Container, 350, &[243], Some(150));
    assert_eq!(world.versions[242].children, [93, 92]);
    let policy = Policy {
        tag_state: TagState::Untagged,
        ..Policy::default()
    };
    let mut saved = PackageState::default();
    let pages = Pages {
        listing: world.listing(),
        budget: Cell::new(u32::MAX),
    };
    let listing = block_on(resume::list(&pages, &mut saved)).expect("listed");
    saved.versions = listing.merged.versions;
    let restored = world
        .versions
        .iter()
        .position(|model| model.id == 243)
        .expect("seeded");
    world.versions[restored].active = true;
    let with_state = block_on(state_run(&world, &mut saved, &policy, 40));
    let without = fresh_run(&world, &policy);
    assert!(!without.contains(&93) && !without.contains(&92));
    assert!(with_state.is_subset(&without), "{with_state:?}");
    assert!(!with_state.is_empty());
}

/// Every change, `updated_at` moving too.
fn any_change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => change(),
        1 => any::<usize>().prop_map(Change::Touch),
    ]
}

/// A dry run's plan file of `world`: every version its plan deletes, with its image, read
/// back through the file format as the run that applies it reads it.
fn plan_file(world: &World, plan: &Plan) -> PlanFile {
    let selected: HashSet<u64> = plan.selected().map(|p| p.version.id).collect();
    let delete = plan
        .selected()
        .map(|planned| {
            let parent = planned.relation.as_ref().and_then(|relation| {
                let first = *relation.parents.first()?;
                selected
                    .contains(&first)
                    .then(|| (first, relation.role.to_string()))
            });
            PlanEntry {
                scope: Scope::Version,
                version: planned.version.clone(),
                reason: planned.reason.to_string(),
                rule: None,
                parent_id: parent.as_ref().map(|(id, _)| *id),
                role: parent.map(|(_, role)| role),
            }
        })
        .collect();
    let written = PlanFile {
        made_at: now(),
        expires_at: now() + Duration::from_secs(DAY),
        owner: "acme".into(),
        api_url: "https://api.github.com".into(),
        registry_url: "https://ghcr.io".into(),
        package_type: world.package_type,
        mode: Mode::Delete,
        packages_input: vec!["app".into()],
        policy: PolicyInputs {
            tag_state: "any".into(),
            ..PolicyInputs::default()
        },
        packages: vec![PlannedPackage {
            name: "app".into(),
            listed: world.listing().len() as u64,
            whole: false,
            not_planned: None,
            delete,
            kept: Kept::default(),
            left: 0,
        }],
    };
    PlanFile::from_json(&written.to_json()).expect("a dry run's plan reads back")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn applying_a_plan_deletes_only_planned_versions_unchanged_since_and_selected_today(
        package_type in prop::sample::select(vec![PackageType::Container, PackageType::Npm]),
        count in 0u64..200,
        deleted in prop::collection::vec(1u64..200, 0..8),
        images in prop::sample::select(vec![None, Some(1), Some(40)]),
        changes in prop::collection::vec(any_change(), 0..10),
        policy in policy(),
    ) {
        let mut world = world(package_type, count, &deleted, images);
        let plan = plan_file(&world, &fresh_plan(&world, &policy));
        let planned = &plan.packages[0].delete;
        apply(&mut world, &changes);
        let narrowed = package_janitor::policy::apply::narrow(planned, fresh_plan(&world, &policy));
        let records: HashMap<u64, &Version> =
            planned.iter().map(|entry| (entry.version.id, &entry.version)).collect();
        let today = fresh_run(&world, &policy);
        for deleting in narrowed.plan.selected() {
            let now = &deleting.version;
            let record = records.get(&now.id);
            prop_assert!(record.is_some(), "{} is not in the plan", now.id);
            let record = record.copied().expect("checked");
            prop_assert_eq!(&now.name, &record.name);
            let tags = |version: &Version| version.tags.iter().cloned().collect::<BTreeSet<_>>();
            prop_assert_eq!(tags(now), tags(record), "{}", now.id);
            prop_assert_eq!(now.updated_at, record.updated_at, "{}", now.id);
            prop_assert!(today.contains(&now.id), "{} is not selected today", now.id);
        }
        if changes.is_empty() {
            let all: BTreeSet<u64> = records.keys().copied().collect();
            prop_assert_eq!(acted(&narrowed.plan), all, "an unchanged package is applied whole");
        }
    }
}
