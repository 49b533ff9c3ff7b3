//! A dedicated, bounded pool for Argon2 (hashing and verifying passwords).
//!
//! Argon2 is deliberately slow and memory-hungry. On the shared blocking
//! pool a flood of sign-ins would queue ahead of every database call and
//! stall reads; here it has its own threads (`NEWSDESK_HASH_THREADS`,
//! default one per core) and a bounded queue (`NEWSDESK_HASH_QUEUE`): when
//! that is full the caller gets a 503 with `Retry-After` at once instead of
//! waiting without end.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use super::password;
use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl Hasher {
    /// Starts `threads` workers; at most `queue` jobs wait beyond those
    /// being worked on. The workers end when the `Hasher` is dropped.
    pub fn new(threads: usize, queue: usize) -> Self {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { jobs }
    }

    async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Unavailable(
                    "too many sign-ins at once; retry shortly".into(),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "the password hashing pool has stopped"
                )));
            }
        }
        rx.await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a password hashing job failed")))
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || password::hash(&password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Checks a password against a stored hash; without one (an unknown
    /// account), against a dummy hash, so both take the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        self.run(move || match stored {
            Some(stored) => password::verify(&password, &stored),
            None => {
                password::verify_dummy(&password);
                false
            }
        })
        .await
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        // One idle worker waits in `recv` while holding the lock; the
        // others wait for the lock. A job runs without it.
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job must not shrink the pool.
            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
            Err(_) => return,
        }
    }
}
