//! Views: the anonymous beacon (`POST /articles/{id}/view`) and its
//! per-reader deduplication. What a view adds to is counted by
//! [`crate::stats::views`].

pub mod dedup;
pub mod routes;
