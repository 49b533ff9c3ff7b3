//! SQL for preview tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::article_previews;

#[derive(Debug, Insertable)]
#[diesel(table_name = article_previews)]
pub struct NewPreview {
    pub article_id: i64,
    pub token_hash: String,
    pub version: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Stores a token, dropping the article's expired ones on the way (so the
/// table holds live tokens, without a job).
pub fn create(conn: &mut DbConnection, new: NewPreview) -> QueryResult<()> {
    diesel::delete(
        article_previews::table
            .filter(article_previews::article_id.eq(new.article_id))
            .filter(article_previews::expires_at.le(new.created_at)),
    )
    .execute(conn)?;
    diesel::insert_into(article_previews::table)
        .values(&new)
        .execute(conn)?;
    Ok(())
}

/// What an unexpired token opens: `(article_id, version)`.
pub fn find_live(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, Option<i64>)>> {
    article_previews::table
        .filter(article_previews::token_hash.eq(token_hash))
        .filter(article_previews::expires_at.gt(now))
        .select((article_previews::article_id, article_previews::version))
        .first(conn)
        .optional()
}

/// Revokes every token of an article; returns how many there were.
pub fn revoke_all(conn: &mut DbConnection, article_id: i64) -> QueryResult<usize> {
    diesel::delete(article_previews::table.filter(article_previews::article_id.eq(article_id)))
        .execute(conn)
}
