//! Database access for both backends: the `DbConnection` that is either
//! SQLite or PostgreSQL, the pool, the migrations, and `Db`, the handle the
//! HTTP layer uses to run a unit of work off the async workers.
//!
//! Nothing here knows about HTTP except that work closures return `ApiError`.

pub mod keyset;
pub mod schema;
pub mod search;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
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

/// Per-connection settings SQLite needs to behave like a server database.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4000;",
            )
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The shared handle: pool plus the in-process write lock for SQLite.
///
/// SQLite allows one writer at a time and a deferred transaction that reads
/// before it writes fails at once with `SQLITE_BUSY` instead of waiting.
/// Serialising this process's write transactions removes that failure mode;
/// `busy_timeout` still covers other processes (a CLI seed while serving).
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    backend: Backend,
    write_lock: Arc<Mutex<()>>,
}

impl Db {
    /// Opens the pool (creating the SQLite folder if needed).
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> anyhow::Result<Self> {
        if let Some(dir) = url.sqlite_dir() {
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
        // An in-memory SQLite database exists once per connection: one it is.
        let size = if url.is_memory() { 1 } else { pool_size.max(1) };
        let manager = ConnectionManager::<DbConnection>::new(&url.target);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        Ok(Self {
            pool,
            backend: url.backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// A pooled connection, for synchronous callers (CLI, background tasks
    /// already on a blocking thread).
    pub fn conn(&self) -> Result<PooledConn, ApiError> {
        self.pool
            .get()
            .map_err(|e| ApiError::internal(anyhow::anyhow!("pool: {e}")))
    }

    /// Applies pending migrations for this backend.
    pub fn migrate(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.get().map_err(|e| anyhow::anyhow!("pool: {e}"))?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
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
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs a unit of work in one transaction on a blocking thread.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.write_blocking(f))
            .await
            .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// `write` for callers already on a blocking thread.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
    {
        let mut conn = self.conn()?;
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        (*conn).transaction(f)
    }
}

/// The backend type diesel's boxed queries need to name.
pub type DbBackend = <DbConnection as diesel::Connection>::Backend;
