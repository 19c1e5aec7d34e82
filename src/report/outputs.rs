//! The step outputs `ids`, `count`, `failed-ids`, `left-count` and `json`, in
//! GITHUB_OUTPUT's file format.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use super::{RunReport, timestamp};
use crate::model::outcome::Outcome;

/// GitHub drops an output over 1 MB; the lists stop short of that with room to spare.
const MAX_OUTPUT_BYTES: usize = 900_000;

/// The rendered output values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    pub ids: String,
    pub count: usize,
    pub failed_ids: String,
    /// Selected versions left for the next run because the primary budget ran out.
    pub left_count: usize,
    pub json: String,
    /// Names of outputs cut short to stay under GitHub's size limit.
    pub truncated: Vec<&'static str>,
}

impl Outputs {
    pub fn from_report(report: &RunReport) -> Outputs {
        let mut truncated = Vec::new();
        let acted = || {
            report
                .entries()
                .filter(|(_, entry)| entry.outcome.is_acted_on())
                .map(|(_, entry)| entry.version.id.to_string())
        };
        let count = acted().count();
        let (ids, ids_cut) = join_within_limit(acted());
        let failed = report
            .entries()
            .filter(|(_, entry)| matches!(entry.outcome, Outcome::Failed(_)))
            .map(|(_, entry)| entry.version.id.to_string());
        let (failed_ids, failed_cut) = join_within_limit(failed);
        let left_count = report.totals().left;
        let (json, json_cut) = json_within_limit(report);
        for (cut, name) in [
            (ids_cut, "ids"),
            (failed_cut, "failed-ids"),
            (json_cut, "json"),
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
            json,
            truncated,
        }
    }

    /// The text appended to the GITHUB_OUTPUT file. `json` uses the heredoc form with a
    /// delimiter that does not occur in the value.
    pub fn render(&self) -> String {
        let mut delimiter = String::from("PACKAGE_JANITOR_EOF");
        while self.json.contains(&delimiter) {
            delimiter.push('_');
        }
        format!(
            "ids={}\ncount={}\nfailed-ids={}\nleft-count={}\njson<<{delimiter}\n{}\n{delimiter}\n",
            self.ids, self.count, self.failed_ids, self.left_count, self.json
        )
    }

    pub fn append_to(&self, path: &Path) -> anyhow::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open GITHUB_OUTPUT file {}", path.display()))?;
        file.write_all(self.render().as_bytes())
            .with_context(|| format!("cannot write GITHUB_OUTPUT file {}", path.display()))
    }
}

/// Comma-join ids, stopping before the output would pass the size limit.
fn join_within_limit(ids: impl Iterator<Item = String>) -> (String, bool) {
    let mut joined = String::new();
    for id in ids {
        if joined.len() + id.len() + 1 > MAX_OUTPUT_BYTES {
            return (joined, true);
        }
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(&id);
    }
    (joined, false)
}

/// The `json` array, stopping at a whole entry before the size limit so it stays valid.
fn json_within_limit(report: &RunReport) -> (String, bool) {
    let mut array = String::from("[");
    for (package, entry) in report.entries() {
        let version = &entry.version;
        let item = json!({
            "package": package,
            "id": version.id,
            "name": version.name,
            "tags": version.tags,
            "created_at": timestamp(version.created_at),
            "updated_at": timestamp(version.updated_at),
            "deleted_at": version.deleted_at.map(timestamp),
            "outcome": entry.outcome.to_string(),
            "reason": entry.reason,
            "parent_id": entry.relation.as_ref().and_then(|relation| relation.parents.first()),
            "role": entry.relation.as_ref().map(|relation| relation.role.to_string()),
        })
        .to_string();
        if array.len() + item.len() + 2 > MAX_OUTPUT_BYTES {
            array.push(']');
            return (array, true);
        }
        if array.len() > 1 {
            array.push(',');
        }
        array.push_str(&item);
    }
    array.push(']');
    (array, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Entry;
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
                created_at: at,
                updated_at: at,
                deleted_at: None,
            },
            outcome,
            relation: None,
            reason: "matches the policy".to_string(),
        }
    }

    fn report(entries: Vec<Entry>) -> RunReport {
        RunReport {
            packages: vec![PackageReport {
                name: "lib".to_string(),
                listed: entries.len(),
                kept: BTreeMap::new(),
                entries,
                error: None,
                left: None,
                undecided: 0,
            }],
            refusal: None,
            stopped: None,
            now: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn ids_list_what_was_done_and_failed_ids_what_failed() {
        let outputs = Outputs::from_report(&report(vec![
            entry(1, Outcome::Deleted),
            entry(2, Outcome::Skipped("last version".into())),
            entry(3, Outcome::Failed("boom".into())),
            entry(4, Outcome::Deleted),
            entry(5, Outcome::Left("budget".into())),
        ]));
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
    fn render_uses_the_heredoc_form_for_json() {
        let outputs = Outputs::from_report(&report(vec![entry(7, Outcome::WouldDelete)]));
        let text = outputs.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            &lines[..4],
            ["ids=7", "count=1", "failed-ids=", "left-count=0"]
        );
        assert_eq!(lines[4], "json<<PACKAGE_JANITOR_EOF");
        assert_eq!(lines[6], "PACKAGE_JANITOR_EOF");
    }

    #[test]
    fn huge_runs_are_cut_to_valid_outputs_under_the_limit() {
        let entries = (1..=20_000).map(|id| entry(id, Outcome::Deleted)).collect();
        let outputs = Outputs::from_report(&report(entries));
        assert!(outputs.json.len() <= MAX_OUTPUT_BYTES);
        assert!(serde_json::from_str::<serde_json::Value>(&outputs.json).is_ok());
        assert_eq!(outputs.truncated, vec!["json"]);
        assert_eq!(outputs.count, 20_000);
    }
}
