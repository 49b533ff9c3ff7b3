//! `GET /api/v1/redirects/resolve?path=`: one call for a front end to keep
//! every old link alive.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{PATH_MAX, normalize, queries, toggle_trailing_slash};
use crate::articles::content::is_visible;
use crate::articles::queries as articles;
use crate::auth::MaybeUser;
use crate::db::DbConnection;
use crate::error::{ApiError, Problem};
use crate::http::StrictQuery;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(resolve);
}

/// Query of `GET /redirects/resolve`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// The old path (with its query string, if it had one), e.g.
    /// `/2019/05/old-slug/` or `/?p=123`; a full URL is cut down to its
    /// path and query.
    #[param(
        max_length = 2048,
        pattern = r"^(/([^/\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*)?|https?://[^/\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*)$",
        example = "/2019/05/old-slug/"
    )]
    pub path: String,
}

/// Where an old URL now lives.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Resolved {
    /// The path to send the reader to (the article's current public path
    /// per `NEWSDESK_PUBLIC_URL_TEMPLATE`, or a fixed location recorded by
    /// an import).
    #[schema(example = "/articles/new-slug")]
    pub location: String,
    /// The status the front end should answer with.
    #[schema(example = 301)]
    pub status: u16,
}

/// The article an old path leads to: a recorded old URL first, then the
/// slug history (the path's last segment as an old slug).
fn target(conn: &mut DbConnection, spellings: &[String]) -> Result<Option<Target>, ApiError> {
    if let Some(row) = queries::find(conn, spellings)? {
        return Ok(match (row.article_id, row.location) {
            (Some(id), _) => Some(Target::Article(id)),
            (None, Some(location)) => Some(Target::Fixed(location)),
            (None, None) => None,
        });
    }
    let path = spellings[0].split('?').next().unwrap_or_default();
    let Some(last) = path.split('/').rev().find(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !crate::slug::is_valid(last) {
        return Ok(None);
    }
    Ok(articles::redirect_target(conn, last)?.map(Target::Article))
}

enum Target {
    Article(i64),
    Fixed(String),
}

/// Resolve an old URL
///
/// Public. For an old path of the front end (an imported site's URL, or a
/// published article's former slug as the last path segment), answers the
/// location it moved to and the status to send (301). `/a/` and `/a` are
/// the same path. 404 when nothing is known, when the article is not
/// published, or when the path already is the current one.
#[utoipa::path(
    operation_id = "resolveRedirect",
    tag = "redirects",
    params(ResolveQuery),
    responses(
        (status = 200, description = "The new location", body = Resolved),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Missing, unknown or malformed query parameter (path must start with /, at most 2,048 characters, no control characters)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nothing lives under a new address for this path", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/redirects/resolve")]
async fn resolve(
    state: web::Data<AppState>,
    _caller: MaybeUser,
    query: StrictQuery<ResolveQuery>,
) -> Result<HttpResponse, ApiError> {
    let unknown = || ApiError::not_found("no new address is known for this path");
    let raw = query.path.as_str();
    // An empty parameter counts as absent: no path, nothing lives there.
    if raw.is_empty() {
        return Err(unknown());
    }
    if !documented(raw) {
        return Err(ApiError::bad_request(format!(
            "path must be a path starting with / or an http(s) URL (at most {PATH_MAX} characters, no control characters)"
        )));
    }
    // Of the documented form, but no URL (a host that cannot be): unknown.
    let Some(path) = normalize(raw) else {
        return Err(unknown());
    };
    let mut spellings = vec![path.clone()];
    spellings.extend(toggle_trailing_slash(&path));
    let now = crate::time::now();
    let reader = state.clone();
    let location = state
        .db
        .read(move |conn| {
            Ok(match target(conn, &spellings)? {
                Some(Target::Fixed(location)) => Some(location),
                Some(Target::Article(id)) => {
                    let (row, _) = articles::find(conn, id)?;
                    is_visible(&row.status, row.published_at, now).then(|| {
                        reader
                            .config
                            .public_urls
                            .article_path(&row.slug, row.id, row.published_at)
                    })
                }
                None => None,
            })
        })
        .await?;
    match location {
        Some(location)
            if location != path && Some(&location) != toggle_trailing_slash(&path).as_ref() =>
        {
            Ok(HttpResponse::Ok().json(Resolved {
                location,
                status: 301,
            }))
        }
        _ => Err(unknown()),
    }
}

/// The documented form of `path`: `/` then no second `/`, or `http(s)://`
/// and a host; at most `PATH_MAX` characters, no control characters.
fn documented(raw: &str) -> bool {
    let control = |c: char| c <= '\u{1f}' || c == '\u{7f}';
    if raw.len() > PATH_MAX || raw.chars().any(control) {
        return false;
    }
    if let Some(rest) = raw.strip_prefix('/') {
        return !rest.starts_with('/');
    }
    let host = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    host.is_some_and(|h| !h.is_empty() && !h.starts_with('/'))
}
