//! "Safe to go live" (issue 10): current roles on every request, bounded
//! work, honest 503s, protective headers, sessions and slug reservation.
//! Each test drives the app over HTTP the way an attacker or an outage would.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::{refresh_tokens, slug_redirects};
use serde_json::json;

use crate::auth::{assert_invalid, assert_unauthorized, email_of, login, stored_tokens};
use crate::content::{id, published};
use crate::db_test;
use crate::helpers::{DEFAULT_PASSWORD, TestApp};

db_test!(
    demoted_and_deleted_accounts_lose_their_rights_at_once,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (a, a_token) = app.user(Role::Admin).await;
        let (_, b_token) = app.user(Role::Admin).await;
        // A works as an admin...
        app.get("/api/v1/users", Some(&a_token))
            .await
            .assert_status(200);
        // ...until B demotes A: A's unexpired token no longer carries admin
        // rights, so A cannot make a new admin to survive the demotion.
        app.patch(
            &format!("/api/v1/users/{a}"),
            Some(&b_token),
            &json!({"role": "reader"}),
        )
        .await
        .assert_status(200);
        let res = app
            .post(
                "/api/v1/users",
                Some(&a_token),
                &json!({"email": "backdoor@example.com", "password": "a long passphrase",
                    "name": "Backdoor", "role": "admin"}),
            )
            .await;
        res.assert_problem(403);
        app.get("/api/v1/users", Some(&a_token))
            .await
            .assert_problem(403);
        let me = app.get("/api/v1/auth/me", Some(&a_token)).await;
        me.assert_status(200);
        assert_eq!(me.json()["role"], "reader");

        // A promotion applies at once too.
        let (r, r_token) = app.user(Role::Reader).await;
        app.patch(
            &format!("/api/v1/users/{r}"),
            Some(&b_token),
            &json!({"role": "admin"}),
        )
        .await
        .assert_status(200);
        app.get("/api/v1/users", Some(&r_token))
            .await
            .assert_status(200);

        // Deleted: every signed-in request is a 401, on public routes too.
        app.delete(&format!("/api/v1/users/{a}"), Some(&b_token))
            .await
            .assert_status(204);
        assert_unauthorized(&app.get("/api/v1/auth/me", Some(&a_token)).await);
        assert_unauthorized(&app.get("/api/v1/articles", Some(&a_token)).await);
    }
);

db_test!(
    a_new_password_ends_the_access_tokens_issued_before,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (id, _) = app.user(Role::Author).await;
        let email = email_of(&app, id);
        let res = login(&app, &email, DEFAULT_PASSWORD).await;
        res.assert_status(200);
        let old = res.json()["access_token"].as_str().unwrap().to_string();
        let (_, other) = app.user(Role::Author).await;
        app.patch(
            &format!("/api/v1/users/{id}"),
            Some(&old),
            &json!({"password": "a brand new passphrase", "current_password": DEFAULT_PASSWORD}),
        )
        .await
        .assert_status(200);
        // A thief holding the old token is out at once.
        assert_unauthorized(&app.get("/api/v1/auth/me", Some(&old)).await);
        assert_unauthorized(
            &app.post(
                "/api/v1/articles",
                Some(&old),
                &json!({"title": "x", "body": "y"}),
            )
            .await,
        );
        // The new password gives a working token; others are not affected.
        let res = login(&app, &email, "a brand new passphrase").await;
        res.assert_status(200);
        let new = res.json()["access_token"].as_str().unwrap().to_string();
        app.get("/api/v1/auth/me", Some(&new))
            .await
            .assert_status(200);
        app.get("/api/v1/auth/me", Some(&other))
            .await
            .assert_status(200);
    }
);

db_test!(
    changing_ones_own_email_needs_the_current_password,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (id, token) = app.user(Role::Reader).await;
        let path = format!("/api/v1/users/{id}");
        let before = email_of(&app, id);
        let res = app
            .patch(&path, Some(&token), &json!({"email": "new@example.com"}))
            .await;
        assert_invalid(&res, &["current_password"]);
        let res = app
            .patch(
                &path,
                Some(&token),
                &json!({"email": "new@example.com", "current_password": "not my password"}),
            )
            .await;
        assert_invalid(&res, &["current_password"]);
        assert_eq!(email_of(&app, id), before);
        // Sending one's own email unchanged, or other fields, needs nothing.
        app.patch(
            &path,
            Some(&token),
            &json!({"email": before.to_uppercase(), "bio": "Hi"}),
        )
        .await
        .assert_status(200);
        app.patch(
            &path,
            Some(&token),
            &json!({"email": "new@example.com", "current_password": DEFAULT_PASSWORD}),
        )
        .await
        .assert_status(200);
        assert_eq!(email_of(&app, id), "new@example.com");
        // An admin changes another user's email without that user's password.
        let (_, admin) = app.user(Role::Admin).await;
        app.patch(&path, Some(&admin), &json!({"email": "reset@example.com"}))
            .await
            .assert_status(200);
        assert_eq!(email_of(&app, id), "reset@example.com");
    }
);

db_test!(
    repeated_tag_filters_are_deduplicated_and_capped,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.user(Role::Author).await;
        app.post(
            "/api/v1/articles",
            Some(&token),
            &json!({"title": "Tagged", "body": "b", "status": "published", "tags": ["a"]}),
        )
        .await
        .assert_status(201);
        // 1,200 repeats of one tag are one filter (1,500 were a 500 on SQLite;
        // that many no longer fit in the 8 KiB query string: 414).
        let many = vec!["tag=a"; 1200].join("&");
        let res = app.get(&format!("/api/v1/articles?{many}"), None).await;
        res.assert_status(200);
        assert_eq!(res.json()["data"].as_array().unwrap().len(), 1);
        let ten: Vec<String> = (1..=10).map(|i| format!("tag=a-{i}")).collect();
        app.get(&format!("/api/v1/articles?{}", ten.join("&")), None)
            .await
            .assert_status(200);
        let eleven: Vec<String> = (1..=11).map(|i| format!("tag=a-{i}")).collect();
        let problem = app
            .get(&format!("/api/v1/articles?{}", eleven.join("&")), None)
            .await
            .assert_problem(400);
        assert!(problem["detail"].as_str().unwrap().contains("tag"));
        // 500 different tags: refused before any query is built.
        let distinct: Vec<String> = (0..500).map(|i| format!("tag=t{i}")).collect();
        app.get(&format!("/api/v1/articles?{}", distinct.join("&")), None)
            .await
            .assert_problem(400);
        // The cap is in the OpenAPI document.
        let doc = newsdesk::startup::openapi_json();
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let params = doc["paths"]["/api/v1/articles"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let tag = params.iter().find(|p| p["name"] == "tag").unwrap();
        assert_eq!(tag["schema"]["maxItems"], 10, "{tag}");
    }
);

db_test!(nul_characters_are_refused_in_every_text_input, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user(Role::Reader).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    let nul = "bad\u{0}value";

    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "n@example.com", "password": "a long passphrase", "name": nul}),
        )
        .await;
    assert_invalid(&res, &["name"]);
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": format!("a{nul}@example.com"), "password": "whatever it is"}),
        )
        .await;
    assert_invalid(&res, &["email"]);
    let res = app
        .patch(
            &format!("/api/v1/users/{id}"),
            Some(&token),
            &json!({"bio": nul}),
        )
        .await;
    assert_invalid(&res, &["bio"]);
    let res = app
        .post("/api/v1/tags", Some(&editor), &json!({"name": nul}))
        .await;
    assert_invalid(&res, &["name"]);
    for path in [
        "/api/v1/users?q=a%00b",
        "/api/v1/users?after=a%00b",
        "/api/v1/articles?after=x%00y",
        "/api/v1/articles?q=x%00y",
        "/api/v1/tags?after=x%00y",
        "/api/v1/authors?after=x%00y",
    ] {
        let problem = app.get(path, Some(&admin)).await.assert_problem(400);
        let detail = problem["detail"].as_str().unwrap();
        let param = path.split('?').nth(1).unwrap().split('=').next().unwrap();
        assert!(detail.starts_with(param), "{path}: {detail}");
    }
});

db_test!(oversized_query_strings_and_headers_are_refused, |backend| {
    let app = TestApp::spawn(backend).await;
    let long = "x".repeat(9 * 1024);
    let res = app.get(&format!("/api/v1/articles?q={long}"), None).await;
    res.assert_problem(414);
    let big = "y".repeat(20 * 1024);
    let res = app
        .request(
            "GET",
            "/api/v1/articles",
            None,
            None,
            &[("x-padding", &big)],
        )
        .await;
    res.assert_problem(431);
    app.get("/api/v1/articles?q=fine", None)
        .await
        .assert_status(200);
});

db_test!(protective_headers_on_every_response, |backend| {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/api/v1/articles",
        "/api/v1/articles/999999",
        "/nowhere",
        "/healthz",
        "/api/openapi.json",
    ] {
        let res = app.get(path, None).await;
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            res.header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            res.header("content-security-policy").as_deref(),
            Some("frame-ancestors 'none'"),
            "{path}"
        );
    }
    let res = app.get("/docs/", None).await;
    res.assert_status(200);
    let csp = res.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
});

db_test!(metrics_are_private_or_behind_a_token, |backend| {
    let app = TestApp::spawn(backend).await;
    app.get("/metrics", None).await.assert_problem(404);
    app.metrics().await.assert_status(200);

    let token = "metrics-token-0123456789";
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_METRICS_TOKEN", token)]).await;
    app.get("/metrics", None).await.assert_problem(404);
    app.get("/metrics", Some("metrics-token-wrong-guess"))
        .await
        .assert_problem(404);
    let res = app.get("/metrics", Some(token)).await;
    res.assert_status(200);
    assert!(String::from_utf8_lossy(&res.body).contains("newsdesk_http_requests_total"));

    let app = TestApp::spawn_with(backend, &[("NEWSDESK_METRICS_BIND", "off")]).await;
    assert!(app.metrics_address.is_none());
});

db_test!(an_exhausted_database_is_a_quick_503, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_DB_POOL_SIZE", "1"),
            ("NEWSDESK_DB_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    app.get("/api/v1/articles", None).await.assert_status(200);
    // Every connection is taken (as when the database is down or stuck).
    let held = app.conn();
    let start = Instant::now();
    let res = app.get("/api/v1/articles", None).await;
    res.assert_problem(503);
    assert_eq!(res.header("retry-after").as_deref(), Some("1"));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let (_, token) = (0, app.state.jwt.issue(1, Role::Admin).unwrap());
    let start = Instant::now();
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .assert_problem(503);
    assert!(start.elapsed() < Duration::from_secs(2));
    let start = Instant::now();
    let res = app.get("/readyz", None).await;
    res.assert_problem(503);
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    drop(held);
    app.get("/readyz", None).await.assert_status(200);
    app.get("/api/v1/articles", None).await.assert_status(200);
});

db_test!(a_full_password_hashing_queue_is_a_503, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[("NEWSDESK_HASH_THREADS", "1"), ("NEWSDESK_HASH_QUEUE", "0")],
    )
    .await;
    let app = &app;
    let logins = (0..12).map(|i| async move {
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": format!("nobody{i}@example.com"), "password": "some guess or other"}),
        )
        .await
    });
    let results = futures_util::future::join_all(logins).await;
    let mut busy = 0;
    for res in &results {
        match res.status {
            401 => {}
            503 => {
                res.assert_problem(503);
                assert_eq!(res.header("retry-after").as_deref(), Some("1"));
                busy += 1;
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert!(busy > 0, "no login was turned away");
    assert!(busy < results.len(), "every login was turned away");
    // Reads never wait for the hashing pool.
    app.get("/api/v1/articles", None).await.assert_status(200);
});

db_test!(a_cached_read_never_outlives_a_write_it_raced, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_READ_CACHE_MS", "60000")]).await;
    let (_, token) = app.user(Role::Author).await;
    let a = published(&app, &token, "Racing headline").await;
    let path = format!("/api/v1/articles/{}", id(&a));
    for round in 0..40 {
        let status = if round % 2 == 0 { "draft" } else { "published" };
        let reads = (0..4).map(|_| app.get(&path, None));
        let (patched, _) = futures_util::future::join(
            app.patch(&path, Some(&token), &json!({ "status": status })),
            futures_util::future::join_all(reads),
        )
        .await;
        patched.assert_status(200);
        // After the write returned, no anonymous read may see the old state.
        let expected = if status == "draft" { 404 } else { 200 };
        for _ in 0..3 {
            let res = app.get(&path, None).await;
            assert_eq!(res.status, expected, "round {round}");
        }
    }
});

db_test!(
    sessions_end_at_sign_in_plus_the_refresh_lifetime,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (id, _) = app.user(Role::Reader).await;
        let email = email_of(&app, id);
        // An expired row of this user, long forgotten: purged at the next sign-in.
        let expired = crate::auth::issue_refresh(&app, id);
        diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq(id)))
            .set(refresh_tokens::expires_at.eq(Utc::now().naive_utc() - chrono::Duration::days(1)))
            .execute(&mut *app.conn())
            .unwrap();
        let res = login(&app, &email, DEFAULT_PASSWORD).await;
        res.assert_status(200);
        let rows = stored_tokens(&app, id);
        assert_eq!(rows.len(), 1, "the expired row is gone");
        let first_expiry = rows[0].expires_at;
        assert_unauthorized(
            &app.post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": expired}),
            )
            .await,
        );
        // Rotations never push the end of the session further out.
        let mut refresh = res.json()["refresh_token"].as_str().unwrap().to_string();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
            let res = app
                .post(
                    "/api/v1/auth/refresh",
                    None,
                    &json!({"refresh_token": refresh}),
                )
                .await;
            res.assert_status(200);
            refresh = res.json()["refresh_token"].as_str().unwrap().to_string();
        }
        let rows = stored_tokens(&app, id);
        assert_eq!(rows.len(), 4);
        assert!(
            rows.iter().all(|r| r.expires_at == first_expiry),
            "{rows:?}"
        );
    }
);

db_test!(an_old_slug_stays_reserved_for_its_article, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, victim) = app.user(Role::Author).await;
    let (_, thief) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let story = published(&app, &victim, "Big scoop").await;
    app.patch(
        &format!("/api/v1/articles/{}", id(&story)),
        Some(&victim),
        &json!({"slug": "big-scoop-updated"}),
    )
    .await
    .assert_status(200);

    // Another author can neither create nor rename into the old slug.
    let res = app
        .post(
            "/api/v1/articles",
            Some(&thief),
            &json!({"title": "Mine", "body": "b", "slug": "big-scoop", "status": "published"}),
        )
        .await;
    res.assert_problem(409);
    let mine = published(&app, &thief, "Mine").await;
    let mine_path = format!("/api/v1/articles/{}", id(&mine));
    app.patch(&mine_path, Some(&thief), &json!({"slug": "big-scoop"}))
        .await
        .assert_problem(409);
    let res = app.get("/api/v1/articles/slug/big-scoop", None).await;
    assert_eq!(res.status, 301);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/api/v1/articles/slug/big-scoop-updated")
    );
    let kept: i64 = slug_redirects::table
        .filter(slug_redirects::slug.eq("big-scoop"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(kept, 1);

    // The article itself may take its old slug back.
    app.patch(
        &format!("/api/v1/articles/{}", id(&story)),
        Some(&victim),
        &json!({"slug": "big-scoop"}),
    )
    .await
    .assert_status(200);
    // An editor may release an old slug by taking it over explicitly.
    app.patch(
        &mine_path,
        Some(&editor),
        &json!({"slug": "big-scoop-updated"}),
    )
    .await
    .assert_status(200);
    let res = app
        .get("/api/v1/articles/slug/big-scoop-updated", None)
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["id"], id(&mine));
});

db_test!(a_view_counts_once_per_visitor_per_window, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_DEDUP_WINDOW", "30m")]).await;
    let article = crate::views::visible_article(&app).await;
    let path = format!("/api/v1/articles/{article}/views");
    let beacon = |ua: &'static str, forwarded: Option<&'static str>| {
        let app = &app;
        let path = path.clone();
        async move {
            let mut headers = vec![("user-agent", ua)];
            if let Some(f) = forwarded {
                headers.push(("x-forwarded-for", f));
            }
            let res = app.request("POST", &path, None, None, &headers).await;
            res.assert_status(202);
        }
    };
    // One reader reloading in a loop is one view; another browser is another.
    for _ in 0..5 {
        beacon("Mozilla/5.0 Firefox/140.0", None).await;
    }
    beacon("Mozilla/5.0 Chrome/140.0", None).await;
    // Well-known bots never count; a forged X-Forwarded-For from an
    // untrusted peer is ignored.
    beacon("Mozilla/5.0 (compatible; Googlebot/2.1)", None).await;
    beacon("Mozilla/5.0 Firefox/140.0", Some("198.51.100.1")).await;
    app.state.views.flush().await.unwrap();
    assert_eq!(crate::views::stored_counts(&mut app.conn(), article).0, 2);

    // Behind a trusted proxy, the forwarded address tells visitors apart.
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_VIEW_DEDUP_WINDOW", "30m"),
            ("NEWSDESK_TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
        ],
    )
    .await;
    let article = crate::views::visible_article(&app).await;
    let path = format!("/api/v1/articles/{article}/views");
    for forwarded in [
        "198.51.100.1",
        "198.51.100.1",
        "198.51.100.2",
        // The client may prepend anything; the proxy's entry is the last.
        "6.6.6.6, 198.51.100.2",
        "198.51.100.3, 127.0.0.1",
    ] {
        app.request(
            "POST",
            &path,
            None,
            None,
            &[("user-agent", "Firefox"), ("x-forwarded-for", forwarded)],
        )
        .await
        .assert_status(202);
    }
    app.state.views.flush().await.unwrap();
    assert_eq!(crate::views::stored_counts(&mut app.conn(), article).0, 3);
});

/// The `Retry-After` of a 429 problem, in seconds.
fn retry_after(res: &crate::helpers::Res) -> u64 {
    res.assert_problem(429);
    res.header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds")
}

db_test!(
    sign_ins_are_rate_limited_with_a_growing_back_off,
    |backend| {
        let app = TestApp::spawn_with(backend, &[("NEWSDESK_RATE_LOGIN", "8/1h")]).await;
        let (id, _) = app.user(Role::Reader).await;
        let email = email_of(&app, id);
        // Five wrong passwords are just 401s...
        for _ in 0..5 {
            assert_unauthorized(&login(&app, &email, "wrong password!").await);
        }
        // ...then each failure makes the next attempt wait, right password or
        // not, and an unknown email is treated exactly alike.
        assert_unauthorized(&login(&app, &email, "wrong password!").await);
        let wait = retry_after(&login(&app, &email, DEFAULT_PASSWORD).await);
        assert_eq!(wait, 1);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        login(&app, &email, DEFAULT_PASSWORD)
            .await
            .assert_status(200);
        // The address limit (8 per hour here) holds for any email.
        let res = login(&app, "someone@example.com", "whatever guess").await;
        let wait = retry_after(&res);
        assert!(wait > 60 && wait <= 450, "{wait}");

        // An unknown email backs off exactly like a known one (and a refused
        // attempt is answered at once for both): the answers reveal nothing.
        let app = TestApp::spawn(backend).await;
        let (id, _) = app.user(Role::Reader).await;
        let known = email_of(&app, id);
        for email in [known.as_str(), "ghost@example.com"] {
            for _ in 0..6 {
                assert_unauthorized(&login(&app, email, "wrong password!").await);
            }
            let start = Instant::now();
            assert_eq!(retry_after(&login(&app, email, "wrong password!").await), 1);
            assert!(start.elapsed() < Duration::from_millis(500));
        }
    }
);

db_test!(
    sign_ups_refreshes_comments_and_beacons_are_rate_limited,
    |backend| {
        let app = TestApp::spawn_with(
            backend,
            &[
                ("NEWSDESK_RATE_REGISTER", "2/1h"),
                ("NEWSDESK_RATE_REFRESH", "2/1h"),
                ("NEWSDESK_RATE_COMMENTS", "2/1h"),
                ("NEWSDESK_RATE_VIEWS", "3/1h"),
                ("NEWSDESK_RATE_PASSWORD", "2/1h"),
            ],
        )
        .await;
        for i in 0..2 {
            crate::auth::register(&app, &format!("r{i}@example.com"), "Reader").await;
        }
        let res = app
            .post(
                "/api/v1/auth/register",
                None,
                &json!({"email": "r9@example.com", "password": "a long passphrase", "name": "R"}),
            )
            .await;
        assert!(retry_after(&res) > 0);

        for _ in 0..2 {
            assert_unauthorized(
                &app.post(
                    "/api/v1/auth/refresh",
                    None,
                    &json!({"refresh_token": "nope"}),
                )
                .await,
            );
        }
        let res = app
            .post(
                "/api/v1/auth/refresh",
                None,
                &json!({"refresh_token": "nope"}),
            )
            .await;
        retry_after(&res);

        let article = crate::views::visible_article(&app).await;
        let (commenter, token) = app.user(Role::Reader).await;
        let (_, other) = app.user(Role::Reader).await;
        let path = format!("/api/v1/articles/{article}/comments");
        for _ in 0..2 {
            app.post(&path, Some(&token), &json!({"body": "First!"}))
                .await
                .assert_status(201);
        }
        retry_after(
            &app.post(&path, Some(&token), &json!({"body": "Again"}))
                .await,
        );
        // Per user: another reader still comments.
        app.post(&path, Some(&other), &json!({"body": "Hello"}))
            .await
            .assert_status(201);

        let beacon = format!("/api/v1/articles/{article}/views");
        for _ in 0..3 {
            app.request("POST", &beacon, None, None, &[])
                .await
                .assert_status(202);
        }
        retry_after(&app.request("POST", &beacon, None, None, &[]).await);

        // Password checks per account: a stolen token cannot guess on.
        let user_path = format!("/api/v1/users/{commenter}");
        for _ in 0..2 {
            let res = app
                .patch(
                    &user_path,
                    Some(&token),
                    &json!({"password": "another passphrase", "current_password": "a guess at it"}),
                )
                .await;
            assert_invalid(&res, &["current_password"]);
        }
        let res = app
            .patch(
                &user_path,
                Some(&token),
                &json!({"password": "another passphrase", "current_password": DEFAULT_PASSWORD}),
            )
            .await;
        retry_after(&res);
    }
);

db_test!(a_burst_of_writes_does_not_starve_reads, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_DB_POOL_SIZE", "3"),
            ("NEWSDESK_DB_TIMEOUT_MS", "5000"),
        ],
    )
    .await;
    let mut writers = Vec::new();
    for _ in 0..4 {
        writers.push(app.user(Role::Reader).await);
    }
    app.get("/api/v1/articles", None).await.assert_status(200);
    // A long write holds SQLite's write lock (and one connection)...
    let holder = app.state.db.write(|_| {
        std::thread::sleep(Duration::from_millis(1500));
        Ok(())
    });
    // ...while a burst of writes arrives: they queue for the lock without
    // holding connections, so a read still gets one at once.
    let app = &app;
    let burst = writers.iter().map(|(id, token)| async move {
        app.patch(
            &format!("/api/v1/users/{id}"),
            Some(token),
            &json!({"bio": "written in a burst"}),
        )
        .await
    });
    let read = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start = Instant::now();
        let res = app.get("/api/v1/articles", None).await;
        (res, start.elapsed())
    };
    let (held, writes, (res, took)) =
        futures_util::future::join3(holder, futures_util::future::join_all(burst), read).await;
    held.unwrap();
    res.assert_status(200);
    assert!(
        took < Duration::from_millis(700),
        "the read waited {took:?}"
    );
    for w in writes {
        w.assert_status(200);
    }
});

db_test!(a_query_past_the_statement_time_limit_is_a_503, |backend| {
    use actix_web::ResponseError;

    let app = TestApp::spawn_with(backend, &[("NEWSDESK_STATEMENT_TIMEOUT_MS", "300")]).await;
    // Counts to a billion: minutes of work for either database.
    let endless = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c \
                   WHERE n < 1000000000) SELECT count(*) AS n FROM c";
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[allow(dead_code)]
        n: i64,
    }
    for _ in 0..2 {
        let start = Instant::now();
        let err = app
            .state
            .db
            .read(move |conn| Ok(diesel::sql_query(endless).load::<N>(conn)?))
            .await
            .map(|_| ())
            .unwrap_err();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(3), "stopped after {took:?}");
        let res = err.error_response();
        assert_eq!(res.status(), 503, "{err:?}");
        assert!(res.headers().contains_key("retry-after"));
    }
    // The connections stay usable, and ordinary requests run as before.
    for _ in 0..3 {
        app.get("/api/v1/articles", None).await.assert_status(200);
    }
});
