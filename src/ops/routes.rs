//! `/healthz` (the process runs) and `/readyz` (the database answers).

use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::RunQueryDsl;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// A load balancer's probe must get an answer quickly either way.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness
///
/// 200 while the process runs.
#[utoipa::path(
    operation_id = "getHealth",
    tag = "operations",
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health { status: "ok" })
}

/// Readiness
///
/// 200 when the database answers, else 503; either way within a second.
#[utoipa::path(
    operation_id = "getReadiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let probe = web::block(move || {
        let mut conn = db
            .pool()
            .get_timeout(READY_WITHIN.mul_f32(0.8))
            .map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .map_err(|e| e.to_string())
    });
    // Also bounds a wait for a blocking thread or a database that hangs.
    let probe = match tokio::time::timeout(READY_WITHIN, probe).await {
        Ok(done) => done.map_err(ApiError::internal)?,
        Err(_) => Err("no answer within a second".to_string()),
    };
    match probe {
        Ok(_) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(Health { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable("the database does not answer".into()))
        }
    }
}

/// Prometheus metrics
///
/// Requests by route and status, latency histogram, view buffer size,
/// flush durations and database pool use, in the Prometheus text format.
/// Served on its own listener (`NEWSDESK_METRICS_BIND`); here only with
/// `Authorization: Bearer $NEWSDESK_METRICS_TOKEN` when that is set, else 404.
#[utoipa::path(
    operation_id = "getMetrics",
    tag = "operations",
    // Optional: without the configured token the answer is a 404, so that
    // the API port does not tell whether metrics exist there.
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 404, description = "No metrics token is configured, or another token was sent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let sent = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.config.metrics_token, sent) {
        // Digests compare in constant time with respect to the secret.
        (Some(token), Some(sent))
            if Sha256::digest(token.as_bytes()) == Sha256::digest(sent.trim().as_bytes()) =>
        {
            Ok(render_metrics(&state))
        }
        _ => Err(ApiError::not_found(format!("no route for {}", req.path()))),
    }
}

/// `/metrics` on the metrics listener: no token (bind it privately).
pub async fn private_metrics(state: web::Data<AppState>) -> HttpResponse {
    render_metrics(&state)
}

fn render_metrics(state: &AppState) -> HttpResponse {
    let pool = state.db.pool().state();
    state
        .metrics
        .pool_connections
        .set(i64::from(pool.connections));
    state
        .metrics
        .pool_idle
        .set(i64::from(pool.idle_connections));
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
