//! What the phases of a run share: where every package lives and what reads it ([`Scope`]),
//! and the one value each package is carried through the phases in ([`PackageRun`]).

use std::collections::{BTreeMap, HashSet};

use crate::config::Config;
use crate::github::{GitHub, Namespace};
use crate::model::outcome::{Entry, PackageEntry};
use crate::model::reference::Reference;
use crate::model::untag::TagEntry;
use crate::policy::plan::Plan;
use crate::registry::Registry;

use super::environment::Environment;
use super::revive::Revived;

/// What every package's listing, planning and acting read from: the clients, the owner's
/// namespace, the inputs and the runner. The same for every package of the run.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub github: &'a GitHub,
    pub namespace: &'a Namespace,
    /// The registry client of a container package's manifests; other types have none.
    pub registry: Option<&'a Registry>,
    pub config: &'a Config,
    pub env: &'a Environment,
    /// `keep-referenced`: what the workspace names, for every package.
    pub references: Option<&'a [Reference]>,
}

/// One package through the run. Listing and planning make it (`name`, `plan`, `revived`,
/// `from_state`, `unreadable`), acting fills `entries`, `deleted_whole` and `tags`, and
/// finishing turns it into the package's report.
pub struct PackageRun {
    pub name: String,
    /// Its plan, or why it could not be listed or planned.
    pub plan: anyhow::Result<Plan>,
    /// In restore mode, the package itself when it had been deleted and was restored first.
    pub revived: Option<Revived>,
    /// Whether its listing used versions saved in the state file: it is then never deleted
    /// whole (see [`super::whole_package::deletable`]).
    pub from_state: bool,
    /// What acting did to each selected version, recorded as each is settled (so a run cut
    /// short still knows what it did).
    pub entries: Vec<Entry>,
    /// The package itself, when acting deleted it whole.
    pub deleted_whole: Option<PackageEntry>,
    /// Container packages: the manifests planning could not read, each with why.
    pub unreadable: Unreadable,
    /// With a reviewed plan applied (`plan-file`), what it names of this package and what
    /// narrowing today's plan to it settled ([`super::apply_plan`]).
    pub reviewed: Option<Reviewed>,
    /// What acting did to each tag `untag` removes or `restore-tags` puts back, recorded as
    /// each is settled (see [`super::untag`]).
    pub tags: Vec<TagEntry>,
}

/// What a reviewed plan says of one package, once today's plan is narrowed to it.
#[derive(Debug, Default)]
pub struct Reviewed {
    /// Ids the plan names in this package: only they may be deleted, or left for the next
    /// run.
    pub planned: HashSet<u64>,
    /// Whether the package may be deleted whole: the plan says so, and today's listing is
    /// exactly the planned versions, unchanged.
    pub whole: bool,
    /// The versions narrowing skipped: changed since the plan, or not in it.
    pub skipped: Vec<Entry>,
}

/// Why each manifest a run could not read could not be read, by version id.
pub type Unreadable = BTreeMap<u64, String>;

impl PackageRun {
    /// A package as planned, before acting.
    pub fn planned(
        name: &str,
        plan: anyhow::Result<Plan>,
        revived: Option<Revived>,
        from_state: bool,
    ) -> PackageRun {
        PackageRun {
            name: name.to_string(),
            plan,
            revived,
            from_state,
            entries: Vec::new(),
            deleted_whole: None,
            unreadable: Unreadable::new(),
            reviewed: None,
            tags: Vec::new(),
        }
    }

    /// The same package, with the manifests its planning could not read.
    pub fn with_unreadable(self, unreadable: Unreadable) -> PackageRun {
        PackageRun { unreadable, ..self }
    }

    /// A package whose listing, if any, was read in this run alone.
    pub fn listed_now(
        name: &str,
        plan: anyhow::Result<Plan>,
        revived: Option<Revived>,
    ) -> PackageRun {
        PackageRun::planned(name, plan, revived, false)
    }
}
