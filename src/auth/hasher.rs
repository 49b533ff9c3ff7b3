//! A dedicated, bounded pool for Argon2 (hashing and verifying passwords).
//!
//! Argon2 is deliberately slow and memory-hungry. On the shared blocking
//! pool a flood of sign-ins would queue ahead of every database call and
//! stall reads; here it has its own threads (`NEWSDESK_HASH_THREADS`,
//! default one per core) and a bounded queue (`NEWSDESK_HASH_QUEUE`): when
//! that is full the caller gets a 503 with `Retry-After` at once instead of
//! waiting without end.

use super::password;
use crate::error::ApiError;
use crate::pool::BoundedPool;

pub struct Hasher {
    pool: BoundedPool,
}

impl Hasher {
    /// Starts `threads` workers; at most `queue` jobs wait beyond those
    /// being worked on. The workers end when the `Hasher` is dropped.
    pub fn new(threads: usize, queue: usize) -> Self {
        Self {
            pool: BoundedPool::new(
                "argon2",
                "password hashing",
                "too many sign-ins at once; retry shortly",
                threads,
                queue,
            ),
        }
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.pool
            .run(move || password::hash(&password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Checks a password against a stored hash; without one (an unknown
    /// account), against a dummy hash, so both take the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.pool
            .run(move || match stored {
                Some(stored) => password::verify(&password, &stored),
                None => {
                    password::verify_dummy(&password);
                    false
                }
            })
            .await
    }
}
