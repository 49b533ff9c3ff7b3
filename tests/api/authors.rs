//! `/authors`: users with at least one visible article.

use newsdesk::auth::Role;
use serde_json::json;

use crate::content::{create, draft, ids, published, walk_cursor, walk_pages};
use crate::db_test;
use crate::helpers::TestApp;

db_test!(authors_are_users_with_visible_articles, |backend| {
    let app = TestApp::spawn(backend).await;
    let (dan, dan_t) = app.user_named(Role::Author, "Daniel Kim").await;
    let (lena, lena_t) = app.user_named(Role::Author, "Lena Fischer").await;
    let (_, drafter) = app.user_named(Role::Author, "Only Drafts").await;
    let (_, scheduler) = app.user_named(Role::Author, "Only Scheduled").await;
    let (ed, ed_t) = app.user_named(Role::Editor, "Grace Park").await;
    let (_, reader) = app.user(Role::Reader).await;
    published(&app, &dan_t, "One").await;
    published(&app, &dan_t, "Two").await;
    published(&app, &lena_t, "Three").await;
    published(&app, &ed_t, "Editorial").await;
    draft(&app, &drafter, "Never out").await;
    create(
        &app,
        &scheduler,
        json!({"title": "Later", "body": "x", "status": "published", "published_at": "2999-01-01T00:00:00Z"}),
    )
    .await;
    let res = app.get("/api/v1/authors", None).await;
    res.assert_status(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("3"));
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    let body = res.json();
    assert_eq!(ids(&res), [dan, ed, lena], "sorted by name");
    let d = &body["data"][0];
    assert_eq!(
        *d,
        json!({"id": dan, "slug": "daniel-kim", "name": "Daniel Kim", "bio": null, "avatar_url": null, "article_count": 2})
    );
    assert!(d.get("email").is_none() && d.get("role").is_none());
    assert_eq!(
        ids(&app.get("/api/v1/authors?sort=-article_count", None).await),
        [dan, ed, lena],
        "ties go to the higher id"
    );
    assert_eq!(
        ids(&app.get("/api/v1/authors?sort=-name", None).await),
        [lena, ed, dan]
    );
    // The same for every caller.
    assert_eq!(
        ids(&app.get("/api/v1/authors", Some(&reader)).await),
        [dan, ed, lena]
    );
    // One author.
    let res = app.get("/api/v1/authors/daniel-kim", None).await;
    res.assert_status(200);
    assert_eq!(res.json()["article_count"], 2);
    assert_eq!(res.json()["id"], dan);
    for missing in ["only-drafts", "only-scheduled", "nobody", "Bad%20Slug"] {
        app.get(&format!("/api/v1/authors/{missing}"), None)
            .await
            .assert_problem(404);
    }
    // Unpublishing the last article removes the author.
    let lena_article = ids(&app.get("/api/v1/articles?author=lena-fischer", None).await)[0];
    app.patch(
        &format!("/api/v1/articles/{lena_article}"),
        Some(&lena_t),
        &json!({"status": "archived"}),
    )
    .await
    .assert_status(200);
    app.get("/api/v1/authors/lena-fischer", None)
        .await
        .assert_problem(404);
    assert_eq!(ids(&app.get("/api/v1/authors", None).await), [dan, ed]);
    let _ = lena;
    // Bad parameters.
    for q in ["?sort=email", "?per_page=101", "?role=author", "?after=x"] {
        app.get(&format!("/api/v1/authors{q}"), None)
            .await
            .assert_problem(400);
    }
    app.get("/api/v1/authors", Some("bad-token"))
        .await
        .assert_problem(401);
});

db_test!(author_pages_walk_the_same_by_cursor_and_number, |backend| {
    let app = TestApp::spawn(backend).await;
    for i in 0..7 {
        let (_, t) = app
            .user_named(Role::Author, &format!("Writer {}", i % 3))
            .await;
        for j in 0..(i % 3 + 1) {
            published(&app, &t, &format!("Article {i} {j}")).await;
        }
    }
    for sort in ["name", "-name", "article_count", "-article_count"] {
        let base = format!("/api/v1/authors?per_page=2&sort={sort}");
        let by_cursor = walk_cursor(&app, &base, None).await;
        assert_eq!(by_cursor, walk_pages(&app, &base, None).await, "{sort}");
        assert_eq!(by_cursor.len(), 7);
    }
});
