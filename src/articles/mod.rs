//! Articles: the newsroom's content. Public reading (list with filters,
//! search and both pagination styles, lookup by id or slug), writing by
//! authors and editors with versions, revisions and slug redirects, and the
//! endpoints of the counters (popular lists, per-article stats) that
//! [`crate::stats`] keeps.

pub mod content;
pub mod dto;
pub mod listing;
pub mod queries;
pub mod render;
pub mod routes;
