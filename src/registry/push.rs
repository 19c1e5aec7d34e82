//! Writes to a registry, for `untag` and `restore-tags`: whether the token may push, the
//! empty blob a placeholder image references, and a manifest pushed under a tag.
//!
//! Writes go through the same client as reads: the same trusted-realm rule (the token only
//! to the registry's own host, over https), the same deadlines, body caps and bounded
//! retries (a `PUT` of the same bytes under the same tag is idempotent), and no redirect is
//! followed. Their bearer token is asked for with `push` scope. An upload's `Location` is
//! followed only when it is this repository's upload path on the registry's own host.

use super::{ErrorKind, Registry, RegistryError, Request, Verb, check_names, error, is_digest};
use crate::transport::encode::percent_encode;

impl Registry {
    /// Whether this token may push to `repository`: `POST /v2/<name>/blobs/uploads/`
    /// starts an upload (202), which is cancelled at once (`DELETE` of its `Location`; a
    /// cancel that fails only leaves an empty upload session, which registries expire). No
    /// blob, manifest or tag is written, so a dry run may ask too. A refusal is an error
    /// whose [`RegistryError::is_denied`] holds.
    pub async fn check_push(&self, repository: &str) -> Result<(), RegistryError> {
        let location = self.start_upload(repository).await?;
        if let Ok(url) = self.upload_url(repository, location.as_deref()) {
            let cancel = Request::Write {
                verb: Verb::Delete,
                content_type: None,
                body: &[],
            };
            // Best effort: the session is empty either way.
            let _ = self.authorized(repository, &url, cancel).await;
        }
        Ok(())
    }

    /// Makes sure the blob `bytes` is in `repository`: `HEAD` of its digest, and when the
    /// registry does not have it, a monolithic upload (`POST`, then `PUT` of the bytes to
    /// the upload's `Location` with `?digest=`).
    pub async fn ensure_blob(&self, repository: &str, bytes: &[u8]) -> Result<(), RegistryError> {
        let digest = super::placeholder::sha256(bytes);
        let url = format!("{}/v2/{repository}/blobs/{digest}", self.base);
        if let Err(problem) = check_names(repository, &digest) {
            return Err(RegistryError::new(&url, ErrorKind::Malformed, problem));
        }
        let head = self.authorized(repository, &url, Request::Head).await?;
        if head.status == 200 {
            return Ok(());
        }
        let location = self.start_upload(repository).await?;
        let upload = self.upload_url(repository, location.as_deref())?;
        let separator = if upload.contains('?') { '&' } else { '?' };
        let url = format!("{upload}{separator}digest={}", percent_encode(&digest, b""));
        let put = Request::Write {
            verb: Verb::Put,
            content_type: Some("application/octet-stream"),
            body: bytes,
        };
        let answer = self.authorized(repository, &url, put).await?;
        match answer.status {
            201 | 204 => Ok(()),
            status => Err(error(&url, status, &answer.body).sent_as(Verb::Put.as_str())),
        }
    }

    /// `PUT /v2/<name>/manifests/<tag>` of `bytes`, served as `media_type`: the tag then
    /// names them. The registry must answer 201, and when it names the digest it stored,
    /// that must be the digest of `bytes`. Returns that digest.
    pub async fn put_manifest(
        &self,
        repository: &str,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, RegistryError> {
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base);
        let malformed = |message: String| {
            RegistryError::new(&url, ErrorKind::Malformed, message).sent_as(Verb::Put.as_str())
        };
        check_names(repository, tag).map_err(malformed)?;
        if is_digest(tag) {
            return Err(malformed(format!("`{tag}` is a digest, not a tag")));
        }
        let put = Request::Write {
            verb: Verb::Put,
            content_type: Some(media_type),
            body: bytes,
        };
        let answer = self.authorized(repository, &url, put).await?;
        if answer.status != 201 {
            return Err(error(&url, answer.status, &answer.body).sent_as(Verb::Put.as_str()));
        }
        let digest = super::placeholder::sha256(bytes);
        match answer.digest {
            Some(stored) if !stored.eq_ignore_ascii_case(&digest) => Err(RegistryError::new(
                &url,
                ErrorKind::DigestMismatch,
                format!("the registry stored {stored} for bytes that hash to {digest}"),
            )
            .sent_as(Verb::Put.as_str())),
            _ => Ok(digest),
        }
    }

    /// `POST /v2/<name>/blobs/uploads/`: the `Location` of the upload it starts.
    async fn start_upload(&self, repository: &str) -> Result<Option<String>, RegistryError> {
        let url = format!("{}/v2/{repository}/blobs/uploads/", self.base);
        if let Err(problem) = check_names(repository, "latest") {
            return Err(RegistryError::new(&url, ErrorKind::Malformed, problem)
                .sent_as(Verb::Post.as_str()));
        }
        let post = Request::Write {
            verb: Verb::Post,
            content_type: None,
            body: &[],
        };
        let answer = self.authorized(repository, &url, post).await?;
        if answer.status != 202 {
            return Err(error(&url, answer.status, &answer.body).sent_as(Verb::Post.as_str()));
        }
        Ok(answer.location)
    }

    /// The absolute URL of an upload's `Location`: a path on this registry (relative, or
    /// absolute on the registry's own scheme, host and port) under this repository's upload
    /// path, without anything that could bend it. Anything else is never requested.
    fn upload_url(
        &self,
        repository: &str,
        location: Option<&str>,
    ) -> Result<String, RegistryError> {
        let upload_root = format!("/v2/{repository}/blobs/uploads/");
        let refuse = |message: String| {
            RegistryError::new(
                &format!("{}{upload_root}", self.base),
                ErrorKind::Malformed,
                message,
            )
            .sent_as(Verb::Put.as_str())
        };
        let location =
            location.ok_or_else(|| refuse("the upload answer names no Location".into()))?;
        let path = match location.strip_prefix('/') {
            Some(_) => location,
            None => {
                // `get`, not indexing: a hostile header may split a character there.
                let own = self.base.len();
                let on_own_origin = location
                    .get(..own)
                    .is_some_and(|origin| origin.eq_ignore_ascii_case(&self.base));
                match location.get(own..) {
                    Some(path) if on_own_origin && path.starts_with('/') => path,
                    _ => {
                        let shown: String = location.chars().take(100).collect();
                        return Err(refuse(format!(
                            "the upload's Location `{shown}` is not on the registry's own host: not followed"
                        )));
                    }
                }
            }
        };
        let clean = path.starts_with(&upload_root)
            && !path.contains("..")
            && !path.contains('#')
            && path.bytes().all(|byte| byte.is_ascii_graphic());
        if clean {
            Ok(format!("{}{path}", self.base))
        } else {
            let shown: String = path.chars().take(100).collect();
            Err(refuse(format!(
                "the upload's Location `{shown}` is not an upload of this repository: not followed"
            )))
        }
    }
}

#[cfg(test)]
mod tests;
