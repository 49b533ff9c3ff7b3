//! Timestamps read from SQLite without a format-string parser.
//!
//! SQLite has no date type: diesel stores a `Timestamp` as the text
//! `YYYY-MM-DD HH:MM:SS[.fffffffff]` and reads it back by trying chrono's
//! `parse_from_str` with a list of formats, which interprets the format
//! string on every call (about 3,000 instructions per value; a list page
//! reads sixty of them, 12% of its work). [`Stamp`] and [`MaybeStamp`]
//! read exactly the text diesel writes, digit by digit, and hand anything
//! else (another layout, a number of Julian days) to diesel's own parser,
//! so they accept what it accepts. On PostgreSQL (a binary timestamp) they
//! are diesel's conversion. Used on the hot row structs with
//! `#[diesel(deserialize_as = Stamp)]`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};

use super::DbBackend;

/// A `Timestamp` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A nullable `Timestamp` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Self {
        s.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1 to 9 digits: what
/// diesel writes (`%F %T%.f`). `None` for anything else.
fn parse_stored(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let scale = 10u32.pow(9 - u32::try_from(digits.len()).ok()?);
            number(digits)? * scale
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(&b[0..4])?).ok()?,
        number(&b[5..7])?,
        number(&b[8..10])?,
    )?;
    let time = NaiveTime::from_hms_nano_opt(
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
        nanos,
    )?;
    Some(date.and_time(time))
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let stored = match value.value_type() {
            Some(diesel::sqlite::SqliteType::Text) => parse_stored(value.read_text()),
            _ => None,
        };
        match stored {
            Some(t) => Ok(Stamp(t)),
            None => <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp),
        }
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, DbBackend> for Stamp {
    fn from_sql(
        value: <DbBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl FromSql<Nullable<Timestamp>, DbBackend> for MaybeStamp {
    fn from_sql(
        value: <DbBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <Stamp as FromSql<Timestamp, DbBackend>>::from_sql(value).map(|s| MaybeStamp(Some(s.0)))
    }

    fn from_nullable_sql(
        value: Option<<DbBackend as diesel::backend::Backend>::RawValue<'_>>,
    ) -> deserialize::Result<Self> {
        match value {
            Some(v) => Self::from_sql(v),
            None => Ok(MaybeStamp(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_stored;
    use chrono::NaiveDateTime;

    /// What chrono reads with diesel's first format.
    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_diesel_writes_like_chrono_does() {
        for text in [
            "2026-12-08 01:20:45",
            "2026-12-08 01:20:45.5",
            "2026-12-08 01:20:45.123456",
            "2026-12-08 01:20:45.123456789",
            "1970-01-01 00:00:00",
            "2024-02-29 23:59:59.000001",
            "9999-12-31 23:59:59.999999999",
        ] {
            assert_eq!(parse_stored(text), chrono(text), "{text}");
            assert!(parse_stored(text).is_some(), "{text}");
        }
        // Written by diesel and read back.
        let now = chrono::Utc::now().naive_utc();
        let text = now.format("%F %T%.f").to_string();
        assert_eq!(parse_stored(&text), Some(now));
    }

    #[test]
    fn leaves_anything_else_to_diesel() {
        for text in [
            "2026-02-30 01:20:45",
            "2026-12-08 24:00:00",
            "2026-12-08T01:20:45",
            "2026-12-08 01:20",
            "2026-12-08 01:20:45Z",
            "2026-12-08 01:20:45.",
            "2026-12-08 01:20:45.1234567890",
            "2026-12-08 01:20:45+02:00",
            "+026-12-08 01:20:45",
            "2460000.5",
            "",
        ] {
            assert_eq!(parse_stored(text), None, "{text}");
        }
    }
}
