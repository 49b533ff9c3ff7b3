//! Group commit: writer threads that run this process's write
//! transactions, as many queued units of work as are waiting in one
//! transaction, each in a savepoint of its own.
//!
//! SQLite has one writer at a time, so writes were taken one by one: wait
//! for the lock, hop to a blocking thread, run, commit, wake the next
//! waiter's task, which only then hops to a thread of its own. Under a
//! burst of comments that chain of hand-overs, and a commit (WAL frames,
//! and every thousand pages a checkpoint) per comment, was the whole
//! cost. PostgreSQL runs writers side by side, but comments on one article
//! took its row lock one transaction at a time, each holding it through
//! its own commit's WAL flush. Here a writer drains its queue instead: a
//! unit of work that fails rolls back to its savepoint and reports its
//! error alone; the others commit together, and each caller hears its own
//! result only once the commit has succeeded (so no reader, cache or
//! webhook sees a write that is not durable yet). If the commit itself
//! fails, every unit of the group gets the database's 503.
//!
//! A unit of work still sees the database exactly as if it ran alone: the
//! units run one after another on one connection. SQLite has one writer
//! thread, which runs them in the order they were queued. PostgreSQL has
//! [`PG_SHARDS`] of them: a unit goes to the one its key (the article it
//! writes to) picks, so the units of one article keep their order, and a
//! group runs its units in key order, so that a group takes its article
//! row locks in ascending order, as every other multi-article write does
//! (`stats::daily::lock_articles_in_order`): groups of different threads
//! and instances wait for each other but never deadlock.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
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
/// PostgreSQL: writer threads (and connections in use while they commit).
const PG_SHARDS: usize = 2;

/// What the writer hands back to a unit of work once the group's commit
/// is decided: `Ok` if it committed.
type Settle = Box<dyn FnOnce(Result<(), ApiError>) + Send>;
type Tm = <DbConnection as Connection>::TransactionManager;
type Work = Box<dyn FnOnce(&mut DbConnection, &mut Tally) -> Settle + Send>;

/// Approved comments added per article and UTC day by the units of one
/// group. A unit adds to its own; the group adds those of the units that
/// succeeded and writes them just before its commit
/// (`stats::comments::count_tally`), one statement for the group instead of
/// one update of the article's row per comment: still in the transaction
/// that adds the comments, so the counts stay exact.
pub type Tally = BTreeMap<(i64, NaiveDate), i64>;

struct Queued {
    work: Work,
    key: i64,
    since: Instant,
}

/// How a writer runs its groups.
#[derive(Clone)]
pub enum Mode {
    /// One thread, units in queue order, under this process's write lock.
    Sqlite(Arc<Semaphore>),
    /// [`PG_SHARDS`] threads, units in key order.
    Postgres,
}

/// The queues to the writer threads; a thread ends when the last handle
/// is dropped.
pub struct Writer {
    queues: Vec<SyncSender<Queued>>,
}

impl Writer {
    pub fn start(pool: &DbPool, mode: &Mode, limits: Limits) -> std::io::Result<Self> {
        let threads = match mode {
            Mode::Sqlite(_) => 1,
            Mode::Postgres => PG_SHARDS,
        };
        let mut queues = Vec::with_capacity(threads);
        for n in 0..threads {
            let (queue, jobs) = sync_channel(QUEUE);
            let (pool, mode) = (pool.clone(), mode.clone());
            std::thread::Builder::new()
                .name(format!("db-writer-{n}"))
                .spawn(move || run(&pool, &mode, limits, &jobs))?;
            queues.push(queue);
        }
        Ok(Self { queues })
    }

    /// Runs `f` in a transaction of its own or in a savepoint of a group,
    /// and returns its result once committed. `key` (an article id) picks
    /// the thread, and orders the units of a group on PostgreSQL.
    pub async fn write<T, F>(&self, key: i64, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &mut Tally) -> Result<T, ApiError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let work: Work = Box::new(
            move |conn: &mut DbConnection, group: &mut Tally| -> Settle {
                let mut mine = Tally::new();
                let result = conn.transaction(|conn| f(conn, &mut mine));
                if result.is_ok() {
                    for (k, n) in mine {
                        *group.entry(k).or_default() += n;
                    }
                }
                Box::new(move |committed: Result<(), ApiError>| {
                    let _ = tx.send(result.and_then(|v| committed.map(|()| v)));
                })
            },
        );
        let queued = Queued {
            work,
            key,
            since: Instant::now(),
        };
        let shard = usize::try_from(key.rem_euclid(self.queues.len() as i64)).unwrap_or(0);
        match self.queues[shard].try_send(queued) {
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

fn run(pool: &DbPool, mode: &Mode, limits: Limits, jobs: &Receiver<Queued>) {
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::with_capacity(GROUP);
        group.push(first);
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        if matches!(mode, Mode::Postgres) {
            group.sort_by_key(|q| q.key);
        }
        commit_group(pool, mode, limits, group);
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

fn commit_group(pool: &DbPool, mode: &Mode, limits: Limits, group: Vec<Queued>) {
    let group = still_wanted(group, limits.connection_timeout);
    if group.is_empty() {
        return;
    }
    let permit = match mode {
        Mode::Sqlite(lock) => lock_blocking(lock, limits.connection_timeout).map(Some),
        Mode::Postgres => Ok(None),
    };
    let (permit, mut conn) =
        match permit.and_then(|p| pool.get().map(|c| (p, c)).map_err(|_| unavailable())) {
            Ok(held) => held,
            Err(_) => {
                tracing::warn!(units = group.len(), "no database connection for the writer");
                return; // each caller's channel closes
            }
        };
    let conn: &mut DbConnection = &mut conn;
    let mut settles: Vec<Settle> = Vec::with_capacity(group.len());
    let mut tally = Tally::new();
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
        match catch_unwind(AssertUnwindSafe(|| (q.work)(&mut *conn, &mut tally))) {
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
        let counted = if tally.is_empty() {
            Ok(())
        } else {
            crate::stats::comments::count_tally(conn, &tally)
        };
        counted.and_then(|()| Tm::commit_transaction(conn))
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
