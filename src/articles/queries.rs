//! SQL for articles, their tag links, revisions, slug redirects and the
//! counters other modules write. Returns `QueryResult`; the HTTP layer
//! decides statuses.
//!
//! The article list itself lives in `listing`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dto::{Article, ArticleListItem, ArticleStatus, AuthorRef, BodyFormat, TagRef};
use super::listing::ListRow;
use crate::db::prepared::ids_in;
use crate::db::schema::{article_revisions, article_tags, articles, slug_redirects, tags, users};
use crate::db::timestamp::{MaybeStamp, Stamp};
use crate::db::{DbBackend, DbConnection};
use crate::http::PageRequest;
use crate::time::to_api;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
#[diesel(check_for_backend(DbBackend))]
pub struct ArticleRow {
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
    #[diesel(deserialize_as = MaybeStamp)]
    pub published_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub feature_image: Option<String>,
    pub reading_time_minutes: i32,
    pub comments_enabled: bool,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub author_id: i64,
    pub view_count: i64,
    pub comment_count: i64,
    pub feature_image_id: Option<i64>,
}

/// An article without its body columns: what a list loads.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
#[diesel(check_for_backend(DbBackend))]
pub struct ArticleSummaryRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: String,
    pub body_format: String,
    pub status: String,
    #[diesel(deserialize_as = MaybeStamp)]
    pub published_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub feature_image: Option<String>,
    pub reading_time_minutes: i32,
    pub comments_enabled: bool,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub author_id: i64,
    pub view_count: i64,
    pub comment_count: i64,
    pub feature_image_id: Option<i64>,
}

/// The byline columns of a user.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AuthorRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub avatar_url: Option<String>,
}

/// Every column a content change writes (all of them, `None` as NULL, so
/// that rows can be inserted in batches on SQLite too).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = articles, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ArticleContent {
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
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub feature_image: Option<String>,
    pub reading_time_minutes: i32,
    pub comments_enabled: bool,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub author_id: i64,
    pub feature_image_id: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle {
    #[diesel(embed)]
    pub content: ArticleContent,
    pub created_at: NaiveDateTime,
    /// 0 for a new article; set by the benchmark seed.
    pub view_count: i64,
    pub comment_count: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = article_revisions)]
pub struct RevisionRow {
    pub id: i64,
    pub article_id: i64,
    pub version: i64,
    pub title: String,
    pub editor_id: Option<i64>,
    pub snapshot: String,
    pub created_at: NaiveDateTime,
}

/// List rows for the given ids, in that order (ids not found are skipped).
pub fn list_rows_by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<ListRow>> {
    let rows: Vec<(ArticleSummaryRow, AuthorRow)> = articles::table
        .inner_join(users::table)
        .filter(ids_in(conn.backend(), articles::id, ids))
        .select((ArticleSummaryRow::as_select(), AuthorRow::as_select()))
        .load(conn)?;
    let mut by_id: std::collections::HashMap<i64, (ArticleSummaryRow, AuthorRow)> =
        rows.into_iter().map(|r| (r.0.id, r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|(article, author)| ListRow {
            article,
            author,
            rank: None,
        })
        .collect())
}

/// The tags of many articles at once: `(article_id, tag)` in display order.
pub fn tags_for(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, TagRef)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, i64, String, String)> = article_tags::table
        .inner_join(tags::table)
        .filter(ids_in(conn.backend(), article_tags::article_id, ids))
        .order((article_tags::article_id, article_tags::position))
        .select((article_tags::article_id, tags::id, tags::slug, tags::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(article_id, id, slug, name)| (article_id, TagRef { id, slug, name }))
        .collect())
}

/// `(id, body, body_html)` of many articles at once.
pub fn bodies_for(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    articles::table
        .filter(ids_in(conn.backend(), articles::id, ids))
        .select((articles::id, articles::body, articles::body_html))
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<(ArticleRow, AuthorRow)> {
    articles::table
        .inner_join(users::table)
        .filter(articles::id.eq(id))
        .select((ArticleRow::as_select(), AuthorRow::as_select()))
        .first(conn)
}

pub fn find_by_slug(
    conn: &mut DbConnection,
    slug: &str,
) -> QueryResult<Option<(ArticleRow, AuthorRow)>> {
    articles::table
        .inner_join(users::table)
        .filter(articles::slug.eq(slug))
        .select((ArticleRow::as_select(), AuthorRow::as_select()))
        .first(conn)
        .optional()
}

/// The article an old slug now points at.
pub fn redirect_target(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<i64>> {
    slug_redirects::table
        .find(slug)
        .select(slug_redirects::article_id)
        .first(conn)
        .optional()
}

/// One article's tags in display order (a statement whose text never
/// changes, so each connection prepares it once).
pub fn tags_of(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<TagRef>> {
    let rows: Vec<(i64, String, String)> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq(id))
        .order(article_tags::position)
        .select((tags::id, tags::slug, tags::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, name)| TagRef { id, slug, name })
        .collect())
}

/// Whether an article other than `except` has this slug.
pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(articles::id.ne(id));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

/// A slug for a new article: `base`, `base-2`, ... that is neither an
/// article's slug nor an old slug still redirecting.
pub fn free_slug(conn: &mut DbConnection, base: &str) -> QueryResult<String> {
    let pattern = crate::slug::variants_pattern(base);
    let mut taken: Vec<String> = articles::table
        .filter(
            articles::slug
                .eq(base)
                .or(articles::slug.like(pattern.clone())),
        )
        .select(articles::slug)
        .load(conn)?;
    taken.extend(
        slug_redirects::table
            .filter(
                slug_redirects::slug
                    .eq(base)
                    .or(slug_redirects::slug.like(pattern)),
            )
            .select(slug_redirects::slug)
            .load::<String>(conn)?,
    );
    Ok(crate::slug::first_free(base, &taken))
}

pub fn insert(conn: &mut DbConnection, new: &NewArticle) -> QueryResult<ArticleRow> {
    diesel::insert_into(articles::table)
        .values(new)
        .returning(articles::all_columns)
        .get_result(conn)
}

pub fn update_content(
    conn: &mut DbConnection,
    id: i64,
    content: &ArticleContent,
) -> QueryResult<ArticleRow> {
    diesel::update(articles::table.find(id))
        .set(content)
        .returning(articles::all_columns)
        .get_result(conn)
}

/// Replaces an article's tag links, keeping the given order.
pub fn set_tags(conn: &mut DbConnection, id: i64, tag_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(id))).execute(conn)?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    // One statement per link: diesel's MultiConnection cannot batch-insert
    // on SQLite, and an article has a handful of tags.
    for (i, tag) in tag_ids.iter().enumerate() {
        diesel::insert_into(article_tags::table)
            .values((
                article_tags::article_id.eq(id),
                article_tags::tag_id.eq(*tag),
                article_tags::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Makes `slug` answer for article `id` (replacing any older redirect of it).
pub fn add_redirect(
    conn: &mut DbConnection,
    slug: &str,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    remove_redirect(conn, slug)?;
    diesel::insert_into(slug_redirects::table)
        .values((
            slug_redirects::slug.eq(slug),
            slug_redirects::article_id.eq(id),
            slug_redirects::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn remove_redirect(conn: &mut DbConnection, slug: &str) -> QueryResult<()> {
    diesel::delete(slug_redirects::table.find(slug)).execute(conn)?;
    Ok(())
}

pub fn insert_revision(
    conn: &mut DbConnection,
    article_id: i64,
    version: i64,
    title: &str,
    editor_id: i64,
    snapshot: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(article_id),
            article_revisions::version.eq(version),
            article_revisions::title.eq(title),
            article_revisions::editor_id.eq(Some(editor_id)),
            article_revisions::snapshot.eq(snapshot),
            article_revisions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes an article; its tag links, revisions, redirects, comments and
/// daily counters go with it (foreign keys cascade).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(articles::table.find(id)).execute(conn)
}

/// A page of an article's revisions with the total.
pub fn list_revisions(
    conn: &mut DbConnection,
    article_id: i64,
    page: &PageRequest,
    seek: Option<(i64, i64)>,
) -> QueryResult<(Vec<RevisionRow>, i64)> {
    let total = article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .count()
        .get_result::<i64>(conn)?;
    let q = article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .select(RevisionRow::as_select())
        .into_boxed::<DbBackend>();
    let rows = crate::order_and_seek!(
        q,
        article_revisions::version,
        article_revisions::id,
        page.sort.desc,
        seek
    )
    .offset(page.offset())
    .limit(page.fetch_limit())
    .load(conn)?;
    Ok((rows, total))
}

pub fn find_revision(
    conn: &mut DbConnection,
    article_id: i64,
    version: i64,
) -> QueryResult<RevisionRow> {
    article_revisions::table
        .filter(article_revisions::article_id.eq(article_id))
        .filter(article_revisions::version.eq(version))
        .select(RevisionRow::as_select())
        .first(conn)
}

/// `(id, name)` of the given users.
pub fn user_names(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load(conn)
}

/// `(role)` of a user, if the user exists.
pub fn user_role(conn: &mut DbConnection, id: i64) -> QueryResult<Option<String>> {
    users::table
        .find(id)
        .select(users::role)
        .first(conn)
        .optional()
}

/// Whether any article exists (`serve --demo` seeds only an empty site).
pub fn any(conn: &mut DbConnection) -> QueryResult<bool> {
    Ok(articles::table
        .select(articles::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

// How rows become the API's shapes: beside the rows, so that the shapes
// (`dto`) know nothing of the database.

impl From<AuthorRow> for AuthorRef {
    fn from(a: AuthorRow) -> Self {
        Self {
            id: a.id,
            slug: a.slug,
            name: a.name,
            avatar_url: a.avatar_url,
        }
    }
}

impl Article {
    pub fn from_parts(r: ArticleRow, author: AuthorRow, tags: Vec<TagRef>) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            title: r.title,
            subtitle: r.subtitle,
            excerpt: r.excerpt,
            body: r.body,
            body_format: BodyFormat::parse(&r.body_format).unwrap_or_default(),
            body_html: r.body_html,
            status: ArticleStatus::parse(&r.status).unwrap_or(ArticleStatus::Draft),
            published_at: r.published_at.map(to_api),
            created_at: to_api(r.created_at),
            updated_at: to_api(r.updated_at),
            version: r.version,
            feature_image: r.feature_image,
            feature_image_id: r.feature_image_id,
            feature_image_media: None,
            reading_time_minutes: r.reading_time_minutes,
            comments_enabled: r.comments_enabled,
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            canonical_url: r.canonical_url,
            author: author.into(),
            tags,
            view_count: r.view_count,
            comment_count: r.comment_count,
        }
    }
}

impl ArticleListItem {
    /// `body` is `(body, body_html)` when the list includes bodies.
    pub fn from_parts(
        r: ArticleSummaryRow,
        author: AuthorRow,
        tags: Vec<TagRef>,
        body: Option<(String, String)>,
    ) -> Self {
        let (body, body_html) = match body {
            Some((b, h)) => (Some(b), Some(h)),
            None => (None, None),
        };
        Self {
            id: r.id,
            slug: r.slug,
            title: r.title,
            subtitle: r.subtitle,
            excerpt: r.excerpt,
            body,
            body_format: BodyFormat::parse(&r.body_format).unwrap_or_default(),
            body_html,
            status: ArticleStatus::parse(&r.status).unwrap_or(ArticleStatus::Draft),
            published_at: r.published_at.map(to_api),
            created_at: to_api(r.created_at),
            updated_at: to_api(r.updated_at),
            version: r.version,
            feature_image: r.feature_image,
            feature_image_id: r.feature_image_id,
            feature_image_media: None,
            reading_time_minutes: r.reading_time_minutes,
            comments_enabled: r.comments_enabled,
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            canonical_url: r.canonical_url,
            author: author.into(),
            tags,
            view_count: r.view_count,
            comment_count: r.comment_count,
        }
    }
}
