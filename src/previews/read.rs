//! Reading an article by preview token: the `preview` parameter of
//! `GET /articles/{id}` and `GET /articles/slug/{slug}`.
//!
//! Any token that does not open this article now (unknown, expired,
//! revoked, or made for another article) is the same 401, so a holder
//! learns nothing about other articles. A request with a content API key
//! must have the key's `preview` scope (403 otherwise).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use base64::Engine;
use rand::RngCore;

use crate::articles::dto::Article;
use crate::articles::{queries as articles, render};
use crate::error::ApiError;
use crate::integrations::{ContentKey, Scope};
use crate::state::AppState;

/// Every preview token starts with this.
pub const TOKEN_PREFIX: &str = "ndp_";
/// `ndp_` and 43 base64url characters.
const TOKEN_LEN: usize = 4 + 43;

/// A new token and its stored hash.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = crate::integrations::keys::hash(&token);
    (token, hash)
}

/// The `preview` parameter of a request, when given and not empty.
pub fn token_param(req: &HttpRequest) -> Option<String> {
    let query = req.query_string();
    if !query.contains("preview=") {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name == "preview" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
}

/// Which article the request names.
pub enum Target {
    Id(i64),
    Slug(String),
}

fn refused() -> ApiError {
    ApiError::Unauthorized("the preview token is invalid, expired or revoked".into())
}

/// The previewed article, answered privately.
pub async fn respond(
    req: &HttpRequest,
    state: &AppState,
    target: Target,
    token: String,
) -> Result<HttpResponse, ApiError> {
    if let Some(key) = req.extensions().get::<ContentKey>() {
        crate::auth::extract::require_scope(key, Scope::Preview)?;
    }
    let well_formed = token.len() == TOKEN_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(refused());
    }
    let hash = crate::integrations::keys::hash(&token);
    let now = crate::time::now();
    let (article, pinned) = state
        .db
        .read(move |conn| {
            let (article_id, version) =
                super::queries::find_live(conn, &hash, now)?.ok_or_else(refused)?;
            let (row, author) = match target {
                Target::Id(id) if id == article_id => articles::find(conn, id)?,
                Target::Slug(slug) => match articles::find_by_slug(conn, &slug)? {
                    Some(found) if found.0.id == article_id => found,
                    _ => return Err(refused()),
                },
                Target::Id(_) => return Err(refused()),
            };
            let tags = articles::tags_of(conn, article_id)?;
            let mut article = Article::from_parts(row, author, tags);
            if let Some(v) = version {
                let revision = articles::find_revision(conn, article_id, v)?;
                let snapshot =
                    serde_json::from_str(&revision.snapshot).map_err(ApiError::internal)?;
                overlay(&mut article, snapshot, v);
            }
            Ok((article, version.is_some()))
        })
        .await?;
    let etag = if pinned {
        format!("\"p{}-r{}\"", article.id, article.version)
    } else {
        format!("\"p{}-v{}\"", article.id, article.version)
    };
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ))
        .insert_header(("X-Robots-Tag", HeaderValue::from_static("noindex")))
        .insert_header((header::ETAG, etag))
        .json(article))
}

/// The article with a revision's content (and that revision's version).
fn overlay(article: &mut Article, s: crate::articles::dto::Snapshot, version: i64) {
    let rendered = render::render(&s.body, s.body_format);
    article.title = s.title;
    article.slug = s.slug;
    article.subtitle = s.subtitle;
    article.excerpt = s.excerpt.unwrap_or(rendered.excerpt);
    article.body = s.body;
    article.body_format = s.body_format;
    article.body_html = rendered.html;
    article.reading_time_minutes = rendered.reading_time_minutes;
    article.status = s.status;
    article.published_at = s.published_at;
    article.feature_image = s.feature_image;
    article.comments_enabled = s.comments_enabled;
    article.meta_title = s.meta_title;
    article.meta_description = s.meta_description;
    article.canonical_url = s.canonical_url;
    article.tags = s.tags;
    article.version = version;
}
