//! `GET /events`: the event log, oldest first, resumable by id.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{Event, EventListQuery};
use super::queries;
use crate::auth::extract::{EditorOrKey, EventsScope};
use crate::error::{ApiError, Problem};
use crate::http::{Page, PageMeta, StrictQuery};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_events);
}

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// Who may read the event log: editors and admins, or a content API key
/// with the `events` scope (a search indexer, a newsletter tool).
pub type EventReader = EditorOrKey<EventsScope>;

/// List events
///
/// Editors and admins, or a content API key with the `events` scope. The
/// event log, oldest first: every change a front
/// end, CDN or search index cares about, written in the same transaction
/// as the change. Resume with `after` set to the last `id` seen (also
/// `meta.next_cursor`, present while more events follow): ids only grow,
/// and an event never appears behind one already listed. `meta.total`
/// counts the events after `after`.
#[utoipa::path(
    operation_id = "listEvents",
    tag = "events",
    params(EventListQuery),
    security(("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    responses(
        (status = 200, description = "Events after the cursor", body = Page<Event>,
         headers(("X-Total-Count" = i64, description = "Events after the cursor"), ("Link" = String, description = "RFC 8288 link to the next events (rel=next), while more follow"))),
        (status = 400, description = "Bad query parameter (unknown parameter, negative after, limit outside 1..1000)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor, or a key without the events scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
async fn list_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    _reader: EventReader,
    query: StrictQuery<EventListQuery>,
) -> Result<HttpResponse, ApiError> {
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_request("after must be 0 or an event id"));
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    // Events of writes that just committed (this caller's among them) get
    // their place in the log first.
    super::sequence(&state.db).await?;
    let (mut rows, total) = state
        .db
        .read(move |conn| {
            let rows = queries::after(conn, after, limit + 1)?;
            let total = queries::count_after(conn, after)?;
            Ok((rows, total))
        })
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = rows.last().filter(|_| more).map(|r| r.id.to_string());
    let page = Page {
        data: rows.into_iter().map(Event::from_row).collect::<Vec<_>>(),
        meta: PageMeta {
            page: 1,
            per_page: limit,
            total,
            total_pages: (total + limit - 1) / limit,
            next_cursor,
        },
    };
    // Only `next` links: the position is the cursor, there are no pages.
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", total.to_string()));
    if let Some(cursor) = &page.meta.next_cursor {
        res.insert_header((
            header::LINK,
            format!(
                "<{}?after={cursor}&limit={limit}>; rel=\"next\"",
                req.path()
            ),
        ));
    }
    Ok(res.json(page))
}
