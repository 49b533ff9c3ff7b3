//! The redirect resolver: where an old URL of the front end now lives.
//! Reads the `redirects` table (old URLs recorded by imports) and the slug
//! history (`slug_redirects`); answers with the article's current public
//! path per `NEWSDESK_PUBLIC_URL_TEMPLATE`. Only visible articles are
//! answered for, so a resolver never reveals a draft.

pub mod queries;
pub mod routes;

/// The longest path the resolver accepts (and an import records).
pub const PATH_MAX: usize = 2048;

/// The stored form of an old URL: its path and query (a full URL is cut
/// down to them), without a fragment; `None` when it is not a path.
pub fn normalize(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let path = if raw.starts_with("http://") || raw.starts_with("https://") {
        let url = url::Url::parse(raw).ok()?;
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    } else {
        raw.split('#').next().unwrap_or_default().to_string()
    };
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= PATH_MAX
        && !path.chars().any(char::is_control);
    ok.then_some(path)
}

/// The same path with its trailing slash toggled (`/a/` <-> `/a`), the
/// query kept: both spellings of one page.
pub fn toggle_trailing_slash(path: &str) -> Option<String> {
    let (p, q) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let other = match p.strip_suffix('/') {
        Some("") => return None,
        Some(s) => s.to_string(),
        None => format!("{p}/"),
    };
    Some(match q {
        Some(q) => format!("{other}?{q}"),
        None => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize("/a/b/").as_deref(), Some("/a/b/"));
        assert_eq!(normalize("/a#x").as_deref(), Some("/a"));
        assert_eq!(
            normalize("https://old.example/2019/05/x/?p=1#c").as_deref(),
            Some("/2019/05/x/?p=1")
        );
        assert_eq!(normalize("a/b"), None);
        assert_eq!(normalize("//evil.example/x"), None);
        assert_eq!(normalize("/a\nb"), None);
        assert_eq!(toggle_trailing_slash("/a/").as_deref(), Some("/a"));
        assert_eq!(toggle_trailing_slash("/a?p=1").as_deref(), Some("/a/?p=1"));
        assert_eq!(toggle_trailing_slash("/"), None);
    }
}
