//! Access tokens: HS256 JWTs with `sub`, `role`, `iat`, `exp`. The algorithm
//! is pinned, so `alg: none` and every other algorithm are rejected.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::Role;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string (RFC 7519).
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// The account's token version when issued; a token older than the
    /// account's current version (a password changed since) is refused.
    #[serde(default)]
    pub ver: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    /// A token of version 0 (an account whose password never changed).
    pub fn issue(&self, user_id: i64, role: Role) -> Result<String, jsonwebtoken::errors::Error> {
        self.issue_versioned(user_id, role, 0)
    }

    pub fn issue_versioned(
        &self,
        user_id: i64,
        role: Role,
        ver: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iat,
            exp: iat + self.access_ttl.as_secs() as i64,
            ver,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims)
    }
}
