//! The content rules of articles: who may see and change what, how a
//! create or update body becomes the next state, slugs and their
//! redirects, publication times, versions and revisions.
//!
//! Everything that changes an article goes through [`save`], inside one
//! transaction: it renders the body, bumps `version`, writes the tag links,
//! the slug redirect, the revision and the event, so no path can forget
//! one of them.

use chrono::NaiveDateTime;

use super::dto::{ArticleStatus, BodyFormat, CreateArticle, Snapshot, TagRef, UpdateArticle};
use super::queries::{self, ArticleContent, ArticleRow, AuthorRow, NewArticle};
use super::render;
use crate::auth::{AuthUser, Role};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::time::to_api;
use crate::validate::Validator;

pub const TITLE_MAX: usize = 300;
pub const SUBTITLE_MAX: usize = 300;
pub const EXCERPT_MAX: usize = 500;
pub const META_TITLE_MAX: usize = 300;
pub const META_DESCRIPTION_MAX: usize = 500;
pub const TAGS_MAX: usize = 20;
/// Slug used when a title has nothing to make one from (only emoji, say).
pub const FALLBACK_SLUG: &str = "article";

/// PostgreSQL text cannot hold NUL, and no article needs one: a 422.
pub fn check_no_nul(v: &mut Validator, field: &str, value: &str) {
    if value.contains('\0') {
        v.add(field, "must not contain NUL characters");
    }
}

/// A free-text query parameter: NUL characters (which PostgreSQL text
/// cannot hold) dropped, trimmed, `None` when empty. Never an error: what
/// a user types into a search box is searched as words.
pub fn query_text(value: Option<&str>) -> Option<String> {
    value
        .map(|v| v.replace('\0', ""))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Public: published, and `published_at` has passed.
pub fn is_visible(status: &str, published_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    status == "published" && published_at.is_some_and(|t| t <= now)
}

/// Everyone sees visible articles; their author and editors see all of
/// them. Anything else is a 404 for the caller, never a 403.
pub fn can_see(caller: Option<&AuthUser>, row: &ArticleRow, now: NaiveDateTime) -> bool {
    is_visible(&row.status, row.published_at, now)
        || caller.is_some_and(|u| u.is_at_least(Role::Editor) || u.id == row.author_id)
}

/// Editors change any article; authors (not readers) their own.
pub fn can_edit(caller: &AuthUser, author_id: i64) -> bool {
    caller.is_at_least(Role::Editor) || (caller.role == Role::Author && caller.id == author_id)
}

/// Loads an article the caller may see: 404 otherwise.
pub fn load_visible(
    conn: &mut DbConnection,
    caller: Option<&AuthUser>,
    id: i64,
    now: NaiveDateTime,
) -> Result<(ArticleRow, AuthorRow), ApiError> {
    let (row, author) = queries::find(conn, id)?;
    if !can_see(caller, &row, now) {
        return Err(ApiError::not_found("the resource does not exist"));
    }
    Ok((row, author))
}

/// Loads an article the caller may change: 404 when it may not even see
/// it, 403 when it may see but not change it.
pub fn load_editable(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: i64,
    now: NaiveDateTime,
) -> Result<(ArticleRow, AuthorRow), ApiError> {
    let (row, author) = load_visible(conn, Some(caller), id, now)?;
    if !can_edit(caller, row.author_id) {
        return Err(ApiError::forbidden(
            "only the article's author or an editor may do this",
        ));
    }
    Ok((row, author))
}

/// The validator an article carries in `ETag` for signed-in clients.
pub fn etag(id: i64, version: i64) -> String {
    format!("\"a{id}-v{version}\"")
}

/// What a write was based on: the `If-Match` header and a body `version`.
#[derive(Debug, Default, Clone)]
pub struct Preconditions {
    pub if_match: Option<String>,
    pub version: Option<i64>,
}

impl Preconditions {
    /// 412 when `If-Match` names another version (strong comparison: weak
    /// tags never match), 409 when the body's `version` is not current.
    pub fn check(&self, id: i64, version: i64) -> Result<(), ApiError> {
        if let Some(header) = &self.if_match {
            let ours = etag(id, version);
            let matches = header.split(',').map(str::trim).any(|t| {
                t == "*" || t == ours || (!t.starts_with("W/") && format!("\"{t}\"") == ours)
            });
            if !matches {
                return Err(ApiError::PreconditionFailed(format!(
                    "the article changed since that version (now {ours})"
                )));
            }
        }
        if let Some(v) = self.version
            && v != version
        {
            return Err(ApiError::conflict(format!(
                "version {v} is not current; the article is at version {version}"
            )));
        }
        Ok(())
    }
}

/// A validated set of changes (also what a create is: changes to a blank
/// article). `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub title: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<BodyFormat>,
    pub slug: Option<String>,
    pub subtitle: Option<Option<String>>,
    pub excerpt: Option<Option<String>>,
    pub status: Option<ArticleStatus>,
    pub published_at: Option<Option<NaiveDateTime>>,
    pub tags: Option<Vec<String>>,
    pub feature_image: Option<Option<String>>,
    pub feature_image_id: Option<Option<i64>>,
    pub comments_enabled: Option<bool>,
    pub meta_title: Option<Option<String>>,
    pub meta_description: Option<Option<String>>,
    pub canonical_url: Option<Option<String>>,
    pub author_id: Option<i64>,
}

fn slug_message() -> String {
    format!(
        "must be lowercase ASCII letters and digits in words joined by '-', at most {} characters",
        crate::slug::MAX_LEN
    )
}

fn opt_text(v: &mut Validator, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    if let Some(s) = value {
        check_no_nul(v, field, s);
    }
    v.opt_text(field, value, max)
}

fn published_at(v: &mut Validator, value: &str) -> Option<NaiveDateTime> {
    let parsed = crate::time::parse_rfc3339(value);
    if parsed.is_none() {
        v.add(
            "published_at",
            "must be an RFC 3339 timestamp such as 2024-05-15T09:30:00Z",
        );
    }
    parsed
}

fn tag_list(v: &mut Validator, tags: &[String]) -> Vec<String> {
    if tags.len() > TAGS_MAX {
        v.add("tags", format!("must have at most {TAGS_MAX} tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim();
        if !crate::slug::is_valid(t) {
            v.add(&format!("tags[{i}]"), slug_message());
        } else if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

fn slug_field(v: &mut Validator, value: &str) -> String {
    let s = value.trim().to_string();
    if !crate::slug::is_valid(&s) {
        v.add("slug", slug_message());
    }
    s
}

/// An external URL and a library picture exclude each other.
fn one_feature_image(v: &mut Validator, url: bool, id: bool) {
    if url && id {
        v.add(
            "feature_image_id",
            "give either feature_image (an external URL) or feature_image_id (a library picture), not both",
        );
    }
}

/// Checks a create body: 422 listing every invalid field.
pub fn validate_create(body: CreateArticle) -> Result<Changes, ApiError> {
    let mut v = Validator::new();
    check_no_nul(&mut v, "title", &body.title);
    check_no_nul(&mut v, "body", &body.body);
    one_feature_image(
        &mut v,
        body.feature_image.is_some(),
        body.feature_image_id.is_some(),
    );
    let changes = Changes {
        title: Some(v.text("title", &body.title, 1, TITLE_MAX)),
        body: Some(body.body),
        body_format: body.body_format,
        slug: body.slug.as_deref().map(|s| slug_field(&mut v, s)),
        subtitle: Some(opt_text(
            &mut v,
            "subtitle",
            body.subtitle.as_deref(),
            SUBTITLE_MAX,
        )),
        excerpt: Some(opt_text(
            &mut v,
            "excerpt",
            body.excerpt.as_deref(),
            EXCERPT_MAX,
        )),
        status: body.status,
        published_at: body
            .published_at
            .as_deref()
            .map(|p| published_at(&mut v, p)),
        tags: body.tags.as_deref().map(|t| tag_list(&mut v, t)),
        feature_image: Some(v.opt_url("feature_image", body.feature_image.as_deref())),
        feature_image_id: body.feature_image_id.map(Some),
        comments_enabled: body.comments_enabled,
        meta_title: Some(opt_text(
            &mut v,
            "meta_title",
            body.meta_title.as_deref(),
            META_TITLE_MAX,
        )),
        meta_description: Some(opt_text(
            &mut v,
            "meta_description",
            body.meta_description.as_deref(),
            META_DESCRIPTION_MAX,
        )),
        canonical_url: Some(v.opt_url("canonical_url", body.canonical_url.as_deref())),
        author_id: body.author_id,
    };
    v.finish()?;
    Ok(changes)
}

/// Checks an update body (its `version` is a precondition, not a change).
pub fn validate_update(body: UpdateArticle) -> Result<Changes, ApiError> {
    let mut v = Validator::new();
    let title = body.title.as_deref().map(|t| {
        check_no_nul(&mut v, "title", t);
        v.text("title", t, 1, TITLE_MAX)
    });
    if let Some(b) = &body.body {
        check_no_nul(&mut v, "body", b);
    }
    one_feature_image(
        &mut v,
        matches!(body.feature_image, Some(Some(_))),
        matches!(body.feature_image_id, Some(Some(_))),
    );
    let changes = Changes {
        title,
        body: body.body,
        body_format: body.body_format,
        slug: body.slug.as_deref().map(|s| slug_field(&mut v, s)),
        subtitle: body
            .subtitle
            .as_ref()
            .map(|s| opt_text(&mut v, "subtitle", s.as_deref(), SUBTITLE_MAX)),
        excerpt: body
            .excerpt
            .as_ref()
            .map(|s| opt_text(&mut v, "excerpt", s.as_deref(), EXCERPT_MAX)),
        status: body.status,
        published_at: body
            .published_at
            .as_ref()
            .map(|p| p.as_deref().and_then(|p| published_at(&mut v, p))),
        tags: body.tags.as_deref().map(|t| tag_list(&mut v, t)),
        feature_image: body
            .feature_image
            .as_ref()
            .map(|s| v.opt_url("feature_image", s.as_deref())),
        feature_image_id: body.feature_image_id,
        comments_enabled: body.comments_enabled,
        meta_title: body
            .meta_title
            .as_ref()
            .map(|s| opt_text(&mut v, "meta_title", s.as_deref(), META_TITLE_MAX)),
        meta_description: body.meta_description.as_ref().map(|s| {
            opt_text(
                &mut v,
                "meta_description",
                s.as_deref(),
                META_DESCRIPTION_MAX,
            )
        }),
        canonical_url: body
            .canonical_url
            .as_ref()
            .map(|s| v.opt_url("canonical_url", s.as_deref())),
        author_id: body.author_id,
    };
    v.finish()?;
    Ok(changes)
}

/// The content of a stored article, as revisions store it.
pub fn snapshot_of(row: &ArticleRow, tags: Vec<TagRef>) -> Snapshot {
    Snapshot {
        title: row.title.clone(),
        slug: row.slug.clone(),
        subtitle: row.subtitle.clone(),
        excerpt: row.custom_excerpt.clone(),
        body: row.body.clone(),
        body_format: BodyFormat::parse(&row.body_format).unwrap_or_default(),
        status: ArticleStatus::parse(&row.status).unwrap_or(ArticleStatus::Draft),
        published_at: row.published_at.map(to_api),
        feature_image: row.feature_image.clone(),
        feature_image_id: row.feature_image_id,
        comments_enabled: row.comments_enabled,
        meta_title: row.meta_title.clone(),
        meta_description: row.meta_description.clone(),
        canonical_url: row.canonical_url.clone(),
        author_id: row.author_id,
        tags,
    }
}

/// The state of a new, empty article by `author_id`.
fn blank(author_id: i64) -> Snapshot {
    Snapshot {
        title: String::new(),
        slug: String::new(),
        subtitle: None,
        excerpt: None,
        body: String::new(),
        body_format: BodyFormat::Markdown,
        status: ArticleStatus::Draft,
        published_at: None,
        feature_image: None,
        feature_image_id: None,
        comments_enabled: true,
        meta_title: None,
        meta_description: None,
        canonical_url: None,
        author_id,
        tags: Vec::new(),
    }
}

/// The next state: `changes` over `base`. Tags are resolved (and unknown
/// ones created) only when they differ from the current ones.
fn apply(
    conn: &mut DbConnection,
    caller: &AuthUser,
    base: &Snapshot,
    changes: Changes,
    now: NaiveDateTime,
) -> Result<Snapshot, ApiError> {
    let mut next = base.clone();
    if let Some(author_id) = changes.author_id
        && author_id != base.author_id
    {
        if !caller.is_at_least(Role::Editor) {
            return Err(ApiError::forbidden("only editors may set another author"));
        }
        match queries::user_role(conn, author_id)?
            .as_deref()
            .and_then(Role::parse)
        {
            Some(role) if role >= Role::Author => next.author_id = author_id,
            Some(_) => {
                return Err(ApiError::invalid(
                    "author_id",
                    "must be a user with the author role or higher",
                ));
            }
            None => return Err(ApiError::invalid("author_id", "no such user")),
        }
    }
    if let Some(t) = changes.title {
        next.title = t;
    }
    if let Some(b) = changes.body {
        next.body = b;
    }
    if let Some(f) = changes.body_format {
        next.body_format = f;
    }
    if let Some(s) = changes.slug {
        next.slug = s;
    }
    if let Some(s) = changes.subtitle {
        next.subtitle = s;
    }
    if let Some(e) = changes.excerpt {
        next.excerpt = e;
    }
    if let Some(s) = changes.status {
        next.status = s;
    }
    if let Some(p) = changes.published_at {
        next.published_at = p.map(to_api);
    }
    if let Some(f) = changes.feature_image {
        if f.is_some() {
            next.feature_image_id = None;
        }
        next.feature_image = f;
    }
    if let Some(id) = changes.feature_image_id {
        if let Some(id) = id {
            if id < 1 || !crate::media::queries::exists(conn, id)? {
                return Err(ApiError::invalid(
                    "feature_image_id",
                    "no picture of the media library has this id",
                ));
            }
            next.feature_image = None;
        }
        next.feature_image_id = id;
    }
    if let Some(c) = changes.comments_enabled {
        next.comments_enabled = c;
    }
    if let Some(m) = changes.meta_title {
        next.meta_title = m;
    }
    if let Some(m) = changes.meta_description {
        next.meta_description = m;
    }
    if let Some(c) = changes.canonical_url {
        next.canonical_url = c;
    }
    if let Some(slugs) = changes.tags {
        let current: Vec<&str> = base.tags.iter().map(|t| t.slug.as_str()).collect();
        if slugs.iter().map(String::as_str).ne(current) {
            next.tags = crate::tags::queries::ensure_by_slugs(conn, &slugs, now)?;
        }
    }
    // A published article always has a publication time: the one given,
    // else the one it had (so re-publishing keeps its place), else now.
    if next.status == ArticleStatus::Published && next.published_at.is_none() {
        next.published_at = Some(to_api(now));
    }
    Ok(next)
}

/// Creates an article from validated changes (title and body present).
pub fn create(
    conn: &mut DbConnection,
    caller: &AuthUser,
    mut changes: Changes,
    now: NaiveDateTime,
) -> Result<ArticleRow, ApiError> {
    let explicit_slug = changes.slug.take();
    let mut next = apply(conn, caller, &blank(caller.id), changes, now)?;
    next.slug = match explicit_slug {
        Some(slug) => {
            if queries::slug_taken(conn, &slug, None)? {
                return Err(ApiError::conflict(
                    "an article with this slug already exists",
                ));
            }
            claim_slug(conn, caller, &slug, None)?;
            slug
        }
        None => {
            let base = crate::slug::slugify(&next.title).unwrap_or_else(|| FALLBACK_SLUG.into());
            queries::free_slug(conn, &base)?
        }
    };
    save(conn, caller, None, next, now)
}

/// Takes `slug` for article `id` (`None`: a new article). An old slug of
/// another article stays reserved for it, so that nobody can make old links
/// to someone else's story land on theirs: a 409, unless the caller is an
/// editor, who may release it (the old links then lead to this article).
/// An article may always take back one of its own old slugs.
fn claim_slug(
    conn: &mut DbConnection,
    caller: &AuthUser,
    slug: &str,
    id: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(owner) = queries::redirect_target(conn, slug)?
        && Some(owner) != id
        && !caller.is_at_least(Role::Editor)
    {
        return Err(ApiError::conflict(
            "this slug is an old address of another article and stays reserved for it; \
             an editor may release it",
        ));
    }
    queries::remove_redirect(conn, slug)?;
    Ok(())
}

/// Applies an update body to an article the caller may edit, checking in
/// the order HTTP asks for: visibility (404), permission (403),
/// preconditions (412, 409), then the fields (422). Changes that leave the
/// content as it is write nothing (no new version).
pub fn update(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: i64,
    body: UpdateArticle,
    if_match: Option<String>,
    now: NaiveDateTime,
) -> Result<ArticleRow, ApiError> {
    let (row, _) = load_editable(conn, caller, id, now)?;
    let pre = Preconditions {
        if_match,
        version: body.version,
    };
    pre.check(row.id, row.version)?;
    let changes = validate_update(body)?;
    let current = snapshot_of(&row, queries::tags_of(conn, id)?);
    let next = apply(conn, caller, &current, changes, now)?;
    save(conn, caller, Some((row, current)), next, now)
}

/// Makes a revision's content current again, as a new version. Restored:
/// title, subtitle, excerpt, body and format, tags, feature image, comment
/// switch and meta fields. Kept: status, `published_at`, slug and author,
/// which are publishing decisions, not content.
pub fn restore(
    conn: &mut DbConnection,
    caller: &AuthUser,
    id: i64,
    version: i64,
    pre: &Preconditions,
    now: NaiveDateTime,
) -> Result<ArticleRow, ApiError> {
    let (row, _) = load_editable(conn, caller, id, now)?;
    pre.check(row.id, row.version)?;
    let revision = queries::find_revision(conn, id, version)?;
    let old: Snapshot = serde_json::from_str(&revision.snapshot).map_err(ApiError::internal)?;
    let current = snapshot_of(&row, queries::tags_of(conn, id)?);
    // Tags that still exist come back as they are now (renamed, maybe);
    // deleted ones are made again from their slug.
    let ids: Vec<i64> = old.tags.iter().map(|t| t.id).collect();
    let alive = crate::tags::queries::by_ids(conn, &ids)?;
    let mut tags: Vec<TagRef> = Vec::with_capacity(old.tags.len());
    for t in &old.tags {
        let tag = match alive.iter().find(|a| a.id == t.id) {
            Some(a) => a.clone(),
            None => {
                let made = crate::tags::queries::ensure_by_slugs(
                    conn,
                    std::slice::from_ref(&t.slug),
                    now,
                )?;
                match made.into_iter().next() {
                    Some(m) => m,
                    None => continue,
                }
            }
        };
        if !tags.iter().any(|x| x.id == tag.id) {
            tags.push(tag);
        }
    }
    let next = Snapshot {
        title: old.title,
        subtitle: old.subtitle,
        excerpt: old.excerpt,
        body: old.body,
        body_format: old.body_format,
        feature_image: old.feature_image,
        // A picture deleted since is not brought back.
        feature_image_id: match old.feature_image_id {
            Some(id) if crate::media::queries::exists(conn, id)? => Some(id),
            _ => None,
        },
        comments_enabled: old.comments_enabled,
        meta_title: old.meta_title,
        meta_description: old.meta_description,
        canonical_url: old.canonical_url,
        tags,
        ..current.clone()
    };
    save(conn, caller, Some((row, current)), next, now)
}

/// Writes `next` as the new state of the article (`current` is `None` for a
/// new one): rendering, version, tag links, slug redirect and revision.
fn save(
    conn: &mut DbConnection,
    caller: &AuthUser,
    current: Option<(ArticleRow, Snapshot)>,
    next: Snapshot,
    now: NaiveDateTime,
) -> Result<ArticleRow, ApiError> {
    if let Some((row, snap)) = &current
        && *snap == next
    {
        return Ok(row.clone());
    }
    let old = current.as_ref();
    if let Some((row, snap)) = old
        && snap.slug != next.slug
    {
        if queries::slug_taken(conn, &next.slug, Some(row.id))? {
            return Err(ApiError::conflict(
                "an article with this slug already exists",
            ));
        }
        claim_slug(conn, caller, &next.slug, Some(row.id))?;
        // Links to a published article keep working under its old slug.
        if snap.status == ArticleStatus::Published {
            queries::add_redirect(conn, &snap.slug, row.id, now)?;
        }
    }
    let reuse = old.filter(|(_, s)| s.body == next.body && s.body_format == next.body_format);
    let (body_html, body_text) = match reuse {
        Some((row, _)) => (row.body_html.clone(), row.body_text.clone()),
        None => {
            let r = render::render(&next.body, next.body_format);
            (crate::media::inline::enrich(conn, &r.html)?, r.text)
        }
    };
    let excerpt = next
        .excerpt
        .clone()
        .unwrap_or_else(|| render::excerpt(&body_text, render::EXCERPT_CHARS));
    let content = ArticleContent {
        slug: next.slug.clone(),
        title: next.title.clone(),
        subtitle: next.subtitle.clone(),
        custom_excerpt: next.excerpt.clone(),
        excerpt,
        body: next.body.clone(),
        body_format: next.body_format.as_str().into(),
        reading_time_minutes: render::reading_time(&body_text),
        body_html,
        body_text,
        status: next.status.as_str().into(),
        published_at: next.published_at.map(|t| t.naive_utc()),
        updated_at: now,
        version: old.map_or(1, |(row, _)| row.version + 1),
        feature_image: next.feature_image.clone(),
        feature_image_id: next.feature_image_id,
        comments_enabled: next.comments_enabled,
        meta_title: next.meta_title.clone(),
        meta_description: next.meta_description.clone(),
        canonical_url: next.canonical_url.clone(),
        author_id: next.author_id,
    };
    let row = match old {
        Some((row, _)) => queries::update_content(conn, row.id, &content)?,
        None => queries::insert(
            conn,
            &NewArticle {
                content,
                created_at: now,
                view_count: 0,
                comment_count: 0,
            },
        )?,
    };
    let tags_changed = old.is_none_or(|(_, s)| s.tags != next.tags);
    if tags_changed {
        let ids: Vec<i64> = next.tags.iter().map(|t| t.id).collect();
        queries::set_tags(conn, row.id, &ids)?;
    }
    let snapshot = serde_json::to_string(&next).map_err(ApiError::internal)?;
    queries::insert_revision(
        conn,
        row.id,
        row.version,
        &row.title,
        caller.id,
        &snapshot,
        now,
    )?;
    // Last: the event log's insert orders commits (see `events::queries`).
    crate::events::article_saved(conn, old.map(|(_, s)| s), &row, now)?;
    Ok(row)
}
