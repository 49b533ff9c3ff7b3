//! Authentication and authorisation: roles, access tokens (HS256 JWT),
//! refresh tokens (random, stored hashed, rotated), Argon2id passwords, and
//! the extractors through which a handler's signature says who may call it.

pub mod current;
pub mod dto;
pub mod extract;
pub mod hasher;
pub mod jwt;
pub mod password;
pub mod routes;
pub mod tokens;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use extract::{AuthUser, MaybeUser};
pub use jwt::JwtKeys;

/// A user's role. Each includes the rights of those before it, so roles
/// compare: `Role::Editor >= Role::Author`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reader,
    Author,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Reader, Role::Author, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Author => "author",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
