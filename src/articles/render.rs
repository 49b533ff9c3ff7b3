//! Article bodies: Markdown (CommonMark with tables) or HTML in, sanitised
//! HTML, plain text, excerpt and reading time out. Pure functions: nothing
//! here touches the database or HTTP.
//!
//! Both formats go through the same sanitiser, so `body_html` never carries
//! a `<script>`, an `on*=` handler, a `style` other than table alignment, or
//! a `javascript:` (or any non-allow-listed scheme) URL.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

use super::dto::BodyFormat;

/// Length of a derived excerpt, in characters (before the ellipsis).
pub const EXCERPT_CHARS: usize = 200;
/// Reading speed behind `reading_time_minutes`.
pub const WORDS_PER_MINUTE: usize = 200;

/// Everything derived from a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub text: String,
    pub excerpt: String,
    pub reading_time_minutes: i32,
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Tables keep their column alignment (pulldown-cmark writes it as a
    // style); every other style property is dropped.
    b.add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .filter_style_properties(HashSet::from(["text-align"]));
    b
});

/// Renders and sanitises a body, and derives its text, excerpt and reading time.
pub fn render(body: &str, format: BodyFormat) -> Rendered {
    let raw_html = match format {
        BodyFormat::Markdown => markdown_to_html(body),
        BodyFormat::Html => body.to_string(),
    };
    let html = sanitize(&raw_html);
    let text = html_to_text(&html);
    Rendered {
        excerpt: excerpt(&text, EXCERPT_CHARS),
        reading_time_minutes: reading_time(&text),
        html,
        text,
    }
}

/// CommonMark with GitHub-style tables and strikethrough, unsanitised.
pub fn markdown_to_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(source.len() * 5 / 4 + 64);
    html::push_html(&mut out, Parser::new_ext(source, options));
    out
}

/// Removes anything that could run script or load from a dangerous scheme.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Elements after which text is separated by a line break, not glued on.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "tr",
    "td",
    "th",
    "table",
    "hr",
    "figure",
    "figcaption",
    "article",
    "aside",
    "header",
    "footer",
    "section",
    "dd",
    "dt",
    "details",
    "summary",
    "caption",
];

/// Plain text of sanitised HTML: tags removed, entities decoded, block
/// boundaries kept as whitespace, runs of whitespace collapsed.
///
/// The input is what `sanitize` produced (well-formed, with `<`, `>` and `&`
/// escaped in text), so a small scanner is exact here.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(['<', '&']) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.starts_with('<') {
            let end = tag_end(rest);
            let tag = rest[1..end.saturating_sub(1).max(1)]
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if BLOCK_TAGS.contains(&tag.as_str()) {
                out.push('\n');
            }
            rest = &rest[end..];
        } else {
            let end = rest
                .char_indices()
                .take(12)
                .find(|(_, c)| *c == ';')
                .map(|(i, _)| i);
            match end.and_then(|e| decode_entity(&rest[1..e]).map(|c| (e, c))) {
                Some((e, c)) => {
                    out.push(c);
                    rest = &rest[e + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    collapse_whitespace(&out)
}

/// The byte length of the tag at the start of `s`, skipping quoted
/// attribute values (the serializer does not escape `>` inside them).
fn tag_end(s: &str) -> usize {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Joins words with single spaces, keeping paragraph breaks as one newline.
fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&words.join(" "));
    }
    out
}

/// The first `max` characters of `text` on one line, cut at a word
/// boundary, with `…` when something was cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max + 1).collect();
    // Cut before the last (partial) word; one very long word is cut hard.
    let head = match cut.rfind(' ') {
        Some(i) if i > 0 => &cut[..i],
        _ => cut
            .char_indices()
            .nth(max)
            .map_or(&cut[..], |(i, _)| &cut[..i]),
    };
    let head = head.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != '?' && c != '!');
    format!("{head}…")
}

/// Whole minutes at `WORDS_PER_MINUTE` (words / 200), at least 1.
pub fn reading_time(text: &str) -> i32 {
    let words = text.split_whitespace().count();
    let minutes = words / WORDS_PER_MINUTE;
    i32::try_from(minutes.max(1)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_tables_and_is_sanitised() {
        let r = render(
            "# Title\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n<script>alert(1)</script>\n\n\
             [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
            BodyFormat::Markdown,
        );
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(
            r.html.contains("<td style=\"text-align:left\">1</td>"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("script"), "{}", r.html);
        assert!(!r.html.contains("javascript"), "{}", r.html);
        assert!(!r.html.contains("onerror"), "{}", r.html);
        assert!(r.text.starts_with("Title\na\nb"), "{}", r.text);
    }

    #[test]
    fn html_is_sanitised_and_text_decoded() {
        let r = render(
            "<p onclick=\"x()\">Fish &amp; chips</p><style>p{}</style><p>b&lt;c &#169;</p>",
            BodyFormat::Html,
        );
        assert_eq!(r.html, "<p>Fish &amp; chips</p><p>b&lt;c ©</p>");
        assert_eq!(r.text, "Fish & chips\nb<c ©");
    }

    #[test]
    fn excerpt_cuts_at_a_word_boundary() {
        let text = "word ".repeat(100);
        let e = excerpt(&text, 200);
        assert!(e.ends_with("word…"), "{e}");
        assert!(e.chars().count() <= 201);
        assert_eq!(excerpt("short text", 200), "short text");
        let long = "x".repeat(300);
        assert_eq!(excerpt(&long, 200).chars().count(), 201);
    }

    #[test]
    fn reading_time_is_at_least_one_minute() {
        assert_eq!(reading_time(""), 1);
        assert_eq!(reading_time(&"w ".repeat(399)), 1);
        assert_eq!(reading_time(&"w ".repeat(400)), 2);
        assert_eq!(reading_time(&"w ".repeat(1000)), 5);
    }
}
