//! The three feed formats from one [`Feed`]: RSS 2.0 (with `content:encoded`,
//! `dc:creator`, an enclosure and `media:content` for the feature image),
//! Atom 1.0 and JSON Feed 1.1. Pure functions: no database, no HTTP.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::articles::dto::TagRef;

/// JSON Feed's media type; RSS and Atom have their own.
pub const JSON_FEED_TYPE: &str = "application/feed+json";
pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";
const GENERATOR: &str = "newsdesk";

/// One published article as a feed shows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: String,
    /// The sanitised body HTML (`NEWSDESK_FEED_CONTENT=full`), else `None`.
    pub html: Option<String>,
    pub published_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub feature_image: Option<Image>,
    pub author_name: String,
    pub author_url: String,
    pub tags: Vec<TagRef>,
}

/// A feature image as feeds describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub url: String,
    pub mime_type: String,
    /// Size in bytes, when known (a library picture); else 0, which is
    /// what feed readers take for "unknown" in an enclosure.
    pub bytes: i64,
    /// Pixels, when known.
    pub size: Option<(i32, i32)>,
    /// The picture's text alternative, when known.
    pub alt: Option<String>,
}

impl Image {
    /// A library picture: its real type, length and size.
    pub fn from_media(m: &crate::media::dto::Media) -> Self {
        Self {
            url: m.url.clone(),
            mime_type: m.mime_type.clone(),
            bytes: m.bytes,
            size: Some((m.width, m.height)),
            alt: Some(m.alt.clone()).filter(|a| !a.is_empty()),
        }
    }

    /// An external URL: the type guessed from its extension, the rest
    /// unknown (never fetched).
    pub fn external(url: String) -> Self {
        let mime_type = image_type(&url).to_string();
        Self {
            url,
            mime_type,
            bytes: 0,
            size: None,
            alt: None,
        }
    }
}

/// A whole feed, newest entry first.
#[derive(Debug, Clone)]
pub struct Feed {
    pub title: String,
    pub description: String,
    /// A BCP 47 language tag.
    pub language: String,
    /// The front end's page the feed stands for.
    pub home_url: String,
    /// This feed's own URL.
    pub feed_url: String,
    /// Stable ids are `{id_base}:article:{id}` (never the URL, which
    /// changes with a slug).
    pub id_base: String,
    pub updated: NaiveDateTime,
    pub entries: Vec<Entry>,
}

impl Feed {
    fn entry_id(&self, id: i64) -> String {
        format!("{}:article:{id}", self.id_base)
    }
}

/// RFC 822 (as RFC 2822 writes it): `Thu, 16 May 2024 01:00:00 +0000`.
fn rfc822(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc2822()
}

fn fixed(t: NaiveDateTime) -> atom_syndication::FixedDateTime {
    t.and_utc().fixed_offset()
}

/// An image's media type guessed from its URL's extension.
fn image_type(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    match path.rsplit('.').next() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("svg") => "image/svg+xml",
        _ => "image/jpeg",
    }
}

pub fn rss(feed: &Feed) -> Result<Vec<u8>, rss::Error> {
    let mut channel = rss::Channel {
        title: feed.title.clone(),
        link: feed.home_url.clone(),
        description: feed.description.clone(),
        language: Some(feed.language.clone()),
        last_build_date: Some(rfc822(feed.updated)),
        generator: Some(GENERATOR.into()),
        docs: Some("https://www.rssboard.org/rss-specification".into()),
        ..Default::default()
    };
    channel.namespaces.insert("media".into(), MEDIA_NS.into());
    let mut items = Vec::with_capacity(feed.entries.len());
    for e in &feed.entries {
        let mut item = rss::Item {
            title: Some(e.title.clone()),
            link: Some(e.url.clone()),
            description: Some(e.excerpt.clone()),
            guid: Some(rss::Guid {
                value: feed.entry_id(e.id),
                permalink: false,
            }),
            pub_date: Some(rfc822(e.published_at)),
            content: e.html.clone(),
            categories: e
                .tags
                .iter()
                .map(|t| rss::Category {
                    name: t.name.clone(),
                    domain: None,
                })
                .collect(),
            dublin_core_ext: Some(rss::extension::dublincore::DublinCoreExtension {
                creators: vec![e.author_name.clone()],
                ..Default::default()
            }),
            ..Default::default()
        };
        if let Some(image) = &e.feature_image {
            item.enclosure = Some(rss::Enclosure {
                url: image.url.clone(),
                length: image.bytes.to_string(),
                mime_type: image.mime_type.clone(),
            });
            let mut attrs = BTreeMap::from([
                ("url".to_string(), image.url.clone()),
                ("medium".to_string(), "image".to_string()),
                ("type".to_string(), image.mime_type.clone()),
            ]);
            if image.bytes > 0 {
                attrs.insert("fileSize".into(), image.bytes.to_string());
            }
            if let Some((w, h)) = image.size {
                attrs.insert("width".into(), w.to_string());
                attrs.insert("height".into(), h.to_string());
            }
            let children = match &image.alt {
                Some(alt) => BTreeMap::from([(
                    "description".to_string(),
                    vec![rss::extension::Extension {
                        name: "media:description".into(),
                        value: Some(alt.clone()),
                        attrs: BTreeMap::from([("type".to_string(), "plain".to_string())]),
                        children: BTreeMap::new(),
                    }],
                )]),
                None => BTreeMap::new(),
            };
            let media = rss::extension::Extension {
                name: "media:content".into(),
                value: None,
                attrs,
                children,
            };
            item.extensions.insert(
                "media".into(),
                BTreeMap::from([("content".to_string(), vec![media])]),
            );
        }
        items.push(item);
    }
    channel.items = items;
    channel.write_to(Vec::new())
}

pub fn atom(feed: &Feed) -> Result<Vec<u8>, atom_syndication::Error> {
    use atom_syndication::{Category, Content, Link, Person, Text};
    let link = |href: &str, rel: &str, mime: Option<&str>| Link {
        href: href.into(),
        rel: rel.into(),
        mime_type: mime.map(Into::into),
        ..Default::default()
    };
    let entries = feed
        .entries
        .iter()
        .map(|e| {
            let mut links = vec![link(&e.url, "alternate", Some("text/html"))];
            if let Some(image) = &e.feature_image {
                let mut enclosure = link(&image.url, "enclosure", Some(&image.mime_type));
                if image.bytes > 0 {
                    enclosure.length = Some(image.bytes.to_string());
                }
                links.push(enclosure);
            }
            atom_syndication::Entry {
                title: Text::plain(e.title.clone()),
                id: feed.entry_id(e.id),
                updated: fixed(e.updated_at.max(e.published_at)),
                published: Some(fixed(e.published_at)),
                authors: vec![Person {
                    name: e.author_name.clone(),
                    uri: Some(e.author_url.clone()),
                    ..Default::default()
                }],
                categories: e
                    .tags
                    .iter()
                    .map(|t| Category {
                        term: t.slug.clone(),
                        label: Some(t.name.clone()),
                        ..Default::default()
                    })
                    .collect(),
                links,
                summary: Some(Text::plain(e.excerpt.clone())),
                content: e.html.as_ref().map(|html| Content {
                    value: Some(html.clone()),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let atom = atom_syndication::Feed {
        title: Text::plain(feed.title.clone()),
        id: feed.id_base.clone(),
        updated: fixed(feed.updated),
        subtitle: Some(Text::plain(feed.description.clone())),
        generator: Some(atom_syndication::Generator {
            value: GENERATOR.into(),
            ..Default::default()
        }),
        links: vec![
            link(&feed.home_url, "alternate", Some("text/html")),
            link(&feed.feed_url, "self", Some("application/atom+xml")),
        ],
        entries,
        lang: Some(feed.language.clone()),
        ..Default::default()
    };
    atom.write_to(Vec::new())
}

/// JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JsonFeed {
    /// `https://jsonfeed.org/version/1.1`
    #[schema(example = "https://jsonfeed.org/version/1.1")]
    pub version: &'static str,
    pub title: String,
    pub home_page_url: String,
    pub feed_url: String,
    pub description: String,
    pub language: String,
    pub items: Vec<JsonFeedItem>,
}

/// One story: `content_html` (full content) or `content_text` (excerpt).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JsonFeedItem {
    pub id: String,
    pub url: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_text: Option<String>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub date_published: String,
    pub date_modified: String,
    pub authors: Vec<JsonFeedAuthor>,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JsonFeedAuthor {
    pub name: String,
    pub url: String,
}

fn rfc3339(t: NaiveDateTime) -> String {
    crate::time::cursor_key(t)
}

pub fn json(feed: &Feed) -> Result<Vec<u8>, serde_json::Error> {
    let items = feed
        .entries
        .iter()
        .map(|e| JsonFeedItem {
            id: feed.entry_id(e.id),
            url: e.url.clone(),
            title: e.title.clone(),
            // An item has content_html or content_text (one is required).
            content_text: e.html.is_none().then(|| e.excerpt.clone()),
            content_html: e.html.clone(),
            summary: e.subtitle.clone().unwrap_or_else(|| e.excerpt.clone()),
            image: e.feature_image.as_ref().map(|i| i.url.clone()),
            date_published: rfc3339(e.published_at),
            date_modified: rfc3339(e.updated_at.max(e.published_at)),
            authors: vec![JsonFeedAuthor {
                name: e.author_name.clone(),
                url: e.author_url.clone(),
            }],
            tags: e.tags.iter().map(|t| t.name.clone()).collect(),
        })
        .collect();
    serde_json::to_vec(&JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: feed.title.clone(),
        home_page_url: feed.home_url.clone(),
        feed_url: feed.feed_url.clone(),
        description: feed.description.clone(),
        language: feed.language.clone(),
        items,
    })
}
