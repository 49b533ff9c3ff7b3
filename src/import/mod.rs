//! Moving a newsroom in: Ghost JSON exports, WordPress WXR files and
//! newsdesk's own export (see `crate::export`).
//!
//! Every source is read as a stream of posts (`ghost`, `wordpress`) and
//! each post is written in a transaction of its own by [`Sink`], so one bad
//! post fails alone and is reported, not the whole file. Each row made
//! remembers its source and source id (the `imports` table): importing the
//! same file again finds them and changes nothing. Authors become users who
//! cannot sign in (the locked password hash) until an admin sets a password
//! for them (`PATCH /api/v1/users/{id}`), i.e. invites them. Bodies are
//! HTML sanitised like any HTML body (`articles::render`), and each post's
//! old URL is recorded in `redirects` for the resolver.
//!
//! Comments come with their post (WordPress `<wp:comment>`, Ghost's
//! `comments` table): approved ones stay approved (and are counted in
//! `comment_count` and the daily statistics, as `stats::comments` does),
//! held ones become `pending`, hidden ones `rejected`; spam, trash,
//! deleted comments, pingbacks and trackbacks are left out. The API's
//! comment author is a user, so each commenter becomes a reader who cannot
//! sign in (found again by email: a commenter who already has an account,
//! such as a post's author, keeps it; without an email, one account per
//! name and source). Bodies become plain text (the API never renders
//! comment HTML). Replies keep their parent; a reply whose parent was left
//! out becomes a top-level comment. Each comment remembers its source id,
//! so a later import of a newer export adds only the comments that are new,
//! also under posts imported before. Imports emit no events.

pub mod ghost;
pub mod newsdesk;
pub mod wordpress;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::articles::content::{self, Changes};
use crate::articles::dto::{ArticleStatus, BodyFormat};
use crate::articles::queries as articles;
use crate::auth::{AuthUser, Role};
use crate::db::DbConnection;
use crate::db::schema::{article_revisions, imports, tags};
use crate::users::queries::{self as users, AccountInput};
use crate::validate::Validator;

/// One author as a source describes them.
#[derive(Debug, Clone, Default)]
pub struct SourceUser {
    pub source_id: String,
    pub name: String,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
}

/// One tag (or WordPress category) as a source describes it.
#[derive(Debug, Clone, Default)]
pub struct SourceTag {
    pub source_id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    Published,
    /// Published with a future date.
    Scheduled,
    Draft,
}

/// One post as a source describes it.
#[derive(Debug, Clone)]
pub struct SourcePost {
    pub source_id: String,
    pub title: String,
    pub slug: String,
    pub html: String,
    pub excerpt: Option<String>,
    pub status: SourceStatus,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    pub feature_image: Option<String>,
    pub author: Option<SourceUser>,
    pub tags: Vec<SourceTag>,
    /// Paths (or URLs) the post had on the old site.
    pub old_urls: Vec<String>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub comments_enabled: bool,
    /// The post's comments, in any order.
    pub comments: Vec<SourceComment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceCommentStatus {
    Approved,
    Pending,
    /// Hidden by a moderator.
    Rejected,
}

impl SourceCommentStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Approved => crate::comments::queries::APPROVED,
            Self::Pending => "pending",
            Self::Rejected => "rejected",
        }
    }
}

/// One comment as a source describes it.
#[derive(Debug, Clone)]
pub struct SourceComment {
    pub source_id: String,
    /// The source id of the comment it answers.
    pub parent_source_id: Option<String>,
    pub author_name: String,
    pub author_email: Option<String>,
    /// HTML (WordPress, Ghost); kept as its text.
    pub html: String,
    pub status: SourceCommentStatus,
    pub created_at: Option<NaiveDateTime>,
}

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub imported: u64,
    pub skipped: u64,
    /// Why posts were skipped, with how many.
    pub skipped_why: BTreeMap<String, u64>,
    /// `(source id, reason)` of posts that could not be imported.
    pub failed: Vec<(String, String)>,
    pub users_created: u64,
    pub tags_created: u64,
    pub redirects_created: u64,
    pub comments_imported: u64,
    /// Comments left out (empty once made plain text).
    pub comments_skipped: u64,
    pub commenters_created: u64,
}

impl Summary {
    pub fn skip(&mut self, why: &str) {
        self.skipped += 1;
        *self.skipped_why.entry(why.to_string()).or_default() += 1;
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "imported {} articles, skipped {}, failed {}",
            self.imported,
            self.skipped,
            self.failed.len()
        )?;
        writeln!(
            f,
            "created {} users, {} tags, {} redirects",
            self.users_created, self.tags_created, self.redirects_created
        )?;
        writeln!(
            f,
            "imported {} comments ({} new commenters), skipped {} empty ones",
            self.comments_imported, self.commenters_created, self.comments_skipped
        )?;
        for (why, n) in &self.skipped_why {
            writeln!(f, "  skipped {n}: {why}")?;
        }
        for (id, why) in &self.failed {
            writeln!(f, "  failed {id}: {why}")?;
        }
        Ok(())
    }
}

/// Counts the bytes read through it (the progress bar's position).
pub struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub fn new(inner: R) -> (Self, Arc<AtomicU64>) {
        let read = Arc::new(AtomicU64::new(0));
        (
            Self {
                inner,
                read: read.clone(),
            },
            read,
        )
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The source id of a row made by an earlier import.
pub fn mapped(
    conn: &mut DbConnection,
    source: &str,
    kind: &str,
    source_id: &str,
) -> QueryResult<Option<i64>> {
    imports::table
        .find((source, kind, source_id))
        .select(imports::target_id)
        .first(conn)
        .optional()
}

pub fn remember(
    conn: &mut DbConnection,
    source: &str,
    kind: &str,
    source_id: &str,
    target_id: i64,
) -> QueryResult<()> {
    diesel::insert_into(imports::table)
        .values((
            imports::source.eq(source),
            imports::kind.eq(kind),
            imports::source_id.eq(source_id),
            imports::target_id.eq(target_id),
            imports::created_at.eq(crate::time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Text as the API would accept it: no NUL, trimmed, at most `max` chars.
fn clean_text(s: &str, max: usize) -> String {
    s.replace('\0', "").trim().chars().take(max).collect()
}

fn clean_opt(s: Option<&str>, max: usize) -> Option<String> {
    s.map(|s| clean_text(s, max)).filter(|s| !s.is_empty())
}

/// An absolute http(s) URL the API would accept, else `None`.
fn clean_url(s: Option<&str>) -> Option<String> {
    let mut v = Validator::new();
    let url = v.opt_url("url", s);
    v.finish().ok().and(url)
}

/// Writes posts into the site, one transaction per post.
pub struct Sink<'a> {
    pub conn: &'a mut DbConnection,
    pub source: &'static str,
    pub summary: Summary,
    pub public_urls: crate::feeds::PublicUrls,
}

impl<'a> Sink<'a> {
    pub fn new(
        conn: &'a mut DbConnection,
        source: &'static str,
        public_urls: crate::feeds::PublicUrls,
    ) -> Self {
        Self {
            conn,
            source,
            summary: Summary::default(),
            public_urls,
        }
    }

    /// Imports one post (or finds it imported already).
    pub fn post(&mut self, post: SourcePost) {
        let source = self.source;
        let id = post.source_id.clone();
        let mut counts = Summary::default();
        let result = self
            .conn
            .transaction(|conn| write_post(conn, source, post, &mut counts));
        match result {
            Ok(new) => {
                if new {
                    self.summary.imported += 1;
                } else {
                    self.summary.skip("already imported");
                }
                self.summary.users_created += counts.users_created;
                self.summary.tags_created += counts.tags_created;
                self.summary.redirects_created += counts.redirects_created;
                self.summary.comments_imported += counts.comments_imported;
                self.summary.comments_skipped += counts.comments_skipped;
                self.summary.commenters_created += counts.commenters_created;
            }
            Err(e) => self.summary.failed.push((id, format!("{e:#}"))),
        }
    }
}

fn ensure_user(
    conn: &mut DbConnection,
    source: &str,
    u: &SourceUser,
    counts: &mut Summary,
) -> anyhow::Result<i64> {
    ensure_account(conn, source, u, Role::Author, &mut counts.users_created)
}

/// The account of a source's person (made once, found by email).
fn ensure_account(
    conn: &mut DbConnection,
    source: &str,
    u: &SourceUser,
    role: Role,
    created: &mut u64,
) -> anyhow::Result<i64> {
    if let Some(id) = mapped(conn, source, "user", &u.source_id)? {
        return Ok(id);
    }
    let email = usable_email(u.email.as_deref()).unwrap_or_else(|| {
        let local = crate::slug::slugify(&format!("{source} {}", u.source_id))
            .unwrap_or_else(|| source.to_string());
        format!("{local}@imported.invalid")
    });
    let id = match users::find_by_email(conn, &email)? {
        // Someone already here: their stories join their account.
        Some(row) => row.id,
        None => {
            let name = clean_text(&u.name, 100);
            let name = if name.is_empty() { email.clone() } else { name };
            let row = users::create_account(
                conn,
                AccountInput {
                    email,
                    name,
                    role: role.as_str().into(),
                    bio: clean_opt(u.bio.as_deref(), 2000),
                    avatar_url: clean_url(u.avatar_url.as_deref()),
                    password_hash: crate::seed::LOCKED_PASSWORD_HASH.into(),
                },
            )?;
            *created += 1;
            row.id
        }
    };
    remember(conn, source, "user", &u.source_id, id)?;
    Ok(id)
}

/// The author of posts that name none: one per source.
fn fallback_user(source: &str) -> SourceUser {
    SourceUser {
        source_id: "unknown-author".into(),
        name: format!("{source} import"),
        ..Default::default()
    }
}

fn ensure_tag(
    conn: &mut DbConnection,
    source: &str,
    t: &SourceTag,
    counts: &mut Summary,
) -> anyhow::Result<Option<String>> {
    if let Some(id) = mapped(conn, source, "tag", &t.source_id)? {
        let slug: Option<String> = tags::table
            .find(id)
            .select(tags::slug)
            .first(conn)
            .optional()?;
        return Ok(slug);
    }
    let slug = if crate::slug::is_valid(&t.slug) {
        t.slug.clone()
    } else {
        let decoded = percent_decode(&t.slug);
        match crate::slug::slugify(&decoded).or_else(|| crate::slug::slugify(&t.name)) {
            Some(s) => s,
            None => return Ok(None),
        }
    };
    let existing: Option<i64> = tags::table
        .filter(tags::slug.eq(&slug))
        .select(tags::id)
        .first(conn)
        .optional()?;
    let id = match existing {
        Some(id) => id,
        None => {
            let name = clean_text(&t.name, 100);
            let name = if name.is_empty() {
                crate::tags::queries::name_from_slug(&slug)
            } else {
                name
            };
            let description = clean_opt(t.description.as_deref(), 500);
            counts.tags_created += 1;
            crate::tags::queries::insert(
                conn,
                &slug,
                &name,
                description.as_deref(),
                crate::time::now(),
            )?
            .id
        }
    };
    remember(conn, source, "tag", &t.source_id, id)?;
    Ok(Some(slug))
}

/// `%E2%9C%93` -> `✓` (WordPress keeps non-ASCII slugs percent-encoded).
fn percent_decode(s: &str) -> String {
    let bytes: Vec<u8> = form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Writes one post (and its comments); `false` when it was imported
/// before (then only comments that are new are added).
fn write_post(
    conn: &mut DbConnection,
    source: &str,
    mut post: SourcePost,
    counts: &mut Summary,
) -> anyhow::Result<bool> {
    let comments = std::mem::take(&mut post.comments);
    if let Some(id) = mapped(conn, source, "article", &post.source_id)? {
        write_comments(conn, source, id, comments, counts)?;
        return Ok(false);
    }
    let id = write_article(conn, source, post, counts)?;
    write_comments(conn, source, id, comments, counts)?;
    Ok(true)
}

/// Comment bodies are at most this long (the API's limit).
const COMMENT_MAX: usize = 5000;

/// Adds a post's comments not imported before, oldest first (so a parent
/// is there before its replies), keeping the counters exact.
fn write_comments(
    conn: &mut DbConnection,
    source: &str,
    article_id: i64,
    mut comments: Vec<SourceComment>,
    counts: &mut Summary,
) -> anyhow::Result<()> {
    if comments.is_empty() {
        return Ok(());
    }
    comments.sort_by(|a, b| {
        (a.created_at, a.source_id.len(), &a.source_id).cmp(&(
            b.created_at,
            b.source_id.len(),
            &b.source_id,
        ))
    });
    let now = crate::time::now();
    let mut made: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for c in comments {
        if let Some(id) = mapped(conn, source, "comment", &c.source_id)? {
            made.insert(c.source_id, id);
            continue;
        }
        // Sanitised first: the text of a `<script>` is no comment.
        let html = crate::articles::render::sanitize(&c.html.replace('\0', ""));
        let text = crate::articles::render::html_to_text(&html);
        let body = clean_text(&text, COMMENT_MAX);
        if body.is_empty() {
            counts.comments_skipped += 1;
            continue;
        }
        let parent_id = match c.parent_source_id.as_deref() {
            Some(p) => match made.get(p) {
                Some(id) => Some(*id),
                None => mapped(conn, source, "comment", p)?,
            },
            None => None,
        };
        let author_id = ensure_account(
            conn,
            source,
            &commenter(source, &c),
            Role::Reader,
            &mut counts.commenters_created,
        )?;
        let created_at = c.created_at.unwrap_or(now);
        let row = crate::comments::queries::insert(
            conn,
            &crate::comments::queries::NewComment {
                article_id,
                parent_id,
                author_id,
                body,
                status: c.status.as_str().into(),
                created_at,
                updated_at: created_at,
            },
        )?;
        if c.status == SourceCommentStatus::Approved {
            crate::stats::comments::count_approved(conn, article_id, created_at, 1)?;
        }
        remember(conn, source, "comment", &c.source_id, row.id)?;
        made.insert(c.source_id, row.id);
        counts.comments_imported += 1;
    }
    Ok(())
}

/// A source's email address, trimmed and lower-cased, when it is one the
/// API would accept.
fn usable_email(raw: Option<&str>) -> Option<String> {
    raw.map(|e| e.trim().to_lowercase()).filter(|e| {
        let mut v = Validator::new();
        v.email("email", e);
        v.finish().is_ok()
    })
}

/// A commenter as a source person: known by email, else by name.
fn commenter(source: &str, c: &SourceComment) -> SourceUser {
    let email = usable_email(c.author_email.as_deref());
    let name = clean_text(&c.author_name, 100);
    let name = if name.is_empty() {
        "Anonymous".to_string()
    } else {
        name
    };
    let source_id = match &email {
        Some(e) => format!("commenter:{e}"),
        None => format!("commenter-name:{}", name.to_lowercase()),
    };
    let email = email.or_else(|| {
        let local = crate::slug::slugify(&format!("{source} commenter {name}"))
            .unwrap_or_else(|| format!("{source}-commenter"));
        Some(format!("{local}@imported.invalid"))
    });
    SourceUser {
        source_id,
        name,
        email,
        ..Default::default()
    }
}

/// Writes one post's article; returns its id.
fn write_article(
    conn: &mut DbConnection,
    source: &str,
    post: SourcePost,
    counts: &mut Summary,
) -> anyhow::Result<i64> {
    let author = post.author.clone().unwrap_or_else(|| fallback_user(source));
    let author_id = ensure_user(conn, source, &author, counts)?;
    let mut tag_slugs: Vec<String> = Vec::new();
    for t in post.tags.iter().take(content::TAGS_MAX) {
        if let Some(slug) = ensure_tag(conn, source, t, counts)?
            && !tag_slugs.contains(&slug)
        {
            tag_slugs.push(slug);
        }
    }
    let title = clean_text(&post.title, content::TITLE_MAX);
    let title = if title.is_empty() {
        "(untitled)".to_string()
    } else {
        title
    };
    let wanted = if crate::slug::is_valid(&post.slug) {
        Some(post.slug.clone())
    } else {
        crate::slug::slugify(&percent_decode(&post.slug))
    };
    let base = wanted
        .or_else(|| crate::slug::slugify(&title))
        .unwrap_or_else(|| content::FALLBACK_SLUG.into());
    let slug = articles::free_slug(conn, &base)?;
    let now = crate::time::now();
    let (status, published_at) = match (post.status, post.published_at) {
        (SourceStatus::Draft, _) => (ArticleStatus::Draft, None),
        (_, Some(t)) => (ArticleStatus::Published, Some(Some(t))),
        (_, None) => (
            ArticleStatus::Published,
            Some(Some(post.created_at.unwrap_or(now))),
        ),
    };
    // Sanitised before storing: nothing unsafe is kept, even as source.
    let body = crate::articles::render::sanitize(&post.html.replace('\0', ""));
    let changes = Changes {
        title: Some(title),
        body: Some(body),
        body_format: Some(BodyFormat::Html),
        slug: Some(slug),
        subtitle: None,
        excerpt: Some(clean_opt(post.excerpt.as_deref(), content::EXCERPT_MAX)),
        status: Some(status),
        published_at,
        tags: Some(tag_slugs),
        feature_image: Some(clean_url(post.feature_image.as_deref())),
        feature_image_id: None,
        comments_enabled: Some(post.comments_enabled),
        meta_title: Some(clean_opt(
            post.meta_title.as_deref(),
            content::META_TITLE_MAX,
        )),
        meta_description: Some(clean_opt(
            post.meta_description.as_deref(),
            content::META_DESCRIPTION_MAX,
        )),
        canonical_url: Some(clean_url(post.canonical_url.as_deref())),
        author_id: None,
    };
    // The author writes it (an editor's rights, so that an old slug of
    // another article never blocks the import).
    let caller = AuthUser {
        id: author_id,
        role: Role::Editor,
    };
    let row = content::create(conn, &caller, changes, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The source's own dates, not the moment of the import.
    let created = post.created_at.or(post.published_at).unwrap_or(now);
    let updated = post.updated_at.unwrap_or(created).max(created);
    diesel::update(crate::db::schema::articles::table.find(row.id))
        .set((
            crate::db::schema::articles::created_at.eq(created),
            crate::db::schema::articles::updated_at.eq(updated),
        ))
        .execute(conn)?;
    diesel::update(article_revisions::table.filter(article_revisions::article_id.eq(row.id)))
        .set(article_revisions::created_at.eq(updated))
        .execute(conn)?;
    for old in &post.old_urls {
        if let Some(path) = crate::redirects::normalize(old)
            && crate::redirects::queries::add_for_article(conn, &path, row.id, now)?
        {
            counts.redirects_created += 1;
        }
    }
    remember(conn, source, "article", &post.source_id, row.id)?;
    Ok(row.id)
}

/// A progress bar over a file's bytes, drawn only on a terminal.
pub fn progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The kinds of file `newsdesk import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ghost,
    Wordpress,
    Newsdesk,
}

/// Imports a file into the site; prints nothing (the caller shows the
/// summary). `bar` is moved along the bytes read.
pub fn import_file(
    db: &crate::db::Db,
    kind: Kind,
    path: &std::path::Path,
    public_urls: crate::feeds::PublicUrls,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Summary> {
    let open = |p: &std::path::Path| {
        std::fs::File::open(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
    };
    let len = open(path)?.metadata().map(|m| m.len()).unwrap_or(0);
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    match kind {
        Kind::Newsdesk => {
            bar.set_length(len);
            let (reader, read) = Counting::new(open(path)?);
            let ticker = Ticker::new(bar, read);
            let summary = newsdesk::import(&mut conn, std::io::BufReader::new(reader));
            drop(ticker);
            summary
        }
        Kind::Ghost => {
            // Two passes over the file.
            bar.set_length(len.saturating_mul(2));
            let total = Arc::new(AtomicU64::new(0));
            let ticker = Ticker::new(bar, total.clone());
            let mut sink = Sink::new(&mut conn, "ghost", public_urls);
            ghost::read(
                |p| {
                    let (reader, read) = Counting::new(std::fs::File::open(p)?);
                    let total = total.clone();
                    Ok(Shared {
                        inner: reader,
                        read,
                        total,
                        last: 0,
                    })
                },
                path,
                |item| match item {
                    ghost::Item::Post(p) => sink.post(*p),
                    ghost::Item::Skip(why) => sink.summary.skip(why),
                },
            )?;
            drop(ticker);
            Ok(sink.summary)
        }
        Kind::Wordpress => {
            bar.set_length(len);
            let (reader, read) = Counting::new(open(path)?);
            let ticker = Ticker::new(bar, read);
            let mut sink = Sink::new(&mut conn, "wordpress", public_urls);
            let left = wordpress::read(std::io::BufReader::new(reader), |item| match item {
                wordpress::Item::Post(p) => sink.post(*p),
                wordpress::Item::Skip(why) => sink.summary.skip(why),
            })?;
            drop(ticker);
            // Thumbnails whose attachment came after the post.
            for (post_id, attachment) in &left.thumbnails {
                let (Some(url), Some(id)) = (
                    left.attachments.get(attachment),
                    mapped(&mut *sink.conn, "wordpress", "article", post_id)?,
                ) else {
                    continue;
                };
                if let Some(url) = clean_url(Some(url)) {
                    use crate::db::schema::articles;
                    diesel::update(
                        articles::table
                            .find(id)
                            .filter(articles::feature_image.is_null()),
                    )
                    .set(articles::feature_image.eq(url))
                    .execute(&mut *sink.conn)?;
                }
            }
            Ok(sink.summary)
        }
    }
}

/// A reader adding its bytes to a total shared by several passes.
struct Shared<R> {
    inner: Counting<R>,
    read: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    last: u64,
}

impl<R: Read> Read for Shared<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let now = self.read.load(Ordering::Relaxed);
        self.total.fetch_add(now - self.last, Ordering::Relaxed);
        self.last = now;
        Ok(n)
    }
}

/// Moves a progress bar to a byte count every 100 ms, on its own thread,
/// until dropped.
struct Ticker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn new(bar: &indicatif::ProgressBar, read: Arc<AtomicU64>) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let bar = bar.clone();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                bar.set_position(read.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.set_position(read.load(Ordering::Relaxed));
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
