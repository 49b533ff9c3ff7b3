//! `/articles/{id}/preview`: make and revoke draft preview tokens.

use actix_web::{HttpResponse, delete, post, web};
use chrono::Duration;
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{CreatePreview, DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN, MIN_EXPIRES_IN, Preview};
use super::queries::{self, NewPreview};
use crate::articles::content;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_preview).service(revoke_previews);
}

/// Make a preview token
///
/// The article's author (with the author role) and editors. The token lets
/// anyone holding it read this article in any state with
/// `GET /articles/{id}?preview=TOKEN` (or by slug) until it expires or is
/// revoked, answered `Cache-Control: private, no-store`. With `version`
/// the preview shows that revision; without, the article as it is when
/// read. The token is stored only as a hash: it cannot be shown again.
#[utoipa::path(
    operation_id = "createArticlePreview",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id")),
    request_body = CreatePreview,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The token, shown once", body = Preview),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "expires_in out of range, or no such version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{id}/preview")]
async fn create_preview(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<CreatePreview>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let expires_in = body.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    let mut v = crate::validate::Validator::new();
    if !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&expires_in) {
        v.add(
            "expires_in",
            format!("must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} seconds"),
        );
    }
    if body.version.is_some_and(|v| v < 1) {
        v.add("version", "must be 1 or more");
    }
    v.finish()?;
    let version = body.version;
    let now = crate::time::now();
    let expires_at = now + Duration::seconds(expires_in);
    let (token, token_hash) = super::read::generate();
    state
        .db
        .write(move |conn| {
            content::load_editable(conn, &user, id, now)?;
            if let Some(v) = version {
                // A field naming what does not exist, like a reply's parent.
                crate::articles::queries::find_revision(conn, id, v).map_err(|e| match e {
                    diesel::result::Error::NotFound => {
                        ApiError::invalid("version", "the article has no such version")
                    }
                    e => e.into(),
                })?;
            }
            queries::create(
                conn,
                NewPreview {
                    article_id: id,
                    token_hash,
                    version,
                    created_by: Some(user.id),
                    created_at: now,
                    expires_at,
                },
            )?;
            Ok(())
        })
        .await?;
    let url = format!("/api/v1/articles/{id}?preview={token}");
    Ok(HttpResponse::Created().json(Preview {
        token,
        expires_at: crate::time::to_api(expires_at),
        url,
        version,
    }))
}

/// Revoke an article's previews
///
/// The article's author (with the author role) and editors. Every preview
/// token of the article stops working at once (on every instance: tokens
/// are checked against the database on each read).
#[utoipa::path(
    operation_id = "revokeArticlePreviews",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked (also when there were none)"),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{id}/preview")]
async fn revoke_previews(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = crate::time::now();
    state
        .db
        .write(move |conn| {
            content::load_editable(conn, &user, id, now)?;
            queries::revoke_all(conn, id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
