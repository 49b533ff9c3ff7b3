//! Sitemap XML written with `quick-xml`: `<urlset>` (optionally with the
//! Google News extension) and `<sitemapindex>`. A `UrlSet` can be written
//! in pieces (head, any number of chunks of URLs, tail), so a page of
//! 50,000 URLs is streamed chunk by chunk instead of built as one string.

use chrono::NaiveDateTime;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

type W = Writer<Vec<u8>>;

fn w3c(t: NaiveDateTime) -> String {
    crate::time::cursor_key(t)
}

fn text_element(w: &mut W, name: &str, text: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn open(root: &str, news: bool) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut start = BytesStart::new(root);
    start.push_attribute(("xmlns", SITEMAP_NS));
    if news {
        start.push_attribute(("xmlns:news", NEWS_NS));
    }
    w.write_event(Event::Start(start))?;
    Ok(w.into_inner())
}

fn close(root: &str) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::End(BytesEnd::new(root)))?;
    Ok(w.into_inner())
}

/// `<?xml ...?><urlset xmlns=...>`.
pub fn urlset_head(news: bool) -> std::io::Result<Vec<u8>> {
    open("urlset", news)
}

/// `</urlset>`.
pub fn urlset_tail() -> std::io::Result<Vec<u8>> {
    close("urlset")
}

/// `<url>` elements: `(loc, lastmod)`.
pub fn urls<'a>(
    entries: impl IntoIterator<Item = (&'a str, NaiveDateTime)>,
) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Vec::new());
    for (loc, lastmod) in entries {
        w.write_event(Event::Start(BytesStart::new("url")))?;
        text_element(&mut w, "loc", loc)?;
        text_element(&mut w, "lastmod", &w3c(lastmod))?;
        w.write_event(Event::End(BytesEnd::new("url")))?;
    }
    Ok(w.into_inner())
}

/// One story of the Google News sitemap.
pub struct NewsUrl<'a> {
    pub loc: &'a str,
    pub lastmod: NaiveDateTime,
    pub published_at: NaiveDateTime,
    pub title: &'a str,
}

/// A whole Google News sitemap.
pub fn news(
    publication: &str,
    language: &str,
    stories: &[NewsUrl<'_>],
) -> std::io::Result<Vec<u8>> {
    let mut out = urlset_head(true)?;
    let mut w = Writer::new(Vec::new());
    for s in stories {
        w.write_event(Event::Start(BytesStart::new("url")))?;
        text_element(&mut w, "loc", s.loc)?;
        text_element(&mut w, "lastmod", &w3c(s.lastmod))?;
        w.write_event(Event::Start(BytesStart::new("news:news")))?;
        w.write_event(Event::Start(BytesStart::new("news:publication")))?;
        text_element(&mut w, "news:name", publication)?;
        text_element(&mut w, "news:language", language)?;
        w.write_event(Event::End(BytesEnd::new("news:publication")))?;
        text_element(&mut w, "news:publication_date", &w3c(s.published_at))?;
        text_element(&mut w, "news:title", s.title)?;
        w.write_event(Event::End(BytesEnd::new("news:news")))?;
        w.write_event(Event::End(BytesEnd::new("url")))?;
    }
    out.extend(w.into_inner());
    out.extend(urlset_tail()?);
    Ok(out)
}

/// A whole `<sitemapindex>`: `(loc, lastmod)`.
pub fn index(entries: &[(String, Option<NaiveDateTime>)]) -> std::io::Result<Vec<u8>> {
    let mut out = open("sitemapindex", false)?;
    let mut w = Writer::new(Vec::new());
    for (loc, lastmod) in entries {
        w.write_event(Event::Start(BytesStart::new("sitemap")))?;
        text_element(&mut w, "loc", loc)?;
        if let Some(t) = lastmod {
            text_element(&mut w, "lastmod", &w3c(*t))?;
        }
        w.write_event(Event::End(BytesEnd::new("sitemap")))?;
    }
    out.extend(w.into_inner());
    out.extend(close("sitemapindex")?);
    Ok(out)
}
