//! Running the fake: a thread with its own tokio runtime serving on 127.0.0.1, and the
//! inspection helpers tests use.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::SystemTime;

use anyhow::Context;
use tokio::sync::oneshot;

use crate::during::{Publication, Retag, Scheduled};
use crate::limits::{Counters, Enforcer, LimitState};
use crate::record::RecordedRequest;
use crate::registry::Grant;
use crate::routes;
use crate::seed::Seed;
use crate::state::World;

/// What every handler shares. Locks are held only between awaits, never across one.
#[derive(Debug)]
pub struct Shared {
    /// `http://127.0.0.1:PORT`, for the absolute URLs in bodies and `Link` headers.
    pub base_url: String,
    world: Mutex<World>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Registry bearer tokens handed out by `/token`, with what each allows.
    grants: Mutex<HashMap<String, Grant>>,
    enforcer: Enforcer,
    limit_state: Mutex<LimitState>,
    /// Changes made during a run (see `during`).
    scheduled: Mutex<Scheduled>,
}

impl Shared {
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .expect("fake-github world lock poisoned by a panicking handler")
    }

    /// Hands out a new registry token for `grant`.
    pub fn grant(&self, grant: Grant) -> String {
        let mut grants = self.grants.lock().expect("fake-github grant lock poisoned");
        let token = format!("fake-registry-token-{}", grants.len() + 1);
        grants.insert(token.clone(), grant);
        token
    }

    pub fn grant_for(&self, token: &str) -> Option<Grant> {
        let grants = self.grants.lock().expect("fake-github grant lock poisoned");
        grants.get(token).cloned()
    }

    pub fn enforcer(&self) -> &Enforcer {
        &self.enforcer
    }

    pub fn limit_state(&self) -> MutexGuard<'_, LimitState> {
        self.limit_state
            .lock()
            .expect("fake-github limits lock poisoned")
    }

    pub fn scheduled(&self) -> MutexGuard<'_, Scheduled> {
        self.scheduled
            .lock()
            .expect("fake-github schedule lock poisoned")
    }

    pub fn log_request(&self, request: RecordedRequest) {
        self.requests
            .lock()
            .expect("fake-github request log lock poisoned")
            .push(request);
    }
}

/// A running fake GitHub; it stops serving when dropped.
#[derive(Debug)]
pub struct FakeGitHub {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeGitHub {
    /// Starts serving `seed` on a free port of 127.0.0.1.
    pub fn start(seed: Seed) -> anyhow::Result<Self> {
        Self::start_on_port(seed, 0)
    }

    /// Starts serving `seed` on 127.0.0.1:`port` (0 picks a free one).
    pub fn start_on_port(seed: Seed, port: u16) -> anyhow::Result<Self> {
        let enforcer = Enforcer::new(seed.limits.clone(), seed.faults.clone());
        let world = World::from_seed(seed, SystemTime::now()).context("invalid seed")?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{}", listener.local_addr()?),
            world: Mutex::new(world),
            requests: Mutex::new(Vec::new()),
            grants: Mutex::new(HashMap::new()),
            enforcer,
            limit_state: Mutex::new(LimitState::default()),
            scheduled: Mutex::new(Scheduled::default()),
        });

        // Two workers keep up with a client's concurrent pages (and with 100k-version
        // listings); the runtime is built here so errors surface now.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let app = routes::router(Arc::clone(&shared));
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-github".into())
            .spawn(move || {
                runtime.block_on(async move {
                    // Stopping drops the server and, with the runtime, every open connection,
                    // so Drop never waits on a client that keeps a connection alive.
                    tokio::select! {
                        served = axum::serve(listener, app) => {
                            if let Err(error) = served {
                                eprintln!("fake-github: server failed: {error}");
                            }
                        }
                        _ = stop => {}
                    }
                });
            })?;
        Ok(Self {
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Ids of the package's active versions, ascending; empty for an unknown package.
    /// Reports the versions' own state, whether or not the package itself is deleted.
    pub fn active_ids(&self, owner: &str, package_type: &str, name: &str) -> Vec<u64> {
        self.version_ids(owner, package_type, name, true)
    }

    /// Ids of the package's deleted versions, ascending; empty for an unknown package.
    pub fn deleted_ids(&self, owner: &str, package_type: &str, name: &str) -> Vec<u64> {
        self.version_ids(owner, package_type, name, false)
    }

    /// Whether the whole package has been deleted (`false` for an unknown package).
    pub fn package_deleted(&self, owner: &str, package_type: &str, name: &str) -> bool {
        let world = self.shared.world();
        world
            .package(owner, package_type, name)
            .is_some_and(|p| p.deleted_at.is_some())
    }

    /// The name (for container versions, the manifest digest) of version `id`.
    pub fn version_name(&self, owner: &str, package_type: &str, name: &str, id: u64) -> String {
        let world = self.shared.world();
        world
            .package(owner, package_type, name)
            .and_then(|package| package.version(id))
            .map(|version| version.name.clone())
            .unwrap_or_default()
    }

    /// What is broken in the container package `owner/name`: one line for every active tag
    /// whose manifest, or a manifest it reaches through indexes, lists a digest that is not
    /// an active version any more (`docker pull` would fail with "manifest unknown").
    /// Empty when every tagged image is whole.
    pub fn broken_images(&self, owner: &str, name: &str) -> Vec<String> {
        let world = self.shared.world();
        let Some(package) = world.package(owner, "container", name) else {
            return vec![format!("no container package {owner}/{name}")];
        };
        let active: HashMap<&str, &crate::state::Version> = package
            .active_versions()
            .filter(|version| version.manifest.is_some())
            .map(|version| (version.name.as_str(), version))
            .collect();
        let mut broken = Vec::new();
        for version in package.active_versions() {
            let Some(served) = &version.manifest else {
                continue;
            };
            for tag in &version.tags {
                let mut seen = HashSet::new();
                let mut queue: Vec<&String> = served.children.iter().collect();
                while let Some(digest) = queue.pop() {
                    if !seen.insert(digest) {
                        continue;
                    }
                    match active
                        .get(digest.as_str())
                        .and_then(|v| v.manifest.as_ref())
                    {
                        Some(child) => queue.extend(&child.children),
                        None => broken.push(format!(
                            "tag {tag} (version {}): {digest} is missing",
                            version.id
                        )),
                    }
                }
            }
        }
        broken
    }

    /// Every request answered so far, in the order the answers were ready.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .expect("fake-github request log lock poisoned")
            .clone()
    }

    /// What the limits middleware has counted so far.
    pub fn counters(&self) -> Counters {
        self.shared.limit_state().counters.clone()
    }

    /// Publishes a new version `id` named `version` of an existing package, as a push
    /// between two runs would: the newest of all, first in listings.
    pub fn publish(&self, owner: &str, package_type: &str, name: &str, id: u64, version: &str) {
        let publication = publication(owner, package_type, name, id, version);
        publication.apply(&mut self.shared.world(), std::time::SystemTime::now());
    }

    /// Publishes like [`FakeGitHub::publish`], but during a run: right after the fake has
    /// answered its `deletes`-th DELETE request (counted from its start), before that answer
    /// is sent. A push that lands while the client is deleting other packages.
    pub fn publish_after_deletes(
        &self,
        deletes: usize,
        owner: &str,
        package_type: &str,
        name: &str,
        id: u64,
        version: &str,
    ) {
        let publication = publication(owner, package_type, name, id, version);
        self.shared.scheduled().publish_after(deletes, publication);
    }

    /// Moves `tag` of the container package `owner/name` to version `to` during a run:
    /// right after the registry has answered its `puts`-th manifest `PUT` (counted from its
    /// start), before that answer is sent. Someone pushing under a tag that the client has
    /// just pushed a placeholder under.
    pub fn move_tag_after_manifest_puts(
        &self,
        puts: usize,
        owner: &str,
        name: &str,
        tag: &str,
        to: u64,
    ) {
        self.shared.scheduled().retag_after(
            puts,
            Retag {
                owner: owner.to_owned(),
                name: name.to_owned(),
                tag: tag.to_owned(),
                to,
            },
        );
    }

    /// The version of the container package `owner/name` that `tag` names now, if any.
    pub fn tagged(&self, owner: &str, name: &str, tag: &str) -> Option<u64> {
        let world = self.shared.world();
        world
            .package(owner, "container", name)?
            .active_versions()
            .find(|version| version.tags.iter().any(|held| held == tag))
            .map(|version| version.id)
    }

    /// The manifest bytes the registry serves for version `id` (empty when it has none).
    pub fn manifest_bytes(&self, owner: &str, name: &str, id: u64) -> Vec<u8> {
        let world = self.shared.world();
        world
            .package(owner, "container", name)
            .and_then(|package| package.version(id))
            .and_then(|version| version.manifest.as_ref())
            .map(|served| served.bytes.clone())
            .unwrap_or_default()
    }

    /// Restores version `id` behind the client's back, as someone in the web UI would.
    pub fn restore_behind(&self, owner: &str, package_type: &str, name: &str, id: u64) {
        let mut world = self.shared.world();
        let package = world
            .packages
            .iter_mut()
            .find(|p| {
                crate::state::same_login(&p.owner, owner)
                    && p.package_type == package_type
                    && p.name == name
            })
            .expect("restore in a seeded package");
        package
            .restore_version(id, std::time::SystemTime::now())
            .expect("the version can be restored");
    }

    /// Refills every token's primary budget, as if its reset time had come.
    pub fn reset_budgets(&self) {
        self.shared.limit_state().reset_budgets();
    }

    fn version_ids(&self, owner: &str, package_type: &str, name: &str, active: bool) -> Vec<u64> {
        let world = self.shared.world();
        let mut ids: Vec<u64> = world
            .package(owner, package_type, name)
            .map(|p| {
                p.versions
                    .iter()
                    .filter(|v| v.is_active() == active)
                    .map(|v| v.id)
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }
}

/// Changes between runs that GitHub makes without a new version: tags added to a version,
/// or moved from one version to another (a promotion by retag), and versions deleted
/// behind the client's back. A retag keeps the version's id, `created_at`, `updated_at`
/// and place in the listing; only its tags change (a controlled experiment in
/// https://github.com/dependabot/dependabot-core/issues/16328).
impl FakeGitHub {
    /// Tags version `id` with `tag`, as `docker buildx imagetools create -t`, `crane tag`
    /// or `skopeo copy` would: a tag names one manifest, so any other version that had it
    /// loses it.
    pub fn add_tag(&self, owner: &str, package_type: &str, name: &str, id: u64, tag: &str) {
        self.with_package(owner, package_type, name, |package| {
            for version in &mut package.versions {
                version.tags.retain(|held| held != tag);
            }
            let version = package
                .versions
                .iter_mut()
                .find(|version| version.id == id)
                .expect("tag a seeded version");
            version.tags.push(tag.to_string());
        });
    }

    /// Moves `tag`, which some version of the package has, to version `to`.
    pub fn move_tag(&self, owner: &str, package_type: &str, name: &str, tag: &str, to: u64) {
        let held = self.with_package(owner, package_type, name, |package| {
            package
                .versions
                .iter()
                .any(|version| version.tags.iter().any(|held| held == tag))
        });
        assert!(held, "move a tag some version has");
        self.add_tag(owner, package_type, name, to, tag);
    }

    /// Deletes version `id` behind the client's back, as someone in the web UI would.
    pub fn delete_behind(&self, owner: &str, package_type: &str, name: &str, id: u64) {
        self.with_package(owner, package_type, name, |package| {
            let version = package
                .versions
                .iter_mut()
                .find(|version| version.id == id && version.is_active())
                .expect("delete an active seeded version");
            version.deleted_at = Some(std::time::SystemTime::now());
        });
    }

    /// Moves the `updated_at` of version `id` to now: a change GitHub records on the
    /// version itself (retags do not move it; see [`FakeGitHub::add_tag`]).
    pub fn touch(&self, owner: &str, package_type: &str, name: &str, id: u64) {
        self.with_package(owner, package_type, name, |package| {
            let version = package
                .versions
                .iter_mut()
                .find(|version| version.id == id)
                .expect("touch a seeded version");
            version.updated_at = std::time::SystemTime::now();
        });
    }

    /// The tags of version `id` now.
    pub fn tags_of(&self, owner: &str, package_type: &str, name: &str, id: u64) -> Vec<String> {
        let world = self.shared.world();
        world
            .package(owner, package_type, name)
            .and_then(|package| package.version(id))
            .map(|version| version.tags.clone())
            .unwrap_or_default()
    }

    /// Runs `change` on the live package, and drops the registry's lookup of it, which
    /// tags changed.
    fn with_package<T>(
        &self,
        owner: &str,
        package_type: &str,
        name: &str,
        change: impl FnOnce(&mut crate::state::Package) -> T,
    ) -> T {
        let mut world = self.shared.world();
        let package = world
            .packages
            .iter_mut()
            .find(|p| {
                crate::state::same_login(&p.owner, owner)
                    && p.package_type == package_type
                    && p.name == name
                    && p.deleted_at.is_none()
            })
            .expect("change a seeded live package");
        package.lookup = None;
        change(package)
    }
}

fn publication(owner: &str, package_type: &str, name: &str, id: u64, version: &str) -> Publication {
    Publication {
        owner: owner.to_owned(),
        package_type: package_type.to_owned(),
        name: name.to_owned(),
        id,
        version: version.to_owned(),
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server may already have stopped on its own; nothing left to tell it then.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread was already printed; Drop must not panic again.
            let _ = thread.join();
        }
    }
}
