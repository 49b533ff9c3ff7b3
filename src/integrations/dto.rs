//! Request and response types of `/integrations`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Scope;
use super::Scopes;
use super::queries::IntegrationRow;
use crate::time::to_api;

/// An integration: a named content API key. The key itself is shown only
/// in the answer to its creation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "name": "Next.js site", "scopes": ["read", "preview"], "key_prefix": "nd_Xq3v9aZk",
    "created_at": "2024-05-15T09:30:00Z", "last_used_at": null
}))]
pub struct Integration {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "Next.js site")]
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters, to tell keys apart (never the key).
    #[schema(example = "nd_Xq3v9aZk")]
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    /// When the key was last used (written at most once a minute per instance).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<IntegrationRow> for Integration {
    fn from(row: IntegrationRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            scopes: Scopes::from_stored(&row.scopes).list(),
            key_prefix: row.key_prefix,
            created_at: to_api(row.created_at),
            last_used_at: row.last_used_at.map(to_api),
        }
    }
}

/// The answer to `POST /integrations`: the integration and its key, shown
/// this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedIntegration {
    #[serde(flatten)]
    pub integration: Integration,
    /// The content API key. Stored only as a hash: it cannot be shown again.
    #[schema(example = "nd_Xq3v9aZkT0m2c8YpLw4rB6nHs1dJfGe7uVa5Qk3iO9x")]
    pub key: String,
}

/// Body of `POST /integrations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Next.js site", "scopes": ["read", "preview"]}))]
pub struct CreateIntegration {
    /// 1 to 100 characters, not only spaces.
    #[schema(
        example = "Next.js site",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub name: String,
    /// At least one (repeats count once); `["read"]` when absent.
    #[schema(min_items = 1)]
    pub scopes: Option<Vec<Scope>>,
}

/// Query of `GET /integrations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IntegrationListQuery {
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
}

/// Oldest first, the only order.
impl crate::http::ListQuery for IntegrationListQuery {
    const SORTS: &'static [&'static str] = &["created_at"];
    const DEFAULT_SORT: &'static str = "created_at";

    fn paging(&self) -> crate::http::list::Paging<'_> {
        crate::http::list::Paging {
            page: self.page,
            per_page: self.per_page,
            after: self.after.as_deref(),
            sort: None,
        }
    }
}
