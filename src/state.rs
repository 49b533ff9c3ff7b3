//! `AppState`: what every handler can reach. Built once by `startup` and
//! shared through `web::Data`; nothing in it is a global.

use std::sync::Arc;

use crate::articles::listing::ListIndex;
use crate::articles::popular::Rankings;
use crate::auth::JwtKeys;
use crate::config::Config;
use crate::db::Db;
use crate::http::writes::Writes;
use crate::metrics::Metrics;
use crate::views::Views;

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
}

impl AppState {
    pub fn new(db: Db, config: Arc<Config>) -> Self {
        let jwt = JwtKeys::new(&config.jwt_secret, config.access_ttl);
        let metrics = Metrics::new();
        let views = Arc::new(Views::new(db.clone(), &metrics));
        let writes = Arc::new(Writes::default());
        let lists = ListIndex::new(writes.clone());
        Self {
            db,
            config,
            jwt,
            metrics,
            views,
            writes,
            lists,
            rankings: Rankings::default(),
        }
    }
}
