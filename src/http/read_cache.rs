//! An in-process cache of anonymous `GET` responses under `/api/v1`.
//!
//! Anonymous reads are the bulk of a news site's traffic and identical for
//! every reader, so a hit answers from memory: no database, no JSON, no
//! hashing. Correctness rules:
//! - only anonymous requests (no `Authorization`) and `200` answers are kept;
//! - every successful write through this instance (any non-GET 2xx except
//!   the view beacon, whose counters may lag by design) empties the cache;
//! - entries live at most `NEWSDESK_READ_CACHE_MS` (default 1000 ms), which
//!   bounds staleness from writes on other instances, view counters, and
//!   scheduled articles going live.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse, web};

use super::caching::none_match;

/// Headers worth replaying from a cached answer.
const KEPT: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::CACHE_CONTROL,
    header::LINK,
    header::VARY,
    HeaderName::from_static("x-total-count"),
];

struct Entry {
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

pub struct ReadCache {
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
}

impl ReadCache {
    /// `ttl` of zero disables the cache.
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
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
        Self { entries }
    }

    /// Forgets everything: called after every write.
    pub fn clear(&self) {
        if let Some(c) = &self.entries {
            c.invalidate_all();
        }
    }
}

fn cacheable_request(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && req.path().starts_with("/api/v1/")
        && !req.headers().contains_key(header::AUTHORIZATION)
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
    let not_modified = etag.is_some_and(|t| none_match(request_headers, t));
    let mut res = if not_modified {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok().body(entry.body.clone())
    };
    for (name, value) in &entry.headers {
        if not_modified && (name == header::CONTENT_TYPE || name == "x-total-count") {
            continue;
        }
        res.headers_mut().append(name.clone(), value.clone());
    }
    res
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
    let Some(entries) = cache.entries.as_ref() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };

    if !cacheable_request(&req) {
        let write =
            req.method() != Method::GET && req.method() != Method::HEAD && !is_counter_write(&req);
        let res = next.call(req).await?;
        if write && res.status().is_success() {
            cache.clear();
        }
        return Ok(res.map_into_boxed_body());
    }

    let key = format!("{}?{}", req.path(), req.query_string());
    if let Some(entry) = entries.get(&key) {
        let (http_req, _) = req.into_parts();
        let res = replay(&entry, http_req.headers());
        return Ok(ServiceResponse::new(http_req, res));
    }

    let res = next.call(req).await?;
    // A 304 from the inner layer says nothing about the body: not cached.
    if res.status() != StatusCode::OK {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let body = to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let headers: Vec<(HeaderName, HeaderValue)> = KEPT
        .iter()
        .flat_map(|name| {
            head.headers()
                .get_all(name)
                .map(move |v| (name.clone(), v.clone()))
        })
        .collect();
    let entry = Arc::new(Entry { headers, body });
    entries.insert(key, entry.clone());
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(BoxBody::new(entry.body.clone())),
    ))
}
