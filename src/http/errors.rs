//! actix-web's own errors (path, query, payload) rewritten as the
//! same problem+json every handler answers with, plus the fallback service
//! that tells an unknown route (404) from a wrong method (405) and answers
//! `OPTIONS`, `HEAD` served as `GET`, and the outermost middleware that
//! turns any other error response (e.g. actix-cors rejecting a preflight)
//! into problem+json.

use actix_router::ResourceDef;
use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::{ApiError, PROBLEM_JSON};

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, req| {
        // `PATCH /articles/popular` reaches `PATCH /articles/{id}` and fails
        // there; the more specific route says the method is not allowed.
        if let Some(table) = req.app_data::<web::Data<RouteTable>>()
            && let Some(allowed) = table.allowed(req.path())
            && !allowed.iter().any(|m| m == req.method().as_str())
        {
            return ApiError::MethodNotAllowed(allowed).into();
        }
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
    /// Pattern, its number of literal segments, its methods.
    routes: Vec<(ResourceDef, usize, Vec<Method>)>,
}

fn literal_segments(pattern: &str) -> usize {
    pattern
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .count()
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
            routes.push((
                ResourceDef::new(path.as_str()),
                literal_segments(path),
                methods,
            ));
        }
        Self { routes }
    }

    /// Adds a GET route that is not in the API document (the document
    /// itself, the docs UI).
    pub fn with_get(mut self, pattern: &str) -> Self {
        self.routes.push((
            ResourceDef::new(pattern),
            literal_segments(pattern),
            vec![Method::GET],
        ));
        self
    }

    /// The methods of the most specific patterns matching `path` (those
    /// with the most literal segments: `/articles/popular` rather than
    /// `/articles/{id}`), `None` for an unknown path.
    fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let matching: Vec<_> = self
            .routes
            .iter()
            .filter(|(def, _, _)| def.is_match(path))
            .collect();
        let best = matching.iter().map(|(_, n, _)| *n).max()?;
        let mut allowed: Vec<String> = Vec::new();
        for (_, _, methods) in matching.iter().filter(|(_, n, _)| *n == best) {
            allowed.extend(methods.iter().map(|m| m.to_string()));
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

/// The outermost middleware: an error response that did not come from
/// `ApiError` (e.g. actix-cors rejecting a preflight) becomes a problem
/// with the same status and headers. A client error keeps its short text
/// as the detail; a server error never does.
pub async fn problem_for_every_error(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(res);
    }
    let (http_req, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    let text = to_bytes(body).await.ok().and_then(|b| {
        let t = String::from_utf8(b.to_vec()).ok()?;
        let t = t.trim();
        (!t.is_empty() && t.len() <= 200).then(|| t.to_string())
    });
    let detail = match text {
        Some(t) if status.is_client_error() => t,
        _ => status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase(),
    };
    let problem = problem_for(status, detail);
    let headers = head.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(BoxBody::new(body)),
    ))
}

fn problem_for(status: StatusCode, detail: String) -> crate::error::Problem {
    let err = match status {
        StatusCode::BAD_REQUEST => ApiError::BadRequest(detail),
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(detail),
        StatusCode::FORBIDDEN => ApiError::Forbidden(detail),
        StatusCode::NOT_FOUND => ApiError::NotFound(detail),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(Vec::new()),
        StatusCode::CONFLICT => ApiError::Conflict(detail),
        StatusCode::PRECONDITION_FAILED => ApiError::PreconditionFailed(detail),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(detail),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(detail),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable(detail),
        s if s.is_server_error() => ApiError::internal(anyhow::anyhow!("{s}")),
        _ => {
            let mut problem = ApiError::BadRequest(detail).problem();
            problem.status = status.as_u16();
            problem.title = status.canonical_reason().unwrap_or("Error").into();
            return problem;
        }
    };
    let mut problem = err.problem();
    // Internal errors keep their generic text; the real status wins.
    problem.status = status.as_u16();
    problem
}
