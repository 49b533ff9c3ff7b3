//! Comments: reader comments on visible articles, threads through
//! `parent_id`, optional pre-moderation, and the exact `comment_count` and
//! daily comment statistics kept in the same transaction as every change.

pub mod counts;
pub mod dto;
pub mod queries;
pub mod routes;
