//! Integrations: named content API keys for server-side front ends (admin
//! CRUD in `routes`), the per-instance lookup of presented keys (`keys`),
//! and the scopes a key carries.
//!
//! A key is `nd_` and 43 URL-safe characters (256 random bits), shown once
//! at creation and stored only as its SHA-256 with a visible prefix. A key
//! reads the public content API like an anonymous client (scope `read`),
//! with a rate limit of its own; it never acts as a user.

pub mod dto;
pub mod keys;
pub mod queries;
pub mod routes;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use keys::{ContentKey, ContentKeys};

/// What a content key may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read the public content API (what anonymous clients see).
    Read,
    /// Send `preview=<token>` with the key's requests (see the README).
    Preview,
    /// Read the event log (`GET /events`).
    Events,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Preview, Scope::Events];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Preview => "preview",
            Scope::Events => "events",
        }
    }

    pub fn parse(value: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == value)
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Preview => 2,
            Scope::Events => 4,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, as a key's lookup keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// From the stored form (space-separated); unknown words are ignored.
    pub fn from_stored(text: &str) -> Self {
        Self(
            text.split_whitespace()
                .filter_map(Scope::parse)
                .fold(0, |acc, s| acc | s.bit()),
        )
    }

    pub fn from_list(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// In a fixed order, for storage and answers.
    pub fn list(self) -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .collect()
    }

    pub fn to_stored(self) -> String {
        self.list()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}
