//! The write generation: a number that every successful write through this
//! instance moves on (any non-`GET` 2xx except the view beacon, the same
//! rule as the read cache's).
//!
//! Caches of derived facts (list totals, page anchors) put the generation
//! in their keys: after a write no lookup finds an entry computed before
//! it, and a result computed across a write is stored under the old
//! generation, where nothing looks any more.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Writes(AtomicU64);

impl Writes {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
