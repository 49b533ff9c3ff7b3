//! PostgreSQL read replicas (`NEWSDESK_DATABASE_READ_URL`) for anonymous
//! reads.
//!
//! Anonymous reads are the bulk of a news site's traffic and may be a
//! moment behind; signed-in requests always read the primary, so an editor
//! sees their own write at once (read-your-writes without tracking who wrote
//! what). A checker looks at every replica each `CHECK_EVERY`: one that does
//! not answer, or whose replay is more than `NEWSDESK_REPLICA_MAX_LAG`
//! behind, takes no reads until it is back; with no replica in shape,
//! anonymous reads go to the primary. A replica whose connection cannot be
//! had when a read starts is marked down at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::r2d2::{self, ConnectionManager};
use diesel::sql_types::Double;

use super::{ConnectionSettings, DatabaseUrl, DbConnection, DbPool, Limits, PooledConn};

/// How often replicas are checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Longest wait for a replica's connection before the primary is used.
const CONNECT_WAIT: Duration = Duration::from_millis(250);

/// Seconds the replica's replay is behind: zero when it has replayed all it
/// received (an idle primary writes nothing to replay) or is a primary.
const LAG_SQL: &str = "CASE WHEN NOT pg_is_in_recovery() THEN 0 \
     WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
     ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8";

struct Replica {
    pool: DbPool,
    healthy: AtomicBool,
}

#[derive(Default)]
pub struct Replicas {
    replicas: Vec<Replica>,
    next: AtomicUsize,
}

impl Replicas {
    /// Pools for `urls`; nothing is connected yet (a replica that is down
    /// at start-up must not stop the primary from serving).
    pub(super) fn connect(urls: &[DatabaseUrl], pool_size: u32, limits: Limits) -> Self {
        let replicas = urls
            .iter()
            .map(|url| {
                let pool = r2d2::Pool::builder()
                    .max_size(pool_size.max(1))
                    .min_idle(Some(0))
                    .test_on_check_out(true)
                    .connection_timeout(CONNECT_WAIT)
                    .connection_customizer(Box::new(ConnectionSettings::new(&limits)))
                    .build_unchecked(ConnectionManager::<DbConnection>::new(&url.target));
                Replica {
                    pool,
                    healthy: AtomicBool::new(false),
                }
            })
            .collect();
        Self {
            replicas,
            next: AtomicUsize::new(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// A connection to a healthy replica (round robin), if there is one.
    pub(super) fn conn(&self) -> Option<PooledConn> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).find_map(|i| {
            let replica = &self.replicas[(start + i) % n];
            if !replica.healthy.load(Ordering::Relaxed) {
                return None;
            }
            match replica.pool.get() {
                Ok(conn) => Some(conn),
                Err(e) => {
                    tracing::warn!(error = %e, replica = (start + i) % n, "read replica unavailable; reading the primary");
                    replica.healthy.store(false, Ordering::Relaxed);
                    None
                }
            }
        })
    }

    /// Checks every replica once: answers, and is at most `max_lag` behind.
    fn check(&self, max_lag: Duration, up: &prometheus::IntGaugeVec) {
        for (i, replica) in self.replicas.iter().enumerate() {
            let lag = replica
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    diesel::select(diesel::dsl::sql::<Double>(LAG_SQL))
                        .get_result::<f64>(&mut *conn)
                        .map_err(|e| e.to_string())
                });
            let healthy = match lag {
                Ok(seconds) if seconds <= max_lag.as_secs_f64() => true,
                Ok(seconds) => {
                    tracing::warn!(
                        replica = i,
                        lag_seconds = seconds,
                        "read replica is behind; reading the primary"
                    );
                    false
                }
                Err(e) => {
                    tracing::debug!(replica = i, error = %e, "read replica does not answer");
                    false
                }
            };
            let was = replica.healthy.swap(healthy, Ordering::Relaxed);
            if healthy && !was {
                tracing::info!(replica = i, "reading from replica");
            }
            up.with_label_values(&[&i.to_string()])
                .set(i64::from(healthy));
        }
    }

    /// Checks the replicas at once and then every `CHECK_EVERY`, on a thread
    /// of its own, for as long as the replicas are in use.
    pub fn spawn_checker(
        replicas: &Arc<Self>,
        max_lag: Duration,
        up: prometheus::IntGaugeVec,
    ) -> std::io::Result<()> {
        if replicas.is_empty() {
            return Ok(());
        }
        let weak: Weak<Self> = Arc::downgrade(replicas);
        std::thread::Builder::new()
            .name("replica-check".into())
            .spawn(move || {
                while let Some(replicas) = weak.upgrade() {
                    replicas.check(max_lag, &up);
                    drop(replicas);
                    std::thread::sleep(CHECK_EVERY);
                }
            })?;
        Ok(())
    }
}
