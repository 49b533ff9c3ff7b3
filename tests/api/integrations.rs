//! Integrations and content API keys: admins create (the key shown once,
//! stored hashed) and revoke them; a key reads the public content API in
//! `Authorization` or `?key=`, with its own rate limit and its scopes; a
//! bad, unknown or revoked key is a 401, never anonymous.

use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::integrations;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{Res, TestApp};

pub async fn create_key(app: &TestApp, admin: &str, scopes: &[&str]) -> (i64, String) {
    let res = app
        .post(
            "/api/v1/integrations",
            Some(admin),
            &json!({"name": "Front end", "scopes": scopes}),
        )
        .await;
    res.assert_status(201);
    let body = res.json();
    (
        body["id"].as_i64().unwrap(),
        body["key"].as_str().unwrap().to_string(),
    )
}

pub async fn publish(app: &TestApp, token: &str, title: &str) -> i64 {
    let res = app
        .post(
            "/api/v1/articles",
            Some(token),
            &json!({"title": title, "body": "Some words.", "status": "published", "tags": ["economy"]}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_i64().unwrap()
}

fn count(app: &TestApp) -> i64 {
    integrations::table
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

async fn with_query_key(app: &TestApp, path: &str, key: &str) -> Res {
    let sep = if path.contains('?') { '&' } else { '?' };
    app.get(&format!("{path}{sep}key={key}"), None).await
}

db_test!(
    a_key_is_shown_once_stored_hashed_and_reads_content,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, admin) = app.user(Role::Admin).await;
        let (_, editor) = app.user(Role::Editor).await;
        let id = publish(&app, &editor, "Markets rally").await;

        let res = app
            .post(
                "/api/v1/integrations",
                Some(&admin),
                &json!({"name": "  Next.js site ", "scopes": ["read", "preview", "read"]}),
            )
            .await;
        res.assert_status(201);
        let created = res.json();
        let key = created["key"].as_str().unwrap().to_string();
        let integration = created["id"].as_i64().unwrap();
        assert!(key.starts_with("nd_") && key.len() == 46, "{key}");
        assert_eq!(created["name"], "Next.js site");
        assert_eq!(created["scopes"], json!(["read", "preview"]));
        assert_eq!(created["key_prefix"], key[..11]);
        assert_eq!(created["last_used_at"], Value::Null);
        assert_eq!(
            res.header("location").unwrap(),
            format!("/api/v1/integrations/{integration}")
        );

        // Never shown again: not in the list, not in the one.
        let list = app.get("/api/v1/integrations", Some(&admin)).await;
        list.assert_status(200);
        let list = list.json();
        assert_eq!(list["meta"]["total"], 1);
        assert_eq!(list["data"][0]["key_prefix"], key[..11]);
        assert!(list["data"][0].get("key").is_none());
        let one = app
            .get(&format!("/api/v1/integrations/{integration}"), Some(&admin))
            .await;
        one.assert_status(200);
        assert!(one.json().get("key").is_none());
        assert!(!String::from_utf8_lossy(&one.body).contains(&key));
        // Stored as a hash only.
        let (hash, prefix): (String, String) = integrations::table
            .find(integration)
            .select((integrations::key_hash, integrations::key_prefix))
            .first(&mut app.conn())
            .unwrap();
        assert_eq!(hash, newsdesk::integrations::keys::hash(&key));
        assert_ne!(hash, key);
        assert_eq!(prefix, key[..11]);

        // The key reads what anonymous readers read, in either form.
        let anonymous = app.get(&format!("/api/v1/articles/{id}"), None).await;
        anonymous.assert_status(200);
        let header = app.get(&format!("/api/v1/articles/{id}"), Some(&key)).await;
        header.assert_status(200);
        assert_eq!(header.json()["title"], "Markets rally");
        assert_eq!(header.body, anonymous.body);
        assert_eq!(header.header("etag"), anonymous.header("etag"));
        assert_eq!(
            header.header("cache-control").as_deref(),
            Some("private, max-age=60"),
            "a shared cache must not answer a key's requests"
        );
        assert_eq!(
            header.header("surrogate-key"),
            anonymous.header("surrogate-key")
        );
        let query = with_query_key(&app, &format!("/api/v1/articles/{id}"), &key).await;
        query.assert_status(200);
        assert_eq!(query.body, anonymous.body);
        // `key` is a known parameter of the lists (strict query parsing).
        let list = with_query_key(&app, "/api/v1/articles?per_page=1", &key).await;
        list.assert_status(200);
        assert_eq!(list.json()["data"][0]["id"], id);
        // Pagination links never carry the key.
        for path in [
            "/api/v1/tags",
            "/api/v1/authors",
            "/api/v1/articles/popular",
        ] {
            with_query_key(&app, path, &key).await.assert_status(200);
        }
        let res = with_query_key(&app, "/api/v1/articles?per_page=1", &key).await;
        assert!(!res.header("link").unwrap_or_default().contains("nd_"));
        // A draft stays invisible to a read key.
        let draft = app
            .post(
                "/api/v1/articles",
                Some(&editor),
                &json!({"title": "Secret", "body": "Draft."}),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        app.get(&format!("/api/v1/articles/{draft}"), Some(&key))
            .await
            .assert_problem(404);

        // The last use is recorded (in the background).
        let mut used = None;
        for _ in 0..50 {
            used = integrations::table
                .find(integration)
                .select(integrations::last_used_at)
                .first::<Option<chrono::NaiveDateTime>>(&mut app.conn())
                .unwrap();
            if used.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(used.is_some(), "last_used_at was not written");
        let one = app
            .get(&format!("/api/v1/integrations/{integration}"), Some(&admin))
            .await;
        assert!(one.json()["last_used_at"].is_string());
    }
);

db_test!(a_revoked_key_gets_401_at_once, |backend| {
    // Both caches on: the key lookup cache and the read cache.
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_READ_CACHE_MS", "60000"),
            ("NEWSDESK_AUTH_CACHE_MS", "60000"),
        ],
    )
    .await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    let id = publish(&app, &editor, "Cached story").await;
    let (integration, key) = create_key(&app, &admin, &["read"]).await;
    let path = format!("/api/v1/articles/{id}");
    // Warm both caches.
    for _ in 0..2 {
        app.get(&path, Some(&key)).await.assert_status(200);
        with_query_key(&app, &path, &key).await.assert_status(200);
    }

    app.delete(&format!("/api/v1/integrations/{integration}"), Some(&admin))
        .await
        .assert_status(204);
    let res = app.get(&path, Some(&key)).await;
    let problem = res.assert_problem(401);
    assert!(problem["detail"].as_str().unwrap().contains("key"));
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    with_query_key(&app, &path, &key).await.assert_problem(401);
    // Anonymous readers still get the cached answer.
    app.get(&path, None).await.assert_status(200);
    assert_eq!(count(&app), 0);
    app.delete(&format!("/api/v1/integrations/{integration}"), Some(&admin))
        .await
        .assert_problem(404);
});

db_test!(bad_keys_are_401_never_anonymous, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    publish(&app, &editor, "Public").await;
    let (_, key) = create_key(&app, &admin, &["read"]).await;
    let path = "/api/v1/articles";

    let wrong = format!("nd_{}", "A".repeat(43));
    for bad in [wrong.as_str(), "nd_short", "nd_"] {
        app.get(path, Some(bad)).await.assert_problem(401);
        with_query_key(&app, path, bad).await.assert_problem(401);
    }
    // Not even shaped like a key.
    with_query_key(&app, path, "hello")
        .await
        .assert_problem(401);
    // A changed character is another key.
    let mut tampered = key.clone();
    tampered.pop();
    tampered.push(if key.ends_with('x') { 'y' } else { 'x' });
    app.get(path, Some(&tampered)).await.assert_problem(401);
    // A key and an access token together are ambiguous.
    let res = app
        .request(
            "GET",
            &format!("{path}?key={key}"),
            Some(&editor),
            None,
            &[],
        )
        .await;
    res.assert_problem(401);
    // Twice in the query.
    app.get(&format!("{path}?key={key}&key={key}"), None)
        .await
        .assert_problem(400);
    // An empty key counts as absent (like every empty parameter).
    let res = app.get(&format!("{path}?key="), None).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    // A key is never a user: endpoints that need one refuse it.
    app.get("/api/v1/auth/me", Some(&key))
        .await
        .assert_problem(401);
    app.post(
        "/api/v1/articles",
        Some(&key),
        &json!({"title": "From a key", "body": "No."}),
    )
    .await
    .assert_problem(401);
    app.get("/api/v1/integrations", Some(&key))
        .await
        .assert_problem(401);
    with_query_key(&app, "/api/v1/users", &key)
        .await
        .assert_problem(401);
});

db_test!(a_key_has_its_own_rate_limit, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_RATE_CONTENT_KEYS", "3/1h")]).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, first) = create_key(&app, &admin, &["read"]).await;
    let (_, second) = create_key(&app, &admin, &["read"]).await;
    for _ in 0..3 {
        app.get("/api/v1/tags", Some(&first))
            .await
            .assert_status(200);
    }
    // Both forms count against one allowance.
    let res = with_query_key(&app, "/api/v1/tags", &first).await;
    res.assert_problem(429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=1200).contains(&retry), "{retry}");
    app.get("/api/v1/tags", Some(&first))
        .await
        .assert_problem(429);
    // Another key, and anonymous readers, are not affected.
    app.get("/api/v1/tags", Some(&second))
        .await
        .assert_status(200);
    for _ in 0..5 {
        app.get("/api/v1/tags", None).await.assert_status(200);
    }
});

db_test!(a_key_without_the_scope_is_refused, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    let id = publish(&app, &editor, "Scoped").await;
    let (_, events_only) = create_key(&app, &admin, &["events"]).await;
    for path in [
        "/api/v1/articles".to_string(),
        format!("/api/v1/articles/{id}"),
        "/api/v1/articles/popular".to_string(),
        "/api/v1/tags".to_string(),
        "/api/v1/tags/economy".to_string(),
        "/api/v1/authors".to_string(),
        format!("/api/v1/articles/{id}/comments"),
    ] {
        let res = app.get(&path, Some(&events_only)).await;
        let problem = res.assert_problem(403);
        assert!(
            problem["detail"].as_str().unwrap().contains("read"),
            "{path}"
        );
        with_query_key(&app, &path, &events_only)
            .await
            .assert_problem(403);
    }
    // Without scopes given, a key reads.
    let res = app
        .post(
            "/api/v1/integrations",
            Some(&admin),
            &json!({"name": "Default"}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["scopes"], json!(["read"]));
    let key = res.json()["key"].as_str().unwrap().to_string();
    app.get("/api/v1/articles", Some(&key))
        .await
        .assert_status(200);
});

db_test!(integration_endpoints_check_input_and_roles, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    let body = json!({"name": "Site", "scopes": ["read"]});

    // Roles: admins only.
    app.post("/api/v1/integrations", None, &body)
        .await
        .assert_problem(401);
    app.post("/api/v1/integrations", Some(&editor), &body)
        .await
        .assert_problem(403);
    app.get("/api/v1/integrations", Some(&editor))
        .await
        .assert_problem(403);
    app.get("/api/v1/integrations", None)
        .await
        .assert_problem(401);
    app.post("/api/v1/integrations", Some("not-a-token"), &body)
        .await
        .assert_problem(401);
    let (id, _) = create_key(&app, &admin, &["read"]).await;
    app.get(&format!("/api/v1/integrations/{id}"), Some(&editor))
        .await
        .assert_problem(403);
    app.delete(&format!("/api/v1/integrations/{id}"), Some(&editor))
        .await
        .assert_problem(403);
    app.delete(&format!("/api/v1/integrations/{id}"), None)
        .await
        .assert_problem(401);

    // Bad input: nothing is stored.
    let field = |res: Res| -> String {
        res.assert_problem(422)["errors"][0]["field"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (app_ref, admin_ref) = (&app, &admin);
    let post = |b: Value| async move {
        app_ref
            .post("/api/v1/integrations", Some(admin_ref), &b)
            .await
    };
    assert_eq!(field(post(json!({})).await), "name");
    assert_eq!(field(post(json!({"name": ""})).await), "name");
    assert_eq!(field(post(json!({"name": "   "})).await), "name");
    assert_eq!(field(post(json!({"name": "n".repeat(101)})).await), "name");
    assert_eq!(field(post(json!({"name": 7})).await), "name");
    assert_eq!(field(post(json!({"name": "A\u{0}"})).await), "name");
    assert_eq!(
        field(post(json!({"name": "A", "scopes": []})).await),
        "scopes"
    );
    assert!(field(post(json!({"name": "A", "scopes": ["write"]})).await).starts_with("scopes"));
    assert_eq!(
        field(post(json!({"name": "A", "scopes": "read"})).await),
        "scopes"
    );
    assert_eq!(
        field(post(json!({"name": "A", "key": "nd_mine"})).await),
        "key"
    );
    app.raw(
        "POST",
        "/api/v1/integrations",
        Some(&admin),
        "application/json",
        b"{".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw(
        "POST",
        "/api/v1/integrations",
        Some(&admin),
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415);
    assert_eq!(count(&app), 1);

    // Paths and queries.
    app.get("/api/v1/integrations/abc", Some(&admin))
        .await
        .assert_problem(400);
    app.get("/api/v1/integrations/999999", Some(&admin))
        .await
        .assert_problem(404);
    app.get("/api/v1/integrations?colour=red", Some(&admin))
        .await
        .assert_problem(400);
    app.get("/api/v1/integrations?per_page=500", Some(&admin))
        .await
        .assert_problem(400);
    app.get("/api/v1/integrations?after=bogus", Some(&admin))
        .await
        .assert_problem(400);

    // Keyset pagination.
    create_key(&app, &admin, &["read"]).await;
    create_key(&app, &admin, &["read"]).await;
    let first = app
        .get("/api/v1/integrations?per_page=2", Some(&admin))
        .await;
    first.assert_status(200);
    let first = first.json();
    assert_eq!(first["meta"]["total"], 3);
    assert_eq!(first["data"][0]["id"], id);
    let cursor = first["meta"]["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/api/v1/integrations?per_page=2&after={cursor}"),
            Some(&admin),
        )
        .await;
    next.assert_status(200);
    let next = next.json();
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["meta"]["next_cursor"], Value::Null);
});
