//! `StrictQuery<T>`: query-string extraction where an unknown parameter, a
//! malformed value or a repeated scalar is a 400 problem, never ignored.
//! Repeated keys (`tag=a&tag=b`) fill `Vec` fields.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

#[derive(Debug)]
pub struct StrictQuery<T>(pub T);

impl<T> std::ops::Deref for StrictQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for StrictQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(StrictQuery))
    }
}

/// Parses a query string into `T` with the same errors as the extractor.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    serde_html_form::from_str::<T>(query)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
}
