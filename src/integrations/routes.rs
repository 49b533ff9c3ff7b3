//! `/integrations`: admins create, list and revoke content API keys.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Scopes;
use super::dto::{CreateIntegration, CreatedIntegration, Integration, IntegrationListQuery};
use super::keys;
use super::queries::{self, NewIntegration};
use crate::auth::{AuthUser, Role};
use crate::cluster::Stale;
use crate::db::keyset::IdSeek;
use crate::error::{ApiError, Problem};
use crate::http::{Json, Listed, Page};
use crate::state::AppState;
use crate::validate::Validator;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_integrations)
        .service(create_integration)
        .service(get_integration)
        .service(delete_integration);
}

const NAME_MAX: usize = 100;

/// List integrations
///
/// Admins only. Oldest first. Keys are never shown, only their prefix.
#[utoipa::path(
    operation_id = "listIntegrations",
    tag = "integrations",
    params(IntegrationListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of integrations", body = Page<Integration>,
         headers(("X-Total-Count" = i64, description = "Total integrations"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations")]
async fn list_integrations(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    list: Listed<IntegrationListQuery, IdSeek>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let Listed { page, seek, .. } = list;
    let after_id = seek.map(|IdSeek(id)| id);
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read(move |conn| Ok(queries::list(conn, &page, after_id)?))
            .await?
    };
    let result = page
        .finish(rows, total, |r| (None, r.id))
        .map(Integration::from);
    Ok(result.respond(&req))
}

/// Create an integration
///
/// Admins only. Answers with the new content API key in `key`, starting
/// with `nd_`: it is stored only as a hash and shown this once. Scopes:
/// `read` (the public content API), `preview` (requests of this key may
/// carry `preview=<token>`), `events` (`GET /events`).
#[utoipa::path(
    operation_id = "createIntegration",
    tag = "integrations",
    request_body = CreateIntegration,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = CreatedIntegration,
         headers(("Location" = String, description = "URL of the new integration"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integrations")]
async fn create_integration(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateIntegration>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let scopes = match &body.scopes {
        None => Scopes::from_list(&[super::Scope::Read]),
        Some(list) if list.is_empty() => {
            v.add("scopes", "must name at least one scope");
            Scopes::default()
        }
        Some(list) => Scopes::from_list(list),
    };
    v.finish()?;
    let (key, key_prefix, key_hash) = keys::generate();
    let new = NewIntegration {
        name,
        scopes: scopes.to_stored(),
        key_prefix,
        key_hash,
        created_by: Some(user.id),
        created_at: crate::time::now(),
    };
    let row = state
        .db
        .write(move |conn| Ok(queries::create(conn, new)?))
        .await?;
    // A probe may have cached this key as unknown.
    state.stale(Stale::Keys);
    let id = row.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/integrations/{id}")))
        .json(CreatedIntegration {
            integration: Integration::from(row),
            key,
        }))
}

/// Get an integration
///
/// Admins only. The key is never shown again, only its prefix.
#[utoipa::path(
    operation_id = "getIntegration",
    tag = "integrations",
    params(("id" = i64, Path, description = "Integration id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The integration", body = Integration),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such integration", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/{id}")]
async fn get_integration(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let id = id.into_inner();
    let row = state
        .db
        .read(move |conn| Ok(queries::find(conn, id)?))
        .await?;
    Ok(HttpResponse::Ok().json(Integration::from(row)))
}

/// Revoke an integration
///
/// Admins only. Deletes the integration: its key gets 401 at once on this
/// instance, and on other instances after at most `NEWSDESK_AUTH_CACHE_MS`.
#[utoipa::path(
    operation_id = "deleteIntegration",
    tag = "integrations",
    params(("id" = i64, Path, description = "Integration id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such integration", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/integrations/{id}")]
async fn delete_integration(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let id = id.into_inner();
    let deleted = state
        .db
        .write(move |conn| Ok(queries::delete(conn, id)?))
        .await?;
    state.stale(Stale::Keys);
    if deleted == 0 {
        return Err(ApiError::not_found("no such integration"));
    }
    Ok(HttpResponse::NoContent().finish())
}
