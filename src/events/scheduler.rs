//! The scheduler: publishes scheduled articles when their time comes.
//!
//! Scheduling is v1's: an article with `status: published` and a future
//! `published_at` is hidden from the public until that moment (every public
//! read filters on the time, so a late scheduler never leaks or hides a
//! story). What the scheduler adds is the *announcement*: a save that
//! schedules an article leaves a row in `scheduled_articles`; when its time
//! comes one instance claims the row (deleting it, `FOR UPDATE SKIP LOCKED`
//! on PostgreSQL) and records `article.published` in the same transaction,
//! so the event fires exactly once however many instances run. Rows that
//! fell due while no instance ran are claimed at start-up.
//!
//! It wakes at the next scheduled time, after every local save that
//! scheduled something, and at least every [`POLL`] (saves on other
//! instances). After publishing it empties the read cache and list index
//! of every instance (`AppState::stale`). It also keeps [`NextPublish`], the instant up to which
//! public `Cache-Control` lifetimes may run.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use actix_web::web;
use chrono::NaiveDateTime;

use super::{EventType, queries};
use crate::cluster::Stale;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::state::AppState;

/// Longest sleep between two looks at the schedule.
pub const POLL: Duration = Duration::from_secs(1);

/// When the public content next changes by itself: the earliest future
/// `published_at` of a published article, as the scheduler last read it.
#[derive(Debug)]
pub struct NextPublish {
    at: AtomicI64,
    /// Wakes the scheduler when a save scheduled something.
    changed: tokio::sync::Notify,
}

impl Default for NextPublish {
    fn default() -> Self {
        Self {
            at: AtomicI64::new(i64::MAX),
            changed: tokio::sync::Notify::new(),
        }
    }
}

impl NextPublish {
    pub fn set(&self, at: Option<NaiveDateTime>) {
        let secs = at.map_or(i64::MAX, |t| t.and_utc().timestamp());
        self.at.store(secs, Ordering::SeqCst);
    }

    /// Notes a publication at `at` (a save just scheduled it), so that
    /// responses made before the scheduler's next look already honour it.
    pub fn earlier(&self, at: chrono::DateTime<chrono::Utc>) {
        if at > chrono::Utc::now() {
            self.at.fetch_min(at.timestamp(), Ordering::SeqCst);
        }
        self.changed.notify_one();
    }

    /// Seconds from now until then (0 when it is due), `None` when nothing
    /// is scheduled.
    pub fn seconds_left(&self) -> Option<u64> {
        let at = self.at.load(Ordering::SeqCst);
        if at == i64::MAX {
            return None;
        }
        let now = chrono::Utc::now().timestamp();
        Some(u64::try_from(at - now).unwrap_or(0))
    }
}

/// Claims the announcements due at `now` and records `article.published`
/// for each (one transaction). Returns the published ids.
pub fn publish_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<i64>, ApiError> {
    let claimed = queries::claim_due(conn, now)?;
    let mut published = Vec::with_capacity(claimed.len());
    for id in claimed {
        let (row, _) = crate::articles::queries::find(conn, id)?;
        // The row follows every save; anything else (a direct database
        // edit) is not announced.
        if row.status == "published" && row.published_at.is_some_and(|t| t <= now) {
            published.push(id);
        }
    }
    for id in &published {
        super::announce(conn, EventType::ArticlePublished, *id, &[], None, now)?;
    }
    Ok(published)
}

/// One look at the schedule: publishes what is due, then returns when to
/// look again.
async fn tick(state: &web::Data<AppState>) -> Option<NaiveDateTime> {
    let now = crate::time::now();
    let due = state
        .db
        .read(move |conn| Ok(queries::next_pending(conn)?))
        .await;
    match due {
        Ok(Some(at)) if at <= now => {
            match state.db.write(move |conn| publish_due(conn, now)).await {
                Ok(ids) if !ids.is_empty() => {
                    // Here and, through the cluster, on every instance.
                    state.stale(Stale::Content);
                    for id in &ids {
                        state.stale(Stale::Article(*id));
                    }
                    tracing::info!(count = ids.len(), "published scheduled articles");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not publish scheduled articles"),
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the schedule"),
    }
    let next = state
        .db
        .read(move |conn| {
            let now = crate::time::now();
            let public = crate::articles::listing::next_scheduled(conn, now)?;
            let pending = queries::next_pending(conn)?;
            Ok((public, pending))
        })
        .await;
    match next {
        Ok((public, pending)) => {
            state.schedule.set(public);
            match (public, pending) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the schedule");
            None
        }
    }
}

/// Runs the scheduler until aborted.
pub fn spawn(state: web::Data<AppState>) -> actix_web::rt::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        loop {
            let next = tick(&state).await;
            let mut wait = POLL;
            if let Some(at) = next {
                // A few milliseconds past the second, so that the clock
                // (read in whole seconds) has reached it.
                let left = (at.and_utc() - chrono::Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    + Duration::from_millis(5);
                wait = wait.min(left).max(Duration::from_millis(20));
            }
            tokio::select! {
                _ = actix_web::rt::time::sleep(wait) => {}
                () = state.schedule.changed.notified() => {}
            }
        }
    })
}
