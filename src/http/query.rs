//! `StrictQuery<T>`: query-string extraction where an unknown parameter, a
//! malformed value or a repeated scalar is a 400 problem, never ignored.
//! Repeated keys (`tag=a&tag=b`) fill `Vec` fields.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
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
        ready(strict(req).map(StrictQuery))
    }
}

/// The request's query string as `T`, strictly (see the module).
pub fn strict<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    {
        // A content key sent as `?key=` was checked before routing, and an
        // endpoint that does not take keys refuses them in its auth
        // extractor: the parameter is never an unknown one.
        let key_in_query = req
            .extensions()
            .get::<crate::integrations::ContentKey>()
            .is_some_and(|k| k.in_query);
        let query = req.query_string();
        if query.contains("key") {
            return parse(&without_key(query, key_in_query));
        }
        parse(query)
    }
}

/// The query string without its empty `key` parameters (an empty value
/// counts as absent), or without all of them (`all`).
fn without_key(query: &str, all: bool) -> String {
    query
        .split('&')
        .filter(|pair| {
            let mut parsed = form_urlencoded::parse(pair.as_bytes());
            match parsed.next() {
                Some((name, value)) => name != "key" || !(all || value.is_empty()),
                None => true,
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Parses a query string into `T` with the same errors as the extractor.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    refuse_nul(query)?;
    serde_html_form::from_str::<T>(query)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
}

/// No parameter may hold NUL (PostgreSQL text cannot): a 400 naming it.
fn refuse_nul(query: &str) -> Result<(), ApiError> {
    if !query.contains("%00") {
        return Ok(());
    }
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.contains('\0') || value.contains('\0') {
            let name: String = name.replace('\0', "").chars().take(60).collect();
            return Err(ApiError::bad_request(format!(
                "{name} must not contain NUL characters"
            )));
        }
    }
    Ok(())
}
