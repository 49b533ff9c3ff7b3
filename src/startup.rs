//! `Application::build(config)`: opens the database, applies migrations,
//! makes the first admin if configured, wires every route and middleware,
//! and binds. `run` serves until SIGINT/SIGTERM, then stops gracefully.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, UtoipaApp, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Role;
use crate::config::Config;
use crate::db::Db;
use crate::http::caching::{self, PublicCacheControl};
use crate::http::errors::{self, RouteTable};
use crate::http::read_cache::{self, ReadCache};
use crate::http::security;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::users::queries::{self as users, AccountInput};

/// Registers every documented route. The one list of the API.
fn routes<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(
        scope::scope("/api/v1")
            // The view beacon is the hottest uncached route, and actix tries
            // routes in order: first in the list, first matched.
            .configure(crate::views::routes::routes)
            .configure(crate::auth::routes::routes)
            .configure(crate::users::routes::routes)
            .configure(crate::articles::routes::routes)
            .configure(crate::tags::routes::routes)
            .configure(crate::authors::routes::routes)
            .configure(crate::comments::routes::routes)
            .configure(crate::events::routes::routes)
            .configure(crate::webhooks::routes::routes)
            .configure(crate::previews::routes::routes)
            .configure(crate::integrations::routes::routes)
            .configure(crate::media::routes::routes)
            .configure(crate::redirects::routes::routes)
            .configure(crate::export::routes::routes),
    )
    .configure(crate::ops::routes::routes)
    .configure(crate::media::routes::file_routes)
    .configure(crate::feeds::routes::routes)
    .configure(crate::sitemaps::routes::routes)
}

/// The OpenAPI document exactly as the server serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) =
        routes(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    crate::openapi::finish(doc)
}

/// Pretty JSON of the document: what `newsdesk openapi` prints and what
/// `openapi/openapi.json` must equal.
pub fn openapi_json() -> String {
    crate::openapi::to_json(&openapi())
}

pub struct Application {
    port: u16,
    server: Server,
    /// The private `/metrics` listener, when configured.
    metrics: Option<(u16, Server)>,
    state: web::Data<AppState>,
    flusher: actix_web::rt::task::JoinHandle<()>,
    purger: actix_web::rt::task::JoinHandle<()>,
    /// The scheduler and the webhook worker.
    scheduler: actix_web::rt::task::JoinHandle<()>,
    webhooks: crate::webhooks::worker::Worker,
}

impl Application {
    /// Prepares the database and binds `config.bind` (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        Self::build_with_listener(config, listener).await
    }

    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let config = Arc::new(config);
        let db = prepare_database(&config).await?;
        let state = web::Data::new(AppState::new(db, config.clone()));
        let port = listener.local_addr()?.port();
        let server = serve(state.clone(), listener)?;
        // Metrics are not worth refusing to serve the API for (a second
        // instance on one host finds the port taken): say so loudly instead.
        let metrics = match config.metrics_bind.map(|a| (a, TcpListener::bind(a))) {
            Some((_, Ok(listener))) => {
                let port = listener.local_addr()?.port();
                Some((port, serve_metrics(state.clone(), listener)?))
            }
            Some((addr, Err(e))) => {
                tracing::error!(
                    "NEWSDESK_METRICS_BIND: cannot listen on {addr} ({e}); serving without the metrics listener"
                );
                None
            }
            None => None,
        };
        if config.database_url.backend == crate::db::Backend::Postgres {
            crate::cluster::Cluster::spawn(&state, &config.database_url.target)?;
        }
        crate::db::replicas::Replicas::spawn_checker(
            state.db.replicas(),
            config.replica_max_lag,
            state.metrics.replica_up.clone(),
        )?;
        let flusher = state.views.spawn_flusher(config.view_flush_interval);
        let purger = spawn_housekeeping(state.clone());
        let scheduler = crate::events::scheduler::spawn(state.clone());
        let webhooks = crate::webhooks::worker::Worker::spawn(state.clone());
        Ok(Self {
            port,
            server,
            metrics,
            state,
            flusher,
            purger,
            scheduler,
            webhooks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the private metrics listener, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until a graceful stop (SIGINT, SIGTERM or a server handle),
    /// then writes the views still buffered.
    ///
    /// The final flush runs synchronously, right after the server future
    /// completes and before this task yields: the HTTP workers have stopped
    /// (nothing is left to stall), and a caller of `ServerHandle::stop`,
    /// woken by the same completion on this single-threaded runtime, runs
    /// only after the counts are in the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, actix_web::rt::spawn(server))
        });
        let served = self.server.await;
        self.state.cluster.stop();
        self.flusher.abort();
        self.purger.abort();
        self.scheduler.abort();
        // Attempts in flight end as they are; their leases expire and the
        // next start (or another instance) makes them again.
        self.webhooks.stop();
        self.state.views.flush_on_shutdown();
        // Only after the final flush (which must run before this task
        // yields): stop the metrics listener and wait for its worker, so no
        // thread outlives the server holding the state (and connections).
        if let Some((handle, task)) = metrics {
            handle.stop(false).await;
            let _ = task.await;
        }
        served?;
        tracing::info!("stopped");
        Ok(())
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// How often rate-limit state of idle clients is dropped.
const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// Expired refresh tokens are deleted every this many housekeeping rounds
/// (hourly). A user's own expired rows also go at each of their sign-ins.
const TOKEN_PURGE_EVERY: u64 = 60;

/// The planner's statistics are refreshed every this many housekeeping
/// rounds (hourly), as SQLite recommends for long-lived connections.
const PLANNER_EVERY: u64 = 60;

/// Refreshes the planner's statistics (see [`Db::analyze`]); a failure is
/// logged, never fatal: the queries stay right, only maybe slower.
fn refresh_planner(db: &Db) {
    if let Err(e) = db.analyze(crate::db::Planner::Refresh) {
        tracing::warn!(error = %e, "could not refresh the planner's statistics");
    }
}

/// Periodic housekeeping: forgets rate-limit state of clients that are back
/// to a full allowance (bounds memory), and deletes expired refresh-token
/// rows so the table holds live sessions (and recent reuse markers) only,
/// and keeps the query planner's statistics current.
fn spawn_housekeeping(state: web::Data<AppState>) -> actix_web::rt::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        let start = actix_web::rt::time::Instant::now() + HOUSEKEEPING_INTERVAL;
        let mut tick = actix_web::rt::time::interval_at(start, HOUSEKEEPING_INTERVAL);
        for round in 1u64.. {
            tick.tick().await;
            state.limits.clean();
            if round % PLANNER_EVERY == 0 {
                let db = state.db.clone();
                let _ = web::block(move || refresh_planner(&db)).await;
            }
            if round % TOKEN_PURGE_EVERY != 0 {
                continue;
            }
            // One instance of a cluster purges; the others skip this round.
            let purged = state
                .db
                .write(|conn| {
                    if !crate::db::try_lock_in_transaction(
                        conn,
                        crate::db::ClusterLock::PurgeTokens,
                    )? {
                        return Ok(0);
                    }
                    Ok(crate::auth::tokens::purge_expired(conn, None)?)
                })
                .await;
            match purged {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "deleted expired refresh tokens"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired refresh tokens"),
            }
        }
    })
}

/// Opens the pool, migrates, and makes the configured first admin.
pub async fn prepare_database(config: &Config) -> anyhow::Result<Db> {
    let config = config.clone();
    web::block(move || -> anyhow::Result<Db> {
        let limits = crate::db::Limits {
            connection_timeout: config.db_timeout,
            statement_timeout: config.statement_timeout,
            read_map: config.sqlite_read_map,
        };
        let db = Db::connect_with(&config.database_url, config.db_pool_size, limits)?
            .with_replicas(&config.read_urls, config.db_pool_size);
        // Instances starting together (a rolling deploy) take turns: the
        // first migrates and makes the admin, the others then find both done.
        db.exclusively(crate::db::ClusterLock::Migrate, || {
            db.migrate()?;
            bootstrap_admin(&db, &config)
        })?;
        refresh_planner(&db);
        Ok(db)
    })
    .await?
}

fn bootstrap_admin(db: &Db, config: &Config) -> anyhow::Result<()> {
    let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) else {
        return Ok(());
    };
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    if users::count(&mut conn)? > 0 {
        return Ok(());
    }
    let mut v = crate::validate::Validator::new();
    let email = v.email("NEWSDESK_ADMIN_EMAIL", email);
    if let Err(m) = crate::auth::password::check_strength(password) {
        v.add("NEWSDESK_ADMIN_PASSWORD", m);
    }
    v.finish()
        .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
    let password_hash = crate::auth::password::hash(password)?;
    let name = email.split('@').next().unwrap_or("admin").to_string();
    let input = AccountInput {
        email: email.clone(),
        name,
        role: Role::Admin.as_str().into(),
        bio: None,
        avatar_url: None,
        password_hash,
    };
    users::create_account(&mut conn, input)?;
    tracing::info!(%email, "created the first admin from NEWSDESK_ADMIN_EMAIL");
    Ok(())
}

fn cors(config: &Config) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT,
        ])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-total-count"),
        ])
        .max_age(86400);
    match &config.cors_origins {
        None => cors.send_wildcard().allow_any_origin(),
        Some(origins) => origins.iter().fold(cors, |c, o| c.allowed_origin(o)),
    }
}

/// One line per request: method, route, status, latency.
async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let elapsed = start.elapsed();
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        // The route pattern, not the path, so ids do not explode the label set.
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let status = res.status().as_u16().to_string();
        state
            .metrics
            .requests
            .with_label_values(&[method.as_str(), &route, &status])
            .inc();
        state
            .metrics
            .latency
            .with_label_values(&[method.as_str(), &route])
            .observe(elapsed.as_secs_f64());
    }
    tracing::info!(
        target: "newsdesk::http",
        %method,
        path,
        status = res.status().as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    Ok(res)
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// The private listener: `/metrics` only, one worker.
fn serve_metrics(state: web::Data<AppState>, listener: TcpListener) -> anyhow::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(
                "/metrics",
                web::get().to(crate::ops::routes::private_metrics),
            )
            .default_service(web::to(|| async {
                crate::error::ApiError::not_found("only /metrics is served here").error_response()
            }))
            .wrap(from_fn(security::middleware))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The document as served at `/api/openapi.json`: exactly `openapi_json()`.
struct OpenApiDocument(String);

async fn openapi_document(doc: web::Data<OpenApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

const OPENAPI_PATH: &str = "/api/openapi.json";
const DOCS_PATTERN: &str = "/docs/{_:.*}";

fn serve(state: web::Data<AppState>, listener: TcpListener) -> anyhow::Result<Server> {
    let config = state.config.clone();
    let table = web::Data::new(
        RouteTable::from_openapi(&openapi())
            .with_get(OPENAPI_PATH)
            .with_get("/docs")
            .with_get(DOCS_PATTERN),
    );
    let document = web::Data::new(OpenApiDocument(openapi_json()));
    let public_cache = web::Data::new(
        PublicCacheControl::new(config.cache_max_age).until_next_publish(state.schedule.clone()),
    );
    let read_cache: web::Data<ReadCache> = web::Data::from(state.read_cache.clone());
    let limit = config.max_body_bytes;
    let workers = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let blocking_threads = (config.db_pool_size as usize).max(4);
    let server = HttpServer::new(move || {
        let (app, _) = routes(
            App::new()
                .app_data(state.clone())
                .app_data(table.clone())
                .app_data(document.clone())
                .app_data(public_cache.clone())
                .app_data(read_cache.clone())
                .app_data(errors::path_config())
                .app_data(errors::query_config())
                .app_data(errors::payload_config(limit))
                .into_utoipa_app()
                .openapi(ApiDoc::openapi()),
        )
        .split_for_parts();
        app.service(
            SwaggerUi::new(DOCS_PATTERN).config(utoipa_swagger_ui::Config::from(OPENAPI_PATH)),
        )
        .route(OPENAPI_PATH, web::get().to(openapi_document))
        .route("/docs", web::get().to(docs_redirect))
        .default_service(web::to(errors::fallback))
        .wrap(from_fn(errors::head_as_get))
        .wrap(from_fn(caching::middleware))
        .wrap(from_fn(read_cache::middleware))
        // Before the read cache: a cached answer never reaches a bad key.
        .wrap(from_fn(crate::integrations::keys::middleware))
        .wrap(from_fn(access_log))
        .wrap(cors(&config))
        .wrap(from_fn(errors::problem_for_every_error))
        .wrap(from_fn(security::middleware))
    })
    .workers(workers)
    // Blocking tasks mostly wait for a pooled connection; more threads than
    // connections only add memory (a malloc arena each), not throughput.
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}
