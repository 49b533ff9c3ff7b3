//! Several instances on one PostgreSQL (PostgreSQL only: SQLite serves one
//! instance). What one instance's write makes stale is forgotten by the
//! others at once (`LISTEN/NOTIFY`), even with caches that would otherwise
//! keep it for a minute; instances that start together migrate once;
//! anonymous reads go to a read replica when one is configured and healthy;
//! a scheduled story is announced once.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use futures_util::future::join_all;
use newsdesk::auth::Role;
use newsdesk::db::{Backend, DbConnection};
use serde_json::{Value, json};

use crate::helpers::{DEFAULT_PASSWORD, Served, TestApp, new_database, postgres_available};
use crate::views::{stored_counts, visible_article};

/// Caches that would keep stale answers for a minute: only an
/// announcement can make another instance forget in time.
const LONG_CACHES: [(&str, &str); 2] = [
    ("NEWSDESK_READ_CACHE_MS", "60000"),
    ("NEWSDESK_AUTH_CACHE_MS", "60000"),
];

/// How soon another instance must have forgotten.
const AT_ONCE: Duration = Duration::from_millis(200);

/// Polls `status_of` until it answers `want`; the time it took.
async fn until_status<F, Fut>(want: u16, mut status_of: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let start = Instant::now();
    loop {
        let got = status_of().await;
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still {got}, not {want}, after 10 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One HTTP call to a spawned instance: `(status, JSON body or Null)`.
async fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = match body {
        Some(b) => req.send_json(b).await,
        None => req.send().await,
    }
    .unwrap();
    let bytes = res.body().limit(16 << 20).await.unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (res.status().as_u16(), json)
}

async fn sign_in(base: &str, email: &str) -> String {
    let (status, body) = call(
        base,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"email": email, "password": DEFAULT_PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn publish(base: &str, token: &str, title: &str) -> i64 {
    let (status, body) = call(
        base,
        "POST",
        "/api/v1/articles",
        Some(token),
        Some(&json!({"title": title, "body": "Text.", "status": "published"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

async fn beacons(base: &str, article: i64, n: usize) {
    let client = awc::Client::default();
    let url = format!("{base}/api/v1/articles/{article}/views");
    for res in join_all((0..n).map(|_| client.post(&url).send())).await {
        assert_eq!(res.unwrap().status().as_u16(), 202);
    }
}

fn views_of(conn: &mut DbConnection, id: i64) -> i64 {
    stored_counts(conn, id).0
}

async fn until_views(url: &str, id: i64, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = DbConnection::establish(url).unwrap();
    loop {
        let got = views_of(&mut conn, id);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{got} views stored, not {want}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Three real processes started together on an empty schema, hit round
/// robin: one migrates and makes the admin while the others wait; views
/// add up exactly; an unpublished story and a demoted editor are gone
/// from the other two at once; a killed instance loses at most one flush
/// interval of its views and nothing else.
#[actix_web::test]
async fn three_instances_on_one_postgres_agree() {
    if !postgres_available() {
        return;
    }
    let (_db, url) = new_database(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("NEWSDESK_ADMIN_EMAIL", "admin@example.com"),
        ("NEWSDESK_ADMIN_PASSWORD", DEFAULT_PASSWORD),
        ("NEWSDESK_VIEW_FLUSH_MS", "200"),
    ];
    env.extend(LONG_CACHES);
    let starting: Vec<Served> = (0..3)
        .map(|_| Served::start(&url, dir.path(), &env))
        .collect();
    let nodes: Vec<Served> = join_all(starting.into_iter().map(Served::ready)).await;
    let base: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();

    let mut conn = DbConnection::establish(&url).unwrap();
    let users: i64 = newsdesk::db::schema::users::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(users, 1, "one first admin, however many instances start");

    let admin = sign_in(&base[1], "admin@example.com").await;
    let story = publish(&base[0], &admin, "Shared story").await;
    let other = publish(&base[2], &admin, "Another story").await;

    // Views sent to all three add up exactly.
    for (i, b) in base.iter().enumerate() {
        beacons(b, story, 100 + i).await;
    }
    until_views(&url, story, 303).await;

    // Every instance caches the story for a minute ...
    for b in &base {
        let (status, _) = call(b, "GET", &format!("/api/v1/articles/{story}"), None, None).await;
        assert_eq!(status, 200);
    }
    // ... and still forgets it at once when another unpublishes it.
    let (status, body) = call(
        &base[0],
        "PATCH",
        &format!("/api/v1/articles/{story}"),
        Some(&admin),
        Some(&json!({"status": "draft"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for b in &base[1..] {
        let path = format!("/api/v1/articles/{story}");
        let took = until_status(404, || async { call(b, "GET", &path, None, None).await.0 }).await;
        assert!(took < AT_ONCE, "unpublished story served for {took:?} more");
    }

    // A demoted editor is refused by all three at once.
    let (status, body) = call(
        &base[0],
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some(
            &json!({"email": "ed@example.com", "password": DEFAULT_PASSWORD,
                     "name": "Ed", "role": "editor"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let editor_id = body["id"].as_i64().unwrap();
    let editor = sign_in(&base[2], "ed@example.com").await;
    for b in &base {
        let (status, _) = call(b, "GET", "/api/v1/comments", Some(&editor), None).await;
        assert_eq!(status, 200);
    }
    let (status, body) = call(
        &base[1],
        "PATCH",
        &format!("/api/v1/users/{editor_id}"),
        Some(&admin),
        Some(&json!({"role": "author"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for b in &base {
        let took = until_status(403, || async {
            call(b, "GET", "/api/v1/comments", Some(&editor), None)
                .await
                .0
        })
        .await;
        assert!(took < AT_ONCE, "demoted editor kept rights for {took:?}");
    }

    // A scheduled story goes live once, announced by one instance only.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (status, body) = call(
        &base[1],
        "POST",
        "/api/v1/articles",
        Some(&admin),
        Some(&json!({"title": "At noon", "body": "x", "status": "published", "published_at": at})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let noon = body["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{noon}");
    assert_eq!(call(&base[2], "GET", &path, None, None).await.0, 404);
    until_status(200, || async {
        call(&base[2], "GET", &path, None, None).await.0
    })
    .await;
    // Every scheduler has had its look by now.
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let announced: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT count(*) FROM (SELECT type, subject FROM events UNION ALL \
         SELECT type, subject FROM event_outbox) e \
         WHERE type = 'article.published' AND subject = 'article:{noon}')"
    )))
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(announced, 1, "article.published recorded {announced} times");

    // SIGKILL loses at most the views of the last flush interval.
    let mut nodes = nodes;
    let victim = nodes.pop().unwrap();
    beacons(&victim.url, other, 50).await;
    actix_web::rt::time::sleep(Duration::from_millis(700)).await;
    beacons(&victim.url, other, 20).await;
    let status = victim.signal("KILL").await;
    assert!(!status.success());
    let stored = views_of(&mut conn, other);
    assert!(
        (50..=70).contains(&stored),
        "{stored} views stored of 70 sent"
    );
    // The others go on serving and agreeing.
    beacons(&base[0], other, 10).await;
    until_views(&url, other, stored + 10).await;
    let (status, _) = call(
        &base[1],
        "GET",
        &format!("/api/v1/articles/{other}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    for node in nodes {
        assert_eq!(node.signal("TERM").await.code(), Some(0));
    }
}

/// In process: an instance whose listening connection is cut reconnects,
/// counts it, and hears announcements again.
#[actix_web::test]
async fn a_lost_listener_reconnects_and_is_counted() {
    if !postgres_available() {
        return;
    }
    let a = TestApp::spawn(Backend::Postgres).await;
    let b = a.spawn_sharing(&LONG_CACHES).await;
    let id = visible_article(&a).await;
    let (_, editor) = a.user(Role::Editor).await;
    let path = format!("/api/v1/articles/{id}");
    b.get(&path, None).await.assert_status(200);

    // Cut every listening connection of this schema's channel.
    let channel = newsdesk::cluster::channel_of_url(&a.db_url).unwrap();
    let mut admin =
        diesel::PgConnection::establish(&std::env::var(crate::helpers::PG_ENV).unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cut: Vec<bool> = diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity \
             WHERE application_name = '{channel}'"
        ))
        .load::<Cut>(&mut admin)
        .unwrap()
        .into_iter()
        .map(|c| c.cut)
        .collect();
        if cut.len() >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no listeners found for {channel}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // B notices, reconnects and counts it.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = b.metrics().await;
        let text = String::from_utf8_lossy(&metrics.body).to_string();
        if text.contains("newsdesk_cluster_listener_reconnects_total 1")
            && text.contains("newsdesk_cluster_listener_up 1")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no reconnect counted:\n{text}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // And hears announcements again.
    b.get(&path, None).await.assert_status(200);
    a.patch(&path, Some(&editor), &json!({"status": "draft"}))
        .await
        .assert_status(200);
    let took = until_status(404, || async { b.get(&path, None).await.status }).await;
    assert!(took < AT_ONCE, "{took:?}");
}

#[derive(QueryableByName)]
struct Cut {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    cut: bool,
}

/// Anonymous reads come from the replica, signed-in reads from the
/// primary; a replica that is down is skipped.
#[actix_web::test]
async fn anonymous_reads_use_a_healthy_replica() {
    if !postgres_available() {
        return;
    }
    // The "replica" is another schema with content of its own, so the test
    // can tell where an answer came from.
    let replica = TestApp::spawn(Backend::Postgres).await;
    let (_, author) = replica.user(Role::Author).await;
    replica
        .post(
            "/api/v1/articles",
            Some(&author),
            &json!({"title": "Only on the replica", "body": "x", "status": "published"}),
        )
        .await
        .assert_status(201);
    let primary = TestApp::spawn_with(
        Backend::Postgres,
        &[("NEWSDESK_DATABASE_READ_URL", &replica.db_url)],
    )
    .await;
    let (_, editor) = primary.user(Role::Editor).await;
    primary
        .post(
            "/api/v1/articles",
            Some(&editor),
            &json!({"title": "Only on the primary", "body": "x", "status": "published"}),
        )
        .await
        .assert_status(201);
    let titles = |res: crate::helpers::Res| -> Vec<String> {
        res.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_string())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let anonymous = titles(primary.get("/api/v1/articles", None).await);
        if anonymous == ["Only on the replica"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "anonymous reads never reached the replica: {anonymous:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // A signed-in user reads the primary: their own write is there.
    assert_eq!(
        titles(primary.get("/api/v1/articles", Some(&editor)).await),
        ["Only on the primary"]
    );

    // A replica that does not answer is skipped (and reported).
    let down = TestApp::spawn_with(
        Backend::Postgres,
        &[(
            "NEWSDESK_DATABASE_READ_URL",
            "postgres://postgres@127.0.0.1:1/test",
        )],
    )
    .await;
    let (_, editor) = down.user(Role::Editor).await;
    down.post(
        "/api/v1/articles",
        Some(&editor),
        &json!({"title": "Served by the primary", "body": "x", "status": "published"}),
    )
    .await
    .assert_status(201);
    let res = down.get("/api/v1/articles", None).await;
    res.assert_status(200);
    assert_eq!(titles(res), ["Served by the primary"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = String::from_utf8_lossy(&down.metrics().await.body).to_string();
        if metrics.contains("newsdesk_db_replica_up{replica=\"0\"} 0") {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Running the schema setup by hand shows the lock is what serialises:
/// a second migration while one holds the lock waits for it.
#[actix_web::test]
async fn starting_instances_take_turns_to_migrate() {
    if !postgres_available() {
        return;
    }
    let (_db, url) = new_database(Backend::Postgres);
    let mut holder = diesel::PgConnection::establish(&url).unwrap();
    holder
        .batch_execute(&format!(
            "SELECT pg_advisory_lock({})",
            newsdesk::db::ClusterLock::Migrate as i64
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut waiting = Served::start(&url, dir.path(), &[]);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    // Still waiting for the lock: not serving, nothing migrated.
    assert!(waiting.child.try_wait().unwrap().is_none());
    let tables: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'articles')",
    ))
    .get_result(&mut holder)
    .unwrap();
    assert_eq!(tables, 0);
    holder
        .batch_execute(&format!(
            "SELECT pg_advisory_unlock({})",
            newsdesk::db::ClusterLock::Migrate as i64
        ))
        .unwrap();
    let served = waiting.ready().await;
    assert_eq!(served.signal("TERM").await.code(), Some(0));
}
