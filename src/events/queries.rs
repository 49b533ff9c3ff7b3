//! SQL of the event log and of the scheduled announcements.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::schema::{events, scheduled_articles};
use crate::db::{DbBackend, DbConnection};

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub subject: String,
    pub data: String,
    pub purge_keys: String,
    pub created_at: NaiveDateTime,
}

/// Any constant: the advisory lock that orders event inserts on PostgreSQL.
const EVENT_LOCK: i64 = 0x6e64_6576; // "ndev"

/// Appends an event and returns its id.
///
/// On PostgreSQL the transaction first takes a transaction-scoped advisory
/// lock, held until it commits: the next writer gets its id only after
/// this one committed, so ids become visible in order and a reader that
/// resumes after id N never misses a smaller id that committed later. The
/// lock is taken last in the transaction (after every row lock it needs),
/// so that it is held for the commit alone and cannot join a deadlock.
/// SQLite has one writer at a time.
pub fn insert(
    conn: &mut DbConnection,
    kind: &str,
    subject: &str,
    data: &str,
    purge_keys: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(EVENT_LOCK)
            .execute(conn)?;
    }
    diesel::insert_into(events::table)
        .values((
            events::kind.eq(kind),
            events::subject.eq(subject),
            events::data.eq(data),
            events::purge_keys.eq(purge_keys),
            events::created_at.eq(now),
        ))
        .returning(events::id)
        .get_result(conn)
}

/// Up to `limit` events after id `after`, oldest first.
pub fn after(conn: &mut DbConnection, after: i64, limit: i64) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::id.gt(after))
        .order(events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// How many events follow id `after`.
pub fn count_after(conn: &mut DbConnection, after: i64) -> QueryResult<i64> {
    events::table
        .filter(events::id.gt(after))
        .count()
        .get_result(conn)
}

/// The newest event id (0 when there is none).
pub fn last_id(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(events::table
        .select(diesel::dsl::max(events::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Drops article `id`'s pending announcement: true when there was one.
pub fn unschedule(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    let n = diesel::delete(scheduled_articles::table.find(id)).execute(conn)?;
    Ok(n > 0)
}

/// Makes article `id` wait for the scheduler until `at`.
pub fn schedule(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(scheduled_articles::table)
        .values((
            scheduled_articles::article_id.eq(id),
            scheduled_articles::publish_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The earliest pending announcement.
pub fn next_pending(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    scheduled_articles::table
        .select(diesel::dsl::min(scheduled_articles::publish_at))
        .first(conn)
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    article_id: i64,
}

/// Most announcements one scheduler transaction claims.
pub const CLAIM_BATCH: i64 = 100;

/// Claims the announcements due at `now`, oldest first, by deleting them:
/// the caller emits `article.published` for each in the same transaction.
/// On PostgreSQL rows another instance is claiming (or a writer holds) are
/// skipped, never waited for; SQLite has one writer.
pub fn claim_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<i64>> {
    let lock = match conn {
        DbConnection::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        DbConnection::Sqlite(_) => "",
    };
    let placeholder = match conn {
        DbConnection::Postgres(_) => ("$1", "$2"),
        DbConnection::Sqlite(_) => ("?", "?"),
    };
    let text = format!(
        "SELECT article_id FROM scheduled_articles WHERE publish_at <= {} \
         ORDER BY publish_at, article_id LIMIT {}{lock}",
        placeholder.0, placeholder.1
    );
    let ids: Vec<i64> = diesel::sql_query(text)
        .into_boxed::<DbBackend>()
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(CLAIM_BATCH)
        .load::<Claimed>(conn)?
        .into_iter()
        .map(|c| c.article_id)
        .collect();
    if !ids.is_empty() {
        diesel::delete(
            scheduled_articles::table.filter(scheduled_articles::article_id.eq_any(&ids)),
        )
        .execute(conn)?;
    }
    Ok(ids)
}
