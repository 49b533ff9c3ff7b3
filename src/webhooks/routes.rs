//! `/webhooks`: admins manage webhooks and read their delivery logs.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{
    CreateWebhook, CreatedWebhook, Delivery, EVENTS_MAX, UpdateWebhook, Webhook, WebhookListQuery,
};
use super::queries::{self, WebhookChanges};
use super::{sign, target};
use crate::auth::{AuthUser, Role};
use crate::db::keyset::IdSeek;
use crate::error::{ApiError, Problem};
use crate::events::EventType;
use crate::http::{Json, Listed, Page};
use crate::state::AppState;
use crate::validate::Validator;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(redeliver);
}

/// How long saving a webhook waits for its host's addresses.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Checks a URL: its form (422), and where it leads. A host that resolves
/// to a non-public address is refused (422) unless private targets are
/// allowed; one that does not resolve now is accepted (DNS may be down for
/// a moment) and checked again before every delivery.
async fn check_url(state: &AppState, v: &mut Validator, url: &str) -> Option<String> {
    if url.contains('\0') {
        v.add("url", "must not contain NUL characters");
        return None;
    }
    let t = match target::parse(url) {
        Ok(t) => t,
        Err(m) => {
            v.add("url", m);
            return None;
        }
    };
    if !state.config.webhooks.allow_private
        && let Err(target::Refusal::Private(ip)) =
            target::addresses(&t, false, LOOKUP_TIMEOUT).await
    {
        v.add(
            "url",
            format!(
                "leads to {ip}, a private, loopback or otherwise non-public address \
                 (allowed only with NEWSDESK_WEBHOOK_ALLOW_PRIVATE=true)"
            ),
        );
        return None;
    }
    Some(url.to_string())
}

/// The event filter as stored: known types without repeats, or `["*"]`.
fn check_events(v: &mut Validator, events: &[String]) -> Vec<String> {
    if events.is_empty() {
        v.add("events", "must name at least one event type, or \"*\"");
    }
    if events.len() > EVENTS_MAX {
        v.add("events", format!("must have at most {EVENTS_MAX} entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e != "*" && EventType::parse(e).is_none() {
            v.add(
                &format!("events[{i}]"),
                "must be an event type such as article.published, or \"*\"",
            );
        } else if !out.contains(e) {
            out.push(e.clone());
        }
    }
    if out.iter().any(|e| e == "*") {
        return vec!["*".into()];
    }
    out
}

fn admin(user: &AuthUser) -> Result<(), ApiError> {
    user.require(Role::Admin)
}

/// List webhooks
///
/// Admins. Newest first by default. Secrets are not shown.
#[utoipa::path(
    operation_id = "listWebhooks",
    tag = "webhooks",
    params(WebhookListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of webhooks", body = Page<Webhook>,
         headers(("X-Total-Count" = i64, description = "Total webhooks"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
async fn list_webhooks(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    list: Listed<WebhookListQuery, IdSeek>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let Listed { page, seek, .. } = list;
    let seek = seek.map(|IdSeek(id)| id);
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read(move |conn| Ok(queries::list(conn, &page, seek)?))
            .await?
    };
    let result = page
        .finish(rows, total, |r| (Some(r.id.to_string()), r.id))
        .map(|r| Webhook::from_row(&r));
    Ok(result.respond(&req))
}

/// Create a webhook
///
/// Admins. Answers with the webhook and its signing `secret`, shown this
/// once. The webhook receives the events recorded after its creation.
#[utoipa::path(
    operation_id = "createWebhook",
    tag = "webhooks",
    request_body = CreateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedWebhook,
         headers(("Location" = String, description = "URL of the new webhook"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (a url that is not http(s) with a host name or leads to a non-public address, an unknown event type)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
async fn create_webhook(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let events = check_events(&mut v, &body.events);
    let url = check_url(&state, &mut v, &body.url).await;
    v.finish()?;
    let url = url.unwrap_or_default();
    let events = serde_json::to_string(&events).map_err(ApiError::internal)?;
    let secret = sign::new_secret();
    let active = body.active.unwrap_or(true);
    let row = {
        let secret = secret.clone();
        state
            .db
            .write(move |conn| {
                let now = crate::time::now();
                Ok(queries::insert(conn, &url, &events, &secret, active, now)?)
            })
            .await?
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/webhooks/{}", row.id)))
        .json(CreatedWebhook {
            webhook: Webhook::from_row(&row),
            secret,
        }))
}

/// Get a webhook
///
/// Admins. The secret is not shown.
#[utoipa::path(
    operation_id = "getWebhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
async fn get_webhook(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let id = id.into_inner();
    let row = state
        .db
        .read(move |conn| Ok(queries::find(conn, id)?))
        .await?;
    Ok(HttpResponse::Ok().json(Webhook::from_row(&row)))
}

/// Update a webhook
///
/// Admins. Only the fields sent change. A deactivated webhook gets no
/// deliveries of the events recorded meanwhile; its pending ones wait.
#[utoipa::path(
    operation_id = "updateWebhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = UpdateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated webhook", body = Webhook),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
async fn update_webhook(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let mut v = Validator::new();
    let events = body.events.as_deref().map(|e| check_events(&mut v, e));
    let url = match &body.url {
        Some(u) => check_url(&state, &mut v, u).await,
        None => None,
    };
    v.finish()?;
    let changes = WebhookChanges {
        url,
        events: events
            .map(|e| serde_json::to_string(&e))
            .transpose()
            .map_err(ApiError::internal)?,
        active: body.active,
        updated_at: Some(crate::time::now()),
    };
    let row = state
        .db
        .write(move |conn| {
            queries::find(conn, id)?;
            Ok(queries::update(conn, id, &changes)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Webhook::from_row(&row)))
}

/// Delete a webhook
///
/// Admins. Its delivery log goes with it; attempts in flight end unrecorded.
#[utoipa::path(
    operation_id = "deleteWebhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
async fn delete_webhook(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let id = id.into_inner();
    state
        .db
        .write(move |conn| match queries::delete(conn, id)? {
            0 => Err(ApiError::not_found("no such webhook")),
            _ => Ok(()),
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a webhook's deliveries
///
/// Admins. Newest first by default: each delivery with its latest
/// attempt's status code and duration, and when the next one is due.
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id"), WebhookListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<Delivery>,
         headers(("X-Total-Count" = i64, description = "Total deliveries"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
async fn list_deliveries(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    list: Listed<WebhookListQuery, IdSeek>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let id = id.into_inner();
    let Listed { page, seek, .. } = list;
    let seek = seek.map(|IdSeek(id)| id);
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read(move |conn| {
                queries::find(conn, id)?;
                Ok(queries::deliveries(conn, id, &page, seek)?)
            })
            .await?
    };
    let result = page
        .finish(rows, total, |r| (Some(r.id.to_string()), r.id))
        .map(Delivery::from_row);
    Ok(result.respond(&req))
}

/// Redeliver
///
/// Admins. Sends that delivery's event again, as a new delivery due now
/// (with the same `webhook-id`, so a receiver that has it can tell).
/// Answers 202 with the new delivery.
#[utoipa::path(
    operation_id = "redeliverWebhookDelivery",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id"), ("delivery_id" = i64, Path, description = "Delivery id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued", body = Delivery),
        (status = 400, description = "An id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The webhook is not active", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    admin(&user)?;
    let (id, delivery_id) = path.into_inner();
    let row = state
        .db
        .write(move |conn| {
            let hook = queries::find(conn, id)?;
            let from = queries::find_delivery(conn, id, delivery_id)?;
            if !hook.active {
                return Err(ApiError::conflict(
                    "the webhook is not active; activate it first",
                ));
            }
            let now = chrono::Utc::now().naive_utc();
            Ok(queries::redeliver(conn, &from, now)?)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(Delivery::from_row(row)))
}
