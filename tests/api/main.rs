//! The one integration test binary: every test drives the real app over
//! HTTP against a real database, on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on purpose"
)]

mod helpers;

mod auth;
mod cli;
mod comments;
mod errors;
mod ops;
mod shutdown;
mod users;
mod views;
