//! `/articles`: create, read, update, delete, roles, publication states,
//! slugs, rendering, caching and concurrency.

use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::{article_revisions, article_tags, articles, slug_redirects, tags};
use serde_json::{Value, json};

use crate::content::{
    add_daily, count_articles, count_revisions, count_tag_links, create, draft, id, ids, published,
    set_counters,
};
use crate::db_test;
use crate::helpers::TestApp;

const FFF: &str = "Fighting for Freedom: U.S. and South Korea Seek Solutions for North Korean Human Rights Issues";

db_test!(
    create_returns_the_article_and_stores_revision_one,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (author, token) = app.user_named(Role::Author, "Daniel Kim").await;
        let res = app
        .post(
            "/api/v1/articles",
            Some(&token),
            &json!({
                "title": FFF,
                "body": "South Korea and the United States held **talks** on Thursday.\n\nSecond paragraph.",
                "tags": ["north-korea", "human-rights", "diplomacy"],
                "status": "published",
                "subtitle": "Allies agree",
                "meta_title": "Meta",
                "canonical_url": "https://example.com/a",
                "feature_image": "https://example.com/a.jpg",
                "comments_enabled": false
            }),
        )
        .await;
        res.assert_status(201);
        let a = res.json();
        let aid = id(&a);
        assert_eq!(
            res.header("location").as_deref(),
            Some(format!("/api/v1/articles/{aid}").as_str())
        );
        assert_eq!(
            res.header("etag").as_deref(),
            Some(format!("\"a{aid}-v1\"").as_str())
        );
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("private, no-store")
        );
        assert_eq!(
            a["slug"],
            "fighting-for-freedom-u-s-and-south-korea-seek-solutions-for-north-korean-human-rights-issues"
        );
        assert_eq!(a["title"], FFF);
        assert_eq!(a["subtitle"], "Allies agree");
        assert_eq!(a["body_format"], "markdown");
        assert_eq!(
            a["body_html"],
            "<p>South Korea and the United States held <strong>talks</strong> on Thursday.</p>\n<p>Second paragraph.</p>\n"
        );
        assert_eq!(
            a["excerpt"],
            "South Korea and the United States held talks on Thursday. Second paragraph."
        );
        assert_eq!(a["status"], "published");
        assert!(a["published_at"].is_string());
        assert_eq!(a["version"], 1);
        assert_eq!(a["reading_time_minutes"], 1);
        assert_eq!(a["comments_enabled"], false);
        assert_eq!(a["meta_title"], "Meta");
        assert_eq!(a["meta_description"], Value::Null);
        assert_eq!(a["canonical_url"], "https://example.com/a");
        assert_eq!(a["feature_image"], "https://example.com/a.jpg");
        assert_eq!(
            a["author"],
            json!({"id": author, "slug": "daniel-kim", "name": "Daniel Kim", "avatar_url": null})
        );
        let tags: Vec<&str> = a["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["north-korea", "human-rights", "diplomacy"]);
        assert_eq!(a["tags"][0]["name"], "North Korea");
        assert_eq!(a["view_count"], 0);
        assert_eq!(a["comment_count"], 0);
        // The fields come in the contract's order.
        let raw = String::from_utf8(res.body.clone()).unwrap();
        let top_level = |k: &str| raw.find(&format!("\"{k}\":")).unwrap();
        let keys: Vec<&str> = {
            let mut k: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
            k.sort_by_key(|k| top_level(k));
            k
        };
        assert_eq!(
            keys,
            [
                "id",
                "slug",
                "title",
                "subtitle",
                "excerpt",
                "body",
                "body_format",
                "body_html",
                "status",
                "published_at",
                "created_at",
                "updated_at",
                "version",
                "feature_image",
                // Additions: the media library's picture (issue 12).
                "feature_image_id",
                "feature_image_media",
                "reading_time_minutes",
                "comments_enabled",
                "meta_title",
                "meta_description",
                "canonical_url",
                "author",
                "tags",
                "view_count",
                "comment_count"
            ]
        );

        // Stored: the row, one revision with the editor, the tag links in order.
        assert_eq!(count_revisions(&app, aid), 1);
        let mut conn = app.conn();
        let (version, editor, snapshot): (i64, Option<i64>, String) = article_revisions::table
            .filter(article_revisions::article_id.eq(aid))
            .select((
                article_revisions::version,
                article_revisions::editor_id,
                article_revisions::snapshot,
            ))
            .first(&mut *conn)
            .unwrap();
        assert_eq!((version, editor), (1, Some(author)));
        let snapshot: Value = serde_json::from_str(&snapshot).unwrap();
        assert_eq!(snapshot["title"], FFF);
        assert_eq!(snapshot["tags"][2]["slug"], "diplomacy");
        let linked: Vec<(String, i32)> = article_tags::table
            .inner_join(tags::table)
            .filter(article_tags::article_id.eq(aid))
            .order(article_tags::position)
            .select((tags::slug, article_tags::position))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            linked,
            [
                ("north-korea".to_string(), 0),
                ("human-rights".to_string(), 1),
                ("diplomacy".to_string(), 2)
            ]
        );
        let body_text: String = articles::table
            .find(aid)
            .select(articles::body_text)
            .first(&mut *conn)
            .unwrap();
        assert_eq!(
            body_text,
            "South Korea and the United States held talks on Thursday.\nSecond paragraph."
        );

        // The public reads it by id and by slug.
        let res = app.get(&format!("/api/v1/articles/{aid}"), None).await;
        res.assert_status(200);
        assert_eq!(res.json()["title"], FFF);
        let slug = a["slug"].as_str().unwrap();
        let res = app
            .get(&format!("/api/v1/articles/slug/{slug}"), None)
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["id"], aid);
    }
);

db_test!(create_defaults_to_a_draft_with_derived_fields, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let words = "word ".repeat(450);
    let a = create(&app, &token, json!({"title": "Plain", "body": words})).await;
    assert_eq!(a["status"], "draft");
    assert_eq!(a["published_at"], Value::Null);
    assert_eq!(a["comments_enabled"], true);
    assert_eq!(a["tags"], json!([]));
    assert_eq!(a["reading_time_minutes"], 2);
    let excerpt = a["excerpt"].as_str().unwrap();
    assert!(excerpt.ends_with("word…"), "{excerpt}");
    assert!(excerpt.chars().count() <= 201);
    // A custom excerpt wins; clearing it derives one again.
    let res = app
        .patch(
            &format!("/api/v1/articles/{}", id(&a)),
            Some(&token),
            &json!({"excerpt": "Custom."}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["excerpt"], "Custom.");
    let res = app
        .patch(
            &format!("/api/v1/articles/{}", id(&a)),
            Some(&token),
            &json!({"excerpt": null}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["excerpt"], excerpt);
});

db_test!(create_rejects_bad_input_and_writes_nothing, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_MAX_BODY_BYTES", "65536")]).await;
    let (_, token) = app.user(Role::Author).await;
    let t = Some(token.as_str());
    let field = |res: &crate::helpers::Res| -> Vec<String> {
        res.assert_problem(422)["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect()
    };
    // Missing, empty and oversize title.
    let res = app.post("/api/v1/articles", t, &json!({"body": "x"})).await;
    assert_eq!(field(&res), ["title"]);
    let res = app
        .post("/api/v1/articles", t, &json!({"title": "  ", "body": "x"}))
        .await;
    assert_eq!(field(&res), ["title"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "t".repeat(301), "body": "x"}),
        )
        .await;
    assert_eq!(field(&res), ["title"]);
    // Missing body, wrong types, unknown fields.
    let res = app
        .post("/api/v1/articles", t, &json!({"title": "x"}))
        .await;
    assert_eq!(field(&res), ["body"]);
    let res = app
        .post("/api/v1/articles", t, &json!({"title": 5, "body": "x"}))
        .await;
    assert_eq!(field(&res), ["title"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "tags": "a"}),
        )
        .await;
    assert_eq!(field(&res), ["tags"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "tags": ["a", 3]}),
        )
        .await;
    assert_eq!(field(&res), ["tags[1]"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "comments_enabled": "yes"}),
        )
        .await;
    assert_eq!(field(&res), ["comments_enabled"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "view_count": 5}),
        )
        .await;
    assert_eq!(field(&res), ["view_count"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "status": "live"}),
        )
        .await;
    assert_eq!(field(&res), ["status"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "body_format": "rtf"}),
        )
        .await;
    assert_eq!(field(&res), ["body_format"]);
    // Field rules, all reported at once.
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({
                "title": "x", "body": "x",
                "slug": "Not A Slug",
                "tags": ["ok", "Bad Tag", "-x"],
                "published_at": "yesterday",
                "feature_image": "javascript:alert(1)",
                "canonical_url": "/relative",
                "subtitle": "s".repeat(301),
                "excerpt": "e".repeat(501),
                "meta_title": "m".repeat(301),
                "meta_description": "d".repeat(501)
            }),
        )
        .await;
    let mut got = field(&res);
    got.sort();
    assert_eq!(
        got,
        [
            "canonical_url",
            "excerpt",
            "feature_image",
            "meta_description",
            "meta_title",
            "published_at",
            "slug",
            "subtitle",
            "tags[1]",
            "tags[2]"
        ]
    );
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "x", "body": "x", "tags": many}),
        )
        .await;
    assert_eq!(field(&res), ["tags"]);
    let res = app
        .post(
            "/api/v1/articles",
            t,
            &json!({"title": "a\u{0}b", "body": "x"}),
        )
        .await;
    assert_eq!(field(&res), ["title"]);
    // Malformed JSON, wrong content type, oversize body.
    let res = app
        .raw(
            "POST",
            "/api/v1/articles",
            t,
            "application/json",
            b"{\"title\":".to_vec(),
        )
        .await;
    res.assert_problem(400);
    let res = app
        .raw("POST", "/api/v1/articles", t, "text/plain", b"{}".to_vec())
        .await;
    res.assert_problem(415);
    let big = json!({"title": "big", "body": "x".repeat(70_000)});
    let res = app.post("/api/v1/articles", t, &big).await;
    res.assert_problem(413);
    // Nothing was written, not even a tag.
    assert_eq!(count_articles(&app), 0);
    let mut conn = app.conn();
    let n: i64 = tags::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 0);
});

db_test!(create_role_rules, |backend| {
    let app = TestApp::spawn(backend).await;
    let body = json!({"title": "Hello", "body": "x"});
    let res = app.post("/api/v1/articles", None, &body).await;
    res.assert_problem(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    let res = app
        .post("/api/v1/articles", Some("not-a-token"), &body)
        .await;
    res.assert_problem(401);
    let (_, reader) = app.user(Role::Reader).await;
    app.post("/api/v1/articles", Some(&reader), &body)
        .await
        .assert_problem(403);
    for role in [Role::Author, Role::Editor, Role::Admin] {
        let (uid, token) = app.user(role).await;
        let a = create(&app, &token, body.clone()).await;
        assert_eq!(a["author"]["id"], uid);
    }
    // author_id: editors may set it to an author; authors only to themselves.
    let (author, author_token) = app.user(Role::Author).await;
    let (other, _) = app.user(Role::Author).await;
    let (reader_id, _) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let mut own = body.clone();
    own["author_id"] = json!(author);
    assert_eq!(
        create(&app, &author_token, own).await["author"]["id"],
        author
    );
    let mut other_body = body.clone();
    other_body["author_id"] = json!(other);
    app.post("/api/v1/articles", Some(&author_token), &other_body)
        .await
        .assert_problem(403);
    assert_eq!(
        create(&app, &editor, other_body).await["author"]["id"],
        other
    );
    let mut reader_body = body.clone();
    reader_body["author_id"] = json!(reader_id);
    let p = app
        .post("/api/v1/articles", Some(&editor), &reader_body)
        .await
        .assert_problem(422);
    assert_eq!(p["errors"][0]["field"], "author_id");
    reader_body["author_id"] = json!(999_999);
    app.post("/api/v1/articles", Some(&editor), &reader_body)
        .await
        .assert_problem(422);
    assert_eq!(count_articles(&app), 5);
});

db_test!(get_and_list_follow_visibility_roles, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, owner) = app.user(Role::Author).await;
    let (_, other) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;
    let public = published(&app, &owner, "Public news").await;
    let secret = draft(&app, &owner, "Secret draft").await;
    let d = id(&secret);
    let path = format!("/api/v1/articles/{d}");
    let slug_path = format!("/api/v1/articles/slug/{}", secret["slug"].as_str().unwrap());
    // (caller, sees the draft)
    let matrix: [(Option<&str>, bool); 6] = [
        (None, false),
        (Some(&reader), false),
        (Some(&owner), true),
        (Some(&other), false),
        (Some(&editor), true),
        (Some(&admin), true),
    ];
    for (token, sees) in matrix {
        let res = app.get(&path, token).await;
        let by_slug = app.get(&slug_path, token).await;
        if sees {
            res.assert_status(200);
            by_slug.assert_status(200);
        } else {
            res.assert_problem(404);
            by_slug.assert_problem(404);
        }
        app.get(&format!("/api/v1/articles/{}", id(&public)), token)
            .await
            .assert_status(200);
        // The default list shows editors every status, everyone else the public.
        let list = ids(&app.get("/api/v1/articles", token).await);
        let editorish = token == Some(editor.as_str()) || token == Some(admin.as_str());
        assert_eq!(list.contains(&d), editorish, "{token:?}");
        assert!(list.contains(&id(&public)));
    }
    // Unpublished statuses in lists: editors any, authors their own, others not.
    let res = app.get("/api/v1/articles?status=draft", None).await;
    res.assert_problem(401);
    app.get("/api/v1/articles?status=draft", Some(&reader))
        .await
        .assert_problem(403);
    assert_eq!(
        ids(&app.get("/api/v1/articles?status=draft", Some(&owner)).await),
        [d]
    );
    assert!(ids(&app.get("/api/v1/articles?status=draft", Some(&other)).await).is_empty());
    assert_eq!(
        ids(&app
            .get("/api/v1/articles?status=draft", Some(&editor))
            .await),
        [d]
    );
    assert_eq!(
        ids(&app.get("/api/v1/articles?status=published", None).await),
        [id(&public)]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/articles?status=published", Some(&editor))
            .await),
        [id(&public)]
    );
    app.get("/api/v1/articles/999999", None)
        .await
        .assert_problem(404);
    app.get("/api/v1/articles/abc", None)
        .await
        .assert_problem(400);
    app.get("/api/v1/articles/slug/no-such-article", None)
        .await
        .assert_problem(404);
    app.get("/api/v1/articles/slug/Not%20A%20Slug", None)
        .await
        .assert_problem(404);
    app.get("/api/v1/articles", Some("garbage"))
        .await
        .assert_problem(401);
});

db_test!(patch_and_delete_role_matrix, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, owner) = app.user(Role::Author).await;
    let (_, other) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;
    let public = published(&app, &owner, "Public").await;
    let secret = draft(&app, &owner, "Secret").await;
    let body = json!({"subtitle": "changed"});
    // Published article: who may change it.
    let cases: [(Option<&str>, u16); 6] = [
        (None, 401),
        (Some(&reader), 403),
        (Some(&other), 403),
        (Some(&owner), 200),
        (Some(&editor), 200),
        (Some(&admin), 200),
    ];
    for (i, (token, status)) in cases.into_iter().enumerate() {
        let res = app
            .patch(
                &format!("/api/v1/articles/{}", id(&public)),
                token,
                &json!({"subtitle": format!("changed {i}")}),
            )
            .await;
        if status == 200 {
            res.assert_status(200);
        } else {
            res.assert_problem(status);
        }
    }
    // A draft the caller cannot see is a 404, not a 403.
    for (token, status) in [
        (None, 401),
        (Some(reader.as_str()), 404),
        (Some(other.as_str()), 404),
    ] {
        let path = format!("/api/v1/articles/{}", id(&secret));
        app.patch(&path, token, &body).await.assert_problem(status);
        app.delete(&path, token).await.assert_problem(status);
        app.get(&format!("{path}/revisions"), token)
            .await
            .assert_problem(status);
    }
    let path = format!("/api/v1/articles/{}", id(&public));
    app.delete(&path, None).await.assert_problem(401);
    app.delete(&path, Some(&reader)).await.assert_problem(403);
    app.delete(&path, Some(&other)).await.assert_problem(403);
    assert_eq!(count_articles(&app), 2);
    // Owner, editor and admin may delete.
    app.delete(&format!("/api/v1/articles/{}", id(&secret)), Some(&owner))
        .await
        .assert_status(204);
    app.delete(&path, Some(&editor)).await.assert_status(204);
    let third = published(&app, &owner, "Third").await;
    app.delete(&format!("/api/v1/articles/{}", id(&third)), Some(&admin))
        .await
        .assert_status(204);
    assert_eq!(count_articles(&app), 0);
    app.get(&path, Some(&editor)).await.assert_problem(404);
    app.delete(&path, Some(&editor)).await.assert_problem(404);
});

db_test!(
    delete_removes_links_revisions_redirects_and_counters,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.user(Role::Author).await;
        let a = create(
            &app,
            &token,
            json!({"title": "Doomed", "body": "x", "status": "published", "tags": ["one", "two"]}),
        )
        .await;
        let aid = id(&a);
        let keep = published(&app, &token, "Survivor").await;
        app.patch(
            &format!("/api/v1/articles/{aid}"),
            Some(&token),
            &json!({"slug": "doomed-renamed"}),
        )
        .await
        .assert_status(200);
        add_daily(&app, aid, 0, 5, 1);
        assert_eq!(count_revisions(&app, aid), 2);
        assert_eq!(count_tag_links(&app, aid), 2);
        app.delete(&format!("/api/v1/articles/{aid}"), Some(&token))
            .await
            .assert_status(204);
        assert_eq!(count_revisions(&app, aid), 0);
        assert_eq!(count_tag_links(&app, aid), 0);
        let mut conn = app.conn();
        let redirects: i64 = slug_redirects::table
            .filter(slug_redirects::article_id.eq(aid))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(redirects, 0);
        use newsdesk::db::schema::article_daily_stats;
        let daily: i64 = article_daily_stats::table
            .filter(article_daily_stats::article_id.eq(aid))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(daily, 0);
        // Tags stay (with no article), the other article is untouched.
        let n: i64 = tags::table.count().get_result(&mut *conn).unwrap();
        assert_eq!(n, 2);
        drop(conn);
        assert_eq!(count_revisions(&app, id(&keep)), 1);
        app.get("/api/v1/articles/slug/doomed", None)
            .await
            .assert_problem(404);
    }
);

db_test!(
    patch_is_partial_versioned_and_answers_with_the_new_etag,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.user(Role::Author).await;
        let (editor_id, editor) = app.user(Role::Editor).await;
        let a = create(
            &app,
            &token,
            json!({"title": "First", "body": "Body one", "tags": ["a", "b"], "subtitle": "Sub"}),
        )
        .await;
        let path = format!("/api/v1/articles/{}", id(&a));
        let res = app
            .patch(
                &path,
                Some(&editor),
                &json!({"title": "Second", "tags": ["b", "c"]}),
            )
            .await;
        res.assert_status(200);
        let b = res.json();
        assert_eq!(
            res.header("etag").as_deref(),
            Some(format!("\"a{}-v2\"", id(&a)).as_str())
        );
        assert_eq!(b["version"], 2);
        assert_eq!(b["title"], "Second");
        assert_eq!(b["body"], "Body one");
        assert_eq!(b["subtitle"], "Sub");
        assert_eq!(b["slug"], a["slug"], "a new title keeps the slug");
        let tags: Vec<&str> = b["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["b", "c"]);
        // null clears a nullable field.
        let res = app
            .patch(&path, Some(&token), &json!({"subtitle": null}))
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["subtitle"], Value::Null);
        assert_eq!(res.json()["version"], 3);
        // A patch that changes nothing writes nothing.
        let res = app
            .patch(
                &path,
                Some(&token),
                &json!({"title": "Second", "tags": ["b", "c"]}),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["version"], 3);
        let res = app.patch(&path, Some(&token), &json!({})).await;
        res.assert_status(200);
        assert_eq!(res.json()["version"], 3);
        assert_eq!(count_revisions(&app, id(&a)), 3);
        // Revisions record who changed what.
        let res = app.get(&format!("{path}/revisions"), Some(&token)).await;
        res.assert_status(200);
        let revs = res.json();
        assert_eq!(revs["meta"]["total"], 3);
        assert_eq!(revs["data"][0]["version"], 3);
        assert_eq!(revs["data"][1]["version"], 2);
        assert_eq!(revs["data"][1]["title"], "Second");
        assert_eq!(revs["data"][1]["editor"]["id"], editor_id);
        // Counters never change the version or the signed-in ETag.
        set_counters(&app, id(&a), 100, 4);
        let res = app.get(&path, Some(&token)).await;
        assert_eq!(res.json()["version"], 3);
        assert_eq!(res.json()["view_count"], 100);
        assert_eq!(
            res.header("etag").as_deref(),
            Some(format!("\"a{}-v3\"", id(&a)).as_str())
        );
        // Bad input: 422 per field, nothing changes.
        let res = app
            .patch(
                &path,
                Some(&token),
                &json!({"title": "", "slug": "UPPER", "published_at": 5}),
            )
            .await;
        res.assert_problem(422);
        let res = app
            .patch(&path, Some(&token), &json!({"title": "", "slug": "UPPER"}))
            .await;
        let p = res.assert_problem(422);
        assert_eq!(p["errors"].as_array().unwrap().len(), 2);
        app.patch(&path, Some(&token), &json!({"version_id": 3}))
            .await
            .assert_problem(422);
        app.patch(&path, Some(&token), &json!({"title": "t".repeat(301)}))
            .await
            .assert_problem(422);
        let res = app
            .raw(
                "PATCH",
                &path,
                Some(&token),
                "application/json",
                b"[".to_vec(),
            )
            .await;
        res.assert_problem(400);
        assert_eq!(app.get(&path, Some(&token)).await.json()["version"], 3);
    }
);

db_test!(if_match_and_version_guard_concurrent_edits, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let a = draft(&app, &token, "Guarded").await;
    let path = format!("/api/v1/articles/{}", id(&a));
    let etag = app.get(&path, Some(&token)).await.header("etag").unwrap();
    assert_eq!(etag, format!("\"a{}-v1\"", id(&a)));
    let res = app
        .request(
            "PATCH",
            &path,
            Some(&token),
            Some(&json!({"title": "One"})),
            &[("If-Match", &etag)],
        )
        .await;
    res.assert_status(200);
    let new_etag = res.header("etag").unwrap();
    assert_eq!(new_etag, format!("\"a{}-v2\"", id(&a)));
    // The old ETag is stale now: 412, nothing written.
    let res = app
        .request(
            "PATCH",
            &path,
            Some(&token),
            Some(&json!({"title": "Two"})),
            &[("If-Match", &etag)],
        )
        .await;
    res.assert_problem(412);
    app.request(
        "PATCH",
        &path,
        Some(&token),
        Some(&json!({"title": "Two"})),
        &[("If-Match", "W/\"a1-v2\"")],
    )
    .await
    .assert_problem(412);
    // A stale body version: 409.
    let res = app
        .patch(&path, Some(&token), &json!({"title": "Two", "version": 1}))
        .await;
    res.assert_problem(409);
    assert_eq!(app.get(&path, Some(&token)).await.json()["title"], "One");
    // Current ones pass; * matches any version.
    app.patch(&path, Some(&token), &json!({"title": "Two", "version": 2}))
        .await
        .assert_status(200);
    app.request(
        "PATCH",
        &path,
        Some(&token),
        Some(&json!({"title": "Three"})),
        &[("If-Match", "*")],
    )
    .await
    .assert_status(200);
    // Delete honours If-Match too.
    app.request("DELETE", &path, Some(&token), None, &[("If-Match", &etag)])
        .await
        .assert_problem(412);
    app.request(
        "DELETE",
        &path,
        Some(&token),
        None,
        &[("If-Match", &format!("\"a{}-v4\"", id(&a)))],
    )
    .await
    .assert_status(204);
});

db_test!(etags_and_cache_control_on_reads, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let a = published(&app, &token, "Cached").await;
    let path = format!("/api/v1/articles/{}", id(&a));
    // Anonymous: a body ETag, public caching, 304 on a match.
    let res = app.get(&path, None).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    let etag = res.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.len() > 10);
    let res = app
        .request("GET", &path, None, None, &[("If-None-Match", &etag)])
        .await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
    // Counters change the public body, so its ETag changes.
    set_counters(&app, id(&a), 7, 0);
    let res = app
        .request("GET", &path, None, None, &[("If-None-Match", &etag)])
        .await;
    res.assert_status(200);
    // Signed in: the version ETag, private caching, 304 on a match.
    let res = app.get(&path, Some(&token)).await;
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let vtag = format!("\"a{}-v1\"", id(&a));
    assert_eq!(res.header("etag").as_deref(), Some(vtag.as_str()));
    let res = app
        .request(
            "GET",
            &path,
            Some(&token),
            None,
            &[("If-None-Match", &vtag)],
        )
        .await;
    assert_eq!(res.status, 304);
    // Lists and the slug lookup are ETagged too.
    for p in [
        "/api/v1/articles".to_string(),
        format!("/api/v1/articles/slug/{}", a["slug"].as_str().unwrap()),
        "/api/v1/tags".into(),
        "/api/v1/authors".into(),
        "/api/v1/articles/popular".into(),
    ] {
        let res = app.get(&p, None).await;
        res.assert_status(200);
        let tag = res.header("etag").expect("etag");
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("public, max-age=60"),
            "{p}"
        );
        let res = app
            .request("GET", &p, None, None, &[("If-None-Match", &tag)])
            .await;
        assert_eq!(res.status, 304, "{p}");
    }
});

db_test!(
    publishing_scheduling_unpublishing_and_archiving,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (author_id, owner) = app.user(Role::Author).await;
        let (_, other) = app.user(Role::Author).await;
        let (_, editor) = app.user(Role::Editor).await;
        let a = draft(&app, &owner, "Breaking").await;
        let path = format!("/api/v1/articles/{}", id(&a));
        // Publish: published_at becomes now.
        let res = app
            .patch(&path, Some(&owner), &json!({"status": "published"}))
            .await;
        res.assert_status(200);
        let published_at = res.json()["published_at"].as_str().unwrap().to_string();
        app.get(&path, None).await.assert_status(200);
        // Unpublish keeps the date; re-publishing restores the same place.
        let res = app
            .patch(&path, Some(&owner), &json!({"status": "draft"}))
            .await;
        assert_eq!(res.json()["published_at"], published_at.as_str());
        app.get(&path, None).await.assert_problem(404);
        let res = app
            .patch(&path, Some(&owner), &json!({"status": "published"}))
            .await;
        assert_eq!(res.json()["published_at"], published_at.as_str());
        // Archive hides it from the public, not from its author or editors.
        app.patch(&path, Some(&owner), &json!({"status": "archived"}))
            .await
            .assert_status(200);
        app.get(&path, None).await.assert_problem(404);
        app.get(&path, Some(&owner)).await.assert_status(200);
        app.get(&path, Some(&editor)).await.assert_status(200);
        assert_eq!(
            ids(&app
                .get("/api/v1/articles?status=archived", Some(&owner))
                .await),
            [id(&a)]
        );
        // Schedule: a future published_at hides it until then, with no job.
        // A few seconds ahead, so that the test can also see it go live.
        let go_live = chrono::Utc::now() + chrono::Duration::seconds(5);
        let future = go_live.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let res = app
            .patch(
                &path,
                Some(&owner),
                &json!({"status": "published", "published_at": future, "tags": ["later"]}),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["published_at"], future.as_str());
        app.get(&path, None).await.assert_problem(404);
        app.get(&path, Some(&other)).await.assert_problem(404);
        app.get(&path, Some(&owner)).await.assert_status(200);
        app.get(&path, Some(&editor)).await.assert_status(200);
        assert!(ids(&app.get("/api/v1/articles", None).await).is_empty());
        assert!(ids(&app.get("/api/v1/articles?tag=later", None).await).is_empty());
        assert_eq!(
            ids(&app.get("/api/v1/articles", Some(&editor)).await),
            [id(&a)]
        );
        assert_eq!(
            ids(&app
                .get("/api/v1/articles?status=scheduled", Some(&editor))
                .await),
            [id(&a)]
        );
        assert_eq!(
            ids(&app
                .get("/api/v1/articles?status=scheduled", Some(&owner))
                .await),
            [id(&a)]
        );
        assert!(
            ids(&app
                .get("/api/v1/articles?status=scheduled", Some(&other))
                .await)
            .is_empty()
        );
        let tag = app.get("/api/v1/tags/later", None).await;
        assert_eq!(tag.json()["article_count"], 0);
        app.get("/api/v1/authors", None).await.assert_status(200);
        assert_eq!(
            app.get("/api/v1/authors", None).await.json()["meta"]["total"],
            0
        );
        // When the time comes, it is visible with no further write by the
        // API (lists, totals and tag counts included).
        let wait = go_live - chrono::Utc::now() + chrono::Duration::milliseconds(1100);
        tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
        app.get(&path, None).await.assert_status(200);
        assert_eq!(
            ids(&app.get("/api/v1/articles?tag=later", None).await),
            [id(&a)]
        );
        assert_eq!(
            app.get("/api/v1/tags/later", None).await.json()["article_count"],
            1
        );
        let authors = app.get("/api/v1/authors", None).await.json();
        assert_eq!(authors["data"][0]["id"], author_id);
        // Clearing published_at of a published article means "now".
        let res = app
            .patch(&path, Some(&owner), &json!({"published_at": null}))
            .await;
        res.assert_status(200);
        assert!(res.json()["published_at"].is_string());
        // A backdated publication is allowed.
        let res = app
        .post(
            "/api/v1/articles",
            Some(&owner),
            &json!({"title": "Old", "body": "x", "status": "published", "published_at": "2001-02-03T04:05:06+01:00"}),
        )
        .await;
        res.assert_status(201);
        assert_eq!(res.json()["published_at"], "2001-02-03T03:05:06Z");
    }
);

db_test!(
    slugs_are_transliterated_deduplicated_and_checked,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.user(Role::Author).await;
        let a = draft(&app, &token, "Ürümqi Öl Straße").await;
        assert_eq!(a["slug"], "urumqi-ol-strasse");
        let b = draft(&app, &token, "Ürümqi: öl straße!").await;
        assert_eq!(b["slug"], "urumqi-ol-strasse-2");
        let c = draft(&app, &token, "URUMQI ol strasse").await;
        assert_eq!(c["slug"], "urumqi-ol-strasse-3");
        assert_eq!(
            draft(&app, &token, "北京 新闻").await["slug"],
            "bei-jing-xin-wen"
        );
        assert_eq!(
            draft(&app, &token, "Привет, мир").await["slug"],
            "privet-mir"
        );
        assert_eq!(draft(&app, &token, "🎉 party").await["slug"], "tada-party");
        assert_eq!(draft(&app, &token, "!!! ???").await["slug"], "article");
        // An explicit slug: used as given, 409 when taken, 422 when invalid.
        let res = app
            .post(
                "/api/v1/articles",
                Some(&token),
                &json!({"title": "x", "body": "y", "slug": "my-own-slug"}),
            )
            .await;
        res.assert_status(201);
        assert_eq!(res.json()["slug"], "my-own-slug");
        app.post(
            "/api/v1/articles",
            Some(&token),
            &json!({"title": "x", "body": "y", "slug": "my-own-slug"}),
        )
        .await
        .assert_problem(409);
        for bad in ["My-Slug", "a--b", "-a", "a b", "ä", ""] {
            app.post(
                "/api/v1/articles",
                Some(&token),
                &json!({"title": "x", "body": "y", "slug": bad}),
            )
            .await
            .assert_problem(422);
        }
        let res = app
            .patch(
                &format!("/api/v1/articles/{}", id(&b)),
                Some(&token),
                &json!({"slug": "my-own-slug"}),
            )
            .await;
        res.assert_problem(409);
        assert_eq!(count_articles(&app), 8);
    }
);

db_test!(old_slugs_of_published_articles_redirect, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let a = published(&app, &token, "Original headline").await;
    let path = format!("/api/v1/articles/{}", id(&a));
    let res = app
        .patch(&path, Some(&token), &json!({"slug": "better-headline"}))
        .await;
    res.assert_status(200);
    let res = app
        .get("/api/v1/articles/slug/original-headline", None)
        .await;
    assert_eq!(res.status, 301);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/api/v1/articles/slug/better-headline")
    );
    // A second rename: both old slugs point at the current one.
    app.patch(&path, Some(&token), &json!({"slug": "best-headline"}))
        .await
        .assert_status(200);
    for old in ["original-headline", "better-headline"] {
        let res = app.get(&format!("/api/v1/articles/slug/{old}"), None).await;
        assert_eq!(res.status, 301, "{old}");
        assert_eq!(
            res.header("location").as_deref(),
            Some("/api/v1/articles/slug/best-headline")
        );
    }
    app.get("/api/v1/articles/slug/best-headline", None)
        .await
        .assert_status(200);
    // A new article does not take an old slug that still redirects.
    let b = published(&app, &token, "Original headline").await;
    assert_eq!(b["slug"], "original-headline-2");
    // Renaming back claims the slug again (no redirect loop).
    app.patch(&path, Some(&token), &json!({"slug": "original-headline"}))
        .await
        .assert_status(200);
    app.get("/api/v1/articles/slug/original-headline", None)
        .await
        .assert_status(200);
    let res = app.get("/api/v1/articles/slug/best-headline", None).await;
    assert_eq!(res.status, 301);
    // A redirect to an article the caller may not see is a 404.
    app.patch(&path, Some(&token), &json!({"status": "draft"}))
        .await
        .assert_status(200);
    app.get("/api/v1/articles/slug/best-headline", None)
        .await
        .assert_problem(404);
    assert_eq!(
        app.get("/api/v1/articles/slug/best-headline", Some(&token))
            .await
            .status,
        301
    );
    // Drafts never published get no redirect when renamed.
    let d = draft(&app, &token, "Quiet draft").await;
    app.patch(
        &format!("/api/v1/articles/{}", id(&d)),
        Some(&token),
        &json!({"slug": "renamed-draft"}),
    )
    .await
    .assert_status(200);
    app.get("/api/v1/articles/slug/quiet-draft", Some(&token))
        .await
        .assert_problem(404);
});

db_test!(bodies_are_sanitised_and_tables_rendered, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let md = "# Title\n\n| Year | Count |\n|:-----|------:|\n| 2023 | 196 |\n\n\
              <script>alert('x')</script>\n\n<img src=\"https://x.test/a.png\" onerror=\"alert(1)\">\n\n\
              [click](javascript:alert(1)) <a href=\"javascript:alert(2)\" onclick=\"x()\">b</a> \
              [ok](https://example.com)\n\n<iframe src=\"https://evil.test\"></iframe>";
    let a = create(&app, &token, json!({"title": "Md", "body": md})).await;
    let html = a["body_html"].as_str().unwrap();
    assert!(html.contains("<h1>Title</h1>"), "{html}");
    assert!(html.contains("<table>"), "{html}");
    assert!(
        html.contains("<th style=\"text-align:left\">Year</th>"),
        "{html}"
    );
    assert!(
        html.contains("<td style=\"text-align:right\">196</td>"),
        "{html}"
    );
    for bad in [
        "<script",
        "alert('x')",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
    ] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(
        html.contains("<img src=\"https://x.test/a.png\">"),
        "{html}"
    );
    assert!(html.contains("href=\"https://example.com\""), "{html}");
    assert_eq!(a["body"], md, "the source is kept as written");
    let a = create(
        &app,
        &token,
        json!({
            "title": "Html",
            "body_format": "html",
            "body": "<p onmouseover=\"x()\">Hi <b>there</b></p><script>bad()</script><a href=\"javascript:void(0)\">l</a><style>p{}</style>"
        }),
    )
    .await;
    assert_eq!(a["body_format"], "html");
    assert_eq!(
        a["body_html"],
        "<p>Hi <b>there</b></p><a rel=\"noopener noreferrer\">l</a>"
    );
    assert_eq!(a["excerpt"], "Hi there l");
    // Changing the format re-renders.
    let res = app
        .patch(
            &format!("/api/v1/articles/{}", id(&a)),
            Some(&token),
            &json!({"body_format": "markdown", "body": "*em*"}),
        )
        .await;
    assert_eq!(res.json()["body_html"], "<p><em>em</em></p>\n");
});

db_test!(list_filters_and_include_body, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, dan) = app.user_named(Role::Author, "Daniel Kim").await;
    let (_, lena) = app.user_named(Role::Author, "Lena Fischer").await;
    let mk = |title: &'static str, tags: Vec<&'static str>, at: &'static str| json!({"title": title, "body": format!("{title} body"), "status": "published", "tags": tags, "published_at": at});
    let a = create(
        &app,
        &dan,
        mk(
            "A",
            vec!["north-korea", "human-rights"],
            "2024-01-01T00:00:00Z",
        ),
    )
    .await;
    let b = create(
        &app,
        &dan,
        mk("B", vec!["north-korea"], "2024-02-01T00:00:00Z"),
    )
    .await;
    let c = create(
        &app,
        &lena,
        mk(
            "C",
            vec!["human-rights", "north-korea", "europe"],
            "2024-03-01T00:00:00Z",
        ),
    )
    .await;
    let _d = draft(&app, &lena, "D").await;
    let (a, b, c) = (id(&a), id(&b), id(&c));
    let app_ref = &app;
    let get = |q: &str| {
        let url = format!("/api/v1/articles{q}");
        async move { app_ref.get(&url, None).await }
    };
    assert_eq!(ids(&get("").await), [c, b, a]);
    assert_eq!(ids(&get("?tag=north-korea").await), [c, b, a]);
    assert_eq!(ids(&get("?tag=north-korea&tag=human-rights").await), [c, a]);
    assert_eq!(
        ids(&get("?tag=north-korea&tag=human-rights&tag=europe").await),
        [c]
    );
    assert!(ids(&get("?tag=no-such-tag").await).is_empty());
    assert!(ids(&get("?tag=north-korea&tag=no-such-tag").await).is_empty());
    assert_eq!(ids(&get("?author=daniel-kim").await), [b, a]);
    assert!(ids(&get("?author=nobody-here").await).is_empty());
    assert_eq!(ids(&get("?author=lena-fischer&tag=europe").await), [c]);
    assert_eq!(
        ids(&get("?published_after=2024-01-01T00:00:00Z").await),
        [c, b]
    );
    assert_eq!(
        ids(&get("?published_before=2024-03-01T00:00:00Z").await),
        [b, a]
    );
    assert_eq!(
        ids(&get(
            "?published_after=2024-01-15T00:00:00%2B00:00&published_before=2024-02-15T00:00:00Z"
        )
        .await),
        [b]
    );
    assert_eq!(ids(&get("?sort=published_at").await), [a, b, c]);
    assert_eq!(ids(&get("?sort=title").await), [a, b, c]);
    assert_eq!(ids(&get("?sort=-title").await), [c, b, a]);
    set_counters(&app, a, 30, 1);
    set_counters(&app, b, 10, 9);
    assert_eq!(ids(&get("?sort=-view_count").await), [a, b, c]);
    assert_eq!(ids(&get("?sort=-comment_count").await), [b, a, c]);
    assert_eq!(ids(&get("?sort=comment_count").await), [c, a, b]);
    {
        let mut conn = app.conn();
        for (article, day) in [(a, 3), (b, 5), (c, 1)] {
            let at = chrono::NaiveDate::from_ymd_opt(2024, 1, day)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            diesel::update(articles::table.find(article))
                .set(articles::updated_at.eq(at))
                .execute(&mut *conn)
                .unwrap();
        }
    }
    assert_eq!(ids(&get("?sort=-updated_at").await), [b, a, c]);
    assert_eq!(ids(&get("?sort=updated_at").await), [c, a, b]);
    // List items omit the body unless asked for.
    let res = get("").await;
    res.assert_status(200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("3"));
    let item = &res.json()["data"][0];
    assert!(item.get("body").is_none());
    assert!(item.get("body_html").is_none());
    assert_eq!(item["author"]["slug"], "lena-fischer");
    assert_eq!(item["tags"][0]["slug"], "human-rights");
    assert_eq!(item["tags"][2]["slug"], "europe");
    let item = &get("?include=body").await.json()["data"][0];
    assert_eq!(item["body"], "C body");
    assert_eq!(item["body_html"], "<p>C body</p>\n");
    let meta = &get("?per_page=2").await.json()["meta"];
    assert_eq!(meta["total"], 3);
    assert_eq!(meta["total_pages"], 2);
    assert!(meta["next_cursor"].is_string());
});

db_test!(list_rejects_bad_query_parameters, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Editor).await;
    for q in [
        "?unknown=1",
        "?sort=bogus",
        "?sort=-body",
        "?sort=relevance",
        "?status=pending",
        "?per_page=101",
        "?per_page=0",
        "?per_page=abc",
        "?page=0",
        "?page=-1",
        "?published_after=yesterday",
        "?published_before=2024-13-01T00:00:00Z",
        "?published_after=2024-01-01",
        "?tag=Not%20A%20Slug",
        "?tag=ok&tag=BAD",
        "?author=Daniel%20Kim",
        "?include=comments",
        "?after=not-a-cursor",
        "?page=1&page=2",
    ] {
        let res = app.get(&format!("/api/v1/articles{q}"), Some(&token)).await;
        assert_eq!(res.status, 400, "{q}");
        res.assert_problem(400);
    }
    // A cursor from another sort is refused, not misapplied.
    for i in 0..3 {
        published(&app, &token, &format!("Item {i}")).await;
    }
    let cursor = app.get("/api/v1/articles?per_page=1", None).await.json()["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(
        &format!("/api/v1/articles?per_page=1&sort=title&after={cursor}"),
        None,
    )
    .await
    .assert_problem(400);
    app.get(&format!("/api/v1/articles?per_page=1&after={cursor}"), None)
        .await
        .assert_status(200);
});

db_test!(
    a_tag_page_lists_exactly_the_visible_articles_with_that_tag,
    |backend| {
        // A public page of one tag is read from the tag's links alone (which
        // carry a copy of each article's status and published_at): it must list
        // exactly what the unfiltered list shows with that tag, in the same
        // order, leaving out drafts and scheduled articles, within any dates.
        let app = TestApp::spawn(backend).await;
        let (_, editor) = app.user(Role::Editor).await;
        {
            let mut conn = app.conn();
            newsdesk::seed::seed_articles(&mut conn, 260, |_| {}).unwrap();
        }
        let tag: String = tags::table
            .select(tags::slug)
            .order(tags::id)
            .first(&mut *app.conn())
            .unwrap();
        let scheduled = create(
            &app,
            &editor,
            json!({"title": "Later", "body": "x", "status": "published",
               "published_at": "2999-01-01T00:00:00Z", "tags": [tag]}),
        )
        .await;
        let drafted = create(
            &app,
            &editor,
            json!({"title": "Unfinished", "body": "x", "tags": [tag]}),
        )
        .await;
        // Published, then taken back: its link must follow the article.
        let withdrawn = create(
            &app,
            &editor,
            json!({"title": "Withdrawn", "body": "x", "status": "published", "tags": [tag]}),
        )
        .await;
        app.patch(
            &format!("/api/v1/articles/{}", id(&withdrawn)),
            Some(&editor),
            &json!({"status": "archived"}),
        )
        .await
        .assert_status(200);
        let tagged: std::collections::HashSet<i64> = article_tags::table
            .inner_join(tags::table)
            .filter(tags::slug.eq(&tag))
            .select(article_tags::article_id)
            .load::<i64>(&mut *app.conn())
            .unwrap()
            .into_iter()
            .collect();
        let hidden = [id(&scheduled), id(&drafted), id(&withdrawn)];
        assert!(hidden.iter().all(|h| tagged.contains(h)));
        // A date inside the range of the seeded articles.
        let all = crate::content::walk_pages(&app, "/api/v1/articles?per_page=100", None).await;
        let middle = all[all.len() / 2];
        let cut = app
            .get(&format!("/api/v1/articles/{middle}"), None)
            .await
            .json()["published_at"]
            .as_str()
            .unwrap()
            .replace('+', "%2B");
        for sort in ["-published_at", "published_at"] {
            for dates in [
                String::new(),
                format!("&published_after={cut}"),
                format!("&published_before={cut}"),
            ] {
                let base = format!("/api/v1/articles?per_page=100&sort={sort}{dates}");
                let expected: Vec<i64> = crate::content::walk_pages(&app, &base, None)
                    .await
                    .into_iter()
                    .filter(|a| tagged.contains(a))
                    .collect();
                assert!(!expected.is_empty(), "{base}");
                let by_tag = format!("/api/v1/articles?per_page=30&sort={sort}{dates}&tag={tag}");
                let pages = crate::content::walk_pages(&app, &by_tag, None).await;
                let cursor = crate::content::walk_cursor(&app, &by_tag, None).await;
                assert_eq!(pages, expected, "{by_tag}");
                assert_eq!(cursor, expected, "{by_tag}");
                assert!(hidden.iter().all(|h| !pages.contains(h)));
                let res = app.get(&by_tag, None).await;
                assert_eq!(
                    res.header("x-total-count"),
                    Some(expected.len().to_string()),
                    "{by_tag}"
                );
            }
        }
        // Editors see every status: the drafts with the tag are listed too.
        let editors = crate::content::walk_pages(
            &app,
            &format!("/api/v1/articles?per_page=100&tag={tag}"),
            Some(&editor),
        )
        .await;
        assert!(editors.contains(&id(&drafted)) && editors.contains(&id(&scheduled)));
    }
);

db_test!(deep_numbered_pages_match_the_cursor_walk, |backend| {
    // Enough rows for numbered pages to start from the list index's
    // anchors (every 100th row), with ties in every sort key.
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    {
        let mut conn = app.conn();
        newsdesk::seed::seed_articles(&mut conn, 437, |_| {}).unwrap();
    }
    let tag: String = tags::table
        .select(tags::slug)
        .order(tags::id)
        .first(&mut *app.conn())
        .unwrap();
    for sort in [
        "-published_at",
        "published_at",
        "-updated_at",
        "title",
        "-title",
        "-view_count",
        "comment_count",
    ] {
        for filter in ["", "&tag="] {
            let filter = if filter.is_empty() {
                String::new()
            } else {
                format!("{filter}{tag}")
            };
            let base = format!("/api/v1/articles?per_page=30&sort={sort}{filter}");
            let by_cursor = crate::content::walk_cursor(&app, &base, None).await;
            let by_page = crate::content::walk_pages(&app, &base, None).await;
            assert_eq!(by_cursor, by_page, "sort {sort}{filter}");
            let total = app.get(&base, None).await.json()["meta"]["total"].clone();
            assert_eq!(total, by_page.len(), "sort {sort}{filter}");
            if filter.is_empty() {
                assert_eq!(by_page.len(), 437);
            }
        }
    }
    // A page past the end is empty; the total still counts every row.
    let res = app.get("/api/v1/articles?per_page=100&page=5", None).await;
    assert_eq!(ids(&res).len(), 37);
    let res = app.get("/api/v1/articles?per_page=100&page=6", None).await;
    assert!(ids(&res).is_empty());
    assert_eq!(res.header("x-total-count").as_deref(), Some("437"));
    // A write is seen at once by the total and by deep pages.
    let before = crate::content::walk_pages(&app, "/api/v1/articles?per_page=50", None).await;
    let a = create(
        &app,
        &editor,
        json!({"title": "Newest", "body": "x", "status": "published"}),
    )
    .await;
    let res = app.get("/api/v1/articles?per_page=50&page=3", None).await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("438"));
    assert_eq!(ids(&res), before[99..149].to_vec());
    let after = crate::content::walk_pages(&app, "/api/v1/articles?per_page=50", None).await;
    assert_eq!(after[0], id(&a));
    assert_eq!(after[1..], before[..]);
    // So is an unpublication.
    app.patch(
        &format!("/api/v1/articles/{}", before[120]),
        Some(&editor),
        &json!({"status": "draft"}),
    )
    .await
    .assert_status(200);
    let res = app.get("/api/v1/articles?per_page=50&page=3", None).await;
    assert_eq!(res.header("x-total-count").as_deref(), Some("437"));
    let expected: Vec<i64> = after
        .iter()
        .copied()
        .filter(|x| *x != before[120])
        .skip(100)
        .take(50)
        .collect();
    assert_eq!(ids(&res), expected);
});

db_test!(cursor_walk_equals_page_walk_for_every_sort, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    // 17 published articles, with many ties on published_at, title and
    // the counters, plus drafts (no published_at) for the editor's view.
    let mut all = Vec::new();
    for i in 0..17 {
        let at = if i % 3 == 0 {
            "2024-05-01T00:00:00Z".to_string()
        } else {
            format!("2024-04-{:02}T12:00:00Z", 1 + i % 5)
        };
        let a = create(
            &app,
            &token,
            json!({"title": format!("Title {}", i % 4), "body": "x", "status": "published", "published_at": at}),
        )
        .await;
        set_counters(&app, id(&a), (i % 3) as i64, (i % 2) as i64);
        all.push(id(&a));
    }
    for i in 0..4 {
        draft(&app, &token, &format!("Draft {i}")).await;
    }
    for sort in [
        "published_at",
        "-published_at",
        "updated_at",
        "-updated_at",
        "title",
        "-title",
        "view_count",
        "-view_count",
        "comment_count",
        "-comment_count",
    ] {
        for (who, expected) in [(None, 17usize), (Some(editor.as_str()), 21)] {
            let base = format!("/api/v1/articles?per_page=4&sort={sort}");
            let by_cursor = crate::content::walk_cursor(&app, &base, who).await;
            let by_page = crate::content::walk_pages(&app, &base, who).await;
            assert_eq!(by_cursor, by_page, "sort {sort}, editor {}", who.is_some());
            assert_eq!(by_cursor.len(), expected, "sort {sort}");
            let mut unique = by_cursor.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), expected, "no duplicates for {sort}");
        }
    }
    // Drafts without published_at sort as the oldest.
    let asc = ids(&app
        .get(
            "/api/v1/articles?sort=published_at&per_page=5",
            Some(&editor),
        )
        .await);
    let desc = crate::content::walk_pages(
        &app,
        "/api/v1/articles?sort=-published_at&per_page=5",
        Some(&editor),
    )
    .await;
    assert!(!all.contains(&asc[0]) && !all.contains(&asc[3]));
    assert!(!all.contains(&desc[20]) && !all.contains(&desc[17]));
    // Link headers carry the cursor and the page numbers.
    let res = app
        .get("/api/v1/articles?per_page=4&sort=title&page=2", None)
        .await;
    let link = res.header("link").unwrap();
    assert!(link.contains("rel=\"next\""), "{link}");
    assert!(link.contains("page=1>; rel=\"prev\""), "{link}");
    assert!(link.contains("page=5>; rel=\"last\""), "{link}");
    assert!(link.contains("sort=title"), "{link}");
});

db_test!(revisions_list_get_and_restore, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, owner) = app.user(Role::Author).await;
    let (_, other) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;
    let a = create(
        &app,
        &owner,
        json!({"title": "V1 title", "body": "v1 body", "tags": ["first"], "status": "published"}),
    )
    .await;
    let path = format!("/api/v1/articles/{}", id(&a));
    app.patch(
        &path,
        Some(&owner),
        &json!({"title": "V2 title", "body": "v2 body", "tags": ["second"], "slug": "v2-slug"}),
    )
    .await
    .assert_status(200);
    // Role matrix on the revision endpoints of a published article.
    for (token, status) in [
        (None, 401),
        (Some(reader.as_str()), 403),
        (Some(other.as_str()), 403),
        (Some(owner.as_str()), 200),
        (Some(editor.as_str()), 200),
        (Some(admin.as_str()), 200),
    ] {
        let list = app.get(&format!("{path}/revisions"), token).await;
        let one = app.get(&format!("{path}/revisions/1"), token).await;
        if status == 200 {
            list.assert_status(200);
            one.assert_status(200);
        } else {
            list.assert_problem(status);
            one.assert_problem(status);
            app.request(
                "POST",
                &format!("{path}/revisions/1/restore"),
                token,
                None,
                &[],
            )
            .await
            .assert_problem(status);
        }
    }
    let rev = app
        .get(&format!("{path}/revisions/1"), Some(&owner))
        .await
        .json();
    assert_eq!(rev["version"], 1);
    assert_eq!(rev["title"], "V1 title");
    assert_eq!(rev["content"]["body"], "v1 body");
    assert_eq!(rev["content"]["tags"][0]["slug"], "first");
    assert_eq!(rev["content"]["status"], "published");
    app.get(&format!("{path}/revisions/9"), Some(&owner))
        .await
        .assert_problem(404);
    app.get(&format!("{path}/revisions/x"), Some(&owner))
        .await
        .assert_problem(400);
    let list = app
        .get(&format!("{path}/revisions?sort=version"), Some(&owner))
        .await
        .json();
    assert_eq!(list["data"][0]["version"], 1);
    app.get(&format!("{path}/revisions?sort=title"), Some(&owner))
        .await
        .assert_problem(400);
    app.get(&format!("{path}/revisions?foo=1"), Some(&owner))
        .await
        .assert_problem(400);
    // Restore brings back the content as version 3; slug and status stay.
    app.request(
        "POST",
        &format!("{path}/revisions/1/restore"),
        Some(&owner),
        None,
        &[("If-Match", "\"a1-v1\"")],
    )
    .await
    .assert_problem(412);
    let res = app
        .request(
            "POST",
            &format!("{path}/revisions/1/restore"),
            Some(&owner),
            None,
            &[],
        )
        .await;
    res.assert_status(200);
    let r = res.json();
    assert_eq!(
        res.header("etag").as_deref(),
        Some(format!("\"a{}-v3\"", id(&a)).as_str())
    );
    assert_eq!(r["version"], 3);
    assert_eq!(r["title"], "V1 title");
    assert_eq!(r["body"], "v1 body");
    assert_eq!(r["body_html"], "<p>v1 body</p>\n");
    assert_eq!(r["tags"][0]["slug"], "first");
    assert_eq!(r["slug"], "v2-slug");
    assert_eq!(r["status"], "published");
    assert_eq!(count_revisions(&app, id(&a)), 3);
    // Restoring what is current changes nothing.
    let res = app
        .request(
            "POST",
            &format!("{path}/revisions/3/restore"),
            Some(&editor),
            None,
            &[],
        )
        .await;
    assert_eq!(res.json()["version"], 3);
    // A deleted tag comes back from its slug.
    app.delete("/api/v1/tags/second", Some(&editor))
        .await
        .assert_status(204);
    let res = app
        .request(
            "POST",
            &format!("{path}/revisions/2/restore"),
            Some(&editor),
            None,
            &[],
        )
        .await;
    assert_eq!(res.json()["tags"][0]["slug"], "second");
    assert_eq!(res.json()["version"], 4);
    app.request(
        "POST",
        &format!("{path}/revisions/77/restore"),
        Some(&editor),
        None,
        &[],
    )
    .await
    .assert_problem(404);
});

db_test!(
    popular_rankings_are_reused_briefly_and_visibility_is_immediate,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.user(Role::Author).await;
        let a = id(&published(&app, &token, "A").await);
        let b = id(&published(&app, &token, "B").await);
        add_daily(&app, a, 1, 30, 0);
        add_daily(&app, b, 0, 20, 0);
        let week = "/api/v1/articles/popular?period=week";
        assert_eq!(ids(&app.get(week, None).await), [a, b]);
        // New counts move the ranking within the ranking's lifetime.
        add_daily(&app, b, 2, 100, 0);
        let started = std::time::Instant::now();
        loop {
            let got = ids(&app.get(week, None).await);
            if got == [b, a] {
                break;
            }
            assert_eq!(got, [a, b]);
            assert!(
                started.elapsed()
                    < newsdesk::stats::popular::RANKING_TTL + std::time::Duration::from_secs(2),
                "the ranking did not follow the counters"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        // An article that stops being visible leaves the box at once.
        app.patch(
            &format!("/api/v1/articles/{b}"),
            Some(&token),
            &json!({"status": "archived"}),
        )
        .await
        .assert_status(200);
        assert_eq!(ids(&app.get(week, None).await), [a]);
    }
);

db_test!(popular_ranks_by_period_and_validates, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let a = id(&published(&app, &token, "A").await);
    let b = id(&published(&app, &token, "B").await);
    let c = id(&published(&app, &token, "C").await);
    let hidden = id(&published(&app, &token, "Hidden").await);
    app.patch(
        &format!("/api/v1/articles/{hidden}"),
        Some(&token),
        &json!({"status": "draft"}),
    )
    .await
    .assert_status(200);
    // Today: b leads; this week: a leads (older views); all time: counters.
    add_daily(&app, a, 3, 100, 0);
    add_daily(&app, a, 0, 5, 7);
    add_daily(&app, b, 0, 50, 1);
    add_daily(&app, c, 20, 500, 2);
    add_daily(&app, c, 40, 900, 0);
    add_daily(&app, hidden, 0, 10_000, 100);
    set_counters(&app, a, 105, 7);
    set_counters(&app, b, 50, 1);
    set_counters(&app, c, 1400, 2);
    set_counters(&app, hidden, 10_000, 100);
    let app_ref = &app;
    let pop = |q: &str| {
        let url = format!("/api/v1/articles/popular{q}");
        async move { app_ref.get(&url, None).await }
    };
    assert_eq!(ids(&pop("?metric=views&period=day").await), [b, a]);
    assert_eq!(ids(&pop("?metric=views&period=week").await), [a, b]);
    assert_eq!(ids(&pop("?metric=views&period=month").await), [c, a, b]);
    assert_eq!(ids(&pop("?metric=views&period=all").await), [c, a, b]);
    assert_eq!(ids(&pop("?metric=comments&period=day").await), [a, b]);
    assert_eq!(ids(&pop("?metric=comments&period=all").await), [a, c, b]);
    assert_eq!(
        ids(&pop("?metric=views&period=month&limit=2").await),
        [c, a]
    );
    assert_eq!(ids(&pop("").await), [a, b], "defaults: views, week");
    let res = pop("?period=all&limit=1").await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "only data");
    assert!(body["data"][0].get("body").is_none());
    assert_eq!(body["data"][0]["view_count"], 1400);
    for q in [
        "?limit=0",
        "?limit=51",
        "?limit=x",
        "?metric=likes",
        "?period=year",
        "?foo=bar",
    ] {
        pop(q).await.assert_problem(400);
    }
    pop("?limit=50").await.assert_status(200);
    pop("?limit=1").await.assert_status(200);
    // Many hidden articles ranking above the visible ones are skipped.
    for i in 0..25 {
        let d = id(&draft(&app, &token, &format!("Hidden {i}")).await);
        add_daily(&app, d, 0, 5_000 + i, 0);
    }
    assert_eq!(ids(&pop("?metric=views&period=day&limit=2").await), [b, a]);
});

db_test!(stats_for_owner_and_editors, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, owner) = app.user(Role::Author).await;
    let (_, other) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let a = id(&published(&app, &owner, "Stats").await);
    let d = id(&draft(&app, &owner, "Hidden stats").await);
    add_daily(&app, a, 0, 12, 2);
    add_daily(&app, a, 2, 5, 0);
    add_daily(&app, a, 40, 99, 9);
    set_counters(&app, a, 116, 11);
    let path = format!("/api/v1/articles/{a}/stats");
    for (token, status) in [
        (None, 401),
        (Some(reader.as_str()), 403),
        (Some(other.as_str()), 403),
    ] {
        app.get(&path, token).await.assert_problem(status);
    }
    app.get(&format!("/api/v1/articles/{d}/stats"), Some(&other))
        .await
        .assert_problem(404);
    app.get(&format!("/api/v1/articles/{d}/stats"), Some(&owner))
        .await
        .assert_status(200);
    app.get("/api/v1/articles/424242/stats", Some(&editor))
        .await
        .assert_problem(404);
    let s = app
        .get(&format!("{path}?days=3"), Some(&owner))
        .await
        .json();
    assert_eq!(s["view_count"], 116);
    assert_eq!(s["comment_count"], 11);
    let daily = s["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 3);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(daily[2]["date"], today.to_string());
    assert_eq!(
        (daily[2]["views"].as_i64(), daily[2]["comments"].as_i64()),
        (Some(12), Some(2))
    );
    assert_eq!(daily[1]["views"], 0);
    assert_eq!(daily[0]["views"], 5);
    let s = app.get(&path, Some(&editor)).await.json();
    assert_eq!(s["daily"].as_array().unwrap().len(), 30);
    let s = app
        .get(&format!("{path}?days=365"), Some(&editor))
        .await
        .json();
    let total: i64 = s["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["views"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 116);
    for q in ["?days=0", "?days=366", "?days=x", "?period=day"] {
        app.get(&format!("{path}{q}"), Some(&editor))
            .await
            .assert_problem(400);
    }
});

db_test!(fixed_paths_are_not_captured_by_id, |backend| {
    let app = TestApp::spawn(backend).await;
    app.get("/api/v1/articles/popular", None)
        .await
        .assert_status(200);
    app.get("/api/v1/articles/slug/x", None)
        .await
        .assert_problem(404);
    let res = app
        .request("PUT", "/api/v1/articles/1", None, None, &[])
        .await;
    res.assert_problem(405);
    assert!(res.header("allow").unwrap().contains("PATCH"));
});
