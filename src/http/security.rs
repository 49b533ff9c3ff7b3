//! Protective headers on every response and caps on the request head.
//!
//! - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`
//!   everywhere; `Content-Security-Policy: frame-ancestors 'none'` on API
//!   answers and a policy that lets the embedded Swagger UI run on `/docs`.
//! - A query string longer than `MAX_QUERY_BYTES` is a 414, request headers
//!   over `MAX_HEADER_BYTES` in total a 431, before any handler parses them
//!   (actix itself only stops at 128 KiB).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::error::ApiError;

/// The longest accepted query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) a request may carry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

const API_CSP: &str = "frame-ancestors 'none'";
/// Swagger UI's page loads its own scripts and styles (some inline) and
/// fetches the document from this origin; nothing else.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn refuse(req: &ServiceRequest) -> Option<ApiError> {
    if req.query_string().len() > MAX_QUERY_BYTES {
        return Some(ApiError::UriTooLong(format!(
            "the query string exceeds {MAX_QUERY_BYTES} bytes"
        )));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(ApiError::HeadersTooLarge(format!(
            "the request headers exceed {MAX_HEADER_BYTES} bytes"
        )));
    }
    None
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    let mut res = match refuse(&req) {
        Some(e) => {
            let (http_req, _) = req.into_parts();
            ServiceResponse::new(http_req, e.error_response()).map_into_right_body()
        }
        None => next.call(req).await?.map_into_left_body(),
    };
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if docs { DOCS_CSP } else { API_CSP }),
    );
    Ok(res)
}
