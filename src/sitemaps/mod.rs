//! Sitemaps (sitemaps.org 0.9) of the front end's pages: an index, paged
//! article sitemaps, tags, authors, and a Google News sitemap of the last
//! 48 hours. Only visible articles appear (the rule of `articles::listing`).
//! This module must not write.

pub mod queries;
pub mod routes;
pub mod xml;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use moka::sync::Cache;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::writes::Writes;

/// How long the sitemap facts are trusted without a local write (other
/// instances' writes, and imports by the CLI, show within this).
pub const FACTS_TTL: Duration = Duration::from_secs(5);

/// The non-empty article pages with their last change.
pub type Pages = Arc<Vec<(i64, Option<NaiveDateTime>)>>;

/// What the sitemap index and the article pages' ETags are made from,
/// kept per write generation: a crawler's burst of requests (and every
/// 304) reads the index once, not once per request. Entries also end when
/// the next scheduled article goes live.
pub struct Facts {
    writes: Arc<Writes>,
    pages: Cache<u64, Timed<Pages>>,
    fingerprints: Cache<(u64, i64), Timed<queries::Fingerprint>>,
}

#[derive(Clone)]
struct Timed<V> {
    value: V,
    until: Option<NaiveDateTime>,
}

impl Facts {
    pub fn new(writes: Arc<Writes>) -> Self {
        Self {
            writes,
            pages: Cache::builder()
                .max_capacity(16)
                .time_to_live(FACTS_TTL)
                .build(),
            fingerprints: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(FACTS_TTL)
                .build(),
        }
    }

    fn get_or<K, V>(
        cache: &Cache<K, Timed<V>>,
        key: K,
        now: NaiveDateTime,
        next_scheduled: Option<NaiveDateTime>,
        conn: &mut DbConnection,
        compute: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<V>,
    ) -> Result<V, ApiError>
    where
        K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if let Some(hit) = cache.get(&key) {
            if hit.until.is_none_or(|t| now < t) {
                return Ok(hit.value);
            }
            cache.invalidate(&key);
        }
        cache
            .try_get_with(key, || {
                compute(conn).map(|value| Timed {
                    value,
                    until: next_scheduled,
                })
            })
            .map(|t| t.value)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("sitemap: {e}")))
    }

    /// The index's pages (see `queries::article_pages`).
    pub fn pages(
        &self,
        conn: &mut DbConnection,
        backend: crate::db::Backend,
        now: NaiveDateTime,
        next_scheduled: Option<NaiveDateTime>,
        size: u32,
    ) -> Result<Pages, ApiError> {
        let key = self.writes.current();
        Self::get_or(&self.pages, key, now, next_scheduled, conn, |c| {
            queries::article_pages(c, backend, now, size).map(Arc::new)
        })
    }

    /// Page `n`'s fingerprint (see `queries::article_page_fingerprint`).
    pub fn fingerprint(
        &self,
        conn: &mut DbConnection,
        backend: crate::db::Backend,
        now: NaiveDateTime,
        next_scheduled: Option<NaiveDateTime>,
        (n, range): (i64, (i64, i64)),
    ) -> Result<queries::Fingerprint, ApiError> {
        let key = (self.writes.current(), n);
        Self::get_or(&self.fingerprints, key, now, next_scheduled, conn, |c| {
            queries::article_page_fingerprint(c, backend, now, range)
        })
    }
}
