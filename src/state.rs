//! `AppState`: what every handler can reach. Built once by `startup` and
//! shared through `web::Data`; nothing in it is a global.

use std::sync::Arc;

use crate::articles::listing::ListIndex;
use crate::articles::popular::Rankings;
use crate::auth::JwtKeys;
use crate::auth::current::Accounts;
use crate::auth::hasher::Hasher;
use crate::config::Config;
use crate::db::Db;
use crate::http::writes::Writes;
use crate::metrics::Metrics;
use crate::views::Views;
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
    /// The media library's files and processing pool.
    pub media: Arc<crate::media::Library>,
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

    pub fn new(db: Db, config: Arc<Config>) -> Self {
        let jwt = JwtKeys::new(&config.jwt_secret, config.access_ttl);
        let metrics = Metrics::new();
        let views = Arc::new(Views::new(db.clone(), &metrics));
        let writes = Arc::new(Writes::default());
        let lists = ListIndex::new(writes.clone());
        let accounts = Accounts::new(config.auth_cache_ttl);
        let hasher = Hasher::new(config.hash_threads, config.hash_queue);
        let view_dedup = ViewDedup::new(config.view_dedup_window);
        let limits = crate::limits::RateLimits::new(&config.rates);
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
            media,
        }
    }
}
