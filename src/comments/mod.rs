//! Comments: reader comments on visible articles, threads through
//! `parent_id`, optional pre-moderation, and the exact `comment_count` and
//! daily comment statistics kept in the same transaction as every change.
//! Also the demo activity (`seed`) that `newsdesk seed --demo` adds.

pub mod dto;
pub mod queries;
pub mod routes;
pub mod seed;

pub use seed::seed_demo_activity;
