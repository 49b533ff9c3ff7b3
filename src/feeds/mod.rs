//! Feeds of published articles (RSS 2.0, Atom, JSON Feed 1.1) for the site,
//! per tag and per author, and the front end's public URLs they link to.
//!
//! What a feed lists comes from the article list itself
//! (`articles::listing` with `visible_only`), so drafts and scheduled
//! stories can never appear by a rule of their own. This module must not
//! write.

pub mod build;
pub mod public_url;
pub mod routes;

pub use public_url::PublicUrls;
