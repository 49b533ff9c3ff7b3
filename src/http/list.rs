//! The list mechanism every collection uses: `page`/`per_page` or a keyset
//! `after` cursor, strict `sort` parsing, the `{data, meta}` envelope, and the
//! `X-Total-Count` and RFC 8288 `Link` headers.
//!
//! Resources own their SQL; this module owns everything about the shape of a
//! page so that every list behaves the same way.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::keyset::FromCursor;
use crate::error::ApiError;

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
/// Deep numbered pages are allowed, but bounded so `OFFSET` cannot overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// A validated `sort` parameter: one allowed field, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: &'static str,
    pub desc: bool,
}

impl Sort {
    /// Parses `field` or `-field` against the allowed list; `default` uses
    /// the same syntax and is taken when the parameter is absent.
    pub fn parse(
        value: Option<&str>,
        allowed: &[&'static str],
        default: &str,
    ) -> Result<Sort, ApiError> {
        let raw = value.unwrap_or(default).trim();
        let (desc, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        match allowed.iter().find(|f| **f == name) {
            Some(field) => Ok(Sort { field, desc }),
            None => Err(ApiError::bad_request(format!(
                "unknown sort field '{name}'; allowed: {}",
                allowed.join(", ")
            ))),
        }
    }

    /// The parameter form (`-published_at`), as a cursor remembers it.
    pub fn as_param(&self) -> String {
        if self.desc {
            format!("-{}", self.field)
        } else {
            self.field.to_string()
        }
    }
}

/// The opaque keyset position: the sort it belongs to, the sort key and id
/// of the last row seen, and the page number that row was on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: String,
    /// The last row's sort key; `None` when that key was NULL.
    #[serde(rename = "k")]
    pub key: Option<String>,
    #[serde(rename = "i")]
    pub id: i64,
    #[serde(rename = "p")]
    pub page: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> Result<Cursor, ApiError> {
        let bad = not_our_cursor;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if cursor.page < 1 || cursor.page >= MAX_PAGE {
            return Err(bad());
        }
        Ok(cursor)
    }
}

/// What a list handler asks its query for.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
    pub sort: Sort,
    /// Present when the client sent `after`; the query then starts after
    /// `(cursor.key, cursor.id)` in `sort` order instead of using `OFFSET`.
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    /// Validates the common list parameters. A cursor made for another sort
    /// order is rejected rather than silently misapplied.
    pub fn new(
        page: Option<i64>,
        per_page: Option<i64>,
        after: Option<&str>,
        sort: Sort,
    ) -> Result<Self, ApiError> {
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::bad_request(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        let page = page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(ApiError::bad_request(format!(
                "page must be between 1 and {MAX_PAGE}"
            )));
        }
        let cursor = match after {
            Some(raw) => {
                let cursor = Cursor::decode(raw)?;
                if cursor.sort != sort.as_param() {
                    return Err(ApiError::bad_request(
                        "after belongs to a different sort order",
                    ));
                }
                Some(cursor)
            }
            None => None,
        };
        let page = cursor.as_ref().map_or(page, |c| c.page + 1);
        Ok(Self {
            page,
            per_page,
            sort,
            cursor,
        })
    }

    /// Rows to skip: none in cursor mode.
    pub fn offset(&self) -> i64 {
        if self.cursor.is_some() {
            0
        } else {
            (self.page - 1) * self.per_page
        }
    }

    /// Rows to fetch: one more than a page, to learn whether another follows.
    pub fn fetch_limit(&self) -> i64 {
        self.per_page + 1
    }

    /// Trims the extra row and builds the page. `key_of` gives a row's sort
    /// key (as the cursor stores it) and id.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        total: i64,
        key_of: impl Fn(&T) -> (Option<String>, i64),
    ) -> Page<T> {
        let has_more = rows.len() as i64 > self.per_page;
        rows.truncate(self.per_page as usize);
        let next_cursor = match (has_more, rows.last()) {
            (true, Some(last)) => {
                let (key, id) = key_of(last);
                Some(
                    Cursor {
                        sort: self.sort.as_param(),
                        key,
                        id,
                        page: self.page,
                    }
                    .encode(),
                )
            }
            _ => None,
        };
        let total_pages = if total == 0 {
            0
        } else {
            (total + self.per_page - 1) / self.per_page
        };
        Page {
            data: rows,
            meta: PageMeta {
                page: self.page,
                per_page: self.per_page,
                total,
                total_pages,
                next_cursor,
            },
        }
    }
}

/// The paging parameters every list's query string has.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paging<'a> {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub after: Option<&'a str>,
    pub sort: Option<&'a str>,
}

/// A list's query string: its paging parameters, the sort fields it allows
/// and its default order. [`list_query!`](crate::list_query) implements it
/// for a query struct with `page`, `per_page`, `after` and `sort` fields.
pub trait ListQuery: DeserializeOwned {
    /// The allowed sort fields.
    const SORTS: &'static [&'static str];
    /// The order without `sort`, in its syntax (`-created_at`).
    const DEFAULT_SORT: &'static str;

    fn paging(&self) -> Paging<'_>;

    /// The requested order, checked against [`Self::SORTS`].
    fn sort(&self) -> Result<Sort, ApiError> {
        Sort::parse(self.paging().sort, Self::SORTS, Self::DEFAULT_SORT)
    }
}

/// `list_query!(Type, [sort fields], "default")` implements [`ListQuery`].
#[macro_export]
macro_rules! list_query {
    ($ty:ty, [$($field:literal),+ $(,)?], $default:literal) => {
        impl $crate::http::list::ListQuery for $ty {
            const SORTS: &'static [&'static str] = &[$($field),+];
            const DEFAULT_SORT: &'static str = $default;

            fn paging(&self) -> $crate::http::list::Paging<'_> {
                $crate::http::list::Paging {
                    page: self.page,
                    per_page: self.per_page,
                    after: self.after.as_deref(),
                    sort: self.sort.as_deref(),
                }
            }
        }
    };
}

/// The list-parameters extractor every list handler takes: the strict
/// query string `Q`, the validated page request (page, size, sort, cursor)
/// and the cursor's typed keyset position `S`. Every malformed parameter or
/// foreign cursor is a 400 problem before the handler runs.
#[derive(Debug)]
pub struct Listed<Q, S> {
    pub query: Q,
    pub page: PageRequest,
    pub seek: Option<S>,
}

impl<Q: ListQuery, S: FromCursor> Listed<Q, S> {
    pub fn from_query(query: Q) -> Result<Self, ApiError> {
        let sort = query.sort()?;
        let p = query.paging();
        let page = PageRequest::new(p.page, p.per_page, p.after, sort)?;
        let seek = match &page.cursor {
            Some(c) => Some(
                S::from_cursor(sort.field, c.key.as_deref(), c.id).ok_or_else(not_our_cursor)?,
            ),
            None => None,
        };
        Ok(Self { query, page, seek })
    }
}

impl<Q: ListQuery, S: FromCursor> FromRequest for Listed<Q, S> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(super::query::strict::<Q>(req).and_then(Self::from_query))
    }
}

/// The answer to a cursor this API did not issue (for this sort).
fn not_our_cursor() -> ApiError {
    ApiError::bad_request("after is not a cursor this API issued")
}

/// Pagination facts sent with every list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageMeta {
    /// 1-based page number (in cursor mode, the page the cursor reached).
    #[schema(example = 1)]
    pub page: i64,
    #[schema(example = 20)]
    pub per_page: i64,
    /// Items matching the filters, on all pages.
    #[schema(example = 137)]
    pub total: i64,
    #[schema(example = 7)]
    pub total_pages: i64,
    /// Pass as `after` to get the next page by keyset; null on the last page.
    #[schema(
        example = "eyJzIjoiLXB1Ymxpc2hlZF9hdCIsImsiOiIyMDI0LTA1LTE2VDAxOjAwOjAwWiIsImkiOjQyLCJwIjoxfQ"
    )]
    pub next_cursor: Option<String>,
}

/// The list envelope: `{data: [...], meta: {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            meta: self.meta,
        }
    }
}

impl<T: Serialize> Page<T> {
    /// The 200 response with `X-Total-Count` and `Link` for this request.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let mut res = HttpResponse::Ok();
        res.insert_header(("X-Total-Count", self.meta.total.to_string()));
        let links = link_header(req, &self.meta);
        if !links.is_empty() {
            res.insert_header((header::LINK, links));
        }
        res.json(self)
    }
}

/// RFC 8288 links to the first, previous, next and last pages, keeping every
/// other parameter of the request as it was (except a content API `key`).
fn link_header(req: &HttpRequest, meta: &PageMeta) -> String {
    let kept: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        // A content key never goes into links: answers are shared by keys.
        .filter(|(k, _)| k != "page" && k != "after" && k != "key")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = |param: &str, value: &str| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            ser.append_pair(k, v);
        }
        ser.append_pair(param, value);
        format!("<{}?{}>", req.path(), ser.finish())
    };
    let last = meta.total_pages.max(1);
    let mut links = vec![format!("{}; rel=\"first\"", url("page", "1"))];
    if meta.page > 1 {
        let prev = (meta.page - 1).min(last);
        links.push(format!("{}; rel=\"prev\"", url("page", &prev.to_string())));
    }
    if let Some(cursor) = &meta.next_cursor {
        links.push(format!("{}; rel=\"next\"", url("after", cursor)));
    }
    links.push(format!("{}; rel=\"last\"", url("page", &last.to_string())));
    links.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parsing_is_strict() {
        let allowed = ["created_at", "name"];
        assert_eq!(
            Sort::parse(None, &allowed, "-created_at").unwrap(),
            Sort {
                field: "created_at",
                desc: true
            }
        );
        assert_eq!(
            Sort::parse(Some("name"), &allowed, "-created_at").unwrap(),
            Sort {
                field: "name",
                desc: false
            }
        );
        assert!(Sort::parse(Some("password_hash"), &allowed, "name").is_err());
        assert!(Sort::parse(Some(""), &allowed, "name").is_err());
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            sort: "-created_at".into(),
            key: Some("2024-01-01T00:00:00Z".into()),
            id: 5,
            page: 3,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not-a-cursor").is_err());
        assert!(Cursor::decode("").is_err());
    }

    #[test]
    fn page_request_bounds() {
        let s = Sort {
            field: "name",
            desc: false,
        };
        assert!(PageRequest::new(Some(0), None, None, s).is_err());
        assert!(PageRequest::new(None, Some(101), None, s).is_err());
        assert!(PageRequest::new(None, Some(0), None, s).is_err());
        let p = PageRequest::new(Some(3), Some(10), None, s).unwrap();
        assert_eq!(p.offset(), 20);
        let other = Cursor {
            sort: "-name".into(),
            key: None,
            id: 1,
            page: 1,
        }
        .encode();
        assert!(PageRequest::new(None, None, Some(&other), s).is_err());
    }
}
