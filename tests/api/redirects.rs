//! `GET /api/v1/redirects/resolve`: old slugs and recorded old URLs.

use newsdesk::auth::Role;
use serde_json::json;

use crate::content::{create, id};
use crate::db_test;
use crate::helpers::TestApp;

db_test!(
    old_slugs_and_recorded_urls_resolve_to_the_current_path,
    |backend| {
        let app = TestApp::spawn_with(
            backend,
            &[(
                "NEWSDESK_PUBLIC_URL_TEMPLATE",
                "https://news.example/{yyyy}/{slug}",
            )],
        )
        .await;
        let (_, token) = app.user(Role::Editor).await;
        let article = create(
            &app,
            &token,
            json!({"title": "Old title", "body": "x", "status": "published",
               "published_at": "2024-05-16T01:00:00Z"}),
        )
        .await;
        let aid = id(&article);
        app.patch(
            &format!("/api/v1/articles/{aid}"),
            Some(&token),
            &json!({"slug": "new-title"}),
        )
        .await
        .assert_status(200);

        for path in [
            "/2024/old-title",
            "/2024/old-title/",
            "/old-title",
            "https://old.example/x/old-title?utm=1",
        ] {
            let res = app
                .get(
                    &format!("/api/v1/redirects/resolve?path={}", urlencode(path)),
                    None,
                )
                .await;
            res.assert_status(200);
            assert_eq!(
                res.json(),
                json!({"location": "/2024/new-title", "status": 301}),
                "{path}"
            );
        }
        // The current path is no redirect; unknown paths neither.
        for path in ["/2024/new-title", "/2024/unknown", "/", "/a/b/c-"] {
            app.get(
                &format!("/api/v1/redirects/resolve?path={}", urlencode(path)),
                None,
            )
            .await
            .assert_problem(404);
        }

        // Recorded old URLs: to an article (following its slug), or fixed.
        let now = chrono::Utc::now().naive_utc();
        app.state
            .db
            .write(move |conn| {
                newsdesk::redirects::queries::add(conn, "/?p=42", Some(aid), None, now)?;
                newsdesk::redirects::queries::add(conn, "/about-us/", None, Some("/about"), now)?;
                Ok(())
            })
            .await
            .unwrap();
        let res = app
            .get("/api/v1/redirects/resolve?path=%2F%3Fp%3D42", None)
            .await;
        assert_eq!(res.json()["location"], "/2024/new-title");
        let res = app
            .get("/api/v1/redirects/resolve?path=/about-us", None)
            .await;
        assert_eq!(res.json(), json!({"location": "/about", "status": 301}));

        // Unpublished: the old addresses stop resolving (no draft is revealed).
        app.patch(
            &format!("/api/v1/articles/{aid}"),
            Some(&token),
            &json!({"status": "draft"}),
        )
        .await
        .assert_status(200);
        app.get("/api/v1/redirects/resolve?path=/2024/old-title", None)
            .await
            .assert_problem(404);
        app.get("/api/v1/redirects/resolve?path=%2F%3Fp%3D42", None)
            .await
            .assert_problem(404);
    }
);

db_test!(bad_resolver_input_is_a_400, |backend| {
    let app = TestApp::spawn(backend).await;
    // An empty path is no path: nothing lives there.
    app.get("/api/v1/redirects/resolve?path=", None)
        .await
        .assert_problem(404);
    for query in [
        "",
        "?path=no-slash",
        "?path=//evil.example/x",
        "?path=/a&other=1",
        "?path=/a%0Ab",
        "?path=/a%00b",
    ] {
        let res = app
            .get(&format!("/api/v1/redirects/resolve{query}"), None)
            .await;
        res.assert_problem(400);
    }
    let long = format!("/{}", "a".repeat(3000));
    app.get(&format!("/api/v1/redirects/resolve?path={long}"), None)
        .await
        .assert_problem(400);
    app.get("/api/v1/redirects/resolve?path=/x", Some("not-a-token"))
        .await
        .assert_problem(401);
});

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
