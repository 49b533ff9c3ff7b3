//! Request and response types of `/tags`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::TagRow;
use crate::time::to_api;
use crate::validate::double_option;

/// A tag. `article_count` counts the published articles visible now
/// (scheduled ones count from their publication time on).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 1, "slug": "north-korea", "name": "North Korea", "description": "News from and about the DPRK.",
    "article_count": 12, "created_at": "2024-01-02T09:00:00Z"
}))]
pub struct Tag {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "north-korea")]
    pub slug: String,
    #[schema(example = "North Korea")]
    pub name: String,
    #[schema(example = "News from and about the DPRK.")]
    pub description: Option<String>,
    #[schema(example = 12)]
    pub article_count: i64,
    pub created_at: DateTime<Utc>,
}

impl Tag {
    pub fn from_row(row: TagRow, article_count: i64) -> Self {
        Self {
            id: row.id,
            slug: row.slug,
            name: row.name,
            description: row.description,
            article_count,
            created_at: to_api(row.created_at),
        }
    }
}

/// Body of `POST /tags`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "North Korea", "slug": "north-korea", "description": "News from and about the DPRK."}))]
pub struct CreateTag {
    /// 1 to 100 characters.
    #[schema(
        example = "North Korea",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub name: String,
    /// Derived from the name when absent. Taken (given or derived) is a 409.
    #[schema(
        example = "north-korea",
        max_length = 120,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    /// Up to 500 characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub description: Option<String>,
}

/// Body of `PATCH /tags/{slug}`: every field optional; `null` clears the
/// description. A new slug keeps every article link (the old slug stops
/// answering). A new name keeps the slug.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "News from and about North Korea."}))]
pub struct UpdateTag {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub name: Option<String>,
    #[schema(max_length = 120, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub description: Option<Option<String>>,
}

/// Query of `GET /tags`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TagListQuery {
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `name` (default) or `article_count`, `-` prefix for descending.
    #[param(pattern = r"^[-+]?(name|article_count)$", example = "-article_count")]
    pub sort: Option<String>,
    /// Case-insensitive prefix of the name.
    #[param(example = "nor")]
    pub q: Option<String>,
}

crate::list_query!(TagListQuery, ["name", "article_count"], "name");
