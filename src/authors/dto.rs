//! Response and query types of `/authors`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A user with at least one visible article. No email, no role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "slug": "daniel-kim", "name": "Daniel Kim", "bio": "Seoul correspondent.", "avatar_url": null,
    "article_count": 24
}))]
pub struct Author {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "daniel-kim")]
    pub slug: String,
    #[schema(example = "Daniel Kim")]
    pub name: String,
    #[schema(example = "Seoul correspondent covering the Korean peninsula.")]
    pub bio: Option<String>,
    #[schema(example = json!(null))]
    pub avatar_url: Option<String>,
    /// Visible (published, not scheduled) articles.
    #[schema(example = 12)]
    pub article_count: i64,
}

/// Query of `GET /authors`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuthorListQuery {
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `name` (default) or `article_count`, `-` prefix for descending.
    #[param(pattern = r"^[-+]?(name|article_count)$", example = "name")]
    pub sort: Option<String>,
}

crate::list_query!(AuthorListQuery, ["name", "article_count"], "name");
