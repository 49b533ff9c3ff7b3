//! The names of what a CDN should purge after an event (`purge_keys` in
//! events and webhook payloads). The same names are what public responses
//! carry as `Surrogate-Key`/`Cache-Tag`, so keep every name here.

/// One article's own responses (by id and by slug).
pub fn article(id: i64) -> String {
    format!("article-{id}")
}

/// Everything that shows a tag (its page, lists filtered by it).
pub fn tag(slug: &str) -> String {
    format!("tag-{slug}")
}

/// Everything that shows an author (byline pages, lists by author).
pub fn author(id: i64) -> String {
    format!("author-{id}")
}

/// Every article list.
pub const LIST_ARTICLES: &str = "list-articles";

/// The keys an article change touches: the article, its authors and tags
/// (before and after the change) and every list. Sorted, without repeats.
pub fn for_article(id: i64, authors: &[i64], tag_slugs: &[String]) -> Vec<String> {
    let mut keys = vec![article(id), LIST_ARTICLES.to_string()];
    keys.extend(authors.iter().map(|a| author(*a)));
    keys.extend(tag_slugs.iter().map(|s| tag(s)));
    keys.sort();
    keys.dedup();
    keys
}

/// The keys a tag change touches (each slug it had or has).
pub fn for_tag(slugs: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = slugs.iter().map(|s| tag(s)).collect();
    keys.push(LIST_ARTICLES.to_string());
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_keys_are_sorted_and_unique() {
        let keys = for_article(42, &[7, 7], &["economy".into(), "economy".into()]);
        assert_eq!(
            keys,
            ["article-42", "author-7", "list-articles", "tag-economy"]
        );
    }
}
