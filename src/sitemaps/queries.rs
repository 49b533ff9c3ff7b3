//! The few reads sitemaps need, each a range or an aggregate on an index,
//! never a page of full article rows.
//!
//! Article sitemaps are pages of fixed id ranges: page `n` holds the visible
//! articles with `(n - 1) * size < id <= n * size`. A page is then a range
//! scan of the primary key (fast at any depth, no offset), holds at most
//! `size` URLs, and an old page changes only when one of its own articles
//! does, so caches keep it.

use chrono::NaiveDateTime;
use diesel::dsl::{max, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamp};

use crate::articles::listing::visible;
use crate::db::schema::{articles, tags, users};
use crate::db::{Backend, DbConnection};

/// One URL of the article sitemap.
#[derive(Debug, Clone, Queryable)]
pub struct ArticleUrl {
    pub id: i64,
    pub slug: String,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// The non-empty article pages: `(page, last change)`, in order, where
/// the last change is the newest edit or publication among the page's
/// articles. One aggregate per page, each an index-only range scan of
/// `articles_sitemap_idx` in id order (no sort, no temporary table); the
/// handler keeps the answer per write generation (`super::Facts`).
pub fn article_pages(
    conn: &mut DbConnection,
    backend: Backend,
    now: NaiveDateTime,
    size: u32,
) -> QueryResult<Vec<(i64, Option<NaiveDateTime>)>> {
    let last: Option<i64> = articles::table.select(max(articles::id)).first(conn)?;
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    let size = i64::from(size.max(1));
    let mut pages = Vec::new();
    for n in 1..=((last - 1) / size + 1) {
        let (count, updated, published): (i64, Option<NaiveDateTime>, Option<NaiveDateTime>) =
            articles::table
                .filter(visible(backend, now))
                .filter(
                    articles::id
                        .gt((n - 1) * size)
                        .and(articles::id.le(n * size)),
                )
                .select((
                    diesel::dsl::count_star(),
                    max(articles::updated_at),
                    max(articles::published_at),
                ))
                .first(conn)?;
        if count > 0 {
            pages.push((n, updated.max(published)));
        }
    }
    Ok(pages)
}

/// `(count, sum of ids, sum of versions, last change)` of a page.
pub type Fingerprint = (i64, Option<i64>, Option<i64>, Option<NaiveDateTime>);

/// What an article page's answer depends on, for its ETag without reading
/// the rows: how many, which, their versions (every change of a slug or a
/// date bumps one) and the last change among them.
pub fn article_page_fingerprint(
    conn: &mut DbConnection,
    backend: Backend,
    now: NaiveDateTime,
    (from, to): (i64, i64),
) -> QueryResult<Fingerprint> {
    articles::table
        .filter(visible(backend, now))
        .filter(articles::id.gt(from).and(articles::id.le(to)))
        .select((
            diesel::dsl::count_star(),
            sql::<diesel::sql_types::Nullable<BigInt>>("CAST(SUM(articles.id) AS BIGINT)"),
            sql::<diesel::sql_types::Nullable<BigInt>>("CAST(SUM(articles.version) AS BIGINT)"),
            max(articles::updated_at),
        ))
        .first(conn)
}

/// Up to `limit` visible articles with `after < id <= to`, by id.
pub fn article_urls(
    conn: &mut DbConnection,
    backend: Backend,
    now: NaiveDateTime,
    after: i64,
    to: i64,
    limit: i64,
) -> QueryResult<Vec<ArticleUrl>> {
    articles::table
        .filter(visible(backend, now))
        .filter(articles::id.gt(after).and(articles::id.le(to)))
        .order(articles::id.asc())
        .select((
            articles::id,
            articles::slug,
            articles::published_at,
            articles::updated_at,
        ))
        .limit(limit)
        .load(conn)
}

/// Visible articles published after `since`, newest first (the news sitemap).
pub fn recent_articles(
    conn: &mut DbConnection,
    backend: Backend,
    now: NaiveDateTime,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(ArticleUrl, String)>> {
    let rows: Vec<(i64, String, Option<NaiveDateTime>, NaiveDateTime, String)> = articles::table
        .filter(visible(backend, now))
        .filter(articles::published_at.gt(since))
        .order((articles::published_at.desc(), articles::id.desc()))
        .select((
            articles::id,
            articles::slug,
            articles::published_at,
            articles::updated_at,
            articles::title,
        ))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, published_at, updated_at, title)| {
            (
                ArticleUrl {
                    id,
                    slug,
                    published_at,
                    updated_at,
                },
                title,
            )
        })
        .collect())
}

/// Tags with at least one visible article: `(slug, last change)`, where the
/// last change is the newest of the tag's own and its articles' publication.
///
/// One seek per tag on `article_tags_visible_idx` (the newest visible
/// publication of that tag is the last index entry before `now`), not an
/// aggregate over every link of every article.
pub fn tag_urls(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let newest = sql::<Nullable<Timestamp>>(
        "(SELECT MAX(l.article_published_at) FROM article_tags l \
         WHERE l.tag_id = tags.id AND l.article_status = 'published' \
         AND l.article_published_at <= ",
    )
    .bind::<Timestamp, _>(now)
    .sql(")");
    let rows: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)> = tags::table
        .select((tags::slug, tags::updated_at, newest))
        .load(conn)?;
    Ok(with_newest(rows))
}

/// Authors (users with a visible article): `(slug, last change)`, the
/// newest of the user's own change and their newest publication.
///
/// One seek per user on `articles_author_idx` (author, status,
/// publication), like the tags.
pub fn author_urls(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let newest = sql::<Nullable<Timestamp>>(
        "(SELECT MAX(a.published_at) FROM articles a \
         WHERE a.author_id = users.id AND a.status = 'published' \
         AND a.published_at <= ",
    )
    .bind::<Timestamp, _>(now)
    .sql(")");
    let rows: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)> = users::table
        .select((users::slug, users::updated_at, newest))
        .load(conn)?;
    Ok(with_newest(rows))
}

/// Keeps the rows with a visible article; the last change is the newer of
/// the row's own and that article's publication.
fn with_newest(
    rows: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)>,
) -> Vec<(String, NaiveDateTime)> {
    let mut rows: Vec<(String, NaiveDateTime)> = rows
        .into_iter()
        .filter_map(|(slug, updated, newest)| newest.map(|p| (slug, p.max(updated))))
        .collect();
    // Byte order on both backends (PostgreSQL's collation may differ).
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    rows
}
