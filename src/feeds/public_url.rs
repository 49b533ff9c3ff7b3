//! Public URLs of the front end, built from `NEWSDESK_PUBLIC_URL_TEMPLATE`:
//! newsdesk is headless, so feeds, sitemaps and the redirect resolver point
//! readers at the front end's pages, not at the API.
//!
//! Articles use the template itself (placeholders `{slug}`, `{id}`,
//! `{yyyy}`, `{mm}`, `{dd}`, the date being `published_at` in UTC). Tags and
//! authors live at `{origin}/tags/{slug}` and `{origin}/authors/{slug}`,
//! where the origin is the template's scheme, host and port: one variable
//! says where the front end is.

use chrono::{Datelike, NaiveDateTime};

pub const DEFAULT_TEMPLATE: &str = "http://127.0.0.1:8080/articles/{slug}";
const PLACEHOLDERS: &[&str] = &["slug", "id", "yyyy", "mm", "dd"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Slug,
    Id,
    Year,
    Month,
    Day,
}

/// A parsed, validated template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrls {
    parts: Vec<Part>,
    /// `https://news.example` (no trailing slash).
    origin: String,
    /// Length of the origin prefix in a rendered article URL.
    origin_len: usize,
}

impl PublicUrls {
    /// Parses a template: an absolute http(s) URL once its placeholders are
    /// filled, naming the article by `{slug}` or `{id}`.
    pub fn parse(template: &str) -> Result<Self, String> {
        let template = template.trim();
        if !(template.starts_with("http://") || template.starts_with("https://")) {
            return Err(
                "must be an http(s) URL such as https://news.example/{yyyy}/{mm}/{slug}".into(),
            );
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err("has a '}' without '{'".into());
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err("has a '{' without '}'".into());
            };
            let name = &rest[open + 1..open + close];
            parts.push(match name {
                "slug" => Part::Slug,
                "id" => Part::Id,
                "yyyy" => Part::Year,
                "mm" => Part::Month,
                "dd" => Part::Day,
                _ => {
                    return Err(format!(
                        "has an unknown placeholder {{{name}}} (known: {})",
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Slug | Part::Id)) {
            return Err(
                "must contain {slug} or {id}, so that every article has its own URL".into(),
            );
        }
        let mut urls = Self {
            parts,
            origin: String::new(),
            origin_len: 0,
        };
        let sample = urls.render("sample-slug", 1, None);
        let parsed = url::Url::parse(&sample)
            .map_err(|e| format!("is not a valid URL once filled in ({e})"))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err("must not have a query string or fragment".into());
        }
        let origin = parsed.origin().ascii_serialization();
        // The placeholders must sit in the path, after the origin.
        match urls.parts.first() {
            Some(Part::Text(t)) if t.len() > origin.len() && t.starts_with(&origin) => {}
            _ => return Err("placeholders must be in the path, after the host".into()),
        }
        urls.origin_len = origin.len();
        urls.origin = origin;
        Ok(urls)
    }

    fn render(&self, slug: &str, id: i64, date: Option<NaiveDateTime>) -> String {
        let mut out = String::with_capacity(96);
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Slug => out.push_str(slug),
                Part::Id => out.push_str(&id.to_string()),
                Part::Year => out.push_str(&format!("{:04}", date.map_or(1970, |d| d.year()))),
                Part::Month => out.push_str(&format!("{:02}", date.map_or(1, |d| d.month()))),
                Part::Day => out.push_str(&format!("{:02}", date.map_or(1, |d| d.day()))),
            }
        }
        out
    }

    /// The front end's URL of an article (dated by `published_at`).
    pub fn article(&self, slug: &str, id: i64, published_at: Option<NaiveDateTime>) -> String {
        self.render(slug, id, published_at)
    }

    /// The path (from the first `/` after the host) of an article's URL:
    /// what the redirect resolver answers with.
    pub fn article_path(&self, slug: &str, id: i64, published_at: Option<NaiveDateTime>) -> String {
        let url = self.render(slug, id, published_at);
        url.get(self.origin_len..).unwrap_or("/").to_string()
    }

    pub fn tag(&self, slug: &str) -> String {
        format!("{}/tags/{slug}", self.origin)
    }

    pub fn author(&self, slug: &str) -> String {
        format!("{}/authors/{slug}", self.origin)
    }

    /// The front end's home page.
    pub fn home(&self) -> String {
        format!("{}/", self.origin)
    }

    /// `https://news.example`: where the front end is.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl Default for PublicUrls {
    fn default() -> Self {
        // The default template is valid; a test keeps it so.
        Self::parse(DEFAULT_TEMPLATE).unwrap_or(Self {
            parts: vec![
                Part::Text("http://127.0.0.1:8080/articles/".into()),
                Part::Slug,
            ],
            origin: "http://127.0.0.1:8080".into(),
            origin_len: "http://127.0.0.1:8080".len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_bad_ones_are_refused() {
        let d = chrono::NaiveDate::from_ymd_opt(2024, 5, 6)
            .unwrap()
            .and_hms_opt(1, 2, 3)
            .unwrap();
        let u = PublicUrls::parse("https://news.example/{yyyy}/{mm}/{dd}/{slug}-{id}").unwrap();
        assert_eq!(
            u.article("a-b", 42, Some(d)),
            "https://news.example/2024/05/06/a-b-42"
        );
        assert_eq!(u.article_path("a-b", 42, Some(d)), "/2024/05/06/a-b-42");
        assert_eq!(u.tag("x"), "https://news.example/tags/x");
        assert_eq!(u.author("y"), "https://news.example/authors/y");
        assert_eq!(u.home(), "https://news.example/");
        let d = PublicUrls::default();
        assert_eq!(d.article("s", 1, None), "http://127.0.0.1:8080/articles/s");
        assert_eq!(d, PublicUrls::parse(DEFAULT_TEMPLATE).unwrap());
        for bad in [
            "news.example/{slug}",
            "ftp://news.example/{slug}",
            "https://news.example/{yyyy}",
            "https://news.example/{title}",
            "https://news.example/{slug",
            "https://news.example/slug}",
            "https://{slug}.example/",
            "https://news.example/{slug}?x=1",
            "https:///{slug}",
        ] {
            assert!(PublicUrls::parse(bad).is_err(), "{bad}");
        }
    }
}
