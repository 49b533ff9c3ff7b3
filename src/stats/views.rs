//! `Views`: the in-memory view counter behind the beacon.
//!
//! A beacon costs a cache lookup and a mutex-protected map increment; the
//! database sees one short transaction per flush interval with every
//! article's sum. Counts are keyed by article and UTC day at the time of the
//! view, so a batch that straddles midnight lands on the right days.
//!
//! Guarantees:
//! - a failed flush puts its counts back, so they are retried with the next;
//! - flushes never overlap (one at a time per process), so the final flush
//!   on shutdown waits for an in-flight one and then writes the rest;
//! - an article deleted between beacon and flush is skipped, never fatal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, Utc};
use moka::sync::Cache;
use prometheus::{HistogramVec, IntGauge};

use super::daily;
use crate::db::Db;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// How long the beacon trusts what it learnt about an article. A status or
/// publication-time change made on this instance is seen at once (the
/// article handlers call [`Views::forget`]); one made on another instance
/// sharing the database is seen within this bound.
pub const VISIBILITY_TTL: Duration = Duration::from_secs(5);
/// Articles whose visibility is remembered at once (a few MB at most).
const VISIBILITY_CAPACITY: u64 = 100_000;

type Key = (i64, NaiveDate);

/// (article, day) rows written per flush transaction.
pub const FLUSH_ROWS: usize = 200;

pub struct Views {
    db: Db,
    buffer: Mutex<HashMap<Key, u64>>,
    /// Serialises flushes, so that the shutdown flush sees what an
    /// in-flight one put back on failure.
    flushing: Mutex<()>,
    /// Article id -> `published_at` when the article is `published`, `None`
    /// when it is not (draft, archived) or does not exist.
    visibility: Cache<i64, Option<NaiveDateTime>>,
    buffered: IntGauge,
    flush_seconds: HistogramVec,
}

impl Views {
    pub fn new(db: Db, metrics: &Metrics) -> Self {
        Self {
            db,
            buffer: Mutex::new(HashMap::new()),
            flushing: Mutex::new(()),
            visibility: Cache::builder()
                .max_capacity(VISIBILITY_CAPACITY)
                .time_to_live(VISIBILITY_TTL)
                .build(),
            buffered: metrics.view_buffer.clone(),
            flush_seconds: metrics.view_flush_seconds.clone(),
        }
    }

    /// Whether the article exists and is visible to the public now. Answers
    /// from the cache; on a miss, one query (concurrent misses for the same
    /// article share it).
    pub async fn is_visible(&self, article_id: i64) -> Result<bool, ApiError> {
        let from = match self.visibility.get(&article_id) {
            Some(from) => from,
            None => {
                let cache = self.visibility.clone();
                let db = self.db.clone();
                actix_web::web::block(move || {
                    cache.try_get_with(article_id, || -> Result<_, ApiError> {
                        let mut conn = db.conn()?;
                        Ok(daily::visible_from(&mut conn, article_id)?)
                    })
                })
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| ApiError::internal(anyhow::anyhow!("visibility lookup: {e}")))?
            }
        };
        Ok(from.is_some_and(|t| t <= crate::time::now()))
    }

    /// Drops what the beacon knows about every article.
    pub fn forget_all(&self) {
        self.visibility.invalidate_all();
    }

    /// Drops what the beacon knows about an article. The article write
    /// handlers call this (through `AppState::stale`) after an update or
    /// delete.
    pub fn forget(&self, article_id: i64) {
        self.visibility.invalidate(&article_id);
    }

    /// Counts one view now.
    pub fn record(&self, article_id: i64) {
        let day = Utc::now().date_naive();
        let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        *buffer.entry((article_id, day)).or_default() += 1;
        self.buffered.inc();
    }

    /// Views counted and not yet written.
    pub fn pending(&self) -> u64 {
        let buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        buffer.values().sum()
    }

    /// Whether nothing is buffered (no blocking thread is needed to know).
    fn is_idle(&self) -> bool {
        self.buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Writes the buffered views and returns how many were taken from the
    /// buffer. They go in transactions of [`FLUSH_ROWS`] rows each, in
    /// article order: a transaction holds the row locks of its articles
    /// until it commits, and a comment on one of them waits for that, so
    /// one transaction over thousands of articles (a busy minute, or three
    /// instances flushing in turn) would hold up comments for seconds.
    /// On failure the rows not yet written are put back.
    pub fn flush_blocking(&self) -> Result<u64, ApiError> {
        let _one_at_a_time = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch: Vec<(Key, u64)> = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *buffer).into_iter().collect()
        };
        if batch.is_empty() {
            return Ok(0);
        }
        batch.sort_unstable();
        let mut written = 0;
        for (i, chunk) in batch.chunks(FLUSH_ROWS).enumerate() {
            let start = Instant::now();
            let result = self
                .db
                .write_blocking(|conn| Ok(daily::apply_views(conn, chunk)?));
            let elapsed = start.elapsed().as_secs_f64();
            let outcome = if result.is_ok() { "ok" } else { "error" };
            self.flush_seconds
                .with_label_values(&[outcome])
                .observe(elapsed);
            if let Err(e) = result {
                let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
                for (key, n) in &batch[i * FLUSH_ROWS..] {
                    *buffer.entry(*key).or_default() += n;
                }
                return Err(e);
            }
            let n: u64 = chunk.iter().map(|(_, n)| n).sum();
            self.buffered.sub(i64::try_from(n).unwrap_or(i64::MAX));
            written += n;
        }
        Ok(written)
    }

    /// `flush_blocking` on a blocking thread.
    pub async fn flush(self: &Arc<Self>) -> Result<u64, ApiError> {
        let this = self.clone();
        actix_web::web::block(move || this.flush_blocking())
            .await
            .map_err(ApiError::internal)?
    }

    /// The final flush on shutdown, with a few retries: after it, nothing
    /// else will write these counts.
    pub fn flush_on_shutdown(&self) {
        for attempt in 1..=3 {
            match self.flush_blocking() {
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(views = n, "wrote buffered views on shutdown");
                    }
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, attempt, "final view flush failed");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        tracing::error!(views = self.pending(), "buffered views lost on shutdown");
    }

    /// Flushes every `every` until the returned task is aborted.
    pub fn spawn_flusher(self: &Arc<Self>, every: Duration) -> actix_web::rt::task::JoinHandle<()> {
        let this = self.clone();
        actix_web::rt::spawn(async move {
            let start = actix_web::rt::time::Instant::now() + every;
            let mut tick = actix_web::rt::time::interval_at(start, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if this.is_idle() {
                    continue;
                }
                if let Err(e) = this.flush().await {
                    tracing::warn!(error = %e, "view flush failed; the counts will be retried");
                }
            }
        })
    }
}
