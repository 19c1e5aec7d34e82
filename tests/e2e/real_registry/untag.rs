//! `untag` and `restore-tags` against the real registry: double-tagged images built with
//! buildah (an OCI index, a Docker manifest list, a single OCI image), untagged by the run
//! (placeholders pushed to the registry and deleted through the fake, which mirrors it);
//! every kept tag still pulls whole with `skopeo copy --all`, the registry holds exactly
//! what it held minus the one build deleted whole (no placeholder left behind), and the
//! restore puts each removed tag back on the digest it named.

use super::*;

impl Lab {
    /// Tags the manifest `from` names with `to` as well, keeping its digest.
    fn add_tag(&self, from: &str, to: &str) {
        self.skopeo(&[
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{}:{from}", self.repository),
            &format!("docker://{}:{to}", self.repository),
        ])
        .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            self.manifest_digest(to),
            self.manifest_digest(from),
            "{to} names what {from} names"
        );
    }
}

#[test]
fn untagging_a_real_registry_keeps_every_release_whole_and_restore_puts_each_tag_back_on_its_digest()
 {
    let Some(lab) = Lab::start_or_skip(Deletes::Enabled) else {
        return;
    };
    let oci = lab.release("v1.0.0", Format::Oci, false);
    lab.add_tag("v1.0.0", "sha-1111");
    let docker = lab.release("v1.1.0", Format::Docker, false);
    lab.add_tag("v1.1.0", "sha-2222");
    let single = lab.single_image("v0.9.0", "amd64", "old", false);
    lab.add_tag("v0.9.0", "sha-0000");
    let build = lab.single_image("sha-3333", "arm64", "build", false);
    let recent = lab.single_image("v1.2.0", "amd64", "recent", false);
    lab.add_tag("v1.2.0", "sha-4444");
    let everything: BTreeSet<String> = [
        oci.all(),
        docker.all(),
        single.all(),
        build.all(),
        recent.all(),
    ]
    .concat()
    .into_iter()
    .collect();
    let mut mirror = MirrorSeed::new(&lab.url, "acme/app").storage(&lab.storage);
    for old in ["sha-0000", "sha-1111", "sha-2222", "sha-3333"] {
        mirror = mirror.age(old, days(60));
    }
    let fake = FakeGitHub::start(
        accounts().package(
            PackageSeed::new("acme", "container", "app")
                .repository("acme/app")
                .mirror(mirror),
        ),
    )
    .expect("the fake mirrors the registry");

    let run = lab
        .janitor(&fake)
        .input("tag-regex", "^sha-")
        .input("older-than", "30d")
        .input("untag", "true")
        .input("verify", "true")
        .finish();
    run.assert_success();
    assert_eq!(
        names(&fake, &run.ids()),
        build.all().into_iter().collect(),
        "only the build tagged sha-3333 alone goes whole"
    );
    let removed: BTreeSet<(String, String)> =
        serde_json::from_str::<Vec<Value>>(&run.outputs["untagged"])
            .expect("untagged is a JSON array")
            .iter()
            .map(|entry| {
                (
                    entry["tag"].as_str().unwrap_or_default().to_string(),
                    entry["digest"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
    let expected_removed: BTreeSet<(String, String)> = [
        ("sha-0000", &single.digest),
        ("sha-1111", &oci.index),
        ("sha-2222", &docker.index),
    ]
    .into_iter()
    .map(|(tag, digest)| (tag.to_string(), digest.clone()))
    .collect();
    assert_eq!(removed, expected_removed, "{}", run.summary);
    // The releases (and the recent build's sha tag) stay, on their digests, pulling whole.
    let kept = [
        ("v0.9.0", &single.digest),
        ("v1.0.0", &oci.index),
        ("v1.1.0", &docker.index),
        ("v1.2.0", &recent.digest),
        ("sha-4444", &recent.digest),
    ];
    assert_eq!(
        lab.tags(),
        kept.iter().map(|(tag, _)| tag.to_string()).collect()
    );
    for (tag, digest) in kept {
        assert_eq!(lab.manifest_digest(tag).as_ref(), Some(digest), "{tag}");
        lab.assert_pulls_whole(tag);
    }
    assert_verified(&run, 5);
    let without_build = &everything - &build.all().into_iter().collect();
    lab.assert_registry_holds(&fake, without_build.clone());
    assert_eq!(
        run.json()
            .iter()
            .filter(|entry| entry["scope"] == "tag" && entry["outcome"] == "tag removed")
            .count(),
        3,
        "{}",
        run.outputs["json"]
    );

    let restored = lab
        .janitor(&fake)
        .input("mode", "restore")
        .input("restore-tags", &run.outputs["untagged"])
        .finish();
    restored.assert_success();
    for (tag, digest) in &expected_removed {
        assert_eq!(lab.manifest_digest(tag).as_ref(), Some(digest), "{tag}");
        lab.assert_pulls_whole(tag);
    }
    assert!(
        restored.summary.contains("3 tags restored"),
        "{}",
        restored.summary
    );
    lab.assert_registry_holds(&fake, without_build);
}
