//! Request and response types of `/articles/{id}/preview`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Shortest and longest preview lifetimes, seconds.
pub const MIN_EXPIRES_IN: i64 = 60;
pub const MAX_EXPIRES_IN: i64 = 7 * 24 * 3600;
pub const DEFAULT_EXPIRES_IN: i64 = 3600;

/// Body of `POST /articles/{id}/preview` (may be empty: `{}`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expires_in": 3600}))]
pub struct CreatePreview {
    /// Lifetime in seconds, 60 to 604800 (7 days); 3600 when absent.
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    #[schema(minimum = 60, maximum = 604800, example = 3600)]
    pub expires_in: Option<i64>,
    /// Pin the preview to this revision (see `/articles/{id}/revisions`);
    /// absent: the article as it is when the preview is read.
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    #[schema(minimum = 1, example = 3)]
    pub version: Option<i64>,
}

/// A preview token, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "token": "ndp_b3JlIGlwc3VtIGRvbG9yIHNpdCBhbWV0LCBjb25zZWN0",
    "expires_at": "2024-05-15T10:30:00Z",
    "url": "/api/v1/articles/42?preview=ndp_b3JlIGlwc3VtIGRvbG9yIHNpdCBhbWV0LCBjb25zZWN0"
}))]
pub struct Preview {
    /// Send as `?preview=` on `GET /articles/{id}` or `/articles/slug/{slug}`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The API path that reads the preview.
    pub url: String,
    /// The revision the preview shows; `null`: the current content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// The `preview` parameter of `GET /articles/{id}` and by slug (the
/// handler reads it; this declares it in the document).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// A preview token from `POST /articles/{id}/preview`: answers the
    /// article in any state, `Cache-Control: private, no-store`. A token
    /// that is unknown, expired, revoked or made for another article is a 401.
    #[param(pattern = r"^ndp_[A-Za-z0-9_-]{43}$")]
    pub preview: Option<String>,
}
