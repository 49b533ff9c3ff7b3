//! Pictures of the library inside article bodies: an `<img>` of the
//! rendered, sanitised body whose `src` is one of the library's files gets
//! the picture's `width` and `height` (no layout shift) and a `srcset` of
//! its renditions, so a front end can print `body_html` as it is.
//!
//! Runs on the sanitised HTML (ammonia's normalised output), adding only
//! attributes whose values this module builds from the `src` it found and
//! the stored sizes: nothing a body's author wrote is let through.

use std::collections::HashMap;

use diesel::prelude::*;

use super::processing::Kind;
use super::storage::{is_file_name, is_hash};
use crate::db::DbConnection;
use crate::db::schema::media;

/// The library picture a `src` names: `(prefix up to and with the hash
/// folder's slash, hash)`.
fn library_src(src: &str) -> Option<(&str, &str)> {
    let at = src.rfind("/media/files/")? + "/media/files/".len();
    let rest = &src[at..];
    let (hash, name) = rest.split_once('/')?;
    (is_hash(hash) && is_file_name(name)).then(|| (&src[..at + hash.len() + 1], hash))
}

/// The `src` value of an `<img ...>` tag (ammonia writes `src="..."`).
fn src_of(tag: &str) -> Option<&str> {
    let at = tag.find(" src=\"")? + " src=\"".len();
    let end = tag[at..].find('"')?;
    Some(&tag[at..at + end])
}

/// `body_html` with library pictures sized and given their renditions.
pub fn enrich(conn: &mut DbConnection, html: &str) -> QueryResult<String> {
    if !html.contains("/media/files/") {
        return Ok(html.to_string());
    }
    // Every `<img ...>` tag: (start, end) byte offsets, end after `>`.
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find("<img ") {
        let start = from + i;
        let Some(len) = html[start..].find('>') else {
            break;
        };
        tags.push((start, start + len + 1));
        from = start + len + 1;
    }
    let hashes: Vec<String> = tags
        .iter()
        .filter_map(|(s, e)| src_of(&html[*s..*e]).and_then(library_src))
        .map(|(_, h)| h.to_string())
        .collect();
    if hashes.is_empty() {
        return Ok(html.to_string());
    }
    let rows: Vec<(String, String, i32, i32, String)> = media::table
        .filter(media::hash.eq_any(&hashes))
        .select((
            media::hash,
            media::mime_type,
            media::width,
            media::height,
            media::rendition_widths,
        ))
        .load(conn)?;
    let known: HashMap<&str, &(String, String, i32, i32, String)> =
        rows.iter().map(|r| (r.0.as_str(), r)).collect();

    let mut out = String::with_capacity(html.len() + 256 * tags.len());
    let mut last = 0;
    for (start, end) in tags {
        let tag = &html[start..end];
        let found = src_of(tag)
            .and_then(library_src)
            .and_then(|(prefix, hash)| Some((prefix, *known.get(hash)?)));
        let Some((prefix, (_, mime, width, height, widths))) = found else {
            continue;
        };
        if tag.contains(" srcset=") || tag.contains(" width=") {
            continue;
        }
        let kind = Kind::from_mime(mime).unwrap_or(Kind::Jpeg);
        let (w, h) = (
            u32::try_from(*width).unwrap_or(1),
            u32::try_from(*height).unwrap_or(1),
        );
        let mut srcset: Vec<String> = widths
            .split(',')
            .filter_map(|x| x.parse::<u32>().ok())
            .filter(|x| *x < w)
            .map(|x| format!("{prefix}{x}.{} {x}w", kind.ext()))
            .collect();
        srcset.push(format!("{prefix}original.{} {w}w", kind.ext()));
        let body = tag.trim_end_matches('>').trim_end_matches('/').trim_end();
        out.push_str(&html[last..start]);
        out.push_str(body);
        out.push_str(&format!(
            " width=\"{w}\" height=\"{h}\" srcset=\"{}\" sizes=\"(max-width: {w}px) 100vw, {w}px\" loading=\"lazy\">",
            srcset.join(", ")
        ));
        last = end;
    }
    out.push_str(&html[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_library_files_are_recognised() {
        let hash = "a".repeat(64);
        let src = format!("https://cdn.example.com/media/files/{hash}/640.jpg");
        assert_eq!(
            library_src(&src),
            Some((
                &format!("https://cdn.example.com/media/files/{hash}/")[..],
                &hash[..]
            ))
        );
        assert!(library_src("https://example.com/media/files/abc/640.jpg").is_none());
        assert!(library_src(&format!("/media/files/{hash}/641.jpg")).is_none());
        assert_eq!(src_of(r#"<img src="x.jpg" alt="a">"#), Some("x.jpg"));
    }
}
