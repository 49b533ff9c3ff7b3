//! SQL for tags. `article_count` is computed, never stored: it counts the
//! published articles visible *now*, and a scheduled article becomes
//! visible without any write, so a stored counter would be wrong until a
//! job ran. Each `article_tags` row carries a trigger-kept copy of its
//! article's status and `published_at`, so the count is a range count on
//! the covering index `(tag_id, article_status, article_published_at)`,
//! evaluated only for the rows of the page when sorting by name.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::articles::dto::TagRef;
use crate::db::keyset::NameOrCount;
use crate::db::schema::tags;
use crate::db::{DbBackend, DbConnection};
use crate::http::PageRequest;
use crate::users::queries::like_escape;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tags)]
pub struct TagRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = tags)]
pub struct TagChanges {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

type CountExpr = Box<dyn BoxableExpression<tags::table, DbBackend, SqlType = BigInt>>;

/// Visible articles linked to `tags.id`.
fn article_count(now: NaiveDateTime) -> CountExpr {
    Box::new(
        sql::<BigInt>(
            "(SELECT COUNT(*) FROM article_tags WHERE article_tags.tag_id = tags.id \
             AND article_tags.article_status = 'published' \
             AND article_tags.article_published_at <= ",
        )
        .bind::<Timestamp, _>(now)
        .sql(")"),
    )
}

/// A readable name for a tag made from its slug: `north-korea` -> "North Korea".
pub fn name_from_slug(slug: &str) -> String {
    slug.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn filtered(prefix: Option<&str>) -> tags::BoxedQuery<'static, DbBackend> {
    let mut q = tags::table.into_boxed();
    if let Some(p) = prefix {
        let pattern = format!("{}%", like_escape(p));
        q = q.filter(lower(tags::name).like(lower(pattern)).escape('\\'));
    }
    q
}

/// A page of tags with their counts, and the total.
pub fn list(
    conn: &mut DbConnection,
    prefix: Option<&str>,
    page: &PageRequest,
    seek: Option<NameOrCount>,
    now: NaiveDateTime,
) -> QueryResult<(Vec<(TagRow, i64)>, i64)> {
    let total = filtered(prefix).count().get_result::<i64>(conn)?;
    let q = filtered(prefix).select((TagRow::as_select(), article_count(now)));
    let desc = page.sort.desc;
    let q = if page.sort.field == "article_count" {
        let q = if desc {
            q.order((article_count(now).desc(), tags::id.desc()))
        } else {
            q.order((article_count(now).asc(), tags::id.asc()))
        };
        match seek {
            Some(NameOrCount::Count(k, id)) if desc => q.filter(
                article_count(now)
                    .lt(k)
                    .or(article_count(now).eq(k).and(tags::id.lt(id))),
            ),
            Some(NameOrCount::Count(k, id)) => q.filter(
                article_count(now)
                    .gt(k)
                    .or(article_count(now).eq(k).and(tags::id.gt(id))),
            ),
            _ => q,
        }
    } else {
        let seek = match seek {
            Some(NameOrCount::Name(k, id)) => Some((k, id)),
            _ => None,
        };
        crate::order_and_seek!(q, tags::name, tags::id, desc, seek)
    };
    let rows = q
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    Ok((rows, total))
}

pub fn find_by_slug(
    conn: &mut DbConnection,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<(TagRow, i64)> {
    tags::table
        .filter(tags::slug.eq(slug))
        .select((TagRow::as_select(), article_count(now)))
        .into_boxed::<DbBackend>()
        .first(conn)
}

pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = tags::table
        .filter(tags::slug.eq(slug))
        .select(tags::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(tags::id.ne(id));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

pub fn insert(
    conn: &mut DbConnection,
    slug: &str,
    name: &str,
    description: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<TagRow> {
    diesel::insert_into(tags::table)
        .values((
            tags::slug.eq(slug),
            tags::name.eq(name),
            tags::description.eq(description),
            tags::created_at.eq(now),
            tags::updated_at.eq(now),
        ))
        .returning(tags::all_columns)
        .get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, changes: &TagChanges) -> QueryResult<TagRow> {
    diesel::update(tags::table.find(id))
        .set(changes)
        .returning(tags::all_columns)
        .get_result(conn)
}

/// Deletes a tag; its article links go with it (foreign key cascade).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(tags::table.find(id)).execute(conn)
}

/// The tags with these slugs, in the given order, creating the missing
/// ones (named from the slug). Slugs must be valid and distinct.
pub fn ensure_by_slugs(
    conn: &mut DbConnection,
    slugs: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<TagRef>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let existing: Vec<(i64, String, String)> = tags::table
        .filter(tags::slug.eq_any(slugs))
        .select((tags::id, tags::slug, tags::name))
        .load(conn)?;
    let mut out = Vec::with_capacity(slugs.len());
    for slug in slugs {
        match existing.iter().find(|(_, s, _)| s == slug) {
            Some((id, slug, name)) => out.push(TagRef {
                id: *id,
                slug: slug.clone(),
                name: name.clone(),
            }),
            None => {
                let row = insert(conn, slug, &name_from_slug(slug), None, now)?;
                out.push(TagRef {
                    id: row.id,
                    slug: row.slug,
                    name: row.name,
                });
            }
        }
    }
    Ok(out)
}

/// The tags that still exist among these ids: `(id, slug, name)`.
pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<TagRef>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, String)> = tags::table
        .filter(tags::id.eq_any(ids))
        .select((tags::id, tags::slug, tags::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, name)| TagRef { id, slug, name })
        .collect())
}

/// Ids of the tags with these slugs, `None` if any is unknown.
pub fn ids_for_slugs(conn: &mut DbConnection, slugs: &[String]) -> QueryResult<Option<Vec<i64>>> {
    if slugs.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let rows: Vec<(i64, String)> = tags::table
        .filter(tags::slug.eq_any(slugs))
        .select((tags::id, tags::slug))
        .load(conn)?;
    let mut ids = Vec::with_capacity(slugs.len());
    for slug in slugs {
        match rows.iter().find(|(_, s)| s == slug) {
            Some((id, _)) => ids.push(*id),
            None => return Ok(None),
        }
    }
    Ok(Some(ids))
}
