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
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
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

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null`
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "...")]`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
