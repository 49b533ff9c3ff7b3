//! `/media`: upload, list, read, update and delete pictures of the library
//! (authors and up), and `/media/files/...` at the site root, where the
//! stored originals and renditions are served to anyone as immutable files.
//!
//! Who may do what: authors and up upload, list and read every picture (a
//! newsroom shares its library); authors change and delete their own
//! uploads, editors any. Deleting a picture an article uses is a 409 naming
//! those articles, unless an editor forces it.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use futures_util::StreamExt;
use sha2::Digest;
use tokio::io::AsyncWriteExt;
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{DeleteMediaQuery, Focal, Media, MediaListQuery, UpdateMedia, UploadMedia};
use super::processing::{self, Kind};
use super::queries::{self, MediaChanges, MediaFilter, NewMedia};
use super::storage;
use crate::articles::content::query_text;
use crate::auth::{AuthUser, Role};
use crate::db::keyset::TimeSeek;
use crate::error::{ApiError, Problem};
use crate::events::EventType;
use crate::http::{Json, Listed, Page, StrictQuery};
use crate::state::AppState;
use crate::validate::Validator;

pub const ALT_MAX: usize = 1000;
pub const CAPTION_MAX: usize = 1000;
pub const CREDIT_MAX: usize = 300;
/// The most bytes a text field of the upload form may have.
const TEXT_FIELD_BYTES: usize = 8 * 1024;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(upload_media)
        .service(list_media)
        .service(get_media)
        .service(update_media)
        .service(delete_media);
}

/// The public files, at the site root.
pub fn file_routes(cfg: &mut ServiceConfig) {
    cfg.service(media_file);
}

/// The text fields of an upload, as received.
#[derive(Default)]
struct Form {
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
    focal_x: Option<String>,
    focal_y: Option<String>,
}

/// A received file: where it is, its SHA-256 and size.
struct Received {
    file: tempfile::NamedTempFile,
    hash: String,
    size: usize,
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("malformed multipart body: {e}"))
}

/// Streams the `file` part into a temp file, hashing as it goes, and stops
/// at the first byte over the limit.
async fn receive_file(
    field: &mut actix_multipart::Field,
    state: &AppState,
) -> Result<Received, ApiError> {
    let max = state.config.media.max_bytes;
    let store = state.media.staging.clone();
    let tmp = web::block(move || store.upload_file())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let mut out = tokio::fs::File::from_std(tmp.reopen().map_err(ApiError::internal)?);
    let mut hasher = sha2::Sha256::new();
    let mut size = 0usize;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        size += chunk.len();
        if size > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "the file exceeds {max} bytes"
            )));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(Received {
        file: tmp,
        hash: format!("{:x}", hasher.finalize()),
        size,
    })
}

async fn read_text(field: &mut actix_multipart::Field, name: &str) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        if buf.len() + chunk.len() > TEXT_FIELD_BYTES {
            return Err(ApiError::invalid(
                name,
                format!("must be at most {TEXT_FIELD_BYTES} bytes"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| ApiError::invalid(name, "must be UTF-8 text"))
}

/// Reads the whole form; the file goes to disk, never to memory.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Option<Received>, Form), ApiError> {
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut form = Form::default();
    let mut file = None;
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_string();
        let slot = match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(ApiError::invalid("file", "must be given once"));
                }
                file = Some(receive_file(&mut field, state).await?);
                continue;
            }
            "alt" => &mut form.alt,
            "caption" => &mut form.caption,
            "credit" => &mut form.credit,
            "focal_x" => &mut form.focal_x,
            "focal_y" => &mut form.focal_y,
            _ => {
                let shown: String = name.chars().take(60).collect();
                return Err(ApiError::invalid(shown, "is not a field of this form"));
            }
        };
        if slot.is_some() {
            return Err(ApiError::invalid(name, "must be given once"));
        }
        *slot = Some(read_text(&mut field, &name).await?);
    }
    Ok((file, form))
}

fn focal_part(v: &mut Validator, name: &str, value: Option<&str>) -> Option<f64> {
    let raw = value.map(str::trim).filter(|s| !s.is_empty())?;
    match raw.parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=1.0).contains(&n) => Some(n),
        _ => {
            v.add(name, "must be a number from 0 to 1");
            None
        }
    }
}

fn check_focal(v: &mut Validator, focal: &Focal) {
    for (name, n) in [("focal.x", focal.x), ("focal.y", focal.y)] {
        if !(n.is_finite() && (0.0..=1.0).contains(&n)) {
            v.add(name, "must be a number from 0 to 1");
        }
    }
}

/// The metadata of an upload, validated.
struct Metadata {
    alt: String,
    caption: Option<String>,
    credit: Option<String>,
    focal: Option<(f64, f64)>,
}

fn validate_form(v: &mut Validator, form: &Form, require_alt: bool) -> Metadata {
    let alt = form.alt.as_deref().unwrap_or_default();
    let alt = if require_alt {
        v.text("alt", alt, 1, ALT_MAX)
    } else {
        v.text("alt", alt, 0, ALT_MAX)
    };
    let caption = v.opt_text("caption", form.caption.as_deref(), CAPTION_MAX);
    let credit = v.opt_text("credit", form.credit.as_deref(), CREDIT_MAX);
    let x = focal_part(v, "focal_x", form.focal_x.as_deref());
    let y = focal_part(v, "focal_y", form.focal_y.as_deref());
    // One coordinate alone: the other is the middle.
    let focal = match (x, y) {
        (None, None) => None,
        (x, y) => Some((x.unwrap_or(0.5), y.unwrap_or(0.5))),
    };
    Metadata {
        alt,
        caption,
        credit,
        focal,
    }
}

/// What the stored files of an upload are.
struct Stored {
    kind: Kind,
    width: u32,
    height: u32,
    bytes: usize,
    widths: Vec<u32>,
}

fn widths_text(widths: &[u32]) -> String {
    widths
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Upload a picture
///
/// Authors and up. A `multipart/form-data` body with the picture in `file`
/// and its metadata beside it. The type is decided from the bytes (JPEG,
/// PNG, WebP or GIF; not AVIF); a truncated or undecodable file, or one
/// over `NEWSDESK_MEDIA_MAX_PIXELS` pixels or 20,000 pixels a side, is a
/// 422; one over `NEWSDESK_MEDIA_MAX_BYTES` bytes a 413. EXIF (with GPS),
/// XMP, IPTC and comments are stripped from what is served, and a picture
/// its EXIF says to turn is stored turned. Renditions are made at the
/// widths 320, 640, 1024, 1600 and 2400 not wider than the original, in
/// its type and in WebP (lossless). The same bytes uploaded again are
/// stored once: the new row (with its own alt text and uploader) shares
/// the files. 503 with `Retry-After` when too many uploads are being
/// processed.
#[utoipa::path(
    operation_id = "uploadMedia",
    tag = "media",
    request_body(content = UploadMedia, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored picture", body = Media,
         headers(("Location" = String, description = "/api/v1/media/{id}"))),
        (status = 400, description = "Malformed multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Readers may not upload", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file exceeds NEWSDESK_MEDIA_MAX_BYTES", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No file, not a picture of an accepted type, truncated, too many pixels, or invalid metadata", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many uploads at once; retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/media")]
async fn upload_media(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    if !is_multipart(&req) {
        return Err(ApiError::UnsupportedMediaType(
            "send the picture as multipart/form-data".into(),
        ));
    }
    let (file, form) = read_form(&req, payload, &state).await?;
    let mut v = Validator::new();
    let meta = validate_form(&mut v, &form, state.config.media.require_alt);
    if file.as_ref().is_none_or(|f| f.size == 0) {
        v.add("file", "is required: a JPEG, PNG, WebP or GIF picture");
    }
    v.finish()?;
    let Some(file) = file else {
        return Err(ApiError::invalid("file", "is required"));
    };
    let hash = file.hash.clone();
    let media = state.media.clone();

    // The same bytes stored before: their files serve this row too.
    let existing = {
        let hash = hash.clone();
        state
            .db
            .read(move |conn| Ok(queries::by_hash(conn, &hash)?))
            .await?
    };
    let mut reuse = None;
    if let Some(row) = existing
        && let Some(kind) = Kind::from_mime(&row.mime_type)
        && media
            .store
            .has(&row.hash, kind)
            .await
            .map_err(ApiError::internal)?
    {
        reuse = Some(Stored {
            kind,
            width: u32::try_from(row.width).unwrap_or(1),
            height: u32::try_from(row.height).unwrap_or(1),
            bytes: usize::try_from(row.bytes).unwrap_or_default(),
            widths: row
                .rendition_widths
                .split(',')
                .filter_map(|w| w.parse().ok())
                .collect(),
        });
    }
    let processed = match reuse {
        Some(_) => None,
        None => {
            let path = file.file.path().to_path_buf();
            let max_pixels = state.config.media.max_pixels;
            let focal = processing::focal_percent(meta.focal);
            let p = media
                .pool
                .run(move || {
                    let bytes = std::fs::read(&path).map_err(ApiError::internal)?;
                    processing::process_with_crops(&bytes, max_pixels, focal)
                })
                .await??;
            Some(p)
        }
    };
    drop(file);

    let _files = media.files.lock().await;
    let (stored, created) = match (reuse, processed) {
        (Some(stored), _) => {
            if !media
                .store
                .has(&hash, stored.kind)
                .await
                .map_err(ApiError::internal)?
            {
                return Err(ApiError::Unavailable(
                    "the same picture was being deleted; retry".into(),
                ));
            }
            (stored, false)
        }
        (None, Some(p)) => {
            let stored = Stored {
                kind: p.kind,
                width: p.width,
                height: p.height,
                bytes: p.original.len(),
                widths: processing::widths_for(p.width),
            };
            let created = media
                .store
                .put(&hash, p)
                .await
                .map_err(ApiError::internal)?;
            (stored, created)
        }
        (None, None) => return Err(ApiError::internal(anyhow::anyhow!("nothing processed"))),
    };
    if !created {
        // Files stored before, maybe for another focal point: this row's
        // crops are made before the row that names them is committed.
        media
            .ensure_crops(
                &hash,
                stored.kind,
                (stored.width, stored.height),
                processing::focal_percent(meta.focal),
            )
            .await?;
    }
    let now = crate::time::now();
    let row = NewMedia {
        hash: hash.clone(),
        mime_type: stored.kind.mime().into(),
        width: i32::try_from(stored.width).unwrap_or(i32::MAX),
        height: i32::try_from(stored.height).unwrap_or(i32::MAX),
        bytes: i64::try_from(stored.bytes).unwrap_or(i64::MAX),
        rendition_widths: widths_text(&stored.widths),
        alt: meta.alt,
        caption: meta.caption,
        credit: meta.credit,
        focal_x: meta.focal.map(|f| f.0),
        focal_y: meta.focal.map(|f| f.1),
        uploaded_by: Some(user.id),
        created_at: now,
        updated_at: now,
    };
    let announced = media.clone();
    let inserted = state
        .db
        .write(move |conn| {
            let row = queries::insert(conn, &row)?;
            let (row, name) = queries::find(conn, row.id)?;
            let object = announced.to_media(row.clone(), name.clone());
            crate::events::record(
                conn,
                EventType::MediaCreated,
                &format!("media:{}", row.id),
                &object,
                &[],
                now,
            )?;
            Ok((row, name))
        })
        .await;
    let (row, name) = match inserted {
        Ok(found) => found,
        Err(e) => {
            // No row names the files this upload put in place: take them
            // back, so nothing unreferenced stays (a crash here instead
            // leaves them to `newsdesk media rebuild`).
            if created {
                let h = hash.clone();
                let unnamed = state
                    .db
                    .read(move |conn| Ok(queries::by_hash(conn, &h)?.is_none()))
                    .await;
                if matches!(unnamed, Ok(true)) && media.store.remove(&hash).await.is_err() {
                    tracing::warn!(%hash, "could not remove the files of a failed upload");
                }
            }
            return Err(e);
        }
    };
    let body = media.to_media(row, name);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/media/{}", body.id)))
        .json(body))
}

/// List the media library
///
/// Authors and up: every picture of the library, newest first by default.
/// `q` finds words in the alt text or caption; `uploaded_by` keeps one
/// user's uploads.
#[utoipa::path(
    operation_id = "listMedia",
    tag = "media",
    params(MediaListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of pictures", body = Page<Media>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Readers may not see the library", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media")]
async fn list_media(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    list: Listed<MediaListQuery, TimeSeek>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let Listed {
        query: q,
        page,
        seek,
    } = list;
    if q.uploaded_by.is_some_and(|u| u < 1) {
        return Err(ApiError::bad_request("uploaded_by must be a user id"));
    }
    let filter = MediaFilter {
        q: query_text(q.q.as_deref()),
        uploaded_by: q.uploaded_by,
    };
    let (rows, total) = {
        let page = page.clone();
        state
            .db
            .read(move |conn| Ok(queries::list(conn, &filter, &page, seek)?))
            .await?
    };
    let media = state.media.clone();
    let result = page
        .finish(rows, total, |(r, _)| {
            (Some(crate::time::cursor_key(r.created_at)), r.id)
        })
        .map(|(row, name)| media.to_media(row, name));
    Ok(result.respond(&req))
}

/// Get a picture
///
/// Authors and up.
#[utoipa::path(
    operation_id = "getMedia",
    tag = "media",
    params(("id" = i64, Path, description = "Media id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The picture", body = Media),
        (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Readers may not see the library", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such picture", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}")]
async fn get_media(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let id = id.into_inner();
    let (row, name) = state
        .db
        .read(move |conn| Ok(queries::find(conn, id)?))
        .await?;
    Ok(HttpResponse::Ok().json(state.media.to_media(row, name)))
}

fn may_change(user: &AuthUser, row: &queries::MediaRow) -> Result<(), ApiError> {
    if user.is_at_least(Role::Editor) || row.uploaded_by == Some(user.id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the uploader or an editor may change this picture",
        ))
    }
}

/// Update a picture's metadata
///
/// The uploader (authors and up) and editors: alt text, caption, credit
/// and focal point. The file itself never changes (upload a new one).
#[utoipa::path(
    operation_id = "updateMedia",
    tag = "media",
    params(("id" = i64, Path, description = "Media id")),
    request_body = UpdateMedia,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated picture", body = Media),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the uploader or an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such picture", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/media/{id}")]
async fn update_media(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateMedia>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let require_alt = state.config.media.require_alt;
    let new_focal = match &body.focal {
        Some(Some(f)) if (0.0..=1.0).contains(&f.x) && (0.0..=1.0).contains(&f.y) => {
            Some(processing::focal_percent(Some((f.x, f.y))))
        }
        Some(None) => Some(processing::focal_percent(None)),
        _ => None,
    };
    if let Some(focal) = new_focal {
        // The crops for the new focal point exist before a row names them
        // (an invalid change makes none; a refused one leaves unused files).
        let found = state
            .db
            .read(move |conn| Ok(queries::find(conn, id)?.0))
            .await?;
        may_change(&user, &found)?;
        if let Some(kind) = Kind::from_mime(&found.mime_type) {
            state
                .media
                .ensure_crops(
                    &found.hash,
                    kind,
                    (
                        u32::try_from(found.width).unwrap_or(1),
                        u32::try_from(found.height).unwrap_or(1),
                    ),
                    focal,
                )
                .await?;
        }
    }
    let (row, name) = state
        .db
        .write(move |conn| {
            let (row, _) = queries::find(conn, id)?;
            may_change(&user, &row)?;
            let mut v = Validator::new();
            let alt = match &body.alt {
                Some(a) => v.text("alt", a, usize::from(require_alt), ALT_MAX),
                None => row.alt.clone(),
            };
            let caption = match &body.caption {
                Some(c) => v.opt_text("caption", c.as_deref(), CAPTION_MAX),
                None => row.caption.clone(),
            };
            let credit = match &body.credit {
                Some(c) => v.opt_text("credit", c.as_deref(), CREDIT_MAX),
                None => row.credit.clone(),
            };
            let focal = match &body.focal {
                Some(Some(f)) => {
                    check_focal(&mut v, f);
                    Some((f.x, f.y))
                }
                Some(None) => None,
                None => row.focal_x.zip(row.focal_y),
            };
            v.finish()?;
            let changes = MediaChanges {
                alt,
                caption,
                credit,
                focal_x: focal.map(|f| f.0),
                focal_y: focal.map(|f| f.1),
                updated_at: crate::time::now(),
            };
            queries::update(conn, id, &changes)?;
            Ok(queries::find(conn, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(state.media.to_media(row, name)))
}

/// Delete a picture
///
/// The uploader (authors and up) and editors. A picture that articles use
/// as their feature image is a 409 naming them, unless an editor sends
/// `force=true` (those articles then have no feature image). The files go
/// when no other upload of the same bytes remains.
#[utoipa::path(
    operation_id = "deleteMedia",
    tag = "media",
    params(("id" = i64, Path, description = "Media id"), DeleteMediaQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad id or query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the uploader or an editor, or `force` by an author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such picture", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Articles use the picture (named in `detail`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/media/{id}")]
async fn delete_media(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: StrictQuery<DeleteMediaQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Author)?;
    let id = id.into_inner();
    let force = query.force.unwrap_or(false);
    if force && !user.is_at_least(Role::Editor) {
        return Err(ApiError::forbidden("only editors may force a deletion"));
    }
    let media = state.media.clone();
    let _files = media.files.lock().await;
    let unused_hash = state
        .db
        .write(move |conn| {
            let (row, _) = queries::find(conn, id)?;
            may_change(&user, &row)?;
            let used = queries::articles_using(conn, id)?;
            if !used.is_empty() && !force {
                let names: Vec<String> = used
                    .iter()
                    .map(|(id, slug)| format!("{id} ({slug})"))
                    .collect();
                return Err(ApiError::conflict(format!(
                    "the picture is the feature image of articles {}; an editor may delete it with force=true",
                    names.join(", ")
                )));
            }
            queries::delete(conn, id)?;
            // Articles that showed it change: a CDN purges them and lists.
            let mut purge: Vec<String> = used
                .iter()
                .map(|(id, _)| crate::http::surrogate::article(*id))
                .collect();
            if !purge.is_empty() {
                purge.push(crate::http::surrogate::LIST_ARTICLES.to_string());
            }
            crate::events::record(
                conn,
                EventType::MediaDeleted,
                &format!("media:{id}"),
                &serde_json::json!({ "id": id }),
                &purge,
                crate::time::now(),
            )?;
            let shared = queries::by_hash(conn, &row.hash)?.is_some();
            Ok((!shared).then_some(row.hash))
        })
        .await?;
    if let Some(hash) = unused_hash {
        if media.store.remove(&hash).await.is_err() {
            tracing::warn!(id, "could not remove the files of a deleted picture");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Files smaller than this are read without leaving the worker thread
/// (renditions and crops; large originals still stream from the blocking
/// pool).
const SYNC_READ_BELOW: u64 = 1024 * 1024;

/// A stored file
///
/// Public: an original or a rendition, at exactly the path its media
/// object names. Only files that were made at upload exist: no URL makes
/// the server resize. Cached for a year (`immutable`: a file's content
/// never changes at its path), with a strong `ETag` and `Last-Modified`,
/// byte ranges (`Range`, 206; 416 outside the file) and `HEAD`.
#[utoipa::path(
    operation_id = "getMediaFile",
    tag = "media",
    params(
        ("hash" = String, Path, description = "The picture's content hash", pattern = "^[0-9a-f]{64}$"),
        ("file" = String, Path, description = "`original.EXT`, `WIDTH.EXT` or a crop's `WIDTH-RATIO-FX-FY.EXT` (focal point in whole percent)", pattern = r"^(original|320|640|1024|1600|2400|(320|640|1024|1600)-(16x9|1x1|4x3)-(100|[1-9]?[0-9])-(100|[1-9]?[0-9]))\.(jpg|png|webp|gif)$"),
    ),
    responses(
        (status = 200, description = "The file", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif"))),
        (status = 206, description = "Part of the file (Range)", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is outside the file", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/files/{hash}/{file}")]
async fn media_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (hash, file) = path.into_inner();
    let missing = || ApiError::not_found("no such media file");
    if !storage::is_hash(&hash) || !storage::is_file_name(&file) {
        return Err(missing());
    }
    let Some(path) = state.media.store.local_path(&hash, &file) else {
        return serve_from_store(&req, state.media.store.as_ref(), &hash, &file).await;
    };
    // Opened and, below SYNC_READ_BELOW, read on the worker itself: a
    // picture on local disk is nearly always in the page cache, and a hop
    // to a blocking thread per open and per 64 KiB chunk cost more than the
    // read (a 125 KB rendition: 1,571 -> 16,563 requests/s).
    let named = actix_files::NamedFile::open(&path)
        .map_err(|_| missing())?
        .read_mode_threshold(SYNC_READ_BELOW)
        .disable_content_disposition();
    // `NamedFile` answers the conditional requests (`If-None-Match`,
    // `If-Modified-Since`, `If-Match`) with its own strong ETag (file
    // identity, size and time) and serves ranges. `If-Range` it ignores,
    // which is safe here: the content at a path never changes.
    let mut res = named.into_response(&req);
    if res.status().is_success() || res.status() == actix_web::http::StatusCode::NOT_MODIFIED {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    Ok(res)
}

/// Serves a file of a store that is not local disk (S3) by streaming it
/// through: the same answers as `NamedFile` gives for local files. The
/// ETag is made of the path (hash and name), which names one content
/// forever, so a conditional request is answered without a fetch.
async fn serve_from_store(
    req: &HttpRequest,
    store: &dyn storage::MediaStore,
    hash: &str,
    file: &str,
) -> Result<HttpResponse, ApiError> {
    use actix_web::http::StatusCode;
    let etag = format!("\"{hash}-{file}\"");
    let mime = file
        .rsplit_once('.')
        .and_then(|(_, ext)| Kind::from_ext(ext))
        .map_or("application/octet-stream", Kind::mime);
    let Some(stat) = store.stat(hash, file).await.map_err(ApiError::internal)? else {
        return Err(ApiError::not_found("no such media file"));
    };
    let last_modified = header::HttpDate::from(stat.modified);
    let common = |res: &mut actix_web::HttpResponseBuilder| {
        res.insert_header((header::ETAG, etag.clone()))
            .insert_header((header::LAST_MODIFIED, last_modified.to_string()))
            .insert_header((header::CACHE_CONTROL, IMMUTABLE))
            .insert_header((header::ACCEPT_RANGES, "bytes"));
    };
    if not_modified(req, &etag, stat.modified) {
        let mut res = HttpResponse::NotModified();
        common(&mut res);
        return Ok(res.finish());
    }
    let range = match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        None => None,
        Some(r) => match parse_range(r, stat.size) {
            RangeAsked::Whole => None,
            RangeAsked::Part(range) => Some(range),
            RangeAsked::Unsatisfiable => {
                return Ok(HttpResponse::RangeNotSatisfiable()
                    .insert_header((header::CONTENT_RANGE, format!("bytes */{}", stat.size)))
                    .finish());
            }
        },
    };
    let (status, bytes) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.clone()),
        None => (StatusCode::OK, 0..stat.size),
    };
    let mut res = HttpResponse::build(status);
    common(&mut res);
    res.insert_header((header::CONTENT_TYPE, mime));
    if range.is_some() {
        res.insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                bytes.start,
                bytes.end.saturating_sub(1),
                stat.size
            ),
        ));
    }
    let length = bytes.end - bytes.start;
    // HEAD: the length of what a GET would send, and no fetch.
    let stream = if req.method() == actix_web::http::Method::HEAD || length == 0 {
        futures_util::stream::empty().boxed()
    } else {
        store
            .read_range(hash, file, bytes)
            .await
            .map_err(ApiError::internal)?
    };
    Ok(res.body(actix_web::body::SizedStream::new(length, stream)))
}

/// Whether the client's copy is current (`If-None-Match` first, then
/// `If-Modified-Since`, as RFC 9110 orders them).
fn not_modified(req: &HttpRequest, etag: &str, modified: std::time::SystemTime) -> bool {
    if let Some(inm) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag);
    }
    req.headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<header::HttpDate>().ok())
        .is_some_and(|since| {
            let since = std::time::SystemTime::from(since);
            // HTTP dates have whole seconds.
            modified
                .duration_since(since)
                .is_ok_and(|d| d < std::time::Duration::from_secs(1))
                || modified < since
        })
}

#[derive(Debug, PartialEq, Eq)]
enum RangeAsked {
    Whole,
    Part(std::ops::Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range of a file of `size` bytes. Several ranges, other
/// units or a malformed header are answered with the whole file (which
/// RFC 9110 allows); a range that starts beyond the end is unsatisfiable.
fn parse_range(header: &str, size: u64) -> RangeAsked {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeAsked::Whole;
    };
    if spec.contains(',') {
        return RangeAsked::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsked::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.is_empty(), number(first), number(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeAsked::Unsatisfiable
            } else {
                RangeAsked::Part(size.saturating_sub(n)..size)
            }
        }
        (false, Some(start), end) if last.is_empty() || end.is_some() => {
            if start >= size {
                return RangeAsked::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => RangeAsked::Whole,
                Some(end) => RangeAsked::Part(start..end.min(size - 1) + 1),
                None => RangeAsked::Part(start..size),
            }
        }
        _ => RangeAsked::Whole,
    }
}

#[cfg(test)]
mod range_tests {
    use super::{RangeAsked, parse_range};

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=10-19", 100), RangeAsked::Part(10..20));
        assert_eq!(parse_range("bytes=10-", 100), RangeAsked::Part(10..100));
        assert_eq!(parse_range("bytes=-5", 100), RangeAsked::Part(95..100));
        assert_eq!(parse_range("bytes=-500", 100), RangeAsked::Part(0..100));
        assert_eq!(parse_range("bytes=90-500", 100), RangeAsked::Part(90..100));
        assert_eq!(parse_range("bytes=100-", 100), RangeAsked::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAsked::Unsatisfiable);
        for whole in [
            "bytes=5-1",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=x-",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(parse_range(whole, 100), RangeAsked::Whole, "{whole}");
        }
    }
}
