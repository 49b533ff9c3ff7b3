//! The test harness: every test gets the real application on a free port
//! with its own database (a temp SQLite file, or a fresh PostgreSQL schema
//! when `NEWSDESK_TEST_POSTGRES_URL` is set), and an HTTP client.
//!
//! Write a test once with `db_test!` and it runs on both backends.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::dev::ServerHandle;
use actix_web::http::header::HeaderMap;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use newsdesk::auth::Role;
use newsdesk::config::Config;
use newsdesk::db::Backend;
use newsdesk::startup::Application;
use newsdesk::state::AppState;
use serde_json::Value;

pub const PG_ENV: &str = "NEWSDESK_TEST_POSTGRES_URL";
/// Set by CI: a PostgreSQL test may not skip.
pub const PG_REQUIRED_ENV: &str = "NEWSDESK_TEST_REQUIRE_POSTGRES";

/// Defines `mod $name { sqlite, postgres }`, both running `$body` with
/// `$backend` bound to their backend.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$backend:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                let $backend = newsdesk::db::Backend::Sqlite;
                $body
            }

            #[actix_web::test]
            async fn postgres() {
                if !$crate::helpers::postgres_available() {
                    return;
                }
                let $backend = newsdesk::db::Backend::Postgres;
                $body
            }
        }
    };
}

pub fn postgres_available() -> bool {
    match std::env::var(PG_ENV) {
        Ok(url) if !url.is_empty() => true,
        _ => {
            assert!(
                std::env::var(PG_REQUIRED_ENV).is_err(),
                "{PG_REQUIRED_ENV} is set but {PG_ENV} is not: PostgreSQL tests may not be skipped"
            );
            eprintln!("skipping PostgreSQL variant: {PG_ENV} is not set");
            false
        }
    }
}

/// A per-test database that is removed when the test ends.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres {
        base_url: String,
        schema: String,
    },
    /// Another app's database: that app removes it.
    Shared,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { base_url, schema } = self
            && let Ok(mut conn) = PgConnection::establish(base_url)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("t_{}_{}_{}", std::process::id(), n, rand::random::<u32>())
}

/// A fresh, empty database (not migrated) and its URL; removed on drop.
pub fn new_database(backend: Backend) -> (TestDb, String) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}/newsdesk.db", dir.path().display());
            (TestDb::Sqlite(dir), url)
        }
        Backend::Postgres => {
            let base_url = std::env::var(PG_ENV).expect("postgres url");
            let schema = unique_name();
            let mut conn =
                PgConnection::establish(&base_url).expect("connect to the test PostgreSQL");
            conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("create schema");
            let sep = if base_url.contains('?') { '&' } else { '?' };
            let url = format!("{base_url}{sep}options=-csearch_path%3D{schema}");
            (TestDb::Postgres { base_url, schema }, url)
        }
    }
}

pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    /// `http://127.0.0.1:PORT` of the private metrics listener, if any.
    pub metrics_address: Option<String>,
    pub state: actix_web::web::Data<AppState>,
    pub db_url: String,
    client: awc::Client,
    handle: ServerHandle,
    server: Option<std::thread::JoinHandle<()>>,
    /// Becomes true once `run_until_stopped` (final flushes included) returned.
    stopped: tokio::sync::watch::Receiver<bool>,
    /// Where this test's media files are kept (removed with the test).
    pub media_dir: std::path::PathBuf,
    _media: tempfile::TempDir,
    _db: TestDb,
}

/// Stops the server when a test ends, passed or failed: otherwise its worker
/// threads (and their database connections) outlive the test, and a long
/// run exhausts PostgreSQL's `max_connections`.
impl Drop for TestApp {
    fn drop(&mut self) {
        // The command is sent at once; the returned future only waits.
        drop(self.handle.stop(false));
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

/// A response, fully read.
pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status,
            expected,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    #[track_caller]
    pub fn assert_problem(&self, expected: u16) -> Value {
        self.assert_status(expected);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problem content type"
        );
        let body = self.json();
        assert_eq!(body["status"], expected);
        assert!(
            body["type"]
                .as_str()
                .unwrap_or_default()
                .starts_with("https://newsdesk.dev/problems/")
        );
        assert!(body["title"].is_string());
        assert!(body["detail"].is_string());
        body
    }
}

pub fn base_vars(db_url: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    vars.insert("NEWSDESK_DATABASE_URL".into(), db_url.to_string());
    vars.insert("NEWSDESK_BIND".into(), "127.0.0.1:0".into());
    vars.insert(
        "NEWSDESK_JWT_SECRET".into(),
        "test-secret-test-secret-test-secret-0123".into(),
    );
    vars.insert("NEWSDESK_WORKERS".into(), "1".into());
    vars.insert("NEWSDESK_DB_POOL_SIZE".into(), "4".into());
    vars.insert("NEWSDESK_VIEW_FLUSH_MS".into(), "100".into());
    vars.insert("NEWSDESK_LOG".into(), "warn".into());
    // Many apps run at once: each private metrics listener on a free port.
    vars.insert("NEWSDESK_METRICS_BIND".into(), "127.0.0.1:0".into());
    // The view tests count many beacons from one client; de-duplication
    // has tests of its own.
    vars.insert("NEWSDESK_VIEW_DEDUP_WINDOW".into(), "0".into());
    // Likewise every request of a test comes from one address and a few
    // users: rate limits are off unless a test (security.rs) sets them.
    for var in [
        "NEWSDESK_RATE_LOGIN",
        "NEWSDESK_RATE_REGISTER",
        "NEWSDESK_RATE_REFRESH",
        "NEWSDESK_RATE_PASSWORD",
        "NEWSDESK_RATE_COMMENTS",
        "NEWSDESK_RATE_VIEWS",
    ] {
        vars.insert(var.into(), "off".into());
    }
    // Tests that poke the database directly must not see cached reads; the
    // read cache has tests of its own. Override to run everything with it.
    let read_cache = std::env::var("NEWSDESK_TEST_READ_CACHE_MS").unwrap_or_else(|_| "0".into());
    vars.insert("NEWSDESK_READ_CACHE_MS".into(), read_cache);
    vars
}

pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A hash of `DEFAULT_PASSWORD`, computed once, for users made directly.
pub const DEFAULT_PASSWORD: &str = "correct horse battery";
static DEFAULT_HASH: LazyLock<String> =
    LazyLock::new(|| newsdesk::auth::password::hash(DEFAULT_PASSWORD).expect("hash"));

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    /// Spawns with extra configuration variables (overriding the defaults).
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
        let (db, db_url) = new_database(backend);
        Self::start(backend, db, db_url, extra).await
    }

    /// A second instance on this app's database (as behind a load
    /// balancer), or a restart of it once this one stopped. The database
    /// stays as long as this app (its owner) lives.
    pub async fn spawn_sharing(&self, extra: &[(&str, &str)]) -> TestApp {
        Self::start(self.backend, TestDb::Shared, self.db_url.clone(), extra).await
    }

    async fn start(
        backend: Backend,
        db: TestDb,
        db_url: String,
        extra: &[(&str, &str)],
    ) -> TestApp {
        let mut vars = base_vars(&db_url);
        let media = tempfile::tempdir().expect("media tempdir");
        let media_dir = media.path().to_path_buf();
        vars.insert("NEWSDESK_MEDIA_DIR".into(), media_dir.display().to_string());
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_map(&vars).expect("test configuration");
        // The server runs in its own actix system on its own thread, so that
        // it can still be stopped while a failing test unwinds.
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, stopped) = tokio::sync::watch::channel(false);
        let server = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(config)
                    .await
                    .expect("application starts");
                let _ = tx.send((app.port(), app.metrics_port(), app.state(), app.handle()));
                let _ = app.run_until_stopped().await;
                let _ = done_tx.send(true);
            })
        });
        let (port, metrics_port, state, handle) = rx.recv().expect("application starts");
        let address = format!("http://127.0.0.1:{port}");
        let metrics_address = metrics_port.map(|p| format!("http://127.0.0.1:{p}"));
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .disable_redirects()
            .finish();
        TestApp {
            backend,
            address,
            metrics_address,
            state,
            db_url,
            client,
            handle,
            server: Some(server),
            stopped,
            media_dir,
            _media: media,
            _db: db,
        }
    }

    /// Stops the server gracefully (as SIGTERM would) and waits for it.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
        let mut stopped = self.stopped.clone();
        let _ = stopped.wait_for(|done| *done).await;
    }

    /// `GET /metrics` on the private metrics listener.
    pub async fn metrics(&self) -> Res {
        let base = self.metrics_address.as_deref().expect("a metrics listener");
        let mut res = self
            .client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("request succeeds");
        let body = res.body().await.expect("body").to_vec();
        Res {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Sends a request: `body` as JSON when given, `token` as Bearer.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("request succeeds");
        let body = res
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        Res {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body,
        }
    }

    /// Sends raw bytes with the given content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Res {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, self.url(path))
            .insert_header(("Content-Type", content_type));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut res = req.send_body(body).await.expect("request succeeds");
        let body = res
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        Res {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body,
        }
    }

    /// Sends a `multipart/form-data` body: text fields, then files as
    /// `(field, file name, declared type, bytes)`.
    pub async fn multipart(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Res {
        let boundary = "----newsdesk-test-boundary-7MA4YWxkTrZu0gW";
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, filename, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.raw(
            "POST",
            path,
            token,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Res {
        self.request("GET", path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Res {
        self.request("POST", path, token, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Res {
        self.request("PATCH", path, token, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Res {
        self.request("DELETE", path, token, None, &[]).await
    }

    /// Makes a user directly in the database (fast: the password hash is
    /// computed once per test binary) and returns `(id, access_token)`.
    /// The password is `DEFAULT_PASSWORD`.
    pub async fn user(&self, role: Role) -> (i64, String) {
        let name = format!("{} {}", role.as_str(), unique_name());
        self.user_named(role, &name).await
    }

    pub async fn user_named(&self, role: Role, name: &str) -> (i64, String) {
        let email = format!("{}@example.com", unique_name());
        let input = newsdesk::users::queries::AccountInput {
            email,
            name: name.to_string(),
            role: role.as_str().into(),
            bio: None,
            avatar_url: None,
            password_hash: DEFAULT_HASH.clone(),
        };
        let row = self
            .state
            .db
            .write(move |conn| Ok(newsdesk::users::queries::create_account(conn, input)?))
            .await
            .expect("create user");
        let token = self.state.jwt.issue(row.id, role).expect("token");
        (row.id, token)
    }

    /// A synchronous connection to this test's database, to check what was stored.
    pub fn conn(&self) -> newsdesk::db::PooledConn {
        self.state.db.conn().expect("connection")
    }
}

/// A `newsdesk serve` child process, killed if a test fails before it stops.
pub struct Served {
    pub child: std::process::Child,
    pub url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port with nothing listening on it (for now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Served {
    /// Starts the real binary on `db_url` (working in `dir`) with `env`
    /// added to a quiet test configuration, without waiting.
    pub fn start(db_url: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Served {
        let port = free_port();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_newsdesk"));
        cmd.arg("serve")
            .env_clear()
            .current_dir(dir)
            .env("NEWSDESK_DATABASE_URL", db_url)
            .env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
            .env("NEWSDESK_JWT_SECRET", TEST_SECRET)
            .env("NEWSDESK_WORKERS", "2")
            .env("NEWSDESK_DB_POOL_SIZE", "4")
            .env("NEWSDESK_LOG", "warn")
            // Every request of a test comes from one client.
            .env("NEWSDESK_VIEW_DEDUP_WINDOW", "0")
            .env("NEWSDESK_RATE_VIEWS", "off")
            .env("NEWSDESK_RATE_LOGIN", "off")
            .env("NEWSDESK_METRICS_BIND", "127.0.0.1:0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start newsdesk");
        Served {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits until `/healthz` answers (at most a minute).
    pub async fn ready(mut self) -> Served {
        let client = awc::Client::default();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("newsdesk exited during start-up: {status}");
            }
            if let Ok(res) = client.get(format!("{}/healthz", self.url)).send().await
                && res.status().as_u16() == 200
            {
                return self;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "newsdesk did not start"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Sends a signal (`TERM`, `KILL`) and waits for the process to exit.
    pub async fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "newsdesk did not stop"
            );
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
