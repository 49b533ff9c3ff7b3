//! The "Most Viewed" and "Most Commented" boxes.
//!
//! Ranking a period means summing the daily counters of every article
//! counted in it: too much work for every request of a front page. Each
//! instance keeps the best [`CANDIDATES`] ids per metric and window for
//! [`RANKING_TTL`] (concurrent misses share one computation) and applies
//! visibility at every request, so an unpublished article leaves the box at
//! once, while a new view or comment moves the ranking within the TTL (views
//! already lag by a flush interval). When too many candidates are hidden to
//! fill the box, the exact ranking is computed instead. The lifetime ranking
//! (`period=all`) reads the counter indices directly.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use moka::sync::Cache;

use super::dto::{Metric, Period};
use super::queries;
use crate::db::DbConnection;
use crate::error::ApiError;

/// How many ranked ids are kept per metric and window.
pub const CANDIDATES: i64 = 100;
/// How long a ranking is reused.
pub const RANKING_TTL: Duration = Duration::from_secs(5);

pub struct Rankings {
    ranked: Cache<(Metric, NaiveDate), Arc<Vec<i64>>>,
}

impl Default for Rankings {
    fn default() -> Self {
        Self {
            ranked: Cache::builder()
                .max_capacity(64)
                .time_to_live(RANKING_TTL)
                .build(),
        }
    }
}

impl Rankings {
    /// Ids of the `limit` visible articles ranked best by `metric` in
    /// `period`, best first.
    pub fn top(
        &self,
        conn: &mut DbConnection,
        metric: Metric,
        period: Period,
        now: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<i64>, ApiError> {
        let Some(days) = period.days() else {
            return Ok(queries::popular_ids(conn, metric, None, now, limit)?);
        };
        let since = now.date() - chrono::Duration::days(days - 1);
        let ranked = self
            .ranked
            .try_get_with((metric, since), || {
                queries::ranked_since(conn, metric, since, 0, CANDIDATES).map(Arc::new)
            })
            .map_err(|e| ApiError::internal(anyhow::anyhow!("popular ranking: {e}")))?;
        let visible = queries::visible_among(conn, &ranked, now)?;
        if (visible.len() as i64) < limit && ranked.len() as i64 == CANDIDATES {
            return Ok(queries::popular_ids(conn, metric, Some(since), now, limit)?);
        }
        Ok(visible.into_iter().take(limit as usize).collect())
    }
}
