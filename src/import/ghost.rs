//! Ghost's JSON export (Ghost 5: `{"db": [{"meta": ..., "data": {"posts":
//! [...], "users": [...], "tags": [...], "posts_tags": [...],
//! "posts_authors": [...], "posts_meta": [...]}}]}`).
//!
//! Read in two streaming passes over the file: the first keeps only the
//! small tables (users, tags, the link tables, meta) and skips the posts
//! without holding them; the second hands the posts to the sink one at a
//! time. So memory holds one post, not the export. Pages (`type: page`)
//! are skipped; a post's primary author (the first in `posts_authors`, else
//! its `author_id`) becomes its author; internal tags (`#...`) are left out.
//! Native comments (Ghost 5's `comments` table, when the export has it)
//! come with their post: `published` ones approved, `hidden` ones rejected,
//! `deleted` ones left out; threaded by `parent_id`; the commenter's name
//! and email from `members` when the export has them.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::NaiveDateTime;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{SourceComment, SourceCommentStatus, SourcePost, SourceStatus, SourceTag, SourceUser};

#[derive(Debug, Default, Deserialize)]
struct Tables {
    #[serde(default)]
    db: Vec<Db>,
}

#[derive(Debug, Default, Deserialize)]
struct Db {
    #[serde(default)]
    data: Data,
}

#[derive(Debug, Default, Deserialize)]
struct Data {
    #[serde(default)]
    users: Vec<User>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    posts_tags: Vec<PostTag>,
    #[serde(default)]
    posts_authors: Vec<PostAuthor>,
    #[serde(default)]
    posts_meta: Vec<PostMeta>,
    #[serde(default)]
    comments: Vec<Comment>,
    #[serde(default)]
    members: Vec<Member>,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: Id,
    post_id: Id,
    member_id: Option<Id>,
    parent_id: Option<Id>,
    status: Option<String>,
    html: Option<String>,
    created_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Member {
    id: Id,
    email: Option<String>,
    name: Option<String>,
}

/// Ghost ids are strings (ObjectIds) in Ghost 5 and numbers in old exports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(i64),
        }
        Ok(Id(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::N(n) => n.to_string(),
        }))
    }
}

#[derive(Debug, Clone, Deserialize)]
struct User {
    id: Id,
    #[serde(default)]
    name: String,
    email: Option<String>,
    bio: Option<String>,
    profile_image: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Tag {
    id: Id,
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    description: Option<String>,
    visibility: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PostTag {
    post_id: Id,
    tag_id: Id,
    #[serde(default)]
    sort_order: i64,
}

#[derive(Debug, Deserialize)]
struct PostAuthor {
    post_id: Id,
    author_id: Id,
    #[serde(default)]
    sort_order: i64,
}

#[derive(Debug, Deserialize)]
struct PostMeta {
    post_id: Id,
    meta_title: Option<String>,
    meta_description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Post {
    id: Id,
    #[serde(default)]
    title: String,
    #[serde(default)]
    slug: String,
    html: Option<String>,
    custom_excerpt: Option<String>,
    feature_image: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    published_at: Option<String>,
    author_id: Option<Id>,
    meta_title: Option<String>,
    meta_description: Option<String>,
    canonical_url: Option<String>,
}

/// Ghost writes `2023-07-01T10:00:00.000Z` (and old exports `2023-07-01
/// 10:00:00`), in UTC.
fn time(s: Option<&str>) -> Option<NaiveDateTime> {
    let s = s?.trim();
    crate::time::parse_rfc3339(s).or_else(|| {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|t| chrono::SubsecRound::trunc_subsecs(t, 0))
    })
}

/// What a post is made into, or why it is skipped.
pub enum Item {
    Post(Box<SourcePost>),
    Skip(&'static str),
}

struct Context {
    users: HashMap<Id, User>,
    tags: HashMap<Id, Tag>,
    post_tags: HashMap<Id, Vec<(i64, Id)>>,
    post_authors: HashMap<Id, Vec<(i64, Id)>>,
    meta: HashMap<Id, PostMeta>,
    comments: HashMap<Id, Vec<Comment>>,
    members: HashMap<Id, Member>,
}

impl Context {
    /// A post's comments (taken: each post is read once).
    fn comments(&mut self, post: &Id) -> Vec<SourceComment> {
        let members = &self.members;
        self.comments
            .remove(post)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| {
                let status = match c.status.as_deref() {
                    Some("published") | None => SourceCommentStatus::Approved,
                    Some("hidden") => SourceCommentStatus::Rejected,
                    _ => return None,
                };
                let member = c.member_id.as_ref().and_then(|m| members.get(m));
                Some(SourceComment {
                    source_id: c.id.0,
                    parent_source_id: c.parent_id.map(|p| p.0),
                    author_name: member.and_then(|m| m.name.clone()).unwrap_or_default(),
                    author_email: member.and_then(|m| m.email.clone()),
                    html: c.html.unwrap_or_default(),
                    status,
                    created_at: time(c.created_at.as_deref()),
                })
            })
            .collect()
    }

    fn convert(&mut self, p: Post) -> Item {
        if p.kind.as_deref().is_some_and(|k| k != "post") {
            return Item::Skip("a page, not a post");
        }
        let status = match p.status.as_deref() {
            Some("published") => SourceStatus::Published,
            Some("scheduled") => SourceStatus::Scheduled,
            _ => SourceStatus::Draft,
        };
        let author = self
            .post_authors
            .get(&p.id)
            .and_then(|a| a.iter().min_by_key(|(o, _)| *o).map(|(_, id)| id.clone()))
            .or(p.author_id.clone())
            .and_then(|id| self.users.get(&id))
            .map(|u| SourceUser {
                source_id: u.id.0.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
                bio: u.bio.clone(),
                avatar_url: u.profile_image.clone(),
            });
        let mut linked: Vec<(i64, Id)> = self.post_tags.get(&p.id).cloned().unwrap_or_default();
        linked.sort_by_key(|(o, _)| *o);
        let tags = linked
            .iter()
            .filter_map(|(_, id)| self.tags.get(id))
            .filter(|t| t.visibility.as_deref() != Some("internal") && !t.name.starts_with('#'))
            .map(|t| SourceTag {
                source_id: t.id.0.clone(),
                name: t.name.clone(),
                slug: t.slug.clone(),
                description: t.description.clone(),
            })
            .collect();
        let comments = self.comments(&p.id);
        let meta = self.meta.get(&p.id);
        Item::Post(Box::new(SourcePost {
            // Ghost's default permalink: /{slug}/.
            old_urls: vec![format!("/{}/", p.slug)],
            source_id: p.id.0,
            title: p.title,
            slug: p.slug,
            html: p.html.unwrap_or_default(),
            excerpt: p.custom_excerpt,
            status,
            published_at: time(p.published_at.as_deref()),
            created_at: time(p.created_at.as_deref()),
            updated_at: time(p.updated_at.as_deref()),
            feature_image: p.feature_image,
            author,
            tags,
            meta_title: p
                .meta_title
                .or_else(|| meta.and_then(|m| m.meta_title.clone())),
            meta_description: p
                .meta_description
                .or_else(|| meta.and_then(|m| m.meta_description.clone())),
            canonical_url: p.canonical_url,
            comments_enabled: true,
            comments,
        }))
    }
}

/// Reads the export at `path`, handing every post to `each`; `open` opens
/// the file for each pass (so a caller can count the bytes read).
pub fn read<R: Read>(
    mut open: impl FnMut(&Path) -> std::io::Result<R>,
    path: &Path,
    mut each: impl FnMut(Item),
) -> anyhow::Result<()> {
    let tables: Tables = serde_json::from_reader(BufReader::new(open(path)?))
        .map_err(|e| anyhow::anyhow!("not a Ghost JSON export: {e}"))?;
    let Some(db) = tables.db.into_iter().next() else {
        anyhow::bail!("not a Ghost JSON export: no db[0]");
    };
    let d = db.data;
    let mut post_tags: HashMap<Id, Vec<(i64, Id)>> = HashMap::new();
    for pt in d.posts_tags {
        post_tags
            .entry(pt.post_id)
            .or_default()
            .push((pt.sort_order, pt.tag_id));
    }
    let mut post_authors: HashMap<Id, Vec<(i64, Id)>> = HashMap::new();
    for pa in d.posts_authors {
        post_authors
            .entry(pa.post_id)
            .or_default()
            .push((pa.sort_order, pa.author_id));
    }
    let mut comments: HashMap<Id, Vec<Comment>> = HashMap::new();
    for c in d.comments {
        comments.entry(c.post_id.clone()).or_default().push(c);
    }
    let mut ctx = Context {
        users: d.users.into_iter().map(|u| (u.id.clone(), u)).collect(),
        tags: d.tags.into_iter().map(|t| (t.id.clone(), t)).collect(),
        post_tags,
        post_authors,
        meta: d
            .posts_meta
            .into_iter()
            .map(|m| (m.post_id.clone(), m))
            .collect(),
        comments,
        members: d.members.into_iter().map(|m| (m.id.clone(), m)).collect(),
    };
    let mut handle = |p: Post| each(ctx.convert(p));
    let mut handler: Handler<'_> = &mut handle;
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(open(path)?));
    RootSeed(&mut handler)
        .deserialize(&mut de)
        .map_err(|e| anyhow::anyhow!("not a Ghost JSON export: {e}"))?;
    Ok(())
}

type Handler<'a> = &'a mut dyn FnMut(Post);

/// `{"db": [ {"data": {"posts": [ ... ]}} ]}`, everything else skipped.
struct RootSeed<'a, 'b>(&'a mut Handler<'b>);
struct DbSeqSeed<'a, 'b>(&'a mut Handler<'b>);
struct DbSeed<'a, 'b>(&'a mut Handler<'b>);
struct DataSeed<'a, 'b>(&'a mut Handler<'b>);
struct PostsSeed<'a, 'b>(&'a mut Handler<'b>);

macro_rules! map_seed {
    ($seed:ident, $field:literal, $inner:ident, $what:literal) => {
        impl<'de> DeserializeSeed<'de> for $seed<'_, '_> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> Visitor<'de> for $seed<'_, '_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($what)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(key) = map.next_key::<String>()? {
                    if key == $field {
                        map.next_value_seed($inner(&mut *self.0))?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(())
            }
        }
    };
}

map_seed!(RootSeed, "db", DbSeqSeed, "an object with db");
map_seed!(DbSeed, "data", DataSeed, "an object with data");
map_seed!(DataSeed, "posts", PostsSeed, "an object with posts");

impl<'de> DeserializeSeed<'de> for DbSeqSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DbSeqSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of databases")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // The first database only, like Ghost's own importer.
        if seq.next_element_seed(DbSeed(&mut *self.0))?.is_some() {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for PostsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PostsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of posts")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(post) = seq.next_element::<Post>()? {
            (*self.0)(post);
        }
        Ok(())
    }
}
