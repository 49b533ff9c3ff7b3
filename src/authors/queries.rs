//! SQL for authors. Whether a user is an author, and how many articles
//! they have, depends on the clock (scheduled articles turn visible without
//! a write), so both are computed per request from the
//! `(author_id, status, published_at)` index, never stored.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamp};

use crate::db::keyset::NameOrCount;
use crate::db::schema::users;
use crate::db::{DbBackend, DbConnection};
use crate::http::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AuthorProfileRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
}

const VISIBLE_BY_USER: &str = "FROM articles WHERE articles.author_id = users.id \
     AND articles.status = 'published' AND articles.published_at <= ";

fn has_articles(
    now: NaiveDateTime,
) -> Box<dyn BoxableExpression<users::table, DbBackend, SqlType = Bool>> {
    Box::new(
        sql::<Bool>("EXISTS (SELECT 1 ")
            .sql(VISIBLE_BY_USER)
            .bind::<Timestamp, _>(now)
            .sql(")"),
    )
}

fn article_count(
    now: NaiveDateTime,
) -> Box<dyn BoxableExpression<users::table, DbBackend, SqlType = BigInt>> {
    Box::new(
        sql::<BigInt>("(SELECT COUNT(*) ")
            .sql(VISIBLE_BY_USER)
            .bind::<Timestamp, _>(now)
            .sql(")"),
    )
}

pub fn list(
    conn: &mut DbConnection,
    page: &PageRequest,
    seek: Option<NameOrCount>,
    now: NaiveDateTime,
) -> QueryResult<(Vec<(AuthorProfileRow, i64)>, i64)> {
    let total = users::table
        .filter(has_articles(now))
        .count()
        .get_result::<i64>(conn)?;
    let q = users::table
        .filter(has_articles(now))
        .select((AuthorProfileRow::as_select(), article_count(now)))
        .into_boxed::<DbBackend>();
    let desc = page.sort.desc;
    let q = if page.sort.field == "article_count" {
        let q = if desc {
            q.order((article_count(now).desc(), users::id.desc()))
        } else {
            q.order((article_count(now).asc(), users::id.asc()))
        };
        match seek {
            Some(NameOrCount::Count(k, id)) if desc => q.filter(
                article_count(now)
                    .lt(k)
                    .or(article_count(now).eq(k).and(users::id.lt(id))),
            ),
            Some(NameOrCount::Count(k, id)) => q.filter(
                article_count(now)
                    .gt(k)
                    .or(article_count(now).eq(k).and(users::id.gt(id))),
            ),
            _ => q,
        }
    } else {
        let seek = match seek {
            Some(NameOrCount::Name(k, id)) => Some((k, id)),
            _ => None,
        };
        crate::order_and_seek!(q, users::name, users::id, desc, seek)
    };
    let rows = q
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    Ok((rows, total))
}

/// One author by slug; `NotFound` when the user has no visible article.
pub fn find_by_slug(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<(AuthorProfileRow, i64)> {
    users::table
        .filter(users::slug.eq(slug))
        .filter(has_articles(now))
        .select((AuthorProfileRow::as_select(), article_count(now)))
        .into_boxed::<DbBackend>()
        .first(conn)
}
