//! Database access for both backends: the `DbConnection` that is either
//! SQLite or PostgreSQL, the pool, the migrations, and `Db`, the handle the
//! HTTP layer uses to run a unit of work off the async workers.
//!
//! Nothing here knows about HTTP except that work closures return `ApiError`.

pub mod deadline;
pub mod keyset;
pub mod prepared;
pub mod replicas;
pub mod schema;
pub mod search;
pub mod timestamp;
mod writer;

pub use writer::Tally;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::Semaphore;

use crate::error::ApiError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// Which backend this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

pub type DbPool = r2d2::Pool<ConnectionManager<DbConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<DbConnection>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL parsed into the backend and what diesel needs to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// What is handed to diesel: a file path or `:memory:` for SQLite, the
    /// URL itself for PostgreSQL.
    pub target: String,
}

impl DatabaseUrl {
    /// Picks the backend from the scheme and rejects anything else.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(Self {
                backend: Backend::Sqlite,
                target: ":memory:".into(),
            });
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(
                    "sqlite URL has no file path (use sqlite://PATH or sqlite::memory:)".into(),
                );
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: path.into(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.into(),
            });
        }
        Err("must start with sqlite://, sqlite::memory: or postgres://".into())
    }

    pub fn is_memory(&self) -> bool {
        self.backend == Backend::Sqlite && self.target == ":memory:"
    }

    /// The folder holding the SQLite file (where the generated JWT secret is
    /// kept), if there is one.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite || self.is_memory() {
            return None;
        }
        let path = PathBuf::from(&self.target);
        Some(match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        })
    }
}

/// How long database work may wait, and how SQLite reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a pooled connection (and, on SQLite, for this
    /// process's write lock); past it the request is a 503.
    pub connection_timeout: Duration,
    /// Longest run of one statement on PostgreSQL, of one unit of work on
    /// SQLite (`deadline`); on SQLite also the longest wait for a lock held
    /// by another process (`busy_timeout`).
    pub statement_timeout: Duration,
    /// SQLite: read through a memory map (see [`ConnectionSettings`]).
    pub read_map: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connection_timeout: Duration::from_millis(1500),
            statement_timeout: Duration::from_secs(5),
            read_map: true,
        }
    }
}

/// Per-connection settings: SQLite's to behave like a server database, and
/// on both the bound on how long one statement may hold a connection.
///
/// SQLite reads the database through a memory map (`mmap_size`, up to
/// 1 GiB of the file; the rest by `read`): a page is then read where the
/// kernel keeps it, without a system call and a copy into each
/// connection's own cache. Under concurrent reads that was a third of the
/// server's time (an article row spans overflow pages: its body).
#[derive(Debug)]
struct ConnectionSettings {
    statement_timeout_ms: u128,
    /// Bytes of the SQLite file read through the memory map.
    map_bytes: u64,
}

/// How much of a SQLite database file is read through a memory map.
const READ_MAP_BYTES: u64 = 1 << 30;

impl ConnectionSettings {
    fn new(limits: &Limits) -> Self {
        Self {
            statement_timeout_ms: limits.statement_timeout.as_millis(),
            map_bytes: if limits.read_map { READ_MAP_BYTES } else { 0 },
        }
    }
}

impl CustomizeConnection<DbConnection, r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        let ms = self.statement_timeout_ms;
        let map = self.map_bytes;
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {ms}; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4000; \
                 PRAGMA mmap_size = {map};"
            )),
            DbConnection::Postgres(c) => c.batch_execute(&format!("SET statement_timeout = {ms}")),
        }
        .map_err(r2d2::Error::QueryError)
    }
}

/// The shared handle: pool plus the writer threads.
///
/// SQLite allows one writer at a time and a deferred transaction that reads
/// before it writes fails at once with `SQLITE_BUSY` instead of waiting.
/// This process's writes therefore never race each other: requests queue
/// their units of work for the one writer thread (`writer`), which holds
/// the in-process write lock while it runs a group, as do the rare
/// synchronous writers (`write_blocking`); `busy_timeout` still covers
/// other processes (a CLI seed while serving). A burst of writes waits in
/// that queue, not on pooled connections, so reads are not starved.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    backend: Backend,
    write_lock: Arc<Semaphore>,
    /// The threads that run write transactions in groups: every write on
    /// SQLite, the writes about one article (`write_keyed`) on PostgreSQL.
    writer: Arc<writer::Writer>,
    limits: Limits,
    /// Read replicas for anonymous reads (none unless configured).
    replicas: Arc<replicas::Replicas>,
    /// What the pool connects to, for a connection outside it.
    target: Arc<str>,
}

fn unavailable() -> ApiError {
    ApiError::Unavailable("the database is busy or unavailable; retry shortly".into())
}

impl Db {
    /// Opens the pool (creating the SQLite folder if needed) with default limits.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> anyhow::Result<Self> {
        Self::connect_with(url, pool_size, Limits::default())
    }

    /// Opens the pool (creating the SQLite folder if needed).
    pub fn connect_with(url: &DatabaseUrl, pool_size: u32, limits: Limits) -> anyhow::Result<Self> {
        if let Some(dir) = url.sqlite_dir() {
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
        if url.backend == Backend::Sqlite {
            deadline::install();
        }
        // An in-memory SQLite database exists once per connection: one it is.
        let size = if url.is_memory() { 1 } else { pool_size.max(1) };
        let manager = ConnectionManager::<DbConnection>::new(&url.target);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            // r2d2 checks every checkout with a `SELECT 1` by default: on
            // SQLite (a local file that cannot drop a connection) that was a
            // statement parsed per request. PostgreSQL keeps the check, so a
            // connection the server dropped is replaced, not used.
            .test_on_check_out(url.backend == Backend::Postgres)
            .connection_timeout(limits.connection_timeout)
            .connection_customizer(Box::new(ConnectionSettings::new(&limits)))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        let write_lock = Arc::new(Semaphore::new(1));
        let mode = match url.backend {
            Backend::Sqlite => writer::Mode::Sqlite(write_lock.clone()),
            Backend::Postgres => writer::Mode::Postgres,
        };
        let writer = Arc::new(
            writer::Writer::start(&pool, &mode, limits)
                .map_err(|e| anyhow::anyhow!("cannot start the database writer: {e}"))?,
        );
        Ok(Self {
            pool,
            backend: url.backend,
            write_lock,
            writer,
            limits,
            replicas: Arc::default(),
            target: url.target.as_str().into(),
        })
    }

    /// Adds read replicas (PostgreSQL) for `read_anonymous`.
    pub fn with_replicas(mut self, urls: &[DatabaseUrl], pool_size: u32) -> Self {
        self.replicas = Arc::new(replicas::Replicas::connect(urls, pool_size, self.limits));
        self
    }

    pub fn replicas(&self) -> &Arc<replicas::Replicas> {
        &self.replicas
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// A pooled connection, for synchronous callers (CLI, background tasks
    /// already on a blocking thread). Waits at most the connection timeout;
    /// then the database counts as unavailable (503).
    pub fn conn(&self) -> Result<PooledConn, ApiError> {
        self.pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            unavailable()
        })
    }

    /// Gives the query planner current statistics.
    ///
    /// SQLite plans without statistics until `ANALYZE` has run, and then
    /// guesses that an equality on any index picks a few rows: with a
    /// full-text search, it may walk every published article and run the
    /// search once per row (seconds) instead of walking the matches (ms).
    /// `Planner::Refresh` is SQLite's recommended upkeep (`PRAGMA optimize`:
    /// analyse the tables never analysed or grown or shrunk 25-fold since,
    /// each from a bounded sample) at start-up and hourly, once the site
    /// has [`ANALYZE_FROM_ARTICLES`] articles; `Planner::Full`
    /// analyses everything, after a bulk load (seed, import). PostgreSQL's
    /// autovacuum keeps its statistics; after a bulk load it is told at once.
    pub fn analyze(&self, how: Planner) -> anyhow::Result<()> {
        let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("planner statistics: {e}");
        if self.backend == Backend::Postgres {
            if how == Planner::Refresh {
                return Ok(());
            }
            let mut conn = self.pool.get().map_err(|e| failed(&e))?;
            return conn.batch_execute("ANALYZE").map_err(|e| failed(&e));
        }
        // The statistics are written to sqlite_stat1: a write.
        let _permit = self.lock_blocking().map_err(|e| failed(&e))?;
        let mut conn = self.pool.get().map_err(|e| failed(&e))?;
        if how == Planner::Refresh {
            // Statistics of a nearly empty site mislead more than none: the
            // full-text index's tables analysed with two rows made a bulk
            // load 4.5 times slower. A small site needs no plan help.
            use diesel::prelude::*;
            let newest: Option<i64> = schema::articles::table
                .select(diesel::dsl::max(schema::articles::id))
                .first(&mut *conn)
                .map_err(|e| failed(&e))?;
            if newest.unwrap_or(0) < ANALYZE_FROM_ARTICLES {
                return Ok(());
            }
        }
        conn.batch_execute(match how {
            Planner::Refresh => "PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;",
            Planner::Full => "PRAGMA analysis_limit = 0; ANALYZE;",
        })
        .map_err(|e| failed(&e))
    }

    /// Applies pending migrations for this backend.
    pub fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().map_err(|e| anyhow::anyhow!("pool: {e}"))?;
        let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("migration failed: {e}");
        let applied: Vec<String> = match &mut *conn {
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(|e| failed(&e))?,
            DbConnection::Postgres(c) => {
                // An index on a big table may take longer than a request may.
                c.batch_execute("SET statement_timeout = 0")
                    .map_err(|e| failed(&e))?;
                let applied = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(ToString::to_string).collect())
                    .map_err(|e| failed(&e));
                c.batch_execute(&format!(
                    "SET statement_timeout = {}",
                    self.limits.statement_timeout.as_millis()
                ))
                .map_err(|e| failed(&e))?;
                applied?
            }
        };
        for m in applied {
            tracing::info!(migration = %m, "applied migration");
        }
        Ok(())
    }

    /// Runs read-only work on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.conn()?;
            db.bounded(|| f(&mut conn))
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// `read` for a request with no signed-in user: on a healthy read
    /// replica when there is one, else on the primary. Signed-in users read
    /// the primary, so they always see their own writes.
    pub async fn read_anonymous<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        if self.replicas.is_empty() {
            return self.read(f).await;
        }
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = match db.replicas.conn() {
                Some(conn) => conn,
                None => db.conn()?,
            };
            db.bounded(|| f(&mut conn))
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// A short read: by primary key or unique index (one article, tag,
    /// author, comment or account), or a list page without search. On
    /// SQLite such a read takes tens to a few hundred microseconds, not
    /// much more than handing it to a blocking thread and back (two
    /// context switches: the larger part of a point read's cost, a tenth
    /// of a list page's, and the p99 of both), so it runs right here on
    /// the async worker when a pooled connection is idle; otherwise, and
    /// on PostgreSQL (a network round trip), it goes the `read_as` way.
    pub async fn read_point<T, F>(&self, anonymous: bool, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            return self.bounded(|| f(&mut conn));
        }
        self.read_as(anonymous, f).await
    }

    /// `read_point` when the caller knows the read is short (see there),
    /// else `read_as`.
    pub async fn read_sized<T, F>(&self, short: bool, anonymous: bool, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        if short {
            self.read_point(anonymous, f).await
        } else {
            self.read_as(anonymous, f).await
        }
    }

    /// `read_anonymous` when `anonymous`, else `read`.
    pub async fn read_as<T, F>(&self, anonymous: bool, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        if anonymous {
            self.read_anonymous(f).await
        } else {
            self.read(f).await
        }
    }

    /// Runs a unit of work in one transaction. On SQLite the writer thread
    /// runs it, committed together with the other writes waiting then
    /// (`writer`); on PostgreSQL, on a blocking thread of its own.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        if self.backend == Backend::Sqlite {
            return self.writer.write(0, move |conn, _| f(conn)).await;
        }
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.conn()?;
            db.bounded(|| (*conn).transaction(f))
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// `write` for the frequent small writes about one article (a new
    /// comment), whose only article lock is that of article `article_id`
    /// (`comments::queries::lock_article`): on PostgreSQL too a writer
    /// thread runs them, committed in groups (see `writer`), so that a
    /// burst of them on one article does not wait for one commit after
    /// another. Counter changes go to the [`Tally`], written once per group.
    pub async fn write_keyed<T, F>(&self, article_id: i64, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &mut Tally) -> Result<T, ApiError> + Send + 'static,
    {
        self.writer.write(article_id, f).await
    }

    /// `write` for callers already on a blocking thread.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        let _permit = match self.backend {
            Backend::Sqlite => Some(self.lock_blocking()?),
            Backend::Postgres => None,
        };
        let mut conn = self.conn()?;
        self.bounded(|| (*conn).transaction(f))
    }

    /// Runs `f` under the statement time limit: PostgreSQL's
    /// `statement_timeout` is set on every connection; SQLite's is the
    /// deadline of `deadline::limit`, for this unit of work as a whole.
    fn bounded<T>(&self, f: impl FnOnce() -> T) -> T {
        if self.backend == Backend::Sqlite {
            let _limit = deadline::limit(self.limits.statement_timeout);
            f()
        } else {
            f()
        }
    }

    /// The write lock for synchronous callers (the view flusher, the final
    /// flush at shutdown, planner statistics).
    fn lock_blocking(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        lock_blocking(&self.write_lock, self.limits.connection_timeout)
    }
}

/// Takes this process's SQLite write lock, polled so no async runtime is
/// needed; the writer thread holds it per group, the rare other writers
/// (the view flusher, the final flush at shutdown, planner statistics)
/// per transaction. Past `wait`, the database counts as unavailable.
fn lock_blocking(
    lock: &Semaphore,
    wait: Duration,
) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match lock.try_acquire() {
            Ok(permit) => return Ok(permit),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(unavailable()),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                if std::time::Instant::now() >= deadline {
                    return Err(unavailable());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// Below this many articles (by id), routine upkeep leaves the planner
/// without statistics.
const ANALYZE_FROM_ARTICLES: i64 = 1_000;

/// How thoroughly [`Db::analyze`] refreshes the planner's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planner {
    /// Routine upkeep: only what changed much, from a sample.
    Refresh,
    /// Everything, after a bulk load.
    Full,
}

/// Cluster-wide locks (PostgreSQL advisory lock keys) for work that must
/// run on one instance at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum ClusterLock {
    /// Migrations and the first admin at start-up.
    Migrate = 0x6e64_0001,
    /// Deleting expired refresh tokens.
    PurgeTokens = 0x6e64_0002,
}

impl Db {
    /// Runs `f` while this process holds `lock` across the cluster: on
    /// PostgreSQL a session advisory lock, waited for as long as it takes
    /// (a rolling deploy of N instances migrates once, the others wait and
    /// then find nothing to do); SQLite serves one process and needs none.
    pub fn exclusively<T>(
        &self,
        lock: ClusterLock,
        f: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        if self.backend == Backend::Sqlite {
            return f();
        }
        // A connection of its own: `f` may need every pooled one. Closing
        // it (also when `f` fails) releases the lock.
        let mut conn = PgConnection::establish(&self.target)
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({})", lock as i64))?;
        f()
    }
}

/// Inside a transaction: whether this instance may do `lock`'s work now
/// (no other instance is doing it). The lock is released at commit. Always
/// true on SQLite.
pub fn try_lock_in_transaction(
    conn: &mut DbConnection,
    lock: ClusterLock,
) -> diesel::QueryResult<bool> {
    match conn {
        DbConnection::Sqlite(_) => Ok(true),
        DbConnection::Postgres(c) => {
            use diesel::RunQueryDsl;
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "pg_try_advisory_xact_lock({})",
                lock as i64
            )))
            .get_result(c)
        }
    }
}

/// The backend type diesel's boxed queries need to name.
pub type DbBackend = <DbConnection as diesel::Connection>::Backend;

/// After rows were inserted with explicit ids (an import of an export):
/// PostgreSQL's identity sequences must continue after the highest id;
/// SQLite's `AUTOINCREMENT` does so by itself.
pub fn reset_id_sequences(conn: &mut DbConnection, tables: &[&str]) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    if let DbConnection::Postgres(_) = conn {
        for t in tables {
            // Table names come from the caller's constant list, not input.
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), \
                 GREATEST((SELECT COALESCE(MAX(id), 0) FROM {t}), 1), \
                 (SELECT COUNT(*) > 0 FROM {t}))"
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}
