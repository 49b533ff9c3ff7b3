//! Group commit for SQLite: one thread runs this process's write
//! transactions, as many queued units of work as are waiting in one
//! transaction, each in a savepoint of its own.
//!
//! SQLite has one writer at a time, so writes were taken one by one: wait
//! for the lock, hop to a blocking thread, run, commit, wake the next
//! waiter's task, which only then hops to a thread of its own. Under a
//! burst of comments that chain of hand-overs, and a commit (WAL frames,
//! and every thousand pages a checkpoint) per comment, was the whole
//! cost. Here the writer drains the queue instead: a unit of work that
//! fails rolls back to its savepoint and reports its error alone; the
//! others commit together, and each caller hears its own result only once
//! the commit has succeeded (so no reader, cache or webhook sees a write
//! that is not durable yet). If the commit itself fails, every unit of the
//! group gets the database's 503.
//!
//! A unit of work still sees the database exactly as if it ran alone: the
//! units run one after another on one connection, each after the ones
//! before it in the queue.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::TransactionManager;
use tokio::sync::Semaphore;

use super::{DbConnection, DbPool, Limits, deadline, lock_blocking, unavailable};
use crate::error::ApiError;

/// Most units of work committed together (a group of them runs in well
/// under the statement time limit).
const GROUP: usize = 128;
/// Units of work waiting beyond these are refused at once with a 503.
const QUEUE: usize = 4096;

/// What the writer hands back to a unit of work once the group's commit
/// is decided: `Ok` if it committed.
type Settle = Box<dyn FnOnce(Result<(), ApiError>) + Send>;
type Tm = <DbConnection as Connection>::TransactionManager;
type Work = Box<dyn FnOnce(&mut DbConnection) -> Settle + Send>;

struct Queued {
    work: Work,
    since: Instant,
}

/// The queue to the writer thread; the thread ends when the last handle
/// is dropped.
pub struct Writer {
    queue: SyncSender<Queued>,
}

impl Writer {
    pub fn start(pool: DbPool, lock: Arc<Semaphore>, limits: Limits) -> std::io::Result<Self> {
        let (queue, jobs) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&pool, &lock, limits, &jobs))?;
        Ok(Self { queue })
    }

    /// Runs `f` in a transaction of its own or in a savepoint of a group,
    /// and returns its result once committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let work: Work = Box::new(move |conn: &mut DbConnection| -> Settle {
            let result = conn.transaction(f);
            Box::new(move |committed: Result<(), ApiError>| {
                let _ = tx.send(result.and_then(|v| committed.map(|()| v)));
            })
        });
        let queued = Queued {
            work,
            since: Instant::now(),
        };
        match self.queue.try_send(queued) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(unavailable()),
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "the writer has stopped"
                )));
            }
        }
        // Dropped unrun: it waited too long, or no connection was to be had.
        rx.await.map_err(|_| unavailable())?
    }
}

fn run(pool: &DbPool, lock: &Semaphore, limits: Limits, jobs: &Receiver<Queued>) {
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::with_capacity(GROUP);
        group.push(first);
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        commit_group(pool, lock, limits, group);
    }
}

/// Refuses the units that waited longer than a connection may be waited
/// for (the caller has its 503 in time, as it had waiting for the lock).
fn still_wanted(group: Vec<Queued>, wait: Duration) -> Vec<Queued> {
    let (late, wanted): (Vec<_>, Vec<_>) =
        group.into_iter().partition(|q| q.since.elapsed() > wait);
    // Dropping a unit closes its caller's channel: the caller gets a 503.
    drop(late);
    wanted
}

fn commit_group(pool: &DbPool, lock: &Semaphore, limits: Limits, group: Vec<Queued>) {
    let group = still_wanted(group, limits.connection_timeout);
    if group.is_empty() {
        return;
    }
    let (permit, mut conn) = match lock_blocking(lock, limits.connection_timeout)
        .and_then(|p| pool.get().map(|c| (p, c)).map_err(|_| unavailable()))
    {
        Ok(held) => held,
        Err(_) => {
            tracing::warn!(units = group.len(), "no database connection for the writer");
            return; // each caller's channel closes
        }
    };
    let conn: &mut DbConnection = &mut conn;
    let mut settles: Vec<Settle> = Vec::with_capacity(group.len());
    let outcome = {
        let _limit = deadline::limit(limits.statement_timeout);
        Tm::begin_transaction(conn)
    };
    if let Err(e) = outcome {
        tracing::warn!(error = %e, "the writer could not begin a transaction");
        return;
    }
    for q in group {
        let _limit = deadline::limit(limits.statement_timeout);
        match catch_unwind(AssertUnwindSafe(|| (q.work)(&mut *conn))) {
            Ok(settle) => settles.push(settle),
            Err(_) => {
                // A bug: the transaction manager's state is unknown. Drop
                // the whole group's work (the connection leaves the pool
                // and its open transaction rolls back as it closes).
                tracing::error!("a unit of work panicked; its write group is rolled back");
                Tm::transaction_manager_status_mut(conn).set_in_error();
                for s in settles {
                    s(Err(unavailable()));
                }
                drop(permit);
                return;
            }
        }
    }
    let committed = {
        let _limit = deadline::limit(limits.statement_timeout);
        Tm::commit_transaction(conn)
    };
    if let Err(e) = &committed {
        tracing::warn!(error = %e, units = settles.len(), "a write group did not commit");
        let _ = Tm::rollback_transaction(conn);
    }
    drop(permit);
    for s in settles {
        s(match &committed {
            Ok(()) => Ok(()),
            Err(_) => Err(unavailable()),
        });
    }
}
