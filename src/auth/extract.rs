//! Auth as extractors: `AuthUser` for endpoints that need a signed-in user,
//! `MaybeUser` for public endpoints that show more to some roles. A present
//! but bad token is always a 401, never silently treated as anonymous.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// The verified caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: i64,
    pub role: Role,
}

impl AuthUser {
    /// 403 unless the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role or higher"
            )))
        }
    }

    pub fn is_at_least(&self, role: Role) -> bool {
        self.role >= role
    }
}

fn authenticate(req: &HttpRequest) -> Result<Option<AuthUser>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unauthorized = |m: &str| ApiError::Unauthorized(m.to_string());
    let value = value
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| unauthorized("expected 'Bearer <token>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized("expected 'Bearer <token>'"));
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
    let claims = state.jwt.verify(token.trim()).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            unauthorized("the access token has expired")
        }
        _ => unauthorized("the access token is invalid"),
    })?;
    let id = claims
        .sub
        .parse::<i64>()
        .map_err(|_| unauthorized("the access token is invalid"))?;
    Ok(Some(AuthUser {
        id,
        role: claims.role,
    }))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            authenticate(req)
                .and_then(|u| u.ok_or_else(|| ApiError::Unauthorized("sign in first".into()))),
        )
    }
}

/// The caller if a token was sent, `None` for anonymous requests.
#[derive(Debug, Clone, Copy)]
pub struct MaybeUser(pub Option<AuthUser>);

impl MaybeUser {
    pub fn role_at_least(&self, role: Role) -> bool {
        self.0.is_some_and(|u| u.role >= role)
    }
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(MaybeUser))
    }
}
