//! An in-process cache of anonymous `GET` responses under `/api/v1`.
//!
//! Anonymous reads are the bulk of a news site's traffic and identical for
//! every reader, so a hit answers from memory: no database, no JSON, no
//! hashing. Correctness rules:
//! - only anonymous requests (no `Authorization`) and requests with a
//!   content API key that may read (validated before this layer) are
//!   served, each kind from its own entries (their `Cache-Control`
//!   differs), the key itself left out of the cache key; `200` answers
//!   are kept, with their cache tags;
//! - a `preview` parameter always passes through (a preview is private);
//! - every successful write through this instance (any non-GET 2xx except
//!   the view beacon, whose counters may lag by design) empties the cache;
//! - an answer computed while a write happened is never stored: every
//!   clear bumps a generation counter, and a miss stores its answer only if
//!   the generation is still the one it started under;
//! - writes through other instances on the same PostgreSQL empty it too,
//!   as soon as their announcement arrives (`cluster`);
//! - entries live at most `NEWSDESK_READ_CACHE_MS` (default 1000 ms), which
//!   bounds staleness from view counters, scheduled articles going live, and
//!   other instances' writes while their announcements cannot arrive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse, web};

use super::caching::none_match;
use super::writes::Writes;
use crate::integrations::{ContentKey, Scope};

/// Headers worth replaying from a cached answer.
const KEPT: [HeaderName; 8] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::CACHE_CONTROL,
    header::LINK,
    header::VARY,
    HeaderName::from_static("x-total-count"),
    super::surrogate::SURROGATE_KEY,
    super::surrogate::CACHE_TAG,
];

/// A complete answer: what a hit replays. Non-200 answers are built the
/// same way so that requests which waited on a failed miss get its answer.
struct Entry {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

type Waiters = Vec<tokio::sync::oneshot::Sender<Arc<Entry>>>;

pub struct ReadCache {
    /// Moved on by every `clear` (every write, with or without the
    /// cache): an answer computed under an older generation may predate a
    /// write and is not stored.
    writes: Arc<Writes>,
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
    /// Keys being computed now, with the requests waiting for the answer.
    in_flight: Mutex<HashMap<String, Waiters>>,
}

impl ReadCache {
    /// `ttl` of zero disables the cache (writes still move `writes` on).
    pub fn new(ttl: Duration, max_bytes: u64, writes: Arc<Writes>) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(max_bytes)
                .weigher(|k: &String, v: &Arc<Entry>| {
                    (k.len() + v.body.len() + 256)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .build()
        });
        Self {
            writes,
            entries,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets everything: called after every write.
    pub fn clear(&self) {
        // First the generation, then the entries: a miss that stores after
        // this point sees the new generation and takes its entry back.
        self.writes.bump();
        if let Some(c) = &self.entries {
            c.invalidate_all();
        }
    }

    fn generation(&self) -> u64 {
        self.writes.current()
    }
}

/// How a read may use the cache: `None` (not at all), or with the prefix of
/// its entries' keys.
fn cacheable_request(req: &ServiceRequest) -> Option<&'static str> {
    if req.method() != Method::GET
        || !req.path().starts_with("/api/v1/")
        || req.query_string().contains("preview=")
    {
        return None;
    }
    match req.extensions().get::<ContentKey>() {
        // Without `read` the extractor refuses it: never from the cache.
        Some(key) if key.scopes.contains(Scope::Read) => Some("k "),
        Some(_) => None,
        None if req.headers().contains_key(header::AUTHORIZATION) => None,
        None => Some(""),
    }
}

/// The cache key: the path and query, without a `key` parameter.
fn cache_key(prefix: &str, req: &ServiceRequest) -> String {
    let query = req.query_string();
    if prefix.is_empty() || !query.contains("key=") {
        return format!("{prefix}{}?{query}", req.path());
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with("key=") && *pair != "key")
        .collect();
    format!("{prefix}{}?{}", req.path(), kept.join("&"))
}

fn is_counter_write(req: &ServiceRequest) -> bool {
    req.method() == Method::POST && req.path().ends_with("/views")
}

fn replay(entry: &Entry, request_headers: &HeaderMap) -> HttpResponse {
    let etag = entry
        .headers
        .iter()
        .find(|(n, _)| n == header::ETAG)
        .and_then(|(_, v)| v.to_str().ok());
    let not_modified =
        entry.status == StatusCode::OK && etag.is_some_and(|t| none_match(request_headers, t));
    let mut res = if not_modified {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::build(entry.status).body(entry.body.clone())
    };
    for (name, value) in &entry.headers {
        if not_modified && (name == header::CONTENT_TYPE || name == "x-total-count") {
            continue;
        }
        res.headers_mut().append(name.clone(), value.clone());
    }
    res
}

/// Reads an inner answer completely.
async fn capture(res: ServiceResponse<impl MessageBody>) -> Result<Entry, Error> {
    let status = res.status();
    let (_, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let body = to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let headers: Vec<(HeaderName, HeaderValue)> = if status == StatusCode::OK {
        KEPT.iter()
            .flat_map(|name| {
                head.headers()
                    .get_all(name)
                    .map(move |v| (name.clone(), v.clone()))
            })
            .collect()
    } else {
        head.headers()
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    };
    Ok(Entry {
        status,
        headers,
        body,
    })
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(cache) = req.app_data::<web::Data<ReadCache>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let kind = cacheable_request(&req);
    let entries = match (cache.entries.clone(), kind) {
        (Some(entries), Some(_)) => entries,
        _ => {
            let write = req.method() != Method::GET
                && req.method() != Method::HEAD
                && !is_counter_write(&req);
            let res = next.call(req).await?;
            if write && res.status().is_success() {
                match res
                    .request()
                    .app_data::<web::Data<crate::state::AppState>>()
                {
                    Some(state) => state.stale(crate::cluster::Stale::Content),
                    None => cache.clear(),
                }
            }
            return Ok(res.map_into_boxed_body());
        }
    };

    let key = cache_key(kind.unwrap_or_default(), &req);
    if let Some(entry) = entries.get(&key) {
        let (http_req, _) = req.into_parts();
        let res = replay(&entry, http_req.headers());
        return Ok(ServiceResponse::new(http_req, res));
    }

    // Concurrent misses for one key share one computation: under load a slow
    // query runs once per cache lifetime instead of once per request. Only
    // misses of one generation share: a request arriving after a write must
    // not be handed an answer computed before it.
    let started = cache.generation();
    let flight = format!("{started} {key}");
    let waiting = {
        let mut in_flight = cache.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        match in_flight.get_mut(&flight) {
            Some(waiters) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                waiters.push(tx);
                Some(rx)
            }
            None => {
                in_flight.insert(flight.clone(), Vec::new());
                None
            }
        }
    };
    if let Some(rx) = waiting {
        // If the leader went away (its client hung up), compute alone.
        if let Ok(entry) = rx.await {
            let (http_req, _) = req.into_parts();
            let res = replay(&entry, http_req.headers());
            return Ok(ServiceResponse::new(http_req, res));
        }
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }

    // The leader. Its inner layers answer unconditionally (the validator is
    // checked on replay), so the shared answer suits every waiting request.
    let leader = Leader {
        cache: cache.clone(),
        key: flight,
    };
    let request_headers = req.headers().clone();
    let mut req = req;
    req.headers_mut().remove(header::IF_NONE_MATCH);
    let (http_req, entry) = match next.call(req).await {
        Ok(res) => {
            let http_req = res.request().clone();
            (
                http_req,
                capture(res).await.unwrap_or_else(|e| error_entry(&e)),
            )
        }
        Err(e) => return Err(e),
    };
    let entry = Arc::new(entry);
    if entry.status == StatusCode::OK && cache.generation() == started {
        entries.insert(key.clone(), entry.clone());
        // A write that cleared between the check and the insert: its clear
        // may have run before the insert, so undo the insert.
        if cache.generation() != started {
            entries.invalidate(&key);
        }
    }
    leader.finish(&entry);
    let res = replay(&entry, &request_headers);
    Ok(ServiceResponse::new(http_req, res))
}

/// Hands the leader's answer to the waiting requests; if the leader is
/// dropped without one, the waiters are released to compute alone.
struct Leader {
    cache: web::Data<ReadCache>,
    /// The in-flight key (generation and cache key).
    key: String,
}

impl Leader {
    fn finish(self, entry: &Arc<Entry>) {
        for tx in self.take() {
            let _ = tx.send(entry.clone());
        }
    }

    fn take(&self) -> Waiters {
        let mut in_flight = self
            .cache
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        in_flight.remove(&self.key).unwrap_or_default()
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        // After `finish` the key is gone and this is a no-op; otherwise the
        // senders drop here and each waiter computes its own answer.
        drop(self.take());
    }
}

fn error_entry(e: &Error) -> Entry {
    let res = e.error_response();
    let status = res.status();
    let headers = res
        .headers()
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let body = match res.into_body().try_into_bytes() {
        Ok(b) => b,
        Err(_) => Bytes::new(),
    };
    Entry {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use actix_web::middleware::from_fn;
    use actix_web::{App, test};
    use tokio::sync::Notify;

    use super::*;

    /// What the fake resource holds, and a gate that holds its first read.
    struct Resource {
        value: AtomicU64,
        gate: Notify,
    }

    async fn read(r: web::Data<Resource>) -> HttpResponse {
        let value = r.value.load(Ordering::SeqCst);
        if value == 1 {
            // A slow read of the old state: still running when the write ends.
            r.gate.notified().await;
        }
        HttpResponse::Ok().body(value.to_string())
    }

    async fn write(r: web::Data<Resource>) -> HttpResponse {
        r.value.store(2, Ordering::SeqCst);
        HttpResponse::NoContent().finish()
    }

    /// The race of the read cache, made deterministic: a miss that read the
    /// old state before a write must neither be stored after the write nor
    /// be handed to a request that arrived after it.
    #[actix_web::test]
    async fn an_answer_computed_before_a_write_never_outlives_it() {
        let resource = web::Data::new(Resource {
            value: AtomicU64::new(1),
            gate: Notify::new(),
        });
        let cache = web::Data::new(ReadCache::new(
            Duration::from_secs(60),
            1 << 20,
            Arc::default(),
        ));
        let app = test::init_service(
            App::new()
                .app_data(resource.clone())
                .app_data(cache)
                .route("/api/v1/thing", web::get().to(read))
                .route("/api/v1/thing", web::post().to(write))
                .wrap(from_fn(middleware)),
        )
        .await;
        let get = || test::TestRequest::get().uri("/api/v1/thing").to_request();
        let body = |res: ServiceResponse| async move {
            String::from_utf8(test::read_body(res).await.to_vec()).unwrap_or_default()
        };

        // `join` polls the slow read first: it reads "1" and waits at the gate.
        let slow = test::call_service(&app, get());
        let after_write = async {
            let res = test::call_service(
                &app,
                test::TestRequest::post().uri("/api/v1/thing").to_request(),
            )
            .await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            // Open the gate, then read at once (before the slow read resumes).
            resource.gate.notify_one();
            body(test::call_service(&app, get()).await).await
        };
        let (slow, fresh) = futures_util::future::join(slow, after_write).await;
        assert_eq!(
            body(slow).await,
            "1",
            "the slow read began before the write"
        );
        assert_eq!(
            fresh, "2",
            "a read after the write joined a read from before it"
        );
        // And the old answer was not stored for later readers either.
        assert_eq!(body(test::call_service(&app, get()).await).await, "2");
    }
}
