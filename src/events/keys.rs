//! What a CDN should purge after an event (`purge_keys` in events and
//! webhook payloads): the names public responses carry as
//! `Surrogate-Key`/`Cache-Tag`, from `http::surrogate`, the one place
//! they are defined.

use crate::http::surrogate::{LIST_ARTICLES, LIST_TAGS, article, author, tag};

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
    keys.push(LIST_TAGS.to_string());
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
