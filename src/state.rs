//! `AppState`: what every handler can reach. Built once by `startup` and
//! shared through `web::Data`; nothing in it is a global.

use std::sync::Arc;

use crate::articles::listing::ListIndex;
use crate::auth::JwtKeys;
use crate::auth::current::Accounts;
use crate::auth::hasher::Hasher;
use crate::cluster::{Cluster, Stale};
use crate::config::Config;
use crate::db::{Backend, Db};
use crate::http::read_cache::ReadCache;
use crate::http::writes::Writes;
use crate::metrics::Metrics;
use crate::stats::Views;
use crate::stats::popular::Rankings;
use crate::views::dedup::ViewDedup;

pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
    pub metrics: Metrics,
    /// The view counter: `state.views.record(id)`, `state.views.forget(id)`
    /// after an article changes, `state.views.flush()`.
    pub views: Arc<Views>,
    /// Moved on by every write through this instance (see `http::writes`).
    pub writes: Arc<Writes>,
    /// Article list totals and deep-page anchors.
    pub lists: ListIndex,
    /// Popular-list rankings per metric and window.
    pub rankings: Rankings,
    /// Current role and token version of accounts, for the auth extractor.
    pub accounts: Accounts,
    /// The bounded pool where Argon2 runs.
    pub hasher: Hasher,
    /// Which beacons count (one per visitor per article per window).
    pub view_dedup: ViewDedup,
    /// Rate limits and the sign-in back-off.
    pub limits: crate::limits::RateLimits,
    /// Anonymous answers kept for `NEWSDESK_READ_CACHE_MS`.
    pub read_cache: Arc<ReadCache>,
    /// Tells other instances on the same PostgreSQL what went stale.
    pub cluster: Cluster,
    /// When a scheduled article next goes live (kept by the scheduler).
    pub schedule: Arc<crate::events::scheduler::NextPublish>,
    /// Lookups of content API keys (cleared by creation and revocation).
    pub keys: crate::integrations::ContentKeys,
    /// The media library's files and processing pool.
    pub media: Arc<crate::media::Library>,
    /// The sitemap index's pages and the pages' fingerprints.
    pub sitemaps: crate::sitemaps::Facts,
}

impl AppState {
    /// The client address of a request (socket peer, or the forwarded
    /// address behind a trusted proxy).
    pub fn client(&self, req: &actix_web::HttpRequest) -> std::net::IpAddr {
        self.config
            .trusted_proxies
            .client(req)
            .unwrap_or(crate::limits::UNKNOWN_CLIENT)
    }

    /// After a committed write: forgets what it made stale here, and tells
    /// the other instances to do the same.
    pub fn stale(&self, stale: Stale) {
        self.forget(stale);
        self.cluster.announce(stale);
    }

    /// Forgets what `stale` names in this instance's memory only.
    pub fn forget(&self, stale: Stale) {
        match stale {
            Stale::Content => self.read_cache.clear(),
            Stale::Article(id) => self.views.forget(id),
            Stale::Account(id) => self.accounts.forget(id),
            Stale::Keys => self.keys.forget_all(),
            Stale::All => {
                self.read_cache.clear();
                self.views.forget_all();
                self.accounts.forget_all();
                self.keys.forget_all();
            }
        }
    }

    pub fn new(db: Db, config: Arc<Config>) -> Self {
        let jwt = JwtKeys::new(&config.jwt_secret, config.access_ttl);
        let metrics = Metrics::new();
        let views = Arc::new(Views::new(db.clone(), &metrics));
        let writes = Arc::new(Writes::default());
        let lists = ListIndex::new(writes.clone());
        let sitemaps = crate::sitemaps::Facts::new(writes.clone());
        let accounts = Accounts::new(config.auth_cache_ttl);
        let hasher = Hasher::new(config.hash_threads, config.hash_queue);
        let view_dedup = ViewDedup::new(config.view_dedup_window);
        let limits = crate::limits::RateLimits::new(&config.rates);
        let read_cache = Arc::new(ReadCache::new(
            config.read_cache_ttl,
            32 << 20,
            writes.clone(),
        ));
        let cluster = Cluster::new(db.backend() == Backend::Postgres);
        let keys = crate::integrations::ContentKeys::new(config.auth_cache_ttl);
        let media = Arc::new(crate::media::Library::new(&config.media));
        Self {
            db,
            config,
            jwt,
            metrics,
            views,
            writes,
            lists,
            rankings: Rankings::default(),
            accounts,
            hasher,
            view_dedup,
            limits,
            read_cache,
            cluster,
            schedule: Arc::default(),
            keys,
            media,
            sitemaps,
        }
    }
}
