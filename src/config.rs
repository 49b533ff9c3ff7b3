//! Typed configuration, read once from the environment (and `.env`) and
//! validated. Handed to everything that needs it through `AppState`; there
//! are no global configuration statics, so tests can vary any setting.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use rand::RngCore;

use crate::db::{Backend, DatabaseUrl};

/// A configuration error: names the variable and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentModeration {
    Off,
    Pre,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// PostgreSQL read replicas for anonymous reads (may be empty).
    pub read_urls: Vec<DatabaseUrl>,
    /// A replica further behind the primary than this is not read from.
    pub replica_max_lag: Duration,
    pub bind: SocketAddr,
    /// HMAC key for access tokens, at least 32 bytes.
    pub jwt_secret: Vec<u8>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub registration_open: bool,
    pub comment_moderation: CommentModeration,
    /// `None` means every origin (`*`).
    pub cors_origins: Option<Vec<String>>,
    pub view_flush_interval: Duration,
    pub cache_max_age: u32,
    pub log: String,
    pub log_format: LogFormat,
    pub db_pool_size: u32,
    pub max_body_bytes: usize,
    pub workers: Option<usize>,
    /// Lifetime of cached anonymous reads; zero disables the cache.
    pub read_cache_ttl: Duration,
    /// How long an account's role and token version are trusted per instance.
    pub auth_cache_ttl: Duration,
    /// Threads of the password hashing pool.
    pub hash_threads: usize,
    /// Password hashing jobs that may wait beyond those running.
    pub hash_queue: usize,
    /// Longest wait for a pooled database connection (then 503).
    pub db_timeout: Duration,
    /// Longest run of one SQL statement (PostgreSQL `statement_timeout`;
    /// on SQLite the wait for a lock held by another process).
    pub statement_timeout: Duration,
    /// Whether SQLite reads through a memory map (serving: yes; the bulk
    /// commands, which mostly write, turn it off).
    pub sqlite_read_map: bool,
    /// Where `/metrics` is served on its own (`None`: nowhere).
    pub metrics_bind: Option<SocketAddr>,
    /// When set, `/metrics` on the API listener answers to this bearer token.
    pub metrics_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// One counted view per visitor per article per window; zero: no limit.
    pub view_dedup_window: Duration,
    /// Rate limits (see `limits`); `None` in one means off.
    pub rates: crate::limits::Rates,
    /// Webhook delivery (see `webhooks`).
    pub webhooks: WebhookConfig,
    /// The media library (uploads, storage, renditions).
    pub media: MediaConfig,
    /// The front end's URLs of articles, tags and authors (feeds, sitemaps,
    /// the redirect resolver).
    pub public_urls: crate::feeds::PublicUrls,
    /// What a feed entry carries: the whole body or the excerpt.
    pub feed_content: FeedContent,
    /// Most URLs in one `/sitemaps/articles-{n}.xml` (at most 50,000).
    pub sitemap_page_size: u32,
    /// The publication's name (feed titles, the Google News sitemap).
    pub site_name: String,
    /// Its language, a BCP 47 tag such as `en` or `pt-BR`.
    pub site_language: String,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Wait before the first retry; each next one waits about 4x longer.
    pub retry_base: Duration,
    /// How long a delivery is retried before it counts as failed.
    pub retry_for: Duration,
    /// Changes to one object within this window make one delivery.
    pub coalesce: Duration,
    /// Longest wait for a receiver's answer (connect included).
    pub timeout: Duration,
    /// Whether private, loopback and link-local targets are allowed.
    pub allow_private: bool,
}

/// Settings of the media library.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Where originals and renditions are kept on local disk (and, with
    /// an S3 store, where uploads are received before they are stored).
    pub dir: std::path::PathBuf,
    /// An S3-compatible bucket that keeps the files instead of `dir`.
    pub store: Option<crate::media::s3::S3Location>,
    /// The absolute URL `/media/files` is reachable at (no trailing `/`).
    pub base_url: String,
    /// Largest upload, in bytes (then 413).
    pub max_bytes: usize,
    /// Most pixels (width × height) an upload may decode to (then 422).
    pub max_pixels: u64,
    /// Whether an upload without alt text is refused.
    pub require_alt: bool,
    /// Threads of the image processing pool.
    pub threads: usize,
    /// Image jobs that may wait beyond those running (then 503).
    pub queue: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedContent {
    Full,
    Excerpt,
}

/// Every variable with its default: the single source for `.env.example`.
pub const VARIABLES: &[(&str, &str)] = &[
    ("NEWSDESK_DATABASE_URL", "sqlite://data/newsdesk.db"),
    ("NEWSDESK_DATABASE_READ_URL", ""),
    ("NEWSDESK_REPLICA_MAX_LAG", "5s"),
    ("NEWSDESK_BIND", "127.0.0.1:8080"),
    ("NEWSDESK_JWT_SECRET", ""),
    ("NEWSDESK_ACCESS_TTL", "15m"),
    ("NEWSDESK_REFRESH_TTL", "30d"),
    ("NEWSDESK_ADMIN_EMAIL", ""),
    ("NEWSDESK_ADMIN_PASSWORD", ""),
    ("NEWSDESK_REGISTRATION", "open"),
    ("NEWSDESK_COMMENT_MODERATION", "off"),
    ("NEWSDESK_CORS_ORIGINS", "*"),
    ("NEWSDESK_VIEW_FLUSH_MS", "1000"),
    ("NEWSDESK_CACHE_MAX_AGE", "60"),
    ("NEWSDESK_LOG", "info"),
    ("NEWSDESK_LOG_FORMAT", "text"),
    ("NEWSDESK_DB_POOL_SIZE", "8"),
    ("NEWSDESK_MAX_BODY_BYTES", "1048576"),
    ("NEWSDESK_WORKERS", ""),
    ("NEWSDESK_READ_CACHE_MS", "1000"),
    ("NEWSDESK_AUTH_CACHE_MS", "1000"),
    ("NEWSDESK_HASH_THREADS", ""),
    ("NEWSDESK_HASH_QUEUE", "64"),
    ("NEWSDESK_DB_TIMEOUT_MS", "1500"),
    ("NEWSDESK_STATEMENT_TIMEOUT_MS", "5000"),
    ("NEWSDESK_METRICS_BIND", "127.0.0.1:9464"),
    ("NEWSDESK_METRICS_TOKEN", ""),
    ("NEWSDESK_TRUSTED_PROXIES", ""),
    ("NEWSDESK_VIEW_DEDUP_WINDOW", "30m"),
    ("NEWSDESK_RATE_LOGIN", "30/1m"),
    ("NEWSDESK_RATE_REGISTER", "20/1h"),
    ("NEWSDESK_RATE_REFRESH", "60/1m"),
    ("NEWSDESK_RATE_PASSWORD", "10/1h"),
    ("NEWSDESK_RATE_COMMENTS", "20/1m"),
    ("NEWSDESK_RATE_VIEWS", "600/1m"),
    ("NEWSDESK_WEBHOOK_RETRY_BASE_MS", "10000"),
    ("NEWSDESK_WEBHOOK_RETRY_FOR", "24h"),
    ("NEWSDESK_WEBHOOK_COALESCE_MS", "2000"),
    ("NEWSDESK_WEBHOOK_TIMEOUT_MS", "10000"),
    ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "false"),
    ("NEWSDESK_RATE_CONTENT_KEYS", "1200/1m"),
    ("NEWSDESK_MEDIA_DIR", "data/media"),
    ("NEWSDESK_MEDIA_STORE", ""),
    ("NEWSDESK_MEDIA_URL", ""),
    ("NEWSDESK_MEDIA_MAX_BYTES", "20971520"),
    ("NEWSDESK_MEDIA_MAX_PIXELS", "50000000"),
    ("NEWSDESK_MEDIA_REQUIRE_ALT", "false"),
    ("NEWSDESK_MEDIA_THREADS", ""),
    ("NEWSDESK_MEDIA_QUEUE", "16"),
    (
        "NEWSDESK_PUBLIC_URL_TEMPLATE",
        crate::feeds::public_url::DEFAULT_TEMPLATE,
    ),
    ("NEWSDESK_FEED_CONTENT", "full"),
    ("NEWSDESK_SITEMAP_PAGE_SIZE", "50000"),
    ("NEWSDESK_SITE_NAME", "newsdesk"),
    ("NEWSDESK_SITE_LANGUAGE", "en"),
];

const SECRET_FILE: &str = "jwt_secret";

impl Config {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth a warning only.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            eprintln!("warning: could not read .env: {e}");
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration from a map; what tests use.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| {
            lookup(var)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let or_default = |var: &'static str| {
            get(var).unwrap_or_else(|| {
                VARIABLES
                    .iter()
                    .find(|(n, _)| *n == var)
                    .map(|(_, d)| d.to_string())
                    .unwrap_or_default()
            })
        };

        let var = "NEWSDESK_DATABASE_URL";
        let database_url = DatabaseUrl::parse(&or_default(var)).map_err(|m| bad(var, m))?;

        let var = "NEWSDESK_DATABASE_READ_URL";
        let read_urls = or_default(var)
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| match DatabaseUrl::parse(u) {
                Ok(url) if url.backend == Backend::Postgres => Ok(url),
                _ => Err(bad(var, "must be postgres:// URLs, comma-separated")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !read_urls.is_empty() && database_url.backend != Backend::Postgres {
            return Err(bad(var, "needs a PostgreSQL NEWSDESK_DATABASE_URL"));
        }
        let replica_max_lag = duration(
            &or_default("NEWSDESK_REPLICA_MAX_LAG"),
            "NEWSDESK_REPLICA_MAX_LAG",
        )?;

        let var = "NEWSDESK_BIND";
        let bind = or_default(var)
            .parse::<SocketAddr>()
            .map_err(|_| bad(var, "must be an address such as 127.0.0.1:8080"))?;

        let access_ttl = duration(&or_default("NEWSDESK_ACCESS_TTL"), "NEWSDESK_ACCESS_TTL")?;
        let refresh_ttl = duration(&or_default("NEWSDESK_REFRESH_TTL"), "NEWSDESK_REFRESH_TTL")?;
        if refresh_ttl <= access_ttl {
            return Err(bad(
                "NEWSDESK_REFRESH_TTL",
                "must be longer than NEWSDESK_ACCESS_TTL",
            ));
        }

        let admin_email = get("NEWSDESK_ADMIN_EMAIL");
        let admin_password = get("NEWSDESK_ADMIN_PASSWORD");
        if admin_email.is_some() != admin_password.is_some() {
            return Err(bad(
                "NEWSDESK_ADMIN_PASSWORD",
                "NEWSDESK_ADMIN_EMAIL and NEWSDESK_ADMIN_PASSWORD must be set together",
            ));
        }

        let var = "NEWSDESK_REGISTRATION";
        let registration_open = match or_default(var).to_ascii_lowercase().as_str() {
            "open" => true,
            "closed" => false,
            _ => return Err(bad(var, "must be open or closed")),
        };

        let var = "NEWSDESK_COMMENT_MODERATION";
        let comment_moderation = match or_default(var).to_ascii_lowercase().as_str() {
            "off" => CommentModeration::Off,
            "pre" => CommentModeration::Pre,
            _ => return Err(bad(var, "must be off or pre")),
        };

        let var = "NEWSDESK_CORS_ORIGINS";
        let origins = or_default(var);
        let cors_origins = if origins == "*" {
            None
        } else {
            let list: Vec<String> = origins
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect();
            if let Some(o) = list
                .iter()
                .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
            {
                return Err(bad(
                    var,
                    format!("'{o}' is not an origin such as https://example.com"),
                ));
            }
            Some(list)
        };

        let view_flush_ms = number::<u64>(
            &or_default("NEWSDESK_VIEW_FLUSH_MS"),
            "NEWSDESK_VIEW_FLUSH_MS",
            10,
            3_600_000,
        )?;
        let cache_max_age = number::<u32>(
            &or_default("NEWSDESK_CACHE_MAX_AGE"),
            "NEWSDESK_CACHE_MAX_AGE",
            0,
            31_536_000,
        )?;
        let db_pool_size = number::<u32>(
            &or_default("NEWSDESK_DB_POOL_SIZE"),
            "NEWSDESK_DB_POOL_SIZE",
            1,
            512,
        )?;
        let max_body_bytes = number::<usize>(
            &or_default("NEWSDESK_MAX_BODY_BYTES"),
            "NEWSDESK_MAX_BODY_BYTES",
            1024,
            64 << 20,
        )?;
        let workers = match get("NEWSDESK_WORKERS") {
            Some(w) => Some(number::<usize>(&w, "NEWSDESK_WORKERS", 1, 1024)?),
            None => None,
        };

        let read_cache_ms = number::<u64>(
            &or_default("NEWSDESK_READ_CACHE_MS"),
            "NEWSDESK_READ_CACHE_MS",
            0,
            60_000,
        )?;

        let auth_cache_ms = number::<u64>(
            &or_default("NEWSDESK_AUTH_CACHE_MS"),
            "NEWSDESK_AUTH_CACHE_MS",
            0,
            60_000,
        )?;
        let hash_threads = match get("NEWSDESK_HASH_THREADS") {
            Some(n) => number::<usize>(&n, "NEWSDESK_HASH_THREADS", 1, 256)?,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        let hash_queue = number::<usize>(
            &or_default("NEWSDESK_HASH_QUEUE"),
            "NEWSDESK_HASH_QUEUE",
            0,
            100_000,
        )?;
        let db_timeout_ms = number::<u64>(
            &or_default("NEWSDESK_DB_TIMEOUT_MS"),
            "NEWSDESK_DB_TIMEOUT_MS",
            100,
            60_000,
        )?;
        let statement_timeout_ms = number::<u64>(
            &or_default("NEWSDESK_STATEMENT_TIMEOUT_MS"),
            "NEWSDESK_STATEMENT_TIMEOUT_MS",
            100,
            3_600_000,
        )?;

        let var = "NEWSDESK_METRICS_BIND";
        let metrics_bind = match or_default(var).as_str() {
            "off" => None,
            value => Some(
                value
                    .parse::<SocketAddr>()
                    .map_err(|_| bad(var, "must be an address such as 127.0.0.1:9464, or off"))?,
            ),
        };
        let var = "NEWSDESK_METRICS_TOKEN";
        let metrics_token = get(var);
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(bad(var, "must be at least 16 characters long"));
        }

        let var = "NEWSDESK_TRUSTED_PROXIES";
        let trusted_proxies = crate::http::client_ip::TrustedProxies::parse(&or_default(var))
            .map_err(|bad_one| {
                bad(
                    var,
                    format!("'{bad_one}' is not an address or CIDR such as 10.0.0.0/8"),
                )
            })?;
        let var = "NEWSDESK_VIEW_DEDUP_WINDOW";
        let view_dedup_window = match or_default(var).as_str() {
            "0" => Duration::ZERO,
            value => humantime::parse_duration(value).map_err(|_| {
                bad(
                    var,
                    "must be a duration such as 30m, or 0 to count every view",
                )
            })?,
        };

        let rate = |var: &'static str| {
            crate::limits::Rate::parse(&or_default(var)).map_err(|m| bad(var, m))
        };
        let rates = crate::limits::Rates {
            login: rate("NEWSDESK_RATE_LOGIN")?,
            register: rate("NEWSDESK_RATE_REGISTER")?,
            refresh: rate("NEWSDESK_RATE_REFRESH")?,
            password: rate("NEWSDESK_RATE_PASSWORD")?,
            comments: rate("NEWSDESK_RATE_COMMENTS")?,
            views: rate("NEWSDESK_RATE_VIEWS")?,
            content_keys: rate("NEWSDESK_RATE_CONTENT_KEYS")?,
        };

        let webhooks = WebhookConfig {
            retry_base: Duration::from_millis(number::<u64>(
                &or_default("NEWSDESK_WEBHOOK_RETRY_BASE_MS"),
                "NEWSDESK_WEBHOOK_RETRY_BASE_MS",
                1,
                3_600_000,
            )?),
            retry_for: duration(
                &or_default("NEWSDESK_WEBHOOK_RETRY_FOR"),
                "NEWSDESK_WEBHOOK_RETRY_FOR",
            )?,
            coalesce: Duration::from_millis(number::<u64>(
                &or_default("NEWSDESK_WEBHOOK_COALESCE_MS"),
                "NEWSDESK_WEBHOOK_COALESCE_MS",
                0,
                600_000,
            )?),
            timeout: Duration::from_millis(number::<u64>(
                &or_default("NEWSDESK_WEBHOOK_TIMEOUT_MS"),
                "NEWSDESK_WEBHOOK_TIMEOUT_MS",
                100,
                120_000,
            )?),
            allow_private: {
                let var = "NEWSDESK_WEBHOOK_ALLOW_PRIVATE";
                match or_default(var).to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(bad(var, "must be true or false")),
                }
            },
        };

        let var = "NEWSDESK_PUBLIC_URL_TEMPLATE";
        let public_urls =
            crate::feeds::PublicUrls::parse(&or_default(var)).map_err(|m| bad(var, m))?;
        let var = "NEWSDESK_FEED_CONTENT";
        let feed_content = match or_default(var).to_ascii_lowercase().as_str() {
            "full" => FeedContent::Full,
            "excerpt" => FeedContent::Excerpt,
            _ => return Err(bad(var, "must be full or excerpt")),
        };
        let sitemap_page_size = number::<u32>(
            &or_default("NEWSDESK_SITEMAP_PAGE_SIZE"),
            "NEWSDESK_SITEMAP_PAGE_SIZE",
            1,
            50_000,
        )?;

        let var = "NEWSDESK_SITE_NAME";
        let site_name = or_default(var);
        if site_name.chars().count() > 200 || site_name.chars().any(char::is_control) {
            return Err(bad(
                var,
                "must be at most 200 characters, without control characters",
            ));
        }
        let var = "NEWSDESK_SITE_LANGUAGE";
        let site_language = or_default(var);
        let mut subtags = site_language.split('-');
        let primary_ok = subtags.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase())
        });
        if !primary_ok
            || !subtags
                .all(|t| (1..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(bad(var, "must be a language tag such as en, de or pt-BR"));
        }

        let var = "NEWSDESK_LOG_FORMAT";
        let log_format = match or_default(var).to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(bad(var, "must be text or json")),
        };
        let log = or_default("NEWSDESK_LOG");
        if tracing_subscriber::EnvFilter::try_new(&log).is_err() {
            return Err(bad(
                "NEWSDESK_LOG",
                "is not a valid log filter (e.g. info or newsdesk=debug)",
            ));
        }

        let jwt_secret = jwt_secret(get("NEWSDESK_JWT_SECRET"), &database_url)?;
        let media = media_config(&get, &or_default, &database_url, bind)?;

        Ok(Self {
            database_url,
            read_urls,
            replica_max_lag,
            bind,
            jwt_secret,
            access_ttl,
            refresh_ttl,
            admin_email,
            admin_password,
            registration_open,
            comment_moderation,
            cors_origins,
            view_flush_interval: Duration::from_millis(view_flush_ms),
            cache_max_age,
            log,
            log_format,
            db_pool_size,
            max_body_bytes,
            workers,
            read_cache_ttl: Duration::from_millis(read_cache_ms),
            auth_cache_ttl: Duration::from_millis(auth_cache_ms),
            hash_threads,
            hash_queue,
            db_timeout: Duration::from_millis(db_timeout_ms),
            statement_timeout: Duration::from_millis(statement_timeout_ms),
            sqlite_read_map: true,
            metrics_bind,
            metrics_token,
            trusted_proxies,
            view_dedup_window,
            rates,
            webhooks,
            media,
            public_urls,
            feed_content,
            sitemap_page_size,
            site_name,
            site_language,
        })
    }
}

/// The media settings. Files live beside a SQLite database (`data/media`
/// next to the default `data/newsdesk.db`) unless `NEWSDESK_MEDIA_DIR` says
/// otherwise; public URLs default to the address the server listens on.
fn media_config(
    get: &impl Fn(&str) -> Option<String>,
    or_default: &impl Fn(&'static str) -> String,
    db: &DatabaseUrl,
    bind: SocketAddr,
) -> Result<MediaConfig, ConfigError> {
    let dir = match get("NEWSDESK_MEDIA_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => db.sqlite_dir().map_or_else(
            || std::path::PathBuf::from("data/media"),
            |d| d.join("media"),
        ),
    };
    let var = "NEWSDESK_MEDIA_STORE";
    let store = match get(var) {
        None => None,
        Some(url) => {
            let options = crate::media::s3::AWS_VARIABLES
                .iter()
                .filter_map(|name| get(name).map(|v| (name.to_string(), v)))
                .collect();
            Some(crate::media::s3::S3Location::parse(&url, options).map_err(|m| bad(var, m))?)
        }
    };
    let var = "NEWSDESK_MEDIA_URL";
    let base_url = match get(var) {
        Some(u) => {
            let u = u.trim_end_matches('/').to_string();
            match url::Url::parse(&u) {
                Ok(p) if (p.scheme() == "http" || p.scheme() == "https") && p.query().is_none() => {
                    u
                }
                _ => {
                    return Err(bad(
                        var,
                        "must be an absolute http(s) URL such as https://cdn.example.com/media/files",
                    ));
                }
            }
        }
        None => {
            let host = if bind.ip().is_unspecified() {
                std::net::IpAddr::from([127, 0, 0, 1])
            } else {
                bind.ip()
            };
            format!("http://{}/media/files", SocketAddr::new(host, bind.port()))
        }
    };
    let max_bytes = number::<usize>(
        &or_default("NEWSDESK_MEDIA_MAX_BYTES"),
        "NEWSDESK_MEDIA_MAX_BYTES",
        1024,
        1 << 30,
    )?;
    let max_pixels = number::<u64>(
        &or_default("NEWSDESK_MEDIA_MAX_PIXELS"),
        "NEWSDESK_MEDIA_MAX_PIXELS",
        1,
        400_000_000,
    )?;
    let var = "NEWSDESK_MEDIA_REQUIRE_ALT";
    let require_alt = match or_default(var).to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        _ => return Err(bad(var, "must be true or false")),
    };
    let threads = match get("NEWSDESK_MEDIA_THREADS") {
        Some(n) => number::<usize>(&n, "NEWSDESK_MEDIA_THREADS", 1, 256)?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
    };
    let queue = number::<usize>(
        &or_default("NEWSDESK_MEDIA_QUEUE"),
        "NEWSDESK_MEDIA_QUEUE",
        0,
        10_000,
    )?;
    Ok(MediaConfig {
        dir,
        store,
        base_url,
        max_bytes,
        max_pixels,
        require_alt,
        threads,
        queue,
    })
}

fn duration(value: &str, var: &'static str) -> Result<Duration, ConfigError> {
    let d = humantime::parse_duration(value)
        .map_err(|_| bad(var, "must be a duration such as 15m, 12h or 30d"))?;
    if d < Duration::from_secs(1) {
        return Err(bad(var, "must be at least one second"));
    }
    Ok(d)
}

fn number<T>(value: &str, var: &'static str, min: T, max: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = value
        .parse()
        .map_err(|_| bad(var, format!("must be a whole number from {min} to {max}")))?;
    if n < min || n > max {
        return Err(bad(
            var,
            format!("must be a whole number from {min} to {max}"),
        ));
    }
    Ok(n)
}

/// The configured secret, or for SQLite one generated once and kept beside
/// the database file with owner-only permissions, so tokens survive restarts.
fn jwt_secret(configured: Option<String>, db: &DatabaseUrl) -> Result<Vec<u8>, ConfigError> {
    let var = "NEWSDESK_JWT_SECRET";
    if let Some(secret) = configured {
        if secret.len() < 32 {
            return Err(bad(var, "must be at least 32 bytes long"));
        }
        return Ok(secret.into_bytes());
    }
    if db.is_memory() {
        return Ok(random_secret().into_bytes());
    }
    let Some(dir) = db.sqlite_dir() else {
        return Err(bad(
            var,
            "is required with PostgreSQL (at least 32 bytes, the same on every instance)",
        ));
    };
    load_or_create_secret(&dir.join(SECRET_FILE)).map_err(|e| bad(var, format!("not set, and {e}")))
}

fn random_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
        return Err(format!("{} holds fewer than 32 bytes", path.display()));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let secret = random_secret();
    write_private(path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = [("NEWSDESK_DATABASE_URL", "sqlite::memory:")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in pairs {
            map.insert(k.to_string(), v.to_string());
        }
        Config::from_map(&map)
    }

    #[test]
    fn defaults_are_valid() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.access_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_ttl, Duration::from_secs(30 * 86400));
        assert!(c.registration_open);
        assert!(c.cors_origins.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("NEWSDESK_DATABASE_URL", "mysql://x"),
            ("NEWSDESK_BIND", "nowhere"),
            ("NEWSDESK_ACCESS_TTL", "soon"),
            ("NEWSDESK_REGISTRATION", "maybe"),
            ("NEWSDESK_COMMENT_MODERATION", "post"),
            ("NEWSDESK_VIEW_FLUSH_MS", "-1"),
            ("NEWSDESK_CACHE_MAX_AGE", "x"),
            ("NEWSDESK_JWT_SECRET", "short"),
            ("NEWSDESK_CORS_ORIGINS", "example.com"),
            ("NEWSDESK_LOG_FORMAT", "xml"),
            ("NEWSDESK_WEBHOOK_RETRY_BASE_MS", "0"),
            ("NEWSDESK_WEBHOOK_RETRY_FOR", "forever"),
            ("NEWSDESK_WEBHOOK_COALESCE_MS", "-5"),
            ("NEWSDESK_WEBHOOK_TIMEOUT_MS", "10"),
            ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "maybe"),
        ] {
            let err = cfg(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn postgres_requires_a_secret() {
        let err = cfg(&[("NEWSDESK_DATABASE_URL", "postgres://localhost/x")]).unwrap_err();
        assert_eq!(err.var, "NEWSDESK_JWT_SECRET");
    }

    #[test]
    fn sqlite_secret_is_generated_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/db.sqlite", dir.path().display());
        let a = cfg(&[("NEWSDESK_DATABASE_URL", &url)]).unwrap();
        let b = cfg(&[("NEWSDESK_DATABASE_URL", &url)]).unwrap();
        assert_eq!(a.jwt_secret, b.jwt_secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
