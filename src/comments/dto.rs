//! Request and response types of the comment endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::{AuthorRow, CommentRow};
use crate::time::to_api;

/// The most characters a comment body may have (after trimming).
pub const BODY_MAX: usize = 5000;

/// A comment's moderation state. Only `approved` comments are public and
/// counted in `comment_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Approved,
    Rejected,
    Spam,
}

impl CommentStatus {
    pub const ALL: [CommentStatus; 4] = [
        CommentStatus::Pending,
        CommentStatus::Approved,
        CommentStatus::Rejected,
        CommentStatus::Spam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Rejected => "rejected",
            CommentStatus::Spam => "spam",
        }
    }

    pub fn parse(value: &str) -> Option<CommentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Through a string, so that a value of the wrong type (`"status": 3`) is
/// a field error (422) like any other, not what serde_json reports for
/// enums: a syntax error (400).
impl<'de> Deserialize<'de> for CommentStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        Self::parse(&value).ok_or_else(|| {
            serde::de::Error::unknown_variant(&value, &["pending", "approved", "rejected", "spam"])
        })
    }
}

/// Who wrote a comment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommentAuthor {
    #[schema(example = 12)]
    pub id: i64,
    #[schema(example = "Maria Lopez")]
    pub name: String,
    #[schema(example = "maria-lopez")]
    pub slug: String,
}

impl From<AuthorRow> for CommentAuthor {
    fn from(a: AuthorRow) -> Self {
        Self {
            id: a.id,
            name: a.name,
            slug: a.slug,
        }
    }
}

/// A reader comment. `body` is plain text: clients must show it as text,
/// never render it as HTML. `parent_id` is the comment this one replies to
/// (null for a top-level comment); it may name a comment that is not shown
/// (not approved), which clients can render as a top-level comment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 301, "article_id": 42, "parent_id": null, "body": "Thanks for the clear explanation of the talks.",
    "status": "approved", "author": {"id": 12, "name": "Maria Lopez", "slug": "maria-lopez"},
    "created_at": "2024-05-16T08:12:00Z", "updated_at": "2024-05-16T08:12:00Z"
}))]
pub struct Comment {
    #[schema(example = 301)]
    pub id: i64,
    #[schema(example = 42)]
    pub article_id: i64,
    #[schema(example = json!(null))]
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    pub parent_id: Option<i64>,
    #[schema(example = "Thanks for the clear explanation of the talks.")]
    pub body: String,
    pub status: CommentStatus,
    pub author: CommentAuthor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Comment {
    pub fn new(row: CommentRow, author: AuthorRow) -> Self {
        Self {
            id: row.id,
            article_id: row.article_id,
            parent_id: row.parent_id,
            body: row.body,
            status: CommentStatus::parse(&row.status).unwrap_or(CommentStatus::Pending),
            author: author.into(),
            created_at: to_api(row.created_at),
            updated_at: to_api(row.updated_at),
        }
    }
}

/// Body of `POST /articles/{id}/comments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Thanks for the clear explanation of the talks.", "parent_id": null}))]
pub struct CreateComment {
    /// Plain text, 1 to 5,000 characters after trimming surrounding
    /// whitespace (which is not stored); line breaks and tabs are kept,
    /// other control characters are refused.
    #[schema(
        example = "Thanks for the clear explanation of the talks.",
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub body: String,
    /// The comment this one replies to: a comment on the same article.
    #[schema(example = json!(null))]
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    pub parent_id: Option<i64>,
}

/// Body of `PATCH /comments/{id}`: both fields optional. Only editors and
/// admins may send `status`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "approved"}))]
pub struct UpdateComment {
    /// New text, with the rules of `CreateComment.body`.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub body: Option<String>,
    pub status: Option<CommentStatus>,
}

/// Query of `GET /articles/{id}/comments`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleCommentsQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `created_at` (oldest first, the default) or `-created_at` (newest first).
    #[param(pattern = r"^[-+]?(created_at)$", example = "created_at")]
    pub sort: Option<String>,
}

crate::list_query!(ArticleCommentsQuery, ["created_at"], "created_at");

/// Query of `GET /comments`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentListQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `-created_at` (newest first, the default) or `created_at` (oldest
    /// first, to work through a queue in order).
    #[param(pattern = r"^[-+]?(created_at)$", example = "-created_at")]
    pub sort: Option<String>,
    /// Only comments in this state (e.g. `pending` for the moderation queue).
    pub status: Option<CommentStatus>,
    /// Only comments on this article (any article status).
    #[param(example = 42)]
    pub article_id: Option<i64>,
}

crate::list_query!(CommentListQuery, ["created_at"], "-created_at");
