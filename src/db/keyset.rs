//! Ordering plus keyset seek for boxed diesel queries, shared by every list.
//!
//! The seek is written `key <= k AND (key < k OR id < i)` (for descending
//! order) rather than as a plain OR, so both SQLite and PostgreSQL use the
//! leading bound as an index range: a deep cursor page costs what page 1 does.

/// `order_and_seek!(query, column, id_column, sort_desc, Option<(key, last_id)>)`
#[macro_export]
macro_rules! order_and_seek {
    ($query:expr, $col:expr, $id:expr, $desc:expr, $seek:expr) => {{
        use diesel::prelude::*;
        let q = $query;
        let q = if $desc {
            q.order(($col.desc(), $id.desc()))
        } else {
            q.order(($col.asc(), $id.asc()))
        };
        match $seek {
            Some((key, last_id)) => {
                if $desc {
                    q.filter($col.le(key.clone()).and($col.lt(key).or($id.lt(last_id))))
                } else {
                    q.filter($col.ge(key.clone()).and($col.gt(key).or($id.gt(last_id))))
                }
            }
            None => q,
        }
    }};
}

use chrono::NaiveDateTime;

/// A list's typed keyset position, read from a cursor's sort key and id for
/// the sort field the cursor was issued for. `None` means the cursor cannot
/// be one this API issued for that sort (a 400, said in one place:
/// [`crate::http::list::Listed`]).
pub trait FromCursor: Sized {
    fn from_cursor(field: &str, key: Option<&str>, id: i64) -> Option<Self>;
}

/// A timestamp key and the id (lists sorted by `created_at`).
pub type TimeSeek = (NaiveDateTime, i64);

impl FromCursor for (NaiveDateTime, i64) {
    fn from_cursor(_: &str, key: Option<&str>, id: i64) -> Option<Self> {
        Some((crate::time::parse_rfc3339(key?)?, id))
    }
}

/// An integer key and the id (revisions by `version`).
impl FromCursor for (i64, i64) {
    fn from_cursor(_: &str, key: Option<&str>, id: i64) -> Option<Self> {
        Some((key?.parse().ok()?, id))
    }
}

/// The position of a list ordered by id alone: its cursors carry no key,
/// or the id itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSeek(pub i64);

impl FromCursor for IdSeek {
    fn from_cursor(_: &str, key: Option<&str>, id: i64) -> Option<Self> {
        match key {
            None => Some(IdSeek(id)),
            Some(k) if k.parse::<i64>().ok() == Some(id) => Some(IdSeek(id)),
            Some(_) => None,
        }
    }
}

/// The position of a list sorted either by a name or by a count (tags,
/// authors: `article_count`), with the id as tie-breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrCount {
    Name(String, i64),
    Count(i64, i64),
}

impl FromCursor for NameOrCount {
    fn from_cursor(field: &str, key: Option<&str>, id: i64) -> Option<Self> {
        if field.ends_with("_count") {
            Some(Self::Count(key?.parse().ok()?, id))
        } else {
            Some(Self::Name(key?.to_string(), id))
        }
    }
}
