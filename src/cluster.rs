//! Several instances on one PostgreSQL: what one instance's write makes
//! stale in the others' memory is announced with `NOTIFY` and forgotten
//! there within milliseconds instead of after the memories' lifetimes.
//!
//! Each instance keeps short-lived memories of the database: the read cache
//! (and, keyed by its generation, list totals, page anchors and rankings),
//! which articles may be counted as viewed, accounts' current roles, and
//! content API key lookups. A
//! write through one instance forgets them there at once (`AppState::stale`)
//! and hands the same fact to the announcer thread, which sends it on the
//! `newsdesk_invalidate_…` channel of its schema. A listener thread on every instance
//! applies what the others announce.
//!
//! Both threads hold a connection of their own, outside the pool, so a busy
//! pool never delays an announcement. diesel's `notifications_iter` reads
//! what has arrived without blocking, so the listener polls every
//! `POLL` (one cheap `recv` on an idle socket).
//!
//! If the listening connection drops, the memories' lifetimes still bound
//! how stale an answer can be (1 s read cache, 1 s accounts, 5 s
//! visibility): the listener logs it, counts it in `/metrics`, reconnects
//! with back-off, and then forgets everything once, since it may have missed
//! announcements meanwhile. SQLite has a single instance: nothing is sent.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{PgConnection, RunQueryDsl};

use crate::state::AppState;

/// The PostgreSQL channel every instance listens on is this prefix and a
/// hash of the schema in use (channels are per database, and one database
/// may hold several sites, or tests, in schemas of their own).
pub const CHANNEL_PREFIX: &str = "newsdesk_invalidate_";
/// How often the listener looks for notifications.
const POLL: Duration = Duration::from_millis(10);
/// Longest wait between attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A notification's payload must stay under 8000 bytes.
const MAX_PAYLOAD: usize = 7000;

/// What a write made stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stale {
    /// Anything a public read may show: read cache, list index, rankings.
    Content,
    /// Whether one article may be counted as viewed.
    Article(i64),
    /// One account's role and token version.
    Account(i64),
    /// Every content API key lookup (a key was made or revoked).
    Keys,
    /// Everything (after missed announcements).
    All,
}

impl Stale {
    fn encode(self) -> String {
        match self {
            Stale::Content => "c".into(),
            Stale::Article(id) => format!("a{id}"),
            Stale::Account(id) => format!("u{id}"),
            Stale::Keys => "k".into(),
            Stale::All => "*".into(),
        }
    }

    fn decode(s: &str) -> Option<Self> {
        let (kind, id) = s.split_at_checked(1)?;
        match kind {
            "c" if id.is_empty() => Some(Stale::Content),
            "k" if id.is_empty() => Some(Stale::Keys),
            "*" if id.is_empty() => Some(Stale::All),
            "a" => id.parse().ok().map(Stale::Article),
            "u" => id.parse().ok().map(Stale::Account),
            _ => None,
        }
    }
}

/// This instance's side of the channel: its id and the announcer's queue.
pub struct Cluster {
    /// Random per process: an instance ignores its own announcements.
    instance: String,
    outbox: Option<Sender<Stale>>,
    inbox: std::sync::Mutex<Option<Receiver<Stale>>>,
    stopped: Arc<AtomicBool>,
}

impl Cluster {
    /// `shared`: several instances may share the database (PostgreSQL).
    pub fn new(shared: bool) -> Self {
        let (outbox, inbox) = if shared {
            let (tx, rx) = std::sync::mpsc::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        Self {
            instance: format!("{:016x}", rand::random::<u64>()),
            outbox,
            inbox: std::sync::Mutex::new(inbox),
            stopped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Queues `stale` for the other instances (never blocks).
    pub fn announce(&self, stale: Stale) {
        if let Some(outbox) = &self.outbox {
            let _ = outbox.send(stale);
        }
    }

    /// Ends both threads (graceful stop).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Starts the announcer and the listener on `url` (PostgreSQL only).
    pub fn spawn(state: &actix_web::web::Data<AppState>, url: &str) -> std::io::Result<()> {
        let Some(inbox) = state
            .cluster
            .inbox
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return Ok(());
        };
        let announcer = Announcer {
            url: url.to_owned(),
            instance: state.cluster.instance.clone(),
            stopped: state.cluster.stopped.clone(),
            conn: None,
        };
        std::thread::Builder::new()
            .name("cluster-announce".into())
            .spawn(move || announcer.run(&inbox))?;
        let listener = Listener {
            url: url.to_owned(),
            state: Arc::downgrade(&state.clone().into_inner()),
            instance: state.cluster.instance.clone(),
            stopped: state.cluster.stopped.clone(),
        };
        std::thread::Builder::new()
            .name("cluster-listen".into())
            .spawn(move || listener.run())?;
        Ok(())
    }
}

struct Announcer {
    url: String,
    instance: String,
    stopped: Arc<AtomicBool>,
    /// The open connection and the channel name for its schema.
    conn: Option<(PgConnection, String)>,
}

/// The channel instances on the database at `url` use.
pub fn channel_of_url(url: &str) -> anyhow::Result<String> {
    Ok(channel(&mut PgConnection::establish(url)?)?)
}

/// The channel of the schema `conn` works in.
fn channel(conn: &mut PgConnection) -> QueryResult<String> {
    let schema: String =
        diesel::select(diesel::dsl::sql::<Text>("current_schema()::text")).get_result(conn)?;
    Ok(format!(
        "{CHANNEL_PREFIX}{:016x}",
        xxhash_rust::xxh3::xxh3_64(schema.as_bytes())
    ))
}

impl Announcer {
    fn run(mut self, inbox: &Receiver<Stale>) {
        while !self.stopped.load(Ordering::SeqCst) {
            let first = match inbox.recv_timeout(Duration::from_millis(200)) {
                Ok(stale) => stale,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // Whatever queued meanwhile goes out in the same notification.
            let batch: BTreeSet<Stale> = std::iter::once(first).chain(inbox.try_iter()).collect();
            for payload in payloads(&self.instance, &batch) {
                if let Err(e) = self.send(&payload) {
                    // The others fall back to their memories' lifetimes.
                    tracing::warn!(error = %e, "could not announce a change to other instances");
                    self.conn = None;
                }
            }
        }
    }

    fn send(&mut self, payload: &str) -> anyhow::Result<()> {
        let (conn, channel) = match &mut self.conn {
            Some(open) => open,
            None => {
                let mut conn = PgConnection::establish(&self.url)?;
                let channel = channel(&mut conn)?;
                self.conn.insert((conn, channel))
            }
        };
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(&*channel)
            .bind::<Text, _>(payload)
            .execute(conn)?;
        Ok(())
    }
}

/// `"{instance} c a42 u7"`, split so each stays under the payload limit.
fn payloads(instance: &str, batch: &BTreeSet<Stale>) -> Vec<String> {
    if batch.contains(&Stale::All) {
        return vec![format!("{instance} *")];
    }
    let mut out = Vec::new();
    let mut current = instance.to_owned();
    for stale in batch {
        let item = stale.encode();
        if current.len() + 1 + item.len() > MAX_PAYLOAD {
            out.push(std::mem::replace(&mut current, instance.to_owned()));
        }
        current.push(' ');
        current.push_str(&item);
    }
    out.push(current);
    out
}

/// What another instance announced, or `None` for this instance's own.
fn parse(own: &str, payload: &str) -> Option<Vec<Stale>> {
    let mut parts = payload.split(' ');
    let from = parts.next()?;
    (from != own).then(|| parts.filter_map(Stale::decode).collect())
}

/// Holds the state weakly: when the application is gone (a test's), so is
/// the listener.
struct Listener {
    url: String,
    state: Weak<AppState>,
    instance: String,
    stopped: Arc<AtomicBool>,
}

impl Listener {
    /// The state, while the instance runs.
    fn state(&self) -> Option<Arc<AppState>> {
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        self.state.upgrade()
    }

    fn run(self) {
        let mut backoff = Duration::from_millis(100);
        let mut first = true;
        while let Some(state) = self.state() {
            let metrics = &state.metrics;
            let mut conn = match self.connect() {
                Ok(conn) => conn,
                Err(e) => {
                    metrics.cluster_listener_up.set(0);
                    tracing::warn!(error = %e, retry_in = ?backoff, "cannot listen for other instances' changes");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            metrics.cluster_listener_up.set(1);
            backoff = Duration::from_millis(100);
            if !first {
                // Announcements may have been missed while disconnected.
                metrics.cluster_listener_reconnects.inc();
                tracing::info!("listening for other instances' changes again");
                state.forget(Stale::All);
            }
            first = false;
            drop(state);
            if let Err(e) = self.listen(&mut conn) {
                if let Some(state) = self.state() {
                    state.metrics.cluster_listener_up.set(0);
                }
                tracing::warn!(error = %e, "lost the connection that listens for other instances' changes");
            }
        }
    }

    fn connect(&self) -> anyhow::Result<PgConnection> {
        let mut conn = PgConnection::establish(&self.url)?;
        let channel = channel(&mut conn)?;
        // Named after its channel, so an operator (or a test) can find it.
        conn.batch_execute(&format!(
            "SET application_name = '{channel}'; LISTEN {channel}"
        ))?;
        Ok(conn)
    }

    /// Applies notifications until the connection fails or the instance stops.
    fn listen(&self, conn: &mut PgConnection) -> anyhow::Result<()> {
        let mut idle = Duration::ZERO;
        while let Some(state) = self.state() {
            let mut any = false;
            for notification in conn.notifications_iter() {
                let notification = notification?;
                any = true;
                if let Some(items) = parse(&self.instance, &notification.payload) {
                    state.metrics.cluster_notifications.inc();
                    for stale in items {
                        state.forget(stale);
                    }
                }
            }
            drop(state);
            if any {
                idle = Duration::ZERO;
                continue;
            }
            std::thread::sleep(POLL);
            idle += POLL;
            // A dropped connection is only noticed by using it: check
            // every few seconds of silence.
            if idle >= Duration::from_secs(5) {
                idle = Duration::ZERO;
                diesel::sql_query("SELECT 1").execute(conn)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_skip_own() {
        let batch: BTreeSet<Stale> = [Stale::Content, Stale::Article(42), Stale::Account(7)]
            .into_iter()
            .collect();
        let sent = payloads("me", &batch);
        assert_eq!(sent, vec!["me c a42 u7".to_string()]);
        assert_eq!(parse("me", &sent[0]), None);
        assert_eq!(
            parse("other", &sent[0]),
            Some(vec![Stale::Content, Stale::Article(42), Stale::Account(7)])
        );
        assert_eq!(parse("other", "x bogus a u12x"), Some(vec![]));
    }

    #[test]
    fn long_batches_are_split_and_all_wins() {
        let batch: BTreeSet<Stale> = (0..2000).map(Stale::Article).collect();
        let sent = payloads("me", &batch);
        assert!(sent.len() > 1);
        assert!(sent.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: usize = sent
            .iter()
            .map(|p| parse("x", p).map_or(0, |v| v.len()))
            .sum();
        assert_eq!(back, 2000);
        let mut all = batch;
        all.insert(Stale::All);
        assert_eq!(payloads("me", &all), vec!["me *".to_string()]);
    }
}
