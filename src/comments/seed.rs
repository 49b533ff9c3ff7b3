//! Demo activity for `newsdesk seed --demo`: reader accounts, comment
//! threads and a month of views on the published articles, so that a new
//! installation shows lively "Most Viewed" and "Most Commented" boxes.
//!
//! Deterministic given the articles (and today's date): every choice comes
//! from a small generator seeded with the article id. Safe to run again:
//! readers are reused by email, and an article that already has comments or
//! statistics is left alone.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;

use super::queries::{self, APPROVED, NewComment};
use crate::db::DbConnection;
use crate::db::schema::{article_daily_stats, articles, comments};
use crate::stats::comments as counts;
use crate::stats::daily::{DailyDelta, add_daily};
use crate::users::queries::{self as users, AccountInput};

const READERS: &[&str] = &[
    "Maria Lopez",
    "James O'Connor",
    "Aiko Tanaka",
    "Samuel Okafor",
    "Priya Raman",
    "Lukas Becker",
    "Chloe Martin",
    "Daniel Novak",
];

const READER_EMAIL_DOMAIN: &str = "readers.newsdesk.example";

const TOP_LEVEL: &[&str] = &[
    "Thanks for laying out the background so clearly. I had not followed this story until now.",
    "The numbers in the third paragraph surprised me. Is there a source for them?",
    "Good reporting. I would love a follow-up once the officials respond.",
    "This is the first piece I have read that explains both sides fairly.",
    "I live nearby and can confirm the situation is exactly as described.",
    "Interesting, but I think the article underplays the cost for ordinary households.",
    "Can someone explain what this means for people outside the capital?",
    "The timeline at the end is really helpful. More of this, please.",
    "I disagree with the conclusion, but the facts are well presented.",
    "We discussed this at work today and nobody had heard about the second proposal.",
    "Finally some coverage of this. The local papers have ignored it for weeks.",
    "Is there any word on when the final decision is expected?",
    "My grandparents went through something similar decades ago. History repeats.",
    "Sharing this with my study group; it is a great summary.",
    "The quote from the minister says a lot, if you read it twice.",
    "I wonder how this will look a year from now.",
    "Excellent photos. They tell half the story on their own.",
    "Would be useful to compare this with how other countries handled it.",
];

const REPLIES: &[&str] = &[
    "Good question. The figures come from the ministry's annual report, as far as I know.",
    "I had the same reaction when I first read it.",
    "Agreed, although I think the second point deserves more attention.",
    "That is a fair criticism, but the article does mention it near the end.",
    "Thanks, that is a helpful addition.",
    "Not sure I agree. The situation where I live is quite different.",
    "Same here. Hoping for a follow-up piece.",
    "You make a good point about the costs.",
    "There was a longer interview on the radio this morning that covered this.",
    "Exactly. People forget how long this has been going on.",
];

/// SplitMix64: tiny, fast, and stable forever (unlike library generators,
/// whose sequences may change between versions).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }
}

/// Finds or makes the demo readers; new ones get random passwords that
/// nobody knows (an admin can reset them).
fn readers(conn: &mut DbConnection) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(READERS.len());
    for name in READERS {
        let local = crate::slug::slugify(name).unwrap_or_else(|| "reader".into());
        let email = format!("{local}@{READER_EMAIL_DOMAIN}");
        if let Some(existing) = users::find_by_email(conn, &email)? {
            ids.push(existing.id);
            continue;
        }
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let row = users::create_account(
            conn,
            AccountInput {
                email,
                name: (*name).to_string(),
                role: "reader".into(),
                bio: None,
                avatar_url: None,
                password_hash: crate::auth::password::hash(&password)?,
            },
        )?;
        ids.push(row.id);
    }
    Ok(ids)
}

/// Adds readers, comments and views to every visible published article
/// that has none yet. See the module documentation.
pub fn seed_demo_activity(conn: &mut DbConnection) -> anyhow::Result<()> {
    conn.transaction(|conn| {
        let now = crate::time::now();
        let today = now.date();
        let candidates: Vec<(i64, NaiveDateTime)> = articles::table
            .filter(articles::status.eq("published"))
            .filter(articles::published_at.le(now))
            .order(articles::id.asc())
            .select((articles::id, articles::published_at.assume_not_null()))
            .load(conn)?;
        if candidates.is_empty() {
            return Ok(());
        }
        let readers = readers(conn)?;
        for (article_id, published_at) in candidates {
            let has_comments = comments::table
                .filter(comments::article_id.eq(article_id))
                .count()
                .get_result::<i64>(conn)?
                > 0;
            let has_stats = article_daily_stats::table
                .filter(article_daily_stats::article_id.eq(article_id))
                .count()
                .get_result::<i64>(conn)?
                > 0;
            if has_comments || has_stats {
                continue;
            }
            seed_article(conn, &readers, article_id, published_at, now, today)?;
        }
        Ok(())
    })
}

fn seed_article(
    conn: &mut DbConnection,
    readers: &[i64],
    article_id: i64,
    published_at: NaiveDateTime,
    now: NaiveDateTime,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let mut rng = Rng::new(article_id as u64);
    // Skewed popularity: most articles are quiet, a few are busy.
    let popularity = rng.unit().powi(2);
    let wanted = (popularity * 16.0).round() as usize;

    // Threads: each comment answers an earlier approved one about a third
    // of the time, so replies to replies occur too.
    let mut approved: Vec<(i64, i64)> = Vec::new(); // (comment id, author id)
    let mut at = published_at + Duration::minutes(rng.range(3, 90) as i64);
    for _ in 0..wanted {
        if at > now {
            break;
        }
        let parent = if !approved.is_empty() && rng.unit() < 0.35 {
            Some(*rng.pick(&approved))
        } else {
            None
        };
        let mut author = *rng.pick(readers);
        if let Some((_, parent_author)) = parent
            && author == parent_author
        {
            let i = readers.iter().position(|r| *r == author).unwrap_or(0);
            author = readers[(i + 1) % readers.len()];
        }
        let body = if parent.is_some() {
            rng.pick(REPLIES)
        } else {
            rng.pick(TOP_LEVEL)
        };
        let status = if rng.unit() < 0.08 {
            "pending"
        } else {
            APPROVED
        };
        let row = queries::insert(
            conn,
            &NewComment {
                article_id,
                parent_id: parent.map(|(id, _)| id),
                author_id: author,
                body: (*body).to_string(),
                status: status.into(),
                created_at: at,
                updated_at: at,
            },
        )?;
        if row.status == APPROVED {
            counts::count_approved(conn, article_id, row.created_at, 1)?;
            approved.push((row.id, author));
        }
        at += Duration::minutes(rng.range(5, 300) as i64);
    }

    // A month of views, decaying with the article's age.
    let published_day = published_at.date();
    let base = 30.0 + popularity * 1200.0;
    let mut views: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for back in 0..30 {
        let day = today - Duration::days(back);
        if day < published_day {
            continue;
        }
        let age = (day - published_day).num_days() as f64;
        let noise = 0.7 + rng.unit() * 0.6;
        let n = (base * noise / (1.0 + age * 0.4)).round() as i64;
        if n > 0 {
            views.insert(day, n);
        }
    }
    let total: i64 = views.values().sum();
    let deltas: Vec<DailyDelta> = views
        .into_iter()
        .map(|(day, n)| DailyDelta {
            article_id,
            day,
            views: n,
            comments: 0,
        })
        .collect();
    add_daily(conn, &deltas)?;
    diesel::update(articles::table.find(article_id))
        .set(articles::view_count.eq(articles::view_count + total))
        .execute(conn)?;
    Ok(())
}
