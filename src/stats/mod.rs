//! Counters and daily statistics, in one place: every write to
//! `articles.view_count`, `articles.comment_count` and
//! `article_daily_stats`, and every read that ranks or sums them.
//!
//! - [`views`]: the in-memory view counter behind the beacon, flushed in
//!   batches of additive writes;
//! - [`comments`]: the comment counters, changed inside the transaction
//!   that changes the comments, so they are always exact;
//! - [`daily`]: the per-day rows both write, and one article's history;
//! - [`popular`]: the "Most Viewed" and "Most Commented" rankings.
//!
//! The HTTP side lives with its resources: the beacon in `views`, the
//! popular and stats endpoints in `articles`.

pub mod comments;
pub mod daily;
pub mod popular;
pub mod views;

pub use views::Views;
