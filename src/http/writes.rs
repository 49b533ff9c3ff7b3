//! The write generation: a number that every successful write through this
//! instance moves on (any non-`GET` 2xx except the view beacon, the same
//! rule as the read cache's).
//!
//! Caches of derived facts (list totals, page anchors) put the generation
//! in their keys: after a write no lookup finds an entry computed before
//! it, and a result computed across a write is stored under the old
//! generation, where nothing looks any more. Background tasks that react
//! to writes (the scheduler) `subscribe` to be woken by them.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct Writes {
    n: AtomicU64,
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for Writes {
    fn default() -> Self {
        Self {
            n: AtomicU64::new(0),
            changed: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Writes {
    pub fn current(&self) -> u64 {
        self.n.load(Ordering::SeqCst)
    }

    pub fn bump(&self) {
        let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
        self.changed.send_replace(n);
    }

    /// A receiver that sees every later `bump`.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
