//! Changing: delete and restore of versions and packages, GitHub's refusals, the request log.

use super::*;
use crate::{PackageSeed, RecordedRequest, VersionSeed, days};

const APP: &str = "/orgs/acme/packages/container/app";

fn container(versions: Vec<VersionSeed>) -> FakeGitHub {
    start(world().package(PackageSeed::new("acme", "container", "app").versions(versions)))
}

#[test]
fn a_deleted_version_moves_to_the_deleted_list_and_restore_brings_it_back() {
    let fake = container(vec![
        VersionSeed::new(1, days(5)).tags(&["v1"]),
        VersionSeed::new(2, days(4)).tags(&["v2"]),
    ]);

    let deleted = call(&fake, "DELETE", &format!("{APP}/versions/1"), ALICE);

    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, "");
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![2]);
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![1]);
    assert_eq!(get(&fake, &format!("{APP}/versions"), ALICE).ids(), vec![2]);
    let listed = get(&fake, &format!("{APP}/versions?state=deleted"), ALICE);
    assert_eq!(listed.ids(), vec![1]);
    assert!(listed.json()[0]["deleted_at"].is_string());

    let restored = call(&fake, "POST", &format!("{APP}/versions/1/restore"), ALICE);

    assert_eq!(restored.status, 204);
    assert_eq!(restored.body, "");
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 2]);
    assert!(fake.deleted_ids("acme", "container", "app").is_empty());
}

#[test]
fn deleting_a_deleted_version_or_restoring_an_active_one_is_not_found() {
    let fake = container(vec![
        VersionSeed::new(1, days(5)).tags(&["v1"]),
        VersionSeed::new(2, days(4)).deleted(days(1)),
    ]);

    assert_error(
        &call(&fake, "DELETE", &format!("{APP}/versions/2"), ALICE),
        404,
        "Package not found.",
    );
    assert_error(
        &call(&fake, "POST", &format!("{APP}/versions/1/restore"), ALICE),
        404,
        "Package not found.",
    );
}

#[test]
fn a_version_can_be_restored_only_within_30_days_of_its_deletion() {
    let fake = container(vec![
        VersionSeed::new(1, days(90)).tags(&["keep"]),
        VersionSeed::new(2, days(60)).deleted(days(29)),
        VersionSeed::new(3, days(60)).deleted(days(31)),
    ]);

    let recent = call(&fake, "POST", &format!("{APP}/versions/2/restore"), ALICE);
    let old = call(&fake, "POST", &format!("{APP}/versions/3/restore"), ALICE);

    assert_eq!(recent.status, 204);
    assert_error(&old, 404, "Package not found.");
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![3]);
}

#[test]
fn restoring_a_version_whose_name_is_in_use_again_conflicts() {
    let fake = start(
        world().package(PackageSeed::new("acme", "npm", "lib").versions(vec![
            VersionSeed::new(1, days(9)).named("1.0.0").deleted(days(8)),
            VersionSeed::new(2, days(7)).named("1.0.0"),
        ])),
    );

    let reply = call(
        &fake,
        "POST",
        "/orgs/acme/packages/npm/lib/versions/1/restore",
        ALICE,
    );

    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![2]);
}

#[test]
fn the_last_active_version_of_a_non_container_package_cannot_be_deleted() {
    let message =
        "You cannot delete the last version of a package. You must delete the package instead.";
    for package_type in ["npm", "maven", "nuget", "rubygems", "docker"] {
        let fake = start(
            world().package(PackageSeed::new("acme", package_type, "lib").versions(vec![
                VersionSeed::new(1, days(3)),
                VersionSeed::new(2, days(2)).deleted(days(1)),
            ])),
        );

        let reply = call(
            &fake,
            "DELETE",
            &format!("/orgs/acme/packages/{package_type}/lib/versions/1"),
            ALICE,
        );

        assert_error(&reply, 400, message);
        assert_eq!(
            fake.active_ids("acme", package_type, "lib"),
            vec![1],
            "{package_type}"
        );
    }
}

#[test]
fn the_last_tagged_container_version_cannot_be_deleted_but_untagged_ones_can() {
    let fake = container(vec![
        VersionSeed::new(1, days(5)).tags(&["v1"]),
        VersionSeed::new(2, days(4)),
        VersionSeed::new(3, days(3)),
    ]);

    let untagged = call(&fake, "DELETE", &format!("{APP}/versions/2"), ALICE);
    let tagged = call(&fake, "DELETE", &format!("{APP}/versions/1"), ALICE);
    let last_untagged = call(&fake, "DELETE", &format!("{APP}/versions/3"), ALICE);

    assert_eq!(untagged.status, 204);
    assert_error(
        &tagged,
        400,
        "You cannot delete the last tagged version of a package. You must delete the package instead.",
    );
    assert_eq!(last_untagged.status, 204);
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1]);
}

#[test]
fn public_versions_with_more_than_5000_downloads_cannot_be_deleted() {
    let message = "Publicly visible package versions with more than 5000 downloads cannot be deleted. \
                   Contact GitHub support for further assistance.";
    let versions = || {
        vec![
            VersionSeed::new(1, days(5)).tags(&["keep"]),
            VersionSeed::new(2, days(4)).downloads(5001),
            VersionSeed::new(3, days(3)).downloads(5000),
        ]
    };
    let fake = start(
        world()
            .package(
                PackageSeed::new("acme", "container", "public")
                    .public()
                    .versions(versions()),
            )
            .package(
                PackageSeed::new("acme", "container", "private").versions(
                    versions()
                        .into_iter()
                        .map(|v| VersionSeed { id: v.id + 10, ..v })
                        .collect(),
                ),
            ),
    );
    let delete = |package: &str, id: u64| {
        call(
            &fake,
            "DELETE",
            &format!("/orgs/acme/packages/container/{package}/versions/{id}"),
            ALICE,
        )
    };

    assert_error(&delete("public", 2), 400, message);
    assert_eq!(delete("public", 3).status, 204);
    assert_eq!(delete("private", 12).status, 204);
}

#[test]
fn a_whole_package_can_be_deleted_and_restored() {
    let fake = container(vec![VersionSeed::new(1, days(5)).tags(&["v1"])]);

    let deleted = call(&fake, "DELETE", APP, ALICE);

    assert_eq!(deleted.status, 204);
    assert!(fake.package_deleted("acme", "container", "app"));
    assert_error(&get(&fake, APP, ALICE), 404, "Package not found.");
    assert_error(
        &get(&fake, &format!("{APP}/versions"), ALICE),
        404,
        "Package not found.",
    );
    let listed = get(&fake, "/orgs/acme/packages?package_type=container", ALICE);
    assert!(listed.items().is_empty());

    assert_eq!(
        call(&fake, "POST", &format!("{APP}/restore"), ALICE).status,
        204
    );
    assert!(!fake.package_deleted("acme", "container", "app"));
    assert_eq!(get(&fake, &format!("{APP}/versions"), ALICE).ids(), vec![1]);
    assert_error(
        &call(&fake, "POST", &format!("{APP}/restore"), ALICE),
        404,
        "Package not found.",
    );
}

#[test]
fn every_request_is_recorded_in_order_with_its_status_and_headers() {
    let fake = container(vec![
        VersionSeed::new(1, days(5)).tags(&["v1"]),
        VersionSeed::new(2, days(4)),
    ]);

    get(&fake, &format!("{APP}/versions?per_page=1"), ALICE);
    call(&fake, "DELETE", &format!("{APP}/versions/2"), ALICE);
    request(&fake, "GET", "/user", None);
    get(&fake, "/no/such/route", ALICE);

    let recorded = |method: &str, path: String, status| (method.to_string(), path, status);
    let requests: Vec<_> = fake
        .requests()
        .into_iter()
        .map(
            |RecordedRequest {
                 method,
                 path,
                 status,
                 ..
             }| (method, path, status),
        )
        .collect();
    assert_eq!(
        requests,
        vec![
            recorded("GET", format!("{APP}/versions?per_page=1"), 200),
            recorded("DELETE", format!("{APP}/versions/2"), 204),
            recorded("GET", "/user".into(), 401),
            recorded("GET", "/no/such/route".into(), 404),
        ]
    );
    let first = &fake.requests()[0];
    let bearer = format!("Bearer {ALICE}");
    assert_eq!(
        first.header("Authorization"),
        Some(bearer.as_str()),
        "{first:?}"
    );
    assert_eq!(first.header("connection"), Some("close"), "{first:?}");
    assert_eq!(first.header("user-agent"), None, "{first:?}");
}

#[test]
fn a_seeded_answer_replaces_the_change_and_can_echo_the_authorization_header() {
    let fake = container(vec![
        VersionSeed::new(1, days(5))
            .tags(&["v1"])
            .answers(500, "boom for {authorization}"),
        VersionSeed::new(2, days(4))
            .deleted(days(1))
            .answers(401, "Bad credentials"),
        VersionSeed::new(3, days(3)).tags(&["v3"]),
    ]);

    assert_error(
        &call(&fake, "DELETE", &format!("{APP}/versions/1"), ALICE),
        500,
        &format!("boom for Bearer {ALICE}"),
    );
    assert_error(
        &call(&fake, "POST", &format!("{APP}/versions/2/restore"), ALICE),
        401,
        "Bad credentials",
    );
    assert_eq!(fake.active_ids("acme", "container", "app"), vec![1, 3]);
    assert_eq!(fake.deleted_ids("acme", "container", "app"), vec![2]);
}

#[test]
fn a_seeded_answer_must_be_an_error_status() {
    let seed = world().package(
        PackageSeed::new("acme", "container", "app")
            .version(VersionSeed::new(1, days(5)).answers(204, "fine")),
    );
    assert!(FakeGitHub::start(seed).is_err());
}

#[test]
fn of_two_deleted_packages_with_one_name_the_token_picks_the_one_to_restore() {
    let deleted = |id: u64, token: &str| {
        PackageSeed::new("acme", "npm", "lib")
            .version(VersionSeed::new(id, days(20)))
            .deleted(days(id))
            .restore_token(token)
    };
    let fake = start(
        world()
            .package(deleted(3, "tok-a"))
            .package(deleted(4, "tok-b")),
    );
    let restore = "/orgs/acme/packages/npm/lib/restore";

    assert_error(
        &call(&fake, "GET", "/orgs/acme/packages/npm/lib/versions", ALICE),
        404,
        "Package not found.",
    );
    let without = call(&fake, "POST", restore, ALICE);
    assert_eq!(without.status, 409, "{}", without.body);
    assert!(fake.package_deleted("acme", "npm", "lib"));
    assert_error(
        &call(&fake, "POST", &format!("{restore}?token=nope"), ALICE),
        404,
        "Package not found.",
    );

    let picked = call(&fake, "POST", &format!("{restore}?token=tok-b"), ALICE);

    assert_eq!(picked.status, 204, "{}", picked.body);
    assert!(!fake.package_deleted("acme", "npm", "lib"));
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![4]);
    let reused = call(&fake, "POST", &format!("{restore}?token=tok-a"), ALICE);
    assert_eq!(
        reused.status, 409,
        "the name is in use again: {}",
        reused.body
    );
}

#[test]
fn a_seeded_deleted_package_is_not_listed_until_restored_with_its_versions() {
    let fake = start(
        world().package(
            PackageSeed::new("acme", "npm", "lib")
                .versions(vec![
                    VersionSeed::new(1, days(20)).deleted(days(10)),
                    VersionSeed::new(2, days(15)),
                ])
                .deleted(days(2)),
        ),
    );
    let listed = get(&fake, "/orgs/acme/packages?package_type=npm", ALICE);
    assert!(listed.items().is_empty());

    let restored = call(&fake, "POST", "/orgs/acme/packages/npm/lib/restore", ALICE);

    assert_eq!(restored.status, 204, "{}", restored.body);
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![2]);
    assert_eq!(fake.deleted_ids("acme", "npm", "lib"), vec![1]);
}
