//! Request and response types of `/articles`: the article object, the list
//! item, create and update bodies, query strings, revisions, popular lists
//! and stats.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::validate::double_option;

/// Where an article stands. A `published` article whose `published_at` is
/// in the future is *scheduled*: invisible to the public until then.
/// `archived` articles are invisible to the public (404) like drafts, but
/// keep their `published_at` and slug redirects for a later re-publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Draft, Self::Published, Self::Archived]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// The source format of `body`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// CommonMark with GitHub-style tables and strikethrough.
    #[default]
    Markdown,
    /// HTML, sanitised like rendered Markdown.
    Html,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Html => "html",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "markdown" => Some(Self::Markdown),
            "html" => Some(Self::Html),
            _ => None,
        }
    }
}

/// The byline of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuthorRef {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "daniel-kim")]
    pub slug: String,
    #[schema(example = "Daniel Kim")]
    pub name: String,
    #[schema(example = json!(null))]
    pub avatar_url: Option<String>,
}

/// A tag as it appears on an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TagRef {
    #[schema(example = 1)]
    pub id: i64,
    #[schema(example = "north-korea")]
    pub slug: String,
    #[schema(example = "North Korea")]
    pub name: String,
}

/// An article. `body_html` is rendered from `body` and sanitised;
/// `excerpt` is the custom excerpt when one was set, else the first ~200
/// characters of the body's text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 42, "slug": "fighting-for-freedom", "title": "Fighting for Freedom: U.S. and South Korea Seek Solutions",
    "subtitle": null, "excerpt": "South Korea and the United States held talks on Tuesday ...",
    "body": "South Korea and the United States held **talks** on Tuesday ...", "body_format": "markdown",
    "body_html": "<p>South Korea and the United States held <strong>talks</strong> on Tuesday ...</p>",
    "status": "published", "published_at": "2024-05-16T01:00:00Z", "created_at": "2024-05-15T22:10:00Z",
    "updated_at": "2024-05-16T01:00:00Z", "version": 3, "feature_image": null, "reading_time_minutes": 3,
    "comments_enabled": true, "meta_title": null, "meta_description": null, "canonical_url": null,
    "author": {"id": 7, "slug": "daniel-kim", "name": "Daniel Kim", "avatar_url": null},
    "tags": [{"id": 1, "slug": "north-korea", "name": "North Korea"}],
    "view_count": 1532, "comment_count": 12
}))]
pub struct Article {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "fighting-for-freedom-us-and-south-korea")]
    pub slug: String,
    #[schema(example = "Fighting for Freedom: U.S. and South Korea Seek Solutions")]
    pub title: String,
    #[schema(example = json!(null))]
    pub subtitle: Option<String>,
    #[schema(example = "South Korea and the United States held ...")]
    pub excerpt: String,
    /// The source, in `body_format`.
    #[schema(example = "South Korea and the United States held ...")]
    pub body: String,
    pub body_format: BodyFormat,
    /// Rendered and sanitised: no scripts, event handlers or `javascript:` URLs.
    #[schema(example = "<p>South Korea and the United States held ...</p>")]
    pub body_html: String,
    pub status: ArticleStatus,
    /// When the article became (or becomes, if in the future) public.
    #[schema(example = "2024-05-16T01:00:00Z")]
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows by one with every content change; counters never change it.
    #[schema(example = 3)]
    pub version: i64,
    /// An absolute URL: an external picture, or the original of
    /// `feature_image_media` when the feature image is from the library.
    #[schema(example = json!(null))]
    pub feature_image: Option<String>,
    /// The media library picture used as feature image, if any.
    #[schema(example = json!(null))]
    pub feature_image_id: Option<i64>,
    /// That picture's media object (renditions, srcset, alt text).
    pub feature_image_media: Option<crate::media::dto::Media>,
    /// Words of the body's text / 200 (whole minutes), at least 1.
    #[schema(example = 3)]
    pub reading_time_minutes: i32,
    #[schema(example = true)]
    pub comments_enabled: bool,
    #[schema(example = json!(null))]
    pub meta_title: Option<String>,
    #[schema(example = json!(null))]
    pub meta_description: Option<String>,
    #[schema(example = json!(null))]
    pub canonical_url: Option<String>,
    pub author: AuthorRef,
    /// In the order they were given.
    pub tags: Vec<TagRef>,
    /// May lag by one view flush interval.
    #[schema(example = 1532)]
    pub view_count: i64,
    /// Approved comments.
    #[schema(example = 12)]
    pub comment_count: i64,
}

/// An article in a list: every field of the article except `body` and
/// `body_html`, which are present only with `include=body`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ArticleListItem {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "fighting-for-freedom-us-and-south-korea")]
    pub slug: String,
    #[schema(example = "Fighting for Freedom: U.S. and South Korea Seek Solutions")]
    pub title: String,
    #[schema(example = json!(null))]
    pub subtitle: Option<String>,
    #[schema(example = "South Korea and the United States held ...")]
    pub excerpt: String,
    /// Only with `include=body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub body_format: BodyFormat,
    /// Only with `include=body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    pub status: ArticleStatus,
    #[schema(example = "2024-05-16T01:00:00Z")]
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 3)]
    pub version: i64,
    #[schema(example = json!(null))]
    pub feature_image: Option<String>,
    #[schema(example = json!(null))]
    pub feature_image_id: Option<i64>,
    pub feature_image_media: Option<crate::media::dto::Media>,
    #[schema(example = 3)]
    pub reading_time_minutes: i32,
    #[schema(example = true)]
    pub comments_enabled: bool,
    #[schema(example = json!(null))]
    pub meta_title: Option<String>,
    #[schema(example = json!(null))]
    pub meta_description: Option<String>,
    #[schema(example = json!(null))]
    pub canonical_url: Option<String>,
    pub author: AuthorRef,
    pub tags: Vec<TagRef>,
    #[schema(example = 1532)]
    pub view_count: i64,
    #[schema(example = 12)]
    pub comment_count: i64,
}

/// Body of `POST /articles`. Only `title` and `body` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Fighting for Freedom: U.S. and South Korea Seek Solutions",
    "subtitle": "Officials met in Seoul to discuss defectors' rights",
    "body": "South Korea and the United States held **talks** on Tuesday ...",
    "tags": ["north-korea", "human-rights"],
    "status": "published",
    "published_at": "2024-05-16T01:00:00Z"
}))]
pub struct CreateArticle {
    /// 1 to 300 characters.
    #[schema(
        example = "Fighting for Freedom: U.S. and South Korea Seek Solutions",
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub title: String,
    /// The source text (may be empty for a draft).
    #[schema(
        example = "South Korea and the United States held **talks** ...",
        pattern = r"^[^\u0000]*$"
    )]
    pub body: String,
    /// `markdown` (default) or `html`.
    pub body_format: Option<BodyFormat>,
    /// Lowercase ASCII words joined by `-`; derived from the title when
    /// absent (a clash then gets `-2`, `-3`). A given slug that is taken is
    /// a 409.
    #[schema(
        example = "fighting-for-freedom",
        max_length = 120,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    /// Up to 300 characters.
    #[schema(max_length = 300, pattern = r"^[^\u0000]*$")]
    pub subtitle: Option<String>,
    /// A custom excerpt (up to 500 characters); derived from the body when absent.
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub excerpt: Option<String>,
    /// `draft` (default), `published` or `archived`.
    pub status: Option<ArticleStatus>,
    /// RFC 3339. With `status: published`: in the future schedules the
    /// article, absent means now.
    #[schema(value_type = Option<String>, example = "2024-05-16T01:00:00Z", format = DateTime)]
    pub published_at: Option<String>,
    /// Tag slugs, in display order (at most 20). Unknown slugs are created,
    /// named from the slug (`north-korea` -> "North Korea").
    #[schema(example = json!(["north-korea", "human-rights"]), value_type = Option<Vec<crate::openapi::Slug>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    /// An external picture: an absolute http(s) URL. For a picture of the
    /// media library give `feature_image_id` instead (not both).
    #[schema(
        max_length = 2048,
        pattern = r"^(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?)?$"
    )]
    pub feature_image: Option<String>,
    /// A picture of the media library (its id); the article then embeds
    /// it as `feature_image_media` and `feature_image` is its URL.
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    #[schema(minimum = 1, example = 12)]
    pub feature_image_id: Option<i64>,
    /// Default true.
    pub comments_enabled: Option<bool>,
    /// Up to 300 characters.
    #[schema(max_length = 300, pattern = r"^[^\u0000]*$")]
    pub meta_title: Option<String>,
    /// Up to 500 characters.
    #[schema(max_length = 500, pattern = r"^[^\u0000]*$")]
    pub meta_description: Option<String>,
    /// An absolute http(s) URL.
    #[schema(
        max_length = 2048,
        pattern = r"^(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?)?$"
    )]
    pub canonical_url: Option<String>,
    /// Editors only: the byline, a user with the author role or higher.
    /// Authors may give only their own id. Defaults to the caller.
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    pub author_id: Option<i64>,
}

/// Body of `PATCH /articles/{id}`: every field optional; `null` clears the
/// nullable ones (a `null` excerpt goes back to the derived one). The slug
/// changes only when `slug` is given (a new title keeps the URL).
/// `version`, when given, must be the current version (else 409), like
/// `If-Match` (else 412).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "subtitle": "Updated after the press conference",
    "tags": ["north-korea", "human-rights", "diplomacy"],
    "version": 3
}))]
pub struct UpdateArticle {
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub title: Option<String>,
    #[schema(pattern = r"^[^\u0000]*$")]
    pub body: Option<String>,
    pub body_format: Option<BodyFormat>,
    #[schema(max_length = 120, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 300, pattern = r"^[^\u0000]*$")]
    pub subtitle: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub excerpt: Option<Option<String>>,
    /// `draft` unpublishes (the `published_at` is kept for a later
    /// re-publication), `published` publishes or schedules, `archived`
    /// hides the article from the public.
    pub status: Option<ArticleStatus>,
    /// RFC 3339. `null` clears it (a published article then gets "now").
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "2024-05-16T01:00:00Z", format = DateTime)]
    pub published_at: Option<Option<String>>,
    /// Replaces the tags (slugs, in display order).
    #[schema(value_type = Option<Vec<crate::openapi::Slug>>, max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?)?$")]
    pub feature_image: Option<Option<String>>,
    /// A picture of the media library; `null` removes it. Setting it
    /// replaces an external `feature_image`, and the other way round.
    #[serde(default, deserialize_with = "crate::validate::opt_nullable_integer")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub feature_image_id: Option<Option<i64>>,
    pub comments_enabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 300, pattern = r"^[^\u0000]*$")]
    pub meta_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\u0000]*$")]
    pub meta_description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?)?$")]
    pub canonical_url: Option<Option<String>>,
    /// Editors only: moves the byline to another author.
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    pub author_id: Option<i64>,
    /// The version this change is based on (optional).
    #[schema(example = 3)]
    #[serde(default, deserialize_with = "crate::validate::opt_integer")]
    pub version: Option<i64>,
}

/// The `status` filter of the article list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Draft,
    /// Published, including scheduled (for the public: visible only).
    Published,
    /// Published with a future `published_at`.
    Scheduled,
    Archived,
}

/// Optional parts of list items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Include {
    /// `body` and `body_html`.
    Body,
}

/// Query of `GET /articles`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleListQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `published_at`, `updated_at`, `title`, `view_count` or
    /// `comment_count`, `-` prefix for descending. Default `-published_at`,
    /// or relevance when `q` is given. Articles without `published_at`
    /// (never-published drafts) sort as the oldest.
    #[param(
        pattern = r"^[-+]?(published_at|updated_at|title|view_count|comment_count)$",
        example = "-published_at"
    )]
    pub sort: Option<String>,
    /// A tag slug; repeat for several (`tag=a&tag=b`): all must match.
    /// Repeats are ignored; more than 10 different tags are a 400.
    #[serde(default)]
    #[param(value_type = Option<Vec<crate::openapi::Slug>>, max_items = 10, example = json!(["north-korea"]))]
    pub tag: Vec<String>,
    /// An author's slug.
    #[param(
        max_length = 120,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        example = "daniel-kim"
    )]
    pub author: Option<String>,
    /// Editors: any status (default: all). Authors: `draft`, `scheduled` or
    /// `archived` list their own such articles. Others: only `published`.
    pub status: Option<StatusFilter>,
    /// Full-text search over title, excerpt and body: all words must match.
    /// Ranked by relevance when `sort` is absent.
    #[param(example = "human rights")]
    pub q: Option<String>,
    /// RFC 3339; only articles published strictly after this instant.
    #[param(format = DateTime, example = "2024-01-01T00:00:00Z")]
    pub published_after: Option<String>,
    /// RFC 3339; only articles published strictly before this instant.
    #[param(format = DateTime, example = "2025-01-01T00:00:00Z")]
    pub published_before: Option<String>,
    /// `body` adds `body` and `body_html` to every item.
    pub include: Option<Include>,
}

/// Query of the revision list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RevisionListQuery {
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `version` or `-version` (default, newest first).
    #[param(pattern = r"^[-+]?(version)$", example = "-version")]
    pub sort: Option<String>,
}

crate::list_query!(RevisionListQuery, ["version"], "-version");

/// Who made a revision (`null` once that user is deleted).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EditorRef {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "Daniel Kim")]
    pub name: String,
}

/// One stored version of an article, in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevisionSummary {
    #[schema(example = 3)]
    pub version: i64,
    #[schema(example = "Fighting for Freedom")]
    pub title: String,
    pub editor: Option<EditorRef>,
    pub created_at: DateTime<Utc>,
}

/// The content fields of an article as they were at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Snapshot {
    pub title: String,
    pub slug: String,
    pub subtitle: Option<String>,
    /// The custom excerpt (`null` when derived from the body).
    pub excerpt: Option<String>,
    pub body: String,
    pub body_format: BodyFormat,
    pub status: ArticleStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub feature_image: Option<String>,
    /// Absent in revisions made before the media library.
    #[serde(default)]
    pub feature_image_id: Option<i64>,
    pub comments_enabled: bool,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub author_id: i64,
    pub tags: Vec<TagRef>,
}

/// One stored version of an article, with its full content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Revision {
    #[schema(example = 42)]
    pub article_id: i64,
    #[schema(example = 3)]
    pub version: i64,
    #[schema(example = "Fighting for Freedom")]
    pub title: String,
    pub editor: Option<EditorRef>,
    pub created_at: DateTime<Utc>,
    pub content: Snapshot,
}

/// The counter a popular list ranks by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    #[default]
    Views,
    Comments,
}

/// The window a popular list counts in (UTC calendar days, today included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Today.
    Day,
    /// Today and the 6 days before.
    #[default]
    Week,
    /// Today and the 29 days before.
    Month,
    /// Every day: the articles' lifetime counters.
    All,
}

impl Period {
    /// Days in the window, `None` for all time.
    pub fn days(self) -> Option<i64> {
        match self {
            Self::Day => Some(1),
            Self::Week => Some(7),
            Self::Month => Some(30),
            Self::All => None,
        }
    }
}

/// Query of `GET /articles/popular`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PopularQuery {
    /// `views` (default) or `comments`.
    pub metric: Option<Metric>,
    /// `day`, `week` (default), `month` or `all`.
    pub period: Option<Period>,
    /// 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50, example = 10)]
    pub limit: Option<i64>,
}

/// The most viewed or most commented visible articles, best first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PopularArticles {
    pub data: Vec<ArticleListItem>,
}

/// Query of `GET /articles/{id}/stats`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// How many UTC days back, today included: 1 to 365 (default 30).
    #[param(minimum = 1, maximum = 365, example = 30)]
    pub days: Option<i64>,
}

/// Counts of one UTC day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DailyStat {
    #[schema(value_type = String, format = Date, example = "2024-05-16")]
    pub date: NaiveDate,
    #[schema(example = 120)]
    pub views: i64,
    #[schema(example = 3)]
    pub comments: i64,
}

/// An article's counters and its daily history (oldest first, every day of
/// the window present, zeros included).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ArticleStats {
    #[schema(example = 1532)]
    pub view_count: i64,
    #[schema(example = 12)]
    pub comment_count: i64,
    pub daily: Vec<DailyStat>,
}

impl Article {
    /// Embeds the library picture (when the article has one and it exists).
    pub fn set_media(&mut self, media: Option<crate::media::dto::Media>) {
        if let Some(m) = media {
            self.feature_image = Some(m.url.clone());
            self.feature_image_media = Some(m);
        }
    }
}

impl ArticleListItem {
    /// Embeds the library picture (when the article has one and it exists).
    pub fn set_media(&mut self, media: Option<crate::media::dto::Media>) {
        if let Some(m) = media {
            self.feature_image = Some(m.url.clone());
            self.feature_image_media = Some(m);
        }
    }
}
