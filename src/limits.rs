//! Rate limits (with `governor`, GCRA per key, in memory per instance) and
//! the growing back-off after failed sign-ins.
//!
//! | limit | key | default |
//! |---|---|---|
//! | `NEWSDESK_RATE_LOGIN` | client address | 30 per minute |
//! | `NEWSDESK_RATE_REGISTER` | client address | 20 per hour |
//! | `NEWSDESK_RATE_REFRESH` | client address | 60 per minute |
//! | `NEWSDESK_RATE_PASSWORD` | user | 10 per hour |
//! | `NEWSDESK_RATE_COMMENTS` | user | 20 per minute |
//! | `NEWSDESK_RATE_VIEWS` | client address | 600 per minute |
//! | `NEWSDESK_RATE_CONTENT_KEYS` | content API key | 1200 per minute |
//!
//! Each allows its whole count at once (the burst) and then refills evenly
//! over the period. After `FREE_FAILURES` failed sign-ins for one email
//! (known or not, so the answer reveals nothing), each further attempt must
//! wait twice as long as the last, from 1 second up to 15 minutes; a
//! successful sign-in resets it. Over a limit: 429 with `Retry-After`.
//!
//! This module decides nothing about HTTP beyond returning `ApiError`.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// `count` requests per `period`, as configured (`"30/1m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    /// `N/DURATION` (`30/1m`, `20/1h`) or `off` (`None`).
    pub fn parse(text: &str) -> Result<Option<Rate>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let err = || "must be a rate such as 30/1m or 20/1h, or off".to_string();
        let (count, period) = text.split_once('/').ok_or_else(err)?;
        let count = count
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(err)?;
        let period = humantime::parse_duration(period.trim()).map_err(|_| err())?;
        if period.is_zero() {
            return Err(err());
        }
        Ok(Some(Rate { count, period }))
    }
}

/// One keyed limit; `None` inside when switched off.
pub struct Limiter<K: Hash + Eq + Clone> {
    inner: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Option<Rate>) -> Self {
        let inner = rate.and_then(|r| {
            let every = r.period / r.count.get();
            Quota::with_period(every.max(Duration::from_nanos(1)))
                .map(|q| DefaultKeyedRateLimiter::dashmap(q.allow_burst(r.count)))
        });
        Self { inner }
    }

    /// Takes one request from `key`'s allowance, or says when to retry.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            too_many(wait)
        })
    }

    /// Forgets keys whose allowance is full again (bounds memory).
    pub fn clean(&self) {
        if let Some(limiter) = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn too_many(wait: Duration) -> ApiError {
    // Whole seconds, rounded up: retrying at once would fail again.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::TooManyRequests {
        retry_after_secs: secs.max(1),
    }
}

/// Failed sign-ins allowed for one email before the back-off starts.
pub const FREE_FAILURES: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    blocked_until: Option<Instant>,
}

/// Growing back-off per sign-in email.
pub struct LoginBackoff {
    failures: moka::sync::Cache<String, Failures>,
}

impl Default for LoginBackoff {
    fn default() -> Self {
        Self {
            failures: moka::sync::Cache::builder()
                // A quiet hour forgives everything.
                .time_to_idle(Duration::from_secs(3600))
                .max_capacity(100_000)
                .build(),
        }
    }
}

impl LoginBackoff {
    /// 429 while this email must wait.
    pub fn check(&self, email: &str) -> Result<(), ApiError> {
        match self.failures.get(email).and_then(|f| f.blocked_until) {
            Some(until) if until > Instant::now() => Err(too_many(until - Instant::now())),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, email: &str) {
        let now = Instant::now();
        self.failures
            .entry(email.to_string())
            .and_upsert_with(|previous| {
                let count = previous.map_or(0, |e| e.into_value().count) + 1;
                let blocked_until = (count > FREE_FAILURES).then(|| {
                    let doublings = (count - FREE_FAILURES - 1).min(20);
                    now + Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF)
                });
                Failures {
                    count,
                    blocked_until,
                }
            });
    }

    pub fn succeeded(&self, email: &str) {
        self.failures.invalidate(email);
    }
}

/// Every limit of an instance.
pub struct RateLimits {
    pub login: Limiter<IpAddr>,
    pub register: Limiter<IpAddr>,
    pub refresh: Limiter<IpAddr>,
    pub password: Limiter<i64>,
    pub comments: Limiter<i64>,
    pub views: Limiter<IpAddr>,
    /// Every request of a content API key, by integration id.
    pub content_keys: Limiter<i64>,
    pub login_backoff: LoginBackoff,
}

/// The configured rates (`None`: off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub login: Option<Rate>,
    pub register: Option<Rate>,
    pub refresh: Option<Rate>,
    pub password: Option<Rate>,
    pub comments: Option<Rate>,
    pub views: Option<Rate>,
    pub content_keys: Option<Rate>,
}

impl RateLimits {
    pub fn new(rates: &Rates) -> Self {
        Self {
            login: Limiter::new(rates.login),
            register: Limiter::new(rates.register),
            refresh: Limiter::new(rates.refresh),
            password: Limiter::new(rates.password),
            comments: Limiter::new(rates.comments),
            views: Limiter::new(rates.views),
            content_keys: Limiter::new(rates.content_keys),
            login_backoff: LoginBackoff::default(),
        }
    }

    /// Drops state of keys that are back to a full allowance.
    pub fn clean(&self) {
        self.login.clean();
        self.register.clean();
        self.refresh.clean();
        self.password.clean();
        self.comments.clean();
        self.views.clean();
        self.content_keys.clean();
    }
}

/// The key for requests without a known peer address (never in practice).
pub const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        let r = Rate::parse("30/1m").unwrap().unwrap();
        assert_eq!((r.count.get(), r.period), (30, Duration::from_secs(60)));
        assert_eq!(Rate::parse("off").unwrap(), None);
        for bad in ["", "0/1m", "x/1m", "30", "30/soon", "30/0s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_allow_the_burst_then_refuse() {
        let l = Limiter::new(Rate::parse("3/1h").unwrap());
        for _ in 0..3 {
            l.check(&1).unwrap();
        }
        match l.check(&1) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=1200).contains(&retry_after_secs))
            }
            other => panic!("{other:?}"),
        }
        l.check(&2).unwrap();
    }

    #[test]
    fn backoff_grows_after_free_failures() {
        let b = LoginBackoff::default();
        for _ in 0..FREE_FAILURES {
            b.check("a@b.co").unwrap();
            b.failed("a@b.co");
        }
        b.check("a@b.co").unwrap();
        b.failed("a@b.co");
        assert!(b.check("a@b.co").is_err());
        b.succeeded("a@b.co");
        b.check("a@b.co").unwrap();
    }
}
