//! SQL for integrations (content API keys).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::integrations;
use crate::http::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = integrations)]
pub struct IntegrationRow {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub key_prefix: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = integrations)]
pub struct NewIntegration {
    pub name: String,
    pub scopes: String,
    pub key_prefix: String,
    pub key_hash: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn create(conn: &mut DbConnection, new: NewIntegration) -> QueryResult<IntegrationRow> {
    diesel::insert_into(integrations::table)
        .values(&new)
        .returning(integrations::id)
        .get_result::<i64>(conn)
        .and_then(|id| find(conn, id))
}

/// A page in creation order (oldest first), keyset by id, with the total.
pub fn list(
    conn: &mut DbConnection,
    page: &PageRequest,
    after_id: Option<i64>,
) -> QueryResult<(Vec<IntegrationRow>, i64)> {
    let total = integrations::table.count().get_result::<i64>(conn)?;
    let mut q = integrations::table
        .select(IntegrationRow::as_select())
        .order(integrations::id.asc())
        .limit(page.fetch_limit())
        .offset(page.offset())
        .into_boxed();
    if let Some(id) = after_id {
        q = q.filter(integrations::id.gt(id));
    }
    Ok((q.load(conn)?, total))
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<IntegrationRow> {
    integrations::table
        .find(id)
        .select(IntegrationRow::as_select())
        .first(conn)
}

/// The integration a key hash belongs to: `(id, scopes)`.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<(i64, String)>> {
    integrations::table
        .filter(integrations::key_hash.eq(hash))
        .select((integrations::id, integrations::scopes))
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(integrations::table.find(id)).execute(conn)
}

pub fn touch(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(integrations::table.find(id))
        .set(integrations::last_used_at.eq(now))
        .execute(conn)
}
