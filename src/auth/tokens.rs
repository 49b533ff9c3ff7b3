//! Refresh tokens: random, shown to the client once, stored only as a
//! SHA-256 hash with an expiry. Each refresh rotates the token within its
//! family; presenting an already-rotated token again means it leaked, so
//! the whole family is revoked. A rotated token keeps the expiry of the
//! sign-in it descends from: a session ends at most the refresh lifetime
//! after its sign-in, however often it is refreshed. Expired rows are
//! purged (the user's own at each sign-in, everyone's periodically).

use std::time::Duration;

use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;
use crate::db::schema::refresh_tokens;

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores a new token for the user (in `family`, or a new one) and returns it.
pub fn issue(
    conn: &mut DbConnection,
    user_id: i64,
    family: Option<String>,
    ttl: Duration,
) -> QueryResult<String> {
    let expires_at = crate::time::now() + chrono::Duration::seconds(ttl.as_secs() as i64);
    issue_until(conn, user_id, family, expires_at)
}

fn issue_until(
    conn: &mut DbConnection,
    user_id: i64,
    family: Option<String>,
    expires_at: NaiveDateTime,
) -> QueryResult<String> {
    let token = random_token();
    let now = crate::time::now();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family.unwrap_or_else(random_token)),
            refresh_tokens::token_hash.eq(hash(&token)),
            refresh_tokens::expires_at.eq(expires_at),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

type TokenRow = (
    i64,
    i64,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

pub enum Rotation {
    /// The token was current: here is its successor.
    Rotated { user_id: i64, token: String },
    /// The token had been rotated before: its family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Exchanges a current token for a new one in the same family, expiring
/// when the presented one would have.
pub fn rotate(conn: &mut DbConnection, presented: &str) -> QueryResult<Rotation> {
    let row: Option<TokenRow> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash(presented)))
        .select((
            refresh_tokens::id,
            refresh_tokens::user_id,
            refresh_tokens::family_id,
            refresh_tokens::expires_at,
            refresh_tokens::rotated_at,
            refresh_tokens::revoked_at,
        ))
        .first(conn)
        .optional()?;
    let Some((id, user_id, family, expires_at, rotated_at, revoked_at)) = row else {
        return Ok(Rotation::Invalid);
    };
    let now = crate::time::now();
    if revoked_at.is_some() || expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    if rotated_at.is_some() {
        revoke_family(conn, &family)?;
        return Ok(Rotation::Reused);
    }
    // Only the first of two concurrent refreshes wins the rotation.
    let claimed = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::rotated_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(now))
    .execute(conn)?;
    if claimed == 0 {
        revoke_family(conn, &family)?;
        return Ok(Rotation::Reused);
    }
    let token = issue_until(conn, user_id, Some(family), expires_at)?;
    Ok(Rotation::Rotated { user_id, token })
}

fn revoke_family(conn: &mut DbConnection, family: &str) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(crate::time::now()))
    .execute(conn)
}

/// Revokes the family of the presented token; `false` if it is unknown.
pub fn revoke(conn: &mut DbConnection, presented: &str) -> QueryResult<bool> {
    let family: Option<String> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash(presented)))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    match family {
        Some(f) => revoke_family(conn, &f).map(|_| true),
        None => Ok(false),
    }
}

/// Signs a user out everywhere (role or password change).
pub fn revoke_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(crate::time::now()))
    .execute(conn)
}

/// Deletes expired refresh tokens (of one user, or of everyone). A rotated
/// or revoked token is kept until it expires, so that its reuse is still
/// recognised; after that it can no longer be presented usefully anyway.
pub fn purge_expired(conn: &mut DbConnection, user_id: Option<i64>) -> QueryResult<usize> {
    let expired = refresh_tokens::expires_at.le(crate::time::now());
    match user_id {
        Some(id) => diesel::delete(
            refresh_tokens::table
                .filter(expired)
                .filter(refresh_tokens::user_id.eq(id)),
        )
        .execute(conn),
        None => diesel::delete(refresh_tokens::table.filter(expired)).execute(conn),
    }
}
