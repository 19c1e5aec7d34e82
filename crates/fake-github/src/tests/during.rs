//! Changes the fake makes by itself while a client runs.

use super::*;
use crate::{PackageSeed, VersionSeed, days};

const LIB: &str = "/orgs/acme/packages/npm/lib";

#[test]
fn a_version_is_published_right_after_the_chosen_delete_is_answered() {
    let fake = start(
        world().package(
            PackageSeed::new("acme", "npm", "lib").versions(
                (1..=3)
                    .map(|id| VersionSeed::new(id, days(10 - id)).named(&format!("1.0.{id}")))
                    .collect(),
            ),
        ),
    );
    fake.publish_after_deletes(2, "acme", "npm", "lib", 9, "2.0.0");

    let listed = get(&fake, &format!("{LIB}/versions"), ALICE);
    assert_eq!(listed.ids(), vec![3, 2, 1], "GETs are not counted");
    assert_eq!(
        call(&fake, "DELETE", &format!("{LIB}/versions/1"), ALICE).status,
        204
    );
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![2, 3]);
    let refused = call(&fake, "DELETE", &format!("{LIB}/versions/77"), ALICE);
    assert_eq!(refused.status, 404, "any DELETE answered counts");
    assert_eq!(fake.active_ids("acme", "npm", "lib"), vec![2, 3, 9]);
    let listed = get(&fake, &format!("{LIB}/versions"), ALICE);
    assert_eq!(listed.ids(), vec![9, 3, 2], "the newest, first in listings");
    assert_eq!(listed.names()[0], "2.0.0");

    call(&fake, "DELETE", &format!("{LIB}/versions/2"), ALICE);
    assert_eq!(
        fake.active_ids("acme", "npm", "lib"),
        vec![3, 9],
        "published once"
    );
}
