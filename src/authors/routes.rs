//! `/authors`: public bylines with their visible article counts.

use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{Author, AuthorListQuery};
use super::queries::{self, AuthorProfileRow};
use crate::auth::MaybeUser;
use crate::db::keyset::NameOrCount;
use crate::error::{ApiError, Problem};
use crate::http::surrogate::{self, Key, SurrogateKeys};
use crate::http::{Listed, Page};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_authors).service(get_author);
}

fn author(row: AuthorProfileRow, article_count: i64) -> Author {
    Author {
        id: row.id,
        slug: row.slug,
        name: row.name,
        bio: row.bio,
        avatar_url: row.avatar_url,
        article_count,
    }
}

/// List authors
///
/// Public: users with at least one visible article (published, and not
/// scheduled for later), whatever their role. Sort by `name` (default) or
/// `article_count`.
#[utoipa::path(
    operation_id = "listAuthors",
    tag = "authors",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(AuthorListQuery),
    responses(
        (status = 200, description = "A page of authors", body = Page<Author>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors")]
async fn list_authors(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeUser,
    list: Listed<AuthorListQuery, NameOrCount>,
) -> Result<HttpResponse, ApiError> {
    let Listed { page, seek, .. } = list;
    let sort = page.sort;
    let now = crate::time::now();
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read_as(caller.is_anonymous(), move |conn| {
                Ok(queries::list(conn, &page, seek, now)?)
            })
            .await?
    };
    let result: Page<Author> = page
        .finish(rows, total, |(row, count)| {
            let key = match sort.field {
                "article_count" => count.to_string(),
                _ => row.name.clone(),
            };
            (Some(key), row.id)
        })
        .map(|(row, count)| author(row, count));
    let mut res = result.respond(&req);
    if caller.0.is_none() {
        let mut keys = SurrogateKeys::new().list(surrogate::LIST_AUTHORS);
        for a in &result.data {
            keys.add(Key::Author(a.id));
        }
        keys.insert(&mut res);
    }
    Ok(res)
}

/// Get an author
///
/// Public. A user without a visible article is a 404.
#[utoipa::path(
    operation_id = "getAuthor",
    tag = "authors",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(("slug" = String, Path, description = "Author slug")),
    responses(
        (status = 200, description = "The author", body = Author),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/authors/{slug}")]
async fn get_author(
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    if !crate::slug::is_valid(&slug) {
        return Err(ApiError::not_found("no author has this slug"));
    }
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
        keys.add(Key::Author(row.id));
        keys.apply(&mut res);
    }
    Ok(res.json(author(row, count)))
}
