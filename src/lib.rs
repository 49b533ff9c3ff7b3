//! newsdesk: a headless CMS that serves news content as a JSON API.

pub mod articles;
pub mod auth;
pub mod authors;
pub mod cli;
pub mod comments;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod seed;
pub mod slug;
pub mod startup;
pub mod state;
pub mod tags;
pub mod time;
pub mod users;
pub mod validate;
pub mod views;
