//! Request and response types of `GET /events`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::EventRow;
use crate::time::to_api;

/// One entry of the event log. `id` grows with every event and is the
/// cursor to resume from (`after`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 1042, "type": "article.published", "created_at": "2024-05-16T01:00:00Z",
    "data": {"id": 42, "slug": "fighting-for-freedom-us-and-south-korea", "title": "Fighting for Freedom"},
    "purge_keys": ["article-42", "author-7", "list-articles", "tag-north-korea"]
}))]
pub struct Event {
    #[schema(example = 1042)]
    pub id: i64,
    /// `article.published`, `article.updated`, `article.unpublished`,
    /// `article.deleted`, `article.scheduled`, `comment.created`,
    /// `comment.approved`, `tag.created`, `tag.updated`, `tag.deleted`,
    /// `media.created` or `media.deleted`.
    #[serde(rename = "type")]
    #[schema(example = "article.published")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    /// The object as the public API shows it after the change (an article,
    /// comment or tag), or `{id, slug}` of a deleted one.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// What a CDN should purge: the `Surrogate-Key`/`Cache-Tag` names of
    /// the responses this change affects.
    #[schema(example = json!(["article-42", "list-articles"]))]
    pub purge_keys: Vec<String>,
}

impl Event {
    pub fn from_row(row: EventRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            created_at: to_api(row.created_at),
            data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
            purge_keys: serde_json::from_str(&row.purge_keys).unwrap_or_default(),
        }
    }
}

/// Query of `GET /events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Only events with a greater id: the `id` of the last event seen (or
    /// `meta.next_cursor`). Default 0, the beginning of the log.
    #[param(minimum = 0, maximum = 9223372036854775807_i64, example = 1041)]
    pub after: Option<i64>,
    /// Events per answer, 1 to 1,000 (default 100).
    #[param(minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<i64>,
}
