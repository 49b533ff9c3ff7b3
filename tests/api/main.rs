//! The one integration test binary: every test drives the real app over
//! HTTP against a real database, on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on purpose"
)]

mod content;
mod helpers;

mod articles;
mod auth;
mod authors;
mod cli;
mod comments;
mod errors;
mod feeds;
mod import;
mod openapi_doc;
mod ops;
mod read_cache;
mod redirects;
mod search;
mod security;
mod seed;
mod shutdown;
mod sitemaps;
mod tags;
mod users;
mod views;
