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
mod cache_tags;
mod cli;
mod cluster;
mod comments;
mod errors;
mod events;
mod feeds;
mod import;
mod integrations;
mod media;
mod media_s3;
mod migrations;
mod openapi_doc;
mod ops;
mod previews;
mod read_cache;
mod receiver;
mod redirects;
mod scheduler;
mod search;
mod security;
mod seed;
mod shutdown;
mod sitemaps;
mod tags;
mod users;
mod views;
mod webhooks;
