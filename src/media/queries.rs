//! SQL of the media library. Returns `QueryResult`; the HTTP layer decides
//! statuses.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{articles, media, users};
use crate::db::{DbBackend, DbConnection};
use crate::http::PageRequest;
use crate::users::queries::like_escape;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i64,
    pub hash: String,
    pub mime_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub rendition_widths: String,
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal_x: Option<f64>,
    pub focal_y: Option<f64>,
    pub uploaded_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = media)]
pub struct NewMedia {
    pub hash: String,
    pub mime_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub rendition_widths: String,
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal_x: Option<f64>,
    pub focal_y: Option<f64>,
    pub uploaded_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The metadata fields a `PATCH` writes (all of them, `None` as NULL).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = media, treat_none_as_null = true)]
pub struct MediaChanges {
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal_x: Option<f64>,
    pub focal_y: Option<f64>,
    pub updated_at: NaiveDateTime,
}

/// A media row with its uploader's name (`None` once that user is gone).
pub type WithUploader = (MediaRow, Option<String>);

fn with_uploader() -> (
    diesel::dsl::AsSelect<MediaRow, DbBackend>,
    diesel::dsl::Nullable<users::name>,
) {
    (MediaRow::as_select(), users::name.nullable())
}

pub fn insert(conn: &mut DbConnection, row: &NewMedia) -> QueryResult<MediaRow> {
    diesel::insert_into(media::table)
        .values(row)
        .returning(media::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<WithUploader> {
    media::table
        .left_join(users::table)
        .filter(media::id.eq(id))
        .select(with_uploader())
        .first(conn)
}

/// Several media rows at once (for articles that embed them).
pub fn by_ids(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<WithUploader>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    media::table
        .left_join(users::table)
        .filter(crate::db::prepared::ids_in(conn.backend(), media::id, ids))
        .select(with_uploader())
        .load(conn)
}

/// Any row of the library holding these bytes.
pub fn by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<MediaRow>> {
    media::table
        .filter(media::hash.eq(hash))
        .order(media::id)
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}

pub fn exists(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(media::table.filter(media::id.eq(id)))).get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, changes: &MediaChanges) -> QueryResult<usize> {
    diesel::update(media::table.filter(media::id.eq(id)))
        .set(changes)
        .execute(conn)
}

/// Deletes the row; articles that used it lose their feature image
/// (`ON DELETE SET NULL`).
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(media::table.filter(media::id.eq(id))).execute(conn)
}

/// `(id, slug)` of the articles that use a picture as feature image.
pub fn articles_using(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<(i64, String)>> {
    articles::table
        .filter(articles::feature_image_id.eq(id))
        .order(articles::id)
        .select((articles::id, articles::slug))
        .limit(50)
        .load(conn)
}

/// Every row, for `media rebuild`.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<MediaRow>> {
    media::table
        .order(media::id)
        .select(MediaRow::as_select())
        .load(conn)
}

#[derive(Debug, Default, Clone)]
pub struct MediaFilter {
    /// Words searched in alt text and caption (case-insensitive).
    pub q: Option<String>,
    pub uploaded_by: Option<i64>,
}

fn filtered(f: &MediaFilter) -> media::BoxedQuery<'static, DbBackend> {
    let mut q = media::table.into_boxed();
    if let Some(user) = f.uploaded_by {
        q = q.filter(media::uploaded_by.eq(user));
    }
    if let Some(text) = &f.q {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        q = q.filter(
            lower(media::alt)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(media::caption.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    q
}

/// One page of the library, newest first by default (`created_at`, id).
pub fn list(
    conn: &mut DbConnection,
    f: &MediaFilter,
    page: &PageRequest,
    seek: Option<(NaiveDateTime, i64)>,
) -> QueryResult<(Vec<WithUploader>, i64)> {
    let total = filtered(f).count().get_result::<i64>(conn)?;
    let q = crate::order_and_seek!(
        filtered(f),
        media::created_at,
        media::id,
        page.sort.desc,
        seek
    );
    let ids: Vec<i64> = q
        .select(media::id)
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    let mut rows = by_ids(conn, &ids)?;
    rows.sort_by_key(|(r, _)| ids.iter().position(|i| *i == r.id));
    Ok((rows, total))
}
