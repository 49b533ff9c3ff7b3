//! `/users`: admin management of accounts, and self-service for the fields
//! a user owns.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{CreateUser, UpdateUser, User, UserListQuery};
use super::queries::{self, AccountInput, UserChanges, UserFilter, UserSeek};
use crate::auth::{AuthUser, Role, password};
use crate::cluster::Stale;
use crate::error::{ApiError, Problem};
use crate::http::{Json, Listed, Page};
use crate::state::AppState;
use crate::validate::Validator;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(delete_user);
}

pub const NAME_MAX: usize = 100;
pub const BIO_MAX: usize = 2000;

/// Hashes a password on the hashing pool (Argon2 is deliberately slow).
pub async fn hash_password(state: &AppState, password: String) -> Result<String, ApiError> {
    state.hasher.hash(password).await
}

/// Validates the fields shared by sign-up and admin creation.
pub fn validate_account(
    v: &mut Validator,
    email: &str,
    password: &str,
    name: &str,
    bio: Option<&str>,
    avatar_url: Option<&str>,
) -> (String, String, Option<String>, Option<String>) {
    let email = v.email("email", email);
    if let Err(m) = password::check_strength(password) {
        v.add("password", m);
    }
    let name = v.text("name", name, 1, NAME_MAX);
    let bio = v.opt_text("bio", bio, BIO_MAX);
    let avatar_url = v.opt_url("avatar_url", avatar_url);
    (email, name, bio, avatar_url)
}

/// List users
///
/// Admins only. Filter by `role` or a substring `q` of name or email.
#[utoipa::path(
    operation_id = "listUsers",
    tag = "users",
    params(UserListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = Page<User>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    list: Listed<UserListQuery, UserSeek>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let Listed {
        query: q,
        page,
        seek,
    } = list;
    let filter = UserFilter {
        role: q.role.map(|r| r.as_str().to_string()),
        q: crate::articles::content::query_text(q.q.as_deref()),
    };
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read(move |conn| Ok(queries::list(conn, &filter, &page, seek)?))
            .await?
    };
    let field = page.sort.field;
    let result = page
        .finish(rows, total, |r| (queries::sort_key(r, field), r.id))
        .map(User::from);
    Ok(result.respond(&req))
}

/// Create a user
///
/// Admins only; any role may be given.
#[utoipa::path(
    operation_id = "createUser",
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String, description = "URL of the new user"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already in use", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let (email, name, bio, avatar_url) = validate_account(
        &mut v,
        &body.email,
        &body.password,
        &body.name,
        body.bio.as_deref(),
        body.avatar_url.as_deref(),
    );
    v.finish()?;
    let password_hash = hash_password(&state, body.password).await?;
    let input = AccountInput {
        email,
        name,
        role: body.role.as_str().into(),
        bio,
        avatar_url,
        password_hash,
    };
    let row = state
        .db
        .write(move |conn| Ok(queries::create_account(conn, input)?))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", row.id)))
        .json(User::from(row)))
}

fn may_access(caller: &AuthUser, id: i64) -> Result<(), ApiError> {
    if caller.id == id || caller.is_at_least(Role::Admin) {
        Ok(())
    } else {
        // Admins manage users; others may only see that they are not allowed.
        Err(ApiError::forbidden("only admins may manage other users"))
    }
}

/// Get a user
///
/// Admins see anyone; other users only themselves.
#[utoipa::path(
    operation_id = "getUser",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another user, and not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    may_access(&user, id)?;
    let row = state
        .db
        .read(move |conn| Ok(queries::find(conn, id)?))
        .await?;
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// Update a user
///
/// Admins may change any field of anyone except their own role. Users may
/// change their own email, name, bio, avatar and password (email and
/// password only with `current_password`). A role or password change signs
/// the user out of every session (refresh tokens are revoked); a password
/// change also ends every access token issued before it, and a role change
/// applies to the user's next request.
#[utoipa::path(
    operation_id = "updateUser",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed (another user, or a role change)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (also a missing or wrong `current_password`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many password changes or checks for this account (`NEWSDESK_RATE_PASSWORD`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[patch("/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    may_access(&user, id)?;
    let body = body.into_inner();
    if body.role.is_some() {
        if user.id == id {
            return Err(ApiError::forbidden("you cannot change your own role"));
        }
        user.require(Role::Admin)?;
    }
    let mut v = Validator::new();
    let email = body.email.as_deref().map(|e| v.email("email", e));
    let name = body.name.as_deref().map(|n| v.text("name", n, 1, NAME_MAX));
    let bio = body
        .bio
        .as_ref()
        .map(|b| v.opt_text("bio", b.as_deref(), BIO_MAX));
    let avatar_url = body
        .avatar_url
        .as_ref()
        .map(|a| v.opt_url("avatar_url", a.as_deref()));
    if let Some(p) = &body.password
        && let Err(m) = password::check_strength(p)
    {
        v.add("password", m);
    }
    v.finish()?;
    // Password changes and current-password checks are limited per account
    // (`NEWSDESK_RATE_PASSWORD`): a stolen token cannot guess on and on.
    if body.password.is_some() || body.current_password.is_some() {
        state.limits.password.check(&id)?;
    }
    // Whoever holds a stolen access token must not be able to take the
    // account over: changing one's own email or password needs the password.
    let own = user.id == id;
    let stored = if own && (body.password.is_some() || email.is_some()) {
        Some(
            state
                .db
                .read(move |conn| Ok(queries::find(conn, id)?))
                .await?,
        )
    } else {
        None
    };
    if let Some(stored) = stored {
        let changes_email = email.as_ref().is_some_and(|e| *e != stored.email);
        if body.password.is_some() || changes_email {
            let what = if body.password.is_some() {
                "password"
            } else {
                "email"
            };
            let Some(current) = body.current_password.clone() else {
                return Err(ApiError::invalid(
                    "current_password",
                    format!("is required to change your own {what}"),
                ));
            };
            if !state
                .hasher
                .verify(current, Some(stored.password_hash))
                .await?
            {
                return Err(ApiError::invalid("current_password", "is not correct"));
            }
        }
    }
    let password_hash = match body.password {
        Some(p) => Some(hash_password(&state, p).await?),
        None => None,
    };
    let revoke_sessions = password_hash.is_some() || body.role.is_some();
    let role = body.role;
    let row = state
        .db
        .write(move |conn| {
            if role.is_some_and(|r| r != Role::Admin) {
                queries::lock_admins(conn)?;
            }
            let current = queries::find(conn, id)?;
            if let Some(e) = &email
                && queries::email_taken(conn, e, Some(id))?
            {
                return Err(ApiError::conflict(
                    "a resource with this email already exists",
                ));
            }
            if role.is_some_and(|r| r != Role::Admin)
                && current.role == "admin"
                && queries::count_admins(conn)? <= 1
            {
                return Err(ApiError::conflict("the last admin cannot be demoted"));
            }
            let mut changes = UserChanges {
                email,
                name: name.clone(),
                slug: None,
                role: role.map(|r| r.as_str().to_string()),
                bio,
                avatar_url,
                // A new password also ends the access tokens already issued.
                token_version: password_hash.is_some().then_some(current.token_version + 1),
                password_hash,
                updated_at: Some(crate::time::now()),
            };
            let row = match &name {
                Some(n) if *n != current.name => {
                    queries::with_free_slug(conn, n, Some(id), |conn, slug| {
                        changes.slug = Some(slug);
                        queries::update(conn, id, &changes)
                    })?
                }
                _ => queries::update(conn, id, &changes)?,
            };
            if revoke_sessions {
                crate::auth::tokens::revoke_user(conn, id)?;
            }
            Ok(row)
        })
        .await?;
    if revoke_sessions {
        state.stale(Stale::Account(id));
    }
    Ok(HttpResponse::Ok().json(User::from(row)))
}

/// Delete a user
///
/// Admins may delete anyone but the last admin; users may delete
/// themselves. A user who still has articles cannot be deleted (409):
/// reassign or delete the articles first. Their comments go with them.
#[utoipa::path(
    operation_id = "deleteUser",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another user, and not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user still has articles, or is the last admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}")]
async fn delete_user(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    may_access(&user, id)?;
    state
        .db
        .write(move |conn| {
            queries::lock_admins(conn)?;
            let target = queries::find(conn, id)?;
            if target.role == "admin" && queries::count_admins(conn)? <= 1 {
                return Err(ApiError::conflict("the last admin cannot be deleted"));
            }
            if queries::article_count(conn, id)? > 0 {
                return Err(ApiError::conflict(
                    "the user still has articles; reassign or delete them first",
                ));
            }
            queries::delete(conn, id)?;
            Ok(())
        })
        .await?;
    state.stale(Stale::Account(id));
    Ok(HttpResponse::NoContent().finish())
}
