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
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use moka::sync::Cache;

use crate::articles::dto::{Metric, Period};
use crate::db::schema::{article_daily_stats, articles};
use crate::db::{DbBackend, DbConnection};
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
    /// Whether [`Self::top`] can answer from what is kept (or from the
    /// lifetime counters' indices) without ranking a period anew: a read
    /// short enough to run on the async worker.
    pub fn is_ready(&self, metric: Metric, period: Period, now: NaiveDateTime) -> bool {
        match period.days() {
            None => true,
            Some(days) => self
                .ranked
                .contains_key(&(metric, now.date() - chrono::Duration::days(days - 1))),
        }
    }

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
            return Ok(popular_ids(conn, metric, None, now, limit)?);
        };
        let since = now.date() - chrono::Duration::days(days - 1);
        let ranked = self
            .ranked
            .try_get_with((metric, since), || {
                ranked_since(conn, metric, since, 0, CANDIDATES).map(Arc::new)
            })
            .map_err(|e| ApiError::internal(anyhow::anyhow!("popular ranking: {e}")))?;
        let visible = visible_among(conn, &ranked, now)?;
        if (visible.len() as i64) < limit && ranked.len() as i64 == CANDIDATES {
            return Ok(popular_ids(conn, metric, Some(since), now, limit)?);
        }
        Ok(visible.into_iter().take(limit as usize).collect())
    }
}

/// Ids of the visible articles with the highest `metric` since `since`
/// (all time when `None`), best first; ties go to the newer article.
/// Articles with nothing counted are left out.
pub fn popular_ids(
    conn: &mut DbConnection,
    metric: Metric,
    since: Option<NaiveDate>,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    match since {
        None => {
            let q = articles::table
                .filter(articles::status.eq("published"))
                .filter(articles::published_at.le(now))
                .select(articles::id)
                .into_boxed::<DbBackend>();
            let q = match metric {
                Metric::Views => q
                    .filter(articles::view_count.gt(0))
                    .order((articles::view_count.desc(), articles::id.desc())),
                Metric::Comments => q
                    .filter(articles::comment_count.gt(0))
                    .order((articles::comment_count.desc(), articles::id.desc())),
            };
            q.limit(limit).load(conn)
        }
        Some(since) => {
            // Rank from the daily counters alone (the covering day index),
            // then keep the visible articles, fetching more candidates when
            // some were hidden since. Joining articles first would make the
            // planner walk every published article.
            let batch = (limit * 2).max(20);
            let mut out: Vec<i64> = Vec::with_capacity(limit as usize);
            let mut offset = 0;
            loop {
                let ids = ranked_since(conn, metric, since, offset, batch)?;
                let visible = visible_among(conn, &ids, now)?;
                for id in visible {
                    out.push(id);
                    if out.len() as i64 == limit {
                        return Ok(out);
                    }
                }
                if (ids.len() as i64) < batch {
                    return Ok(out);
                }
                offset += batch;
            }
        }
    }
}

/// Ids of articles (visible or not) ranked by `metric` summed from `since`
/// on, best first, ties to the newer article; nothing counted, left out.
pub fn ranked_since(
    conn: &mut DbConnection,
    metric: Metric,
    since: NaiveDate,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let total = match metric {
        Metric::Views => "CAST(SUM(article_daily_stats.views) AS BIGINT)",
        Metric::Comments => "CAST(SUM(article_daily_stats.comments) AS BIGINT)",
    };
    let ranked: Vec<(i64, i64)> = article_daily_stats::table
        .filter(article_daily_stats::day.ge(since))
        .group_by(article_daily_stats::article_id)
        .having(sql::<Bool>(total).sql(" > 0"))
        .select((article_daily_stats::article_id, sql::<BigInt>(total)))
        .order((
            sql::<BigInt>(total).desc(),
            article_daily_stats::article_id.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok(ranked.into_iter().map(|(id, _)| id).collect())
}

/// The visible ones among `ids`, in the order given.
pub fn visible_among(
    conn: &mut DbConnection,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let visible: std::collections::HashSet<i64> = articles::table
        .filter(crate::db::prepared::ids_in(
            conn.backend(),
            articles::id,
            ids,
        ))
        .filter(articles::status.eq("published"))
        .filter(articles::published_at.le(now))
        .select(articles::id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .copied()
        .filter(|id| visible.contains(id))
        .collect())
}
