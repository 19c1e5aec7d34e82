//! Tests of the plan file: it round-trips, and a file changed in any field is refused with
//! what is wrong.

use std::time::UNIX_EPOCH;

use serde_json::{Value, json};

use super::*;

const DAY: u64 = 86_400;

fn at(days: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(20_000 * DAY + days * DAY)
}

fn digest(id: u64) -> String {
    format!("sha256:{id:064x}")
}

fn entry(id: u64, tags: &[&str], parent: Option<u64>) -> PlanEntry {
    PlanEntry {
        scope: Scope::Version,
        version: Version {
            id,
            name: digest(id),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            tags_known: true,
            created_at: at(1),
            updated_at: at(2),
            deleted_at: None,
        },
        reason: "matches the policy".into(),
        rule: Some("#1".into()),
        parent_id: parent,
        role: parent.map(|_| "platform manifest linux/amd64".into()),
    }
}

/// A plan of two packages: `app` deletes an index and its platform manifest and keeps one
/// version; `lib` could not be listed.
fn plan() -> PlanFile {
    PlanFile {
        made_at: at(10),
        expires_at: at(11),
        owner: "acme".into(),
        api_url: "https://api.github.com".into(),
        registry_url: "https://ghcr.io".into(),
        package_type: PackageType::Container,
        mode: Mode::Delete,
        packages_input: vec!["app".into(), "lib-*".into()],
        policy: PolicyInputs {
            tag_regex: Some("^pr-".into()),
            older_than: Some("14days".into()),
            tag_state: "any".into(),
            ..PolicyInputs::default()
        },
        packages: vec![
            PlannedPackage {
                name: "app".into(),
                listed: 3,
                whole: false,
                not_planned: None,
                delete: vec![entry(1, &["pr-1"], None), entry(2, &[], Some(1))],
                kept: Kept {
                    total: 1,
                    by_reason: BTreeMap::from([("older-than".into(), 1)]),
                    versions: vec![KeptRow {
                        id: 3,
                        name: digest(3),
                        tags: vec!["v1".into()],
                        updated_at: at(9),
                        reason: "updated more recently than older-than".into(),
                    }],
                },
                left: 0,
            },
            PlannedPackage {
                name: "lib-a".into(),
                listed: 0,
                whole: false,
                not_planned: Some("listing failed".into()),
                delete: Vec::new(),
                kept: Kept::default(),
                left: 0,
            },
        ],
    }
}

fn as_value(plan: &PlanFile) -> Value {
    serde_json::from_slice(&plan.to_json()).expect("a plan is JSON")
}

fn read(value: &Value) -> Result<PlanFile, BadPlan> {
    PlanFile::from_json(value.to_string().as_bytes())
}

#[test]
fn a_plan_reads_back_as_it_was_written() {
    let plan = plan();
    let json = plan.to_json();
    assert_eq!(PlanFile::from_json(&json), Ok(plan.clone()));
    let value = as_value(&plan);
    assert_eq!(value["package_janitor_plan"], 1);
    assert_eq!(value["policy"]["fingerprint"], plan.fingerprint());
    assert_eq!(value["packages"][0]["delete"][0]["scope"], "version");
    assert_eq!(value["packages"][0]["delete"][0]["digest"], digest(1));
    assert_eq!(value["packages"][0]["delete"][1]["parent_id"], 1);
    assert_eq!(value["made_at"], "2024-10-14T00:00:00Z");
    assert_eq!(plan.deletions(), 2);
}

/// A change to the JSON, what it breaks, and the words the refusal must hold.
type Change = (&'static str, fn(&mut Value), &'static str);

#[test]
fn a_plan_changed_in_any_field_is_refused_with_what_is_wrong() {
    let changes: &[Change] = &[
        (
            "an unknown field",
            |v| v["extra"] = json!(1),
            "unknown field `extra`",
        ),
        (
            "an unknown field in an entry",
            |v| v["packages"][0]["delete"][0]["deleted_at"] = json!(null),
            "unknown field `deleted_at`",
        ),
        (
            "a missing field",
            |v| {
                v.as_object_mut().map(|o| o.remove("owner"));
            },
            "missing field `owner`",
        ),
        (
            "another format",
            |v| v["package_janitor_plan"] = json!(2),
            "format 2",
        ),
        (
            "not a plan",
            |v| {
                v.as_object_mut().map(|o| o.remove("package_janitor_plan"));
            },
            "not a plan file",
        ),
        (
            "a time in another form",
            |v| v["made_at"] = json!("2024-10-14 00:00:00"),
            "made_at",
        ),
        (
            "an expiry before the making",
            |v| v["expires_at"] = json!("2024-10-13T00:00:00Z"),
            "expires before it was made",
        ),
        (
            "a lifetime past 30 days",
            |v| v["expires_at"] = json!("2025-10-14T00:00:00Z"),
            "at most 30days",
        ),
        (
            "an owner that is not a name",
            |v| v["owner"] = json!("acme/../x"),
            "owner",
        ),
        (
            "an API that is not a URL",
            |v| v["api_url"] = json!("file:///etc"),
            "api_url",
        ),
        (
            "an unknown package type",
            |v| v["package_type"] = json!("pip"),
            "package_type",
        ),
        (
            "a restore plan",
            |v| v["mode"] = json!("restore"),
            "not `delete`",
        ),
        (
            "no packages input",
            |v| v["packages_input"] = json!([]),
            "packages_input",
        ),
        (
            "policy inputs edited",
            |v| v["policy"]["inputs"]["keep-latest"] = json!(5),
            "fingerprint is not the hash",
        ),
        (
            "a bad fingerprint",
            |v| v["policy"]["fingerprint"] = json!("sha256:00"),
            "fingerprint is not the hash",
        ),
        (
            "an unknown policy input",
            |v| v["policy"]["inputs"]["max-versions"] = json!(3),
            "unknown field `max-versions`",
        ),
        (
            "a package twice",
            |v| v["packages"][1]["name"] = json!("app"),
            "twice",
        ),
        (
            "a version twice",
            |v| v["packages"][0]["delete"][1]["id"] = json!(1),
            "twice",
        ),
        (
            "another scope",
            |v| v["packages"][0]["delete"][0]["scope"] = json!("tag"),
            "scope `tag`",
        ),
        (
            "id 0",
            |v| v["packages"][0]["delete"][0]["id"] = json!(0),
            "not a version id",
        ),
        (
            "a negative id",
            |v| v["packages"][0]["delete"][0]["id"] = json!(-1),
            "not a plan file of this format",
        ),
        (
            "a digest that is not the name",
            |v| v["packages"][0]["delete"][0]["digest"] = json!(digest(9)),
            "digest",
        ),
        (
            "a digest name without its digest",
            |v| v["packages"][0]["delete"][0]["digest"] = json!(null),
            "digest is missing",
        ),
        (
            "a tag twice",
            |v| v["packages"][0]["delete"][0]["tags"] = json!(["a", "a"]),
            "tag twice",
        ),
        (
            "a huge tag",
            |v| v["packages"][0]["delete"][0]["tags"] = json!(["x".repeat(5_000)]),
            "longer than",
        ),
        (
            "a parent outside the plan",
            |v| v["packages"][0]["delete"][1]["parent_id"] = json!(77),
            "parent 77",
        ),
        (
            "a parent without a role",
            |v| v["packages"][0]["delete"][1]["role"] = json!(null),
            "no role",
        ),
        (
            "more planned than listed",
            |v| v["packages"][0]["listed"] = json!(2),
            "more versions than it listed",
        ),
        (
            "whole, yet versions kept",
            |v| v["packages"][0]["whole"] = json!(true),
            "deleted whole",
        ),
        (
            "kept counts that do not add up",
            |v| v["packages"][0]["kept"]["total"] = json!(0),
            "add up",
        ),
        (
            "not planned, yet deleting",
            |v| v["packages"][0]["not_planned"] = json!("failed"),
            "not planned",
        ),
        (
            "a tag-state that is not one",
            |v| v["policy"]["inputs"]["tag-state"] = json!("some"),
            "tag-state",
        ),
    ];
    for (what, change, expected) in changes {
        let mut value = as_value(&plan());
        change(&mut value);
        let err = read(&value).expect_err(what);
        assert!(err.0.contains(expected), "{what}: {err}");
    }
}

#[test]
fn a_field_given_twice_is_refused() {
    let text = String::from_utf8(plan().to_json()).expect("UTF-8");
    let twice = text.replacen(
        "\"owner\": \"acme\"",
        "\"owner\": \"acme\", \"owner\": \"evil\"",
        1,
    );
    assert_ne!(twice, text);
    let err = PlanFile::from_json(twice.as_bytes()).expect_err("owner twice");
    assert!(err.0.contains("duplicate field `owner`"), "{err}");
}

#[test]
fn inputs_that_differ_are_named_and_change_the_fingerprint() {
    let base = plan().policy;
    let cases: [(PolicyInputs, &[&str]); 4] = [
        (base.clone(), &[]),
        (
            PolicyInputs {
                keep_latest: 3,
                ..base.clone()
            },
            &["keep-latest"],
        ),
        (
            PolicyInputs {
                tag_regex: None,
                delete_orphans: true,
                ..base.clone()
            },
            &["tag-regex", "delete-orphans"],
        ),
        (
            PolicyInputs {
                rules: vec![RuleInputs {
                    tag_state: "any".into(),
                    ..RuleInputs::default()
                }],
                ..base.clone()
            },
            &["rules"],
        ),
    ];
    for (other, expected) in cases {
        assert_eq!(base.differing(&other), expected);
        assert_eq!(
            base.fingerprint() == other.fingerprint(),
            expected.is_empty(),
            "{expected:?}"
        );
    }
    assert!(base.fingerprint().starts_with("sha256:"));
    assert_eq!(base.fingerprint().len(), "sha256:".len() + 64);
}

#[test]
fn a_time_out_of_rfc_3339_is_written_as_the_nearest_end_without_panicking() {
    let mut plan = plan();
    plan.packages[0].delete[0].version.updated_at =
        UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    plan.packages[0].delete[1].version.created_at = UNIX_EPOCH - Duration::from_secs(1);
    let value = as_value(&plan);
    let entries = &value["packages"][0]["delete"];
    assert_eq!(entries[0]["updated_at"], "9999-12-31T23:59:59Z");
    assert_eq!(entries[1]["created_at"], "1970-01-01T00:00:00Z");
}
