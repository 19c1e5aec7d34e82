//! Reading: version and package listings, pagination, JSON shapes, names with `/`, 422.

use super::*;
use crate::{OwnerSeed, PackageSeed, UsersListing, VersionSeed, days};

/// `count` versions of acme's container `app`, ids 1..=count, version `n` created `n` days ago.
fn app_with_versions(count: u64) -> FakeGitHub {
    let versions = (1..=count)
        .map(|id| VersionSeed::new(id, days(id)))
        .collect();
    start(world().package(PackageSeed::new("acme", "container", "app").versions(versions)))
}

const VERSIONS: &str = "/orgs/acme/packages/container/app/versions";

/// The `<url>` given for `rel` in a Link header.
fn link<'a>(reply: &'a Reply, rel: &str) -> Option<&'a str> {
    let header = reply.header("link")?;
    header.split(", ").find_map(|part| {
        let (url, kind) = part.split_once("; ")?;
        (kind == format!("rel=\"{rel}\"")).then(|| url.trim_matches(['<', '>']))
    })
}

#[test]
fn versions_are_listed_newest_first_with_ties_broken_by_higher_id() {
    let fake = start(
        world().package(PackageSeed::new("acme", "npm", "lib").versions(vec![
            VersionSeed::new(1, days(9)),
            VersionSeed::new(2, days(1)),
            VersionSeed::new(3, days(5)),
            VersionSeed::new(4, days(5)),
        ])),
    );

    let reply = get(&fake, "/orgs/acme/packages/npm/lib/versions", ALICE);

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.ids(), vec![2, 4, 3, 1]);
}

#[test]
fn listing_defaults_to_30_per_page_and_links_next_and_last_with_absolute_urls() {
    let fake = app_with_versions(35);

    let first = get(&fake, VERSIONS, ALICE);

    assert_eq!(first.ids(), (1..=30).collect::<Vec<_>>());
    let next = format!("{}{VERSIONS}?page=2", fake.url());
    assert_eq!(link(&first, "next"), Some(next.as_str()));
    assert_eq!(link(&first, "last"), Some(next.as_str()));
    assert_eq!(link(&first, "prev"), None);

    let second = get(&fake, &format!("{VERSIONS}?page=2"), ALICE);
    assert_eq!(second.ids(), (31..=35).collect::<Vec<_>>());
    assert_eq!(link(&second, "next"), None);
    let first_url = format!("{}{VERSIONS}?page=1", fake.url());
    assert_eq!(link(&second, "prev"), Some(first_url.as_str()));
    assert_eq!(link(&second, "first"), Some(first_url.as_str()));
}

#[test]
fn listing_caps_per_page_at_100() {
    let fake = app_with_versions(150);

    let reply = get(&fake, &format!("{VERSIONS}?per_page=500"), ALICE);

    assert_eq!(reply.ids().len(), 100);
    let last = format!("{}{VERSIONS}?per_page=500&page=2", fake.url());
    assert_eq!(link(&reply, "last"), Some(last.as_str()));
}

#[test]
fn following_next_links_visits_every_version_once() {
    let fake = app_with_versions(20);
    let (mut seen, mut path) = (Vec::new(), Some(format!("{VERSIONS}?per_page=7")));

    while let Some(current) = path.take() {
        let reply = get(&fake, &current, ALICE);
        seen.extend(reply.ids());
        path = link(&reply, "next").map(|url| url.trim_start_matches(&fake.url()).to_owned());
        assert!(seen.len() <= 20, "the links loop");
    }

    assert_eq!(seen, (1..=20).collect::<Vec<_>>());
}

#[test]
fn the_link_header_is_absent_when_everything_fits_one_page() {
    let fake = app_with_versions(30);

    let reply = get(&fake, VERSIONS, ALICE);

    assert_eq!(reply.ids().len(), 30);
    assert_eq!(reply.header("link"), None);
}

#[test]
fn state_deleted_lists_only_deleted_versions_with_their_deletion_time() {
    let fake = start(
        world().package(PackageSeed::new("acme", "container", "app").versions(vec![
            VersionSeed::new(1, days(10)).tags(&["v1"]),
            VersionSeed::new(2, days(9)).deleted(days(2)),
            VersionSeed::new(3, days(8)).deleted(days(1)),
        ])),
    );

    let active = get(&fake, VERSIONS, ALICE);
    let explicit_active = get(&fake, &format!("{VERSIONS}?state=active"), ALICE);
    let deleted = get(&fake, &format!("{VERSIONS}?state=deleted"), ALICE);
    let unknown = get(&fake, &format!("{VERSIONS}?state=gone"), ALICE);

    assert_eq!(active.ids(), vec![1]);
    assert_eq!(explicit_active.ids(), vec![1]);
    assert_eq!(deleted.ids(), vec![3, 2]);
    assert!(active.json()[0].get("deleted_at").is_none());
    assert!(
        deleted.json()[0]["deleted_at"]
            .as_str()
            .is_some_and(is_timestamp)
    );
    assert_eq!(unknown.status, 422);
}

/// `2026-01-02T03:04:05Z`: RFC 3339, UTC, whole seconds.
fn is_timestamp(text: &str) -> bool {
    let shape = text.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'Z',
        _ => b.is_ascii_digit(),
    });
    text.len() == 20 && shape
}

#[test]
fn versions_have_the_documented_shape_for_each_package_type() {
    let fake = start(
        world()
            .package(PackageSeed::new("acme", "container", "app").versions(vec![
                VersionSeed::new(1, days(3)).tags(&["v1", "latest"]).updated(days(1)),
                VersionSeed::new(2, days(2)).named("sha256:abc"),
            ]))
            .package(
                PackageSeed::new("acme", "docker", "legacy")
                    .versions(vec![VersionSeed::new(3, days(3)).tags(&["old"])]),
            )
            .package(
                PackageSeed::new("acme", "maven", "com.acme.lib")
                    .versions(vec![VersionSeed::new(4, days(3)).named("1.0.4")]),
            ),
    );

    let tagged = get(&fake, &format!("{VERSIONS}/1"), ALICE).json();
    let named = get(&fake, &format!("{VERSIONS}/2"), ALICE).json();
    let docker = get(&fake, "/orgs/acme/packages/docker/legacy/versions/3", ALICE).json();
    let maven = get(
        &fake,
        "/orgs/acme/packages/maven/com.acme.lib/versions/4",
        ALICE,
    )
    .json();

    let digest = tagged["name"].as_str().expect("a name");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        tagged["metadata"],
        serde_json::json!({"package_type": "container", "container": {"tags": ["v1", "latest"]}})
    );
    assert_eq!(tagged["url"], format!("{}{VERSIONS}/1", fake.url()));
    for field in ["package_html_url", "html_url"] {
        let url = tagged[field].as_str().expect("a URL");
        assert!(
            url.starts_with(&format!("{}/", fake.url())),
            "{field}: {url}"
        );
    }
    for field in ["created_at", "updated_at"] {
        assert!(
            tagged[field].as_str().is_some_and(is_timestamp),
            "{field}: {}",
            tagged[field]
        );
    }
    assert_ne!(tagged["created_at"], tagged["updated_at"]);
    assert!(tagged.get("deleted_at").is_none());
    assert_eq!(named["name"], "sha256:abc");
    assert_eq!(
        named["metadata"]["container"]["tags"],
        serde_json::json!([])
    );
    assert_eq!(
        docker["metadata"],
        serde_json::json!({"package_type": "docker", "docker": {"tag": ["old"]}})
    );
    assert_eq!(maven["name"], "1.0.4");
    assert_eq!(
        maven["metadata"],
        serde_json::json!({"package_type": "maven"})
    );
}

#[test]
fn packages_have_the_documented_shape() {
    let fake = start(
        world()
            .package(
                PackageSeed::new("acme", "container", "app")
                    .public()
                    .repository("acme/app")
                    .versions(vec![
                        VersionSeed::new(1, days(3)),
                        VersionSeed::new(2, days(2)).deleted(days(1)),
                    ]),
            )
            .package(
                PackageSeed::new("alice", "npm", "tool").version(VersionSeed::new(3, days(1))),
            ),
    );

    let app = get(&fake, "/orgs/acme/packages/container/app", ALICE).json();
    let tool = get(&fake, "/user/packages/npm/tool", ALICE).json();

    assert_eq!(app["name"], "app");
    assert_eq!(app["package_type"], "container");
    assert_eq!(app["visibility"], "public");
    assert_eq!(app["version_count"], 1);
    assert_eq!(app["owner"]["login"], "acme");
    assert_eq!(app["owner"]["type"], "Organization");
    assert_eq!(app["repository"]["full_name"], "acme/app");
    assert_eq!(
        app["url"],
        format!("{}/orgs/acme/packages/container/app", fake.url())
    );
    assert!(
        app["html_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&fake.url()))
    );
    assert!(app["created_at"].as_str().is_some_and(is_timestamp));
    assert!(app["id"].is_u64());
    assert_eq!(tool["visibility"], "private");
    assert_eq!(tool["repository"], Value::Null);
    assert_eq!(tool["owner"]["type"], "User");
    assert_eq!(
        tool["url"],
        format!("{}/users/alice/packages/npm/tool", fake.url())
    );
}

#[test]
fn a_percent_encoded_slash_names_one_package_and_a_bare_slash_does_not() {
    let versions = (1..=3).map(|id| VersionSeed::new(id, days(id))).collect();
    let fake = start(
        world().package(PackageSeed::new("acme", "container", "team/app").versions(versions)),
    );

    let package = get(&fake, "/orgs/acme/packages/container/team%2Fapp", ALICE);
    let listing = get(
        &fake,
        "/orgs/acme/packages/container/team%2Fapp/versions?per_page=2",
        ALICE,
    );
    let bare = get(&fake, "/orgs/acme/packages/container/team/app", ALICE);
    let bare_versions = get(
        &fake,
        "/orgs/acme/packages/container/team/app/versions",
        ALICE,
    );

    assert_eq!(package.status, 200, "{}", package.body);
    assert_eq!(package.json()["name"], "team/app");
    assert_eq!(
        package.json()["url"],
        format!("{}/orgs/acme/packages/container/team%2Fapp", fake.url())
    );
    assert_eq!(listing.ids(), vec![1, 2]);
    let next = format!(
        "{}/orgs/acme/packages/container/team%2Fapp/versions?per_page=2&page=2",
        fake.url()
    );
    assert_eq!(link(&listing, "next"), Some(next.as_str()));
    assert_error(&bare, 404, "Not Found");
    assert_error(&bare_versions, 404, "Not Found");
}

#[test]
fn a_version_id_that_is_not_an_integer_is_refused_with_422() {
    let fake = app_with_versions(2);
    let message = "The version_id parameter must be an integer.";

    for id in ["sha256:0123abcd", "latest", "1.5", "-1"] {
        for method in ["GET", "DELETE"] {
            let reply = call(&fake, method, &format!("{VERSIONS}/{id}"), ALICE);
            assert_error(&reply, 422, message);
        }
        let restore = call(&fake, "POST", &format!("{VERSIONS}/{id}/restore"), ALICE);
        assert_error(&restore, 422, message);
    }
}

#[test]
fn an_unknown_package_or_version_is_not_found() {
    let fake = app_with_versions(1);

    for path in [
        "/orgs/acme/packages/container/nope",
        "/orgs/acme/packages/npm/app",
        "/orgs/acme/packages/pypi/app/versions",
        "/orgs/acme/packages/container/app/versions/999",
        "/orgs/nobody/packages/container/app",
    ] {
        assert_error(&get(&fake, path, ALICE), 404, "Package not found.");
    }
}

#[test]
fn listing_packages_filters_by_type_and_pages_like_versions() {
    let mut seed = world();
    for n in 0..5 {
        seed = seed.package(PackageSeed::new("acme", "container", &format!("img{n}")));
    }
    let fake = start(seed.package(PackageSeed::new("acme", "npm", "lib")));

    let containers = get(
        &fake,
        "/orgs/acme/packages?package_type=container&per_page=2",
        ALICE,
    );
    let npm = get(&fake, "/orgs/acme/packages?package_type=npm", ALICE);
    let untyped = get(&fake, "/orgs/acme/packages", ALICE);

    assert_eq!(containers.names(), vec!["img0", "img1"]);
    let last = format!(
        "{}/orgs/acme/packages?package_type=container&per_page=2&page=3",
        fake.url()
    );
    assert_eq!(link(&containers, "last"), Some(last.as_str()));
    assert_eq!(npm.names(), vec!["lib"]);
    assert_eq!(untyped.status, 422);
}

#[test]
fn listing_packages_refuses_pages_past_the_first_10000_results() {
    let fake = start(world().package(PackageSeed::new("acme", "container", "app")));
    let list = |query: &str| {
        get(
            &fake,
            &format!("/orgs/acme/packages?package_type=container&{query}"),
            ALICE,
        )
    };

    let cases = [
        ("per_page=100&page=100", 200),
        ("per_page=100&page=101", 400),
        ("page=334", 400),
        ("page=333", 200),
        ("per_page=1000&page=101", 400),
    ];
    for (query, status) in cases {
        assert_eq!(list(query).status, status, "{query}");
    }
}

#[test]
fn users_are_described_with_their_type() {
    let fake = start(world());

    let org = get(&fake, "/users/acme", ALICE).json();
    let me = get(&fake, "/user", ALICE).json();

    assert_eq!(
        (org["login"].as_str(), org["type"].as_str()),
        (Some("acme"), Some("Organization"))
    );
    assert_eq!(
        (me["login"].as_str(), me["type"].as_str()),
        (Some("alice"), Some("User"))
    );
    assert!(me["id"].is_u64());
    assert_error(&get(&fake, "/users/nobody", ALICE), 404, "Not Found");
}

#[test]
fn docker_conflicts_list_the_seeded_conflicts_to_a_pat_and_refuse_a_github_token() {
    let fake = start(
        world()
            .package(PackageSeed::new("acme", "docker", "legacy").docker_conflict())
            .package(PackageSeed::new("acme", "docker", "fine")),
    );
    let reply = get(&fake, "/orgs/acme/docker/conflicts", ALICE);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let listed = reply.json();
    let names: Vec<&str> = listed
        .as_array()
        .map(|items| items.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["legacy"]);
    assert_eq!(get(&fake, "/orgs/acme/docker/conflicts", CI).status, 403);
}

/// bob's public npm package `lib`: versions 1..=5 (5 newest), 2 and 4 deleted, listed the
/// way `listing` says through `/users/bob`.
fn bobs_lib(listing: UsersListing) -> FakeGitHub {
    start(
        world()
            .owner(OwnerSeed::user("bob").users_listing(listing))
            .package(
                PackageSeed::new("bob", "npm", "lib")
                    .public()
                    .versions(vec![
                        VersionSeed::new(1, days(5)),
                        VersionSeed::new(2, days(4)).deleted(days(1)),
                        VersionSeed::new(3, days(3)),
                        VersionSeed::new(4, days(2)).deleted(days(1)),
                        VersionSeed::new(5, days(1)),
                    ]),
            ),
    )
}

const BOBS_LIB: &str = "/users/bob/packages/npm/lib/versions";

#[test]
fn a_users_listing_seeded_to_ignore_page_per_page_and_state_gives_every_version_on_one_page() {
    let fake = bobs_lib(UsersListing::OnePage);
    for query in ["", "?state=active", "?state=deleted&per_page=1&page=2"] {
        let reply = get(&fake, &format!("{BOBS_LIB}{query}"), BOB);
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(reply.ids(), vec![5, 4, 3, 2, 1], "{query}");
        assert_eq!(reply.header("link"), None, "{query}");
        let deleted: Vec<bool> = reply
            .items()
            .iter()
            .map(|item| item["deleted_at"].is_string())
            .collect();
        assert_eq!(deleted, vec![false, true, false, true, false], "{query}");
    }
}

#[test]
fn a_users_listing_with_its_own_paging_links_each_page_by_its_own_cursor() {
    let fake = bobs_lib(UsersListing::OwnPages(2));
    let mut pages = Vec::new();
    let mut path = Some(format!("{BOBS_LIB}?per_page=100&state=active&page=1"));
    while let Some(current) = path.take() {
        let reply = get(&fake, &current, BOB);
        assert_eq!(reply.status, 200, "{current}: {}", reply.body);
        assert_eq!(link(&reply, "last"), None, "{current}");
        pages.push(reply.ids());
        path = link(&reply, "next").map(|url| url.replace(&fake.url(), ""));
        if let Some(next) = &path {
            assert!(next.starts_with(&format!("{BOBS_LIB}?cursor=")), "{next}");
        }
    }
    assert_eq!(pages, vec![vec![5, 4], vec![3, 2], vec![1]]);
}

#[test]
fn only_the_users_route_ignores_the_parameters_and_only_for_an_owner_seeded_so() {
    let honours = bobs_lib(UsersListing::Honours);
    let deleted = get(&honours, &format!("{BOBS_LIB}?state=deleted"), BOB);
    assert_eq!(deleted.ids(), vec![4, 2]);
    let ignores = bobs_lib(UsersListing::OnePage);
    let own = get(&ignores, "/user/packages/npm/lib/versions?per_page=1", BOB);
    assert_eq!(own.ids(), vec![5], "the /user route still honours them");
    assert!(link(&own, "next").is_some());
}
