//! SQL for the `redirects` table. Returns `QueryResult`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::redirects;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = redirects)]
pub struct RedirectRow {
    pub id: i64,
    pub from_path: String,
    pub article_id: Option<i64>,
    pub location: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The redirect of any of these spellings of a path (first found wins).
pub fn find(conn: &mut DbConnection, paths: &[String]) -> QueryResult<Option<RedirectRow>> {
    let rows: Vec<RedirectRow> = redirects::table
        .filter(redirects::from_path.eq_any(paths))
        .select(RedirectRow::as_select())
        .load(conn)?;
    Ok(paths
        .iter()
        .find_map(|p| rows.iter().find(|r| &r.from_path == p).cloned()))
}

/// Records that `from_path` leads to an article; a path already recorded
/// is left as it is. Returns whether a row was added.
pub fn add_for_article(
    conn: &mut DbConnection,
    from_path: &str,
    article_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    add(conn, from_path, Some(article_id), None, now)
}

/// Adds a redirect (an article or a fixed location) unless the path has one.
pub fn add(
    conn: &mut DbConnection,
    from_path: &str,
    article_id: Option<i64>,
    location: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let exists = redirects::table
        .filter(redirects::from_path.eq(from_path))
        .select(redirects::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    diesel::insert_into(redirects::table)
        .values((
            redirects::from_path.eq(from_path),
            redirects::article_id.eq(article_id),
            redirects::location.eq(location),
            redirects::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Every redirect, by id (for the export).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<RedirectRow>> {
    redirects::table
        .order(redirects::id.asc())
        .select(RedirectRow::as_select())
        .load(conn)
}
