//! The `newsdesk` binary: `migrate`, `user create`, `serve` (defaults, the
//! generated secret, graceful stop on SIGTERM), `openapi`, and configuration
//! errors. Each test runs the real binary in its own empty folder.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::{Value, json};

use crate::helpers::{PG_ENV, TEST_SECRET, free_port, postgres_available};

const BIN: &str = env!("CARGO_BIN_EXE_newsdesk");
const ADMIN_PASSWORD: &str = "cli admin passphrase";

/// `newsdesk` with a clean environment (no NEWSDESK_* leaking in from the
/// test runner), run in `dir`.
fn newsdesk(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("NEWSDESK_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    newsdesk(dir, args, env).output().expect("run newsdesk")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `newsdesk serve`, killed when dropped (even when a test fails).
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let log = dir.join("server.log");
        // Tests run in parallel: the private metrics listener on a free port.
        let mut vars: Vec<(&str, &str)> = vec![
            ("NEWSDESK_BIND", &bind),
            ("NEWSDESK_METRICS_BIND", "127.0.0.1:0"),
        ];
        vars.extend_from_slice(env);
        let child = newsdesk(dir, &["serve"], &vars)
            .stdout(Stdio::from(
                std::fs::File::create(dir.join("server.out")).unwrap(),
            ))
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("spawn newsdesk serve");
        let mut server = Server { child, port, log };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = http(self.port, "GET", "/healthz", None) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited early with {status}: {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not become healthy: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM")
    }

    /// Sends a signal (`-TERM`, `-INT`) and waits for the exit.
    fn signal(&mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop on {signal}: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal blocking HTTP/1.1 client: status and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad response: {response}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn login(port: u16, email: &str, password: &str) -> (u16, Value) {
    let (status, body) = http(
        port,
        "POST",
        "/api/v1/auth/login",
        Some(&json!({"email": email, "password": password})),
    )
    .unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["migrate"],
        &[("NEWSDESK_DATABASE_URL", "sqlite://store/news.db")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("migrations applied"));
    let db = dir.path().join("store/news.db");
    assert!(db.is_file());
    // The schema is there.
    let mut conn = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    conn.batch_execute("SELECT id, email FROM users; SELECT id FROM articles;")
        .unwrap();
    // Running it again is a no-op.
    let out = run(
        dir.path(),
        &["migrate"],
        &[("NEWSDESK_DATABASE_URL", "sqlite://store/news.db")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn user_create_makes_an_account_that_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = [("NEWSDESK_DATABASE_URL", "sqlite://news.db")];
    let out = run(
        dir.path(),
        &[
            "user", "create", "--email", "A@B.co", "--name", "A", "--role", "admin",
        ],
        &[db[0], ("NEWSDESK_PASSWORD", ADMIN_PASSWORD)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("a@b.co") && stdout.contains("admin"),
        "{stdout}"
    );

    // The same email again is refused.
    let out = run(
        dir.path(),
        &[
            "user", "create", "--email", "a@b.co", "--name", "Again", "--role", "reader",
        ],
        &[db[0], ("NEWSDESK_PASSWORD", ADMIN_PASSWORD)],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    // Invalid input is refused before anything is written.
    for (args, needle) in [
        (vec!["--email", "nope", "--name", "N"], "email"),
        (
            vec!["--email", "n@b.co", "--name", "N", "--role", "owner"],
            "role",
        ),
    ] {
        let mut all = vec!["user", "create"];
        all.extend(args);
        let out = run(
            dir.path(),
            &all,
            &[db[0], ("NEWSDESK_PASSWORD", ADMIN_PASSWORD)],
        );
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
    }
    let out = run(
        dir.path(),
        &["user", "create", "--email", "short@b.co", "--name", "S"],
        &[db[0], ("NEWSDESK_PASSWORD", "short")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("password"),
        "{}",
        text(&out.stderr)
    );

    let mut server = Server::start(dir.path(), &db);
    let (status, body) = login(server.port, "a@b.co", ADMIN_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["name"], "A");
    let (status, _) = login(server.port, "n@b.co", ADMIN_PASSWORD);
    assert_eq!(status, 401);
    let (status, _) = login(server.port, "short@b.co", "short");
    assert_eq!(status, 401);
    // Ctrl-C stops it gracefully too.
    assert_eq!(
        server.signal("-INT").code(),
        Some(0),
        "{}",
        server.log_text()
    );
}

#[test]
fn dotenv_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "# local settings\nNEWSDESK_DATABASE_URL=sqlite://from-dotenv.db\n",
    )
    .unwrap();
    let out = run(dir.path(), &["migrate"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("from-dotenv.db").is_file());

    let out = run(
        dir.path(),
        &["migrate"],
        &[("NEWSDESK_DATABASE_URL", "sqlite://from-env.db")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("from-env.db").is_file());

    std::fs::write(dir.path().join(".env"), "NEWSDESK_BIND=nowhere\n").unwrap();
    let out = run(dir.path(), &["migrate"], &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("NEWSDESK_BIND"), "{stderr}");
}

#[test]
fn a_bad_first_admin_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = ("NEWSDESK_DATABASE_URL", "sqlite://news.db");
    for (env, var) in [
        (
            vec![db, ("NEWSDESK_ADMIN_EMAIL", "boss@example.com")],
            "NEWSDESK_ADMIN_PASSWORD",
        ),
        (
            vec![
                db,
                ("NEWSDESK_ADMIN_EMAIL", "not an email"),
                ("NEWSDESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ],
            "NEWSDESK_ADMIN_EMAIL",
        ),
        (
            vec![
                db,
                ("NEWSDESK_ADMIN_EMAIL", "boss@example.com"),
                ("NEWSDESK_ADMIN_PASSWORD", "short"),
            ],
            "NEWSDESK_ADMIN_PASSWORD",
        ),
    ] {
        let out = run(dir.path(), &["serve"], &env);
        assert!(!out.status.success(), "{env:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(var), "{stderr}");
    }
    // A good one is made once and signs in.
    let env = [
        db,
        ("NEWSDESK_ADMIN_EMAIL", "Boss@Example.com"),
        ("NEWSDESK_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ];
    let mut server = Server::start(dir.path(), &env);
    let (status, body) = login(server.port, "boss@example.com", ADMIN_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(server.terminate().code(), Some(0));
}

#[test]
fn invalid_configuration_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("NEWSDESK_BIND", "nowhere"),
        ("NEWSDESK_DATABASE_URL", "mysql://localhost/news"),
        ("NEWSDESK_ACCESS_TTL", "soon"),
        ("NEWSDESK_REGISTRATION", "maybe"),
        ("NEWSDESK_JWT_SECRET", "too short"),
        ("NEWSDESK_CACHE_MAX_AGE", "-1"),
        ("NEWSDESK_CORS_ORIGINS", "a.example"),
    ] {
        for args in [&["serve"][..], &["migrate"][..], &[][..]] {
            let out = run(dir.path(), args, &[(var, value)]);
            assert!(!out.status.success(), "{var}={value} {args:?}");
            assert_eq!(out.status.code(), Some(1));
            let stderr = text(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
            assert!(stderr.contains(var), "{stderr}");
            assert!(out.stdout.is_empty());
        }
    }
    // Nothing was created on the way out.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn serve_fails_cleanly_when_the_port_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let out = run(
        dir.path(),
        &["serve"],
        &[
            ("NEWSDESK_BIND", &bind),
            ("NEWSDESK_DATABASE_URL", "sqlite://news.db"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&bind), "{stderr}");
}

#[test]
fn serve_defaults_to_sqlite_in_data_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let data = dir.path().join("data");
    assert!(data.join("newsdesk.db").is_file());
    let secret = data.join("jwt_secret");
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    assert!(secret_text.trim().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let (status, body) = http(server.port, "GET", "/readyz", None).unwrap();
    assert_eq!(status, 200, "{body}");
    // Registration is open by default, and the account persists a restart.
    let (status, body) = http(
        server.port,
        "POST",
        "/api/v1/auth/register",
        Some(&json!({"email": "first@example.com", "password": ADMIN_PASSWORD, "name": "First"})),
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let (status, pair) = login(server.port, "first@example.com", ADMIN_PASSWORD);
    assert_eq!(status, 200);

    let exit = server.terminate();
    assert_eq!(exit.code(), Some(0), "{}", server.log_text());

    // A restart keeps the secret, so earlier tokens stay valid.
    let server = Server::start(dir.path(), &[]);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), secret_text);
    let refresh = http(
        server.port,
        "POST",
        "/api/v1/auth/refresh",
        Some(&json!({"refresh_token": pair["refresh_token"]})),
    )
    .unwrap();
    assert_eq!(refresh.0, 200, "{}", refresh.1);
}

#[test]
fn openapi_prints_the_committed_document() {
    let dir = tempfile::tempdir().unwrap();
    // No configuration needed, even an invalid one is not read.
    let out = run(dir.path(), &["openapi"], &[("NEWSDESK_BIND", "nowhere")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(text(&out.stdout), committed);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A PostgreSQL schema of its own, dropped at the end.
struct PgSchema {
    base: String,
    name: String,
    url: String,
}

impl PgSchema {
    fn new() -> PgSchema {
        let base = std::env::var(PG_ENV).unwrap();
        let name = format!("t_cli_{}_{}", std::process::id(), rand::random::<u32>());
        let mut conn = PgConnection::establish(&base).unwrap();
        conn.batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}");
        PgSchema { base, name, url }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.base) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

#[test]
fn postgres_migrate_user_create_serve_and_stop() {
    if !postgres_available() {
        return;
    }
    let schema = PgSchema::new();
    let dir = tempfile::tempdir().unwrap();

    // PostgreSQL needs an explicit secret.
    let out = run(
        dir.path(),
        &["migrate"],
        &[("NEWSDESK_DATABASE_URL", &schema.url)],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("NEWSDESK_JWT_SECRET"), "{stderr}");

    let env = [
        ("NEWSDESK_DATABASE_URL", schema.url.as_str()),
        ("NEWSDESK_JWT_SECRET", TEST_SECRET),
    ];
    let out = run(dir.path(), &["migrate"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut conn = PgConnection::establish(&schema.url).unwrap();
    conn.batch_execute("SELECT id FROM users").unwrap();

    let mut with_password = env.to_vec();
    with_password.push(("NEWSDESK_PASSWORD", ADMIN_PASSWORD));
    let out = run(
        dir.path(),
        &[
            "user", "create", "--email", "pg@b.co", "--name", "Pg Admin", "--role", "admin",
        ],
        &with_password,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut server = Server::start(dir.path(), &env);
    let (status, body) = login(server.port, "pg@b.co", ADMIN_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["slug"], "pg-admin");
    assert_eq!(server.terminate().code(), Some(0), "{}", server.log_text());
    // Nothing was written to the working folder.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "server.log" && n != "server.out")
        .collect();
    assert!(files.is_empty(), "{files:?}");
}
