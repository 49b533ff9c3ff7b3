//! WordPress eXtended RSS (WXR 1.2, what Tools → Export writes), read with
//! `quick-xml`'s streaming reader: one `<item>` at a time, never the whole
//! file in memory.
//!
//! Kept: items with `wp:post_type` `post`; `wp:status` `publish` (or
//! `future`, scheduled) as published, `draft`, `pending` and `private` as
//! drafts, `trash` skipped; `dc:creator` (a login from the channel's
//! `wp:author` list) as the author; categories and tags (`<category
//! domain="category|post_tag" nicename="...">`) as tags; `wp:post_date_gmt`
//! and `wp:post_modified_gmt`; `content:encoded`, `excerpt:encoded`;
//! `link` and the `?p=ID` guid as old URLs; `_thumbnail_id` as the feature
//! image when its attachment item is in the file (attachments may come
//! after the post: those are filled in at the end); `wp:comment`s with
//! `wp:comment_approved` `1` (approved) or `0` (held: pending), not spam
//! or trash, and not pingbacks or trackbacks, threaded by
//! `wp:comment_parent`.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::NaiveDateTime;
use quick_xml::events::Event;

use super::{SourceComment, SourceCommentStatus, SourcePost, SourceStatus, SourceTag, SourceUser};

/// What the reader hands on.
pub enum Item {
    Post(Box<SourcePost>),
    Skip(&'static str),
}

#[derive(Default)]
struct RawItem {
    title: String,
    link: String,
    creator: String,
    content: String,
    excerpt: String,
    post_id: String,
    post_date_gmt: String,
    post_modified_gmt: String,
    post_name: String,
    status: String,
    post_type: String,
    comment_status: String,
    attachment_url: String,
    categories: Vec<(String, String, String)>,
    meta: Vec<(String, String)>,
    meta_key: String,
    meta_value: String,
    /// The `domain` and `nicename` of the `<category>` being read.
    category: Option<(String, String)>,
    /// The `<wp:comment>` being read, and those read.
    comment: Option<RawComment>,
    comments: Vec<RawComment>,
}

#[derive(Default)]
struct RawComment {
    id: String,
    author: String,
    email: String,
    date_gmt: String,
    content: String,
    approved: String,
    kind: String,
    parent: String,
}

#[derive(Default)]
struct RawAuthor {
    login: String,
    email: String,
    display_name: String,
}

/// `2023-07-01 10:00:00` in UTC; WordPress writes `0000-00-00 00:00:00`
/// for "never".
fn gmt(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> String {
    e.attributes()
        .filter_map(Result::ok)
        .find(|a| a.key.as_ref() == name)
        .map(|a| {
            let raw = String::from_utf8_lossy(&a.value).into_owned();
            quick_xml::escape::unescape(&raw)
                .map(|v| v.into_owned())
                .unwrap_or(raw)
        })
        .unwrap_or_default()
}

/// Everything gathered from a file, for what must wait until its end.
#[derive(Default)]
pub struct Leftovers {
    /// Attachment post id -> URL.
    pub attachments: HashMap<String, String>,
    /// Post id -> thumbnail attachment id, for posts whose attachment was
    /// not seen before them.
    pub thumbnails: HashMap<String, String>,
}

/// Reads a WXR stream, handing each item to `each`.
pub fn read<R: BufRead>(reader: R, mut each: impl FnMut(Item)) -> anyhow::Result<Leftovers> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut item: Option<RawItem> = None;
    let mut author: Option<RawAuthor> = None;
    let mut authors: HashMap<String, RawAuthor> = HashMap::new();
    let mut left = Leftovers::default();
    let mut saw_rss = false;
    loop {
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| anyhow::anyhow!("not a WordPress export (WXR): {e}"))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != "rss" {
                        anyhow::bail!("not a WordPress export (WXR): the root is <{name}>");
                    }
                    saw_rss = true;
                }
                match name.as_str() {
                    "item" if path.len() == 2 => item = Some(RawItem::default()),
                    "wp:author" if path.len() == 2 => author = Some(RawAuthor::default()),
                    "category" => {
                        if let Some(i) = item.as_mut() {
                            i.category = Some((attr(&e, b"domain"), attr(&e, b"nicename")));
                        }
                    }
                    "wp:comment" => {
                        if let Some(i) = item.as_mut() {
                            i.comment = Some(RawComment::default());
                        }
                    }
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| anyhow::anyhow!("bad text: {e}"))?);
            }
            Event::GeneralRef(r) => {
                // Entities in text: the five XML ones and character refs.
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                let c = match name.as_str() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                if let Some(c) = c {
                    text.push(c);
                }
            }
            Event::CData(t) => {
                text.push_str(&String::from_utf8_lossy(&t.into_inner()));
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = std::mem::take(&mut text);
                if let Some(a) = author.as_mut() {
                    match name.as_str() {
                        "wp:author_login" => a.login = value,
                        "wp:author_email" => a.email = value,
                        "wp:author_display_name" => a.display_name = value,
                        "wp:author" => {
                            if let Some(a) = author.take() {
                                authors.insert(a.login.clone(), a);
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                let Some(i) = item.as_mut() else {
                    continue;
                };
                if let Some(c) = i.comment.as_mut() {
                    // Its own fields (and its `wp:commentmeta`, ignored).
                    match name.as_str() {
                        "wp:comment_id" => c.id = value,
                        "wp:comment_author" => c.author = value,
                        "wp:comment_author_email" => c.email = value,
                        "wp:comment_date_gmt" => c.date_gmt = value,
                        "wp:comment_content" => c.content = value,
                        "wp:comment_approved" => c.approved = value,
                        "wp:comment_type" => c.kind = value,
                        "wp:comment_parent" => c.parent = value,
                        "wp:comment" => {
                            if let Some(c) = i.comment.take() {
                                i.comments.push(c);
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                match name.as_str() {
                    "title" => i.title = value,
                    "link" => i.link = value,
                    "dc:creator" => i.creator = value,
                    "content:encoded" => i.content = value,
                    "excerpt:encoded" => i.excerpt = value,
                    "wp:post_id" => i.post_id = value,
                    "wp:post_date_gmt" => i.post_date_gmt = value,
                    "wp:post_modified_gmt" => i.post_modified_gmt = value,
                    "wp:post_name" => i.post_name = value,
                    "wp:status" => i.status = value,
                    "wp:post_type" => i.post_type = value,
                    "wp:comment_status" => i.comment_status = value,
                    "wp:attachment_url" => i.attachment_url = value,
                    "wp:meta_key" => i.meta_key = value,
                    "wp:meta_value" => i.meta_value = value,
                    "wp:postmeta" => {
                        let kv = (
                            std::mem::take(&mut i.meta_key),
                            std::mem::take(&mut i.meta_value),
                        );
                        i.meta.push(kv);
                    }
                    "category" => {
                        if let Some((domain, nicename)) = i.category.take() {
                            i.categories.push((domain, nicename, value));
                        }
                    }
                    "item" => {
                        if let Some(raw) = item.take() {
                            each(convert(raw, &authors, &mut left));
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_rss {
        anyhow::bail!("not a WordPress export (WXR): empty file");
    }
    Ok(left)
}

fn convert(raw: RawItem, authors: &HashMap<String, RawAuthor>, left: &mut Leftovers) -> Item {
    if raw.post_type == "attachment" {
        if !raw.attachment_url.is_empty() {
            left.attachments
                .insert(raw.post_id.clone(), raw.attachment_url.trim().to_string());
        }
        return Item::Skip("an attachment");
    }
    if raw.post_type != "post" {
        return Item::Skip("not a post (a page, menu item or other type)");
    }
    let status = match raw.status.as_str() {
        "publish" => SourceStatus::Published,
        "future" => SourceStatus::Scheduled,
        "trash" | "auto-draft" | "inherit" => return Item::Skip("in the trash or an auto-draft"),
        _ => SourceStatus::Draft,
    };
    let date = gmt(&raw.post_date_gmt);
    let modified = gmt(&raw.post_modified_gmt);
    let thumbnail = raw
        .meta
        .iter()
        .find(|(k, _)| k == "_thumbnail_id")
        .map(|(_, v)| v.trim().to_string());
    let feature_image = match &thumbnail {
        Some(t) => match left.attachments.get(t) {
            Some(url) => Some(url.clone()),
            None => {
                left.thumbnails.insert(raw.post_id.clone(), t.clone());
                None
            }
        },
        None => None,
    };
    let author = authors
        .get(&raw.creator)
        .map(|a| SourceUser {
            source_id: format!("login:{}", a.login),
            name: if a.display_name.trim().is_empty() {
                a.login.clone()
            } else {
                a.display_name.clone()
            },
            email: Some(a.email.clone()).filter(|e| !e.trim().is_empty()),
            bio: None,
            avatar_url: None,
        })
        .or_else(|| {
            (!raw.creator.trim().is_empty()).then(|| SourceUser {
                source_id: format!("login:{}", raw.creator),
                name: raw.creator.clone(),
                ..Default::default()
            })
        });
    let tags = raw
        .categories
        .iter()
        .filter(|(domain, _, _)| domain == "category" || domain == "post_tag")
        // "Uncategorized" is WordPress's placeholder, not a topic.
        .filter(|(domain, nicename, _)| !(domain == "category" && nicename == "uncategorized"))
        .map(|(domain, nicename, name)| SourceTag {
            source_id: format!("{domain}:{nicename}"),
            name: name.clone(),
            slug: nicename.clone(),
            description: None,
        })
        .collect();
    let comments = raw
        .comments
        .into_iter()
        .filter_map(|c| {
            let status = match c.approved.trim() {
                "1" => SourceCommentStatus::Approved,
                "0" => SourceCommentStatus::Pending,
                _ => return None,
            };
            if !matches!(c.kind.trim(), "" | "comment") || c.id.trim().is_empty() {
                return None;
            }
            let parent = c.parent.trim();
            Some(SourceComment {
                source_id: c.id.trim().to_string(),
                parent_source_id: (!parent.is_empty() && parent != "0").then(|| parent.to_string()),
                author_name: c.author,
                author_email: Some(c.email).filter(|e| !e.trim().is_empty()),
                html: autop(&c.content),
                status,
                created_at: gmt(&c.date_gmt),
            })
        })
        .collect();
    let mut old_urls = Vec::new();
    if !raw.link.trim().is_empty() {
        old_urls.push(raw.link.trim().to_string());
    }
    if !raw.post_id.is_empty() {
        old_urls.push(format!("/?p={}", raw.post_id.trim()));
    }
    Item::Post(Box::new(SourcePost {
        source_id: raw.post_id.trim().to_string(),
        title: raw.title,
        slug: raw.post_name.trim().to_string(),
        html: autop(&raw.content),
        excerpt: Some(raw.excerpt).filter(|e| !e.trim().is_empty()),
        status,
        published_at: if status == SourceStatus::Draft {
            None
        } else {
            date
        },
        created_at: date.or(modified),
        updated_at: modified,
        feature_image,
        author,
        tags,
        old_urls,
        meta_title: None,
        meta_description: None,
        canonical_url: None,
        comments_enabled: raw.comment_status != "closed",
        comments,
    }))
}

/// WordPress stores classic-editor posts without `<p>`s (its `wpautop`
/// adds them on display): blank lines become paragraphs when the content
/// has no block-level markup of its own.
fn autop(content: &str) -> String {
    let has_blocks = [
        "<p",
        "<div",
        "<!-- wp:",
        "<h1",
        "<h2",
        "<ul",
        "<ol",
        "<figure",
        "<blockquote",
        "<table",
    ]
    .iter()
    .any(|t| content.contains(t));
    if has_blocks {
        return content.to_string();
    }
    content
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>\n")))
        .collect::<Vec<_>>()
        .join("\n")
}
