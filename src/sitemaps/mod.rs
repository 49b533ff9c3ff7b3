//! Sitemaps (sitemaps.org 0.9) of the front end's pages: an index, paged
//! article sitemaps, tags, authors, and a Google News sitemap of the last
//! 48 hours. Only visible articles appear (the rule of `articles::listing`).
//! This module must not write.

pub mod queries;
pub mod routes;
pub mod xml;
