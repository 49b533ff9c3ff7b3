//! Views: the anonymous beacon, the in-memory counter with its batched,
//! additive writes (`view_count` and `article_daily_stats.views`), and the
//! per-day statistics SQL that comments share.
//!
//! The read side (`/articles/popular`, `/articles/{id}/stats`) belongs to
//! the articles API; this module only writes.

pub mod counter;
pub mod dedup;
pub mod queries;
pub mod routes;

pub use counter::Views;
pub use queries::is_visible;
