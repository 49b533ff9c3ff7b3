//! SQL of the event log and of the scheduled announcements.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::schema::{event_outbox, events, scheduled_articles};
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

/// Any constant: the advisory lock that sequencers of the event log take
/// on PostgreSQL.
const EVENT_LOCK: i64 = 0x6e64_6576; // "ndev"

/// Most events one `sequence` call moves.
pub const SEQUENCE_BATCH: i64 = 1000;

/// Appends an event to the log (SQLite) or to its outbox (PostgreSQL), in
/// the caller's transaction.
///
/// Ids of `events` must become visible in order, so that a reader that
/// resumes after id N never misses a smaller id that committed later.
/// SQLite has one writer at a time, so its ids are in commit order anyway.
/// On PostgreSQL concurrent writers commit in any order: they write to
/// `event_outbox` without waiting for each other, and [`sequence`] gives
/// committed events their ids.
pub fn insert(
    conn: &mut DbConnection,
    kind: &str,
    subject: &str,
    data: &str,
    purge_keys: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => diesel::insert_into(events::table)
            .values((
                events::kind.eq(kind),
                events::subject.eq(subject),
                events::data.eq(data),
                events::purge_keys.eq(purge_keys),
                events::created_at.eq(now),
            ))
            .execute(conn)?,
        DbConnection::Postgres(_) => diesel::insert_into(event_outbox::table)
            .values((
                event_outbox::kind.eq(kind),
                event_outbox::subject.eq(subject),
                event_outbox::data.eq(data),
                event_outbox::purge_keys.eq(purge_keys),
                event_outbox::created_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Ids of the oldest events waiting in the outbox.
fn waiting(conn: &mut DbConnection) -> QueryResult<Vec<i64>> {
    event_outbox::table
        .order(event_outbox::id.asc())
        .limit(SEQUENCE_BATCH)
        .select(event_outbox::id)
        .load(conn)
}

/// Moves up to [`SEQUENCE_BATCH`] committed events from the outbox into
/// `events`, oldest first, and returns how many moved. Run it in a
/// transaction of its own (it holds the sequencers' lock until commit).
///
/// Sequencers take one advisory lock and commit before the next one reads,
/// so each batch gets ids above every earlier batch and becomes visible at
/// once: the log has no gaps a reader could step over. Events of writers
/// that have not committed are not seen yet and go into a later batch.
/// Nothing to do on SQLite (writers append to `events` directly).
pub fn sequence(conn: &mut DbConnection) -> QueryResult<usize> {
    if matches!(conn, DbConnection::Sqlite(_)) || waiting(conn)?.is_empty() {
        return Ok(0);
    }
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(EVENT_LOCK)
        .execute(conn)?;
    // Read again under the lock: another sequencer may have moved them.
    let ids = waiting(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    let batch = event_outbox::table
        .filter(event_outbox::id.eq_any(&ids))
        .order(event_outbox::id.asc())
        .select((
            event_outbox::kind,
            event_outbox::subject,
            event_outbox::data,
            event_outbox::purge_keys,
            event_outbox::created_at,
        ));
    diesel::insert_into(events::table)
        .values(batch)
        .into_columns((
            events::kind,
            events::subject,
            events::data,
            events::purge_keys,
            events::created_at,
        ))
        .execute(conn)?;
    diesel::delete(event_outbox::table.filter(event_outbox::id.eq_any(&ids))).execute(conn)?;
    Ok(ids.len())
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
