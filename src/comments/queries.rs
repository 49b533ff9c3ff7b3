//! SQL for comments. Returns `QueryResult`; the HTTP layer decides statuses.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use crate::db::prepared::{Statement, ids_in};
use crate::db::schema::{articles, comments, users};
use crate::db::{DbBackend, DbConnection};
use crate::http::PageRequest;

pub const APPROVED: &str = "approved";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

// Every column written, `NULL` included: the statement's text is then
// the same for every comment, and SQLite prepares it once.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments, treat_none_as_default_value = false)]
pub struct NewComment {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub body: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = comments)]
pub struct CommentChanges {
    pub body: Option<String>,
    pub status: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// The comment author as shown in comment objects.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AuthorRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

/// What comment rules need to know about an article.
#[derive(Debug, Clone, Queryable)]
pub struct ArticleFacts {
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub comments_enabled: bool,
    pub author_id: i64,
}

impl ArticleFacts {
    pub fn is_visible(&self, now: NaiveDateTime) -> bool {
        crate::articles::content::is_visible(&self.status, self.published_at, now)
    }
}

/// The facts columns of an article.
fn facts(id: i64) -> FactsQuery {
    articles::table.find(id).select((
        articles::status,
        articles::published_at,
        articles::comments_enabled,
        articles::author_id,
    ))
}

type FactsQuery = diesel::dsl::Select<
    diesel::dsl::Find<articles::table, i64>,
    (
        articles::status,
        articles::published_at,
        articles::comments_enabled,
        articles::author_id,
    ),
>;

/// Reads an article's facts without locking (for reads).
pub fn article_facts(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ArticleFacts>> {
    facts(id).first(conn).optional()
}

/// Reads an article's facts and takes its row lock for the rest of the
/// transaction: on PostgreSQL `FOR NO KEY UPDATE`, the lock an update of
/// the row takes, without writing a new version of the row (another unit
/// of the same write group that takes it again finds it held already);
/// SQLite serialises writers anyway.
///
/// Every transaction that changes an article's comments starts here, so on
/// PostgreSQL they run one after another per article and the counts they
/// keep cannot race.
pub fn lock_article(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ArticleFacts>> {
    match conn {
        DbConnection::Postgres(pg) => facts(id).for_no_key_update().first(pg).optional(),
        DbConnection::Sqlite(lite) => facts(id).first(lite).optional(),
    }
}

/// Takes the row lock of a user (false when the user no longer exists), so
/// that a comment cannot be added while the author is being deleted.
pub fn lock_user(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let n = diesel::update(users::table.find(id))
        .set(users::updated_at.eq(users::updated_at))
        .execute(conn)?;
    Ok(n > 0)
}

/// The comment author as shown in comment objects (`None` when the user
/// no longer exists), held until the transaction ends, without keeping
/// other writers by the same user waiting: on PostgreSQL a `FOR KEY SHARE`
/// lock, which only a deletion (`lock_user`) waits for; SQLite has one
/// writer anyway.
pub fn hold_author(conn: &mut DbConnection, id: i64) -> QueryResult<Option<AuthorRow>> {
    let query = || {
        users::table
            .find(id)
            .select((users::id, users::name, users::slug))
    };
    match conn {
        DbConnection::Postgres(pg) => query().for_key_share().first(pg).optional(),
        DbConnection::Sqlite(lite) => query().first(lite).optional(),
    }
}

/// [`hold_author`] and [`lock_article`] in one statement, the first of a
/// new comment: the author and the article's facts, each row held as those
/// two hold it. `None` for whichever of the two does not exist.
pub fn hold_author_lock_article(
    conn: &mut DbConnection,
    user_id: i64,
    article_id: i64,
) -> QueryResult<(Option<AuthorRow>, Option<ArticleFacts>)> {
    macro_rules! both {
        ($locks:literal) => {
            concat!(
                "SELECT u.id, u.name, u.slug, \
                 a.status, a.published_at, a.comments_enabled, a.author_id \
                 FROM users u CROSS JOIN articles a WHERE u.id = ? AND a.id = ?",
                $locks
            )
        };
    }
    let sql = match conn {
        DbConnection::Postgres(_) => both!(" FOR KEY SHARE OF u FOR NO KEY UPDATE OF a"),
        DbConnection::Sqlite(_) => both!(""),
    };
    type Row = (
        i64,
        String,
        String,
        String,
        Option<NaiveDateTime>,
        bool,
        i64,
    );
    let row: Option<Row> =
        Statement::<(BigInt, Text, Text, Text, Nullable<Timestamp>, Bool, BigInt)>::new(sql)
            .bind::<BigInt, _>(user_id)
            .bind::<BigInt, _>(article_id)
            .get_result(conn)
            .optional()?;
    match row {
        Some((id, name, slug, status, published_at, comments_enabled, author_id)) => Ok((
            Some(AuthorRow { id, name, slug }),
            Some(ArticleFacts {
                status,
                published_at,
                comments_enabled,
                author_id,
            }),
        )),
        // One of them is missing (rare): which one decides the answer.
        None => {
            let author = hold_author(conn, user_id)?;
            let article = match author {
                Some(_) => lock_article(conn, article_id)?,
                None => None,
            };
            Ok((author, article))
        }
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<CommentRow>> {
    comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut DbConnection, new: &NewComment) -> QueryResult<CommentRow> {
    diesel::insert_into(comments::table)
        .values(new)
        .returning(comments::all_columns)
        .get_result(conn)
}

pub fn update(
    conn: &mut DbConnection,
    id: i64,
    changes: &CommentChanges,
) -> QueryResult<CommentRow> {
    diesel::update(comments::table.find(id))
        .set(changes)
        .returning(comments::all_columns)
        .get_result(conn)
}

/// Deletes a comment; its replies go with it (`ON DELETE CASCADE`).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(comments::table.find(id)).execute(conn)
}

/// The authors of these comments, by id.
pub fn authors(
    conn: &mut DbConnection,
    rows: &[CommentRow],
) -> QueryResult<HashMap<i64, AuthorRow>> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.author_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let found: Vec<AuthorRow> = users::table
        .filter(ids_in(conn.backend(), users::id, &ids))
        .select(AuthorRow::as_select())
        .load(conn)?;
    Ok(found.into_iter().map(|a| (a.id, a)).collect())
}

#[derive(Debug, Default, Clone)]
pub struct CommentFilter {
    pub article_id: Option<i64>,
    pub status: Option<String>,
}

fn filtered(f: &CommentFilter) -> comments::BoxedQuery<'static, DbBackend> {
    let mut q = comments::table.into_boxed();
    if let Some(article_id) = f.article_id {
        q = q.filter(comments::article_id.eq(article_id));
    }
    if let Some(status) = &f.status {
        q = q.filter(comments::status.eq(status.clone()));
    }
    q
}

/// A page of comments ordered by `created_at` (then id) and the total;
/// `seek` is the cursor position `(created_at, id)` when paging by keyset.
pub fn list(
    conn: &mut DbConnection,
    f: &CommentFilter,
    page: &PageRequest,
    seek: Option<(NaiveDateTime, i64)>,
) -> QueryResult<(Vec<CommentRow>, i64)> {
    let total = filtered(f).count().get_result::<i64>(conn)?;
    let q = filtered(f).select(CommentRow::as_select());
    let q = crate::order_and_seek!(q, comments::created_at, comments::id, page.sort.desc, seek);
    let rows = q
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    Ok((rows, total))
}

/// The cursor key of a row (the only sort field is `created_at`).
pub fn sort_key(row: &CommentRow) -> Option<String> {
    Some(crate::time::cursor_key(row.created_at))
}
