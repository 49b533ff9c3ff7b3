//! Presented content keys: where a request carries one, its lookup (a small
//! per-instance cache that creation and revocation clear), the key's own
//! rate limit and its throttled `last_used_at`.
//!
//! The middleware runs before the read cache, so a cached answer is never
//! handed to a bad, revoked or rate-limited key. It only establishes *who*
//! is calling; what a key may do is decided by the extractors
//! (`auth::extract`), which check its scopes.
//!
//! A key is looked for only under `/api/v1/`: in `Authorization: Bearer
//! nd_...` or in a non-empty `key` query parameter. A present but bad key
//! is a 401, never silently anonymous.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Scopes;
use crate::db::Db;
use crate::error::ApiError;
use crate::limits::Limiter;
use crate::state::AppState;

/// Every key starts with this.
pub const KEY_PREFIX: &str = "nd_";
/// `nd_` and 43 base64url characters (32 random bytes).
const KEY_LEN: usize = 3 + 43;
/// Characters of a key shown in listings (`nd_` and 8 more).
const VISIBLE_LEN: usize = 11;
/// `last_used_at` is written at most once per this interval per key and instance.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A validated key, put in the request's extensions by the middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentKey {
    /// The integration's id.
    pub id: i64,
    pub scopes: Scopes,
    /// Sent as `?key=` (rather than in `Authorization`).
    pub in_query: bool,
}

/// A new key and what is stored of it: `(key, visible prefix, hash)`.
pub fn generate() -> (String, String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let prefix = key[..VISIBLE_LEN].to_string();
    let hash = hash(&key);
    (key, prefix, hash)
}

/// SHA-256, hex: keys carry 256 random bits, so a fast hash is safe (no
/// guessing to slow down), and a lookup is one indexed equality.
pub fn hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn well_formed(key: &str) -> bool {
    key.len() == KEY_LEN
        && key.starts_with(KEY_PREFIX)
        && key[3..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Debug)]
struct Known {
    id: i64,
    scopes: Scopes,
}

/// The per-instance lookup of keys, their rate limit and last-use writes.
pub struct ContentKeys {
    /// Hash -> the key's integration, `None` for an unknown key (so probing
    /// costs no query per attempt). Bounded; entries live the auth cache's
    /// lifetime, which bounds how long another instance honours a revoked key.
    cache: Option<moka::sync::Cache<String, Option<Arc<Known>>>>,
    /// Moved on by every `forget_all`, so a lookup that read the database
    /// before a revocation never stores its (old) answer after it.
    generation: AtomicU64,
    /// Keys whose `last_used_at` was written recently (by this instance).
    touched: moka::sync::Cache<i64, ()>,
}

impl ContentKeys {
    pub fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(10_000)
                .build()
        });
        Self {
            cache,
            generation: AtomicU64::new(0),
            touched: moka::sync::Cache::builder()
                .time_to_live(TOUCH_EVERY)
                .max_capacity(10_000)
                .build(),
        }
    }

    /// Call after a key is created or revoked: the next request of any key
    /// reads the database.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            cache.invalidate_all();
        }
    }

    async fn lookup(&self, db: &Db, key: &str) -> Result<Option<Arc<Known>>, ApiError> {
        let hash = hash(key);
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&hash)) {
            return Ok(hit);
        }
        let before = self.generation.load(Ordering::SeqCst);
        let h = hash.clone();
        let row = db
            .read(move |conn| Ok(super::queries::find_by_hash(conn, &h)?))
            .await?;
        let known = row.map(|(id, scopes)| {
            Arc::new(Known {
                id,
                scopes: Scopes::from_stored(&scopes),
            })
        });
        if let Some(cache) = &self.cache {
            cache.insert(hash.clone(), known.clone());
            if self.generation.load(Ordering::SeqCst) != before {
                cache.invalidate(&hash);
            }
        }
        Ok(known)
    }

    /// The key's integration, after its rate limit; 401 for a bad key.
    async fn check(
        &self,
        db: &Db,
        limiter: &Limiter<i64>,
        key: &str,
        in_query: bool,
    ) -> Result<ContentKey, ApiError> {
        let invalid = || ApiError::Unauthorized("the content API key is unknown or revoked".into());
        if !well_formed(key) {
            return Err(invalid());
        }
        let known = self.lookup(db, key).await?.ok_or_else(invalid)?;
        limiter.check(&known.id)?;
        self.touch(db, known.id);
        Ok(ContentKey {
            id: known.id,
            scopes: known.scopes,
            in_query,
        })
    }

    /// Writes `last_used_at` unless this instance did so within a minute;
    /// in the background (a lost write only makes the time a little older).
    fn touch(&self, db: &Db, id: i64) {
        if self.touched.contains_key(&id) {
            return;
        }
        self.touched.insert(id, ());
        let db = db.clone();
        actix_web::rt::spawn(async move {
            let now = crate::time::now();
            let done = db
                .write(move |conn| Ok(super::queries::touch(conn, id, now)?))
                .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, integration = id, "could not record a key's last use");
            }
        });
    }
}

/// The key a request presents, if any: `(key, in_query)`.
fn presented(req: &ServiceRequest) -> Result<Option<(String, bool)>, ApiError> {
    let header = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let text = value.to_str().unwrap_or_default().trim();
            match text.split_once(' ') {
                Some((scheme, token))
                    if scheme.eq_ignore_ascii_case("bearer")
                        && token.trim_start().starts_with(KEY_PREFIX) =>
                {
                    Some(Some(token.trim().to_string()))
                }
                // A JWT (or a malformed header: the auth extractor says so).
                _ => Some(None),
            }
        }
        None => None,
    };
    let query = req.query_string();
    let mut in_query: Option<String> = None;
    if query.contains("key=") {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name != "key" || value.is_empty() {
                continue;
            }
            if in_query.is_some() {
                return Err(ApiError::bad_request("key may be given only once"));
            }
            in_query = Some(value.into_owned());
        }
    }
    match (header, in_query) {
        (None, None) | (Some(None), None) => Ok(None),
        (Some(Some(key)), None) => Ok(Some((key, false))),
        (None, Some(key)) => Ok(Some((key, true))),
        // Two credentials: which one speaks is not for the server to guess.
        (Some(_), Some(_)) => Err(ApiError::Unauthorized(
            "send either the key parameter or an Authorization header, not both".into(),
        )),
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !req.path().starts_with("/api/v1/") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let found = match presented(&req) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        Err(e) => return Ok(req.error_response(e)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::internal(anyhow::anyhow!("AppState missing"))));
    };
    let (key, in_query) = found;
    let limiter = &state.limits.content_keys;
    match state.keys.check(&state.db, limiter, &key, in_query).await {
        Ok(content_key) => {
            req.extensions_mut().insert(content_key);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
        Err(e) => Ok(req.error_response(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_hash_to_what_is_stored() {
        let (key, prefix, stored) = generate();
        assert!(well_formed(&key), "{key}");
        assert!(key.starts_with(&prefix) && prefix.starts_with("nd_"));
        assert_eq!(prefix.len(), 11);
        assert_eq!(hash(&key), stored);
        assert_eq!(stored.len(), 64);
        assert!(!well_formed("nd_short"));
        assert!(!well_formed(&key.replacen("nd_", "xx_", 1)));
    }
}
