//! Draft previews: `POST /articles/{id}/preview` gives the article's author
//! or an editor a random, expiring token (stored as SHA-256, revocable
//! with `DELETE /articles/{id}/preview`) that lets anyone holding it read
//! that article in any state through `GET /articles/{id}?preview=TOKEN`
//! (and by slug), optionally pinned to one revision.
//!
//! A preview answer is `Cache-Control: private, no-store`, carries no cache
//! tags, never enters the read cache (which passes any `preview`
//! parameter through) and has an ETag of its own (`"p{id}-v{version}"`),
//! so it never validates against the public representation.

pub mod dto;
pub mod queries;
pub mod read;
pub mod routes;
