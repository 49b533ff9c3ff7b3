//! `/feeds/...`: the site feed and one per tag and per author, each in
//! three formats. Public files at the site root, outside `/api/v1`.
//!
//! Caching: the caching middleware gives them a strong `ETag` and answers
//! `If-None-Match` with 304; `Cache-Control: public, max-age` is the
//! configured one, shortened so that no cache keeps a feed past the moment
//! the next scheduled story goes live. Query strings are ignored (feed
//! readers and trackers append their own).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, web};
use chrono::NaiveDateTime;
use utoipa_actix_web::service_config::ServiceConfig;

use super::build::{self, Entry, Feed};
use crate::articles::listing::{self, ArticleFilter};
use crate::articles::queries;
use crate::config::FeedContent;
use crate::db::DbConnection;
use crate::error::{ApiError, Problem};
use crate::http::Sort;
use crate::state::AppState;

/// Entries per feed: the newest this many visible articles.
pub const FEED_SIZE: i64 = 50;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(site_rss)
        .service(site_atom)
        .service(site_json)
        .service(tag_rss)
        .service(tag_atom)
        .service(tag_json)
        .service(author_rss)
        .service(author_atom)
        .service(author_json);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Rss,
    Atom,
    Json,
}

#[derive(Debug, Clone)]
enum Scope {
    Site,
    Tag(String),
    Author(String),
}

/// The `Cache-Control` of a public answer that changes by itself when the
/// next scheduled article goes live: never cached past that moment.
pub fn public_cache_control(
    max_age: u32,
    now: NaiveDateTime,
    next_scheduled: Option<NaiveDateTime>,
) -> String {
    let until_next = next_scheduled
        .map(|t| (t - now).num_seconds().max(0))
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(u32::MAX);
    format!("public, max-age={}", max_age.min(until_next))
}

/// The start of a public answer: its type and, for anonymous callers, the
/// configured `Cache-Control` (bounded by the next scheduled publication).
/// The caller adds the body (whole or streamed); for a whole body the
/// caching middleware adds the ETag and answers 304.
pub fn public_file(
    req: &HttpRequest,
    state: &AppState,
    content_type: &'static str,
    now: NaiveDateTime,
    next_scheduled: Option<NaiveDateTime>,
) -> HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.content_type(content_type);
    if !req.headers().contains_key(header::AUTHORIZATION) {
        res.insert_header((
            header::CACHE_CONTROL,
            public_cache_control(state.config.cache_max_age, now, next_scheduled),
        ));
    }
    res
}

/// This request's own URL without its query (a feed's `self` link).
fn self_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}{}", info.scheme(), info.host(), req.path())
}

struct Loaded {
    feed: Feed,
    next_scheduled: Option<NaiveDateTime>,
}

/// The feed's articles and what it is about; `None` for an unknown tag or
/// author.
fn load(
    conn: &mut DbConnection,
    state: &AppState,
    scope: &Scope,
    now: NaiveDateTime,
    feed_url: String,
) -> Result<Option<Loaded>, ApiError> {
    let urls = &state.config.public_urls;
    let host = url::Url::parse(urls.origin())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    // A tag URI (RFC 4151): stable, and never mistaken for a page.
    let id_base = format!("tag:{host},2024:newsdesk");
    let site = state.config.site_name.clone();
    let (title, description, home_url, author_id, tag_ids) = match scope {
        Scope::Site => (
            site.clone(),
            format!("The latest stories from {site}"),
            urls.home(),
            None,
            Vec::new(),
        ),
        Scope::Tag(slug) => {
            let Some(tag) = crate::tags::queries::find_by_slug(conn, slug, now)
                .map(|(t, _)| t)
                .optional_found()?
            else {
                return Ok(None);
            };
            (
                format!("{site}: {}", tag.name),
                tag.description
                    .clone()
                    .unwrap_or_else(|| format!("The latest stories tagged {}", tag.name)),
                urls.tag(&tag.slug),
                None,
                vec![tag.id],
            )
        }
        Scope::Author(slug) => {
            let Some(author) = crate::authors::queries::find_by_slug(conn, slug, now)
                .map(|(a, _)| a)
                .optional_found()?
            else {
                return Ok(None);
            };
            (
                format!("{site}: {}", author.name),
                author
                    .bio
                    .clone()
                    .unwrap_or_else(|| format!("The latest stories by {}", author.name)),
                urls.author(&author.slug),
                Some(author.id),
                Vec::new(),
            )
        }
    };
    let filter = ArticleFilter {
        backend: state.db.backend(),
        now,
        visible_only: true,
        owner: None,
        status: None,
        author_id,
        tag_ids,
        search: None,
        published_after: None,
        published_before: None,
        min_id: None,
    };
    let newest_first = Sort {
        field: "published_at",
        desc: true,
    };
    let rows = listing::rows(conn, &filter, newest_first, None, 0, FEED_SIZE)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.article.id).collect();
    let mut tags = queries::tags_for(conn, &ids)?;
    let mut bodies = match state.config.feed_content {
        FeedContent::Full => queries::bodies_for(conn, &ids)?,
        FeedContent::Excerpt => Vec::new(),
    };
    let next_scheduled = listing::next_scheduled(conn, now)?;
    let media_ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.article.feature_image_id)
        .collect();
    let media = if media_ids.is_empty() {
        Default::default()
    } else {
        state.media.load_many(conn, &media_ids)?
    };
    let entries: Vec<Entry> = rows
        .into_iter()
        .map(|r| {
            let a = r.article;
            let published_at = a.published_at.unwrap_or(a.created_at);
            let mine = tags
                .iter()
                .filter(|(id, _)| *id == a.id)
                .map(|(_, t)| t.clone())
                .collect();
            tags.retain(|(id, _)| *id != a.id);
            let html = bodies
                .iter()
                .position(|(id, _, _)| *id == a.id)
                .map(|i| bodies.swap_remove(i).2);
            Entry {
                id: a.id,
                url: urls.article(&a.slug, a.id, a.published_at),
                title: a.title,
                subtitle: a.subtitle,
                excerpt: a.excerpt,
                html,
                published_at,
                updated_at: a.updated_at,
                // The library picture (real type and length) when there
                // is one, else the external URL.
                feature_image: match a.feature_image_id.and_then(|id| media.get(&id)) {
                    Some(m) => Some(build::Image::from_media(m)),
                    None => a.feature_image.map(build::Image::external),
                },
                author_name: r.author.name,
                author_url: urls.author(&r.author.slug),
                tags: mine,
            }
        })
        .collect();
    // The feed changed last when its newest change did; an empty feed
    // when the site began (a fixed instant keeps the body, and so its
    // ETag, stable).
    let updated = entries
        .iter()
        .map(|e| e.updated_at.max(e.published_at))
        .max()
        .unwrap_or_default();
    Ok(Some(Loaded {
        feed: Feed {
            title,
            description,
            home_url,
            feed_url,
            id_base,
            language: state.config.site_language.clone(),
            updated,
            entries,
        },
        next_scheduled,
    }))
}

/// `NotFound` as `None`, other errors as they are.
trait OptionalFound<T> {
    fn optional_found(self) -> diesel::QueryResult<Option<T>>;
}

impl<T> OptionalFound<T> for diesel::QueryResult<T> {
    fn optional_found(self) -> diesel::QueryResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: Scope,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let not_found = || match &scope {
        Scope::Tag(_) => ApiError::not_found("no such tag"),
        _ => ApiError::not_found("no such author (or none of their stories is published)"),
    };
    if let Scope::Tag(s) | Scope::Author(s) = &scope
        && !crate::slug::is_valid(s)
    {
        return Err(not_found());
    }
    let now = crate::time::now();
    let feed_url = self_url(&req);
    let reader = state.clone();
    let scope2 = scope.clone();
    let loaded = state
        .db
        .read(move |conn| load(conn, &reader, &scope2, now, feed_url))
        .await?
        .ok_or_else(not_found)?;
    let (content_type, body) = match format {
        Format::Rss => (
            build::RSS_TYPE,
            build::rss(&loaded.feed).map_err(ApiError::internal)?,
        ),
        Format::Atom => (
            build::ATOM_TYPE,
            build::atom(&loaded.feed).map_err(ApiError::internal)?,
        ),
        Format::Json => (
            build::JSON_FEED_TYPE,
            build::json(&loaded.feed).map_err(ApiError::internal)?,
        ),
    };
    Ok(public_file(&req, &state, content_type, now, loaded.next_scheduled).body(body))
}

/// Site feed (RSS 2.0)
///
/// The newest 50 published articles, newest first: title, link (the front
/// end's URL from `NEWSDESK_PUBLIC_URL_TEMPLATE`), excerpt, full sanitised
/// HTML in `content:encoded` (unless `NEWSDESK_FEED_CONTENT=excerpt`),
/// author as `dc:creator`, tags as categories, the feature image as an
/// enclosure and `media:content`. Dates are RFC 822.
#[utoipa::path(
    operation_id = "getSiteRssFeed",
    tag = "feeds",
    responses(
        (status = 200, description = "RSS 2.0", body = String, content_type = "application/rss+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/feeds/rss.xml")]
async fn site_rss(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Site, Format::Rss).await
}

/// Site feed (Atom)
///
/// The same entries as the RSS feed, as Atom 1.0 (RFC 4287): RFC 3339
/// dates, content as HTML, the feature image as an `enclosure` link.
#[utoipa::path(
    operation_id = "getSiteAtomFeed",
    tag = "feeds",
    responses(
        (status = 200, description = "Atom 1.0", body = String, content_type = "application/atom+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/feeds/atom.xml")]
async fn site_atom(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Site, Format::Atom).await
}

/// Site feed (JSON Feed)
///
/// The same entries as JSON Feed 1.1.
#[utoipa::path(
    operation_id = "getSiteJsonFeed",
    tag = "feeds",
    responses(
        (status = 200, description = "JSON Feed 1.1", body = super::build::JsonFeed, content_type = "application/feed+json"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/feeds/feed.json")]
async fn site_json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Site, Format::Json).await
}

/// Tag feed (RSS 2.0)
///
/// Like the site feed, for the articles with this tag.
#[utoipa::path(
    operation_id = "getTagRssFeed",
    tag = "feeds",
    params(("slug" = String, Path, description = "Tag slug")),
    responses(
        (status = 200, description = "RSS 2.0", body = String, content_type = "application/rss+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/tags/{slug}/rss.xml")]
async fn tag_rss(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Tag(slug.into_inner()), Format::Rss).await
}

/// Tag feed (Atom)
#[utoipa::path(
    operation_id = "getTagAtomFeed",
    tag = "feeds",
    params(("slug" = String, Path, description = "Tag slug")),
    responses(
        (status = 200, description = "Atom 1.0", body = String, content_type = "application/atom+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/tags/{slug}/atom.xml")]
async fn tag_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Tag(slug.into_inner()), Format::Atom).await
}

/// Tag feed (JSON Feed)
#[utoipa::path(
    operation_id = "getTagJsonFeed",
    tag = "feeds",
    params(("slug" = String, Path, description = "Tag slug")),
    responses(
        (status = 200, description = "JSON Feed 1.1", body = super::build::JsonFeed, content_type = "application/feed+json"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such tag", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/tags/{slug}/feed.json")]
async fn tag_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Tag(slug.into_inner()), Format::Json).await
}

/// Author feed (RSS 2.0)
///
/// Like the site feed, for one author's articles. 404 for a user with no
/// published article (not an author, publicly).
#[utoipa::path(
    operation_id = "getAuthorRssFeed",
    tag = "feeds",
    params(("slug" = String, Path, description = "Author slug")),
    responses(
        (status = 200, description = "RSS 2.0", body = String, content_type = "application/rss+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/authors/{slug}/rss.xml")]
async fn author_rss(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Author(slug.into_inner()), Format::Rss).await
}

/// Author feed (Atom)
#[utoipa::path(
    operation_id = "getAuthorAtomFeed",
    tag = "feeds",
    params(("slug" = String, Path, description = "Author slug")),
    responses(
        (status = 200, description = "Atom 1.0", body = String, content_type = "application/atom+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/authors/{slug}/atom.xml")]
async fn author_atom(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Author(slug.into_inner()), Format::Atom).await
}

/// Author feed (JSON Feed)
#[utoipa::path(
    operation_id = "getAuthorJsonFeed",
    tag = "feeds",
    params(("slug" = String, Path, description = "Author slug")),
    responses(
        (status = 200, description = "JSON Feed 1.1", body = super::build::JsonFeed, content_type = "application/feed+json"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feeds/authors/{slug}/feed.json")]
async fn author_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    serve(req, state, Scope::Author(slug.into_inner()), Format::Json).await
}
