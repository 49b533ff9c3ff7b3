//! `POST /articles/{id}/views`: the anonymous view beacon.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(count_view);
}

/// Count a view
///
/// Anyone may call it; no token is needed and an `Authorization` header is
/// ignored, as is any request body (so `navigator.sendBeacon` works). The
/// view is counted in memory and answered at once with 202; counts are
/// written in batches every `NEWSDESK_VIEW_FLUSH_MS` (1 s by default) and on
/// a clean shutdown, so `view_count` and the daily statistics may lag by one
/// interval. A view counts once per visitor (client address and
/// `User-Agent`) per article per `NEWSDESK_VIEW_DEDUP_WINDOW` (30 minutes by
/// default), and not at all from well-known bots; the answer is 202 either
/// way, so a client cannot tell.
///
/// Unknown and invisible articles (drafts, archived, scheduled for later)
/// are a 404. What the beacon knows about an article is cached for at most
/// 5 seconds: a change made through this instance's API applies at once, one
/// made through another instance sharing the database within 5 seconds; a
/// scheduled article becomes countable exactly at its `published_at`.
#[utoipa::path(
    operation_id = "countArticleView",
    tag = "views",
    params(("id" = i64, Path, description = "Article id")),
    responses(
        (status = 202, description = "Counted; no body"),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No visible article with this id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many beacons from this client (`NEWSDESK_RATE_VIEWS`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/articles/{id}/views")]
async fn count_view(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let client = state.client(&req);
    state.limits.views.check(&client)?;
    if !state.views.is_visible(id).await? {
        return Err(ApiError::not_found("no such article"));
    }
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if state.view_dedup.counts(Some(client), user_agent, id) {
        state.views.record(id);
    }
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
