//! SQL for users. Returns `QueryResult`; the HTTP layer decides statuses.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::keyset::FromCursor;
use crate::db::schema::{articles, refresh_tokens, users};
use crate::db::{DbBackend, DbConnection};
use crate::http::PageRequest;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub slug: String,
    pub role: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub token_version: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub slug: String,
    pub role: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub role: Option<String>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
    pub token_version: Option<i64>,
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub q: Option<String>,
}

/// Escapes `LIKE` wildcards in user input (escape character `\`).
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn filtered(f: &UserFilter) -> users::BoxedQuery<'static, DbBackend> {
    let mut q = users::table.into_boxed();
    if let Some(role) = &f.role {
        q = q.filter(users::role.eq(role.clone()));
    }
    if let Some(text) = &f.q {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        q = q.filter(
            lower(users::name)
                .like(pattern.clone())
                .escape('\\')
                .or(users::email.like(pattern).escape('\\')),
        );
    }
    q
}

pub fn list(
    conn: &mut DbConnection,
    f: &UserFilter,
    page: &PageRequest,
    seek: Option<UserSeek>,
) -> QueryResult<(Vec<UserRow>, i64)> {
    let total = filtered(f).count().get_result::<i64>(conn)?;
    let q = filtered(f).select(UserRow::as_select());
    let desc = page.sort.desc;
    let text = match &seek {
        Some(UserSeek::Text(k, id)) => Some((k.clone(), *id)),
        _ => None,
    };
    let q = match page.sort.field {
        "name" => crate::order_and_seek!(q, users::name, users::id, desc, text),
        "email" => crate::order_and_seek!(q, users::email, users::id, desc, text),
        _ => {
            let time = match seek {
                Some(UserSeek::Time(k, id)) => Some((k, id)),
                _ => None,
            };
            crate::order_and_seek!(q, users::created_at, users::id, desc, time)
        }
    };
    let rows = q
        .offset(page.offset())
        .limit(page.fetch_limit())
        .load(conn)?;
    Ok((rows, total))
}

/// The keyset position of a user list: a name or email, or `created_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSeek {
    Text(String, i64),
    Time(NaiveDateTime, i64),
}

impl FromCursor for UserSeek {
    fn from_cursor(field: &str, key: Option<&str>, id: i64) -> Option<Self> {
        match field {
            "created_at" => Some(Self::Time(crate::time::parse_rfc3339(key?)?, id)),
            _ => Some(Self::Text(key?.to_string(), id)),
        }
    }
}

/// The cursor key of a row under the given sort field.
pub fn sort_key(row: &UserRow, field: &str) -> Option<String> {
    Some(match field {
        "name" => row.name.clone(),
        "email" => row.email.clone(),
        _ => crate::time::cursor_key(row.created_at),
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn email_taken(conn: &mut DbConnection, email: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(users::id.ne(id));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn count_admins(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq("admin"))
        .count()
        .get_result(conn)
}

/// Serialises the transactions that may remove an admin (a demotion or a
/// deletion): on PostgreSQL two of them could otherwise both count "another
/// admin is left" and together leave none. Locks the admin rows until the
/// transaction ends; SQLite's writes are serialised already.
pub fn lock_admins(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query("SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE")
            .execute(conn)?;
    }
    Ok(())
}

/// A free slug for a user's name (`daniel-kim`, `daniel-kim-2`, ...).
pub fn free_slug(conn: &mut DbConnection, name: &str, except: Option<i64>) -> QueryResult<String> {
    let base = crate::slug::slugify(name).unwrap_or_else(|| "user".into());
    let mut q = users::table
        .filter(
            users::slug
                .eq(base.clone())
                .or(users::slug.like(crate::slug::variants_pattern(&base))),
        )
        .select(users::slug)
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(users::id.ne(id));
    }
    let taken: Vec<String> = q.load(conn)?;
    Ok(crate::slug::first_free(&base, &taken))
}

pub fn insert(conn: &mut DbConnection, new: &NewUser) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: i64, changes: &UserChanges) -> QueryResult<UserRow> {
    diesel::update(users::table.find(id))
        .set(changes)
        .returning(users::all_columns)
        .get_result(conn)
}

pub fn article_count(conn: &mut DbConnection, id: i64) -> QueryResult<i64> {
    articles::table
        .filter(articles::author_id.eq(id))
        .count()
        .get_result(conn)
}

/// Deletes a user with their refresh tokens and comments. The comments go
/// by `ON DELETE CASCADE`, and with them every reply beneath them (also
/// other users' replies); `stats::comments` first takes all of those off
/// `comment_count` and the daily statistics, so both stay exact.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<usize> {
    crate::stats::comments::before_user_delete(conn, id)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::user_id.eq(id))).execute(conn)?;
    diesel::delete(users::table.find(id)).execute(conn)
}

/// What every way of making an account (sign-up, admin, CLI, bootstrap)
/// provides, already validated and with the password already hashed.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub email: String,
    pub name: String,
    pub role: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub password_hash: String,
}

/// Creates an account with a unique slug; a taken email is a unique
/// violation (409).
pub fn create_account(conn: &mut DbConnection, input: AccountInput) -> QueryResult<UserRow> {
    let now = crate::time::now();
    let name = input.name.clone();
    let mut new = NewUser {
        email: input.email,
        name: input.name,
        slug: String::new(),
        role: input.role,
        bio: input.bio,
        avatar_url: input.avatar_url,
        password_hash: input.password_hash,
        created_at: now,
        updated_at: now,
    };
    with_free_slug(conn, &name, None, |conn, slug| {
        new.slug = slug;
        insert(conn, &new)
    })
}

/// Runs `write` with a free slug for `name`. Two transactions (on
/// PostgreSQL) can find the same slug free at the same moment; the one
/// whose write then hits the unique index takes the next free slug instead
/// of failing with a conflict about a slug the client never chose. Each
/// attempt is a savepoint, so a failed one leaves the surrounding
/// transaction usable.
pub fn with_free_slug<T>(
    conn: &mut DbConnection,
    name: &str,
    except: Option<i64>,
    mut write: impl FnMut(&mut DbConnection, String) -> QueryResult<T>,
) -> QueryResult<T> {
    let mut attempts = 0;
    loop {
        let result = conn.transaction(|conn| {
            let slug = free_slug(conn, name, except)?;
            write(conn, slug)
        });
        match result {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                ref info,
            )) if attempts < 10
                && (info.message().contains("slug")
                    || info.constraint_name().is_some_and(|c| c.contains("slug"))) =>
            {
                attempts += 1;
            }
            other => return other,
        }
    }
}
