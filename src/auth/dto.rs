//! Request and response types of `/auth`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::dto::User;

/// Body of `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    #[schema(example = "reader@example.com", max_length = 254)]
    pub email: String,
    /// 10 to 1024 characters.
    #[schema(example = "a long passphrase", min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(example = "Jane Reader", min_length = 1, max_length = 100)]
    pub name: String,
}

/// Body of `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    #[schema(example = "reader@example.com")]
    pub email: String,
    #[schema(example = "a long passphrase")]
    pub password: String,
}

/// Body of `POST /auth/refresh` and `POST /auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A token pair and the signed-in user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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
