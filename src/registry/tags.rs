//! The registry's tag list: `GET /v2/<name>/tags/list`, paged with `n` and `last`, the next
//! page named by a `Link` header. Read in this run at no REST cost, with `HEAD` by tag
//! ([`Registry::head`]) it gives every tag's digest today. Tag names are checked before
//! they shape a URL, and a `Link` is read only for its `last`, only when it points at this
//! repository's tag list: nothing is ever sent where a link says.

use serde::Deserialize;

use super::{ErrorKind, Registry, RegistryError, Request, error, is_tag};
use crate::transport::encode::percent_encode;

/// Tags asked for per page.
pub const TAGS_PER_PAGE: u32 = 1_000;

/// One page of a repository's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    pub tags: Vec<String>,
    /// The tag to ask the next page after; `None` when this page is the last.
    pub next: Option<String>,
}

impl Registry {
    /// The page of `repository`'s tags after `last` (from the first without it). A next
    /// page must start past `last`, or the list would never end.
    pub async fn tags_page(
        &self,
        repository: &str,
        last: Option<&str>,
    ) -> Result<TagPage, RegistryError> {
        let mut url = format!("{}/v2/{repository}/tags/list?n={TAGS_PER_PAGE}", self.base);
        if let Some(last) = last {
            url.push_str(&format!("&last={}", percent_encode(last, b"-._~")));
        }
        let malformed = |message: String| RegistryError::new(&url, ErrorKind::Malformed, message);
        super::check_names(repository, last.unwrap_or("latest")).map_err(malformed)?;
        let answer = self.authorized(repository, &url, Request::Get).await?;
        if answer.status != 200 {
            return Err(error(&url, answer.status, &answer.body));
        }
        let tags = parse_tags(&answer.body).map_err(malformed)?;
        let next = match &answer.link {
            Some(link) => next_last(link, repository).map_err(malformed)?,
            None => None,
        };
        if let (Some(next), Some(last)) = (&next, last)
            && next.as_str() <= last
        {
            return Err(malformed(format!(
                "the next page starts after `{next}`, not past `{last}`"
            )));
        }
        Ok(TagPage { tags, next })
    }
}

/// The tags of a `tags/list` answer (`{"name": ..., "tags": [...]}`; `null` tags is none),
/// every one a valid tag.
pub fn parse_tags(body: &[u8]) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let list: List =
        serde_json::from_slice(body).map_err(|err| format!("not a tag list: {err}"))?;
    let tags = list.tags.unwrap_or_default();
    if let Some(bad) = tags.iter().find(|tag| !is_tag(tag)) {
        let shown: String = bad.chars().take(60).collect();
        return Err(format!("the tag list holds `{shown}`, which is not a tag"));
    }
    Ok(tags)
}

/// The `last` of the `rel="next"` link of a `Link` header, when the link is this
/// `repository`'s tag list (absolute or relative); `Ok(None)` when there is no next link.
pub fn next_last(link: &str, repository: &str) -> Result<Option<String>, String> {
    for part in link.split(',') {
        let Some((target, params)) = part
            .trim()
            .strip_prefix('<')
            .and_then(|rest| rest.split_once('>'))
        else {
            return Err("the Link header is not `<url>; rel=...`".to_string());
        };
        let next = params.split(';').any(|param| {
            let param = param.trim();
            param == "rel=\"next\"" || param == "rel=next"
        });
        if !next {
            continue;
        }
        let path_and_query = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |at| &rest[at..]),
            None => target,
        };
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        if path != format!("/v2/{repository}/tags/list") {
            return Err("the next page link is not this repository's tag list".to_string());
        }
        let last = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("last="))
            .ok_or("the next page link has no `last`")?;
        let last = percent_decode(last)
            .filter(|last| is_tag(last))
            .ok_or("the next page link's `last` is not a tag".to_string())?;
        return Ok(Some(last));
    }
    Ok(None)
}

/// `%XX` decoded, when that gives UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            let hex = after.get(..2)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            bytes.push(value);
            rest = &after[2..];
        } else {
            bytes.push(byte);
            rest = after;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fake_github::{
        FakeGitHub, OwnerSeed, PackageSeed, Scripted, ScriptedServer, Seed, TokenSeed, VersionSeed,
        days,
    };

    use super::*;
    use crate::registry::{ErrorKind, Patience};
    use crate::transport::pacing::Pacing;
    use crate::transport::token::Token;

    fn patience() -> Patience {
        Patience {
            retry_base: Duration::from_millis(5),
            ..Patience::from_pacing(&Pacing::default())
        }
    }

    #[tokio::test]
    async fn every_tag_and_its_digest_are_read_page_by_page_from_the_registry() {
        let versions = (1..=2_500)
            .map(|id| VersionSeed::new(id, days(1)).tags(&[&format!("t{id:05}")]))
            .collect();
        let fake = FakeGitHub::start(
            Seed::new()
                .token(TokenSeed::pat("ghp_a", "alice", &["read:packages"]))
                .owner(OwnerSeed::org("acme").members(&["alice"]))
                .package(PackageSeed::new("acme", "container", "app").versions(versions)),
        )
        .expect("fake starts");
        let registry = Registry::new(&fake.url(), &Token::new("ghp_a".into()), patience())
            .expect("client builds");
        let mut tags = Vec::new();
        let mut last = None;
        let mut pages = 0;
        loop {
            let page = registry
                .tags_page("acme/app", last.as_deref())
                .await
                .expect("a page");
            pages += 1;
            tags.extend(page.tags);
            match page.next {
                Some(next) => last = Some(next),
                None => break,
            }
        }
        assert_eq!((pages, tags.len()), (3, 2_500));
        assert_eq!(tags[0], "t00001");
        let head = registry.head("acme/app", "t00007").await.expect("a head");
        assert_eq!(
            head.digest,
            fake.version_name("acme", "container", "app", 7)
        );
        assert_eq!(
            head.media_type.as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        let by_digest = registry
            .head("acme/app", &head.digest)
            .await
            .expect("by digest");
        assert_eq!(by_digest, head);
        let gone = registry
            .head("acme/app", "nope")
            .await
            .expect_err("unknown");
        assert!(gone.is_unknown(), "{gone}");
    }

    fn serve(
        script: impl Fn(usize, &fake_github::Heard) -> Scripted + Send + Sync + 'static,
    ) -> ScriptedServer {
        ScriptedServer::start("127.0.0.1", script).expect("server starts")
    }

    fn client(server: &ScriptedServer) -> Registry {
        Registry::new(&server.url(), &Token::new("t".into()), patience()).expect("client builds")
    }

    #[tokio::test]
    async fn a_registry_that_names_no_digest_or_another_or_loops_its_pages_is_refused() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let other = format!("sha256:{}", "b".repeat(64));
        let no_digest = serve(|_, _| Scripted::new(200));
        let err = client(&no_digest)
            .head("acme/app", "v1")
            .await
            .expect_err("no digest");
        assert_eq!(err.kind, ErrorKind::Malformed, "{err}");
        let bad_digest =
            serve(|_, _| Scripted::new(200).header("docker-content-digest", "sha256:zz"));
        let err = client(&bad_digest)
            .head("acme/app", "v1")
            .await
            .expect_err("bad digest");
        assert_eq!(err.kind, ErrorKind::Malformed, "{err}");
        let named = other.clone();
        let another = serve(move |_, _| Scripted::new(200).header("docker-content-digest", &named));
        let err = client(&another)
            .head("acme/app", &digest)
            .await
            .expect_err("another");
        assert_eq!(err.kind, ErrorKind::DigestMismatch, "{err}");

        let looping = serve(|_, _| {
            Scripted::new(200)
                .body(r#"{"tags":["a"]}"#)
                .header("link", r#"</v2/acme/app/tags/list?n=1&last=a>; rel="next""#)
        });
        let err = client(&looping)
            .tags_page("acme/app", Some("a"))
            .await
            .expect_err("a loop");
        assert!(err.reason().contains("not past `a`"), "{err}");
        let elsewhere = serve(|_, _| {
            Scripted::new(200).body(r#"{"tags":["a"]}"#).header(
                "link",
                r#"<https://evil.example/v2/other/x/tags/list?last=z>; rel="next""#,
            )
        });
        let err = client(&elsewhere)
            .tags_page("acme/app", None)
            .await
            .expect_err("elsewhere");
        assert!(err.reason().contains("not this repository"), "{err}");
        let bad_last = client(&elsewhere)
            .tags_page("acme/app", Some("../token"))
            .await
            .expect_err("never sent");
        assert_eq!(bad_last.kind, ErrorKind::Malformed);
        assert_eq!(elsewhere.heard().len(), 1, "the bad `last` was never sent");
    }

    #[test]
    fn a_tag_list_gives_its_tags_and_refuses_names_that_are_not_tags() {
        let cases: [(&str, Result<Vec<&str>, &str>); 6] = [
            (
                r#"{"name":"acme/app","tags":["v1","latest"]}"#,
                Ok(vec!["v1", "latest"]),
            ),
            (r#"{"name":"acme/app","tags":null}"#, Ok(vec![])),
            (r#"{"name":"acme/app"}"#, Ok(vec![])),
            (r#"{"tags":["../token"]}"#, Err("not a tag")),
            (r#"{"tags":["v1?x=1"]}"#, Err("not a tag")),
            ("<html>", Err("not a tag list")),
        ];
        for (body, expected) in cases {
            let parsed = parse_tags(body.as_bytes());
            match expected {
                Ok(tags) => assert_eq!(parsed, Ok(tags.iter().map(|t| t.to_string()).collect())),
                Err(why) => assert!(parsed.is_err_and(|err| err.contains(why)), "{body}"),
            }
        }
    }

    #[test]
    fn the_next_page_is_read_from_the_link_only_for_this_repository() {
        let repo = "acme/app";
        let cases: [(&str, Result<Option<&str>, &str>); 8] = [
            (
                r#"</v2/acme/app/tags/list?n=1000&last=v1.2>; rel="next""#,
                Ok(Some("v1.2")),
            ),
            (
                r#"<https://ghcr.io/v2/acme/app/tags/list?last=a%2Db&n=2>; rel="next""#,
                Ok(Some("a-b")),
            ),
            (r#"</v2/acme/app/tags/list?last=z>; rel="prev""#, Ok(None)),
            (
                r#"</v2/acme/other/tags/list?last=z>; rel="next""#,
                Err("not this repository"),
            ),
            (r#"</token?last=z>; rel="next""#, Err("not this repository")),
            (
                r#"</v2/acme/app/tags/list?n=2>; rel="next""#,
                Err("no `last`"),
            ),
            (
                r#"</v2/acme/app/tags/list?last=..%2F>; rel="next""#,
                Err("not a tag"),
            ),
            ("garbage", Err("not `<url>")),
        ];
        for (link, expected) in cases {
            let found = next_last(link, repo);
            match expected {
                Ok(last) => assert_eq!(found, Ok(last.map(str::to_string)), "{link}"),
                Err(why) => assert!(found.is_err_and(|err| err.contains(why)), "{link}"),
            }
        }
    }
}
