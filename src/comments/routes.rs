//! Comments: the public thread of an article, writing and editing one's
//! own comments, and moderation for editors.
//!
//! Every write runs in one transaction that starts by locking the article
//! row, and adjusts `comment_count` and the daily statistics in that same
//! transaction (see `counts`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::dto::{
    ArticleCommentsQuery, BODY_MAX, Comment, CommentListQuery, CommentStatus, CreateComment,
    UpdateComment,
};
use super::queries::{self, APPROVED, AuthorRow, CommentChanges, CommentFilter, CommentRow};
use crate::auth::{AuthUser, MaybeUser, Role};
use crate::config::CommentModeration;
use crate::db::DbConnection;
use crate::db::keyset::TimeSeek;
use crate::error::{ApiError, Problem};
use crate::events::EventType;
use crate::http::surrogate::{Key, SurrogateKeys};
use crate::http::{Json, Listed, Page, PageRequest};
use crate::state::AppState;
use crate::stats::comments as counts;
use crate::validate::Validator;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_article_comments)
        .service(create_comment)
        .service(list_comments)
        .service(get_comment)
        .service(update_comment)
        .service(delete_comment);
}

/// Trims and checks a comment body.
fn valid_body(v: &mut Validator, value: &str) -> String {
    let body = v.text("body", value, 1, BODY_MAX);
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        v.add(
            "body",
            "must not contain control characters other than line breaks and tabs",
        );
    }
    body
}

fn author_of(conn: &mut DbConnection, row: &CommentRow) -> Result<AuthorRow, ApiError> {
    queries::authors(conn, std::slice::from_ref(row))?
        .remove(&row.author_id)
        .ok_or_else(|| ApiError::not_found("no such comment"))
}

/// Loads a page of comments with their authors and answers it.
async fn respond_page(
    req: &HttpRequest,
    state: &AppState,
    filter: CommentFilter,
    page: PageRequest,
    position: Option<TimeSeek>,
    require_visible_article: Option<i64>,
    anonymous: bool,
) -> Result<HttpResponse, ApiError> {
    let (rows, total, authors) = {
        let page = page.clone();
        state
            .db
            .read_as(anonymous, move |conn| {
                if let Some(article_id) = require_visible_article {
                    let now = crate::time::now();
                    queries::article_facts(conn, article_id)?
                        .filter(|a| a.is_visible(now))
                        .ok_or_else(|| ApiError::not_found("no such article"))?;
                }
                let (rows, total) = queries::list(conn, &filter, &page, position)?;
                let authors = queries::authors(conn, &rows)?;
                Ok((rows, total, authors))
            })
            .await?
    };
    let result = page.finish(rows, total, |r| (queries::sort_key(r), r.id));
    let data = result
        .data
        .into_iter()
        .filter_map(|r| {
            let author = authors.get(&r.author_id).cloned()?;
            Some(Comment::new(r, author))
        })
        .collect();
    Ok(Page {
        data,
        meta: result.meta,
    }
    .respond(req))
}

/// List an article's comments
///
/// Public. The approved comments of a visible article, oldest first
/// (`sort=-created_at` for newest first), as a flat list: `parent_id` links
/// replies to the comment they answer, so clients build the threads. The
/// list is the same for every caller (editors see other states through
/// `GET /comments?article_id=`), and `meta.total` equals the article's
/// `comment_count`. Comments stay listed when comments are closed.
#[utoipa::path(
    operation_id = "listArticleComments",
    tag = "comments",
    params(("id" = i64, Path, description = "Article id"), ArticleCommentsQuery),
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    responses(
        (status = 200, description = "A page of approved comments", body = Page<Comment>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad path or query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token was sent and is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No visible article with this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{id}/comments")]
async fn list_article_comments(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: MaybeUser,
    id: web::Path<i64>,
    list: Listed<ArticleCommentsQuery, TimeSeek>,
) -> Result<HttpResponse, ApiError> {
    let article_id = id.into_inner();
    let Listed { page, seek, .. } = list;
    let filter = CommentFilter {
        article_id: Some(article_id),
        status: Some(APPROVED.into()),
    };
    let anonymous = caller.is_anonymous();
    let mut res = respond_page(
        &req,
        &state,
        filter,
        page,
        seek,
        Some(article_id),
        anonymous,
    )
    .await?;
    if anonymous {
        comment_keys(article_id).insert(&mut res);
    }
    Ok(res)
}

/// The cache tags of an article's public comments.
fn comment_keys(article_id: i64) -> SurrogateKeys<'static> {
    let mut keys = SurrogateKeys::new();
    keys.add(Key::Article(article_id));
    keys.add(Key::Comments(article_id));
    keys
}

/// Comment on an article
///
/// Any signed-in user, on a visible article with comments enabled. The
/// comment is `approved` at once, or `pending` until an editor approves it
/// when `NEWSDESK_COMMENT_MODERATION=pre`; comments by editors and admins
/// are always approved. A reply names its `parent_id`: a comment on the
/// same article that the caller can see (approved, their own, or any for
/// editors), else 422. Closed comments (`comments_enabled: false`) are a
/// 403 for everyone, editors included.
#[utoipa::path(
    operation_id = "createComment",
    tag = "comments",
    params(("id" = i64, Path, description = "Article id")),
    request_body = CreateComment,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Comment, headers(("Location" = String, description = "URL of the new comment"))),
        (status = 400, description = "Malformed JSON or path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Comments are closed on this article", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No visible article with this id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (empty or too long body, unknown parent)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many comments from this user (`NEWSDESK_RATE_COMMENTS`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/articles/{id}/comments")]
async fn create_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<CreateComment>,
) -> Result<HttpResponse, ApiError> {
    state.limits.comments.check(&user.id)?;
    let article_id = id.into_inner();
    let input = body.into_inner();
    let mut v = Validator::new();
    let text = valid_body(&mut v, &input.body);
    v.finish()?;
    let parent_id = input.parent_id;
    let editor = user.is_at_least(Role::Editor);
    let status = if state.config.comment_moderation == CommentModeration::Pre && !editor {
        CommentStatus::Pending
    } else {
        CommentStatus::Approved
    };
    let (row, author) = state
        .db
        .write_keyed(article_id, move |conn, tally| {
            let (author, article) = queries::hold_author_lock_article(conn, user.id, article_id)?;
            let Some(author) = author else {
                return Err(ApiError::Unauthorized(
                    "the account no longer exists".into(),
                ));
            };
            let article = article.ok_or_else(|| ApiError::not_found("no such article"))?;
            let now = crate::time::now();
            if !article.is_visible(now) {
                // Only its author and editors know an unpublished article
                // exists; for them it is not open to comments yet.
                if editor || article.author_id == user.id {
                    return Err(ApiError::forbidden(
                        "the article is not published; comments open when it is",
                    ));
                }
                return Err(ApiError::not_found("no such article"));
            }
            if !article.comments_enabled {
                return Err(ApiError::forbidden("comments are closed on this article"));
            }
            if let Some(pid) = parent_id {
                let parent = queries::find(conn, pid)?;
                let usable = parent.is_some_and(|p| {
                    p.article_id == article_id
                        && (p.status == APPROVED || p.author_id == user.id || editor)
                });
                if !usable {
                    return Err(ApiError::invalid(
                        "parent_id",
                        "is not a comment on this article",
                    ));
                }
            }
            let row = queries::insert(
                conn,
                &queries::NewComment {
                    article_id,
                    parent_id,
                    author_id: user.id,
                    body: text,
                    status: status.as_str().into(),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            if row.status == APPROVED {
                // Counted for the whole write group at once, before it
                // commits: still in this comment's transaction.
                counts::tally_approved(tally, article_id, row.created_at, 1);
            }
            let comment = Comment::new(row.clone(), author.clone());
            crate::events::comment_event(conn, EventType::CommentCreated, &comment, now)?;
            Ok((row, author))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/comments/{}", row.id)))
        .json(Comment::new(row, author)))
}

/// List comments (moderation)
///
/// Editors and admins. Every comment in any state, on any article; filter
/// by `status` (`pending` is the moderation queue) and `article_id`.
/// Newest first by default; `sort=created_at` works through a queue in
/// order.
#[utoipa::path(
    operation_id = "listComments",
    tag = "comments",
    params(CommentListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of comments", body = Page<Comment>,
         headers(("X-Total-Count" = i64, description = "Total matching items"), ("Link" = String, description = "RFC 8288 pagination links"))),
        (status = 400, description = "Bad query parameter (unknown status, sort or parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/comments")]
async fn list_comments(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    list: Listed<CommentListQuery, TimeSeek>,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Editor)?;
    let Listed {
        query: q,
        page,
        seek,
    } = list;
    let filter = CommentFilter {
        article_id: q.article_id,
        status: q.status.map(|s| s.as_str().to_string()),
    };
    respond_page(&req, &state, filter, page, seek, None, false).await
}

/// Get a comment
///
/// The target of the `Location` of a new comment. Anyone may read an
/// approved comment of a visible article; authors also their own comments
/// in any state; editors and admins every comment. Otherwise 404.
#[utoipa::path(
    operation_id = "getComment",
    tag = "comments",
    params(("id" = i64, Path, description = "Comment id")),
    security((), ("bearer" = []), ("contentKey" = []), ("contentKeyQuery" = [])),
    responses(
        (status = 200, description = "The comment", body = Comment),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token was sent and is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/comments/{id}")]
async fn get_comment(
    state: web::Data<AppState>,
    caller: MaybeUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (row, author) = state
        .db
        .read_point(caller.is_anonymous(), move |conn| {
            let not_found = || ApiError::not_found("no such comment");
            let row = queries::find(conn, id)?.ok_or_else(not_found)?;
            let privileged = caller.role_at_least(Role::Editor)
                || caller.0.is_some_and(|u| u.id == row.author_id);
            if !privileged {
                let now = crate::time::now();
                let article_visible = queries::article_facts(conn, row.article_id)?
                    .is_some_and(|a| a.is_visible(now));
                if row.status != APPROVED || !article_visible {
                    return Err(not_found());
                }
            }
            let author = author_of(conn, &row)?;
            Ok((row, author))
        })
        .await?;
    let mut res = HttpResponse::Ok();
    if caller.0.is_none() {
        comment_keys(row.article_id).apply(&mut res);
    }
    Ok(res.json(Comment::new(row, author)))
}

/// Finds a comment for a change, after taking its article's lock. A caller
/// who may not even see the comment (another user's comment that is not
/// approved) gets a 404, one who sees it but may not change it a 403.
fn load_for_change(
    conn: &mut DbConnection,
    user: AuthUser,
    id: i64,
) -> Result<CommentRow, ApiError> {
    let not_found = || ApiError::not_found("no such comment");
    let first = queries::find(conn, id)?.ok_or_else(not_found)?;
    queries::lock_article(conn, first.article_id)?;
    // Read again under the lock: it may have changed or gone meanwhile.
    let row = queries::find(conn, id)?.ok_or_else(not_found)?;
    let editor = user.is_at_least(Role::Editor);
    let own = row.author_id == user.id;
    if !(editor || own || row.status == APPROVED) {
        return Err(not_found());
    }
    if !(editor || own) {
        return Err(ApiError::forbidden(
            "only the comment's author or an editor may change it",
        ));
    }
    Ok(row)
}

/// Update a comment
///
/// The comment's author may change `body`; editors and admins may change
/// `body` and `status` (moderation: approve, reject, mark as spam, or back
/// to pending), and a status change adjusts `comment_count` at once. There
/// is no version check: the last write wins. With
/// `NEWSDESK_COMMENT_MODERATION=pre`, an author's edit of an approved
/// comment sends it back to `pending`, so that nothing unreviewed is shown.
/// `updated_at` changes only when something did. Authors may still edit
/// and delete their comments after comments were closed or the article
/// was unpublished.
#[utoipa::path(
    operation_id = "updateComment",
    tag = "comments",
    params(("id" = i64, Path, description = "Comment id")),
    request_body = UpdateComment,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated comment", body = Comment),
        (status = 400, description = "Malformed JSON or path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author and not an editor, or a status change by a non-editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/comments/{id}")]
async fn update_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: Json<UpdateComment>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = body.into_inner();
    let mut v = Validator::new();
    let text = input.body.as_deref().map(|b| valid_body(&mut v, b));
    v.finish()?;
    let status = input.status;
    let pre = state.config.comment_moderation == CommentModeration::Pre;
    let (row, author) = state
        .db
        .write(move |conn| {
            let current = load_for_change(conn, user, id)?;
            let editor = user.is_at_least(Role::Editor);
            if status.is_some() && !editor {
                return Err(ApiError::forbidden(
                    "only editors and admins may change a comment's status",
                ));
            }
            let text = text.filter(|t| *t != current.body);
            let mut new_status = status.map_or(current.status.as_str(), |s| s.as_str());
            if text.is_some() && !editor && pre && current.status == APPROVED {
                new_status = CommentStatus::Pending.as_str();
            }
            let status_changed = new_status != current.status;
            if text.is_none() && !status_changed {
                let author = author_of(conn, &current)?;
                return Ok((current, author));
            }
            let changes = CommentChanges {
                body: text,
                status: status_changed.then(|| new_status.to_string()),
                updated_at: Some(crate::time::now()),
            };
            let row = queries::update(conn, id, &changes)?;
            let was = current.status == APPROVED;
            let is = row.status == APPROVED;
            if was != is {
                let delta = if is { 1 } else { -1 };
                counts::count_approved(conn, row.article_id, row.created_at, delta)?;
            }
            let author = author_of(conn, &row)?;
            if is && !was {
                let comment = Comment::new(row.clone(), author.clone());
                let now = row.updated_at;
                crate::events::comment_event(conn, EventType::CommentApproved, &comment, now)?;
            }
            Ok((row, author))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Comment::new(row, author)))
}

/// Delete a comment
///
/// The comment's author, editors and admins. Its replies, at any depth and
/// by whomever, are deleted with it (a thread does not keep orphans), and
/// every approved one among them is taken off `comment_count`.
#[utoipa::path(
    operation_id = "deleteComment",
    tag = "comments",
    params(("id" = i64, Path, description = "Comment id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted, with its replies"),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the author and not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment, or not visible to the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/comments/{id}")]
async fn delete_comment(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state
        .db
        .write(move |conn| {
            load_for_change(conn, user, id)?;
            counts::delete_comment(conn, id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
