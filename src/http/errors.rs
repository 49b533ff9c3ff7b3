//! actix-web's own errors (path, query, payload) rewritten as the
//! same problem+json every handler answers with, plus the fallback service
//! that tells an unknown route (404) from a wrong method (405) and answers
//! `OPTIONS`, and `HEAD` served as `GET`.

use actix_router::ResourceDef;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::ApiError;

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        ApiError::bad_request(format!("invalid path parameter: {err}")).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::bad_request(format!("invalid query string: {err}")).into()
    })
}

pub fn payload_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::default().limit(limit)
}

/// Every route pattern with its methods, to answer 405 with `Allow`.
#[derive(Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &doc.paths.paths {
            let mut methods = Vec::new();
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                if op.is_some() {
                    methods.push(method);
                }
            }
            routes.push((ResourceDef::new(path.as_str()), methods));
        }
        Self { routes }
    }

    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = Vec::new();
        for (def, methods) in &self.routes {
            if def.is_match(path) {
                allowed.extend(methods.iter().map(|m| m.to_string()));
            }
        }
        if allowed.is_empty() {
            return None;
        }
        if allowed.iter().any(|m| m == "GET") {
            allowed.push("HEAD".into());
        }
        allowed.push("OPTIONS".into());
        allowed.sort();
        allowed.dedup();
        Some(allowed)
    }
}

/// The default service: for a known path, `OPTIONS` lists its methods and
/// any other method is a 405; an unknown path is a 404.
pub async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> HttpResponse {
    match table.allowed(req.path()) {
        Some(allowed) if req.method() == Method::OPTIONS => HttpResponse::NoContent()
            .insert_header((header::ALLOW, allowed.join(", ")))
            .finish(),
        Some(allowed) => ApiError::MethodNotAllowed(allowed).error_response(),
        None => ApiError::not_found(format!("no route for {}", req.path())).error_response(),
    }
}

/// Answers `HEAD` as `GET` (RFC 9110: every GET resource supports HEAD, and
/// `Allow` says so). The HTTP layer remembers the request was a HEAD and
/// sends the headers without the body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
