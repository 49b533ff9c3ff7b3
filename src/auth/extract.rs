//! Auth as extractors: `AuthUser` for endpoints that need a signed-in user,
//! `MaybeUser` for public endpoints that show more to some roles. A present
//! but bad token is always a 401, never silently treated as anonymous.
//!
//! The token says who signed in; the role comes from the account's current
//! state (`auth::current`), so a demoted account acts with its new role and
//! a deleted account, or a token older than a password change, is a 401.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

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

/// A verified token: its subject and version, not yet checked against the
/// account.
struct Verified {
    id: i64,
    ver: i64,
}

fn verify_token(req: &HttpRequest) -> Result<Option<Verified>, ApiError> {
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
    Ok(Some(Verified {
        id,
        ver: claims.ver,
    }))
}

/// The caller, acting with the account's current role; `None` without a token.
fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Option<AuthUser>, ApiError>> {
    let verified = verify_token(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let Some(Verified { id, ver }) = verified? else {
            return Ok(None);
        };
        let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
        match state.accounts.get(&state.db, id).await? {
            Some(account) if account.token_version == ver => Ok(Some(AuthUser {
                id,
                role: account.role,
            })),
            Some(_) => Err(ApiError::Unauthorized(
                "the password has changed since this token was issued; sign in again".into(),
            )),
            None => Err(ApiError::Unauthorized(
                "the account no longer exists".into(),
            )),
        }
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        Box::pin(async move {
            user.await?
                .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))
        })
    }
}

/// The caller if a token was sent, `None` for anonymous requests.
#[derive(Debug, Clone, Copy)]
pub struct MaybeUser(pub Option<AuthUser>);

impl MaybeUser {
    /// No user signed in: such reads may come from a read replica.
    pub fn is_anonymous(&self) -> bool {
        self.0.is_none()
    }

    pub fn role_at_least(&self, role: Role) -> bool {
        self.0.is_some_and(|u| u.role >= role)
    }
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = authenticate(req);
        Box::pin(async move { user.await.map(MaybeUser) })
    }
}
