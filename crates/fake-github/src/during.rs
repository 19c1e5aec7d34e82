//! Changes the fake makes by itself while a client runs, at a moment a test chooses: a
//! version published right after the fake has answered a given number of DELETE requests,
//! as a push that lands while the client is busy deleting other packages; or a tag moved
//! to another version right after a given number of registry manifest `PUT`s, as someone
//! pushing under a tag while the client is taking it off its image (`untag`).
//!
//! Only REST DELETEs that reached their handler are counted (one refused by a rate limit
//! or an injected fault before the handler is not), and manifest `PUT`s that reached
//! theirs, whatever their answer; the change is made before that answer leaves, so the
//! client cannot send anything in between.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::server::Shared;
use crate::state::{self, World};

/// A new version of an existing package: the newest of all, first in listings.
#[derive(Debug, Clone)]
pub struct Publication {
    pub owner: String,
    pub package_type: String,
    pub name: String,
    pub id: u64,
    /// The version's name, e.g. `2.0.0`.
    pub version: String,
}

impl Publication {
    /// Adds the version to the world, created and updated at `now`.
    ///
    /// # Panics
    /// When the package was not seeded: a test that publishes into nothing is wrong.
    pub fn apply(&self, world: &mut World, now: SystemTime) {
        let package = world
            .packages
            .iter_mut()
            .find(|p| {
                state::same_login(&p.owner, &self.owner)
                    && p.package_type == self.package_type
                    && p.name == self.name
            })
            .expect("publish into a seeded package");
        package.versions.insert(
            0,
            state::Version {
                id: self.id,
                name: self.version.clone(),
                tags: Vec::new(),
                created_at: now,
                updated_at: now,
                deleted_at: None,
                downloads: 0,
                deleted_concurrently: false,
                manifest: None,
                answer: None,
            },
        );
    }
}

/// A tag moved to another version of a container package, as a push of that version's
/// manifest under the tag would.
#[derive(Debug, Clone)]
pub struct Retag {
    pub owner: String,
    pub name: String,
    pub tag: String,
    /// The version id the tag moves to.
    pub to: u64,
}

impl Retag {
    /// Moves the tag: off every version of the package, onto version `to`.
    ///
    /// # Panics
    /// When the package or the version was not seeded: a test that retags nothing is wrong.
    pub fn apply(&self, world: &mut World) {
        let package = world
            .packages
            .iter_mut()
            .find(|p| {
                state::same_login(&p.owner, &self.owner)
                    && p.package_type == "container"
                    && p.name == self.name
                    && p.deleted_at.is_none()
            })
            .expect("retag in a seeded package");
        for version in &mut package.versions {
            version.tags.retain(|held| *held != self.tag);
        }
        package
            .versions
            .iter_mut()
            .find(|version| version.id == self.to)
            .expect("retag onto a seeded version")
            .tags
            .push(self.tag.clone());
        package.lookup = None;
    }
}

/// The publications waiting for their DELETE and the retags waiting for their `PUT`, and
/// the DELETEs and `PUT`s answered so far.
#[derive(Debug, Default)]
pub struct Scheduled {
    deletes_answered: usize,
    /// Each with the count of answered DELETEs it waits for.
    pending: Vec<(usize, Publication)>,
    puts_answered: usize,
    /// Each with the count of answered manifest `PUT`s it waits for.
    retags: Vec<(usize, Retag)>,
}

impl Scheduled {
    /// Publish `publication` once `deletes` DELETEs in all have been answered.
    pub fn publish_after(&mut self, deletes: usize, publication: Publication) {
        self.pending.push((deletes, publication));
    }

    /// Move a tag once `puts` manifest `PUT`s in all have been answered.
    pub fn retag_after(&mut self, puts: usize, retag: Retag) {
        self.retags.push((puts, retag));
    }

    /// Counts one more manifest `PUT` and takes the retags now due.
    pub fn manifest_put(&mut self) -> Vec<Retag> {
        self.puts_answered += 1;
        let answered = self.puts_answered;
        let (due, waiting) = std::mem::take(&mut self.retags)
            .into_iter()
            .partition(|(puts, _)| *puts <= answered);
        self.retags = waiting;
        due.into_iter().map(|(_, retag)| retag).collect()
    }

    /// Counts one more answered DELETE and takes the publications now due.
    fn delete_answered(&mut self) -> Vec<Publication> {
        self.deletes_answered += 1;
        let answered = self.deletes_answered;
        let (due, waiting) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(deletes, _)| *deletes <= answered);
        self.pending = waiting;
        due.into_iter()
            .map(|(_, publication)| publication)
            .collect()
    }
}

/// Middleware next to the handlers: after a DELETE is handled, counts it and makes the
/// publications due, before its answer goes back.
pub async fn after_deletes(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let delete = request.method() == Method::DELETE;
    let response = next.run(request).await;
    if delete {
        let due = shared.scheduled().delete_answered();
        if !due.is_empty() {
            let mut world = shared.world();
            for publication in &due {
                publication.apply(&mut world, SystemTime::now());
            }
        }
    }
    response
}
