//! The current state of accounts (role and token version), as the auth
//! extractor checks it on every signed-in request.
//!
//! An access token only proves who signed in and when; what the caller may
//! do comes from here, so a demoted or deleted account loses its rights at
//! once. Reading the users table on every request would put a query on the
//! hot path, so answers are kept per instance for a short time
//! (`NEWSDESK_AUTH_CACHE_MS`, default 1 s): every change through this
//! instance forgets the account at once, and the lifetime bounds how long
//! another instance (PostgreSQL deployments) may act on the old state.
//!
//! This module must not decide statuses; the extractor does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::prelude::*;

use super::Role;
use crate::db::schema::users;
use crate::db::{Db, DbConnection};
use crate::error::ApiError;

/// What the extractor needs to know about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub role: Role,
    pub token_version: i64,
}

pub struct Accounts {
    /// `None`: the account does not exist (any more).
    cache: Option<moka::sync::Cache<i64, Option<AccountState>>>,
    /// Bumped by every `forget`, so that a lookup which read the database
    /// before a change never stores its (old) answer after it.
    generation: AtomicU64,
}

impl Accounts {
    /// `ttl` of zero: every signed-in request reads the database.
    pub fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(100_000)
                .build()
        });
        Self {
            cache,
            generation: AtomicU64::new(0),
        }
    }

    /// The account's current state (from the cache when fresh).
    pub async fn get(&self, db: &Db, id: i64) -> Result<Option<AccountState>, ApiError> {
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&id)) {
            return Ok(hit);
        }
        let before = self.generation.load(Ordering::SeqCst);
        let state = db
            .read_point(false, move |conn| Ok(load(conn, id)?))
            .await?;
        if let Some(cache) = &self.cache {
            cache.insert(id, state);
            // A change committed meanwhile may have been forgotten before
            // this insert: drop the possibly stale answer.
            if self.generation.load(Ordering::SeqCst) != before {
                cache.invalidate(&id);
            }
        }
        Ok(state)
    }

    /// Forgets every account (after missed announcements).
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }

    /// Call after any change of an account's role, password or existence.
    pub fn forget(&self, id: i64) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            cache.invalidate(&id);
        }
    }
}

fn load(conn: &mut DbConnection, id: i64) -> QueryResult<Option<AccountState>> {
    let row: Option<(String, i64)> = users::table
        .find(id)
        .select((users::role, users::token_version))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(role, token_version)| {
        Some(AccountState {
            role: Role::parse(&role)?,
            token_version,
        })
    }))
}
