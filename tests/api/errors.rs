//! HTTP conventions shared by every endpoint: problem+json errors, 404/405,
//! CORS, ETag/If-None-Match and Cache-Control.

use diesel::RunQueryDsl;
use newsdesk::auth::Role;
use serde_json::json;

use crate::auth::assert_unauthorized;
use crate::db_test;
use crate::helpers::{Res, TestApp};

/// The comma-separated values of a header, lowercased.
fn list_header(res: &Res, name: &str) -> Vec<String> {
    res.headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

#[track_caller]
fn assert_strong_etag(res: &Res) -> String {
    let etag = res.header("etag").expect("an ETag");
    assert!(
        !etag.starts_with("W/") && etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "not a strong entity tag: {etag}"
    );
    etag
}

db_test!(unknown_routes_are_404_problems, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Admin).await;
    for (method, path) in [
        ("GET", "/nope"),
        ("GET", "/api/v1/nope"),
        ("GET", "/api/v1/users/1/extra"),
        ("GET", "/api/v2/users"),
        ("POST", "/api/v1/nope"),
        ("DELETE", "/"),
    ] {
        for auth in [None, Some(token.as_str())] {
            let res = app.request(method, path, auth, None, &[]).await;
            let problem = res.assert_problem(404);
            assert_eq!(problem["type"], "https://newsdesk.dev/problems/not-found");
            assert_eq!(problem["title"], "Not found");
            assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
            assert!(res.header("etag").is_none());
            assert!(res.header("allow").is_none());
        }
    }
});

db_test!(a_wrong_method_is_405_with_allow, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Admin).await;
    for (method, path, allow) in [
        ("DELETE", "/api/v1/users", "GET, HEAD, OPTIONS, POST"),
        ("PUT", "/api/v1/users", "GET, HEAD, OPTIONS, POST"),
        (
            "PUT",
            "/api/v1/users/1",
            "DELETE, GET, HEAD, OPTIONS, PATCH",
        ),
        (
            "POST",
            "/api/v1/users/1",
            "DELETE, GET, HEAD, OPTIONS, PATCH",
        ),
        ("GET", "/api/v1/auth/login", "OPTIONS, POST"),
        ("DELETE", "/api/v1/auth/me", "GET, HEAD, OPTIONS"),
        ("POST", "/healthz", "GET, HEAD, OPTIONS"),
        // A fixed path answers for itself, not as a value of `{id}`.
        ("PATCH", "/api/v1/articles/popular", "GET, HEAD, OPTIONS"),
        ("DELETE", "/api/v1/articles/popular", "GET, HEAD, OPTIONS"),
        ("PUT", "/api/v1/articles/popular", "GET, HEAD, OPTIONS"),
        ("DELETE", "/api/v1/articles", "GET, HEAD, OPTIONS, POST"),
        // Routes outside the API document too.
        ("POST", "/api/openapi.json", "GET, HEAD, OPTIONS"),
        ("DELETE", "/docs/", "GET, HEAD, OPTIONS"),
        ("PUT", "/docs", "GET, HEAD, OPTIONS"),
    ] {
        let res = app
            .request(method, path, Some(&token), Some(&json!({})), &[])
            .await;
        let problem = res.assert_problem(405);
        assert_eq!(
            problem["type"],
            "https://newsdesk.dev/problems/method-not-allowed"
        );
        assert_eq!(
            res.header("allow").as_deref(),
            Some(allow),
            "{method} {path}"
        );
    }
});

db_test!(head_and_options_do_what_allow_says, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user(Role::Admin).await;

    // HEAD is GET without a body.
    let get = app.get(&format!("/api/v1/users/{id}"), Some(&token)).await;
    get.assert_status(200);
    let head = app
        .request(
            "HEAD",
            &format!("/api/v1/users/{id}"),
            Some(&token),
            None,
            &[],
        )
        .await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(head.header("cache-control"), get.header("cache-control"));
    let head = app.request("HEAD", "/healthz", None, None, &[]).await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    // HEAD where GET would fail fails the same way, without the body.
    let res = app.request("HEAD", "/api/v1/users", None, None, &[]).await;
    res.assert_status(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert!(res.body.is_empty());
    let res = app.request("HEAD", "/nope", None, None, &[]).await;
    res.assert_status(404);
    assert!(res.body.is_empty());
    // HEAD is not a way around a POST-only route.
    let res = app
        .request("HEAD", "/api/v1/auth/login", None, None, &[])
        .await;
    res.assert_status(405);
    assert_eq!(res.header("allow").as_deref(), Some("OPTIONS, POST"));

    // OPTIONS without CORS headers lists the methods.
    for (path, allow) in [
        ("/api/v1/users", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/auth/login", "OPTIONS, POST"),
    ] {
        let res = app.request("OPTIONS", path, None, None, &[]).await;
        res.assert_status(204);
        assert!(res.body.is_empty());
        assert_eq!(res.header("allow").as_deref(), Some(allow));
    }
    app.request("OPTIONS", "/nope", None, None, &[])
        .await
        .assert_problem(404);
});

db_test!(errors_are_problem_json_and_leak_nothing, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, reader) = app.user(Role::Reader).await;
    let responses = vec![
        app.raw(
            "POST",
            "/api/v1/auth/login",
            None,
            "application/json",
            b"{".to_vec(),
        )
        .await,
        app.post("/api/v1/auth/login", None, &json!({})).await,
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@b.co", "password": "x"}),
        )
        .await,
        app.get("/api/v1/users", None).await,
        app.get("/api/v1/users", Some(&reader)).await,
        app.get("/api/v1/users?per_page=1000", Some(&admin)).await,
        app.get("/api/v1/users/nope", Some(&admin)).await,
        app.get("/api/v1/users/424242", Some(&admin)).await,
        app.raw(
            "POST",
            "/api/v1/users",
            Some(&admin),
            "text/plain",
            b"x".to_vec(),
        )
        .await,
        app.request("PUT", "/api/v1/users", Some(&admin), None, &[])
            .await,
        app.get("/missing", None).await,
    ];
    for res in &responses {
        assert!(res.status >= 400, "{}", res.status);
        let problem = res.assert_problem(res.status);
        let text = String::from_utf8_lossy(&res.body).to_lowercase();
        for leak in [
            "sqlite", "postgres", "diesel", "panicked", "/tmp", "src/", "select ",
        ] {
            assert!(!text.contains(leak), "{leak} in {problem}");
        }
    }

    // An internal failure (here: a table gone missing) is a generic 500.
    diesel::sql_query("ALTER TABLE users RENAME TO users_gone")
        .execute(&mut *app.conn())
        .unwrap();
    for res in [
        app.get("/api/v1/users", Some(&admin)).await,
        app.get("/api/v1/auth/me", Some(&admin)).await,
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "a@example.com", "password": "whatever it is"}),
        )
        .await,
    ] {
        let problem = res.assert_problem(500);
        assert_eq!(
            problem,
            json!({
                "type": "https://newsdesk.dev/problems/internal",
                "title": "Internal server error",
                "status": 500,
                "detail": "an unexpected error occurred"
            })
        );
        assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    }
});

db_test!(cors_allows_any_origin_by_default, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let origin = "https://anywhere.example";

    let res = app
        .request(
            "OPTIONS",
            "/api/v1/users/1",
            None,
            None,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "PATCH"),
                (
                    "Access-Control-Request-Headers",
                    "authorization, content-type, if-match",
                ),
            ],
        )
        .await;
    assert!(res.status == 200 || res.status == 204, "{}", res.status);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let methods = list_header(&res, "access-control-allow-methods");
    for m in ["get", "post", "patch", "delete"] {
        assert!(methods.contains(&m.to_string()), "{methods:?}");
    }
    let headers = list_header(&res, "access-control-allow-headers");
    for h in ["authorization", "content-type", "if-match", "if-none-match"] {
        assert!(headers.contains(&h.to_string()), "{headers:?}");
    }
    assert!(res.header("access-control-max-age").is_some());

    // A header the API does not take is refused, as a problem.
    let res = app
        .request(
            "OPTIONS",
            "/api/v1/users",
            None,
            None,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "x-secret-sauce"),
            ],
        )
        .await;
    res.assert_problem(400);
    assert!(res.header("access-control-allow-origin").is_none());

    // Actual requests: allowed, with the pagination and caching headers exposed.
    let res = app
        .request(
            "GET",
            "/api/v1/users",
            Some(&admin),
            None,
            &[("Origin", origin)],
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let exposed = list_header(&res, "access-control-expose-headers");
    for h in ["x-total-count", "link", "etag", "location"] {
        assert!(exposed.contains(&h.to_string()), "{exposed:?}");
    }

    // Errors carry CORS headers too, so the browser sees the status.
    for res in [
        app.request("GET", "/api/v1/users", None, None, &[("Origin", origin)])
            .await,
        app.request("GET", "/nope", None, None, &[("Origin", origin)])
            .await,
        app.request("DELETE", "/api/v1/users", None, None, &[("Origin", origin)])
            .await,
        app.request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": "a@example.com", "password": "nope nope nope"})),
            &[("Origin", origin)],
        )
        .await,
    ] {
        assert!(res.status >= 400);
        res.assert_problem(res.status);
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some("*"),
            "status {}",
            res.status
        );
    }
    let res = app
        .request("GET", "/api/v1/users", None, None, &[("Origin", origin)])
        .await;
    assert_unauthorized(&res);
});

db_test!(cors_origins_can_be_restricted, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[(
            "NEWSDESK_CORS_ORIGINS",
            "https://a.example, https://c.example/",
        )],
    )
    .await;
    let (_, admin) = app.user(Role::Admin).await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.request(
                "OPTIONS",
                "/api/v1/users",
                None,
                None,
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type"),
                ],
            )
            .await
        }
    };
    for origin in ["https://a.example", "https://c.example"] {
        let res = preflight(origin).await;
        assert!(res.status == 200 || res.status == 204, "{}", res.status);
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert!(list_header(&res, "vary").contains(&"origin".to_string()));
        let res = app
            .request(
                "GET",
                "/api/v1/users",
                Some(&admin),
                None,
                &[("Origin", origin)],
            )
            .await;
        res.assert_status(200);
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
        // The 401 of an allowed origin is readable too.
        let res = app
            .request("GET", "/api/v1/users", None, None, &[("Origin", origin)])
            .await;
        assert_unauthorized(&res);
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
    }

    for origin in [
        "https://b.example",
        "http://a.example",
        "https://a.example.evil",
    ] {
        let res = preflight(origin).await;
        assert!(
            res.header("access-control-allow-origin").is_none(),
            "{origin} was allowed"
        );
        // Rejected as a problem, like every other error.
        let problem = res.assert_problem(400);
        assert!(
            problem["detail"].as_str().unwrap().contains("Origin"),
            "{problem}"
        );
        // The request itself is answered, but a browser may not read it.
        let res = app
            .request(
                "GET",
                "/api/v1/users",
                Some(&admin),
                None,
                &[("Origin", origin)],
            )
            .await;
        res.assert_status(200);
        assert!(res.header("access-control-allow-origin").is_none());
    }
    // Requests without Origin (servers, curl) are not affected.
    let res = app.get("/api/v1/users", Some(&admin)).await;
    res.assert_status(200);
    assert!(res.header("access-control-allow-origin").is_none());
});

db_test!(gets_send_strong_etags_and_answer_304, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;

    let res = app.get("/api/v1/users", Some(&admin)).await;
    res.assert_status(200);
    let etag = assert_strong_etag(&res);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    // The same content has the same tag.
    let again = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));

    for validator in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"something-else\", {etag}"),
        "*".to_string(),
    ] {
        let res = app
            .request(
                "GET",
                "/api/v1/users",
                Some(&admin),
                None,
                &[("If-None-Match", validator.as_str())],
            )
            .await;
        res.assert_status(304);
        assert!(res.body.is_empty(), "a 304 has no body");
        assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("private, no-store")
        );
    }
    let res = app
        .request(
            "GET",
            "/api/v1/users",
            Some(&admin),
            None,
            &[("If-None-Match", "\"stale\"")],
        )
        .await;
    res.assert_status(200);
    assert!(!res.body.is_empty());

    // A change makes a new tag; the old one no longer matches.
    app.user(Role::Reader).await;
    let res = app
        .request(
            "GET",
            "/api/v1/users",
            Some(&admin),
            None,
            &[("If-None-Match", etag.as_str())],
        )
        .await;
    res.assert_status(200);
    assert_ne!(assert_strong_etag(&res), etag);
    assert_eq!(res.json()["meta"]["total"], 2);

    // Single resources too.
    let me = app.get("/api/v1/auth/me", Some(&admin)).await;
    let tag = assert_strong_etag(&me);
    app.request(
        "GET",
        "/api/v1/auth/me",
        Some(&admin),
        None,
        &[("If-None-Match", tag.as_str())],
    )
    .await
    .assert_status(304);

    // Writes and errors carry no validator.
    let res = app
        .patch("/api/v1/users/999999", Some(&admin), &json!({"name": "x"}))
        .await;
    res.assert_problem(404);
    assert!(res.header("etag").is_none());
    let res = app.get("/api/v1/users?page=0", Some(&admin)).await;
    res.assert_problem(400);
    assert!(res.header("etag").is_none());
});

db_test!(anonymous_public_reads_are_cacheable, |backend| {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/api/openapi.json", None).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    assert!(list_header(&res, "vary").contains(&"authorization".to_string()));
    let etag = assert_strong_etag(&res);
    let res = app
        .request(
            "GET",
            "/api/openapi.json",
            None,
            None,
            &[("If-None-Match", etag.as_str())],
        )
        .await;
    res.assert_status(304);
    assert!(res.body.is_empty());
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );

    // The same read with a token is private.
    let (_, token) = app.user(Role::Reader).await;
    let res = app.get("/api/openapi.json", Some(&token)).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    // Anonymous errors and writes are never stored by caches.
    let res = app.get("/nope", None).await;
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "x@example.com", "password": "y"}),
        )
        .await;
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));

    let app = TestApp::spawn_with(backend, &[("NEWSDESK_CACHE_MAX_AGE", "5")]).await;
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=5")
    );
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_CACHE_MAX_AGE", "0")]).await;
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=0")
    );
});
