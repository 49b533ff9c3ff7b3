//! `/auth`: sign-up, sign-in, token refresh with rotation, sign-out, and
//! the caller's own account.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{Login, RefreshRequest, Register, TokenResponse};
use super::tokens::{self, Rotation};
use super::{AuthUser, Role};
use crate::error::{ApiError, Problem};
use crate::http::Json;
use crate::state::AppState;
use crate::users::dto::User;
use crate::users::queries::{self as users, AccountInput, UserRow};
use crate::users::routes::{hash_password, validate_account};
use crate::validate::Validator;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(me);
}

fn token_response(
    state: &AppState,
    row: UserRow,
    refresh_token: String,
) -> Result<TokenResponse, ApiError> {
    let role = Role::parse(&row.role).unwrap_or(Role::Reader);
    let access_token = state
        .jwt
        .issue_versioned(row.id, role, row.token_version)
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.jwt.access_ttl.as_secs(),
        refresh_token,
        user: User::from(row),
    })
}

/// A 200 carrying tokens: never stored by any cache (RFC 6749, 5.1).
fn tokens_ok(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Sign up
///
/// Creates a `reader` account when registration is open
/// (`NEWSDESK_REGISTRATION=open`, the default).
#[utoipa::path(
    operation_id = "register",
    tag = "auth",
    request_body = Register,
    responses(
        (status = 201, description = "The new account", body = User, headers(("Location" = String, description = "URL of the new user"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Registration is closed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this client (`NEWSDESK_RATE_REGISTER`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The password hashing queue is full, or the database is unavailable", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 409, description = "Email already in use", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<Register>,
) -> Result<HttpResponse, ApiError> {
    if !state.config.registration_open {
        return Err(ApiError::forbidden("registration is closed"));
    }
    state.limits.register.check(&state.client(&req))?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let (email, name, _, _) =
        validate_account(&mut v, &body.email, &body.password, &body.name, None, None);
    v.finish()?;
    let password_hash = hash_password(&state, body.password).await?;
    let input = AccountInput {
        email,
        name,
        role: Role::Reader.as_str().into(),
        bio: None,
        avatar_url: None,
        password_hash,
    };
    let row = state
        .db
        .write(move |conn| Ok(users::create_account(conn, input)?))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", row.id)))
        .json(User::from(row)))
}

/// Sign in
///
/// A wrong email and a wrong password give the same 401, in the same time.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ins from this client (`NEWSDESK_RATE_LOGIN`), or too many failures for this email (growing back-off)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The password hashing queue is full, or the database is unavailable", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 422, description = "Missing fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let email = body.email.trim().to_lowercase();
    // Per client address, then per account (known or not: the answer must
    // not tell which emails exist), before any work.
    state.limits.login.check(&state.client(&req))?;
    state.limits.login_backoff.check(&email)?;
    // No account has a NUL in its email (and PostgreSQL text cannot hold
    // one): such an email is simply unknown.
    let found = if email.contains('\0') {
        None
    } else {
        let email = email.clone();
        state
            .db
            .read(move |conn| Ok(users::find_by_email(conn, &email)?))
            .await?
    };
    let stored = found.as_ref().map(|row| row.password_hash.clone());
    let verified = state.hasher.verify(body.password, stored).await?;
    let Some(row) = found.filter(|_| verified) else {
        state.limits.login_backoff.failed(&email);
        tracing::warn!(target: "newsdesk::security", client = %state.client(&req), "failed sign-in");
        return Err(ApiError::Unauthorized("wrong email or password".into()));
    };
    state.limits.login_backoff.succeeded(&email);
    let (user_id, ttl) = (row.id, state.config.refresh_ttl);
    let refresh_token = state
        .db
        .write(move |conn| {
            tokens::purge_expired(conn, Some(user_id))?;
            Ok(tokens::issue(conn, user_id, None, ttl)?)
        })
        .await?;
    Ok(tokens_ok(token_response(&state, row, refresh_token)?))
}

/// Refresh tokens
///
/// Exchanges a refresh token for a new pair. The old refresh token stops
/// working; presenting it again revokes every token of that sign-in.
#[utoipa::path(
    operation_id = "refreshTokens",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many refreshes from this client (`NEWSDESK_RATE_REFRESH`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 422, description = "Missing fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.limits.refresh.check(&state.client(&req))?;
    let presented = body.into_inner().refresh_token;
    let outcome = state
        .db
        .write(move |conn| {
            Ok(match tokens::rotate(conn, &presented)? {
                Rotation::Rotated { user_id, token } => Some((users::find(conn, user_id)?, token)),
                Rotation::Reused | Rotation::Invalid => None,
            })
        })
        .await?;
    let (row, token) =
        outcome.ok_or_else(|| ApiError::Unauthorized("the refresh token is not valid".into()))?;
    Ok(tokens_ok(token_response(&state, row, token)?))
}

/// Sign out
///
/// Revokes the refresh token (and every token rotated from the same
/// sign-in). Access tokens expire on their own.
#[utoipa::path(
    operation_id = "logout",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let known = state
        .db
        .write(move |conn| Ok(tokens::revoke(conn, &presented)?))
        .await?;
    if !known {
        return Err(ApiError::Unauthorized(
            "the refresh token is not valid".into(),
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user
#[utoipa::path(
    operation_id = "getCurrentUser",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = User),
        (status = 401, description = "Missing, invalid or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/me")]
async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let id = user.id;
    let row = state
        .db
        .read(move |conn| match users::find(conn, id) {
            Err(diesel::result::Error::NotFound) => Err(ApiError::Unauthorized(
                "the account no longer exists".into(),
            )),
            other => Ok(other?),
        })
        .await?;
    Ok(HttpResponse::Ok().json(User::from(row)))
}
