//! HTTP caching for every response: a strong `ETag` on successful `GET`s
//! (kept when the handler set its own, e.g. an article's `"a42-v3"`),
//! `304 Not Modified` for a matching `If-None-Match`, and the default
//! `Cache-Control`: `private, no-store` when the request was signed in,
//! `public, max-age=N` for anonymous reads, `private, max-age=N` for reads
//! with a content API key (the same content, but a shared cache must not
//! answer a key's requests: a revoked key would keep reading there).
//! Cache tags (`Surrogate-Key`, `Cache-Tag`) stay on shareable answers
//! only: a `no-store` answer drops them.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};

use super::surrogate::{CACHE_TAG, SURROGATE_KEY};
use crate::integrations::ContentKey;

/// The `Cache-Control` values for anonymous reads (`public`) and for reads
/// with a content API key (`private`: a shared cache must not answer a
/// revoked key), kept in app data. Their max-age never runs past the next
/// scheduled publication, when lists, counts and pages change with no write.
#[derive(Debug, Clone)]
pub struct PublicCacheControl {
    max_age: u32,
    public: HeaderValue,
    private: HeaderValue,
    next_publish: Option<std::sync::Arc<crate::events::scheduler::NextPublish>>,
}

impl PublicCacheControl {
    pub fn new(max_age: u32) -> Self {
        Self {
            max_age,
            public: Self::header("public", max_age),
            private: Self::header("private", max_age),
            next_publish: None,
        }
    }

    /// Caps max-age by the time left until `next` goes live.
    pub fn until_next_publish(
        mut self,
        next: std::sync::Arc<crate::events::scheduler::NextPublish>,
    ) -> Self {
        self.next_publish = Some(next);
        self
    }

    fn header(scope: &str, max_age: u32) -> HeaderValue {
        let value = format!("{scope}, max-age={max_age}");
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("no-cache"))
    }

    /// The value for a response made now (`shared`: `public`, else `private`).
    pub fn value(&self, shared: bool) -> HeaderValue {
        let left = self.next_publish.as_ref().and_then(|n| n.seconds_left());
        match left {
            Some(left) if left < u64::from(self.max_age) => Self::header(
                if shared { "public" } else { "private" },
                u32::try_from(left).unwrap_or(0),
            ),
            _ if shared => self.public.clone(),
            _ => self.private.clone(),
        }
    }
}

/// The strong validator for a body: a 128-bit hash, quoted.
pub fn etag_for(body: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(body))
}

/// Whether `If-None-Match` names this entity tag (weak comparison, RFC 9110).
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = strip(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || strip(t) == ours
            })
        })
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    let with_key = req.extensions().contains::<ContentKey>();
    let authenticated = req.headers().contains_key(header::AUTHORIZATION) && !with_key;
    let public = req
        .app_data::<web::Data<PublicCacheControl>>()
        .map(|c| c.value(!with_key));
    let request_headers = req.headers().clone();

    let mut res = next.call(req).await?;
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if authenticated {
            Some(HeaderValue::from_static("private, no-store"))
        } else if is_read && res.status().is_success() {
            public
        } else {
            None
        };
        if let Some(value) = value {
            res.headers_mut().insert(header::CACHE_CONTROL, value);
        }
    }
    if !authenticated && is_read && res.status().is_success() {
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static("Authorization"));
    }
    let no_store = res
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().windows(8).any(|w| w == b"no-store"));
    if no_store || !res.status().is_success() {
        res.headers_mut().remove(SURROGATE_KEY);
        res.headers_mut().remove(CACHE_TAG);
    }
    if !is_read || res.status() != StatusCode::OK {
        return Ok(res.map_into_boxed_body());
    }

    let handler_etag = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(tag) = handler_etag {
        // The handler chose the validator; the body need not be read.
        if none_match(&request_headers, &tag) {
            let (http_req, response) = res.into_parts();
            return Ok(ServiceResponse::new(
                http_req,
                not_modified(response.headers(), &tag),
            ));
        }
        return Ok(res.map_into_boxed_body());
    }

    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let etag = etag_for(&bytes);
    if none_match(&request_headers, &etag) {
        return Ok(ServiceResponse::new(
            http_req,
            not_modified(head.headers(), &etag),
        ));
    }
    let mut response = head.set_body(BoxBody::new(bytes));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(ServiceResponse::new(http_req, response))
}

/// A 304 carrying the validator and the caching headers of the full answer.
fn not_modified(headers: &HeaderMap, etag: &str) -> HttpResponse {
    let mut res = HttpResponse::NotModified().finish();
    for name in [
        header::CACHE_CONTROL,
        header::VARY,
        header::LINK,
        SURROGATE_KEY,
        CACHE_TAG,
    ] {
        for value in headers.get_all(&name) {
            res.headers_mut().append(name.clone(), value.clone());
        }
    }
    if let Ok(value) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    res
}
