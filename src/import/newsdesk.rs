//! `newsdesk import newsdesk FILE`: reads newsdesk's own export (see
//! `crate::export`) back, streaming: each row is written as it is read,
//! with the ids it had, in one transaction (a failure leaves the site as it
//! was). Meant for an empty site; rows imported before from the same ids are
//! skipped, so a second import changes nothing. Users come back without a
//! password: they sign in once an admin sets one.

use std::cell::RefCell;
use std::fmt;
use std::io::BufRead;

use diesel::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Summary, mapped, remember};
use crate::articles::queries::{ArticleContent, NewArticle};
use crate::comments::queries::NewComment;
use crate::db::DbConnection;
use crate::db::schema::{
    article_daily_stats, article_revisions, articles, comments, media, slug_redirects, tags, users,
};
use crate::export::{
    ExportArticle, ExportComment, ExportMedia, ExportRedirect, ExportTag, ExportUser, FORMAT,
    VERSION,
};

const SOURCE: &str = "newsdesk";

struct State<'c> {
    conn: &'c mut DbConnection,
    summary: Summary,
    checked: bool,
    error: Option<anyhow::Error>,
}

impl State<'_> {
    fn fail<E: serde::de::Error>(&mut self, e: anyhow::Error) -> E {
        let text = format!("{e:#}");
        self.error = Some(e);
        E::custom(text)
    }
}

/// Reads an export from `reader` into the site.
pub fn import<R: BufRead>(conn: &mut DbConnection, reader: R) -> anyhow::Result<Summary> {
    conn.transaction(|conn| {
        let state = RefCell::new(State {
            conn,
            summary: Summary::default(),
            checked: false,
            error: None,
        });
        let mut de = serde_json::Deserializer::from_reader(reader);
        let result = Root(&state).deserialize(&mut de);
        let mut state = state.into_inner();
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        result.map_err(|e| anyhow::anyhow!("not a newsdesk export: {e}"))?;
        if !state.checked {
            anyhow::bail!("not a newsdesk export: no format and version");
        }
        crate::db::reset_id_sequences(
            state.conn,
            &["users", "tags", "media", "articles", "comments"],
        )?;
        Ok(state.summary)
    })
}

struct Root<'a, 'c>(&'a RefCell<State<'c>>);

impl<'de> DeserializeSeed<'de> for Root<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a newsdesk export object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut format_ok = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let f: String = map.next_value()?;
                    if f != FORMAT {
                        return Err(serde::de::Error::custom(format!(
                            "format is {f:?}, not {FORMAT:?}"
                        )));
                    }
                    format_ok = true;
                }
                "version" => {
                    let v: u32 = map.next_value()?;
                    if v != VERSION {
                        return Err(serde::de::Error::custom(format!(
                            "version {v} is not supported (this newsdesk reads version {VERSION})"
                        )));
                    }
                    if !format_ok {
                        return Err(serde::de::Error::custom("format must come before version"));
                    }
                    self.0.borrow_mut().checked = true;
                }
                "users" | "tags" | "media" | "articles" | "comments" | "redirects" => {
                    if !self.0.borrow().checked {
                        return Err(serde::de::Error::custom(
                            "format and version must come before the data",
                        ));
                    }
                    map.next_value_seed(Rows(self.0, key))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Rows<'a, 'c>(&'a RefCell<State<'c>>, String);

impl<'de> DeserializeSeed<'de> for Rows<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}", self.1)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        macro_rules! each {
            ($ty:ty, $write:ident) => {
                while let Some(row) = seq.next_element::<$ty>()? {
                    let mut state = self.0.borrow_mut();
                    let st = &mut *state;
                    if let Err(e) = $write(st.conn, &mut st.summary, row) {
                        return Err(st.fail(e));
                    }
                }
            };
        }
        match self.1.as_str() {
            "users" => each!(ExportUser, user),
            "tags" => each!(ExportTag, tag),
            "media" => each!(ExportMedia, picture),
            "articles" => each!(ExportArticle, article),
            "comments" => each!(ExportComment, comment),
            _ => each!(ExportRedirect, redirect),
        }
        Ok(())
    }
}

/// Whether the row was imported before; else that its id is free.
fn seen(conn: &mut DbConnection, kind: &str, id: i64, taken: bool) -> anyhow::Result<bool> {
    if mapped(conn, SOURCE, kind, &id.to_string())?.is_some() {
        return Ok(true);
    }
    if taken {
        anyhow::bail!(
            "{kind} {id} already exists: a newsdesk export is imported into an empty site"
        );
    }
    Ok(false)
}

fn user(conn: &mut DbConnection, s: &mut Summary, u: ExportUser) -> anyhow::Result<()> {
    let taken = users::table
        .find(u.id)
        .select(users::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if seen(conn, "user", u.id, taken)? {
        s.skip("already imported");
        return Ok(());
    }
    diesel::insert_into(users::table)
        .values((
            users::id.eq(u.id),
            users::email.eq(&u.email),
            users::name.eq(&u.name),
            users::slug.eq(&u.slug),
            users::role.eq(&u.role),
            users::bio.eq(&u.bio),
            users::avatar_url.eq(&u.avatar_url),
            users::password_hash.eq(crate::seed::LOCKED_PASSWORD_HASH),
            users::created_at.eq(u.created_at),
            users::updated_at.eq(u.updated_at),
        ))
        .execute(conn)?;
    remember(conn, SOURCE, "user", &u.id.to_string(), u.id)?;
    s.users_created += 1;
    Ok(())
}

fn tag(conn: &mut DbConnection, s: &mut Summary, t: ExportTag) -> anyhow::Result<()> {
    let taken = tags::table
        .find(t.id)
        .select(tags::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if seen(conn, "tag", t.id, taken)? {
        s.skip("already imported");
        return Ok(());
    }
    diesel::insert_into(tags::table)
        .values((
            tags::id.eq(t.id),
            tags::slug.eq(&t.slug),
            tags::name.eq(&t.name),
            tags::description.eq(&t.description),
            tags::created_at.eq(t.created_at),
            tags::updated_at.eq(t.updated_at),
        ))
        .execute(conn)?;
    remember(conn, SOURCE, "tag", &t.id.to_string(), t.id)?;
    s.tags_created += 1;
    Ok(())
}

fn picture(conn: &mut DbConnection, _: &mut Summary, m: ExportMedia) -> anyhow::Result<()> {
    // The import map knows users, tags, articles and comments only: a
    // picture counts as imported before when its id names the same file.
    if let Some(hash) = media::table
        .find(m.id)
        .select(media::hash)
        .first::<String>(conn)
        .optional()?
    {
        if hash == m.hash {
            return Ok(());
        }
        anyhow::bail!(
            "media {} already exists: a newsdesk export is imported into an empty site",
            m.id
        );
    }
    if !crate::media::storage::is_hash(&m.hash)
        || crate::media::processing::Kind::from_mime(&m.mime_type).is_none()
    {
        anyhow::bail!("media {}: not a stored picture (hash or type)", m.id);
    }
    diesel::insert_into(media::table)
        .values((
            media::id.eq(m.id),
            crate::media::queries::NewMedia {
                hash: m.hash,
                mime_type: m.mime_type,
                width: m.width,
                height: m.height,
                bytes: m.bytes,
                rendition_widths: m.rendition_widths,
                alt: m.alt,
                caption: m.caption,
                credit: m.credit,
                focal_x: m.focal_x,
                focal_y: m.focal_y,
                uploaded_by: m.uploaded_by,
                created_at: m.created_at,
                updated_at: m.updated_at,
            },
        ))
        .execute(conn)?;
    Ok(())
}

fn article(conn: &mut DbConnection, s: &mut Summary, a: ExportArticle) -> anyhow::Result<()> {
    let taken = articles::table
        .find(a.id)
        .select(articles::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if seen(conn, "article", a.id, taken)? {
        s.skip("already imported");
        return Ok(());
    }
    let new = NewArticle {
        content: ArticleContent {
            slug: a.slug,
            title: a.title,
            subtitle: a.subtitle,
            custom_excerpt: a.custom_excerpt,
            excerpt: a.excerpt,
            body: a.body,
            body_format: a.body_format,
            body_html: a.body_html,
            body_text: a.body_text,
            status: a.status,
            published_at: a.published_at,
            updated_at: a.updated_at,
            version: a.version,
            feature_image: a.feature_image,
            feature_image_id: a.feature_image_id,
            reading_time_minutes: a.reading_time_minutes,
            comments_enabled: a.comments_enabled,
            meta_title: a.meta_title,
            meta_description: a.meta_description,
            canonical_url: a.canonical_url,
            author_id: a.author_id,
        },
        created_at: a.created_at,
        view_count: a.view_count,
        comment_count: a.comment_count,
    };
    diesel::insert_into(articles::table)
        .values((articles::id.eq(a.id), new))
        .execute(conn)?;
    crate::articles::queries::set_tags(conn, a.id, &a.tags)?;
    for r in a.revisions {
        diesel::insert_into(article_revisions::table)
            .values((
                article_revisions::article_id.eq(a.id),
                article_revisions::version.eq(r.version),
                article_revisions::title.eq(r.title),
                article_revisions::editor_id.eq(r.editor_id),
                article_revisions::snapshot.eq(serde_json::to_string(&r.snapshot)?),
                article_revisions::created_at.eq(r.created_at),
            ))
            .execute(conn)?;
    }
    for d in a.daily_stats {
        diesel::insert_into(article_daily_stats::table)
            .values((
                article_daily_stats::article_id.eq(a.id),
                article_daily_stats::day.eq(d.day),
                article_daily_stats::views.eq(d.views),
                article_daily_stats::comments.eq(d.comments),
            ))
            .execute(conn)?;
    }
    for o in a.old_slugs {
        diesel::insert_into(slug_redirects::table)
            .values((
                slug_redirects::slug.eq(o.slug),
                slug_redirects::article_id.eq(a.id),
                slug_redirects::created_at.eq(o.created_at),
            ))
            .execute(conn)?;
    }
    remember(conn, SOURCE, "article", &a.id.to_string(), a.id)?;
    s.imported += 1;
    Ok(())
}

fn comment(conn: &mut DbConnection, _: &mut Summary, c: ExportComment) -> anyhow::Result<()> {
    let taken = comments::table
        .find(c.id)
        .select(comments::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if seen(conn, "comment", c.id, taken)? {
        return Ok(());
    }
    // The counters came with the articles: no count changes here.
    diesel::insert_into(comments::table)
        .values((
            comments::id.eq(c.id),
            NewComment {
                article_id: c.article_id,
                parent_id: c.parent_id,
                author_id: c.author_id,
                body: c.body,
                status: c.status,
                created_at: c.created_at,
                updated_at: c.updated_at,
            },
        ))
        .execute(conn)?;
    remember(conn, SOURCE, "comment", &c.id.to_string(), c.id)?;
    Ok(())
}

fn redirect(conn: &mut DbConnection, s: &mut Summary, r: ExportRedirect) -> anyhow::Result<()> {
    if crate::redirects::queries::add(
        conn,
        &r.from_path,
        r.article_id,
        r.location.as_deref(),
        r.created_at,
    )? {
        s.redirects_created += 1;
    }
    Ok(())
}
