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
pub struct CreateTag {
    /// 1 to 100 characters.
    #[schema(example = "North Korea")]
    pub name: String,
    /// Derived from the name when absent. Taken (given or derived) is a 409.
    #[schema(example = "north-korea")]
    pub slug: Option<String>,
    /// Up to 500 characters.
    pub description: Option<String>,
}

/// Body of `PATCH /tags/{slug}`: every field optional; `null` clears the
/// description. A new slug keeps every article link (the old slug stops
/// answering). A new name keeps the slug.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTag {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// Query of `GET /tags`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TagListQuery {
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    pub after: Option<String>,
    /// `name` (default) or `article_count`, `-` prefix for descending.
    #[param(example = "-article_count")]
    pub sort: Option<String>,
    /// Case-insensitive prefix of the name.
    #[param(example = "nor")]
    pub q: Option<String>,
}
