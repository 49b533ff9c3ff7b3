//! View de-duplication: at most one counted view per visitor per article per
//! `NEWSDESK_VIEW_DEDUP_WINDOW` (default 30 minutes), and none from
//! well-known bots.
//!
//! A visitor is the client address (see `http::client_ip`) with the
//! `User-Agent`. Neither is stored: only a 64-bit keyed hash of them and the
//! article, under a random key made at start-up and mixed with the UTC day,
//! so the same visitor hashes differently every day and across restarts.
//! Hashes live in memory for the window only. Each instance remembers its
//! own visitors (behind a load balancer a visitor may count once per
//! instance). This module must not touch the counters (`stats::views`).

use std::net::IpAddr;
use std::time::Duration;

use rand::RngCore;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Substrings (lowercase) of the `User-Agent` of crawlers, link previewers
/// and monitoring tools that announce themselves. Not a defence against a
/// determined client (the window is), but keeps honest robots out of
/// "Most Viewed".
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "mediapartners-google",
    "headlesschrome",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "python-requests",
    "wget",
];

/// Whether a `User-Agent` belongs to a well-known bot.
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    BOT_MARKERS.iter().any(|m| ua.contains(m))
}

pub struct ViewDedup {
    /// `None`: window of zero, every (non-bot) beacon counts.
    seen: Option<moka::sync::Cache<u64, ()>>,
    key: u64,
}

impl ViewDedup {
    pub fn new(window: Duration) -> Self {
        let seen = (!window.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .time_to_live(window)
                // ~50 bytes each: a few tens of MB at most.
                .max_capacity(500_000)
                .build()
        });
        Self {
            seen,
            key: rand::rng().next_u64(),
        }
    }

    /// Whether this beacon counts: not a bot, and the first from this
    /// visitor for this article within the window.
    pub fn counts(&self, client: Option<IpAddr>, user_agent: &str, article_id: i64) -> bool {
        if is_bot(user_agent) {
            return false;
        }
        let Some(seen) = &self.seen else {
            return true;
        };
        let day = chrono::Utc::now().date_naive().to_string();
        let mut visitor = Vec::with_capacity(64 + user_agent.len());
        visitor.extend_from_slice(day.as_bytes());
        visitor.push(0);
        match client {
            Some(IpAddr::V4(ip)) => visitor.extend_from_slice(&ip.octets()),
            Some(IpAddr::V6(ip)) => visitor.extend_from_slice(&ip.octets()),
            None => {}
        }
        visitor.push(0);
        visitor.extend_from_slice(&article_id.to_le_bytes());
        visitor.extend_from_slice(user_agent.as_bytes());
        let hash = xxh3_64_with_seed(&visitor, self.key);
        seen.entry(hash).or_insert(()).is_fresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_view_per_visitor_and_article() {
        let d = ViewDedup::new(Duration::from_secs(60));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(d.counts(Some(ip), "Firefox", 1));
        assert!(!d.counts(Some(ip), "Firefox", 1));
        assert!(d.counts(Some(ip), "Firefox", 2));
        assert!(d.counts(Some(ip), "Chrome", 1));
        assert!(d.counts(Some("203.0.113.8".parse().unwrap()), "Firefox", 1));
        assert!(!d.counts(Some(ip), "Googlebot/2.1", 3));
        let off = ViewDedup::new(Duration::ZERO);
        assert!(off.counts(Some(ip), "Firefox", 1));
        assert!(off.counts(Some(ip), "Firefox", 1));
        assert!(!off.counts(Some(ip), "AhrefsBot", 1));
    }
}
