//! The event log: what each change records, in the change's transaction,
//! and `GET /events` with its cursor.

use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::TestApp;

/// Every event after `after`, oldest first (all pages).
pub async fn events_after(app: &TestApp, token: &str, after: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let res = app
            .get(
                &format!("/api/v1/events?after={cursor}&limit=100"),
                Some(token),
            )
            .await;
        res.assert_status(200);
        let body = res.json();
        let data = body["data"].as_array().unwrap().clone();
        out.extend(data.iter().cloned());
        match body["meta"]["next_cursor"].as_str() {
            Some(c) => cursor = c.parse().unwrap(),
            None => return out,
        }
    }
}

pub fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

db_test!(article_lifecycle_records_its_public_events, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    // A draft, edited: nothing public happened.
    let res = app
        .post(
            "/api/v1/articles",
            Some(&editor),
            &json!({"title": "Draft", "body": "x", "tags": ["economy"]}),
        )
        .await;
    res.assert_status(201);
    let id = res.json()["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&editor),
        &json!({"subtitle": "s"}),
    )
    .await
    .assert_status(200);
    assert!(events_after(&app, &editor, 0).await.is_empty());

    // Published, updated, unpublished, published again, deleted.
    for body in [
        json!({"status": "published"}),
        json!({"title": "Draft, now news"}),
        json!({"status": "draft"}),
        json!({"status": "published"}),
    ] {
        app.patch(&format!("/api/v1/articles/{id}"), Some(&editor), &body)
            .await
            .assert_status(200);
    }
    app.delete(&format!("/api/v1/articles/{id}"), Some(&editor))
        .await
        .assert_status(204);
    let events = events_after(&app, &editor, 0).await;
    assert_eq!(
        types(&events),
        [
            "article.published",
            "article.updated",
            "article.unpublished",
            "article.published",
            "article.deleted"
        ]
    );
    let published = &events[0];
    assert_eq!(published["data"]["id"], id);
    assert_eq!(published["data"]["status"], "published");
    assert_eq!(published["data"]["tags"][0]["slug"], "economy");
    assert!(published["data"]["body_html"].is_string());
    let keys: Vec<&str> = published["purge_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let author = published["data"]["author"]["id"].as_i64().unwrap();
    assert!(keys.contains(&format!("article-{id}").as_str()), "{keys:?}");
    assert!(
        keys.contains(&format!("author-{author}").as_str()),
        "{keys:?}"
    );
    assert!(keys.contains(&"tag-economy"), "{keys:?}");
    assert!(keys.contains(&"list-articles"), "{keys:?}");
    assert_eq!(events[1]["data"]["title"], "Draft, now news");
    assert_eq!(
        events[4]["data"],
        json!({"id": id, "slug": events[3]["data"]["slug"]})
    );
    // Ids grow; timestamps are RFC 3339.
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(events[0]["created_at"].as_str().unwrap().ends_with('Z'));
});

db_test!(scheduling_records_article_scheduled, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    let res = app
        .post(
            "/api/v1/articles",
            Some(&editor),
            &json!({"title": "Later", "body": "x", "status": "published",
                    "published_at": "2999-01-01T00:00:00Z"}),
        )
        .await;
    res.assert_status(201);
    let id = res.json()["id"].as_i64().unwrap();
    // Edited while scheduled: scheduled again (with the new content);
    // withdrawn: unpublished.
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&editor),
        &json!({"title": "Later still"}),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&editor),
        &json!({"status": "draft"}),
    )
    .await
    .assert_status(200);
    let events = events_after(&app, &editor, 0).await;
    assert_eq!(
        types(&events),
        [
            "article.scheduled",
            "article.scheduled",
            "article.unpublished"
        ]
    );
    assert_eq!(events[1]["data"]["title"], "Later still");
});

db_test!(comments_and_tags_record_events, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_COMMENT_MODERATION", "pre")]).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, reader) = app.user(Role::Reader).await;
    let res = app
        .post(
            "/api/v1/articles",
            Some(&editor),
            &json!({"title": "Open", "body": "x", "status": "published"}),
        )
        .await;
    let article = res.json()["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/v1/articles/{article}/comments"),
            Some(&reader),
            &json!({"body": "First"}),
        )
        .await;
    res.assert_status(201);
    let comment = res.json()["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/comments/{comment}"),
        Some(&editor),
        &json!({"status": "approved"}),
    )
    .await
    .assert_status(200);
    app.post("/api/v1/tags", Some(&editor), &json!({"name": "Economy"}))
        .await
        .assert_status(201);
    app.patch(
        "/api/v1/tags/economy",
        Some(&editor),
        &json!({"slug": "the-economy"}),
    )
    .await
    .assert_status(200);
    app.delete("/api/v1/tags/the-economy", Some(&editor))
        .await
        .assert_status(204);
    let events = events_after(&app, &editor, 0).await;
    assert_eq!(
        types(&events),
        [
            "article.published",
            "comment.created",
            "comment.approved",
            "tag.created",
            "tag.updated",
            "tag.deleted"
        ]
    );
    assert_eq!(events[1]["data"]["status"], "pending");
    assert_eq!(events[1]["purge_keys"], json!([]));
    assert_eq!(events[2]["data"]["status"], "approved");
    assert_eq!(
        events[2]["purge_keys"],
        json!([format!("article-{article}"), format!("comments-{article}")])
    );
    assert_eq!(events[4]["data"]["slug"], "the-economy");
    assert_eq!(
        events[4]["purge_keys"],
        json!([
            "list-articles",
            "list-tags",
            "tag-economy",
            "tag-the-economy"
        ])
    );
    assert_eq!(events[5]["data"]["slug"], "the-economy");
});

db_test!(a_failed_change_records_no_event, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    app.post("/api/v1/tags", Some(&editor), &json!({"name": "Economy"}))
        .await
        .assert_status(201);
    // A taken slug: 409, and nothing recorded beyond the first tag.
    app.post("/api/v1/tags", Some(&editor), &json!({"name": "Economy"}))
        .await
        .assert_problem(409);
    assert_eq!(
        types(&events_after(&app, &editor, 0).await),
        ["tag.created"]
    );
});

db_test!(
    events_page_by_cursor_and_check_their_parameters,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, editor) = app.user(Role::Editor).await;
        let (_, author) = app.user(Role::Author).await;
        for i in 0..5 {
            app.post(
                "/api/v1/tags",
                Some(&editor),
                &json!({"name": format!("Tag {i}")}),
            )
            .await
            .assert_status(201);
        }
        let res = app.get("/api/v1/events?limit=2", Some(&editor)).await;
        res.assert_status(200);
        assert_eq!(res.header("x-total-count").as_deref(), Some("5"));
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("private, no-store")
        );
        let body = res.json();
        assert_eq!(body["data"].as_array().unwrap().len(), 2);
        let next = body["meta"]["next_cursor"].as_str().unwrap().to_string();
        assert_eq!(next, body["data"][1]["id"].as_i64().unwrap().to_string());
        assert!(
            res.header("link")
                .unwrap()
                .contains(&format!("after={next}"))
        );
        let all = crate::events::events_after(&app, &editor, 0).await;
        assert_eq!(all.len(), 5);
        let rest = crate::events::events_after(&app, &editor, next.parse().unwrap()).await;
        assert_eq!(rest.len(), 3);
        assert_eq!(rest[0]["data"]["name"], "Tag 2");
        let last = all[4]["id"].as_i64().unwrap();
        let res = app
            .get(&format!("/api/v1/events?after={last}"), Some(&editor))
            .await;
        assert_eq!(res.json()["data"], json!([]));
        assert!(res.json()["meta"]["next_cursor"].is_null());

        // Who may read.
        app.get("/api/v1/events", None).await.assert_problem(401);
        app.get("/api/v1/events", Some("nonsense"))
            .await
            .assert_problem(401);
        app.get("/api/v1/events", Some(&author))
            .await
            .assert_problem(403);
        let (_, admin) = app.user(Role::Admin).await;
        app.get("/api/v1/events", Some(&admin))
            .await
            .assert_status(200);
        // Bad parameters.
        for q in [
            "after=-1",
            "after=x",
            "limit=0",
            "limit=1001",
            "limit=1.5",
            "page=2",
            "sort=id",
        ] {
            app.get(&format!("/api/v1/events?{q}"), Some(&editor))
                .await
                .assert_problem(400);
        }
    }
);

db_test!(
    a_reader_following_the_cursor_during_concurrent_writes_misses_nothing,
    |backend| {
        use futures_util::future::join_all;
        use std::cell::Cell;

        let app = TestApp::spawn_with(backend, &[("NEWSDESK_WORKERS", "2")]).await;
        let (_, editor) = app.user(Role::Editor).await;
        let mut articles = Vec::new();
        for i in 0..4 {
            let res = app
                .post(
                    "/api/v1/articles",
                    Some(&editor),
                    &json!({"title": format!("Story {i}"), "body": "x", "status": "published"}),
                )
                .await;
            res.assert_status(201);
            articles.push(res.json()["id"].as_i64().unwrap());
        }
        let mut readers = Vec::new();
        for _ in 0..6 {
            readers.push(app.user(Role::Reader).await.1);
        }
        let start = events_after(&app, &editor, 0).await;
        let cursor0 = start.last().unwrap()["id"].as_i64().unwrap();

        // 60 comments from 6 users on 4 stories, all at once, while a
        // reader follows the cursor the way an integration polls.
        let done = Cell::new(false);
        let writes = async {
            let made = join_all((0..60).map(|i| {
                let path = format!("/api/v1/articles/{}/comments", articles[i % 4]);
                let token = readers[i % readers.len()].clone();
                let app = &app;
                async move {
                    let res = app
                        .post(&path, Some(&token), &json!({"body": format!("c{i}")}))
                        .await;
                    res.assert_status(201);
                    res.json()["id"].as_i64().unwrap()
                }
            }))
            .await;
            done.set(true);
            made
        };
        let follow = async {
            let mut seen: Vec<Value> = Vec::new();
            let mut cursor = cursor0;
            loop {
                let finished = done.get();
                let batch = events_after(&app, &editor, cursor).await;
                if let Some(last) = batch.last() {
                    cursor = last["id"].as_i64().unwrap();
                }
                seen.extend(batch);
                if finished {
                    return seen;
                }
                actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        let (made, seen) = futures_util::future::join(writes, follow).await;

        let ids: Vec<i64> = seen.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids out of order: {ids:?}"
        );
        let mut comments: Vec<i64> = seen
            .iter()
            .filter(|e| e["type"] == "comment.created")
            .map(|e| e["data"]["id"].as_i64().unwrap())
            .collect();
        comments.sort_unstable();
        let mut made = made;
        made.sort_unstable();
        assert_eq!(comments, made, "the follower missed or repeated events");
        // The whole log agrees with what the follower saw.
        let all = events_after(&app, &editor, cursor0).await;
        assert_eq!(all, seen);
    }
);
