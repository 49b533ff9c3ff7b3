//! `/articles`: the public list and lookups, the author and editor writes,
//! revisions, the popular boxes and per-article stats.
//!
//! Who sees what: everyone sees *visible* articles (published, with
//! `published_at` passed); an article's author and editors also see its
//! drafts, scheduled and archived states. An article the caller may not see
//! is a 404, never a 403; one it may see but not change is a 403.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Duration;
use utoipa_actix_web::service_config::ServiceConfig;

use super::content::{self, query_text};
use super::dto::{
    Article, ArticleListItem, ArticleListQuery, ArticleStats, CreateArticle, DailyStat, EditorRef,
    Include, PopularArticles, PopularQuery, Revision, RevisionListQuery, RevisionSummary, Snapshot,
    StatsQuery, StatusFilter, TagRef, UpdateArticle,
};
use super::listing::{self, ArticleFilter, ListRow};
use super::queries;
use crate::auth::{AuthUser, MaybeUser, Role};
use crate::cluster::Stale;
use crate::db::schema::users;
use crate::db::search::SearchQuery;
use crate::error::{ApiError, Problem};
use crate::http::surrogate::{self, SurrogateKeys};
use crate::http::{Json, Listed, Page, StrictQuery};
use crate::previews::dto::PreviewQuery;
use crate::previews::read::{self as preview, Target};
use crate::state::AppState;

/// Registers the article routes. The fixed paths (`/articles/popular`,
/// `/articles/slug/{slug}`) come before `/articles/{id}` so that `{id}`
/// never captures them.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(popular_articles)
        .service(get_article_by_slug)
        .service(list_articles)
        .service(create_article)
        .service(get_article)
        .service(update_article)
        .service(delete_article)
        .service(list_revisions)
        .service(get_revision)
        .service(restore_revision)
        .service(article_stats);
}

pub const POPULAR_DEFAULT_LIMIT: i64 = 10;
pub const POPULAR_MAX_LIMIT: i64 = 50;
pub const STATS_DEFAULT_DAYS: i64 = 30;
pub const STATS_MAX_DAYS: i64 = 365;
/// Most different `tag` filters one list request may combine.
pub const MAX_TAG_FILTERS: usize = 10;

fn timestamp_param(
    name: &str,
    value: Option<&str>,
) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    value
        .map(|v| {
            crate::time::parse_rfc3339(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} must be an RFC 3339 timestamp such as 2024-05-15T09:30:00Z"
                ))
            })
        })
        .transpose()
}

/// Joins list rows with their tags (and bodies) into list items.
fn items(
    rows: Vec<ListRow>,
    mut tags: Vec<(i64, TagRef)>,
    mut bodies: Vec<(i64, String, String)>,
    media: std::collections::HashMap<i64, crate::media::dto::Media>,
) -> Vec<ArticleListItem> {
    rows.into_iter()
        .map(|r| {
            let id = r.article.id;
            let mine: Vec<TagRef> = tags
                .iter()
                .filter(|(a, _)| *a == id)
                .map(|(_, t)| t.clone())
                .collect();
            tags.retain(|(a, _)| *a != id);
            let body = bodies
                .iter()
                .position(|(a, _, _)| *a == id)
                .map(|i| bodies.swap_remove(i))
                .map(|(_, b, h)| (b, h));
            let picture = r
                .article
                .feature_image_id
                .and_then(|m| media.get(&m).cloned());
            let mut item = ArticleListItem::from_parts(r.article, r.author, mine, body);
            item.set_media(picture);
            item
        })
        .collect()
}

/// List articles
///
/// Public: visible articles only. Editors see every status (filter with
/// `status`); authors may ask for `status=draft`, `scheduled` or
/// `archived` to list their own such articles. Filters combine (AND); `tag`
/// may repeat and every tag must be on the article. An unknown tag or
/// author slug gives an empty list. With `q` and no `sort`, the best match
/// comes first. Both `page` and the keyset `after` cursor work with every
/// sort; ties in the sort key are broken by id.
#[utoipa::path(
    operation_id = "listArticles",
    tag = "articles",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(ArticleListQuery),
    responses(
        (status = 200, description = "A page of articles", body = Page<ArticleListItem>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Bad query parameter (unknown parameter, sort, status or include; bad timestamp, slug, page size or cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token, or a non-public status asked for anonymously", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A non-public status asked for by a reader", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
async fn list_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeUser,
    list: Listed<ArticleListQuery, listing::Seek>,
) -> Result<HttpResponse, ApiError> {
    let Listed {
        query: mut q,
        page,
        seek,
    } = list;
    // An empty `tag=` counts as absent, like every empty parameter.
    q.tag.retain(|t| !t.is_empty());
    let text = query_text(q.q.as_deref());
    // Each tag is a subquery: repeat them without end and the query fails.
    let mut seen = std::collections::HashSet::new();
    q.tag.retain(|t| seen.insert(t.clone()));
    if q.tag.len() > MAX_TAG_FILTERS {
        return Err(ApiError::bad_request(format!(
            "tag may be given at most {MAX_TAG_FILTERS} times"
        )));
    }
    if let Some(bad) = q.tag.iter().find(|t| !crate::slug::is_valid(t)) {
        return Err(ApiError::bad_request(format!(
            "tag '{}' is not a tag slug (lowercase words joined by '-')",
            bad.chars().take(60).collect::<String>()
        )));
    }
    if let Some(a) = &q.author
        && !crate::slug::is_valid(a)
    {
        return Err(ApiError::bad_request(
            "author is not an author slug (lowercase words joined by '-')",
        ));
    }
    let published_after = timestamp_param("published_after", q.published_after.as_deref())?;
    let published_before = timestamp_param("published_before", q.published_before.as_deref())?;
    let anonymous = caller.is_anonymous();
    let (visible_only, owner) = match (q.status, caller.0) {
        (_, Some(u)) if u.is_at_least(Role::Editor) => (false, None),
        (None | Some(StatusFilter::Published), _) => (true, None),
        (Some(_), Some(u)) if u.role == Role::Author => (false, Some(u.id)),
        (Some(_), Some(_)) => {
            return Err(ApiError::forbidden(
                "only authors (their own) and editors may list unpublished articles",
            ));
        }
        (Some(_), None) => {
            return Err(ApiError::Unauthorized(
                "sign in to list unpublished articles".into(),
            ));
        }
    };
    // A query with no word in it matches nothing.
    let search = match &text {
        Some(t) => match SearchQuery::prepare(state.db.backend(), t) {
            Some(s) => Some(s),
            None => {
                return Ok(page
                    .finish(Vec::<ArticleListItem>::new(), 0, |_| (None, 0))
                    .respond(&req));
            }
        },
        None => None,
    };
    let include_body = q.include == Some(Include::Body);
    let tag_slugs = q.tag;
    let author_slug = q.author;
    let now = crate::time::now();
    let status = q.status;
    let backend = state.db.backend();
    // A page without search costs a few hundred microseconds: run it on
    // the async worker like a point read. A search may take milliseconds.
    let searching = search.is_some();
    let (rows, total, tags, bodies, media) = {
        let page = page.clone();
        let lists = state.clone();
        let read = move |conn: &mut crate::db::DbConnection| {
            let empty = || Ok((Vec::new(), 0, Vec::new(), Vec::new(), Default::default()));
            let author_id = match &author_slug {
                Some(slug) => match author_id_by_slug(conn, slug)? {
                    Some(id) => Some(id),
                    None => return empty(),
                },
                None => None,
            };
            let Some(tag_ids) = crate::tags::queries::ids_for_slugs(conn, &tag_slugs)? else {
                return empty();
            };
            let filter = ArticleFilter {
                backend,
                now,
                visible_only,
                owner,
                status,
                author_id,
                tag_ids,
                search,
                published_after,
                published_before,
                min_id: None,
            };
            let (rows, total) = lists.lists.page(conn, &filter, &page, seek.as_ref())?;
            let ids: Vec<i64> = rows
                .iter()
                .take(page.per_page as usize)
                .map(|r| r.article.id)
                .collect();
            let tags = queries::tags_for(conn, &ids)?;
            let bodies = if include_body {
                queries::bodies_for(conn, &ids)?
            } else {
                Vec::new()
            };
            let media = media_for(conn, &lists.media, &rows)?;
            Ok((rows, total, tags, bodies, media))
        };
        state.db.read_sized(!searching, anonymous, read).await?
    };
    let field = page.sort.field;
    let finished = page.finish(rows, total, |r| (listing::sort_key(r, field), r.article.id));
    let result = Page {
        data: items(finished.data, tags, bodies, media),
        meta: finished.meta,
    };
    let mut res = result.respond(&req);
    if caller.0.is_none() {
        list_keys(&result.data).insert(&mut res);
    }
    Ok(res)
}

/// The cache tags of an article list.
fn list_keys(items: &[ArticleListItem]) -> SurrogateKeys<'_> {
    let mut keys = SurrogateKeys::new().list(surrogate::LIST_ARTICLES);
    for item in items {
        keys.article(
            item.id,
            item.author.id,
            item.tags.iter().map(|t| t.slug.as_str()),
        );
    }
    keys
}

fn author_id_by_slug(
    conn: &mut crate::db::DbConnection,
    slug: &str,
) -> Result<Option<i64>, ApiError> {
    use diesel::prelude::*;
    Ok(users::table
        .filter(users::slug.eq(slug))
        .select(users::id)
        .first::<i64>(conn)
        .optional()?)
}

/// Most viewed or most commented
///
/// Public. The visible articles with the most views (`metric=views`) or
/// approved comments (`metric=comments`) in the period, best first; ties go
/// to the newer article. `day` is the current UTC day, `week` and `month`
/// the last 7 and 30 UTC days including today, `all` the lifetime
/// counters. Articles with nothing counted in the period are left out.
#[utoipa::path(
    operation_id = "listPopularArticles",
    tag = "articles",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(PopularQuery),
    responses(
        (status = 200, description = "The ranked articles", body = PopularArticles),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Bad query parameter (unknown metric or period, limit outside 1..50)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/popular")]
async fn popular_articles(
    state: web::Data<AppState>,
    caller: MaybeUser,
    query: StrictQuery<PopularQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let limit = q.limit.unwrap_or(POPULAR_DEFAULT_LIMIT);
    if !(1..=POPULAR_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {POPULAR_MAX_LIMIT}"
        )));
    }
    let metric = q.metric.unwrap_or_default();
    let period = q.period.unwrap_or_default();
    let now = crate::time::now();
    let rankings = state.clone();
    let read = move |conn: &mut crate::db::DbConnection| {
        let ids = rankings.rankings.top(conn, metric, period, now, limit)?;
        let rows = queries::list_rows_by_ids(conn, &ids)?;
        let tags = queries::tags_for(conn, &ids)?;
        let media = media_for(conn, &rankings.media, &rows)?;
        Ok((rows, tags, media))
    };
    // With the ranking kept, the box is a list page's work: run it on the
    // async worker. Ranking a period anew takes milliseconds.
    let anonymous = caller.is_anonymous();
    let short = state.rankings.is_ready(metric, period, now);
    let (rows, tags, media) = state.db.read_sized(short, anonymous, read).await?;
    let popular = PopularArticles {
        data: items(rows, tags, Vec::new(), media),
    };
    let mut res = HttpResponse::Ok().json(&popular);
    if caller.0.is_none() {
        list_keys(&popular.data).insert(&mut res);
    }
    Ok(res)
}

/// The answer for one article: signed-in callers get the version ETag,
/// public answers the article's cache tags.
fn article_response(
    mut res: actix_web::HttpResponseBuilder,
    signed_in: bool,
    article: Article,
) -> HttpResponse {
    if signed_in {
        res.insert_header((header::ETAG, content::etag(article.id, article.version)));
    } else {
        let mut keys = SurrogateKeys::new();
        keys.article(
            article.id,
            article.author.id,
            article.tags.iter().map(|t| t.slug.as_str()),
        );
        keys.apply(&mut res);
    }
    res.json(article)
}

/// Loads the article object for an id, with its tags and picture.
fn load_article(
    conn: &mut crate::db::DbConnection,
    lib: &crate::media::Library,
    id: i64,
) -> Result<Article, ApiError> {
    let (row, author) = queries::find(conn, id)?;
    let tags = queries::tags_of(conn, id)?;
    with_media(conn, lib, Article::from_parts(row, author, tags))
}

/// Embeds an article's library picture.
fn with_media(
    conn: &mut crate::db::DbConnection,
    lib: &crate::media::Library,
    mut article: Article,
) -> Result<Article, ApiError> {
    if let Some(id) = article.feature_image_id {
        let mut found = lib.load_many(conn, &[id])?;
        article.set_media(found.remove(&id));
    }
    Ok(article)
}

/// The pictures the given list rows use, by media id.
fn media_for(
    conn: &mut crate::db::DbConnection,
    lib: &crate::media::Library,
    rows: &[ListRow],
) -> Result<std::collections::HashMap<i64, crate::media::dto::Media>, ApiError> {
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.article.feature_image_id)
        .collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    lib.load_many(conn, &ids)
}

/// Get an article
///
/// Public when visible; an article's author and editors also get drafts,
/// scheduled and archived articles. Anything else is a 404. Signed-in
/// callers get `ETag: "a{id}-v{version}"` (counters do not change it), to
/// send back in `If-Match` when updating; anonymous callers get a strong
/// ETag of the body and `Cache-Control: public`.
#[utoipa::path(
    operation_id = "getArticle",
    tag = "articles",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(("id" = i64, Path, description = "Article id"), PreviewQuery),
    responses(
        (status = 200, description = "The article", body = Article, headers(("ETag" = String, description = "\"a{id}-v{version}\" for signed-in callers"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}")]
async fn get_article(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if let Some(token) = preview::token_param(&req) {
        return preview::respond(&req, &state, Target::Id(id), token).await;
    }
    let user = caller.0;
    let now = crate::time::now();
    let lib = state.media.clone();
    let article = state
        .db
        .read_point(user.is_none(), move |conn| {
            let (row, author) = content::load_visible(conn, user.as_ref(), id, now)?;
            let tags = queries::tags_of(conn, id)?;
            with_media(conn, &lib, Article::from_parts(row, author, tags))
        })
        .await?;
    Ok(article_response(
        HttpResponse::Ok(),
        user.is_some(),
        article,
    ))
}

enum BySlug {
    Found(Box<Article>),
    Moved(String),
}

/// Get an article by slug
///
/// Like `GET /articles/{id}`. A slug the article had while published
/// answers `301 Moved Permanently` with `Location:
/// /api/v1/articles/slug/{current}`.
#[utoipa::path(
    operation_id = "getArticleBySlug",
    tag = "articles",
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    params(("slug" = String, Path, description = "Article slug, current or former"), PreviewQuery),
    responses(
        (status = 200, description = "The article", body = Article, headers(("ETag" = String, description = "\"a{id}-v{version}\" for signed-in callers"))),
        (status = 301, description = "A former slug: Location names the current one", headers(("Location" = String, description = "/api/v1/articles/slug/{current}"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/slug/{slug}")]
async fn get_article_by_slug(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = slug.into_inner();
    if !crate::slug::is_valid(&slug) {
        return Err(ApiError::not_found("no article has this slug"));
    }
    if let Some(token) = preview::token_param(&req) {
        return preview::respond(&req, &state, Target::Slug(slug), token).await;
    }
    let user = caller.0;
    let now = crate::time::now();
    let lib = state.media.clone();
    let found = state
        .db
        .read_point(user.is_none(), move |conn| {
            let not_found = || ApiError::not_found("no article has this slug");
            if let Some((row, author)) = queries::find_by_slug(conn, &slug)? {
                if !content::can_see(user.as_ref(), &row, now) {
                    return Err(not_found());
                }
                let tags = queries::tags_of(conn, row.id)?;
                let article = with_media(conn, &lib, Article::from_parts(row, author, tags))?;
                return Ok(BySlug::Found(Box::new(article)));
            }
            let Some(id) = queries::redirect_target(conn, &slug)? else {
                return Err(not_found());
            };
            let (row, _) = queries::find(conn, id)?;
            if !content::can_see(user.as_ref(), &row, now) {
                return Err(not_found());
            }
            Ok(BySlug::Moved(row.slug))
        })
        .await?;
    Ok(match found {
        BySlug::Found(article) => article_response(HttpResponse::Ok(), user.is_some(), *article),
        BySlug::Moved(current) => HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, format!("/api/v1/articles/slug/{current}")))
            .finish(),
    })
}

/// Create an article
///
/// Authors and above. The caller is the author unless an editor gives
/// `author_id`. Defaults: `status` draft, `body_format` markdown,
/// `comments_enabled` true; `slug` from the title (transliterated; `-2`,
/// `-3` on a clash), `excerpt` from the body. `status: published` without
/// `published_at` publishes now; with a future `published_at` it schedules
/// the article (no job needed: it turns visible at that moment). Unknown
/// tag slugs are created. Stores revision 1.
#[utoipa::path(
    operation_id = "createArticle",
    tag = "articles",
    request_body = CreateArticle,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Article, headers(("Location" = String, description = "URL of the new article"), ("ETag" = String, description = "\"a{id}-v1\""))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A reader, or an author giving another author_id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The given slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles")]
async fn create_article(
    state: web::Data<AppState>,
    user: AuthUser,
    body: Json<CreateArticle>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let changes = content::validate_create(body.into_inner())?;
    let now = crate::time::now();
    let lib = state.media.clone();
    let article = state
        .db
        .write(move |conn| {
            let row = content::create(conn, &user, changes, now)?;
            load_article(conn, &lib, row.id)
        })
        .await?;
    // A beacon may have cached "no such article" for this id.
    state.stale(Stale::Article(article.id));
    note_schedule(&state, &article);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/articles/{}", article.id)));
    Ok(article_response(res, true, article))
}

/// Public cache lifetimes must not run past a publication just scheduled.
fn note_schedule(state: &AppState, article: &Article) {
    if article.status == super::dto::ArticleStatus::Published
        && let Some(at) = article.published_at
    {
        state.schedule.earlier(at);
    }
}

fn if_match(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("If-Match is not readable"))
        })
        .collect::<Result<_, _>>()?;
    Ok((!values.is_empty()).then(|| values.join(", ")))
}

/// Update an article
///
/// The article's author (with the author role) and editors. Partial: only
/// the fields sent change; `null` clears nullable fields. Send `If-Match:
/// "a{id}-v{version}"` (412 when stale) or `version` (409 when stale) to
/// avoid overwriting someone else's change. Each change bumps `version` and
/// stores a revision; a body that changes nothing writes nothing. Changing
/// the slug of a published article keeps the old slug working as a 301.
/// `status: draft` unpublishes, `archived` hides the article from the
/// public, `published` publishes (keeping an earlier `published_at`, else
/// now) or schedules (future `published_at`). Only editors may set
/// `author_id` to someone else. Answers with the whole article and its new
/// ETag.
#[utoipa::path(
    operation_id = "updateArticle",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id"),
           ("If-Match" = Option<String>, Header, description = "\"a{id}-v{version}\" from a previous GET")),
    request_body = UpdateArticle,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated article", body = Article, headers(("ETag" = String, description = "\"a{id}-v{version}\""))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale `version`, or the slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the current version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/articles/{id}")]
async fn update_article(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateArticle>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let if_match = if_match(&req)?;
    let body: UpdateArticle = body.into_inner();
    let now = crate::time::now();
    let lib = state.media.clone();
    let article = state
        .db
        .write(move |conn| {
            content::update(conn, &user, id, body, if_match, now)?;
            load_article(conn, &lib, id)
        })
        .await?;
    // Status or date may have changed what the view beacon may count.
    state.stale(Stale::Article(id));
    note_schedule(&state, &article);
    Ok(article_response(HttpResponse::Ok(), true, article))
}

/// Delete an article
///
/// The article's author (with the author role) and editors. Its tag links,
/// revisions, slug redirects, comments and view counters are deleted with
/// it. `If-Match` is honoured (412 when stale).
#[utoipa::path(
    operation_id = "deleteArticle",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id"),
           ("If-Match" = Option<String>, Header, description = "\"a{id}-v{version}\" from a previous GET")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the current version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{id}")]
async fn delete_article(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let pre = content::Preconditions {
        if_match: if_match(&req)?,
        version: None,
    };
    let now = crate::time::now();
    state
        .db
        .write(move |conn| {
            let (row, _) = content::load_editable(conn, &user, id, now)?;
            pre.check(row.id, row.version)?;
            let tags = queries::tags_of(conn, id)?;
            queries::delete(conn, id)?;
            crate::events::article_deleted(conn, &row, &tags, now)?;
            Ok(())
        })
        .await?;
    state.stale(Stale::Article(id));
    Ok(HttpResponse::NoContent().finish())
}

fn editor_refs(
    conn: &mut crate::db::DbConnection,
    ids: &[i64],
) -> Result<Vec<EditorRef>, ApiError> {
    Ok(queries::user_names(conn, ids)?
        .into_iter()
        .map(|(id, name)| EditorRef { id, name })
        .collect())
}

/// List an article's revisions
///
/// The article's author (with the author role) and editors. One revision
/// per version, newest first by default (`sort=version` for oldest first).
#[utoipa::path(
    operation_id = "listArticleRevisions",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id"), RevisionListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of revisions", body = Page<RevisionSummary>,
         headers(("X-Total-Count" = i64, description = "Total revisions"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}/revisions")]
async fn list_revisions(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    list: Listed<RevisionListQuery, (i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let Listed { page, seek, .. } = list;
    let now = crate::time::now();
    let (rows, total, editors) = {
        let page = page.clone();
        state
            .db
            .read(move |conn| {
                content::load_editable(conn, &user, id, now)?;
                let (rows, total) = queries::list_revisions(conn, id, &page, seek)?;
                let ids: Vec<i64> = rows.iter().filter_map(|r| r.editor_id).collect();
                let editors = editor_refs(conn, &ids)?;
                Ok((rows, total, editors))
            })
            .await?
    };
    let result = page
        .finish(rows, total, |r| (Some(r.version.to_string()), r.id))
        .map(|r| RevisionSummary {
            version: r.version,
            title: r.title,
            editor: r
                .editor_id
                .and_then(|e| editors.iter().find(|x| x.id == e).cloned()),
            created_at: crate::time::to_api(r.created_at),
        });
    Ok(result.respond(&req))
}

/// Get a revision
///
/// The article's author (with the author role) and editors: the full
/// content of the article at that version.
#[utoipa::path(
    operation_id = "getArticleRevision",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id"), ("version" = i64, Path, description = "Version")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revision", body = Revision),
        (status = 400, description = "The id or version is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}/revisions/{version}")]
async fn get_revision(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let now = crate::time::now();
    let revision = state
        .db
        .read(move |conn| {
            content::load_editable(conn, &user, id, now)?;
            let row = queries::find_revision(conn, id, version)?;
            let snapshot: Snapshot =
                serde_json::from_str(&row.snapshot).map_err(ApiError::internal)?;
            let ids: Vec<i64> = row.editor_id.into_iter().collect();
            let editor = editor_refs(conn, &ids)?.into_iter().next();
            Ok(Revision {
                article_id: row.article_id,
                version: row.version,
                title: row.title,
                editor,
                created_at: crate::time::to_api(row.created_at),
                content: snapshot,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(revision))
}

/// Restore a revision
///
/// The article's author (with the author role) and editors. The content
/// of that version (title, subtitle, excerpt, body, tags, feature image,
/// comment switch and meta fields) becomes current as a new version with
/// its own revision. Status, `published_at`, slug and author stay as they
/// are: those are publishing decisions, not content. Restoring content that
/// is already current changes nothing. `If-Match` is honoured.
#[utoipa::path(
    operation_id = "restoreArticleRevision",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id"), ("version" = i64, Path, description = "Version to restore"),
           ("If-Match" = Option<String>, Header, description = "\"a{id}-v{version}\" from a previous GET")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article with the restored content", body = Article, headers(("ETag" = String, description = "\"a{id}-v{version}\""))),
        (status = 400, description = "The id or version is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article or version", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the current version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{id}/revisions/{version}/restore")]
async fn restore_revision(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let pre = content::Preconditions {
        if_match: if_match(&req)?,
        version: None,
    };
    let now = crate::time::now();
    let lib = state.media.clone();
    let article = state
        .db
        .write(move |conn| {
            content::restore(conn, &user, id, version, &pre, now)?;
            load_article(conn, &lib, id)
        })
        .await?;
    Ok(article_response(HttpResponse::Ok(), true, article))
}

/// Article stats
///
/// The article's author (with the author role) and editors: the lifetime
/// counters and views and comments per UTC day for the last `days` days
/// (today included, oldest first, days without activity as zeros).
#[utoipa::path(
    operation_id = "getArticleStats",
    tag = "articles",
    params(("id" = i64, Path, description = "Article id"), StatsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stats", body = ArticleStats),
        (status = 400, description = "Bad query parameter (days outside 1..365)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}/stats")]
async fn article_stats(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: StrictQuery<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let days = query.days.unwrap_or(STATS_DEFAULT_DAYS);
    if !(1..=STATS_MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_request(format!(
            "days must be between 1 and {STATS_MAX_DAYS}"
        )));
    }
    let now = crate::time::now();
    let today = now.date();
    let since = today - Duration::days(days - 1);
    let (row, stored) = state
        .db
        .read(move |conn| {
            let (row, _) = content::load_editable(conn, &user, id, now)?;
            let stored = crate::stats::daily::daily_stats(conn, id, since)?;
            Ok((row, stored))
        })
        .await?;
    let daily = since
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|date| {
            let (views, comments) = stored
                .iter()
                .find(|(d, _, _)| *d == date)
                .map_or((0, 0), |(_, v, c)| (*v, *c));
            DailyStat {
                date,
                views,
                comments,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(ArticleStats {
        view_count: row.view_count,
        comment_count: row.comment_count,
        daily,
    }))
}
