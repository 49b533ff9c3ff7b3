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
