//! A dedicated thread pool with a bounded queue, for CPU-heavy work that
//! must not run on the shared blocking pool every database call needs
//! (Argon2, image decoding and resizing). When the queue is full the
//! caller gets a 503 with `Retry-After` at once instead of waiting without
//! end. The workers end when the pool is dropped.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct BoundedPool {
    jobs: SyncSender<Job>,
    /// What the work is, for thread names and messages ("password hashing").
    what: &'static str,
    /// The 503's detail when the queue is full.
    busy: &'static str,
}

impl BoundedPool {
    /// Starts `threads` workers named `{name}-{i}`; at most `queue` jobs
    /// wait beyond those being worked on.
    pub fn new(
        name: &'static str,
        what: &'static str,
        busy: &'static str,
        threads: usize,
        queue: usize,
    ) -> Self {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a {what} thread");
            }
        }
        Self { jobs, what, busy }
    }

    /// Runs `f` on the pool; 503 when the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
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
            Err(TrySendError::Full(_)) => return Err(ApiError::Unavailable(self.busy.into())),
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "the {} pool has stopped",
                    self.what
                )));
            }
        }
        rx.await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a {} job failed", self.what)))
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
