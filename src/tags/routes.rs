//! `/tags`: public listing and lookup, editor management.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{CreateTag, Tag, TagListQuery, UpdateTag};
use super::queries::{self, TagChanges};
use crate::articles::content::{check_no_nul, query_text};
use crate::auth::{AuthUser, MaybeUser, Role};
use crate::db::keyset::NameOrCount;
use crate::error::{ApiError, Problem};
use crate::events::{self, EventType, keys};
use crate::http::surrogate::{self, Key, SurrogateKeys};
use crate::http::{Json, Listed, Page};
use crate::state::AppState;
use crate::validate::Validator;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_tags)
        .service(create_tag)
        .service(get_tag)
        .service(update_tag)
        .service(delete_tag);
}

pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 500;
/// Slug of a tag whose name has no letter or digit to make one from.
pub const FALLBACK_SLUG: &str = "tag";

/// List tags
///
/// Public. `q` keeps tags whose name starts with it (case-insensitive).
/// Sort by `name` (default) or `article_count` (`-article_count` for the
/// most used first).
#[utoipa::path(
    operation_id = "listTags",
    tag = "tags",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(TagListQuery),
    responses(
        (status = 200, description = "A page of tags", body = Page<Tag>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags")]
async fn list_tags(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeUser,
    list: Listed<TagListQuery, NameOrCount>,
) -> Result<HttpResponse, ApiError> {
    let Listed {
        query: q,
        page,
        seek,
    } = list;
    let sort = page.sort;
    let prefix = query_text(q.q.as_deref());
    let now = crate::time::now();
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read_as(caller.is_anonymous(), move |conn| {
                Ok(queries::list(conn, prefix.as_deref(), &page, seek, now)?)
            })
            .await?
    };
    let result = page
        .finish(rows, total, |(row, count)| {
            let key = match sort.field {
                "article_count" => count.to_string(),
                _ => row.name.clone(),
            };
            (Some(key), row.id)
        })
        .map(|(row, count)| Tag::from_row(row, count));
    let mut res = result.respond(&req);
    if caller.0.is_none() {
        let mut keys = SurrogateKeys::new().list(surrogate::LIST_TAGS);
        for t in &result.data {
            keys.add(Key::Tag(&t.slug));
        }
        keys.insert(&mut res);
    }
    Ok(res)
}

/// Get a tag
///
/// Public.
#[utoipa::path(
    operation_id = "getTag",
    tag = "tags",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(("slug" = String, Path, description = "Tag slug")),
    responses(
        (status = 200, description = "The tag", body = Tag),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tags/{slug}")]
async fn get_tag(
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = valid_path_slug(slug.into_inner())?;
    let now = crate::time::now();
    let (row, count) = state
        .db
        .read_point(caller.is_anonymous(), move |conn| {
            Ok(queries::find_by_slug(conn, &slug, now)?)
        })
        .await?;
    let mut res = HttpResponse::Ok();
    if caller.0.is_none() {
        let mut keys = SurrogateKeys::new();
        keys.add(Key::Tag(&row.slug));
        keys.apply(&mut res);
    }
    Ok(res.json(Tag::from_row(row, count)))
}

/// A path slug that cannot exist is a 404 without asking the database.
fn valid_path_slug(slug: String) -> Result<String, ApiError> {
    if crate::slug::is_valid(&slug) {
        Ok(slug)
    } else {
        Err(ApiError::not_found("no tag has this slug"))
    }
}

fn validate_slug(v: &mut Validator, field: &str, slug: &str) -> String {
    let slug = slug.trim().to_string();
    if !crate::slug::is_valid(&slug) {
        v.add(
            field,
            format!(
                "must be lowercase ASCII letters and digits in words joined by '-', at most {} characters",
                crate::slug::MAX_LEN
            ),
        );
    }
    slug
}

/// Create a tag
///
/// Editors and admins. The slug is derived from the name unless given;
/// either way a taken slug is a 409 (a tag is not duplicated as `-2`).
#[utoipa::path(
    operation_id = "createTag",
    tag = "tags",
    request_body = CreateTag,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Tag, headers(("Location" = String, description = "URL of the new tag"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tags")]
async fn create_tag(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateTag>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let body = body.into_inner();
    let mut v = Validator::new();
    check_no_nul(&mut v, "name", &body.name);
    let name = v.text("name", &body.name, 1, NAME_MAX);
    let slug = match &body.slug {
        Some(s) => Some(validate_slug(&mut v, "slug", s)),
        // A name with nothing to make a slug from (only punctuation, say)
        // gets the fallback slug, as articles do; a second one is a 409.
        None => Some(crate::slug::slugify(&name).unwrap_or_else(|| FALLBACK_SLUG.into())),
    };
    if let Some(d) = &body.description {
        check_no_nul(&mut v, "description", d);
    }
    let description = v.opt_text("description", body.description.as_deref(), DESCRIPTION_MAX);
    v.finish()?;
    let slug = slug.unwrap_or_default();
    let row = state
        .db
        .write(move |conn| {
            if queries::slug_taken(conn, &slug, None)? {
                return Err(ApiError::conflict("a tag with this slug already exists"));
            }
            let now = crate::time::now();
            let row = queries::insert(conn, &slug, &name, description.as_deref(), now)?;
            let tag = Tag::from_row(row.clone(), 0);
            events::record(
                conn,
                EventType::TagCreated,
                &events::tag_subject(row.id),
                &tag,
                &keys::for_tag(&[&row.slug]),
                now,
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tags/{}", row.slug)))
        .json(Tag::from_row(row, 0)))
}

/// Update a tag
///
/// Editors and admins. A new slug keeps the tag's article links; the old
/// slug stops answering (404). A new name keeps the slug.
#[utoipa::path(
    operation_id = "updateTag",
    tag = "tags",
    params(("slug" = String, Path, description = "Tag slug")),
    request_body = UpdateTag,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated tag", body = Tag),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tags/{slug}")]
async fn update_tag(
    state: web::Data<AppState>,
    user: AuthUser,
    slug: web::Path<String>,
    body: Json<UpdateTag>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let current_slug = valid_path_slug(slug.into_inner())?;
    let body = body.into_inner();
    let mut v = Validator::new();
    let name = body.name.as_deref().map(|n| {
        check_no_nul(&mut v, "name", n);
        v.text("name", n, 1, NAME_MAX)
    });
    let new_slug = body
        .slug
        .as_deref()
        .map(|s| validate_slug(&mut v, "slug", s));
    let description = body.description.as_ref().map(|d| {
        if let Some(d) = d {
            check_no_nul(&mut v, "description", d);
        }
        v.opt_text("description", d.as_deref(), DESCRIPTION_MAX)
    });
    v.finish()?;
    let now = crate::time::now();
    let (row, count) = state
        .db
        .write(move |conn| {
            let (current, _) = queries::find_by_slug(conn, &current_slug, now)?;
            if let Some(s) = &new_slug
                && queries::slug_taken(conn, s, Some(current.id))?
            {
                return Err(ApiError::conflict("a tag with this slug already exists"));
            }
            let changes = TagChanges {
                slug: new_slug,
                name,
                description,
                updated_at: Some(now),
            };
            let row = queries::update(conn, current.id, &changes)?;
            let (row, count) = queries::find_by_slug(conn, &row.slug, now)?;
            if row.updated_at != current.updated_at
                || row.slug != current.slug
                || row.name != current.name
                || row.description != current.description
            {
                events::record(
                    conn,
                    EventType::TagUpdated,
                    &events::tag_subject(row.id),
                    &Tag::from_row(row.clone(), count),
                    &keys::for_tag(&[&current.slug, &row.slug]),
                    now,
                )?;
            }
            Ok((row, count))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Tag::from_row(row, count)))
}

/// Delete a tag
///
/// Editors and admins. Articles lose the tag (their versions do not change).
#[utoipa::path(
    operation_id = "deleteTag",
    tag = "tags",
    params(("slug" = String, Path, description = "Tag slug")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tags/{slug}")]
async fn delete_tag(
    state: web::Data<AppState>,
    user: AuthUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let slug = valid_path_slug(slug.into_inner())?;
    let now = crate::time::now();
    state
        .db
        .write(move |conn| {
            let (row, _) = queries::find_by_slug(conn, &slug, now)?;
            queries::delete(conn, row.id)?;
            events::record(
                conn,
                EventType::TagDeleted,
                &events::tag_subject(row.id),
                &serde_json::json!({ "id": row.id, "slug": row.slug }),
                &keys::for_tag(&[&row.slug]),
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
