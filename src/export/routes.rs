//! `GET /api/v1/export` (admins): the export, streamed as it is written.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use diesel::dsl::{count_star, max, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{AuthUser, Role};
use crate::db::DbConnection;
use crate::db::schema::{
    article_daily_stats, article_revisions, articles, comments, redirects, tags, users,
};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(export_site);
}

/// Bytes handed to the response per chunk.
const CHUNK: usize = 64 * 1024;

/// A `Write` that sends full chunks to the response; fails when the client
/// went away, which stops the export.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// What the export's content follows from (counts, last changes, counter
/// sums): its validator, so that the body is streamed, never held.
fn fingerprint(conn: &mut DbConnection) -> QueryResult<String> {
    let sum = |expr: &str| sql::<Nullable<BigInt>>(&format!("CAST(SUM({expr}) AS BIGINT)"));
    let u: (i64, Option<chrono::NaiveDateTime>) = users::table
        .select((count_star(), max(users::updated_at)))
        .first(conn)?;
    let t: (i64, Option<chrono::NaiveDateTime>) = tags::table
        .select((count_star(), max(tags::updated_at)))
        .first(conn)?;
    let a: (i64, Option<chrono::NaiveDateTime>, Option<i64>, Option<i64>) = articles::table
        .select((
            count_star(),
            max(articles::updated_at),
            sum("articles.view_count"),
            sum("articles.comment_count"),
        ))
        .first(conn)?;
    let c: (i64, Option<chrono::NaiveDateTime>) = comments::table
        .select((count_star(), max(comments::updated_at)))
        .first(conn)?;
    let r: i64 = article_revisions::table.count().get_result(conn)?;
    let d: (i64, Option<i64>) = article_daily_stats::table
        .select((count_star(), sum("article_daily_stats.views")))
        .first(conn)?;
    let x: (i64, Option<i64>) = redirects::table
        .select((count_star(), max(redirects::id)))
        .first(conn)?;
    Ok(format!("{u:?}{t:?}{a:?}{c:?}{r}{d:?}{x:?}"))
}

/// Export the site
///
/// Admins. The whole site as the versioned export JSON (`format:
/// "newsdesk-export"`, `version: 1`; see the README): users without
/// password hashes, articles with revisions, tags, daily counters and old
/// slugs, comments, redirects. Streamed; `newsdesk import newsdesk FILE`
/// reads it back into an empty site.
#[utoipa::path(
    operation_id = "exportSite",
    tag = "export",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export", body = crate::export::ExportDocument, content_type = "application/json",
         headers(("Content-Disposition" = String, description = "attachment; filename=\"newsdesk-export.json\""))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/export")]
async fn export_site(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let now = crate::time::now();
    let print = state.db.read(|conn| Ok(fingerprint(conn)?)).await?;
    let etag = crate::http::caching::etag_for(format!("export|{now}|{print}").as_bytes());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let db = state.db.clone();
    actix_web::rt::spawn(web::block(move || {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let written = db
            .conn()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .and_then(|mut conn| crate::export::write(&mut conn, &mut out));
        if let Err(e) = written {
            tracing::error!(error = %e, "the export failed");
            let _ = tx.blocking_send(Err(std::io::Error::other("the export failed")));
        }
    }));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"newsdesk-export.json\"",
        ))
        .streaming(body))
}
