//! Tags: the topics articles are filed under, managed by editors and
//! created implicitly when an author uses a new tag slug on an article.

pub mod dto;
pub mod queries;
pub mod routes;
