//! The export: the whole site as one JSON document, written as a stream
//! (rows are read in batches by id and written as they come, so memory
//! holds one batch, not the site). `newsdesk export FILE` and `GET
//! /api/v1/export` write the same bytes; `newsdesk import newsdesk FILE`
//! reads them back (`import::newsdesk`).
//!
//! Format (version 1), keys in this order:
//! ```text
//! {"format": "newsdesk-export", "version": 1, "exported_at": RFC 3339,
//!  "users":     [{id, email, name, slug, role, bio, avatar_url, created_at, updated_at}],
//!  "tags":      [{id, slug, name, description, created_at, updated_at}],
//!  "media":     [{id, hash, mime_type, width, height, bytes, rendition_widths, alt,
//!                 caption, credit, focal_x, focal_y, uploaded_by, created_at, updated_at}],
//!  "articles":  [{id, slug, title, subtitle, custom_excerpt, excerpt, body, body_format,
//!                 body_html, body_text, status, published_at, created_at, updated_at,
//!                 version, feature_image, feature_image_id, reading_time_minutes, comments_enabled,
//!                 meta_title, meta_description, canonical_url, author_id,
//!                 view_count, comment_count,
//!                 tags: [tag id, ...],                      (display order)
//!                 revisions: [{version, title, editor_id, snapshot, created_at}],
//!                 daily_stats: [{day, views, comments}],
//!                 old_slugs: [{slug, created_at}]}],
//!  "comments":  [{id, article_id, parent_id, author_id, body, status, created_at, updated_at}],
//!  "redirects": [{from_path, article_id, location, created_at}]}
//! ```
//! Users carry no password hash: imported users cannot sign in until an
//! admin sets a password. `media` are the library's rows, not its files:
//! copy the media folder (or bucket) beside the export; `newsdesk media
//! rebuild` then re-makes any rendition or crop missing. Exports made
//! before `media` existed import as before (no pictures). Timestamps are RFC 3339 UTC, days `YYYY-MM-DD`.

pub mod routes;

use std::io::Write;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::articles::queries::{ArticleRow, RevisionRow};
use crate::comments::queries::CommentRow;
use crate::db::DbConnection;
use crate::db::schema::{
    article_daily_stats, article_revisions, article_tags, articles, comments, media,
    slug_redirects, tags, users,
};
use crate::tags::queries::TagRow;

pub const FORMAT: &str = "newsdesk-export";
pub const VERSION: u32 = 1;
const BATCH: i64 = 500;

fn ts(t: NaiveDateTime) -> String {
    crate::time::cursor_key(t)
}

/// Serde for stored timestamps as RFC 3339.
mod rfc3339 {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::ts(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        crate::time::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {s}")))
    }

    pub mod option {
        use chrono::NaiveDateTime;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<NaiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::ts(*t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<NaiveDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| {
                    crate::time::parse_rfc3339(&s).ok_or_else(|| {
                        serde::de::Error::custom(format!("not an RFC 3339 timestamp: {s}"))
                    })
                })
                .transpose()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct ExportUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub slug: String,
    pub role: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportTag {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

/// A picture of the media library (its row; the files are not exported).
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct ExportMedia {
    pub id: i64,
    pub hash: String,
    pub mime_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub rendition_widths: String,
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal_x: Option<f64>,
    pub focal_y: Option<f64>,
    pub uploaded_by: Option<i64>,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportRevision {
    pub version: i64,
    pub title: String,
    pub editor_id: Option<i64>,
    /// The stored snapshot (the article's content at that version).
    pub snapshot: serde_json::Value,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportDay {
    pub day: NaiveDate,
    pub views: i64,
    pub comments: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportOldSlug {
    pub slug: String,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportArticle {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub custom_excerpt: Option<String>,
    pub excerpt: String,
    pub body: String,
    pub body_format: String,
    pub body_html: String,
    pub body_text: String,
    pub status: String,
    #[serde(with = "rfc3339::option")]
    pub published_at: Option<NaiveDateTime>,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "rfc3339")]
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub feature_image: Option<String>,
    /// A picture of `media` (absent in exports made before it).
    #[serde(default)]
    pub feature_image_id: Option<i64>,
    pub reading_time_minutes: i32,
    pub comments_enabled: bool,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub author_id: i64,
    pub view_count: i64,
    pub comment_count: i64,
    pub tags: Vec<i64>,
    pub revisions: Vec<ExportRevision>,
    pub daily_stats: Vec<ExportDay>,
    pub old_slugs: Vec<ExportOldSlug>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportComment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    pub status: String,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
    #[serde(with = "rfc3339")]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportRedirect {
    pub from_path: String,
    pub article_id: Option<i64>,
    pub location: Option<String>,
    #[serde(with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

/// The export's top level, for the API document (the arrays' items are
/// described in the README; the body is written as a stream, not from this).
#[derive(Debug, utoipa::ToSchema)]
pub struct ExportDocument {
    /// Always `newsdesk-export`.
    #[schema(example = "newsdesk-export")]
    pub format: String,
    /// The format's version: 1.
    #[schema(example = 1)]
    pub version: u32,
    /// When the export was made (RFC 3339).
    #[schema(example = "2024-05-15T09:30:00Z")]
    pub exported_at: String,
    /// `{id, email, name, slug, role, bio, avatar_url, created_at, updated_at}`
    #[schema(value_type = Vec<Object>)]
    pub users: Vec<serde_json::Value>,
    /// `{id, slug, name, description, created_at, updated_at}`
    #[schema(value_type = Vec<Object>)]
    pub tags: Vec<serde_json::Value>,
    /// The media library's rows: `{id, hash, mime_type, width, height, bytes,
    /// rendition_widths, alt, caption, credit, focal_x, focal_y, uploaded_by,
    /// created_at, updated_at}` (the files are not part of the export).
    #[schema(value_type = Vec<Object>)]
    pub media: Vec<serde_json::Value>,
    /// Every stored column, with `tags`, `revisions`, `daily_stats`, `old_slugs`.
    #[schema(value_type = Vec<Object>)]
    pub articles: Vec<serde_json::Value>,
    /// `{id, article_id, parent_id, author_id, body, status, created_at, updated_at}`
    #[schema(value_type = Vec<Object>)]
    pub comments: Vec<serde_json::Value>,
    /// `{from_path, article_id, location, created_at}`
    #[schema(value_type = Vec<Object>)]
    pub redirects: Vec<serde_json::Value>,
}

fn io(e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("writing the export: {e}")
}

/// Writes one array of `key`, fetching rows in batches after the last id.
fn array<W: Write, T: Serialize>(
    out: &mut W,
    key: &str,
    mut batch: impl FnMut(i64) -> anyhow::Result<Vec<(i64, T)>>,
) -> anyhow::Result<()> {
    write!(out, ",\n\"{key}\":[").map_err(io)?;
    let mut after = 0i64;
    let mut first = true;
    loop {
        let rows = batch(after)?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        after = *last;
        let full = rows.len() as i64 == BATCH;
        for (_, row) in rows {
            if !first {
                out.write_all(b",").map_err(io)?;
            }
            first = false;
            out.write_all(b"\n").map_err(io)?;
            serde_json::to_writer(&mut *out, &row)?;
        }
        if !full {
            break;
        }
    }
    out.write_all(b"]").map_err(io)?;
    Ok(())
}

/// Writes the whole site to `out`.
pub fn write<W: Write>(conn: &mut DbConnection, out: &mut W) -> anyhow::Result<()> {
    write!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"exported_at\":\"{}\"",
        ts(crate::time::now())
    )
    .map_err(io)?;
    array(out, "users", |after| {
        let rows: Vec<ExportUser> = users::table
            .filter(users::id.gt(after))
            .order(users::id)
            .limit(BATCH)
            .select(ExportUser::as_select())
            .load(conn)?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    })?;
    array(out, "tags", |after| {
        let rows: Vec<TagRow> = tags::table
            .filter(tags::id.gt(after))
            .order(tags::id)
            .limit(BATCH)
            .select(TagRow::as_select())
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|t| {
                (
                    t.id,
                    ExportTag {
                        id: t.id,
                        slug: t.slug,
                        name: t.name,
                        description: t.description,
                        created_at: t.created_at,
                        updated_at: t.updated_at,
                    },
                )
            })
            .collect())
    })?;
    array(out, "media", |after| {
        let rows: Vec<ExportMedia> = media::table
            .filter(media::id.gt(after))
            .order(media::id)
            .limit(BATCH)
            .select(ExportMedia::as_select())
            .load(conn)?;
        Ok(rows.into_iter().map(|m| (m.id, m)).collect())
    })?;
    array(out, "articles", |after| article_batch(conn, after))?;
    array(out, "comments", |after| {
        let rows: Vec<CommentRow> = comments::table
            .filter(comments::id.gt(after))
            .order(comments::id)
            .limit(BATCH)
            .select(CommentRow::as_select())
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    ExportComment {
                        id: c.id,
                        article_id: c.article_id,
                        parent_id: c.parent_id,
                        author_id: c.author_id,
                        body: c.body,
                        status: c.status,
                        created_at: c.created_at,
                        updated_at: c.updated_at,
                    },
                )
            })
            .collect())
    })?;
    array(out, "redirects", |after| {
        use crate::db::schema::redirects;
        let rows: Vec<crate::redirects::queries::RedirectRow> = redirects::table
            .filter(redirects::id.gt(after))
            .order(redirects::id)
            .limit(BATCH)
            .select(crate::redirects::queries::RedirectRow::as_select())
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    ExportRedirect {
                        from_path: r.from_path,
                        article_id: r.article_id,
                        location: r.location,
                        created_at: r.created_at,
                    },
                )
            })
            .collect())
    })?;
    out.write_all(b"}\n").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(())
}

fn article_batch(conn: &mut DbConnection, after: i64) -> anyhow::Result<Vec<(i64, ExportArticle)>> {
    let rows: Vec<ArticleRow> = articles::table
        .filter(articles::id.gt(after))
        .order(articles::id)
        .limit(BATCH)
        .select(ArticleRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links: Vec<(i64, i64)> = article_tags::table
        .filter(article_tags::article_id.eq_any(&ids))
        .order((article_tags::article_id, article_tags::position))
        .select((article_tags::article_id, article_tags::tag_id))
        .load(conn)?;
    let revisions: Vec<RevisionRow> = article_revisions::table
        .filter(article_revisions::article_id.eq_any(&ids))
        .order((article_revisions::article_id, article_revisions::version))
        .select(RevisionRow::as_select())
        .load(conn)?;
    let days: Vec<(i64, NaiveDate, i64, i64)> = article_daily_stats::table
        .filter(article_daily_stats::article_id.eq_any(&ids))
        .order((article_daily_stats::article_id, article_daily_stats::day))
        .select((
            article_daily_stats::article_id,
            article_daily_stats::day,
            article_daily_stats::views,
            article_daily_stats::comments,
        ))
        .load(conn)?;
    let old: Vec<(String, i64, NaiveDateTime)> = slug_redirects::table
        .filter(slug_redirects::article_id.eq_any(&ids))
        .order(slug_redirects::slug)
        .select((
            slug_redirects::slug,
            slug_redirects::article_id,
            slug_redirects::created_at,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r.id;
        let revisions = revisions
            .iter()
            .filter(|v| v.article_id == id)
            .map(|v| {
                Ok(ExportRevision {
                    version: v.version,
                    title: v.title.clone(),
                    editor_id: v.editor_id,
                    snapshot: serde_json::from_str(&v.snapshot)?,
                    created_at: v.created_at,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        out.push((
            id,
            ExportArticle {
                id,
                slug: r.slug,
                title: r.title,
                subtitle: r.subtitle,
                custom_excerpt: r.custom_excerpt,
                excerpt: r.excerpt,
                body: r.body,
                body_format: r.body_format,
                body_html: r.body_html,
                body_text: r.body_text,
                status: r.status,
                published_at: r.published_at,
                created_at: r.created_at,
                updated_at: r.updated_at,
                version: r.version,
                feature_image: r.feature_image,
                feature_image_id: r.feature_image_id,
                reading_time_minutes: r.reading_time_minutes,
                comments_enabled: r.comments_enabled,
                meta_title: r.meta_title,
                meta_description: r.meta_description,
                canonical_url: r.canonical_url,
                author_id: r.author_id,
                view_count: r.view_count,
                comment_count: r.comment_count,
                tags: links
                    .iter()
                    .filter(|(a, _)| *a == id)
                    .map(|(_, t)| *t)
                    .collect(),
                revisions,
                daily_stats: days
                    .iter()
                    .filter(|(a, ..)| *a == id)
                    .map(|(_, day, views, comments)| ExportDay {
                        day: *day,
                        views: *views,
                        comments: *comments,
                    })
                    .collect(),
                old_slugs: old
                    .iter()
                    .filter(|(_, a, _)| *a == id)
                    .map(|(slug, _, created_at)| ExportOldSlug {
                        slug: slug.clone(),
                        created_at: *created_at,
                    })
                    .collect(),
            },
        ));
    }
    Ok(out)
}
