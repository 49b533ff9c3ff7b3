//! SQL for the counters kept beside articles: batched view increments and
//! the per-day rows of `article_daily_stats` (views and approved comments).
//!
//! Everything here *adds* to what is stored (`x = x + n`), never overwrites,
//! so several instances sharing one PostgreSQL database add up exactly. The
//! upsert is not expressible in diesel's DSL on `MultiConnection`, so the
//! statements are built as text with the placeholders of the connection's
//! backend (`?` for SQLite, `$n` for PostgreSQL); the SQL itself is the same
//! on both.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date};

use crate::db::prepared::Statement;
use crate::db::schema::{article_daily_stats, articles};
use crate::db::{DbBackend, DbConnection};

/// Rows per multi-row statement: far below both backends' bind limits.
const CHUNK: usize = 500;

/// What the beacon needs to know about an article: `Some(published_at)`
/// when it is `published` with a publication time, `None` when it is a
/// draft, archived or does not exist. Whether it is visible is decided at
/// request time, so a scheduled article becomes countable at its moment.
pub fn visible_from(conn: &mut DbConnection, id: i64) -> QueryResult<Option<NaiveDateTime>> {
    let row: Option<(String, Option<NaiveDateTime>)> = articles::table
        .find(id)
        .select((articles::status, articles::published_at))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(status, at)| if status == "published" { at } else { None }))
}

/// One change to an article's row of `article_daily_stats` for a UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyDelta {
    pub article_id: i64,
    pub day: NaiveDate,
    pub views: i64,
    pub comments: i64,
}

/// Numbered placeholders for the connection's backend.
struct Placeholders {
    postgres: bool,
    n: usize,
}

impl Placeholders {
    fn new(conn: &DbConnection) -> Self {
        Self {
            postgres: matches!(conn, DbConnection::Postgres(_)),
            n: 0,
        }
    }

    fn next(&mut self) -> String {
        self.n += 1;
        if self.postgres {
            format!("${}", self.n)
        } else {
            "?".to_string()
        }
    }

    /// `(p1, p2, ...)` with `width` placeholders.
    fn tuple(&mut self, width: usize) -> String {
        let items: Vec<String> = (0..width).map(|_| self.next()).collect();
        format!("({})", items.join(", "))
    }
}

/// Takes PostgreSQL row locks on these articles in id order, so that
/// transactions touching several articles (two instances flushing at once, a
/// user deletion) cannot deadlock. SQLite has one writer; nothing to do.
pub fn lock_articles_in_order(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<()> {
    if !matches!(conn, DbConnection::Postgres(_)) || ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(CHUNK) {
        let mut p = Placeholders::new(conn);
        let list: Vec<String> = chunk.iter().map(|_| p.next()).collect();
        let text = format!(
            "SELECT id FROM articles WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
            list.join(", ")
        );
        let mut q = diesel::sql_query(text).into_boxed::<DbBackend>();
        for id in chunk {
            q = q.bind::<BigInt, _>(*id);
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// A counter kept on the article row.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Views,
    Comments,
}

/// Adds `n` to the counter of each article; ids of deleted articles are
/// simply not matched.
fn add_to_counter(
    conn: &mut DbConnection,
    counter: Counter,
    totals: &BTreeMap<i64, i64>,
) -> QueryResult<()> {
    let set = match counter {
        Counter::Views => "view_count = articles.view_count",
        Counter::Comments => "comment_count = articles.comment_count",
    };
    let rows: Vec<(i64, i64)> = totals.iter().map(|(k, v)| (*k, *v)).collect();
    for chunk in rows.chunks(CHUNK) {
        let mut p = Placeholders::new(conn);
        let values: Vec<String> = chunk.iter().map(|_| p.tuple(2)).collect();
        let text = format!(
            "UPDATE articles SET {set} + v.column2 \
             FROM (VALUES {}) AS v WHERE articles.id = v.column1",
            values.join(", ")
        );
        let mut q = diesel::sql_query(text).into_boxed::<DbBackend>();
        for (id, n) in chunk {
            q = q.bind::<BigInt, _>(*id).bind::<BigInt, _>(*n);
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// Adds the deltas to `article_daily_stats`, creating missing rows. Rows of
/// articles that no longer exist are skipped (`WHERE EXISTS`), so a deletion
/// between counting and writing cannot fail the batch. `(article_id, day)`
/// pairs must be unique within one call.
pub fn add_daily(conn: &mut DbConnection, deltas: &[DailyDelta]) -> QueryResult<()> {
    // What a day row that exists already gets: the deltas added.
    macro_rules! add_on_conflict {
        () => {
            " ON CONFLICT (article_id, day) DO UPDATE SET \
             views = article_daily_stats.views + excluded.views, \
             comments = article_daily_stats.comments + excluded.comments"
        };
    }
    if let [d] = deltas {
        // One row (a comment): a statement of constant text, prepared once.
        return Statement::<()>::new(concat!(
            "INSERT INTO article_daily_stats (article_id, day, views, comments) \
             SELECT id, ?, ?, ? FROM articles WHERE id = ?",
            add_on_conflict!()
        ))
        .bind::<Date, _>(d.day)
        .bind::<BigInt, _>(d.views)
        .bind::<BigInt, _>(d.comments)
        .bind::<BigInt, _>(d.article_id)
        .execute(conn)
        .map(drop);
    }
    for chunk in deltas.chunks(CHUNK) {
        let mut p = Placeholders::new(conn);
        let values: Vec<String> = chunk.iter().map(|_| p.tuple(4)).collect();
        // SQLite needs a WHERE on an INSERT ... SELECT with ON CONFLICT to
        // parse it; the EXISTS serves both backends.
        let text = format!(
            concat!(
                "INSERT INTO article_daily_stats (article_id, day, views, comments) \
                 SELECT v.column1, v.column2, v.column3, v.column4 FROM (VALUES {}) AS v \
                 WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = v.column1)",
                add_on_conflict!()
            ),
            values.join(", ")
        );
        let mut q = diesel::sql_query(text).into_boxed::<DbBackend>();
        for d in chunk {
            q = q
                .bind::<BigInt, _>(d.article_id)
                .bind::<Date, _>(d.day)
                .bind::<BigInt, _>(d.views)
                .bind::<BigInt, _>(d.comments);
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// Writes one batch of buffered views: `view_count` and the day rows.
/// Runs inside the caller's transaction.
pub fn apply_views(conn: &mut DbConnection, batch: &[((i64, NaiveDate), u64)]) -> QueryResult<()> {
    let ids: Vec<i64> = batch
        .iter()
        .map(|((article_id, _), _)| *article_id)
        .collect();
    lock_articles_in_order(conn, &ids)?;
    add_counts(
        conn,
        Counter::Views,
        batch
            .iter()
            .map(|(key, n)| (*key, i64::try_from(*n).unwrap_or(i64::MAX))),
    )
}

/// Adds counts of one counter per article and UTC day: to the counter on
/// each article's row (one statement for all of them) and to the day rows.
/// Runs inside the caller's transaction, which holds the articles' locks;
/// `(article_id, day)` pairs must be unique.
pub fn add_counts(
    conn: &mut DbConnection,
    counter: Counter,
    counts: impl IntoIterator<Item = ((i64, NaiveDate), i64)>,
) -> QueryResult<()> {
    let mut totals: BTreeMap<i64, i64> = BTreeMap::new();
    let mut deltas = Vec::new();
    for ((article_id, day), n) in counts {
        *totals.entry(article_id).or_default() += n;
        let (views, comments) = match counter {
            Counter::Views => (n, 0),
            Counter::Comments => (0, n),
        };
        deltas.push(DailyDelta {
            article_id,
            day,
            views,
            comments,
        });
    }
    add_to_counter(conn, counter, &totals)?;
    add_daily(conn, &deltas)
}

/// Daily counters of one article from `since` on, oldest first.
pub fn daily_stats(
    conn: &mut DbConnection,
    id: i64,
    since: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, i64, i64)>> {
    article_daily_stats::table
        .filter(article_daily_stats::article_id.eq(id))
        .filter(article_daily_stats::day.ge(since))
        .order(article_daily_stats::day.asc())
        .select((
            article_daily_stats::day,
            article_daily_stats::views,
            article_daily_stats::comments,
        ))
        .load(conn)
}
