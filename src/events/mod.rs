//! The durable event log: every change a front end cares about is one row
//! of `events`, written in the transaction of the change (so no change is
//! ever without its event, and no event without its change), read back by
//! `GET /events` and by the webhook worker.
//!
//! What fires when (articles; the *public* life of a story):
//! - `article.published`: it became public: a save that makes it visible
//!   now, or the scheduler when a scheduled article's time comes (once).
//! - `article.updated`: a public article changed.
//! - `article.scheduled`: a save left it `published` with a future
//!   `published_at` (new, rescheduled, or edited while scheduled).
//! - `article.unpublished`: a public or scheduled article went back to
//!   draft or archived.
//! - `article.deleted`: a public or scheduled article was deleted.
//!
//! Drafts that stay drafts fire nothing. `comment.created` fires for every
//! new comment (pending ones included: moderation tools listen),
//! `comment.approved` when moderation approves one; `tag.*` for the tag
//! endpoints (tags made on the fly by an article arrive in that article's
//! event).
//!
//! Must not: send anything over the network (that is `webhooks`), or be
//! written outside the transaction of the change.

pub mod dto;
pub mod keys;
pub mod queries;
pub mod routes;
pub mod scheduler;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::articles::dto::{Article, ArticleStatus, Snapshot, TagRef};
use crate::articles::queries::ArticleRow;
use crate::db::{Backend, Db, DbConnection};
use crate::error::ApiError;

/// Every kind of event, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    ArticlePublished,
    ArticleUpdated,
    ArticleUnpublished,
    ArticleDeleted,
    ArticleScheduled,
    CommentCreated,
    CommentApproved,
    TagCreated,
    TagUpdated,
    TagDeleted,
    MediaCreated,
    MediaDeleted,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::ArticlePublished,
        EventType::ArticleUpdated,
        EventType::ArticleUnpublished,
        EventType::ArticleDeleted,
        EventType::ArticleScheduled,
        EventType::CommentCreated,
        EventType::CommentApproved,
        EventType::TagCreated,
        EventType::TagUpdated,
        EventType::TagDeleted,
        EventType::MediaCreated,
        EventType::MediaDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ArticlePublished => "article.published",
            EventType::ArticleUpdated => "article.updated",
            EventType::ArticleUnpublished => "article.unpublished",
            EventType::ArticleDeleted => "article.deleted",
            EventType::ArticleScheduled => "article.scheduled",
            EventType::CommentCreated => "comment.created",
            EventType::CommentApproved => "comment.approved",
            EventType::TagCreated => "tag.created",
            EventType::TagUpdated => "tag.updated",
            EventType::TagDeleted => "tag.deleted",
            EventType::MediaCreated => "media.created",
            EventType::MediaDeleted => "media.deleted",
        }
    }

    pub fn parse(value: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }
}

/// Appends one event in the transaction of its change (see
/// `queries::insert`).
pub fn record(
    conn: &mut DbConnection,
    kind: EventType,
    subject: &str,
    data: &impl Serialize,
    purge_keys: &[String],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let data = serde_json::to_string(data).map_err(ApiError::internal)?;
    let keys = serde_json::to_string(purge_keys).map_err(ApiError::internal)?;
    Ok(queries::insert(
        conn,
        kind.as_str(),
        subject,
        &data,
        &keys,
        now,
    )?)
}

/// Gives every event of a committed write its place in the log, so that
/// `GET /events` and the webhooks see it (PostgreSQL; see
/// `queries::sequence`). Returns how many moved; SQLite has nothing to do.
pub async fn sequence(db: &Db) -> Result<usize, ApiError> {
    if db.backend() == Backend::Sqlite {
        return Ok(0);
    }
    let mut moved = 0;
    loop {
        let n = db.write(|conn| Ok(queries::sequence(conn)?)).await?;
        moved += n;
        if (n as i64) < queries::SEQUENCE_BATCH {
            return Ok(moved);
        }
    }
}

/// What an event about an article is about.
pub fn article_subject(id: i64) -> String {
    format!("article:{id}")
}

/// What an event about a tag is about.
pub fn tag_subject(id: i64) -> String {
    format!("tag:{id}")
}

/// What an event about a comment is about.
pub fn comment_subject(id: i64) -> String {
    format!("comment:{id}")
}

/// Records `comment.created` or `comment.approved`. Only an approved
/// comment changes what the public sees (the article's comments and
/// `comment_count`), so only then are there keys to purge.
pub fn comment_event(
    conn: &mut DbConnection,
    kind: EventType,
    comment: &crate::comments::dto::Comment,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let purge = if comment.status == crate::comments::dto::CommentStatus::Approved {
        vec![
            crate::http::surrogate::article(comment.article_id),
            crate::http::surrogate::comments(comment.article_id),
        ]
    } else {
        Vec::new()
    };
    record(
        conn,
        kind,
        &comment_subject(comment.id),
        comment,
        &purge,
        now,
    )?;
    Ok(())
}

fn is_published(status: &str) -> bool {
    status == ArticleStatus::Published.as_str()
}

/// Records what a save of an article means to the public, and keeps its
/// scheduled announcement (`scheduled_articles`) in step. `before` is the
/// state before the save (`None` for a new article).
pub fn article_saved(
    conn: &mut DbConnection,
    before: Option<&Snapshot>,
    row: &ArticleRow,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let published = is_published(&row.status);
    let scheduled_at = row.published_at.filter(|t| published && *t > now);
    // Claims a pending announcement: true when one was waiting (and no
    // scheduler took it first).
    let was_pending = queries::unschedule(conn, row.id)?;
    let was_published = before.is_some_and(|b| b.status == ArticleStatus::Published);
    let kind = if let Some(at) = scheduled_at {
        queries::schedule(conn, row.id, at)?;
        Some(EventType::ArticleScheduled)
    } else if published {
        if was_pending || !was_published {
            Some(EventType::ArticlePublished)
        } else {
            Some(EventType::ArticleUpdated)
        }
    } else if was_published || was_pending {
        Some(EventType::ArticleUnpublished)
    } else {
        None
    };
    let Some(kind) = kind else {
        return Ok(());
    };
    let old_tags: Vec<String> = before
        .map(|b| b.tags.iter().map(|t| t.slug.clone()).collect())
        .unwrap_or_default();
    let old_author = before.map(|b| b.author_id);
    announce(conn, kind, row.id, &old_tags, old_author, now)
}

/// Records `kind` for article `id` with its current public object.
pub fn announce(
    conn: &mut DbConnection,
    kind: EventType,
    id: i64,
    old_tags: &[String],
    old_author: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (row, author) = crate::articles::queries::find(conn, id)?;
    let tags = crate::articles::queries::tags_of(conn, id)?;
    let mut slugs: Vec<String> = tags.iter().map(|t| t.slug.clone()).collect();
    slugs.extend(old_tags.iter().cloned());
    let mut authors = vec![row.author_id];
    authors.extend(old_author);
    let purge = keys::for_article(id, &authors, &slugs);
    let article = Article::from_parts(row, author, tags);
    record(conn, kind, &article_subject(id), &article, &purge, now)?;
    Ok(())
}

/// Records `article.deleted` for an article about to be deleted, when the
/// public knew it (published or scheduled). `tags` are its tags.
pub fn article_deleted(
    conn: &mut DbConnection,
    row: &ArticleRow,
    tags: &[TagRef],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if !is_published(&row.status) {
        return Ok(());
    }
    let slugs: Vec<String> = tags.iter().map(|t| t.slug.clone()).collect();
    let purge = keys::for_article(row.id, &[row.author_id], &slugs);
    let data = serde_json::json!({ "id": row.id, "slug": row.slug });
    record(
        conn,
        EventType::ArticleDeleted,
        &article_subject(row.id),
        &data,
        &purge,
        now,
    )?;
    Ok(())
}
