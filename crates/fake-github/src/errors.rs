//! GitHub-shaped error responses: `{"message", "documentation_url", "status"}`.

use axum::Json;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::seed::AnswerSeed;

const PACKAGES_DOCS: &str = "https://docs.github.com/rest/packages/packages";
const REST_DOCS: &str = "https://docs.github.com/rest";

/// An error answer; the handlers return it with `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    documentation_url: &'static str,
}

impl ApiError {
    fn new(
        status: StatusCode,
        message: impl Into<String>,
        documentation_url: &'static str,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            documentation_url,
        }
    }

    /// No `Authorization` header.
    pub fn requires_authentication() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
            REST_DOCS,
        )
    }

    /// A token the fake was not seeded with, or a header it cannot read.
    pub fn bad_credentials() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Bad credentials", REST_DOCS)
    }

    /// What GitHub answers for a missing package or version, and for one the caller cannot see.
    pub fn package_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Package not found.", PACKAGES_DOCS)
    }

    /// Unknown routes and owners.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found", REST_DOCS)
    }

    /// A `GITHUB_TOKEN` doing something only a user token may do.
    pub fn not_accessible_by_integration() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
            PACKAGES_DOCS,
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message, PACKAGES_DOCS)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, PACKAGES_DOCS)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message, PACKAGES_DOCS)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message, PACKAGES_DOCS)
    }

    /// Something the fake itself cannot do (a mirrored registry refused, or a feature the
    /// fake lacks): never an answer GitHub is known to give.
    pub fn fake_failure(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, message, REST_DOCS)
    }
}

impl ApiError {
    /// A seeded answer; its status must be an error status.
    pub fn seeded(answer: AnswerSeed) -> anyhow::Result<Self> {
        let status = StatusCode::from_u16(answer.status)
            .ok()
            .filter(|status| status.is_client_error() || status.is_server_error())
            .ok_or_else(|| anyhow::anyhow!("answer status {} is not an error", answer.status))?;
        Ok(Self::new(status, answer.message, REST_DOCS))
    }

    /// The message with `{authorization}` replaced by the request's `Authorization` header.
    pub fn echoing(mut self, headers: &HeaderMap) -> Self {
        if self.message.contains(AUTHORIZATION_PLACEHOLDER) {
            let authorization = headers
                .get(AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            self.message = self
                .message
                .replace(AUTHORIZATION_PLACEHOLDER, authorization);
        }
        self
    }
}

/// Where a seeded answer echoes the request's `Authorization` header.
const AUTHORIZATION_PLACEHOLDER: &str = "{authorization}";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": self.status.as_u16().to_string(),
        });
        (self.status, Json(body)).into_response()
    }
}
