//! A time limit on SQLite work: the counterpart of PostgreSQL's
//! `statement_timeout` (`NEWSDESK_STATEMENT_TIMEOUT_MS`).
//!
//! SQLite has no timer of its own, but it calls a *progress handler* every
//! few thousand virtual-machine steps and stops the running statement with
//! `SQLITE_INTERRUPT` when the handler says so. The handler is installed on
//! every SQLite connection the process opens (`sqlite3_auto_extension`,
//! the documented hook for per-connection setup) and compares the clock
//! with a deadline kept per thread: SQLite runs a statement on the thread
//! that steps it, so the deadline that [`limit`] sets around a unit of
//! database work is the one its statements see. Outside such a unit
//! (migrations, the CLI) there is no deadline.
//!
//! The same hook turns on the *query planner stability guarantee*
//! (`SQLITE_DBCONFIG_ENABLE_QPSG`): SQLite then plans a statement without
//! looking at its bound values. Without it, a statement whose plan could
//! depend on a bound value (an indexed comparison with `sqlite_stat4`
//! samples, a `LIMIT ?` or `OFFSET ?`) is planned anew whenever that value
//! is bound again, which diesel does on every execution: every point read
//! and list page was parsed and planned per request, its cached prepared
//! statement of no use.
//!
//! Before the library starts, the same call sets two process-wide options
//! (`sqlite3_config`): *multi-thread* mode, in which a connection takes no
//! mutex of its own on every call (a pooled connection is used by one
//! thread at a time, which diesel's types already guarantee: a
//! `SqliteConnection` is not `Sync`), and no memory statistics (else every
//! allocation inside SQLite takes one global mutex). Both were a tenth of
//! a list page's time, all of it uncontended locking.
//!
//! diesel exposes no handle to the `sqlite3` object, so this module talks
//! to the C library (bundled by `libsqlite3-sys`, the crate diesel links)
//! directly; it is the only place in the crate that needs `unsafe`.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Virtual-machine steps between two looks at the clock (a few
/// microseconds of work: the check costs nothing measurable).
const STEPS: c_int = 5_000;

/// The progress handler: non-zero (stop) once this thread's deadline has
/// passed.
extern "C" fn past_deadline(_: *mut c_void) -> c_int {
    DEADLINE.with(|d| match d.get() {
        Some(at) if Instant::now() >= at => 1,
        _ => 0,
    })
}

/// The entry point SQLite calls for every new connection.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening and hands us; the
    // handler is a plain function that touches only a thread-local.
    unsafe { ffi::sqlite3_progress_handler(db, STEPS, Some(past_deadline), std::ptr::null_mut()) };
    // SAFETY: the documented call for this option: an int (1, on) and a
    // pointer where SQLite may write the new setting (none wanted).
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        )
    };
    ffi::SQLITE_OK
}

/// Installs the handler for every SQLite connection opened from now on
/// (once per process; call it before the pool opens connections).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Only possible before the library is initialised (the first
        // connection, or the auto extension below, does that); refused
        // after, which changes nothing but the speed.
        // SAFETY: the documented calls for these options: the option alone,
        // and the option with an int (0, off).
        let rc = unsafe {
            let threads = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD);
            let stats = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
            if threads == ffi::SQLITE_OK {
                stats
            } else {
                threads
            }
        };
        if rc != ffi::SQLITE_OK {
            tracing::debug!(
                code = rc,
                "SQLite: library already initialised, options kept"
            );
        }
        // SAFETY: registers a function with the signature SQLite expects;
        // it stays valid for the life of the process.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(
                code = rc,
                "SQLite: no statement time limit (auto extension refused)"
            );
        }
    });
}

/// While the returned guard lives, SQLite statements run by this thread
/// stop with `SQLITE_INTERRUPT` once `timeout` has passed.
pub fn limit(timeout: Duration) -> Limit {
    let at = Instant::now().checked_add(timeout);
    Limit(DEADLINE.with(|d| d.replace(at)))
}

/// Puts back the deadline that was in force before (none, normally).
#[must_use]
pub struct Limit(Option<Instant>);

impl Drop for Limit {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}
