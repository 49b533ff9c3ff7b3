//! `/tags`: public reading, editor management, counts of visible articles.

use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::tags;
use serde_json::{Value, json};

use crate::content::{create, id, ids, walk_cursor, walk_pages};
use crate::db_test;
use crate::helpers::TestApp;

fn count_tags(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    tags::table.count().get_result(&mut *conn).unwrap()
}

db_test!(tags_crud_by_editors, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    let res = app
        .post(
            "/api/v1/tags",
            Some(&editor),
            &json!({"name": "North Korea", "description": "The DPRK."}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/api/v1/tags/north-korea")
    );
    let t = res.json();
    assert_eq!(t["slug"], "north-korea");
    assert_eq!(t["name"], "North Korea");
    assert_eq!(t["description"], "The DPRK.");
    assert_eq!(t["article_count"], 0);
    assert!(t["created_at"].is_string());
    let mut keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "article_count",
            "created_at",
            "description",
            "id",
            "name",
            "slug"
        ]
    );
    let res = app
        .post(
            "/api/v1/tags",
            Some(&editor),
            &json!({"name": "Südkorea", "slug": "south-korea"}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["slug"], "south-korea");
    let res = app
        .post("/api/v1/tags", Some(&editor), &json!({"name": "Straße"}))
        .await;
    assert_eq!(res.json()["slug"], "strasse");
    // Read.
    let res = app.get("/api/v1/tags/north-korea", None).await;
    res.assert_status(200);
    assert_eq!(res.json()["name"], "North Korea");
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    app.get("/api/v1/tags/nope", None).await.assert_problem(404);
    app.get("/api/v1/tags/Not%20Slug", None)
        .await
        .assert_problem(404);
    // Update: name, description (null clears), slug.
    let res = app
        .patch(
            "/api/v1/tags/north-korea",
            Some(&editor),
            &json!({"name": "DPRK", "description": null}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["name"], "DPRK");
    assert_eq!(res.json()["slug"], "north-korea");
    assert_eq!(res.json()["description"], Value::Null);
    let res = app
        .patch(
            "/api/v1/tags/north-korea",
            Some(&editor),
            &json!({"slug": "dprk"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["slug"], "dprk");
    app.get("/api/v1/tags/north-korea", None)
        .await
        .assert_problem(404);
    app.get("/api/v1/tags/dprk", None).await.assert_status(200);
    // Delete.
    app.delete("/api/v1/tags/dprk", Some(&editor))
        .await
        .assert_status(204);
    app.get("/api/v1/tags/dprk", None).await.assert_problem(404);
    app.delete("/api/v1/tags/dprk", Some(&editor))
        .await
        .assert_problem(404);
    app.patch("/api/v1/tags/dprk", Some(&editor), &json!({"name": "x"}))
        .await
        .assert_problem(404);
    assert_eq!(count_tags(&app), 2);
});

db_test!(tag_writes_need_an_editor_and_valid_input, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let body = json!({"name": "Economy"});
    app.post("/api/v1/tags", None, &body)
        .await
        .assert_problem(401);
    app.post("/api/v1/tags", Some(&reader), &body)
        .await
        .assert_problem(403);
    app.post("/api/v1/tags", Some(&author), &body)
        .await
        .assert_problem(403);
    app.post("/api/v1/tags", Some(&admin), &body)
        .await
        .assert_status(201);
    for (token, status) in [
        (None, 401),
        (Some(reader.as_str()), 403),
        (Some(author.as_str()), 403),
    ] {
        app.patch("/api/v1/tags/economy", token, &json!({"name": "Money"}))
            .await
            .assert_problem(status);
        app.delete("/api/v1/tags/economy", token)
            .await
            .assert_problem(status);
    }
    // Conflicts: an explicit or derived slug that exists.
    app.post("/api/v1/tags", Some(&editor), &json!({"name": "ECONOMY!"}))
        .await
        .assert_problem(409);
    app.post(
        "/api/v1/tags",
        Some(&editor),
        &json!({"name": "Other", "slug": "economy"}),
    )
    .await
    .assert_problem(409);
    app.post("/api/v1/tags", Some(&editor), &json!({"name": "Politics"}))
        .await
        .assert_status(201);
    app.patch(
        "/api/v1/tags/politics",
        Some(&editor),
        &json!({"slug": "economy"}),
    )
    .await
    .assert_problem(409);
    // Validation.
    let field = |res: crate::helpers::Res| -> String {
        res.assert_problem(422)["errors"][0]["field"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (app_ref, editor_ref) = (&app, &editor);
    let post = |b: Value| async move { app_ref.post("/api/v1/tags", Some(editor_ref), &b).await };
    assert_eq!(field(post(json!({})).await), "name");
    assert_eq!(field(post(json!({"name": ""})).await), "name");
    assert_eq!(field(post(json!({"name": "n".repeat(101)})).await), "name");
    // A name with nothing to make a slug from gets the fallback slug, as
    // articles do; a second such tag is a conflict like any taken slug.
    let res = post(json!({"name": "!!!"})).await;
    res.assert_status(201);
    assert_eq!(res.json()["slug"], "tag");
    post(json!({"name": "???"})).await.assert_problem(409);
    app.delete("/api/v1/tags/tag", Some(&editor))
        .await
        .assert_status(204);
    assert_eq!(field(post(json!({"name": 7})).await), "name");
    assert_eq!(
        field(post(json!({"name": "A", "slug": "Bad Slug"})).await),
        "slug"
    );
    assert_eq!(
        field(post(json!({"name": "A", "description": "d".repeat(501)})).await),
        "description"
    );
    assert_eq!(
        field(post(json!({"name": "A", "colour": "red"})).await),
        "colour"
    );
    assert_eq!(field(post(json!({"name": "A\u{0}"})).await), "name");
    let res = app
        .patch("/api/v1/tags/politics", Some(&editor), &json!({"name": ""}))
        .await;
    assert_eq!(field(res), "name");
    app.raw(
        "POST",
        "/api/v1/tags",
        Some(&editor),
        "application/json",
        b"{".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw(
        "POST",
        "/api/v1/tags",
        Some(&editor),
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415);
    assert_eq!(count_tags(&app), 2);
});

db_test!(article_count_counts_visible_articles_only, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let mk = |status: &str, at: Option<&str>| {
        let mut b = json!({"title": "T", "body": "x", "tags": ["world"], "status": status});
        if let Some(at) = at {
            b["published_at"] = json!(at);
        }
        b
    };
    let visible = create(&app, &author, mk("published", None)).await;
    create(&app, &author, mk("published", Some("2020-01-01T00:00:00Z"))).await;
    create(&app, &author, mk("draft", None)).await;
    create(&app, &author, mk("archived", None)).await;
    create(&app, &author, mk("published", Some("2999-01-01T00:00:00Z"))).await;
    let t = app.get("/api/v1/tags/world", None).await.json();
    assert_eq!(t["article_count"], 2);
    assert_eq!(t["name"], "World");
    // Editors see the same public count.
    let t = app.get("/api/v1/tags/world", Some(&editor)).await.json();
    assert_eq!(t["article_count"], 2);
    // Delete unlinks the articles without touching their versions.
    app.delete("/api/v1/tags/world", Some(&editor))
        .await
        .assert_status(204);
    let a = app
        .get(&format!("/api/v1/articles/{}", id(&visible)), None)
        .await
        .json();
    assert_eq!(a["tags"], json!([]));
    assert_eq!(a["version"], 1);
});

db_test!(tag_slug_change_keeps_article_links, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let a = create(
        &app,
        &author,
        json!({"title": "T", "body": "x", "tags": ["econ"], "status": "published"}),
    )
    .await;
    app.patch(
        "/api/v1/tags/econ",
        Some(&editor),
        &json!({"slug": "economy", "name": "Economy"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        ids(&app.get("/api/v1/articles?tag=economy", None).await),
        [id(&a)]
    );
    assert!(ids(&app.get("/api/v1/articles?tag=econ", None).await).is_empty());
    let got = app
        .get(&format!("/api/v1/articles/{}", id(&a)), None)
        .await
        .json();
    assert_eq!(
        got["tags"][0],
        json!({"id": got["tags"][0]["id"], "slug": "economy", "name": "Economy"})
    );
    assert_eq!(
        app.get("/api/v1/tags/economy", None).await.json()["article_count"],
        1
    );
});

db_test!(tag_list_filters_sorts_and_pages, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    for name in [
        "North Korea",
        "Norway",
        "Human Rights",
        "Nordic Noir",
        "Economy",
        "Europe",
        "Energy",
    ] {
        app.post("/api/v1/tags", Some(&editor), &json!({"name": name}))
            .await
            .assert_status(201);
    }
    // Counts: europe 3, economy 3, energy 1, others 0 (ties on purpose).
    for tags in [
        vec!["europe", "economy"],
        vec!["europe", "economy", "energy"],
        vec!["europe", "economy"],
    ] {
        create(
            &app,
            &author,
            json!({"title": "T", "body": "x", "tags": tags, "status": "published"}),
        )
        .await;
    }
    let names = |res: &crate::helpers::Res| -> Vec<String> {
        res.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let res = app.get("/api/v1/tags", None).await;
    res.assert_status(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("7"));
    assert_eq!(
        names(&res),
        [
            "Economy",
            "Energy",
            "Europe",
            "Human Rights",
            "Nordic Noir",
            "North Korea",
            "Norway"
        ]
    );
    assert_eq!(
        names(&app.get("/api/v1/tags?q=nor", None).await),
        ["Nordic Noir", "North Korea", "Norway"]
    );
    assert_eq!(
        names(&app.get("/api/v1/tags?q=NORT", None).await),
        ["North Korea"]
    );
    assert!(names(&app.get("/api/v1/tags?q=%25", None).await).is_empty());
    assert!(names(&app.get("/api/v1/tags?q=_", None).await).is_empty());
    let top = app
        .get("/api/v1/tags?sort=-article_count&per_page=3", None)
        .await
        .json();
    assert_eq!(top["data"][0]["article_count"], 3);
    assert_eq!(top["data"][1]["article_count"], 3);
    assert_eq!(top["data"][2]["name"], "Energy");
    for sort in ["name", "-name", "article_count", "-article_count"] {
        let base = format!("/api/v1/tags?per_page=2&sort={sort}");
        let by_cursor = walk_cursor(&app, &base, None).await;
        assert_eq!(by_cursor, walk_pages(&app, &base, None).await, "{sort}");
        assert_eq!(by_cursor.len(), 7);
    }
    for q in [
        "?sort=slug",
        "?per_page=101",
        "?page=0",
        "?foo=1",
        "?after=zzz",
    ] {
        app.get(&format!("/api/v1/tags{q}"), None)
            .await
            .assert_problem(400);
    }
});
