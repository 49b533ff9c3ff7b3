//! Request and response types of `/users` and `/auth/me`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::UserRow;
use crate::auth::Role;
use crate::time::to_api;
use crate::validate::double_option;

/// A user account. `email` is shown only to the user and to admins;
/// the password hash never leaves the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "email": "daniel.kim@example.com", "name": "Daniel Kim", "slug": "daniel-kim", "role": "author",
    "bio": "Seoul correspondent.", "avatar_url": null,
    "created_at": "2024-01-02T09:00:00Z", "updated_at": "2024-01-02T09:00:00Z"
}))]
pub struct User {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "daniel.kim@example.com")]
    pub email: String,
    #[schema(example = "Daniel Kim")]
    pub name: String,
    #[schema(example = "daniel-kim")]
    pub slug: String,
    pub role: Role,
    #[schema(example = "Seoul correspondent.")]
    pub bio: Option<String>,
    #[schema(example = "https://images.example.com/daniel.jpg")]
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            role: Role::parse(&r.role).unwrap_or(Role::Reader),
            email: r.email,
            name: r.name,
            slug: r.slug,
            bio: r.bio,
            avatar_url: r.avatar_url,
            created_at: to_api(r.created_at),
            updated_at: to_api(r.updated_at),
        }
    }
}

/// Body of `POST /users` (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "daniel.kim@example.com", "password": "a long passphrase", "name": "Daniel Kim",
    "role": "author", "bio": "Seoul correspondent.", "avatar_url": null
}))]
pub struct CreateUser {
    #[schema(example = "daniel.kim@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// At least 10 characters.
    #[schema(example = "a long passphrase", min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(
        example = "Daniel Kim",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub name: String,
    pub role: Role,
    #[schema(max_length = 2000, pattern = r"^[^\u0000]*$")]
    pub bio: Option<String>,
    #[schema(
        max_length = 2048,
        pattern = r"^(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?)?$"
    )]
    pub avatar_url: Option<String>,
}

/// Body of `PATCH /users/{id}`: every field optional; `null` clears
/// `bio` and `avatar_url`. Only admins may change `role`, and never their
/// own. Changing one's own email or password needs `current_password`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Daniel Kim", "bio": "Seoul correspondent since 2019."}))]
pub struct UpdateUser {
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub name: Option<String>,
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^[^\u0000]*$")]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^(https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:[0-9]{1,4})?([/?#][!-~]*)?)?$")]
    pub avatar_url: Option<Option<String>>,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: Option<String>,
    /// Required when users change their own email or password.
    pub current_password: Option<String>,
}

/// Query of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// 1-based page number.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    /// Keyset cursor from `meta.next_cursor`; `page` is ignored with it.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `created_at`, `name` or `email`, `-` prefix for descending (default `-created_at`).
    #[param(pattern = r"^[-+]?(created_at|name|email)$", example = "-created_at")]
    pub sort: Option<String>,
    /// Only users with this role.
    pub role: Option<Role>,
    /// Case-insensitive substring of name or email.
    pub q: Option<String>,
}

crate::list_query!(
    UserListQuery,
    ["created_at", "name", "email"],
    "-created_at"
);
