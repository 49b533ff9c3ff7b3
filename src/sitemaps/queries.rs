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
use diesel::sql_types::BigInt;

use crate::articles::listing::visible;
use crate::db::schema::{article_tags, articles, tags, users};
use crate::db::{Backend, DbConnection};

/// One URL of the article sitemap.
#[derive(Debug, Clone, Queryable)]
pub struct ArticleUrl {
    pub id: i64,
    pub slug: String,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// The non-empty article pages: `(page, last change)`, in order.
pub fn article_pages(
    conn: &mut DbConnection,
    backend: Backend,
    now: NaiveDateTime,
    size: u32,
) -> QueryResult<Vec<(i64, Option<NaiveDateTime>)>> {
    // `size` is a number from the configuration, not input.
    let page = format!("((articles.id - 1) / {size} + 1)");
    articles::table
        .filter(visible(backend, now))
        .group_by(sql::<BigInt>(&page))
        .select((sql::<BigInt>(&page), max(articles::updated_at)))
        .order(sql::<BigInt>(&page))
        .load(conn)
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
pub fn tag_urls(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let newest: Vec<(i64, Option<NaiveDateTime>)> = article_tags::table
        .filter(article_tags::article_status.eq("published"))
        .filter(article_tags::article_published_at.le(now))
        .group_by(article_tags::tag_id)
        .select((
            article_tags::tag_id,
            max(article_tags::article_published_at),
        ))
        .load(conn)?;
    let ids: Vec<i64> = newest.iter().map(|(id, _)| *id).collect();
    let newest: std::collections::HashMap<i64, Option<NaiveDateTime>> =
        newest.into_iter().collect();
    let mut rows: Vec<(i64, String, NaiveDateTime)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        rows.extend(
            tags::table
                .filter(tags::id.eq_any(chunk))
                .select((tags::id, tags::slug, tags::updated_at))
                .load::<(i64, String, NaiveDateTime)>(conn)?,
        );
    }
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(rows
        .into_iter()
        .map(|(id, slug, updated)| {
            let published = newest.get(&id).copied().flatten();
            (slug, published.map_or(updated, |p| p.max(updated)))
        })
        .collect())
}

/// Authors (users with a visible article): `(slug, newest publication)`.
pub fn author_urls(
    conn: &mut DbConnection,
    backend: Backend,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    let newest: Vec<(i64, Option<NaiveDateTime>)> = articles::table
        .filter(visible(backend, now))
        .group_by(articles::author_id)
        .select((articles::author_id, max(articles::published_at)))
        .load(conn)?;
    let ids: Vec<i64> = newest.iter().map(|(id, _)| *id).collect();
    let newest: std::collections::HashMap<i64, Option<NaiveDateTime>> =
        newest.into_iter().collect();
    let mut rows: Vec<(i64, String, NaiveDateTime)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        rows.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .select((users::id, users::slug, users::updated_at))
                .load::<(i64, String, NaiveDateTime)>(conn)?,
        );
    }
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(rows
        .into_iter()
        .map(|(id, slug, updated)| {
            let published = newest.get(&id).copied().flatten();
            (slug, published.map_or(updated, |p| p.max(updated)))
        })
        .collect())
}
