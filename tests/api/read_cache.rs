//! The in-process cache of anonymous reads: hits skip the database, every
//! write through the API empties it, signed-in reads never use it, and
//! entries expire after NEWSDESK_READ_CACHE_MS.

use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::articles;
use serde_json::json;

use crate::db_test;
use crate::helpers::TestApp;

async fn spawn(backend: newsdesk::db::Backend, ttl_ms: &str) -> TestApp {
    TestApp::spawn_with(backend, &[("NEWSDESK_READ_CACHE_MS", ttl_ms)]).await
}

async fn publish(app: &TestApp, token: &str, title: &str) -> i64 {
    let res = app
        .post(
            "/api/v1/articles",
            Some(token),
            &json!({"title": title, "body": "Some words.", "status": "published"}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_i64().unwrap()
}

fn retitle_in_db(app: &TestApp, id: i64, title: &str) {
    diesel::update(articles::table.find(id))
        .set(articles::title.eq(title))
        .execute(&mut app.conn())
        .unwrap();
}

db_test!(
    anonymous_reads_are_served_from_memory_until_a_write,
    |backend| {
        let app = spawn(backend, "60000").await;
        let (_, editor) = app.user(Role::Editor).await;
        let id = publish(&app, &editor, "First title").await;
        let path = format!("/api/v1/articles/{id}");

        let first = app.get(&path, None).await;
        first.assert_status(200);
        assert_eq!(first.json()["title"], "First title");
        let etag = first.header("etag").unwrap();

        // Changed behind the API's back: the cached answer is still served.
        retitle_in_db(&app, id, "Changed in the database");
        let cached = app.get(&path, None).await;
        cached.assert_status(200);
        assert_eq!(cached.json()["title"], "First title");
        assert_eq!(cached.header("etag").as_deref(), Some(etag.as_str()));
        assert_eq!(
            cached.header("cache-control").as_deref(),
            Some("public, max-age=60")
        );
        // Conditional requests are answered from the cache too.
        let not_modified = app
            .request("GET", &path, None, None, &[("If-None-Match", &etag)])
            .await;
        not_modified.assert_status(304);
        assert!(not_modified.body.is_empty());

        // Signed-in reads never use the cache.
        let fresh = app.get(&path, Some(&editor)).await;
        assert_eq!(fresh.json()["title"], "Changed in the database");
        assert_eq!(
            fresh.header("cache-control").as_deref(),
            Some("private, no-store")
        );

        // A view beacon does not empty the cache (counters may lag by design)...
        app.request("POST", &format!("{path}/views"), None, None, &[])
            .await
            .assert_status(202);
        assert_eq!(app.get(&path, None).await.json()["title"], "First title");

        // ...but any write through the API does, at once.
        let res = app
            .patch(
                &path,
                Some(&editor),
                &json!({"subtitle": "Now with a subtitle"}),
            )
            .await;
        res.assert_status(200);
        let after = app.get(&path, None).await;
        assert_eq!(after.json()["title"], "Changed in the database");
        assert_eq!(after.json()["subtitle"], "Now with a subtitle");
        assert_ne!(after.header("etag").as_deref(), Some(etag.as_str()));
    }
);

db_test!(lists_and_counts_are_fresh_after_writes, |backend| {
    let app = spawn(backend, "60000").await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, reader) = app.user(Role::Reader).await;
    let id = publish(&app, &editor, "Only story").await;

    let list = app.get("/api/v1/articles", None).await;
    assert_eq!(list.json()["meta"]["total"], 1);
    assert_eq!(list.header("x-total-count").as_deref(), Some("1"));

    // A new article appears in the anonymous list immediately.
    publish(&app, &editor, "Second story").await;
    let list = app.get("/api/v1/articles", None).await;
    assert_eq!(list.json()["meta"]["total"], 2);
    assert_eq!(list.header("x-total-count").as_deref(), Some("2"));
    assert!(list.header("link").is_some());

    // comment_count is exact right after a comment.
    let path = format!("/api/v1/articles/{id}");
    assert_eq!(app.get(&path, None).await.json()["comment_count"], 0);
    app.post(
        &format!("{path}/comments"),
        Some(&reader),
        &json!({"body": "Well reported."}),
    )
    .await
    .assert_status(201);
    assert_eq!(app.get(&path, None).await.json()["comment_count"], 1);
    let comments = app.get(&format!("{path}/comments"), None).await;
    assert_eq!(comments.json()["meta"]["total"], 1);

    // A deleted article is gone for anonymous readers at once.
    app.delete(&path, Some(&editor)).await.assert_status(204);
    app.get(&path, None).await.assert_problem(404);
    assert_eq!(
        app.get("/api/v1/articles", None).await.json()["meta"]["total"],
        1
    );
});

db_test!(entries_expire_after_their_lifetime, |backend| {
    let app = spawn(backend, "200").await;
    let (_, editor) = app.user(Role::Editor).await;
    let id = publish(&app, &editor, "Before").await;
    let path = format!("/api/v1/articles/{id}");
    assert_eq!(app.get(&path, None).await.json()["title"], "Before");
    retitle_in_db(&app, id, "After");
    assert_eq!(app.get(&path, None).await.json()["title"], "Before");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(app.get(&path, None).await.json()["title"], "After");
});

db_test!(errors_and_problem_answers_are_not_cached, |backend| {
    let app = spawn(backend, "60000").await;
    let (_, editor) = app.user(Role::Editor).await;
    app.get("/api/v1/articles/999", None)
        .await
        .assert_problem(404);
    // An article with that id now exists? Ids are assigned, so create until
    // a missing path becomes real through the slug route instead.
    app.get("/api/v1/articles/slug/late-story", None)
        .await
        .assert_problem(404);
    publish(&app, &editor, "Late story").await;
    app.get("/api/v1/articles/slug/late-story", None)
        .await
        .assert_status(200);
    app.get("/api/v1/articles?per_page=500", None)
        .await
        .assert_problem(400);
});

db_test!(concurrent_misses_share_one_answer, |backend| {
    let app = spawn(backend, "60000").await;
    let (_, editor) = app.user(Role::Editor).await;
    publish(&app, &editor, "Harbour strike ends").await;
    let path = "/api/v1/articles?q=harbour";
    let first = app.get(path, None).await;
    first.assert_status(200);
    let etag = first.header("etag").unwrap();
    // Any write empties the cache, so what follows are misses.
    publish(&app, &editor, "Unrelated story").await;
    // Fifty simultaneous misses, some conditional: all get the same answer.
    let requests = (0..50).map(|i| {
        let headers: Vec<(&str, &str)> = if i % 5 == 0 {
            vec![("If-None-Match", etag.as_str())]
        } else {
            vec![]
        };
        let app = &app;
        async move { app.request("GET", path, None, None, &headers).await }
    });
    let answers = futures_util::future::join_all(requests).await;
    for (i, res) in answers.iter().enumerate() {
        if i % 5 == 0 {
            res.assert_status(304);
        } else {
            res.assert_status(200);
            assert_eq!(res.json()["meta"]["total"], 1);
            assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
        }
    }
});
