//! SQL of webhooks and their deliveries: CRUD, the fan-out from the event
//! log, claiming due attempts and recording their outcome.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamp};

use crate::db::prepared::Fixed;
use crate::db::schema::{events, webhook_deliveries, webhooks};
use crate::db::{DbBackend, DbConnection};
use crate::events::queries::EventRow;
use crate::http::PageRequest;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub active: bool,
    pub last_event_id: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<String>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub subject: String,
    pub purge_keys: String,
    pub attempt: i32,
    pub status: String,
    pub response_status: Option<i32>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    url: &str,
    events_json: &str,
    secret: &str,
    active: bool,
    now: NaiveDateTime,
) -> QueryResult<WebhookRow> {
    // A new webhook starts with the events that follow its creation.
    let last = crate::events::queries::last_id(conn)?;
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::url.eq(url),
            webhooks::events.eq(events_json),
            webhooks::secret.eq(secret),
            webhooks::active.eq(active),
            webhooks::last_event_id.eq(last),
            webhooks::created_at.eq(now),
            webhooks::updated_at.eq(now),
        ))
        .returning(webhooks::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<WebhookRow> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
}

pub fn update(
    conn: &mut DbConnection,
    id: i64,
    changes: &WebhookChanges,
) -> QueryResult<WebhookRow> {
    diesel::update(webhooks::table.find(id))
        .set(changes)
        .returning(webhooks::all_columns)
        .get_result(conn)
}

/// Deletes a webhook; its deliveries go with it.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(webhooks::table.find(id)).execute(conn)
}

/// A page of webhooks (by creation, i.e. id) with the total.
pub fn list(
    conn: &mut DbConnection,
    page: &PageRequest,
    seek: Option<i64>,
) -> QueryResult<(Vec<WebhookRow>, i64)> {
    let total = webhooks::table.count().get_result(conn)?;
    let mut q = webhooks::table
        .select(WebhookRow::as_select())
        .into_boxed::<DbBackend>();
    q = if page.sort.desc {
        q.order(webhooks::id.desc())
    } else {
        q.order(webhooks::id.asc())
    };
    if let Some(id) = seek {
        q = if page.sort.desc {
            q.filter(webhooks::id.lt(id))
        } else {
            q.filter(webhooks::id.gt(id))
        };
    }
    let rows = q
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    Ok((rows, total))
}

/// A page of one webhook's deliveries with the total.
pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: i64,
    page: &PageRequest,
    seek: Option<i64>,
) -> QueryResult<(Vec<DeliveryRow>, i64)> {
    let total = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .count()
        .get_result(conn)?;
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .select(DeliveryRow::as_select())
        .into_boxed::<DbBackend>();
    q = if page.sort.desc {
        q.order(webhook_deliveries::id.desc())
    } else {
        q.order(webhook_deliveries::id.asc())
    };
    if let Some(id) = seek {
        q = if page.sort.desc {
            q.filter(webhook_deliveries::id.lt(id))
        } else {
            q.filter(webhook_deliveries::id.gt(id))
        };
    }
    let rows = q
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    Ok((rows, total))
}

pub fn find_delivery(
    conn: &mut DbConnection,
    webhook_id: i64,
    id: i64,
) -> QueryResult<DeliveryRow> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
}

/// A fresh delivery of what `from` delivered, due now.
pub fn redeliver(
    conn: &mut DbConnection,
    from: &DeliveryRow,
    now: NaiveDateTime,
) -> QueryResult<DeliveryRow> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::webhook_id.eq(from.webhook_id),
            webhook_deliveries::event_id.eq(from.event_id),
            webhook_deliveries::event_type.eq(&from.event_type),
            webhook_deliveries::subject.eq(&from.subject),
            webhook_deliveries::purge_keys.eq(&from.purge_keys),
            webhook_deliveries::attempt.eq(0),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(Some(now)),
            webhook_deliveries::created_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .returning(webhook_deliveries::all_columns)
        .get_result(conn)
}

// ---- the worker's side ----

/// Whether some webhook has events it has not seen.
pub fn fan_out_needed(conn: &mut DbConnection) -> QueryResult<bool> {
    let last = crate::events::queries::last_id(conn)?;
    Ok(webhooks::table
        .filter(webhooks::last_event_id.lt(last))
        .select(webhooks::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Placeholders of the connection's backend.
fn ph(conn: &DbConnection, n: usize) -> String {
    match conn {
        DbConnection::Postgres(_) => format!("${n}"),
        DbConnection::Sqlite(_) => "?".into(),
    }
}

fn skip_locked(conn: &DbConnection, of: &str) -> String {
    match conn {
        DbConnection::Postgres(_) => format!(" FOR UPDATE OF {of} SKIP LOCKED"),
        DbConnection::Sqlite(_) => String::new(),
    }
}

/// Events fanned out per webhook and transaction.
const FAN_OUT_BATCH: i64 = 500;

/// Makes deliveries from the events each webhook has not seen yet, and
/// moves its position on, in one transaction per call. Webhooks another
/// instance is fanning out are skipped (PostgreSQL); SQLite has one
/// writer. Changes to one subject within `coalesce` of a delivery of the
/// same type are folded into one delivery: an unsent one takes the newer
/// event (and the union of purge keys); after a sent one, the next waits
/// until the window closes. Returns how many events were read.
pub fn fan_out(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    coalesce: chrono::Duration,
) -> QueryResult<usize> {
    let last = crate::events::queries::last_id(conn)?;
    let text = format!(
        "SELECT webhooks.id AS id FROM webhooks WHERE webhooks.last_event_id < {} \
         ORDER BY webhooks.id LIMIT 20{}",
        ph(conn, 1),
        skip_locked(conn, "webhooks")
    );
    let ids: Vec<i64> = diesel::sql_query(text)
        .into_boxed::<DbBackend>()
        .bind::<BigInt, _>(last)
        .load::<Id>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut read = 0;
    for id in ids {
        let hook = find(conn, id)?;
        let evs: Vec<EventRow> = events::table
            .filter(events::id.gt(hook.last_event_id))
            .order(events::id.asc())
            .limit(FAN_OUT_BATCH)
            .select(EventRow::as_select())
            .load(conn)?;
        let Some(newest) = evs.last().map(|e| e.id) else {
            continue;
        };
        read += evs.len();
        let filter: Vec<String> = serde_json::from_str(&hook.events).unwrap_or_default();
        let wants = |kind: &str| filter.iter().any(|f| f == "*" || f == kind);
        if hook.active {
            for ev in evs.iter().filter(|e| wants(&e.kind)) {
                add_delivery(conn, hook.id, ev, now, coalesce)?;
            }
        }
        diesel::update(webhooks::table.find(hook.id))
            .set(webhooks::last_event_id.eq(newest))
            .execute(conn)?;
    }
    Ok(read)
}

fn union_keys(a: &str, b: &str) -> String {
    let mut keys: Vec<String> = serde_json::from_str(a).unwrap_or_default();
    keys.extend(serde_json::from_str::<Vec<String>>(b).unwrap_or_default());
    keys.sort();
    keys.dedup();
    serde_json::to_string(&keys).unwrap_or_else(|_| "[]".into())
}

fn add_delivery(
    conn: &mut DbConnection,
    webhook_id: i64,
    ev: &EventRow,
    now: NaiveDateTime,
    coalesce: chrono::Duration,
) -> QueryResult<()> {
    use webhook_deliveries as d;
    let same = || {
        d::table
            .filter(d::webhook_id.eq(webhook_id))
            .filter(d::subject.eq(&ev.subject))
            .filter(d::event_type.eq(&ev.kind))
            .into_boxed::<DbBackend>()
    };
    if !coalesce.is_zero() {
        // An unsent delivery of the same change takes the newer event.
        let unsent: Option<DeliveryRow> = same()
            .filter(d::status.eq("pending"))
            .filter(d::attempt.eq(0))
            .filter(d::lease_until.is_null())
            .order(d::id.desc())
            .select(DeliveryRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(u) = unsent {
            let n = diesel::update(d::table.find(u.id))
                .filter(d::attempt.eq(0))
                .filter(d::lease_until.is_null())
                .set((
                    d::event_id.eq(ev.id),
                    d::purge_keys.eq(union_keys(&u.purge_keys, &ev.purge_keys)),
                    d::updated_at.eq(now),
                ))
                .execute(conn)?;
            if n > 0 {
                return Ok(());
            }
        }
    }
    // The first change to a subject goes at once; a change within the
    // window after it (of any type) waits for the window to close, so a
    // burst of saves makes two deliveries: the first and the latest.
    let recent: Option<NaiveDateTime> = if coalesce.is_zero() {
        None
    } else {
        d::table
            .filter(d::webhook_id.eq(webhook_id))
            .filter(d::subject.eq(&ev.subject))
            .filter(d::created_at.gt(now - coalesce))
            .order(d::id.desc())
            .select(d::created_at)
            .first(conn)
            .optional()?
    };
    let due = recent.map_or(now, |t| (t + coalesce).max(now));
    diesel::insert_into(d::table)
        .values((
            d::webhook_id.eq(webhook_id),
            d::event_id.eq(ev.id),
            d::event_type.eq(&ev.kind),
            d::subject.eq(&ev.subject),
            d::purge_keys.eq(&ev.purge_keys),
            d::attempt.eq(0),
            d::status.eq("pending"),
            d::next_attempt_at.eq(Some(due)),
            d::created_at.eq(now),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The earliest due attempt of an active webhook.
pub fn next_due(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    // The status is written into the SQL text: only a literal lets SQLite
    // use the partial index of pending attempts (`webhook_deliveries_due_idx`)
    // when a statement's plan may not look at bound values (see
    // `db/deadline.rs`), instead of reading every delivery ever made.
    webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(Fixed::<Bool>::new("webhook_deliveries.status = 'pending'"))
        .filter(webhooks::active.eq(true))
        .select(diesel::dsl::min(webhook_deliveries::next_attempt_at))
        .first::<Option<NaiveDateTime>>(conn)
}

/// An attempt this instance has claimed: what it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
    pub event: Option<EventRow>,
}

/// Claims up to `limit` due attempts: each gets `attempt + 1` and a lease
/// until `lease_until`, in one transaction, so no other instance (nor a
/// later pass of this one) makes the same attempt. Deliveries another
/// instance is claiming are skipped (PostgreSQL).
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let text = format!(
        "SELECT webhook_deliveries.id AS id FROM webhook_deliveries \
         JOIN webhooks ON webhooks.id = webhook_deliveries.webhook_id \
         WHERE webhook_deliveries.status = 'pending' AND webhooks.active \
         AND webhook_deliveries.next_attempt_at <= {p1} \
         AND (webhook_deliveries.lease_until IS NULL OR webhook_deliveries.lease_until < {p2}) \
         ORDER BY webhook_deliveries.next_attempt_at, webhook_deliveries.id LIMIT {p3}{lock}",
        p1 = ph(conn, 1),
        p2 = ph(conn, 2),
        p3 = ph(conn, 3),
        lock = skip_locked(conn, "webhook_deliveries")
    );
    let ids: Vec<i64> = diesel::sql_query(text)
        .into_boxed::<DbBackend>()
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<Id>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<DeliveryRow> =
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set((
                webhook_deliveries::attempt.eq(webhook_deliveries::attempt + 1),
                webhook_deliveries::lease_until.eq(Some(lease_until)),
                webhook_deliveries::updated_at.eq(now),
            ))
            .returning(webhook_deliveries::all_columns)
            .get_results(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for delivery in rows {
        let hook = find(conn, delivery.webhook_id)?;
        let event = events::table
            .find(delivery.event_id)
            .select(EventRow::as_select())
            .first(conn)
            .optional()?;
        out.push(Claimed {
            delivery,
            url: hook.url,
            secret: hook.secret,
            event,
        });
    }
    Ok(out)
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: &'static str,
    pub response_status: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
}

/// Records an attempt's outcome and ends its lease, unless the lease was
/// lost meanwhile (the attempt number moved on).
pub fn record(
    conn: &mut DbConnection,
    id: i64,
    attempt: i32,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(id))
        .filter(webhook_deliveries::attempt.eq(attempt))
        .set((
            webhook_deliveries::status.eq(outcome.status),
            webhook_deliveries::response_status.eq(outcome.response_status),
            webhook_deliveries::duration_ms.eq(Some(outcome.duration_ms)),
            webhook_deliveries::error.eq(outcome.error.as_deref()),
            webhook_deliveries::next_attempt_at.eq(outcome.next_attempt_at),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives up leases of attempts this instance will not finish (it is
/// stopping): they are due again at once, for any instance.
pub fn release(conn: &mut DbConnection, ids: &[(i64, i32)], now: NaiveDateTime) -> QueryResult<()> {
    for (id, attempt) in ids {
        diesel::update(webhook_deliveries::table.find(*id))
            .filter(webhook_deliveries::attempt.eq(*attempt))
            .filter(webhook_deliveries::status.eq("pending"))
            .set((
                webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::next_attempt_at.eq(Some(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
