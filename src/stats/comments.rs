//! The comment counters: `articles.comment_count` (approved comments) and
//! `article_daily_stats.comments` (approved comments by the UTC day they
//! were written). Every change goes through here, inside the transaction
//! that changes the comments, so both are always exact.
//!
//! Deleting a comment deletes its replies (`ON DELETE CASCADE` on
//! `parent_id`), and deleting a user deletes their comments and every reply
//! beneath them, whoever wrote it: [`subtrees`] finds exactly the rows a
//! cascade will remove, and [`uncount`] takes the approved ones off.

use std::collections::{BTreeMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::daily::{Counter, DailyDelta, add_counts, add_daily, lock_articles_in_order};
use crate::comments::queries::{self, APPROVED};
use crate::db::prepared::Statement;
use crate::db::schema::{articles, comments};
use crate::db::{DbConnection, Tally};

/// Bound on ids per `IN (...)` list.
const CHUNK: usize = 500;

/// The facts about a comment that its counts depend on.
#[derive(Debug, Clone, Queryable, PartialEq, Eq)]
pub struct Counted {
    pub id: i64,
    pub article_id: i64,
    pub status: String,
    pub created_at: NaiveDateTime,
}

fn day_of(t: NaiveDateTime) -> NaiveDate {
    t.date()
}

/// Adds `delta` approved comments written at `created_at` to an article.
pub fn count_approved(
    conn: &mut DbConnection,
    article_id: i64,
    created_at: NaiveDateTime,
    delta: i64,
) -> QueryResult<()> {
    Statement::<()>::new("UPDATE articles SET comment_count = comment_count + ? WHERE id = ?")
        .bind::<BigInt, _>(delta)
        .bind::<BigInt, _>(article_id)
        .execute(conn)?;
    add_daily(
        conn,
        &[DailyDelta {
            article_id,
            day: day_of(created_at),
            views: 0,
            comments: delta,
        }],
    )
}

/// Adds `delta` approved comments written at `created_at` to an article
/// in a write group's tally (see `Db::write_keyed`), which [`count_tally`]
/// writes once for the whole group before it commits.
pub fn tally_approved(tally: &mut Tally, article_id: i64, created_at: NaiveDateTime, delta: i64) {
    *tally.entry((article_id, day_of(created_at))).or_default() += delta;
}

/// Writes a write group's tally: `comment_count` of each article, and the
/// day rows, one statement each for the whole group. The group holds the
/// articles' locks already (`queries::lock_article`).
pub fn count_tally(conn: &mut DbConnection, tally: &Tally) -> QueryResult<()> {
    add_counts(
        conn,
        Counter::Comments,
        tally.iter().map(|(key, n)| (*key, *n)),
    )
}

/// The comments with these ids and all their replies, at any depth.
pub fn subtrees(conn: &mut DbConnection, roots: &[i64]) -> QueryResult<Vec<Counted>> {
    let select = (
        comments::id,
        comments::article_id,
        comments::status,
        comments::created_at,
    );
    let mut found: Vec<Counted> = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut frontier: Vec<i64> = Vec::new();
    for chunk in roots.chunks(CHUNK) {
        let rows: Vec<Counted> = comments::table
            .filter(comments::id.eq_any(chunk.to_vec()))
            .select(select)
            .load(conn)?;
        for r in rows {
            if seen.insert(r.id) {
                frontier.push(r.id);
                found.push(r);
            }
        }
    }
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for chunk in frontier.chunks(CHUNK) {
            let rows: Vec<Counted> = comments::table
                .filter(comments::parent_id.eq_any(chunk.to_vec()))
                .select(select)
                .load(conn)?;
            for r in rows {
                if seen.insert(r.id) {
                    next.push(r.id);
                    found.push(r);
                }
            }
        }
        frontier = next;
    }
    Ok(found)
}

/// Takes the approved ones among `removed` off their articles' counts, in
/// article id order.
pub fn uncount(conn: &mut DbConnection, removed: &[Counted]) -> QueryResult<()> {
    let mut per_article: BTreeMap<i64, i64> = BTreeMap::new();
    let mut per_day: BTreeMap<(i64, NaiveDate), i64> = BTreeMap::new();
    for c in removed.iter().filter(|c| c.status == APPROVED) {
        *per_article.entry(c.article_id).or_default() += 1;
        *per_day
            .entry((c.article_id, day_of(c.created_at)))
            .or_default() += 1;
    }
    for (article_id, n) in &per_article {
        diesel::update(articles::table.find(*article_id))
            .set(articles::comment_count.eq(articles::comment_count - *n))
            .execute(conn)?;
    }
    let deltas: Vec<DailyDelta> = per_day
        .into_iter()
        .map(|((article_id, day), n)| DailyDelta {
            article_id,
            day,
            views: 0,
            comments: -n,
        })
        .collect();
    add_daily(conn, &deltas)
}

/// Deletes a comment and its replies, keeping the counts exact. The caller
/// holds the article's lock ([`queries::lock_article`]). Returns how many
/// comments were removed.
pub fn delete_comment(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    let removed = subtrees(conn, &[id])?;
    uncount(conn, &removed)?;
    queries::delete(conn, id)?;
    Ok(removed.len())
}

/// Before a user is deleted: takes off the counts every comment that the
/// cascade will remove (the user's comments and all replies to them).
///
/// Locks the user first (no new comments by them), then the articles those
/// comments are on in id order (no new replies, no moderation in between),
/// and only then reads the final set.
pub fn before_user_delete(conn: &mut DbConnection, user_id: i64) -> QueryResult<()> {
    queries::lock_user(conn, user_id)?;
    let own = |conn: &mut DbConnection| -> QueryResult<Vec<i64>> {
        comments::table
            .filter(comments::author_id.eq(user_id))
            .select(comments::id)
            .load(conn)
    };
    let roots = own(conn)?;
    let first = subtrees(conn, &roots)?;
    let mut article_ids: Vec<i64> = first.iter().map(|c| c.article_id).collect();
    article_ids.sort_unstable();
    article_ids.dedup();
    lock_articles_in_order(conn, &article_ids)?;
    let roots = own(conn)?;
    let removed = subtrees(conn, &roots)?;
    uncount(conn, &removed)
}
