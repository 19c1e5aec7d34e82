//! The step outputs `ids`, `count`, `failed-ids`, `left-count`, `bytes-freed`, `bytes-kept`,
//! `json` and `untagged`, in GITHUB_OUTPUT's file format. `json` lists the selected
//! versions, each package acted on whole, the versions `keep-referenced` kept, and each tag
//! `untag` removed (or `restore-tags` put back). Every string from outside goes through the
//! run's [`Sanitizer`], so the token never reaches an output.

use serde_json::json;

use super::publish::MAX_OUTPUT_BYTES;
use super::sanitize::Sanitizer;
use super::{KeptVersion, RunReport, timestamp};
use crate::model::outcome::{Entry, Outcome, PackageEntry};
use crate::model::untag::{TagEntry, TagOutcome};

/// The rendered output values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    pub ids: String,
    pub count: usize,
    pub failed_ids: String,
    /// Selected versions left for the next run because the primary budget ran out.
    pub left_count: usize,
    /// Bytes the packages no longer reference (or would not, in a dry run) and bytes they
    /// still do: `None` unless every blob that counts was counted.
    pub bytes_freed: Option<u64>,
    pub bytes_kept: Option<u64>,
    pub json: String,
    /// `untag`: the tags removed (or that would be, in a dry run), as a JSON array of
    /// `{package, tag, digest}`, for `restore-tags` to put back; `[]` when none.
    pub untagged: String,
    /// Names of outputs cut short to stay under GitHub's size limit.
    pub truncated: Vec<&'static str>,
}

impl Outputs {
    pub fn from_report(report: &RunReport, clean: &Sanitizer) -> Outputs {
        let mut truncated = Vec::new();
        let acted = || {
            report
                .entries()
                .filter(|(_, entry)| entry.outcome.is_acted_on())
                .map(|(_, entry)| entry.version.id.to_string())
        };
        let count = acted().count();
        let (ids, ids_cut) = within_limit(acted(), "", ",", "");
        // A placeholder left behind is something to delete, so it is listed with the
        // versions that failed.
        let placeholders = report
            .packages
            .iter()
            .flat_map(|package| &package.tags)
            .filter(|entry| matches!(entry.outcome, TagOutcome::Failed(_)))
            .filter_map(|entry| entry.placeholder)
            .map(|id| id.to_string());
        let failed = report
            .entries()
            .filter(|(_, entry)| matches!(entry.outcome, Outcome::Failed(_)))
            .map(|(_, entry)| entry.version.id.to_string())
            .chain(placeholders);
        let (failed_ids, failed_cut) = within_limit(failed, "", ",", "");
        let left_count = report.totals().left;
        let storage = report.storage();
        let bytes_freed = storage.and_then(|(freed, _)| freed.exact());
        let bytes_kept = storage.and_then(|(_, kept)| kept.exact());
        let (json, json_cut) = json_within_limit(report, clean);
        let (untagged, untagged_cut) = untagged_within_limit(report, clean);
        for (cut, name) in [
            (ids_cut, "ids"),
            (failed_cut, "failed-ids"),
            (json_cut, "json"),
            (untagged_cut, "untagged"),
        ] {
            if cut {
                truncated.push(name);
            }
        }
        Outputs {
            ids,
            count,
            failed_ids,
            left_count,
            bytes_freed,
            bytes_kept,
            json,
            untagged,
            truncated,
        }
    }

    /// The text appended to the GITHUB_OUTPUT file. `json` uses the heredoc form with a
    /// delimiter that does not occur in the value; a size not known exactly is empty.
    pub fn render(&self, clean: &Sanitizer) -> String {
        format!(
            "ids={}\ncount={}\nfailed-ids={}\nleft-count={}\n{}{}{}",
            clean.output_value(&self.ids),
            self.count,
            clean.output_value(&self.failed_ids),
            self.left_count,
            bytes_outputs(self.bytes_freed, self.bytes_kept),
            clean.output_heredoc("json", &self.json),
            clean.output_heredoc("untagged", &self.untagged)
        )
    }
}

/// The `bytes-freed` and `bytes-kept` lines: whole numbers of bytes, or empty when a
/// figure is not known exactly (restore mode, packages without sizes, uncounted blobs).
pub fn bytes_outputs(freed: Option<u64>, kept: Option<u64>) -> String {
    let value = |bytes: Option<u64>| bytes.map(|bytes| bytes.to_string()).unwrap_or_default();
    format!("bytes-freed={}\nbytes-kept={}\n", value(freed), value(kept))
}

/// `items` joined by `separator` between `open` and `close`, stopping at a whole item before
/// the output size limit; whether some were left out.
pub(super) fn within_limit(
    items: impl Iterator<Item = String>,
    open: &str,
    separator: &str,
    close: &str,
) -> (String, bool) {
    let mut out = String::from(open);
    let mut first = true;
    for item in items {
        if out.len() + item.len() + separator.len() + close.len() > MAX_OUTPUT_BYTES {
            out.push_str(close);
            return (out, true);
        }
        if !first {
            out.push_str(separator);
        }
        first = false;
        out.push_str(&item);
    }
    out.push_str(close);
    (out, false)
}

/// The `json` array, stopping at a whole entry before the size limit so it stays valid.
/// Strings are redacted before they are serialized, so the array stays valid JSON.
fn json_within_limit(report: &RunReport, clean: &Sanitizer) -> (String, bool) {
    let items = report.packages.iter().flat_map(|package| {
        let whole = package
            .whole
            .as_ref()
            .map(|whole| package_item(&package.name, whole, clean));
        let versions = package
            .entries
            .iter()
            .map(|entry| version_item(&package.name, entry, clean));
        let referenced = package
            .referenced
            .iter()
            .map(|kept| kept_item(&package.name, kept, clean));
        let tags = package
            .tags
            .iter()
            .map(|entry| tag_item(&package.name, entry, clean));
        whole
            .into_iter()
            .chain(versions)
            .chain(referenced)
            .chain(tags)
    });
    within_limit(items, "[", ",", "]")
}

/// The `untagged` array, stopping at a whole entry before the size limit so it stays valid.
fn untagged_within_limit(report: &RunReport, clean: &Sanitizer) -> (String, bool) {
    let removed = report.packages.iter().flat_map(|package| {
        package
            .tags
            .iter()
            .filter(|entry| matches!(entry.outcome, TagOutcome::Removed | TagOutcome::WouldRemove))
            .map(|entry| {
                json!({
                    "package": clean.redact(&package.name),
                    "tag": clean.redact(&entry.tag),
                    "digest": clean.redact(&entry.digest),
                })
                .to_string()
            })
    });
    within_limit(removed, "[", ",", "]")
}

/// A tag removed from (or put back on) an image: `"scope": "tag"`, with the image's
/// version id and digest, the tag, and the placeholder version pushed for it.
fn tag_item(package: &str, entry: &TagEntry, clean: &Sanitizer) -> String {
    let tags: Vec<String> = entry.tags.iter().map(|tag| clean.redact(tag)).collect();
    json!({
        "scope": "tag",
        "package": clean.redact(package),
        "id": entry.id,
        "name": clean.redact(&entry.digest),
        "tags": tags,
        "created_at": null,
        "updated_at": null,
        "deleted_at": null,
        "outcome": clean.redact(&entry.outcome.to_string()),
        "reason": clean.redact(&entry.reason),
        "rule": entry.rule,
        "parent_id": null,
        "role": null,
        "tag": clean.redact(&entry.tag),
        "digest": clean.redact(&entry.digest),
        "placeholder_id": entry.placeholder,
    })
    .to_string()
}

/// A package acted on as a whole: `"scope": "package"`, the version fields null, and the
/// ids of the versions that went or came back with it.
fn package_item(package: &str, whole: &PackageEntry, clean: &Sanitizer) -> String {
    let package = clean.redact(package);
    json!({
        "scope": "package",
        "package": package,
        "id": null,
        "name": package,
        "tags": [],
        "created_at": null,
        "updated_at": null,
        "deleted_at": null,
        "outcome": clean.redact(&whole.outcome.to_string()),
        "reason": clean.redact(&whole.reason),
        "rule": null,
        "parent_id": null,
        "role": null,
        "version_ids": whole.version_ids,
    })
    .to_string()
}

/// A selected version: `"scope": "version"`. Strings from the server or the policy are
/// redacted before they are serialized, so the array stays valid JSON.
fn version_item(package: &str, entry: &Entry, clean: &Sanitizer) -> String {
    let version = &entry.version;
    let listed = entry.outcome.is_listed(version);
    let tags: Vec<String> = version.tags.iter().map(|tag| clean.redact(tag)).collect();
    json!({
        "scope": "version",
        "package": clean.redact(package),
        "id": version.id,
        "name": clean.redact(&version.name),
        "tags": tags,
        "created_at": listed.then(|| timestamp(version.created_at)),
        "updated_at": listed.then(|| timestamp(version.updated_at)),
        "deleted_at": version.deleted_at.map(timestamp),
        "outcome": clean.redact(&entry.outcome.to_string()),
        "reason": clean.redact(&entry.reason),
        "rule": entry.rule,
        "parent_id": entry.relation.as_ref().and_then(|relation| relation.parents.first()),
        "role": entry.relation.as_ref().map(|relation| relation.role.to_string()),
    })
    .to_string()
}

/// A version kept because a file of the workspace names it (`keep-referenced`):
/// `"outcome": "kept"`, the reason saying where (`referenced by deploy/prod.yaml:12`).
fn kept_item(package: &str, kept: &KeptVersion, clean: &Sanitizer) -> String {
    let version = &kept.version;
    let tags: Vec<String> = version.tags.iter().map(|tag| clean.redact(tag)).collect();
    json!({
        "scope": "version",
        "package": clean.redact(package),
        "id": version.id,
        "name": clean.redact(&version.name),
        "tags": tags,
        "created_at": timestamp(version.created_at),
        "updated_at": timestamp(version.updated_at),
        "deleted_at": version.deleted_at.map(timestamp),
        "outcome": "kept",
        "reason": clean.redact(&kept.reason),
        "rule": null,
        "parent_id": null,
        "role": null,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::version::Version;
    use crate::report::PackageReport;
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    fn entry(id: u64, outcome: Outcome) -> Entry {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Entry {
            version: Version {
                id,
                name: format!("1.0.{id}"),
                tags: vec![],
                tags_known: true,
                created_at: at,
                updated_at: at,
                deleted_at: None,
            },
            outcome,
            relation: None,
            reason: "matches the policy".to_string(),
            rule: Some("#1".to_string()),
        }
    }

    fn report(entries: Vec<Entry>) -> RunReport {
        RunReport {
            packages: vec![PackageReport {
                name: "lib".to_string(),
                listed: entries.len(),
                kept: BTreeMap::new(),
                rules: Vec::new(),
                outside_rules: crate::report::Fate::default(),
                kept_versions: Vec::new(),
                entries,
                referenced: Vec::new(),
                error: None,
                left: None,
                whole: None,
                undecided: 0,
                storage: None,
                unreadable: Vec::new(),
                unreadable_count: 0,
                tags: Vec::new(),
            }],
            refusal: None,
            stopped: None,
            interrupted: None,
            now: SystemTime::UNIX_EPOCH,
            plan: None,
        }
    }

    #[test]
    fn ids_list_what_was_done_and_failed_ids_what_failed() {
        let outputs = Outputs::from_report(
            &report(vec![
                entry(1, Outcome::Deleted),
                entry(2, Outcome::Skipped("last version".into())),
                entry(3, Outcome::Failed("boom".into())),
                entry(4, Outcome::Deleted),
                entry(5, Outcome::Left("budget".into())),
            ]),
            &Sanitizer::default(),
        );
        assert_eq!(outputs.ids, "1,4");
        assert_eq!(outputs.count, 2);
        assert_eq!(outputs.failed_ids, "3");
        assert_eq!(outputs.left_count, 1);
        let json: serde_json::Value = serde_json::from_str(&outputs.json).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(5));
        assert_eq!(json[4]["outcome"], "left for the next run: budget");
        assert_eq!(json[1]["outcome"], "skipped: last version");
        assert_eq!(json[1]["reason"], "matches the policy");
        assert_eq!(json[1]["parent_id"], serde_json::Value::Null);
        assert_eq!(json[0]["created_at"], "2023-11-14T22:13:20Z");
        assert_eq!(json[0]["deleted_at"], serde_json::Value::Null);
    }

    #[test]
    fn versions_kept_by_reference_follow_the_selected_ones_as_kept_with_where_and_no_id_in_ids() {
        let mut report = report(vec![entry(1, Outcome::Deleted)]);
        let kept = entry(7, Outcome::Deleted).version;
        report.packages[0].referenced.push(KeptVersion {
            version: kept,
            reason: "referenced by deploy/ghp_secret.yaml:12".to_owned(),
            image: None,
        });
        let outputs = Outputs::from_report(&report, &Sanitizer::new("ghp_secret"));
        assert_eq!(outputs.ids, "1");
        assert_eq!(outputs.count, 1);
        let json: serde_json::Value = serde_json::from_str(&outputs.json).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(2));
        assert_eq!(json[1]["id"], 7);
        assert_eq!(json[1]["scope"], "version");
        assert_eq!(json[1]["outcome"], "kept");
        assert_eq!(json[1]["reason"], "referenced by deploy/***.yaml:12");
    }

    #[test]
    fn a_package_acted_on_whole_has_one_package_entry_before_its_versions_and_no_id() {
        let mut report = report(vec![
            entry(1, Outcome::DeletedWithPackage),
            entry(2, Outcome::DeletedWithPackage),
        ]);
        report.packages[0].whole = Some(PackageEntry {
            outcome: Outcome::Deleted,
            reason: "every version selected".to_string(),
            version_ids: vec![1, 2],
        });
        let outputs = Outputs::from_report(&report, &Sanitizer::default());
        assert_eq!(outputs.ids, "1,2");
        assert_eq!(outputs.count, 2);
        let json: serde_json::Value = serde_json::from_str(&outputs.json).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(3));
        assert_eq!(json[0]["scope"], "package");
        assert_eq!(json[0]["package"], "lib");
        assert_eq!(json[0]["id"], serde_json::Value::Null);
        assert_eq!(json[0]["outcome"], "deleted");
        assert_eq!(json[0]["version_ids"], serde_json::json!([1, 2]));
        assert_eq!(json[1]["scope"], "version");
        assert_eq!(json[1]["outcome"], "deleted (with its package)");
    }

    #[test]
    fn render_uses_the_heredoc_form_for_json() {
        let outputs = Outputs::from_report(
            &report(vec![entry(7, Outcome::WouldDelete)]),
            &Sanitizer::default(),
        );
        let text = outputs.render(&Sanitizer::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            &lines[..6],
            [
                "ids=7",
                "count=1",
                "failed-ids=",
                "left-count=0",
                "bytes-freed=",
                "bytes-kept="
            ]
        );
        assert_eq!(lines[6], "json<<PACKAGE_JANITOR_EOF");
        assert_eq!(lines[8], "PACKAGE_JANITOR_EOF");
    }

    #[test]
    fn bytes_freed_and_kept_are_whole_numbers_summed_over_packages_and_empty_unless_exact() {
        use crate::policy::storage::{Note, Size, Storage};
        let with = |freed: Size, kept: Size| {
            let mut report = report(vec![entry(1, Outcome::Deleted)]);
            report.packages[0].storage = Some(Storage {
                freed,
                kept,
                notes: Vec::new(),
            });
            let mut second = report.packages[0].clone();
            second.name = "other".to_string();
            second.storage = Some(Storage {
                freed: Size::Exact(1),
                kept: Size::Exact(2),
                notes: Vec::new(),
            });
            report.packages.push(second);
            report
        };
        let cases = [
            (
                Size::Exact(9_007_199_254_740_000),
                Size::Exact(0),
                "bytes-freed=9007199254740001\nbytes-kept=2\n",
            ),
            (
                Size::Partial(10),
                Size::Exact(40),
                "bytes-freed=\nbytes-kept=42\n",
            ),
            (
                Size::Exact(10),
                Size::Unknown,
                "bytes-freed=11\nbytes-kept=\n",
            ),
        ];
        for (freed, kept, expected) in cases {
            let text = Outputs::from_report(&with(freed, kept), &Sanitizer::default())
                .render(&Sanitizer::default());
            assert!(text.contains(expected), "{freed:?}, {kept:?}:\n{text}");
        }
        let mut npm = report(vec![entry(1, Outcome::Deleted)]);
        npm.packages[0].storage = Some(Storage {
            freed: Size::Unknown,
            kept: Size::Unknown,
            notes: vec![Note::NoSizes(crate::model::version::PackageType::Npm)],
        });
        let outputs = Outputs::from_report(&npm, &Sanitizer::default());
        assert_eq!((outputs.bytes_freed, outputs.bytes_kept), (None, None));
    }

    #[test]
    fn the_outputs_a_cleanup_writes_are_action_ymls_in_order_and_every_output_has_a_row_in_the_readme()
     {
        let action: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(include_str!("../../action.yml")).expect("action.yml parses");
        let declared: Vec<&str> = action["outputs"]
            .as_mapping()
            .expect("action.yml has outputs")
            .keys()
            .filter_map(|name| name.as_str())
            .collect();
        let clean = Sanitizer::default();
        let text =
            Outputs::from_report(&report(vec![entry(1, Outcome::Deleted)]), &clean).render(&clean);
        let mut written = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some((name, delimiter)) = line.split_once("<<") {
                written.push(name);
                lines.by_ref().find(|line| *line == delimiter);
            } else if let Some((name, _)) = line.split_once('=') {
                written.push(name);
            }
        }
        // `broken` and `orphans` are written by an audit and by `verify`, not by a cleanup's
        // report (see `report::audit` and `run::verify`); they are declared last.
        let by_other_writers = ["broken", "orphans"];
        let (others, cleanup): (Vec<&str>, Vec<&str>) = declared
            .iter()
            .partition(|name| by_other_writers.contains(name));
        assert_eq!(written, cleanup);
        assert_eq!(others, by_other_writers, "declared last, in this order");
        let readme = include_str!("../../README.md");
        for name in declared {
            assert!(
                readme.contains(&format!("\n| `{name}` | ")),
                "no row for output `{name}` in the README"
            );
        }
    }

    #[test]
    fn the_token_is_redacted_from_every_output_and_json_stays_valid() {
        let token = "ghp_outputs_secret_value";
        let mut echoed = entry(9, Outcome::Failed(format!("denied for Bearer {token}")));
        echoed.version.tags = vec![format!("tag-{token}\nPACKAGE_JANITOR_EOF")];
        let clean = Sanitizer::new(token);
        let mut report = report(vec![echoed]);
        report.packages[0].tags = vec![tag_entry(
            &format!("sha-{token}\nPACKAGE_JANITOR_EOF"),
            TagOutcome::Removed,
        )];
        let outputs = Outputs::from_report(&report, &clean);
        let text = outputs.render(&clean);
        assert!(!text.contains(token), "{text}");
        let json: serde_json::Value = serde_json::from_str(&outputs.json).unwrap();
        assert_eq!(json[0]["outcome"], "failed: denied for Bearer ***");
        assert_eq!(json[0]["tags"][0], "tag-***\nPACKAGE_JANITOR_EOF");
        assert_eq!(json[1]["scope"], "tag");
        assert_eq!(json[1]["tag"], "sha-***\nPACKAGE_JANITOR_EOF");
        let untagged: serde_json::Value = serde_json::from_str(&outputs.untagged).unwrap();
        assert_eq!(untagged[0]["tag"], "sha-***\nPACKAGE_JANITOR_EOF");
        // Each heredoc (`json`, `untagged`) ends on its own delimiter line, and no value
        // line can pass for one.
        let delimiters: Vec<&str> = text
            .lines()
            .filter_map(|line| line.split_once("<<").map(|(_, delimiter)| delimiter))
            .collect();
        assert_eq!(delimiters.len(), 2, "{text}");
        let closing: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("PACKAGE"))
            .collect();
        assert_eq!(closing, delimiters, "{text}");
    }

    fn tag_entry(tag: &str, outcome: TagOutcome) -> TagEntry {
        TagEntry {
            id: Some(7),
            digest: format!("sha256:{}", "a".repeat(64)),
            tag: tag.to_string(),
            tags: vec![tag.to_string(), "v1".to_string()],
            outcome,
            reason: "kept by its other tags".to_string(),
            rule: None,
            placeholder: Some(70),
        }
    }

    #[test]
    fn untagged_lists_the_tags_removed_and_a_placeholder_left_is_a_failed_id() {
        let mut report = report(vec![entry(1, Outcome::Deleted)]);
        report.packages[0].tags = vec![
            tag_entry("sha-1", TagOutcome::Removed),
            tag_entry("sha-2", TagOutcome::Skipped("moved".into())),
            tag_entry("sha-3", TagOutcome::Failed("not deleted".into())),
            tag_entry("sha-4", TagOutcome::Superseded("sha256:b".into())),
        ];
        let outputs = Outputs::from_report(&report, &Sanitizer::default());
        let untagged: serde_json::Value = serde_json::from_str(&outputs.untagged).unwrap();
        assert_eq!(
            untagged,
            serde_json::json!([{
                "package": "lib",
                "tag": "sha-1",
                "digest": format!("sha256:{}", "a".repeat(64)),
            }])
        );
        assert_eq!(outputs.ids, "1");
        assert_eq!(outputs.failed_ids, "70");
        let json: serde_json::Value = serde_json::from_str(&outputs.json).unwrap();
        let scopes: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["scope"].as_str().unwrap())
            .collect();
        assert_eq!(scopes, ["version", "tag", "tag", "tag", "tag"]);
        assert_eq!(json[1]["id"], 7);
        assert_eq!(json[1]["placeholder_id"], 70);
        assert_eq!(json[1]["outcome"], "tag removed");
    }

    #[test]
    fn huge_runs_are_cut_to_valid_outputs_under_the_limit() {
        let entries = (1..=20_000).map(|id| entry(id, Outcome::Deleted)).collect();
        let outputs = Outputs::from_report(&report(entries), &Sanitizer::default());
        assert!(outputs.json.len() <= MAX_OUTPUT_BYTES);
        assert!(serde_json::from_str::<serde_json::Value>(&outputs.json).is_ok());
        assert_eq!(outputs.truncated, vec!["json"]);
        assert_eq!(outputs.count, 20_000);
    }
}
