//! `Json<T>`: the request-body extractor every handler uses. Like actix's,
//! but its errors are problem+json and name the offending field by path
//! (`tags[2]`, `author.id`): 415 for a non-JSON content type, 413 over the
//! size limit, 400 for malformed JSON, 422 for a wrong type, a missing or
//! an unknown field, or a body that is not a JSON object.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        Ok(Some(mime)) => mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"),
        _ => false,
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => {
                    ApiError::PayloadTooLarge("the body exceeds the size limit".into())
                }
                _ => ApiError::bad_request("could not read the body"),
            })?;
            parse(&bytes).map(Json)
        })
    }
}

/// Deserializes a JSON body with the extractor's errors.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every request body of the API is an object. serde's derived structs
    // also accept an array of the fields in declaration order; refuse that.
    // Malformed JSON stays a 400 even when it starts like an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return Err(ApiError::bad_request(format!("malformed JSON: {e}")));
        }
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| field_error(e, bytes))?;
    // Anything but whitespace after the value makes the body malformed.
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    refuse_nul(bytes)?;
    Ok(value)
}

/// No text field of the API may hold NUL (PostgreSQL text cannot, and no
/// text needs one): a 422 naming the field. JSON can only carry it escaped,
/// so bodies without `\u0000` are not walked.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    let escaped = bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|b| *b == b'0'));
    if !escaped {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match nul_path(&value, "") {
        Some(field) => Err(ApiError::invalid(field, "must not contain NUL characters")),
        None => Ok(()),
    }
}

/// The dotted path of the first string (or key) holding a NUL.
fn nul_path(value: &serde_json::Value, at: &str) -> Option<String> {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match value {
        serde_json::Value::String(s) => s.contains('\0').then(|| at.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, &format!("{at}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "")))
            } else {
                nul_path(v, &join(k))
            }
        }),
        _ => None,
    }
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>, bytes: &[u8]) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let mut message = inner.to_string();
    if !inner.is_data() {
        // serde_json reports some type mismatches of well-formed JSON as
        // syntax errors (a number where an enum's string is expected):
        // only a body that is not JSON at all is malformed.
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
            return ApiError::bad_request(format!("malformed JSON: {message}"));
        }
        message = "has the wrong type".into();
    }
    let field = if path == "." || path.is_empty() {
        named_field(&message)
    } else {
        path
    };
    // serde appends " at line 1 column 10"; the field says where.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    ApiError::invalid(field, message)
}

/// serde names missing and unknown fields in backticks in its message.
fn named_field(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or("body")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        tags: Option<Vec<String>>,
    }

    fn field(e: ApiError) -> String {
        match e {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            field(parse::<Body>(br#"{"title": 5}"#).unwrap_err()),
            "title"
        );
        assert_eq!(field(parse::<Body>(br#"{}"#).unwrap_err()), "title");
        assert_eq!(
            field(parse::<Body>(br#"{"title":"a","tags":["x",1]}"#).unwrap_err()),
            "tags[1]"
        );
        assert_eq!(
            field(parse::<Body>(br#"{"title":"a","titel":"b"}"#).unwrap_err()),
            "titel"
        );
        assert!(matches!(
            parse::<Body>(br#"{"title":"#).unwrap_err(),
            ApiError::BadRequest(_)
        ));
        assert!(matches!(
            parse::<Body>(b"").unwrap_err(),
            ApiError::BadRequest(_)
        ));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct WithEnum {
        name: String,
        role: crate::auth::Role,
        roles: Option<Vec<crate::auth::Role>>,
    }

    #[test]
    fn a_wrong_type_for_an_enum_is_a_field_error() {
        for (body, at) in [
            (&br#"{"name":"a","role":3}"#[..], "role"),
            (br#"{"name":"a","role":true}"#, "role"),
            (br#"{"name":"a","role":null}"#, "role"),
            (br#"{"name":"a","role":"owner"}"#, "role"),
            (
                br#"{"name":"a","role":"admin","roles":["admin",1]}"#,
                "roles[1]",
            ),
        ] {
            assert_eq!(
                field(parse::<WithEnum>(body).unwrap_err()),
                at,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            parse::<WithEnum>(br#"{"name":"a","role":3"#).unwrap_err(),
            ApiError::BadRequest(_)
        ));
    }

    #[test]
    fn only_objects_are_bodies() {
        assert_eq!(
            field(parse::<Body>(br#" ["a", null]"#).unwrap_err()),
            "body"
        );
        assert_eq!(field(parse::<Body>(br#"["a"]"#).unwrap_err()), "body");
        assert_eq!(field(parse::<Body>(b"null").unwrap_err()), "body");
        assert_eq!(field(parse::<Body>(br#""a""#).unwrap_err()), "body");
    }

    #[test]
    fn trailing_characters_are_malformed() {
        assert!(parse::<Body>(b" {\"title\": \"a\"} \n").is_ok());
        for body in [
            &br#"{"title":"a"} x"#[..],
            br#"{"title":"a"}{}"#,
            br#"{"title":"a"}]"#,
        ] {
            assert!(
                matches!(parse::<Body>(body).unwrap_err(), ApiError::BadRequest(_)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
