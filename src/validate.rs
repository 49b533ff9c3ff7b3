//! Small parse-don't-validate helpers shared by request types: collect every
//! invalid field into one 422 instead of stopping at the first.

use serde::{Deserialize, Deserializer};

use crate::error::{ApiError, FieldError};

#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let error = FieldError::new(field, message);
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
    }

    /// PostgreSQL text cannot hold NUL, and no text field needs one.
    fn no_nul(&mut self, field: &str, value: &str) {
        if value.contains('\0') {
            self.add(field, "must not contain NUL characters");
        }
    }

    /// Trims `value` and checks its length in characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        self.no_nul(field, value);
        let trimmed = value.trim();
        let n = trimmed.chars().count();
        if n < min {
            self.add(
                field,
                if min <= 1 {
                    "must not be empty".to_string()
                } else {
                    format!("must be at least {min} characters")
                },
            );
        } else if n > max {
            self.add(field, format!("must be at most {max} characters"));
        }
        trimmed.to_string()
    }

    /// Like `text`, for optional fields: empty becomes `None`.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        if let Some(v) = value {
            self.no_nul(field, v);
        }
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        if v.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
        Some(v.to_string())
    }

    /// An absolute http(s) URL, or `None`.
    pub fn opt_url(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        if v.contains('\0') {
            self.add(field, "must be an absolute http or https URL");
        } else if v.len() > 2048 {
            self.add(field, "must be at most 2048 characters");
        } else {
            match url::Url::parse(v) {
                Ok(u) if plain_http_url(v) && (u.scheme() == "http" || u.scheme() == "https") => {}
                _ => self.add(field, "must be an absolute http or https URL"),
            }
        }
        Some(v.to_string())
    }

    /// A syntactically valid email, lowercased (emails compare case-insensitively).
    pub fn email(&mut self, field: &str, value: &str) -> String {
        let v = value.trim().to_lowercase();
        if v.len() > 254 || !email_address::EmailAddress::is_valid(&v) || !v.contains('.') {
            self.add(field, "must be a valid email address");
        }
        v
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// The URLs the API document's pattern describes: `http://` or `https://`,
/// a host name of letter-digit-hyphen labels whose last label starts with
/// a letter, an optional port of at most 4 digits, and printable ASCII after the first `/`,
/// `?` or `#`. Stricter than what a URL parser takes (no user info, raw
/// Unicode, IP literals or spaces), so that a client validating with the
/// document and the server always agree.
fn plain_http_url(v: &str) -> bool {
    let Some(rest) = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
    else {
        return false;
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if !tail.chars().all(|c| ('!'..='~').contains(&c)) {
        return false;
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 4 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let ldh = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    host.split('.').all(ldh)
        && host
            .rsplit('.')
            .next()
            .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null`
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "...")]`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// For optional integer fields: JSON Schema (and so the API document)
/// counts `3.0` as the integer 3, serde's `i64` does not. Use with
/// `#[serde(default, deserialize_with = "opt_integer")]`.
pub fn opt_integer<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Integer;
    impl<'de> serde::de::Visitor<'de> for Integer {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer")
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }

        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("is out of range"))
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // i64::MIN is exactly representable; i64::MAX + 1 is the first
            // float out of range.
            if v.fract() == 0.0 && v >= i64::MIN as f64 && v < -(i64::MIN as f64) {
                Ok(Some(v as i64))
            } else {
                Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
            }
        }
    }
    d.deserialize_option(Integer)
}

/// `opt_integer` for nullable fields of a partial update: absent is
/// `None`, `null` is `Some(None)`. Use with `#[serde(default, ...)]`.
pub fn opt_nullable_integer<'de, D>(d: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: Deserializer<'de>,
{
    opt_integer(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "opt_integer")]
        n: Option<i64>,
    }

    #[test]
    fn integral_numbers_are_integers() {
        let n = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.n);
        assert_eq!(n(r#"{"n": 3}"#).unwrap(), Some(3));
        assert_eq!(n(r#"{"n": -3.0}"#).unwrap(), Some(-3));
        assert_eq!(n(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(n(r#"{}"#).unwrap(), None);
        assert!(n(r#"{"n": 3.5}"#).is_err());
        assert!(n(r#"{"n": "3"}"#).is_err());
        assert!(n(r#"{"n": 1e300}"#).is_err());
        assert!(n(r#"{"n": 9223372036854775808}"#).is_err());
    }
}
