//! `/sitemap.xml` and `/sitemaps/...`: public files at the site root.
//!
//! Locations in the index are this server's (the request's scheme and
//! host: a front end that proxies them keeps its own host); locations inside
//! the sitemaps are the front end's pages (`NEWSDESK_PUBLIC_URL_TEMPLATE`).
//! Query strings are ignored.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{Duration, NaiveDateTime};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{queries, xml};
use crate::articles::listing::next_scheduled;
use crate::error::{ApiError, Problem};
use crate::feeds::routes::public_file;
use crate::state::AppState;

/// Rows read per database round trip while streaming an article sitemap.
const CHUNK: i64 = 1000;
/// The news sitemap covers this much time...
pub const NEWS_WINDOW_HOURS: i64 = 48;
/// ...and at most this many stories (Google's limit).
pub const NEWS_MAX: i64 = 1000;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sitemap_index)
        .service(articles_sitemap)
        .service(tags_sitemap)
        .service(authors_sitemap)
        .service(news_sitemap);
}

fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn io_error(e: std::io::Error) -> ApiError {
    ApiError::internal(anyhow::anyhow!("writing a sitemap: {e}"))
}

/// Sitemap index
///
/// Lists the article sitemaps that have URLs (with the last change in
/// each), then the tag, author and Google News sitemaps.
#[utoipa::path(
    operation_id = "getSitemapIndex",
    tag = "sitemaps",
    responses(
        (status = 200, description = "A sitemap index (sitemaps.org 0.9)", body = String, content_type = "application/xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/sitemap.xml")]
async fn sitemap_index(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::time::now();
    let backend = state.db.backend();
    let size = state.config.sitemap_page_size;
    let reader = state.clone();
    let (pages, next) = state
        .db
        .read(move |conn| {
            let next = next_scheduled(conn, now)?;
            let pages = reader.sitemaps.pages(conn, backend, now, next, size)?;
            Ok((pages, next))
        })
        .await?;
    let base = origin(&req);
    let mut entries: Vec<(String, Option<NaiveDateTime>)> = pages
        .iter()
        .map(|(n, lastmod)| (format!("{base}/sitemaps/articles-{n}.xml"), *lastmod))
        .collect();
    for name in ["tags", "authors", "news"] {
        entries.push((format!("{base}/sitemaps/{name}.xml"), None));
    }
    let body = xml::index(&entries).map_err(io_error)?;
    Ok(public_file(&req, &state, xml::CONTENT_TYPE, now, next).body(body))
}

/// Article sitemap
///
/// Page `n` lists the published articles with ids from `(n - 1) * size + 1`
/// to `n * size` (`size` is `NEWSDESK_SITEMAP_PAGE_SIZE`, at most 50,000),
/// with the front end's URL and `lastmod`. Pages without any published
/// article are 404 (the index lists the others).
#[utoipa::path(
    operation_id = "getArticleSitemap",
    tag = "sitemaps",
    params(("n" = u32, Path, minimum = 1, description = "Page number")),
    responses(
        (status = 200, description = "A sitemap (sitemaps.org 0.9)", body = String, content_type = "application/xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such page", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sitemaps/articles-{n}.xml")]
async fn articles_sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let no_page = || ApiError::not_found("no such sitemap page");
    let raw = n.into_inner();
    // Only the canonical spelling: `01` or `+1` would be a second URL of a page.
    let n: i64 = match raw.parse::<u32>() {
        Ok(v) if v >= 1 && v.to_string() == raw => i64::from(v),
        _ => return Err(no_page()),
    };
    let size = i64::from(state.config.sitemap_page_size);
    let range = ((n - 1) * size, n * size);
    let now = crate::time::now();
    let backend = state.db.backend();
    let reader = state.clone();
    let (fingerprint, next) = state
        .db
        .read(move |conn| {
            let next = next_scheduled(conn, now)?;
            let fingerprint = reader
                .sitemaps
                .fingerprint(conn, backend, now, next, (n, range))?;
            Ok((fingerprint, next))
        })
        .await?;
    if fingerprint.0 == 0 {
        return Err(no_page());
    }
    // The answer follows from these facts and the URL template: the ETag,
    // so that the body is streamed and never held to be hashed.
    let etag = crate::http::caching::etag_for(
        format!(
            "sitemap|{n}|{size}|{fingerprint:?}|{:?}",
            state.config.public_urls
        )
        .as_bytes(),
    );
    let mut res = public_file(&req, &state, xml::CONTENT_TYPE, now, next);
    res.insert_header((header::ETAG, etag));
    Ok(res.streaming(article_chunks(state.into_inner(), now, range)))
}

/// The article sitemap as a stream: head, one chunk per `CHUNK` rows, tail.
fn article_chunks(
    state: std::sync::Arc<AppState>,
    now: NaiveDateTime,
    (from, to): (i64, i64),
) -> impl futures_util::Stream<Item = Result<Bytes, ApiError>> {
    enum Step {
        Head,
        After(i64),
        Tail,
        Done,
    }
    futures_util::stream::unfold(Step::Head, move |step| {
        let state = state.clone();
        async move {
            match step {
                Step::Head => Some((
                    xml::urlset_head(false).map(Bytes::from).map_err(io_error),
                    Step::After(from),
                )),
                Step::After(after) => {
                    let backend = state.db.backend();
                    let rows = state
                        .db
                        .read(move |conn| {
                            Ok(queries::article_urls(conn, backend, now, after, to, CHUNK)?)
                        })
                        .await;
                    let rows = match rows {
                        Ok(rows) => rows,
                        Err(e) => return Some((Err(e), Step::Done)),
                    };
                    let next = match rows.last() {
                        Some(last) if rows.len() as i64 == CHUNK => Step::After(last.id),
                        _ => Step::Tail,
                    };
                    let urls = &state.config.public_urls;
                    let locs: Vec<(String, NaiveDateTime)> = rows
                        .iter()
                        .map(|r| {
                            (
                                urls.article(&r.slug, r.id, r.published_at),
                                lastmod(r.updated_at, r.published_at),
                            )
                        })
                        .collect();
                    let chunk = xml::urls(locs.iter().map(|(l, t)| (l.as_str(), *t)));
                    Some((chunk.map(Bytes::from).map_err(io_error), next))
                }
                Step::Tail => Some((
                    xml::urlset_tail().map(Bytes::from).map_err(io_error),
                    Step::Done,
                )),
                Step::Done => None,
            }
        }
    })
}

/// The last change of an article page: its last edit, or its publication
/// when that came later (a scheduled story going live).
fn lastmod(updated_at: NaiveDateTime, published_at: Option<NaiveDateTime>) -> NaiveDateTime {
    published_at.map_or(updated_at, |p| p.max(updated_at))
}

/// Tag sitemap
///
/// The front end's page of every tag with at least one published article.
#[utoipa::path(
    operation_id = "getTagSitemap",
    tag = "sitemaps",
    responses(
        (status = 200, description = "A sitemap (sitemaps.org 0.9)", body = String, content_type = "application/xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/sitemaps/tags.xml")]
async fn tags_sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::time::now();
    let (rows, next) = state
        .db
        .read(move |conn| Ok((queries::tag_urls(conn, now)?, next_scheduled(conn, now)?)))
        .await?;
    let urls = &state.config.public_urls;
    let locs: Vec<(String, NaiveDateTime)> = rows
        .into_iter()
        .map(|(slug, t)| (urls.tag(&slug), t))
        .collect();
    let body = whole_urlset(&locs)?;
    Ok(public_file(&req, &state, xml::CONTENT_TYPE, now, next).body(body))
}

/// Author sitemap
///
/// The front end's page of every author (a user with a published article).
#[utoipa::path(
    operation_id = "getAuthorSitemap",
    tag = "sitemaps",
    responses(
        (status = 200, description = "A sitemap (sitemaps.org 0.9)", body = String, content_type = "application/xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/sitemaps/authors.xml")]
async fn authors_sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::time::now();
    let (rows, next) = state
        .db
        .read(move |conn| Ok((queries::author_urls(conn, now)?, next_scheduled(conn, now)?)))
        .await?;
    let urls = &state.config.public_urls;
    let locs: Vec<(String, NaiveDateTime)> = rows
        .into_iter()
        .map(|(slug, t)| (urls.author(&slug), t))
        .collect();
    let body = whole_urlset(&locs)?;
    Ok(public_file(&req, &state, xml::CONTENT_TYPE, now, next).body(body))
}

fn whole_urlset(locs: &[(String, NaiveDateTime)]) -> Result<Vec<u8>, ApiError> {
    let mut body = xml::urlset_head(false).map_err(io_error)?;
    body.extend(xml::urls(locs.iter().map(|(l, t)| (l.as_str(), *t))).map_err(io_error)?);
    body.extend(xml::urlset_tail().map_err(io_error)?);
    Ok(body)
}

/// Google News sitemap
///
/// The stories published in the last 48 hours, newest first (at most
/// 1,000), with the publication's name (`NEWSDESK_SITE_NAME`) and language
/// (`NEWSDESK_SITE_LANGUAGE`).
#[utoipa::path(
    operation_id = "getNewsSitemap",
    tag = "sitemaps",
    responses(
        (status = 200, description = "A Google News sitemap", body = String, content_type = "application/xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
#[get("/sitemaps/news.xml")]
async fn news_sitemap(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::time::now();
    let since = now - Duration::hours(NEWS_WINDOW_HOURS);
    let backend = state.db.backend();
    let (rows, next) = state
        .db
        .read(move |conn| {
            Ok((
                queries::recent_articles(conn, backend, now, since, NEWS_MAX)?,
                next_scheduled(conn, now)?,
            ))
        })
        .await?;
    // Leaves the window by itself: cached no longer than until the oldest
    // story is 48 hours old.
    let expires = rows
        .iter()
        .filter_map(|(r, _)| r.published_at)
        .min()
        .map(|t| t + Duration::hours(NEWS_WINDOW_HOURS));
    let next = match (next, expires) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let urls = &state.config.public_urls;
    let locs: Vec<(String, &(queries::ArticleUrl, String))> = rows
        .iter()
        .map(|row| (urls.article(&row.0.slug, row.0.id, row.0.published_at), row))
        .collect();
    let stories: Vec<xml::NewsUrl<'_>> = locs
        .iter()
        .map(|(loc, (r, title))| xml::NewsUrl {
            loc,
            lastmod: lastmod(r.updated_at, r.published_at),
            published_at: r.published_at.unwrap_or(r.updated_at),
            title,
        })
        .collect();
    let body = xml::news(
        &state.config.site_name,
        &state.config.site_language,
        &stories,
    )
    .map_err(io_error)?;
    Ok(public_file(&req, &state, xml::CONTENT_TYPE, now, next).body(body))
}
