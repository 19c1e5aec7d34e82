//! Stateful fake of the GitHub Packages REST API, for package-janitor's end-to-end tests and
//! demo. Behaviour follows GitHub's documentation (the REST "Packages" endpoints,
//! https://docs.github.com/en/rest/packages/packages, and the pages each module names) and
//! the behaviour `docs/github-behaviour.md` describes; where those are silent the fake
//! guesses, and each guess is written down where it is made (see `access` for who may do
//! what).
//!
//! ```no_run
//! use fake_github::{FakeGitHub, OwnerSeed, PackageSeed, Seed, TokenSeed, VersionSeed, days};
//!
//! let fake = FakeGitHub::start(
//!     Seed::new()
//!         .token(TokenSeed::pat("ghp_alice", "alice", &["read:packages", "delete:packages"]))
//!         .owner(OwnerSeed::org("acme").members(&["alice"]))
//!         .package(PackageSeed::new("acme", "container", "app").versions(vec![
//!             VersionSeed::new(1, days(40)).tags(&["v1"]),
//!             VersionSeed::new(2, days(3)).tags(&["v2"]),
//!         ])),
//! )?;
//! // ... run the client against fake.url() ...
//! assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2]);
//! # anyhow::Ok(())
//! ```
//!
//! Layout: `seed` (the starting world), `state` (the world and its rules), `access` (tokens
//! and visibility), `extract` + `routes` (HTTP), `pagination`, `render` (JSON bodies),
//! `errors`, `record` (the request log middleware), `limits` (rate limits, injected latency
//! and faults, counters), `during` (changes made while a client runs, such as a version
//! published after the Nth DELETE), `server` (threads and shutdown), `manifests` (the manifest bytes
//! each container version stands for) and `registry` (the OCI registry routes and their
//! token exchange), `push` (its writes: blob uploads and manifest `PUT`s, which create or
//! move versions as ghcr.io does). `mirror` makes a package of a real registry's manifests. `scripted` is a
//! separate tiny server for hostile-server tests.

mod access;
mod during;
mod errors;
mod extract;
mod limits;
mod manifests;
mod mirror;
mod pagination;
mod push;
mod record;
mod registry;
mod render;
mod routes;
mod scripted;
mod seed;
mod server;
mod state;

#[cfg(test)]
mod tests;

pub use limits::{Counters, Faults, Limits, PrimaryLimit, RetryGap, SecondaryLimit};
pub use manifests::{CONFIG_BYTES, LAYER_BYTES, layer_digest};
pub use mirror::{MirrorSeed, version_id as mirrored_version_id};
pub use record::RecordedRequest;
pub use scripted::{Heard, Scripted, ScriptedServer};
pub use seed::{
    AnswerSeed, LayerSeed, ManifestKind, ManifestSeed, Outage, OwnerKind, OwnerSeed, PackageSeed,
    Seed, TokenKind, TokenSeed, UsersListing, VersionSeed, Visibility, days,
};
pub use server::FakeGitHub;
