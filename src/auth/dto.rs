//! Request and response types of `/auth`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::dto::User;

/// Body of `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "reader@example.com", "password": "a long passphrase", "name": "Jane Reader"}))]
pub struct Register {
    #[schema(example = "reader@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// At least 10 characters.
    #[schema(example = "a long passphrase", min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(
        example = "Jane Reader",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000]*$"
    )]
    pub name: String,
}

/// Body of `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "reader@example.com", "password": "a long passphrase"}))]
pub struct Login {
    #[schema(example = "reader@example.com")]
    pub email: String,
    #[schema(example = "a long passphrase")]
    pub password: String,
}

/// Body of `POST /auth/refresh` and `POST /auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "3q2-7wAAAAE.Zm9vYmFy"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A token pair and the signed-in user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl", "token_type": "Bearer", "expires_in": 900,
    "refresh_token": "3q2-7wAAAAE.Zm9vYmFy",
    "user": {"id": 7, "email": "reader@example.com", "name": "Jane Reader", "slug": "jane-reader", "role": "reader",
             "bio": null, "avatar_url": null, "created_at": "2024-01-02T09:00:00Z", "updated_at": "2024-01-02T09:00:00Z"}
}))]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Single use: exchange at `/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub user: User,
}
