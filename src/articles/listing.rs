//! Article listing: the filter a list applies, one page of rows in any
//! sort order (by offset, by keyset seek, or both), and the list index that
//! makes totals and deep numbered pages cheap.
//!
//! Every list page is one query for the rows (articles joined with their
//! authors) plus one batched query for the page's tags (and one for bodies
//! with `include=body`), never one query per article. Every sort pages by
//! keyset on `(key, id)`, so a deep cursor costs what the first page does.
//!
//! **The list index.** Counting every matching row for `X-Total-Count`, and
//! skipping thousands of rows for `page=400`, would cost a scan per request.
//! Instead, per filter, the total is counted once, and per filter and sort
//! the keyset position of every [`ANCHOR_STRIDE`]th row is collected once
//! (one pass over a covering index); a numbered page then seeks to the
//! nearest anchor and skips fewer than `ANCHOR_STRIDE` rows. Both are kept
//! for at most [`INDEX_TTL`] and forgotten at once by any write through this
//! instance (their keys carry the write generation) or when a scheduled
//! article goes live, so a total can lag a write on another instance by at
//! most that long: the same bound as the read cache.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Nullable, Timestamp};
use moka::sync::Cache;

use super::dto::{ArticleListQuery, StatusFilter};
use super::queries::{ArticleSummaryRow, AuthorRow};
use crate::db::keyset::FromCursor;
use crate::db::prepared::{Around, Fixed};
use crate::db::schema::{article_tags, articles};
use crate::db::search::{SearchQuery, articles_fts};
use crate::db::timestamp::{MaybeStamp, Stamp};
use crate::db::{Backend, DbBackend, DbConnection};
use crate::error::ApiError;
use crate::http::list::Paging;
use crate::http::writes::Writes;
use crate::http::{ListQuery, PageRequest, Sort};

/// Which articles a list shows. Built by the handler from the caller's
/// role and the query string; `tag_ids` and `author_id` are already
/// resolved from slugs.
#[derive(Debug, Clone)]
pub struct ArticleFilter {
    pub backend: Backend,
    pub now: NaiveDateTime,
    /// Only published articles whose `published_at` has passed.
    pub visible_only: bool,
    /// Only this user's own articles (an author listing drafts).
    pub owner: Option<i64>,
    pub status: Option<StatusFilter>,
    pub author_id: Option<i64>,
    /// All must be linked.
    pub tag_ids: Vec<i64>,
    pub search: Option<SearchQuery>,
    pub published_after: Option<NaiveDateTime>,
    pub published_before: Option<NaiveDateTime>,
    /// Only ids from this one on: the newest matches a search ranks.
    pub min_id: Option<i64>,
}

impl ArticleFilter {
    /// Whether the result depends on the clock: scheduled articles are
    /// left out until their time.
    fn hides_scheduled(&self) -> bool {
        self.visible_only || self.status == Some(StatusFilter::Scheduled)
    }

    /// The tag of a public list filtered by one tag and at most dates: its
    /// pages and total are read from that tag's links alone, whose covering
    /// index `(tag_id, article_status, article_published_at, article_id)`
    /// holds each article's visibility, never from the articles.
    fn public_tag(&self) -> Option<i64> {
        match self.tag_ids.as_slice() {
            [tag]
                if self.visible_only
                    && self.owner.is_none()
                    && matches!(self.status, None | Some(StatusFilter::Published))
                    && self.author_id.is_none()
                    && self.search.is_none()
                    && self.min_id.is_none() =>
            {
                Some(*tag)
            }
            _ => None,
        }
    }

    /// Whether rows without `published_at` can be in the result.
    fn may_lack_published_at(&self) -> bool {
        !self.visible_only
            && !matches!(
                self.status,
                Some(StatusFilter::Published | StatusFilter::Scheduled)
            )
            && self.published_after.is_none()
            && self.published_before.is_none()
    }
}

/// `articles.published_at <= now`.
type Passed = diesel::dsl::LtEq<diesel::dsl::AssumeNotNull<articles::published_at>, NaiveDateTime>;

/// `articles.published_at <= now`. On SQLite the term is marked as true
/// for nearly every row (`likelihood`): without table statistics SQLite
/// otherwise takes it for a selective range, reads every published article
/// through the `published_at` index and sorts them all, instead of walking
/// the index of the requested sort and stopping after one page.
fn published_by<QS>(
    backend: Backend,
    now: NaiveDateTime,
) -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Bool>>
where
    Passed: SelectableExpression<QS>,
{
    // Visible articles always have a publication time: the comparison is
    // true or false, never NULL.
    let passed = articles::published_at.assume_not_null().le(now);
    match backend {
        Backend::Sqlite => Box::new(Around::new("likelihood(", passed, ", 0.99)")),
        Backend::Postgres => Box::new(passed),
    }
}

/// The public visibility rule (published, `published_at` passed) as one
/// filter, for queries over `articles` that are not lists (sitemaps).
pub fn visible(
    backend: Backend,
    now: NaiveDateTime,
) -> Box<dyn BoxableExpression<articles::table, DbBackend, SqlType = Bool>> {
    Box::new(
        articles::status
            .eq("published")
            .and(published_by::<articles::table>(backend, now)),
    )
}

/// Applies an `ArticleFilter` to any boxed query over `articles` (alone or
/// joined): the same text serves the count and the page.
macro_rules! filtered {
    ($query:expr, $f:expr) => {
        filtered!($query, $f, true)
    };
    ($query:expr, $f:expr, $with_search:expr) => {{
        let f: &ArticleFilter = $f;
        let mut q = $query;
        if f.visible_only {
            q = q
                .filter(articles::status.eq("published"))
                .filter(published_by(f.backend, f.now));
        }
        if let Some(owner) = f.owner {
            q = q.filter(articles::author_id.eq(owner));
        }
        match f.status {
            None => {}
            Some(StatusFilter::Draft) => q = q.filter(articles::status.eq("draft")),
            Some(StatusFilter::Archived) => q = q.filter(articles::status.eq("archived")),
            Some(StatusFilter::Published) => q = q.filter(articles::status.eq("published")),
            Some(StatusFilter::Scheduled) => {
                q = q
                    .filter(articles::status.eq("published"))
                    .filter(articles::published_at.gt(f.now))
            }
        }
        if let Some(author) = f.author_id {
            q = q.filter(articles::author_id.eq(author));
        }
        for tag in &f.tag_ids {
            q = q.filter(
                articles::id.eq_any(
                    article_tags::table
                        .filter(article_tags::tag_id.eq(*tag))
                        .select(article_tags::article_id),
                ),
            );
        }
        if let Some(search) = f.search.as_ref().filter(|_| $with_search) {
            q = q.filter(search.matches());
        }
        if let Some(t) = f.published_after {
            q = q.filter(articles::published_at.gt(t));
        }
        if let Some(t) = f.published_before {
            q = q.filter(articles::published_at.lt(t));
        }
        if let Some(id) = f.min_id {
            q = q.filter(articles::id.ge(id));
        }
        q
    }};
}

/// A typed keyset position, parsed from a cursor.
#[derive(Debug, Clone, PartialEq)]
pub enum SeekKey {
    /// `published_at` (NULL for a never-published draft) or `updated_at`.
    Time(Option<NaiveDateTime>),
    Text(String),
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Seek {
    pub key: SeekKey,
    pub id: i64,
}

/// The pseudo sort field of search results without an explicit sort.
pub const RELEVANCE: &str = "relevance";

/// The sort fields of article lists, besides [`RELEVANCE`].
pub const SORTS: &[&str] = &[
    "published_at",
    "updated_at",
    "title",
    "view_count",
    "comment_count",
];

/// `-published_at` by default, or relevance when searching without `sort`.
impl ListQuery for ArticleListQuery {
    const SORTS: &'static [&'static str] = SORTS;
    const DEFAULT_SORT: &'static str = "-published_at";

    fn paging(&self) -> Paging<'_> {
        Paging {
            page: self.page,
            per_page: self.per_page,
            after: self.after.as_deref(),
            sort: self.sort.as_deref(),
        }
    }

    fn sort(&self) -> Result<Sort, ApiError> {
        match (&self.sort, super::content::query_text(self.q.as_deref())) {
            (None, Some(_)) => Ok(Sort {
                field: RELEVANCE,
                desc: false,
            }),
            _ => Sort::parse(self.sort.as_deref(), SORTS, Self::DEFAULT_SORT),
        }
    }
}

/// Reads a cursor's key for the given sort field.
impl FromCursor for Seek {
    fn from_cursor(field: &str, key: Option<&str>, id: i64) -> Option<Seek> {
        let key = match field {
            "published_at" => SeekKey::Time(match key {
                None => None,
                Some(k) => Some(crate::time::parse_rfc3339(k)?),
            }),
            "updated_at" => SeekKey::Time(Some(crate::time::parse_rfc3339(key?)?)),
            "title" => SeekKey::Text(key?.to_string()),
            "view_count" | "comment_count" => SeekKey::Int(key?.parse().ok()?),
            RELEVANCE => SeekKey::Float(key?.parse::<f64>().ok().filter(|f| f.is_finite())?),
            _ => return None,
        };
        Some(Seek { key, id })
    }
}

/// The cursor key of a list row under the given sort field.
pub fn sort_key(row: &ListRow, field: &str) -> Option<String> {
    let a = &row.article;
    match field {
        "published_at" => a.published_at.map(crate::time::cursor_key),
        "updated_at" => Some(crate::time::cursor_key(a.updated_at)),
        "title" => Some(a.title.clone()),
        "view_count" => Some(a.view_count.to_string()),
        "comment_count" => Some(a.comment_count.to_string()),
        RELEVANCE => row.rank.map(|r| r.to_string()),
        _ => None,
    }
}

/// One row of a list page.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub article: ArticleSummaryRow,
    pub author: AuthorRow,
    /// The relevance score when ordering by relevance.
    pub rank: Option<f64>,
}

/// The rank column of pages not ordered by relevance.
fn no_rank<QS>() -> Box<dyn BoxableExpression<QS, DbBackend, SqlType = Nullable<Double>>> {
    Box::new(Fixed::<Nullable<Double>>::new(
        "CAST(NULL AS DOUBLE PRECISION)",
    ))
}

/// How many articles match the filter.
pub fn count(conn: &mut DbConnection, f: &ArticleFilter) -> QueryResult<i64> {
    if let Some(tag) = f.public_tag() {
        return tag_links(f, tag).count().get_result::<i64>(conn);
    }
    filtered!(articles::table.into_boxed::<DbBackend>(), f)
        .count()
        .get_result::<i64>(conn)
}

/// The visible links of one tag, within the filter's dates: what
/// [`ArticleFilter::public_tag`] lists.
fn tag_links(f: &ArticleFilter, tag: i64) -> article_tags::BoxedQuery<'static, DbBackend> {
    let mut q = article_tags::table
        .filter(article_tags::tag_id.eq(tag))
        .filter(article_tags::article_status.eq("published"))
        .filter(article_tags::article_published_at.le(f.now))
        .into_boxed::<DbBackend>();
    if let Some(t) = f.published_after {
        q = q.filter(article_tags::article_published_at.gt(t));
    }
    if let Some(t) = f.published_before {
        q = q.filter(article_tags::article_published_at.lt(t));
    }
    q
}

/// Up to `limit` rows in `sort` order, after `seek` when given, skipping
/// `offset` rows first.
pub fn rows(
    conn: &mut DbConnection,
    f: &ArticleFilter,
    sort: Sort,
    seek: Option<&Seek>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<ListRow>> {
    let field = sort.field;
    let desc = sort.desc;
    // A deferred join: the page's ids (and ranks) first, from the sort and
    // filter columns alone, which covering indices hold; then the rows of
    // those ids only. Reading an article row costs its body's overflow
    // pages, so a page must not read the rows it filters out or skips.
    let base = || {
        filtered!(
            articles::table
                .select((articles::id, no_rank()))
                .into_boxed::<DbBackend>(),
            f
        )
    };
    type Raw = (i64, Option<f64>);
    let key = seek.map(|s| (&s.key, s.id));
    if let Some(tag) = f.public_tag().filter(|_| field == "published_at") {
        let seek = match key {
            Some((SeekKey::Time(Some(k)), id)) => Some((*k, id)),
            Some(_) => return Ok(Vec::new()),
            None => None,
        };
        let ids: Vec<i64> = crate::order_and_seek!(
            tag_links(f, tag).select(article_tags::article_id),
            article_tags::article_published_at,
            article_tags::article_id,
            desc,
            seek
        )
        .offset(offset)
        .limit(limit)
        .load(conn)?;
        return rows_of(conn, ids.into_iter().map(|id| (id, None)).collect());
    }
    let rows: Vec<Raw> = match field {
        RELEVANCE => {
            let Some(s) = &f.search else {
                return Ok(Vec::new());
            };
            // Best first (ascending score); among equals, newest first.
            macro_rules! ranked {
                ($q:expr) => {{
                    let q = $q.order((s.rank().asc(), articles::id.desc()));
                    let q = match key {
                        Some((SeekKey::Float(k), id)) => {
                            q.filter(s.rank().gt(*k).or(s.rank().eq(*k).and(articles::id.lt(id))))
                        }
                        _ => q,
                    };
                    q.offset(offset).limit(limit).load::<Raw>(conn)?
                }};
            }
            match s.backend() {
                // FTS5 scores a document only inside the query that matched
                // it: join the index rather than scoring row by row.
                Backend::Sqlite => ranked!(
                    filtered!(
                        articles::table
                            .inner_join(
                                articles_fts::table.on(articles_fts::rowid.eq(articles::id))
                            )
                            .select((articles::id, s.rank()))
                            .into_boxed::<DbBackend>(),
                        f,
                        false
                    )
                    .filter(s.fts_match())
                    // Lets FTS5 itself skip older rows, unscored.
                    .filter(articles_fts::rowid.ge(f.min_id.unwrap_or(i64::MIN)))
                ),
                Backend::Postgres => ranked!(filtered!(
                    articles::table
                        .select((articles::id, s.rank()))
                        .into_boxed::<DbBackend>(),
                    f
                )),
            }
        }
        "published_at" => {
            let nullable = f.may_lack_published_at();
            // Never-published drafts (NULL) sort as the oldest, on both
            // backends: first ascending, last descending. Every query says
            // so explicitly, so that PostgreSQL reads its NULLS FIRST
            // indices in order instead of sorting.
            match key {
                None => {
                    let q = base().order(published_order(desc));
                    let q = if desc {
                        q.then_order_by(articles::id.desc())
                    } else {
                        q.then_order_by(articles::id.asc())
                    };
                    q.offset(offset).limit(limit).load(conn)?
                }
                Some((SeekKey::Time(Some(k)), id)) => {
                    let k = *k;
                    let mut rows: Vec<Raw> = if desc {
                        base()
                            .filter(
                                articles::published_at
                                    .le(k)
                                    .and(articles::published_at.lt(k).or(articles::id.lt(id))),
                            )
                            .order(published_order(desc))
                            .then_order_by(articles::id.desc())
                            .offset(offset)
                            .limit(limit)
                            .load(conn)?
                    } else {
                        base()
                            .filter(
                                articles::published_at
                                    .ge(k)
                                    .and(articles::published_at.gt(k).or(articles::id.gt(id))),
                            )
                            .order(published_order(desc))
                            .then_order_by(articles::id.asc())
                            .offset(offset)
                            .limit(limit)
                            .load(conn)?
                    };
                    // Descending, the NULLs come after every date.
                    if desc && nullable && (rows.len() as i64) < limit {
                        let more: Vec<Raw> = base()
                            .filter(articles::published_at.is_null())
                            .order(articles::id.desc())
                            .limit(limit - rows.len() as i64)
                            .load(conn)?;
                        rows.extend(more);
                    }
                    rows
                }
                Some((SeekKey::Time(None), id)) => {
                    if desc {
                        base()
                            .filter(articles::published_at.is_null().and(articles::id.lt(id)))
                            .order(articles::id.desc())
                            .limit(limit)
                            .load(conn)?
                    } else {
                        // Ascending, the NULLs come first, then every date.
                        let mut rows: Vec<Raw> = base()
                            .filter(articles::published_at.is_null().and(articles::id.gt(id)))
                            .order(articles::id.asc())
                            .limit(limit)
                            .load(conn)?;
                        if (rows.len() as i64) < limit {
                            let more: Vec<Raw> = base()
                                .filter(articles::published_at.is_not_null())
                                .order(published_order(desc))
                                .then_order_by(articles::id.asc())
                                .limit(limit - rows.len() as i64)
                                .load(conn)?;
                            rows.extend(more);
                        }
                        rows
                    }
                }
                Some(_) => Vec::new(),
            }
        }
        "updated_at" => {
            let seek = match key {
                Some((SeekKey::Time(Some(k)), id)) => Some((*k, id)),
                _ => None,
            };
            crate::order_and_seek!(base(), articles::updated_at, articles::id, desc, seek)
                .offset(offset)
                .limit(limit)
                .load(conn)?
        }
        "title" => {
            let seek = match key {
                Some((SeekKey::Text(k), id)) => Some((k.clone(), id)),
                _ => None,
            };
            crate::order_and_seek!(base(), articles::title, articles::id, desc, seek)
                .offset(offset)
                .limit(limit)
                .load(conn)?
        }
        "view_count" => {
            let seek = match key {
                Some((SeekKey::Int(k), id)) => Some((*k, id)),
                _ => None,
            };
            crate::order_and_seek!(base(), articles::view_count, articles::id, desc, seek)
                .offset(offset)
                .limit(limit)
                .load(conn)?
        }
        _ => {
            let seek = match key {
                Some((SeekKey::Int(k), id)) => Some((*k, id)),
                _ => None,
            };
            crate::order_and_seek!(base(), articles::comment_count, articles::id, desc, seek)
                .offset(offset)
                .limit(limit)
                .load(conn)?
        }
    };
    rows_of(conn, rows)
}

/// The list rows of a page's ids, in that order, with their ranks.
fn rows_of(conn: &mut DbConnection, page: Vec<(i64, Option<f64>)>) -> QueryResult<Vec<ListRow>> {
    let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
    let ranks: std::collections::HashMap<i64, Option<f64>> = page.into_iter().collect();
    let mut rows = super::queries::list_rows_by_ids(conn, &ids)?;
    for row in &mut rows {
        row.rank = ranks.get(&row.article.id).copied().flatten();
    }
    Ok(rows)
}

/// A search ranked by relevance ranks at most this many matches, the
/// newest: scoring every match of a common word would cost a scan of the
/// index per request. Sorted by a field, a search lists every match.
pub const SEARCH_CANDIDATES: i64 = 1000;
/// Rows between two anchors: a numbered page skips fewer than this.
pub const ANCHOR_STRIDE: i64 = 100;
/// How long a total or a set of anchors is trusted without a local write.
pub const INDEX_TTL: Duration = Duration::from_secs(5);

/// Totals and page anchors per filter (and sort), per instance.
pub struct ListIndex {
    writes: Arc<Writes>,
    totals: Cache<String, Timed<i64>>,
    anchors: Cache<String, Timed<Arc<Vec<Seek>>>>,
    /// Per search: the oldest id among the newest matches it ranks.
    floors: Cache<String, Timed<Option<i64>>>,
}

/// A cached fact and the moment it stops being true by itself: the next
/// scheduled publication, when a list shows only visible articles.
#[derive(Clone)]
struct Timed<V> {
    value: V,
    until: Option<NaiveDateTime>,
}

impl<V: Clone + Send + Sync + 'static> Timed<V> {
    /// The cached value unless a scheduled article has gone live since it
    /// was computed; else computes it once (concurrent misses share).
    fn get_or(
        cache: &Cache<String, Timed<V>>,
        key: String,
        f: &ArticleFilter,
        conn: &mut DbConnection,
        compute: impl FnOnce(&mut DbConnection) -> QueryResult<V>,
    ) -> Result<V, ApiError> {
        if let Some(hit) = cache.get(&key) {
            if hit.until.is_none_or(|t| f.now < t) {
                return Ok(hit.value);
            }
            cache.invalidate(&key);
        }
        let timed = cache
            .try_get_with(key, || -> QueryResult<Timed<V>> {
                let until = if f.hides_scheduled() {
                    next_scheduled(conn, f.now)?
                } else {
                    None
                };
                Ok(Timed {
                    value: compute(conn)?,
                    until,
                })
            })
            .map_err(|e| ApiError::internal(anyhow::anyhow!("article list: {e}")))?;
        Ok(timed.value)
    }
}

impl ListIndex {
    pub fn new(writes: Arc<Writes>) -> Self {
        Self {
            writes,
            totals: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(INDEX_TTL)
                .build(),
            // Weighed in anchors: 1,000 per 100,000 rows of a list.
            anchors: Cache::builder()
                .max_capacity(200_000)
                .weigher(|_, v: &Timed<Arc<Vec<Seek>>>| {
                    u32::try_from(v.value.len()).unwrap_or(u32::MAX).max(1)
                })
                .time_to_live(INDEX_TTL)
                .build(),
            floors: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(INDEX_TTL)
                .build(),
        }
    }

    /// One page of the list and the total matching the filter. Concurrent
    /// requests that miss the same total or anchors share one computation.
    pub fn page(
        &self,
        conn: &mut DbConnection,
        f: &ArticleFilter,
        page: &PageRequest,
        seek: Option<&Seek>,
    ) -> Result<(Vec<ListRow>, i64), ApiError> {
        let generation = self.writes.current();
        // Relevance ranks the newest SEARCH_CANDIDATES matches only: the
        // list, its total and its pages are those of that bounded set.
        let bounded;
        let mut known_total = None;
        let f = match &f.search {
            Some(_) if page.sort.field == RELEVANCE => {
                let key = format!("{generation}|{}", filter_key(f));
                let floor = Timed::get_or(&self.floors, key, f, conn, |c| search_floor(c, f))?;
                // With a floor, exactly SEARCH_CANDIDATES matches reach it.
                known_total = floor.map(|_| SEARCH_CANDIDATES);
                bounded = ArticleFilter {
                    min_id: floor,
                    ..f.clone()
                };
                &bounded
            }
            _ => f,
        };
        let key = format!("{generation}|{}", filter_key(f));
        let total = match known_total {
            Some(total) => total,
            None => Timed::get_or(&self.totals, key.clone(), f, conn, |c| count(c, f))?,
        };
        if total == 0 {
            return Ok((Vec::new(), 0));
        }
        let sort = page.sort;
        let limit = page.fetch_limit();
        let offset = page.offset();
        let anchored = seek.is_none()
            && offset >= ANCHOR_STRIDE
            && sort.field != RELEVANCE
            // Seeking past drafts without a date takes a second query that
            // an offset cannot follow; such lists are editors' and short.
            && !(sort.field == "published_at" && f.may_lack_published_at());
        if !anchored {
            return Ok((rows(conn, f, sort, seek, offset, limit)?, total));
        }
        let key = format!("{key}|{}", sort.as_param());
        let anchors = Timed::get_or(&self.anchors, key, f, conn, |c| {
            anchors(c, f, sort).map(Arc::new)
        })?;
        let block = offset / ANCHOR_STRIDE;
        let rows = match usize::try_from(block - 1).ok().and_then(|i| anchors.get(i)) {
            Some(anchor) => rows(
                conn,
                f,
                sort,
                Some(anchor),
                offset - block * ANCHOR_STRIDE,
                limit,
            )?,
            // Past the last anchor: past the end, unless rows were added
            // since the anchors were taken.
            None => rows(conn, f, sort, None, offset, limit)?,
        };
        Ok((rows, total))
    }
}

/// The earliest `published_at` still to come among published articles:
/// when a list of visible articles changes with no write.
pub fn next_scheduled(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    articles::table
        .filter(articles::status.eq("published"))
        .filter(articles::published_at.gt(now))
        .select(diesel::dsl::min(articles::published_at))
        .first(conn)
}

/// What identifies a filter's result set (everything but the clock, whose
/// effect the TTL bounds).
fn filter_key(f: &ArticleFilter) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        f.visible_only,
        f.owner,
        f.status,
        f.author_id,
        f.tag_ids,
        f.search.as_ref().map(SearchQuery::as_str),
        f.published_after,
        f.published_before,
        f.min_id,
    )
}

/// The id of the [`SEARCH_CANDIDATES`]th newest match of a search (with
/// every other filter), `None` when there are fewer. Reads ids alone: no
/// match is scored.
pub fn search_floor(conn: &mut DbConnection, f: &ArticleFilter) -> QueryResult<Option<i64>> {
    let Some(s) = &f.search else {
        return Ok(None);
    };
    match s.backend() {
        // Walks the FTS5 index newest first (its rowid order, no sort) and
        // stops at the SEARCH_CANDIDATES-th match that passes the filters.
        Backend::Sqlite => filtered!(
            articles::table
                .inner_join(articles_fts::table.on(articles_fts::rowid.eq(articles::id)))
                .select(articles::id)
                .into_boxed::<DbBackend>(),
            f,
            false
        )
        .filter(s.fts_match())
        .order(articles_fts::rowid.desc())
        .offset(SEARCH_CANDIDATES - 1)
        .first::<i64>(conn)
        .optional(),
        Backend::Postgres => filtered!(
            articles::table
                .select(articles::id)
                .into_boxed::<DbBackend>(),
            f
        )
        .order(articles::id.desc())
        .offset(SEARCH_CANDIDATES - 1)
        .first::<i64>(conn)
        .optional(),
    }
}

/// The keyset position of every [`ANCHOR_STRIDE`]th matching row in `sort`
/// order (the rows at index `STRIDE - 1`, `2 * STRIDE - 1`, ...). Reads the
/// sort key and id alone, from the covering `(status, key, id)` indices.
pub fn anchors(conn: &mut DbConnection, f: &ArticleFilter, sort: Sort) -> QueryResult<Vec<Seek>> {
    let q = filtered!(articles::table.into_boxed::<DbBackend>(), f);
    macro_rules! keys_of {
        ($col:expr, $ty:ty, $key:expr) => {{
            let q = q.select(($col, articles::id));
            let q = if sort.desc {
                q.order(($col.desc(), articles::id.desc()))
            } else {
                q.order(($col.asc(), articles::id.asc()))
            };
            every_stride(q.load::<($ty, i64)>(conn)?, $key)
        }};
    }
    if let Some(tag) = f.public_tag().filter(|_| sort.field == "published_at") {
        let q = tag_links(f, tag)
            .select((article_tags::article_published_at, article_tags::article_id));
        let q = if sort.desc {
            q.order((
                article_tags::article_published_at.desc(),
                article_tags::article_id.desc(),
            ))
        } else {
            q.order((
                article_tags::article_published_at.asc(),
                article_tags::article_id.asc(),
            ))
        };
        return Ok(every_stride(
            q.load::<(MaybeStamp, i64)>(conn)?,
            |k: MaybeStamp| SeekKey::Time(k.0),
        ));
    }
    Ok(match sort.field {
        "published_at" => {
            let q = q
                .select((articles::published_at, articles::id))
                .order(published_order(sort.desc));
            let q = if sort.desc {
                q.then_order_by(articles::id.desc())
            } else {
                q.then_order_by(articles::id.asc())
            };
            every_stride(q.load::<(MaybeStamp, i64)>(conn)?, |k: MaybeStamp| {
                SeekKey::Time(k.0)
            })
        }
        "updated_at" => keys_of!(articles::updated_at, Stamp, |k: Stamp| SeekKey::Time(Some(
            k.0
        ))),
        "title" => keys_of!(articles::title, String, SeekKey::Text),
        "view_count" => keys_of!(articles::view_count, i64, SeekKey::Int),
        "comment_count" => keys_of!(articles::comment_count, i64, SeekKey::Int),
        _ => Vec::new(),
    })
}

/// The rows at index `STRIDE - 1`, `2 * STRIDE - 1`, ... of keys in order.
fn every_stride<K>(keys: Vec<(K, i64)>, key: impl Fn(K) -> SeekKey) -> Vec<Seek> {
    let stride = usize::try_from(ANCHOR_STRIDE).unwrap_or(100);
    keys.into_iter()
        .skip(stride - 1)
        .step_by(stride)
        .map(|(k, id)| Seek { key: key(k), id })
        .collect()
}

/// `published_at` order: never-published drafts (NULL) sort as the oldest
/// on both backends, said explicitly so that PostgreSQL reads its indices
/// in order instead of sorting.
fn published_order(desc: bool) -> Fixed<Timestamp> {
    Fixed::new(if desc {
        "articles.published_at DESC NULLS LAST"
    } else {
        "articles.published_at ASC NULLS FIRST"
    })
}
