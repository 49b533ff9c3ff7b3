//! Auth as extractors: `AuthUser` for endpoints that need a signed-in user,
//! `MaybeUser` for public endpoints that show more to some roles. A present
//! but bad token is always a 401, never silently treated as anonymous.
//!
//! A content API key (validated earlier by `integrations::keys`, found in
//! the request's extensions) reads public content through `MaybeUser` when
//! it has the `read` scope, reaches `EditorOrKey<S>` endpoints with scope
//! `S`, and is never a signed-in user (`AuthUser`: 401).
//!
//! The token says who signed in; the role comes from the account's current
//! state (`auth::current`), so a demoted account acts with its new role and
//! a deleted account, or a token older than a password change, is a 401.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::Role;
use crate::error::ApiError;
use crate::integrations::{ContentKey, Scope};
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

/// Who sent a request.
enum Caller {
    Anonymous,
    User(AuthUser),
    Key(ContentKey),
}

/// The caller, acting with the account's current role.
fn identify(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Caller, ApiError>> {
    if let Some(key) = req.extensions().get::<ContentKey>().copied() {
        return Box::pin(async move { Ok(Caller::Key(key)) });
    }
    let user = authenticate(req);
    Box::pin(async move {
        Ok(match user.await? {
            Some(u) => Caller::User(u),
            None => Caller::Anonymous,
        })
    })
}

/// The signed-in caller; `None` without a token.
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
        let caller = identify(req);
        Box::pin(async move {
            match caller.await? {
                Caller::User(u) => Ok(u),
                Caller::Anonymous => Err(ApiError::Unauthorized("sign in first".into())),
                Caller::Key(_) => Err(ApiError::Unauthorized(
                    "a content API key reads content only; this needs a signed-in user's access token"
                        .into(),
                )),
            }
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
        let caller = identify(req);
        Box::pin(async move {
            match caller.await? {
                Caller::User(u) => Ok(MaybeUser(Some(u))),
                Caller::Anonymous => Ok(MaybeUser(None)),
                // A key sees what anonymous readers see.
                Caller::Key(key) => {
                    require_scope(&key, Scope::Read)?;
                    Ok(MaybeUser(None))
                }
            }
        })
    }
}

/// 403 unless the key carries `scope`.
pub fn require_scope(key: &ContentKey, scope: Scope) -> Result<(), ApiError> {
    if key.scopes.contains(scope) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this content API key lacks the {scope} scope"
        )))
    }
}

/// The scope an `EditorOrKey` endpoint asks of a key.
pub trait KeyScope {
    const SCOPE: Scope;
}

/// `events`: reading the event log.
pub struct EventsScope;

impl KeyScope for EventsScope {
    const SCOPE: Scope = Scope::Events;
}

/// Who called an `EditorOrKey` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staff {
    /// A signed-in editor or admin.
    User(AuthUser),
    /// A content API key with the endpoint's scope.
    Key(ContentKey),
}

/// An editor (or admin), or a content API key with scope `S`: anonymous is
/// 401, a lesser role or a key without `S` is 403. For endpoints such as
/// `GET /events`: `_: EditorOrKey<EventsScope>`, with
/// `security(("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = []))`.
pub struct EditorOrKey<S>(pub Staff, std::marker::PhantomData<S>);

impl<S: KeyScope + 'static> FromRequest for EditorOrKey<S> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = identify(req);
        Box::pin(async move {
            let staff = match caller.await? {
                Caller::User(u) => {
                    u.require(Role::Editor)?;
                    Staff::User(u)
                }
                Caller::Key(key) => {
                    require_scope(&key, S::SCOPE)?;
                    Staff::Key(key)
                }
                Caller::Anonymous => {
                    return Err(ApiError::Unauthorized(
                        "sign in as an editor or send a content API key".into(),
                    ));
                }
            };
            Ok(EditorOrKey(staff, std::marker::PhantomData))
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::integrations::Scopes;

    async fn events_caller(key: Option<Scopes>) -> Result<Staff, ApiError> {
        let req = TestRequest::default().to_http_request();
        if let Some(scopes) = key {
            req.extensions_mut().insert(ContentKey {
                id: 7,
                scopes,
                in_query: false,
            });
        }
        EditorOrKey::<EventsScope>::from_request(&req, &mut Payload::None)
            .await
            .map(|e| e.0)
    }

    #[actix_web::test]
    async fn editor_or_key_takes_keys_with_the_scope_only() {
        let events = Scopes::from_list(&[Scope::Events]);
        assert!(matches!(
            events_caller(Some(events)).await,
            Ok(Staff::Key(ContentKey { id: 7, .. }))
        ));
        let read = Scopes::from_list(&[Scope::Read, Scope::Preview]);
        assert!(matches!(
            events_caller(Some(read)).await,
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            events_caller(None).await,
            Err(ApiError::Unauthorized(_))
        ));
    }
}
