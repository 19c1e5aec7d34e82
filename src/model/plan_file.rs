//! The plan file (input `plan-file`): what a dry run would delete, and what it keeps and why,
//! as versioned JSON that a person reviews and a later run applies. Pure encoding and
//! checking; the run reads and writes the file at its edge.
//!
//! A plan travels between jobs as an artifact, so the file read back is outside data: it is
//! parsed strictly (no unknown field, no missing one, no second copy of a field), and every
//! field is checked before it is used ([`PlanFile::from_json`]). What it says decides
//! nothing on its own: a run that applies it deletes a planned version only when the
//! version, read again in that run, still matches the plan's record and today's policy
//! still selects it (see `policy::apply`).
//!
//! ```text
//! {"package_janitor_plan": 1, "made_at": "…Z", "expires_at": "…Z", "owner": "acme",
//!  "api_url": "https://api.github.com", "registry_url": "https://ghcr.io",
//!  "package_type": "container", "mode": "delete", "packages_input": ["app"],
//!  "policy": {"fingerprint": "sha256:…", "inputs": {"tag-regex": "^pr-", …}},
//!  "packages": [{"name": "app", "listed": 20, "whole": false, "not_planned": null,
//!                "delete": [{"scope": "version", "id": 1, "name": "sha256:…", …}],
//!                "kept": {"total": 19, "by_reason": {"older-than": 19}, "versions": […]},
//!                "left": 0}]}
//! ```
//!
//! Every entry of `delete` has a `scope`: `version` for now, so that entries of another
//! kind (a tag removed from a version, say) can join them in a later format.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::mode::Mode;
use super::version::{PackageType, Version};

/// The plan format this build writes and reads; a plan of any other is refused.
pub const FORMAT: u32 = 1;

/// The largest plan file read: about 250,000 planned versions. A larger one is not ours.
pub const MAX_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// The longest a plan may live (`plan-expires`): a plan is a snapshot to review and apply
/// soon, and GitHub restores a deleted version for 30 days.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

/// Kept versions recorded with their reason, per package; the rest are only counted.
pub const MAX_KEPT_ROWS: usize = 1_000;

/// The longest name, tag, URL, rule, role or input value a plan may hold, in bytes.
const MAX_TEXT: usize = 4_096;
/// The longest reason (an image's reason names its tags).
const MAX_REASON: usize = 65_536;
/// The most tags one version may carry in a plan.
const MAX_TAGS: usize = 4_096;
/// The most names in `packages_input`, and packages in a plan.
const MAX_PACKAGES: usize = 10_000;
/// The most rules, and ids in `version-ids`.
const MAX_RULES: usize = 1_000;
const MAX_VERSION_IDS: usize = 1_000_000;

/// A plan: what one dry run decided, for one owner, API host, package type and policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFile {
    pub made_at: SystemTime,
    /// After this, the plan is refused: `made_at` + `plan-expires`.
    pub expires_at: SystemTime,
    pub owner: String,
    /// The REST API base it was made against (`GITHUB_API_URL`).
    pub api_url: String,
    /// The registry its manifests were read from (`registry-url`).
    pub registry_url: String,
    pub package_type: PackageType,
    /// Always [`Mode::Delete`]: only deletions are planned.
    pub mode: Mode,
    /// The `packages` input, each name or pattern as given.
    pub packages_input: Vec<String>,
    /// The inputs that decide what is selected; the fingerprint is their hash.
    pub policy: PolicyInputs,
    pub packages: Vec<PlannedPackage>,
}

/// One package of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPackage {
    pub name: String,
    /// Active versions listed when the plan was made.
    pub listed: u64,
    /// Whether the plan deletes the package itself, with every version in `delete`
    /// (`delete-empty-packages`).
    pub whole: bool,
    /// Why nothing of it is planned (it could not be listed); `delete` is then empty.
    pub not_planned: Option<String>,
    /// The versions to delete, in the order the run would delete them.
    pub delete: Vec<PlanEntry>,
    pub kept: Kept,
    /// Versions this dry run left undecided, not planned: its reads did not confirm them,
    /// the rate limit ran out, or (a listing that spans runs) they are not listed yet.
    pub left: u64,
}

/// What a plan entry is about. Only versions for now; the field is there so that another
/// kind of entry can be added without a new format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Version,
}

/// One planned deletion: the version as the dry run read it, and why it was selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    pub scope: Scope,
    /// Its id, name (the digest of a container version), tags and dates as read; its tags
    /// are known, and it was active.
    pub version: Version,
    /// The plan's reason (`matches the policy`, `platform manifest … of deleted image …`).
    pub reason: String,
    /// The rule (name, or `#N`) that selected it or its image.
    pub rule: Option<String>,
    /// For a version deleted with an image: that image's id (planned too), and what the
    /// version is to it.
    pub parent_id: Option<u64>,
    pub role: Option<String>,
}

/// What a package keeps, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    pub total: u64,
    /// Kept versions counted by what kept them (`older-than`, `keep-latest`, `a kept image`).
    pub by_reason: BTreeMap<String, u64>,
    /// The first [`MAX_KEPT_ROWS`] kept versions, newest first.
    pub versions: Vec<KeptRow>,
}

/// One kept version, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRow {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub updated_at: SystemTime,
    pub reason: String,
}

/// The inputs that change what a run selects, as one value: the plan records them, and
/// their hash is the plan's fingerprint, which the run that applies it must match.
///
/// In it: `tag-regex`, `exclude-tag-regex`, `older-than`, `tag-state`, `keep-latest`,
/// `order-by`, `rules`, `version-ids`, `keep-referenced` (its patterns: what the files
/// name is read again by the run that applies the plan), `delete-orphans` and
/// `delete-empty-packages` (which deletes the package itself). Not in it, each for a
/// reason:
/// - `owner`, the API host, `registry-url`, `package-type` and `packages` say *what* is
///   cleaned: the plan records them and the apply run checks each on its own, with its
///   own message;
/// - `mode` is always `delete` in a plan, `dry-run` is what makes the plan, and
///   `deleted-within` applies to restores only;
/// - `max-versions` and `max-percent` only refuse a run, never select: the apply run
///   checks its own;
/// - `state-file` says where to look, never what to delete; `verify` checks after the
///   deletes; the pacing inputs change speed; `plan-file` and `plan-expires` are the
///   plan's own; `fail-on-broken` is for audits; the tokens are secrets and never written.
///
/// Durations are in one canonical form (`2w` and `14d` are the same policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyInputs {
    pub tag_regex: Option<String>,
    pub exclude_tag_regex: Option<String>,
    pub older_than: Option<String>,
    pub tag_state: String,
    pub keep_latest: u64,
    pub order_by: String,
    pub rules: Vec<RuleInputs>,
    pub version_ids: Option<Vec<u64>>,
    pub keep_referenced: Option<Vec<String>>,
    pub delete_orphans: bool,
    pub delete_empty_packages: bool,
}

/// One rule of the `rules` input, as [`PolicyInputs`] records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleInputs {
    pub name: Option<String>,
    pub tag_regex: Option<String>,
    pub exclude_tag_regex: Option<String>,
    pub tag_state: String,
    pub older_than: Option<String>,
    pub keep_latest: u64,
    pub group_by: Option<String>,
    pub order_by: String,
}

/// The inputs' defaults: no filter, `tag-state: any`, `order-by: pushed`.
impl Default for PolicyInputs {
    fn default() -> PolicyInputs {
        PolicyInputs {
            tag_regex: None,
            exclude_tag_regex: None,
            older_than: None,
            tag_state: "any".into(),
            keep_latest: 0,
            order_by: "pushed".into(),
            rules: Vec::new(),
            version_ids: None,
            keep_referenced: None,
            delete_orphans: false,
            delete_empty_packages: false,
        }
    }
}

/// A rule's defaults, as the `rules` input's: `tag-state: any`, `order-by: pushed`.
impl Default for RuleInputs {
    fn default() -> RuleInputs {
        RuleInputs {
            name: None,
            tag_regex: None,
            exclude_tag_regex: None,
            tag_state: "any".into(),
            older_than: None,
            keep_latest: 0,
            group_by: None,
            order_by: "pushed".into(),
        }
    }
}

impl PolicyInputs {
    /// `sha256:<hex>` of the inputs' canonical JSON (fields in a fixed order).
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let hex: String = Sha256::digest(&json)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("sha256:{hex}")
    }

    /// The inputs whose values differ between the two, by name.
    pub fn differing(&self, other: &PolicyInputs) -> Vec<&'static str> {
        [
            ("tag-regex", self.tag_regex != other.tag_regex),
            (
                "exclude-tag-regex",
                self.exclude_tag_regex != other.exclude_tag_regex,
            ),
            ("older-than", self.older_than != other.older_than),
            ("tag-state", self.tag_state != other.tag_state),
            ("keep-latest", self.keep_latest != other.keep_latest),
            ("order-by", self.order_by != other.order_by),
            ("rules", self.rules != other.rules),
            ("version-ids", self.version_ids != other.version_ids),
            (
                "keep-referenced",
                self.keep_referenced != other.keep_referenced,
            ),
            (
                "delete-orphans",
                self.delete_orphans != other.delete_orphans,
            ),
            (
                "delete-empty-packages",
                self.delete_empty_packages != other.delete_empty_packages,
            ),
        ]
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(name, _)| name)
        .collect()
    }

    fn check(&self) -> Result<(), String> {
        text("policy inputs: tag-regex", self.tag_regex.as_deref())?;
        text(
            "policy inputs: exclude-tag-regex",
            self.exclude_tag_regex.as_deref(),
        )?;
        duration("policy inputs: older-than", self.older_than.as_deref())?;
        tag_state("policy inputs: tag-state", &self.tag_state)?;
        order_by("policy inputs: order-by", &self.order_by)?;
        if let Some(patterns) = &self.keep_referenced {
            if patterns.is_empty() || patterns.len() > MAX_RULES {
                return Err(format!(
                    "policy inputs: keep-referenced holds {} patterns, and a plan has 1 to {MAX_RULES}",
                    patterns.len()
                ));
            }
            for pattern in patterns {
                text("policy inputs: keep-referenced", Some(pattern))?;
            }
        }
        if self.rules.len() > MAX_RULES {
            return Err(format!("policy inputs: more than {MAX_RULES} rules"));
        }
        for (number, rule) in (1..).zip(&self.rules) {
            let at = format!("policy inputs: rule {number}");
            text(&format!("{at}: name"), rule.name.as_deref())?;
            text(&format!("{at}: tag-regex"), rule.tag_regex.as_deref())?;
            text(
                &format!("{at}: exclude-tag-regex"),
                rule.exclude_tag_regex.as_deref(),
            )?;
            text(&format!("{at}: group-by"), rule.group_by.as_deref())?;
            duration(&format!("{at}: older-than"), rule.older_than.as_deref())?;
            tag_state(&format!("{at}: tag-state"), &rule.tag_state)?;
            order_by(&format!("{at}: order-by"), &rule.order_by)?;
        }
        if let Some(ids) = &self.version_ids {
            if ids.len() > MAX_VERSION_IDS {
                return Err(format!(
                    "policy inputs: more than {MAX_VERSION_IDS} version-ids"
                ));
            }
            if ids.contains(&0) || !ids.windows(2).all(|pair| pair[0] < pair[1]) {
                return Err(
                    "policy inputs: version-ids are not distinct positive ids in order".into(),
                );
            }
        }
        Ok(())
    }
}

/// Why a plan file was refused while it was read: not JSON of this shape, another format,
/// or a field out of bounds or inconsistent with another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPlan(pub String);

impl fmt::Display for BadPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadPlan {}

impl PlanFile {
    /// The plan's fingerprint: the hash of its policy inputs.
    pub fn fingerprint(&self) -> String {
        self.policy.fingerprint()
    }

    /// How many versions the plan deletes, over every package.
    pub fn deletions(&self) -> usize {
        self.packages
            .iter()
            .map(|package| package.delete.len())
            .sum()
    }

    /// The package of this name, if the plan has it.
    pub fn package(&self, name: &str) -> Option<&PlannedPackage> {
        self.packages.iter().find(|package| package.name == name)
    }

    /// The plan as pretty-printed JSON, for people and `jq` alike.
    pub fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(&Wire::from(self)).unwrap_or_default();
        json.push(b'\n');
        json
    }

    /// A plan read back: strict JSON of this format, every field checked (see the module
    /// documentation). At most [`MAX_FILE_BYTES`] are expected; the caller bounds the read.
    pub fn from_json(bytes: &[u8]) -> Result<PlanFile, BadPlan> {
        let marker: Marker = serde_json::from_slice(bytes)
            .map_err(|err| BadPlan(format!("it is not a plan file: {err}")))?;
        match marker.package_janitor_plan {
            Some(serde_json::Value::Number(number)) if number.as_u64() == Some(FORMAT.into()) => {}
            Some(other) => {
                return Err(BadPlan(format!(
                    "it is a plan of format {other}, and this package-janitor reads format {FORMAT}: make the plan again with the same release that applies it"
                )));
            }
            None => {
                return Err(BadPlan(
                    "it is not a plan file (no `package_janitor_plan` field)".into(),
                ));
            }
        }
        let wire: Wire = serde_json::from_slice(bytes)
            .map_err(|err| BadPlan(format!("it is not a plan file of this format: {err}")))?;
        wire.into_plan().map_err(BadPlan)
    }
}

/// The first field read, so that a plan of another format is named as such.
#[derive(Deserialize)]
struct Marker {
    package_janitor_plan: Option<serde_json::Value>,
}

/// The JSON shape, field for field.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    package_janitor_plan: u32,
    made_at: String,
    expires_at: String,
    owner: String,
    api_url: String,
    registry_url: String,
    package_type: String,
    mode: String,
    packages_input: Vec<String>,
    policy: WirePolicy,
    packages: Vec<WirePackage>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePolicy {
    fingerprint: String,
    inputs: PolicyInputs,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePackage {
    name: String,
    listed: u64,
    whole: bool,
    not_planned: Option<String>,
    delete: Vec<WireEntry>,
    kept: WireKept,
    left: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    scope: String,
    id: u64,
    name: String,
    /// The manifest digest, when the name is one (container versions); else null.
    digest: Option<String>,
    tags: Vec<String>,
    created_at: String,
    updated_at: String,
    reason: String,
    rule: Option<String>,
    parent_id: Option<u64>,
    role: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireKept {
    total: u64,
    by_reason: BTreeMap<String, u64>,
    versions: Vec<WireKeptRow>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireKeptRow {
    id: u64,
    name: String,
    tags: Vec<String>,
    updated_at: String,
    reason: String,
}

impl From<&PlanFile> for Wire {
    fn from(plan: &PlanFile) -> Wire {
        Wire {
            package_janitor_plan: FORMAT,
            made_at: rfc3339(plan.made_at),
            expires_at: rfc3339(plan.expires_at),
            owner: plan.owner.clone(),
            api_url: plan.api_url.clone(),
            registry_url: plan.registry_url.clone(),
            package_type: plan.package_type.as_str().to_owned(),
            mode: plan.mode.as_str().to_owned(),
            packages_input: plan.packages_input.clone(),
            policy: WirePolicy {
                fingerprint: plan.fingerprint(),
                inputs: plan.policy.clone(),
            },
            packages: plan.packages.iter().map(WirePackage::from).collect(),
        }
    }
}

impl From<&PlannedPackage> for WirePackage {
    fn from(package: &PlannedPackage) -> WirePackage {
        WirePackage {
            name: package.name.clone(),
            listed: package.listed,
            whole: package.whole,
            not_planned: package.not_planned.clone(),
            delete: package
                .delete
                .iter()
                .map(|entry| {
                    let version = &entry.version;
                    WireEntry {
                        scope: "version".to_owned(),
                        id: version.id,
                        name: version.name.clone(),
                        digest: is_digest(&version.name).then(|| version.name.clone()),
                        tags: version.tags.clone(),
                        created_at: rfc3339(version.created_at),
                        updated_at: rfc3339(version.updated_at),
                        reason: entry.reason.clone(),
                        rule: entry.rule.clone(),
                        parent_id: entry.parent_id,
                        role: entry.role.clone(),
                    }
                })
                .collect(),
            kept: WireKept {
                total: package.kept.total,
                by_reason: package.kept.by_reason.clone(),
                versions: package
                    .kept
                    .versions
                    .iter()
                    .map(|row| WireKeptRow {
                        id: row.id,
                        name: row.name.clone(),
                        tags: row.tags.clone(),
                        updated_at: rfc3339(row.updated_at),
                        reason: row.reason.clone(),
                    })
                    .collect(),
            },
            left: package.left,
        }
    }
}

impl Wire {
    /// The plan, when every field is in bounds and agrees with the others.
    fn into_plan(self) -> Result<PlanFile, String> {
        let made_at = time("made_at", &self.made_at)?;
        let expires_at = time("expires_at", &self.expires_at)?;
        let lifetime = expires_at
            .duration_since(made_at)
            .map_err(|_| "it expires before it was made".to_owned())?;
        if lifetime.is_zero() || lifetime > MAX_LIFETIME {
            return Err(format!(
                "it lives {}, and a plan lives more than 0 s and at most {}",
                humantime::format_duration(lifetime),
                humantime::format_duration(MAX_LIFETIME)
            ));
        }
        let owner_ok = !self.owner.is_empty()
            && self.owner.len() <= 100
            && self
                .owner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !owner_ok {
            return Err("its owner is not a user or organization name".into());
        }
        url("api_url", &self.api_url)?;
        url("registry_url", &self.registry_url)?;
        let package_type = PackageType::ALL
            .into_iter()
            .find(|known| known.as_str() == self.package_type)
            .ok_or_else(|| "its package_type is not a package type".to_owned())?;
        if self.mode != Mode::Delete.as_str() {
            return Err("its mode is not `delete`: only deletions are planned".into());
        }
        if self.packages_input.is_empty() || self.packages_input.len() > MAX_PACKAGES {
            return Err(format!(
                "its packages_input holds {} names, and a plan has 1 to {MAX_PACKAGES}",
                self.packages_input.len()
            ));
        }
        for name in &self.packages_input {
            package_name("packages_input", name)?;
        }
        self.policy.inputs.check()?;
        if self.policy.fingerprint != self.policy.inputs.fingerprint() {
            return Err(
                "its policy fingerprint is not the hash of its policy inputs: the file was changed after it was made".into(),
            );
        }
        if self.packages.len() > MAX_PACKAGES {
            return Err(format!("it has more than {MAX_PACKAGES} packages"));
        }
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        let mut packages = Vec::with_capacity(self.packages.len());
        for package in self.packages {
            if !names.insert(package.name.clone()) {
                return Err(format!("package `{}` is in it twice", package.name));
            }
            packages.push(package.into_package(package_type, &mut ids)?);
        }
        Ok(PlanFile {
            made_at,
            expires_at,
            owner: self.owner,
            api_url: self.api_url,
            registry_url: self.registry_url,
            package_type,
            mode: Mode::Delete,
            packages_input: self.packages_input,
            policy: self.policy.inputs,
            packages,
        })
    }
}

impl WirePackage {
    /// The package, its entries checked; `ids` gathers the ids of the whole plan (GitHub's
    /// version ids are unique across packages).
    fn into_package(
        self,
        package_type: PackageType,
        ids: &mut HashSet<u64>,
    ) -> Result<PlannedPackage, String> {
        package_name("package", &self.name)?;
        let at = format!("package `{}`", self.name);
        optional_text(&at, self.not_planned.as_deref(), MAX_REASON)?;
        if self.not_planned.is_some() && (!self.delete.is_empty() || self.whole) {
            return Err(format!("{at} is not planned, yet has versions to delete"));
        }
        // `left` is not in the sum: it counts versions not yet listed too.
        let counted = (self.delete.len() as u64).checked_add(self.kept.total);
        if counted.is_none_or(|counted| counted > self.listed) {
            return Err(format!(
                "{at} deletes and keeps more versions than it listed"
            ));
        }
        if self.whole && (self.delete.is_empty() || self.delete.len() as u64 != self.listed) {
            return Err(format!(
                "{at} is deleted whole, yet does not delete every version it listed"
            ));
        }
        let own: HashSet<u64> = self.delete.iter().map(|entry| entry.id).collect();
        let mut delete = Vec::with_capacity(self.delete.len());
        for entry in self.delete {
            if !ids.insert(entry.id) {
                return Err(format!("version {} is in it twice", entry.id));
            }
            delete.push(entry.into_entry(&at, package_type, &own)?);
        }
        let kept = self.kept.into_kept(&at)?;
        Ok(PlannedPackage {
            name: self.name,
            listed: self.listed,
            whole: self.whole,
            not_planned: self.not_planned,
            delete,
            kept,
            left: self.left,
        })
    }
}

impl WireEntry {
    /// The entry, checked; `own` holds the ids the package deletes, which a parent must be.
    fn into_entry(
        self,
        at: &str,
        package_type: PackageType,
        own: &HashSet<u64>,
    ) -> Result<PlanEntry, String> {
        let at = format!("{at}: version {}", self.id);
        if self.scope != "version" {
            return Err(format!(
                "{at} has the scope `{}`, and this package-janitor applies `version` entries only",
                self.scope.chars().take(64).collect::<String>()
            ));
        }
        if self.id == 0 {
            return Err(format!("{at} is not a version id"));
        }
        bounded(&format!("{at}: name"), &self.name, MAX_TEXT)?;
        if self.name.is_empty() {
            return Err(format!("{at} has no name"));
        }
        if let Some(digest) = &self.digest
            && (digest != &self.name || !is_digest(digest))
        {
            return Err(format!("{at}: its digest is not its name's digest"));
        }
        if self.digest.is_none() && is_digest(&self.name) {
            return Err(format!("{at}: its digest is missing"));
        }
        tags(&at, package_type, &self.tags)?;
        bounded(&format!("{at}: reason"), &self.reason, MAX_REASON)?;
        optional_text(&format!("{at}: rule"), self.rule.as_deref(), MAX_TEXT)?;
        optional_text(&format!("{at}: role"), self.role.as_deref(), MAX_TEXT)?;
        match self.parent_id {
            Some(parent) if parent == self.id || !own.contains(&parent) => {
                return Err(format!(
                    "{at}: its parent {parent} is not another version this package deletes"
                ));
            }
            Some(_) if self.role.is_none() => return Err(format!("{at} has a parent, no role")),
            None if self.role.is_some() => return Err(format!("{at} has a role, no parent")),
            _ => {}
        }
        Ok(PlanEntry {
            scope: Scope::Version,
            version: Version {
                id: self.id,
                name: self.name,
                tags: self.tags,
                tags_known: true,
                created_at: time(&format!("{at}: created_at"), &self.created_at)?,
                updated_at: time(&format!("{at}: updated_at"), &self.updated_at)?,
                deleted_at: None,
            },
            reason: self.reason,
            rule: self.rule,
            parent_id: self.parent_id,
            role: self.role,
        })
    }
}

impl WireKept {
    fn into_kept(self, at: &str) -> Result<Kept, String> {
        let mut sum: u64 = 0;
        for (reason, count) in &self.by_reason {
            bounded(&format!("{at}: a kept reason"), reason, MAX_TEXT)?;
            sum = sum
                .checked_add(*count)
                .ok_or_else(|| format!("{at}: its kept counts overflow"))?;
        }
        if sum != self.total {
            return Err(format!(
                "{at}: its kept counts add up to {sum}, not its total {}",
                self.total
            ));
        }
        if self.versions.len() > MAX_KEPT_ROWS || self.versions.len() as u64 > self.total {
            return Err(format!("{at}: it lists more kept versions than it keeps"));
        }
        let versions = self
            .versions
            .into_iter()
            .map(|row| {
                let row_at = format!("{at}: kept version {}", row.id);
                bounded(&format!("{row_at}: name"), &row.name, MAX_TEXT)?;
                bounded(&format!("{row_at}: reason"), &row.reason, MAX_REASON)?;
                if row.tags.len() > MAX_TAGS {
                    return Err(format!("{row_at} has more than {MAX_TAGS} tags"));
                }
                for tag in &row.tags {
                    bounded(&format!("{row_at}: a tag"), tag, MAX_TEXT)?;
                }
                Ok(KeptRow {
                    id: row.id,
                    updated_at: time(&format!("{row_at}: updated_at"), &row.updated_at)?,
                    name: row.name,
                    tags: row.tags,
                    reason: row.reason,
                })
            })
            .collect::<Result<Vec<KeptRow>, String>>()?;
        Ok(Kept {
            total: self.total,
            by_reason: self.by_reason,
            versions,
        })
    }
}

/// RFC 3339 in whole seconds, as GitHub writes times. A time outside 1970 to 9999 is not
/// GitHub's (its listing is refused); it is written as the nearest end rather than panic,
/// and then matches no version read back.
fn rfc3339(time: SystemTime) -> String {
    /// 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    const LAST: Duration = Duration::from_secs(253_402_300_799);
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .min(LAST);
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + since).to_string()
}

/// A time in exactly the form [`rfc3339`] writes (`2026-01-02T03:04:05Z`).
fn time(what: &str, text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text).map_err(|_| {
        format!(
            "{what} `{}` is not a time such as 2026-01-02T03:04:05Z",
            text.chars().take(40).collect::<String>()
        )
    })
}

fn bounded(what: &str, text: &str, max: usize) -> Result<(), String> {
    if text.len() > max {
        Err(format!("{what} is longer than {max} bytes"))
    } else {
        Ok(())
    }
}

fn optional_text(what: &str, text: Option<&str>, max: usize) -> Result<(), String> {
    text.map_or(Ok(()), |text| bounded(what, text, max))
}

fn text(what: &str, text: Option<&str>) -> Result<(), String> {
    optional_text(what, text, MAX_TEXT)
}

fn duration(what: &str, text: Option<&str>) -> Result<(), String> {
    let Some(text) = text else { return Ok(()) };
    bounded(what, text, 256)?;
    humantime::parse_duration(text)
        .map(|_| ())
        .map_err(|_| format!("{what} is not a duration"))
}

fn tag_state(what: &str, state: &str) -> Result<(), String> {
    if matches!(state, "any" | "tagged" | "untagged") {
        Ok(())
    } else {
        Err(format!("{what} is not any, tagged or untagged"))
    }
}

fn order_by(what: &str, order: &str) -> Result<(), String> {
    if matches!(order, "pushed" | "version") {
        Ok(())
    } else {
        Err(format!("{what} is not pushed or version"))
    }
}

fn url(what: &str, url: &str) -> Result<(), String> {
    let http = url.starts_with("https://") || url.starts_with("http://");
    if http && url.len() <= MAX_TEXT && !url.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        Ok(())
    } else {
        Err(format!("its {what} is not an http(s) URL"))
    }
}

fn package_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > MAX_TEXT
        || name.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        Err(format!("a name in its {what} is not a package name"))
    } else {
        Ok(())
    }
}

/// Tags: only container and docker versions have them, each a non-empty bounded string,
/// none twice.
fn tags(at: &str, package_type: PackageType, tags: &[String]) -> Result<(), String> {
    if !package_type.has_tags() && !tags.is_empty() {
        return Err(format!(
            "{at} has tags, and {package_type} versions have none"
        ));
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("{at} has more than {MAX_TAGS} tags"));
    }
    let mut seen = HashSet::new();
    for tag in tags {
        if tag.is_empty() || !seen.insert(tag.as_str()) {
            return Err(format!("{at} has an empty tag or a tag twice"));
        }
        bounded(&format!("{at}: a tag"), tag, MAX_TEXT)?;
    }
    Ok(())
}

/// `sha256:` and 64 hex digits.
fn is_digest(name: &str) -> bool {
    name.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests;
