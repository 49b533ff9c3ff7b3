//! The delivery worker: turns the event log into deliveries (the fan-out)
//! and makes due attempts, signed per Standard Webhooks.
//!
//! Every step is a short transaction that several instances can run at
//! once: a webhook's fan-out and a delivery's attempt are claimed with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer), and an
//! attempt carries a lease, so no attempt is made twice. A 2xx ends a
//! delivery; anything else (another status, no connection, a refused
//! address, a timeout) schedules the next attempt: the first after
//! `NEWSDESK_WEBHOOK_RETRY_BASE_MS`, each next about 4x later (±10 %
//! jitter), at most 6 h apart, until `NEWSDESK_WEBHOOK_RETRY_FOR` (24 h)
//! has passed since the delivery was made; then it is `failed`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web;
use chrono::{NaiveDateTime, SubsecRound};

use super::queries::{self, Claimed, Outcome};
use super::{sign, target};
use crate::config::WebhookConfig;
use crate::state::AppState;

/// Longest sleep between two looks for work.
pub const POLL: Duration = Duration::from_millis(500);
/// Attempts one instance makes at once.
const BATCH: i64 = 16;
/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// The user agent receivers see.
const USER_AGENT: &str = concat!("newsdesk-webhooks/", env!("CARGO_PKG_VERSION"));

/// Now, at the precision the database keeps.
fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// The wait before the attempt after `attempt` (1-based).
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let raw = base.as_secs_f64() * 4f64.powi(exp);
    let jitter: f64 = rand::random_range(0.9..1.1);
    Duration::from_secs_f64((raw * jitter).min(MAX_BACKOFF.as_secs_f64()))
}

/// Attempts being made by this instance: (delivery id, attempt).
type InFlight = Arc<Mutex<HashMap<i64, i32>>>;

/// The running worker.
pub struct Worker {
    task: actix_web::rt::task::JoinHandle<()>,
    in_flight: InFlight,
    state: web::Data<AppState>,
}

impl Worker {
    pub fn spawn(state: web::Data<AppState>) -> Self {
        let in_flight = InFlight::default();
        let task = actix_web::rt::spawn(run(state.clone(), in_flight.clone()));
        Self {
            task,
            in_flight,
            state,
        }
    }

    /// Stops at once; attempts in flight are handed back (due now), so the
    /// next start or another instance makes them without waiting for their
    /// leases to run out.
    pub fn stop(self) {
        self.task.abort();
        let held: Vec<(i64, i32)> = self
            .in_flight
            .lock()
            .map(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        if held.is_empty() {
            return;
        }
        let released = self
            .state
            .db
            .write_blocking(|conn| Ok(queries::release(conn, &held, now())?));
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not hand back webhook attempts in flight");
        }
    }
}

/// The HTTP client: rustls with the webpki roots, a timeout on everything,
/// no redirects (a 3xx is a failed attempt, as Standard Webhooks wants).
fn client(timeout: Duration) -> awc::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    let mut connector = awc::Connector::new()
        .timeout(timeout)
        .handshake_timeout(timeout);
    match tls {
        Ok(mut config) => {
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            connector = connector.rustls_0_23(Arc::new(config));
        }
        Err(e) => tracing::error!(error = %e, "webhooks: no TLS; https targets will fail"),
    }
    awc::Client::builder()
        .connector(connector)
        .timeout(timeout)
        .disable_redirects()
        .add_default_header(("user-agent", USER_AGENT))
        .finish()
}

async fn run(state: web::Data<AppState>, in_flight: InFlight) {
    let config = state.config.webhooks.clone();
    let client = client(config.timeout);
    let mut writes = state.writes.subscribe();
    let coalesce = chrono::Duration::from_std(config.coalesce).unwrap_or_default();
    loop {
        let mut busy = false;
        // Wakes by local writes come here within the debounce, so their
        // events (and those another instance left behind) get their place
        // in the log before the fan-out reads it.
        if let Err(e) = crate::events::sequence(&state.db).await {
            tracing::warn!(error = %e, "webhooks: could not sequence the event log");
        }
        match state
            .db
            .read(|conn| Ok(queries::fan_out_needed(conn)?))
            .await
        {
            Ok(true) => match state
                .db
                .write(move |conn| Ok(queries::fan_out(conn, now(), coalesce)?))
                .await
            {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "webhooks: could not read the event log"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "webhooks: could not read the event log"),
        }
        let lease =
            chrono::Duration::from_std(config.timeout + Duration::from_secs(5)).unwrap_or_default();
        let claimed = state
            .db
            .write(move |conn| {
                let now = now();
                Ok(queries::claim(conn, now, now + lease, BATCH)?)
            })
            .await;
        match claimed {
            Ok(claimed) if !claimed.is_empty() => {
                busy = true;
                if let Ok(mut m) = in_flight.lock() {
                    for c in &claimed {
                        m.insert(c.delivery.id, c.delivery.attempt);
                    }
                }
                let sends = claimed
                    .into_iter()
                    .map(|c| deliver(&state, &client, &config, &in_flight, c));
                futures_util::future::join_all(sends).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhooks: could not claim deliveries"),
        }
        if busy {
            continue;
        }
        let mut wait = POLL;
        if let Ok(Some(at)) = state.db.read(|conn| Ok(queries::next_due(conn)?)).await {
            let left = (at - now()).to_std().unwrap_or_default();
            wait = wait.min(left).max(Duration::from_millis(10));
        }
        tokio::select! {
            _ = actix_web::rt::time::sleep(wait) => {}
            changed = writes.changed() => {
                if changed.is_err() {
                    actix_web::rt::time::sleep(wait).await;
                }
                // A burst of writes (a busy newsroom, a comment flood) is
                // one pass, not one per write: the database sees at most
                // a few passes a second from here.
                actix_web::rt::time::sleep(DEBOUNCE).await;
            }
        }
    }
}

/// How long a wake by a write waits for the writes that follow it.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Makes one claimed attempt and records its outcome.
async fn deliver(
    state: &web::Data<AppState>,
    client: &awc::Client,
    config: &WebhookConfig,
    in_flight: &InFlight,
    c: Claimed,
) {
    let started = Instant::now();
    let (response_status, error) = attempt(client, config, &c).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let finished = now();
    let ok = response_status.is_some_and(|s| (200..300).contains(&s));
    let outcome = if ok {
        Outcome {
            status: "succeeded",
            response_status,
            duration_ms,
            error: None,
            next_attempt_at: None,
        }
    } else {
        let given_up = (finished - c.delivery.created_at)
            .to_std()
            .is_ok_and(|age| age >= config.retry_for);
        let next = chrono::Duration::from_std(backoff(config.retry_base, c.delivery.attempt))
            .unwrap_or_default();
        Outcome {
            status: if given_up { "failed" } else { "pending" },
            response_status,
            duration_ms,
            error,
            next_attempt_at: (!given_up).then(|| finished + next),
        }
    };
    let (id, attempt_no) = (c.delivery.id, c.delivery.attempt);
    let recorded = state
        .db
        .write(move |conn| Ok(queries::record(conn, id, attempt_no, &outcome, finished)?))
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, delivery = id, "webhooks: could not record an attempt");
    }
    if let Ok(mut m) = in_flight.lock() {
        m.remove(&id);
    }
}

/// The request body: `{id, type, created_at, data, purge_keys}`.
pub fn body(c: &Claimed) -> Vec<u8> {
    let (created_at, data) = match &c.event {
        Some(e) => (
            crate::time::to_api(e.created_at),
            serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
        ),
        None => (
            crate::time::to_api(c.delivery.created_at),
            serde_json::Value::Null,
        ),
    };
    let purge_keys: Vec<String> = serde_json::from_str(&c.delivery.purge_keys).unwrap_or_default();
    serde_json::to_vec(&serde_json::json!({
        "id": c.delivery.event_id,
        "type": c.delivery.event_type,
        "created_at": created_at,
        "data": data,
        "purge_keys": purge_keys,
    }))
    .unwrap_or_default()
}

/// Sends one attempt: the receiver's status, or why there was none.
async fn attempt(
    client: &awc::Client,
    config: &WebhookConfig,
    c: &Claimed,
) -> (Option<i32>, Option<String>) {
    let target = match target::parse(&c.url) {
        Ok(t) => t,
        Err(e) => return (None, Some(format!("the url {e}"))),
    };
    let addrs = match target::addresses(&target, config.allow_private, config.timeout).await {
        Ok(a) => a,
        Err(refusal) => return (None, Some(refusal.to_string())),
    };
    let id = format!("evt_{}", c.delivery.event_id);
    let timestamp = chrono::Utc::now().timestamp();
    let body = body(c);
    let signature = sign::signature(&c.secret, &id, timestamp, &body);
    let mut last_error = None;
    // Each resolved address in turn, until one connects.
    for addr in addrs.into_iter().take(4) {
        let sent = client
            .post(target.url.as_str())
            .address(addr)
            .insert_header(("content-type", "application/json"))
            .insert_header(("webhook-id", id.as_str()))
            .insert_header(("webhook-timestamp", timestamp.to_string()))
            .insert_header(("webhook-signature", signature.as_str()))
            .send_body(body.clone())
            .await;
        match sent {
            Ok(res) => return (Some(i32::from(res.status().as_u16())), None),
            Err(awc::error::SendRequestError::Connect(e)) => {
                last_error = Some(format!("could not connect: {e}"));
            }
            Err(e) => return (None, Some(e.to_string())),
        }
    }
    (None, last_error)
}
