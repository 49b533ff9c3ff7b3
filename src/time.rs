//! Time as newsdesk stores and shows it: naive UTC in the database, RFC 3339
//! with a `Z` in the API, whole seconds everywhere so that what a client reads
//! is exactly what is stored (and can be sent back as a filter or cursor).

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The current instant, truncated to whole seconds.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(0)
}

/// A stored timestamp as the API shows it.
pub fn to_api(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Parses an RFC 3339 timestamp from a client, normalised to stored form.
pub fn parse_rfc3339(value: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|t| t.naive_utc().trunc_subsecs(0))
}

/// The cursor form of a timestamp.
pub fn cursor_key(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Serde for `DateTime<Utc>` fields that accept only RFC 3339 input.
pub mod rfc3339_option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        raw.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    serde::de::Error::custom(
                        "must be an RFC 3339 timestamp such as 2024-05-15T09:30:00Z",
                    )
                })
        })
        .transpose()
    }
}
