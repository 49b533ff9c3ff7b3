//! Cache tags for CDNs: the one place that names what a public response
//! contains, so a front end behind Fastly (`Surrogate-Key`, space-separated)
//! or Cloudflare (`Cache-Tag`, comma-separated) can purge exactly the pages
//! a change touches. Webhook payloads list the same names as `purge_keys`,
//! so both must come from the functions here.
//!
//! | key | on |
//! |---|---|
//! | `article-{id}` | every response holding that article (one, lists, its comments) |
//! | `author-{id}` | responses holding the author's byline, and the author |
//! | `tag-{slug}` | responses holding the tag (on an article or a list item), the tag, lists filtered by it |
//! | `list-articles` | every article list (`/articles`, `/articles/popular`) |
//! | `list-tags`, `list-authors` | the tag and author lists |
//! | `comments-{article_id}` | an article's public comment list and its comments |
//!
//! Handlers collect keys into `SurrogateKeys` and attach them; the caching
//! middleware drops them from private answers, and the read cache replays
//! them. This module must not decide which responses are public.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, HttpResponseBuilder};

pub const SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");
pub const CACHE_TAG: HeaderName = HeaderName::from_static("cache-tag");

/// Every article list.
pub const LIST_ARTICLES: &str = "list-articles";
/// The tag list.
pub const LIST_TAGS: &str = "list-tags";
/// The author list.
pub const LIST_AUTHORS: &str = "list-authors";

/// One name, borrowed from the answer and written only when the header is
/// built (no allocation per key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key<'a> {
    List(&'static str),
    Article(i64),
    Author(i64),
    Tag(&'a str),
    Comments(i64),
}

impl Key<'_> {
    /// Appends the name (a list page writes about eighty of them: no
    /// formatting machinery per key).
    fn push_to(&self, out: &mut String) {
        let (prefix, id) = match self {
            Key::List(name) => return out.push_str(name),
            Key::Tag(slug) => {
                out.push_str("tag-");
                return out.push_str(slug);
            }
            Key::Article(id) => ("article-", *id),
            Key::Author(id) => ("author-", *id),
            Key::Comments(id) => ("comments-", *id),
        };
        out.push_str(prefix);
        out.push_str(itoa::Buffer::new().format(id));
    }
}

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut name = String::with_capacity(16);
        self.push_to(&mut name);
        f.write_str(&name)
    }
}

/// `article-42`: the name of an article's key.
pub fn article(id: i64) -> String {
    Key::Article(id).to_string()
}

/// `author-7`.
pub fn author(id: i64) -> String {
    Key::Author(id).to_string()
}

/// `tag-economy`.
pub fn tag(slug: &str) -> String {
    Key::Tag(slug).to_string()
}

/// `comments-42`: an article's comment list.
pub fn comments(article_id: i64) -> String {
    Key::Comments(article_id).to_string()
}

/// The keys of one response, collected then written once.
#[derive(Debug, Default, Clone)]
pub struct SurrogateKeys<'a>(Vec<Key<'a>>);

impl<'a> SurrogateKeys<'a> {
    pub fn new() -> Self {
        Self(Vec::with_capacity(8))
    }

    pub fn list(mut self, name: &'static str) -> Self {
        self.0.push(Key::List(name));
        self
    }

    pub fn add(&mut self, key: Key<'a>) {
        self.0.push(key);
    }

    /// An article with its byline and tags.
    pub fn article(
        &mut self,
        id: i64,
        author_id: i64,
        tag_slugs: impl IntoIterator<Item = &'a str>,
    ) {
        self.0.push(Key::Article(id));
        self.0.push(Key::Author(author_id));
        for slug in tag_slugs {
            self.0.push(Key::Tag(slug));
        }
    }

    /// The two header values: space-separated, comma-separated.
    pub fn values(mut self) -> Option<(HeaderValue, HeaderValue)> {
        if self.0.is_empty() {
            return None;
        }
        self.0.sort_unstable();
        self.0.dedup();
        let mut spaced = String::with_capacity(self.0.len() * 12);
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                spaced.push(' ');
            }
            key.push_to(&mut spaced);
        }
        // Names hold no space (slugs are lowercase words and dashes).
        let commas = spaced.replace(' ', ",");
        // Taken over without another copy.
        Some((
            HeaderValue::from_maybe_shared(Bytes::from(spaced)).ok()?,
            HeaderValue::from_maybe_shared(Bytes::from(commas)).ok()?,
        ))
    }

    /// Adds `Surrogate-Key` and `Cache-Tag` to a response being built.
    pub fn apply(self, res: &mut HttpResponseBuilder) {
        if let Some((spaced, commas)) = self.values() {
            res.insert_header((SURROGATE_KEY, spaced));
            res.insert_header((CACHE_TAG, commas));
        }
    }

    /// Adds `Surrogate-Key` and `Cache-Tag` to a built response.
    pub fn insert(self, res: &mut HttpResponse) {
        if let Some((spaced, commas)) = self.values() {
            res.headers_mut().insert(SURROGATE_KEY, spaced);
            res.headers_mut().insert(CACHE_TAG, commas);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_unique_and_in_both_forms() {
        let mut keys = SurrogateKeys::new().list(LIST_ARTICLES);
        keys.article(42, 7, ["economy", "world"]);
        keys.article(43, 7, ["economy"]);
        let (spaced, commas) = keys.values().unwrap();
        assert_eq!(
            spaced.to_str().unwrap(),
            "list-articles article-42 article-43 author-7 tag-economy tag-world"
        );
        assert_eq!(
            commas.to_str().unwrap(),
            "list-articles,article-42,article-43,author-7,tag-economy,tag-world"
        );
        assert_eq!(article(42), "article-42");
        assert_eq!(tag("economy"), "tag-economy");
        assert_eq!(author(7), "author-7");
        assert_eq!(comments(42), "comments-42");
        assert!(SurrogateKeys::new().values().is_none());
    }
}
