//! Comments: the public thread, writing, threads, moderation, the role
//! matrix of every endpoint, bad input, and the counters stored after every
//! change (`comment_count` and `article_daily_stats.comments`).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::DbConnection;
use newsdesk::db::schema::{articles, comments, users};
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{Res, TestApp};
use crate::views::{daily, insert_article, stored_counts, visible_article};

fn thread(article: i64) -> String {
    format!("/api/v1/articles/{article}/comments")
}

fn one(id: i64) -> String {
    format!("/api/v1/comments/{id}")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Posts a comment and returns its id (asserting a 201).
async fn post(app: &TestApp, article: i64, token: &str, body: &str, parent: Option<i64>) -> i64 {
    let res = app
        .post(
            &thread(article),
            Some(token),
            &json!({"body": body, "parent_id": parent}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_i64().unwrap()
}

fn comment_total(conn: &mut DbConnection) -> i64 {
    comments::table.count().get_result(conn).unwrap()
}

/// The stored counters agree with the stored comments: `comment_count` is
/// the number of approved comments, and each day's `comments` the number of
/// approved comments written that day.
#[track_caller]
fn assert_counts_exact(conn: &mut DbConnection, article: i64) {
    let rows: Vec<(String, NaiveDateTime)> = comments::table
        .filter(comments::article_id.eq(article))
        .select((comments::status, comments::created_at))
        .load(conn)
        .unwrap();
    let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (status, at) in &rows {
        if status == "approved" {
            *per_day.entry(at.date()).or_default() += 1;
        }
    }
    let approved: i64 = per_day.values().sum();
    assert_eq!(stored_counts(conn, article).1, approved, "comment_count");
    let stats = daily(conn, article);
    for (day, _, comments) in &stats {
        assert_eq!(
            *comments,
            per_day.get(day).copied().unwrap_or(0),
            "daily comments of {day}"
        );
    }
    for day in per_day.keys() {
        assert!(stats.iter().any(|(d, _, _)| d == day), "no row for {day}");
    }
}

fn ids(res: &Res) -> Vec<i64> {
    res.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

db_test!(a_comment_is_created_listed_and_counted, |backend| {
    let app = TestApp::spawn(backend).await;
    let article = visible_article(&app).await;
    let (reader, token) = app.user_named(Role::Reader, "Maria Lopez").await;

    let res = app
        .post(
            &thread(article),
            Some(&token),
            &json!({"body": "  Great piece.\nThanks!  "}),
        )
        .await;
    res.assert_status(201);
    let created = res.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/comments/{id}")
    );
    assert_eq!(created["article_id"], article);
    assert_eq!(created["parent_id"], Value::Null);
    assert_eq!(created["body"], "Great piece.\nThanks!");
    assert_eq!(created["status"], "approved");
    assert_eq!(
        created["author"],
        json!({"id": reader, "name": "Maria Lopez", "slug": "maria-lopez"})
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["created_at"], created["updated_at"]);
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "article_id",
            "author",
            "body",
            "created_at",
            "id",
            "parent_id",
            "status",
            "updated_at"
        ]
    );

    // The Location is readable, by anyone for an approved comment.
    let res = app.get(&one(id), None).await;
    res.assert_status(200);
    assert_eq!(res.json(), created);

    let res = app.get(&thread(article), None).await;
    res.assert_status(200);
    assert_eq!(res.json()["data"], json!([created]));
    assert_eq!(res.json()["meta"]["total"], 1);
    assert_eq!(res.header("x-total-count").as_deref(), Some("1"));
    let link = res.header("link").unwrap();
    assert!(
        link.contains("rel=\"first\"") && link.contains("rel=\"last\""),
        "{link}"
    );
    assert!(res.header("cache-control").unwrap().starts_with("public"));
    let etag = res.header("etag").unwrap();
    let res = app
        .request(
            "GET",
            &thread(article),
            None,
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
    res.assert_status(304);

    let mut conn = app.conn();
    assert_eq!(stored_counts(&mut conn, article), (0, 1));
    assert_eq!(daily(&mut conn, article), vec![(today(), 0, 1)]);
    assert_counts_exact(&mut conn, article);
});

db_test!(lists_are_ordered_and_paginated, |backend| {
    let app = TestApp::spawn(backend).await;
    let article = visible_article(&app).await;
    let (_, token) = app.user(Role::Reader).await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(post(&app, article, &token, &format!("comment {i}"), None).await);
    }
    // Order is by creation time, not id: make the first one the newest.
    let later = newsdesk::time::now() + Duration::minutes(5);
    diesel::update(comments::table.find(made[0]))
        .set(comments::created_at.eq(later))
        .execute(&mut app.conn())
        .unwrap();
    let oldest_first = vec![made[1], made[2], made[3], made[4], made[0]];

    let res = app
        .get(&format!("{}?per_page=100", thread(article)), None)
        .await;
    assert_eq!(ids(&res), oldest_first);
    let res = app
        .get(&format!("{}?sort=-created_at", thread(article)), None)
        .await;
    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    assert_eq!(ids(&res), newest_first);

    // Cursor pages, following the Link header.
    let mut seen = Vec::new();
    let mut path = format!("{}?per_page=2", thread(article));
    loop {
        let res = app.get(&path, None).await;
        res.assert_status(200);
        assert_eq!(res.json()["meta"]["total"], 5);
        assert_eq!(res.json()["meta"]["total_pages"], 3);
        seen.extend(ids(&res));
        let link = res.header("link").unwrap();
        match link.split(", ").find(|l| l.ends_with("rel=\"next\"")) {
            Some(next) => {
                path = next
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string();
                assert!(path.contains("after="), "{path}");
            }
            None => {
                assert_eq!(res.json()["meta"]["next_cursor"], Value::Null);
                break;
            }
        }
    }
    assert_eq!(seen, oldest_first);
    // Numbered pages.
    let res = app
        .get(&format!("{}?per_page=2&page=3", thread(article)), None)
        .await;
    assert_eq!(ids(&res), vec![made[0]]);
    // The moderation list pages the same way, newest first by default.
    let (_, editor) = app.user(Role::Editor).await;
    let res = app
        .get(
            &format!("/api/v1/comments?article_id={article}"),
            Some(&editor),
        )
        .await;
    assert_eq!(ids(&res), newest_first);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let res = app
        .get(
            &format!("/api/v1/comments?article_id={article}&sort=created_at&per_page=3"),
            Some(&editor),
        )
        .await;
    assert_eq!(ids(&res), oldest_first[..3].to_vec());
    let cursor = res.json()["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .get(
            &format!(
                "/api/v1/comments?article_id={article}&sort=created_at&per_page=3&after={cursor}"
            ),
            Some(&editor),
        )
        .await;
    assert_eq!(ids(&res), oldest_first[3..].to_vec());
    assert_eq!(res.json()["meta"]["page"], 2);
});

db_test!(invisible_articles_are_404_and_closed_ones_403, |backend| {
    let app = TestApp::spawn(backend).await;
    let (author, _) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let past = Some(newsdesk::time::now() - Duration::hours(2));
    let future = Some(newsdesk::time::now() + Duration::hours(2));
    let mut conn = app.conn();
    let draft = insert_article(&mut conn, author, "draft", None, true);
    let archived = insert_article(&mut conn, author, "archived", past, true);
    let scheduled = insert_article(&mut conn, author, "published", future, true);
    let closed = insert_article(&mut conn, author, "published", past, false);
    drop(conn);

    for article in [draft, archived, scheduled, 987_654] {
        app.get(&thread(article), None).await.assert_problem(404);
        app.post(&thread(article), Some(&reader), &json!({"body": "hello"}))
            .await
            .assert_problem(404);
    }
    // Those who can see an unpublished article learn why they cannot
    // comment on it yet (a 404 would deny what a GET just showed them).
    for article in [draft, archived, scheduled] {
        let body = app
            .post(&thread(article), Some(&editor), &json!({"body": "hello"}))
            .await
            .assert_problem(403);
        assert!(body["detail"].as_str().unwrap().contains("not published"));
    }
    app.post(&thread(987_654), Some(&editor), &json!({"body": "hello"}))
        .await
        .assert_problem(404);
    for token in [&reader, &editor] {
        let body = app
            .post(&thread(closed), Some(token), &json!({"body": "hello"}))
            .await
            .assert_problem(403);
        assert!(body["detail"].as_str().unwrap().contains("closed"));
    }
    app.get(&thread(closed), None).await.assert_status(200);
    app.get("/api/v1/articles/abc/comments", None)
        .await
        .assert_problem(400);
    app.post(
        "/api/v1/articles/abc/comments",
        Some(&reader),
        &json!({"body": "x"}),
    )
    .await
    .assert_problem(400);
    assert_eq!(comment_total(&mut app.conn()), 0);

    // Closing keeps existing comments listed; unpublishing hides them.
    let open = visible_article(&app).await;
    let (_, writer) = app.user(Role::Reader).await;
    let id = post(&app, open, &writer, "before closing", None).await;
    diesel::update(articles::table.find(open))
        .set(articles::comments_enabled.eq(false))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(ids(&app.get(&thread(open), None).await), vec![id]);
    app.post(&thread(open), Some(&writer), &json!({"body": "after"}))
        .await
        .assert_problem(403);
    diesel::update(articles::table.find(open))
        .set(articles::status.eq("draft"))
        .execute(&mut app.conn())
        .unwrap();
    app.get(&thread(open), None).await.assert_problem(404);
    app.get(&one(id), None).await.assert_problem(404);
    app.get(&one(id), Some(&reader)).await.assert_problem(404);
    app.get(&one(id), Some(&writer)).await.assert_status(200);
    app.get(&one(id), Some(&editor)).await.assert_status(200);
    assert_eq!(stored_counts(&mut app.conn(), open), (0, 1));
    assert_counts_exact(&mut app.conn(), open);
});

db_test!(pre_moderation_hides_until_approved, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_COMMENT_MODERATION", "pre")]).await;
    let article = visible_article(&app).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, other) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;

    let res = app
        .post(&thread(article), Some(&reader), &json!({"body": "first!"}))
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["status"], "pending");
    let pending = res.json()["id"].as_i64().unwrap();
    let mut conn = app.conn();
    assert_eq!(stored_counts(&mut conn, article), (0, 0));
    assert!(daily(&mut conn, article).is_empty());
    drop(conn);
    let res = app.get(&thread(article), None).await;
    assert_eq!(res.json()["data"], json!([]));
    assert_eq!(res.header("x-total-count").as_deref(), Some("0"));
    app.get(&one(pending), None).await.assert_problem(404);
    app.get(&one(pending), Some(&other))
        .await
        .assert_problem(404);
    app.get(&one(pending), Some(&reader))
        .await
        .assert_status(200);
    // Others cannot reply to what they cannot see; the author can.
    let body = app
        .post(
            &thread(article),
            Some(&other),
            &json!({"body": "reply", "parent_id": pending}),
        )
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "parent_id");
    let own_reply = post(&app, article, &reader, "an addition", Some(pending)).await;

    // Editors' and admins' comments are approved at once.
    let res = app
        .post(
            &thread(article),
            Some(&editor),
            &json!({"body": "Welcome."}),
        )
        .await;
    assert_eq!(res.json()["status"], "approved");
    let by_editor = res.json()["id"].as_i64().unwrap();
    let res = app
        .post(&thread(article), Some(&admin), &json!({"body": "Hello."}))
        .await;
    assert_eq!(res.json()["status"], "approved");
    assert_eq!(stored_counts(&mut app.conn(), article), (0, 2));
    assert_counts_exact(&mut app.conn(), article);

    // The queue.
    let res = app
        .get(
            "/api/v1/comments?status=pending&sort=created_at",
            Some(&editor),
        )
        .await;
    res.assert_status(200);
    assert_eq!(ids(&res), vec![pending, own_reply]);
    let res = app
        .get("/api/v1/comments?status=approved", Some(&admin))
        .await;
    assert_eq!(res.json()["meta"]["total"], 2);

    // Approve, reject, spam, approve: the count follows.
    let steps = [
        ("approved", 3),
        ("rejected", 2),
        ("spam", 2),
        ("pending", 2),
        ("approved", 3),
    ];
    for (status, expected) in steps {
        let res = app
            .patch(&one(pending), Some(&editor), &json!({"status": status}))
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["status"], status);
        assert_eq!(res.json()["body"], "first!");
        let mut conn = app.conn();
        assert_eq!(stored_counts(&mut conn, article).1, expected, "{status}");
        assert_eq!(daily(&mut conn, article), vec![(today(), 0, expected)]);
        assert_counts_exact(&mut conn, article);
    }
    assert!(ids(&app.get(&thread(article), None).await).contains(&pending));

    // The author's edit of an approved comment goes back to the queue.
    let res = app
        .patch(
            &one(pending),
            Some(&reader),
            &json!({"body": "first, edited"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["status"], "pending");
    assert_eq!(stored_counts(&mut app.conn(), article).1, 2);
    assert!(!ids(&app.get(&thread(article), None).await).contains(&pending));
    // An editor's edit does not.
    let res = app
        .patch(
            &one(by_editor),
            Some(&editor),
            &json!({"body": "Welcome, all."}),
        )
        .await;
    assert_eq!(res.json()["status"], "approved");
    assert_eq!(stored_counts(&mut app.conn(), article).1, 2);
    assert_counts_exact(&mut app.conn(), article);
});

db_test!(counts_go_to_the_day_a_comment_was_written, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_COMMENT_MODERATION", "pre")]).await;
    let article = visible_article(&app).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let id = post(&app, article, &reader, "written days ago", None).await;
    let written = newsdesk::time::now() - Duration::days(3);
    diesel::update(comments::table.find(id))
        .set(comments::created_at.eq(written))
        .execute(&mut app.conn())
        .unwrap();
    app.patch(&one(id), Some(&editor), &json!({"status": "approved"}))
        .await
        .assert_status(200);
    assert_eq!(
        daily(&mut app.conn(), article),
        vec![(written.date(), 0, 1)]
    );
    assert_counts_exact(&mut app.conn(), article);
    app.patch(&one(id), Some(&editor), &json!({"status": "rejected"}))
        .await
        .assert_status(200);
    assert_eq!(
        daily(&mut app.conn(), article),
        vec![(written.date(), 0, 0)]
    );
    app.patch(&one(id), Some(&editor), &json!({"status": "approved"}))
        .await
        .assert_status(200);
    app.delete(&one(id), Some(&editor)).await.assert_status(204);
    assert_eq!(
        daily(&mut app.conn(), article),
        vec![(written.date(), 0, 0)]
    );
    assert_eq!(stored_counts(&mut app.conn(), article), (0, 0));
});

db_test!(every_endpoint_enforces_its_roles, |backend| {
    let app = TestApp::spawn(backend).await;
    let article = visible_article(&app).await;
    let (_, owner) = app.user(Role::Reader).await;
    let (_, other) = app.user(Role::Reader).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;
    let everyone = [&owner, &other, &author, &editor, &admin];

    // Writing: anyone signed in.
    let res = app
        .post(&thread(article), None, &json!({"body": "x"}))
        .await;
    res.assert_problem(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    app.post(&thread(article), Some("garbage"), &json!({"body": "x"}))
        .await
        .assert_problem(401);
    let mut by = Vec::new();
    for token in everyone {
        by.push(post(&app, article, token, "hello", None).await);
    }
    let mine = by[0];
    assert_eq!(stored_counts(&mut app.conn(), article).1, 5);

    // Reading the thread: public; a bad token is still a 401.
    app.get(&thread(article), None).await.assert_status(200);
    for token in everyone {
        let res = app.get(&thread(article), Some(token)).await;
        res.assert_status(200);
        assert_eq!(res.json()["meta"]["total"], 5);
    }
    app.get(&thread(article), Some("garbage"))
        .await
        .assert_problem(401);
    app.get(&one(mine), None).await.assert_status(200);

    // The moderation list: editors and admins.
    app.get("/api/v1/comments", None).await.assert_problem(401);
    for token in [&owner, &other, &author] {
        app.get("/api/v1/comments", Some(token))
            .await
            .assert_problem(403);
    }
    for token in [&editor, &admin] {
        let res = app.get("/api/v1/comments", Some(token)).await;
        res.assert_status(200);
        assert_eq!(res.json()["meta"]["total"], 5);
    }

    // Changing the body: the author, editors, admins.
    let edit = |text: &str| json!({"body": text});
    app.patch(&one(mine), None, &edit("anon"))
        .await
        .assert_problem(401);
    for token in [&other, &author] {
        app.patch(&one(mine), Some(token), &edit("not yours"))
            .await
            .assert_problem(403);
    }
    for (token, text) in [
        (&owner, "by owner"),
        (&editor, "by editor"),
        (&admin, "by admin"),
    ] {
        let res = app.patch(&one(mine), Some(token), &edit(text)).await;
        res.assert_status(200);
        assert_eq!(res.json()["body"], text);
    }
    let stored: String = comments::table
        .find(mine)
        .select(comments::body)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(stored, "by admin");

    // Changing the status: editors and admins only, not the owner.
    app.patch(&one(mine), Some(&owner), &json!({"status": "approved"}))
        .await
        .assert_problem(403);
    app.patch(
        &one(mine),
        Some(&owner),
        &json!({"body": "x", "status": "spam"}),
    )
    .await
    .assert_problem(403);
    for token in [&editor, &admin] {
        app.patch(&one(mine), Some(token), &json!({"status": "approved"}))
            .await
            .assert_status(200);
    }
    // Someone else's comment that is not approved is not even visible.
    app.patch(&one(by[2]), Some(&editor), &json!({"status": "pending"}))
        .await
        .assert_status(200);
    app.patch(&one(by[2]), Some(&other), &edit("x"))
        .await
        .assert_problem(404);
    app.delete(&one(by[2]), Some(&other))
        .await
        .assert_problem(404);
    app.get(&one(by[2]), Some(&other)).await.assert_problem(404);
    app.get(&one(by[2]), Some(&author)).await.assert_status(200);
    app.get(&one(by[2]), Some(&editor)).await.assert_status(200);
    assert_eq!(stored_counts(&mut app.conn(), article).1, 4);

    // Deleting: the author, editors, admins.
    app.delete(&one(mine), None).await.assert_problem(401);
    for token in [&other, &author] {
        app.delete(&one(mine), Some(token))
            .await
            .assert_problem(403);
    }
    app.delete(&one(mine), Some(&owner))
        .await
        .assert_status(204);
    app.delete(&one(by[1]), Some(&editor))
        .await
        .assert_status(204);
    app.delete(&one(by[2]), Some(&admin))
        .await
        .assert_status(204);
    for id in [mine, by[1], by[2]] {
        app.get(&one(id), Some(&admin)).await.assert_problem(404);
        app.delete(&one(id), Some(&admin)).await.assert_problem(404);
        app.patch(&one(id), Some(&admin), &edit("x"))
            .await
            .assert_problem(404);
    }
    let mut conn = app.conn();
    assert_eq!(comment_total(&mut conn), 2);
    assert_eq!(stored_counts(&mut conn, article).1, 2);
    assert_eq!(daily(&mut conn, article), vec![(today(), 0, 2)]);
    assert_counts_exact(&mut conn, article);
});

db_test!(threads_nest_and_go_together, |backend| {
    let app = TestApp::spawn(backend).await;
    let article = visible_article(&app).await;
    let elsewhere = visible_article(&app).await;
    let (_, a) = app.user(Role::Reader).await;
    let (_, b) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;

    let top = post(&app, article, &a, "top", None).await;
    let reply = post(&app, article, &b, "reply", Some(top)).await;
    let deeper = post(&app, article, &a, "reply to reply", Some(reply)).await;
    let deepest = post(&app, article, &b, "and more", Some(deeper)).await;
    let kept = post(&app, article, &b, "another thread", None).await;
    let foreign = post(&app, elsewhere, &b, "on another article", None).await;
    let res = app.get(&thread(article), None).await;
    let parents: Vec<(i64, Value)> = res.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_i64().unwrap(), c["parent_id"].clone()))
        .collect();
    assert_eq!(
        parents,
        vec![
            (top, Value::Null),
            (reply, json!(top)),
            (deeper, json!(reply)),
            (deepest, json!(deeper)),
            (kept, Value::Null)
        ]
    );

    // The parent must be a comment on the same article.
    for parent in [json!(foreign), json!(999_999)] {
        let body = app
            .post(
                &thread(article),
                Some(&a),
                &json!({"body": "misplaced", "parent_id": parent}),
            )
            .await
            .assert_problem(422);
        assert_eq!(body["errors"][0]["field"], "parent_id");
    }
    assert_eq!(comment_total(&mut app.conn()), 6);

    // A rejected reply deep in the thread is not counted...
    app.patch(&one(deepest), Some(&editor), &json!({"status": "rejected"}))
        .await
        .assert_status(200);
    assert_eq!(stored_counts(&mut app.conn(), article).1, 4);
    // ...and deleting the top comment removes the whole thread, even the
    // replies by others, taking exactly the approved ones off the count.
    app.delete(&one(top), Some(&a)).await.assert_status(204);
    let mut conn = app.conn();
    let left: Vec<i64> = comments::table
        .select(comments::id)
        .order(comments::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(left, vec![kept, foreign]);
    assert_eq!(stored_counts(&mut conn, article).1, 1);
    assert_eq!(daily(&mut conn, article), vec![(today(), 0, 1)]);
    assert_counts_exact(&mut conn, article);
    assert_eq!(stored_counts(&mut conn, elsewhere).1, 1);
    assert_counts_exact(&mut conn, elsewhere);
    drop(conn);
    app.get(&one(deeper), Some(&editor))
        .await
        .assert_problem(404);
});

db_test!(bad_input_is_rejected_and_nothing_is_stored, |backend| {
    let app = TestApp::spawn(backend).await;
    let article = visible_article(&app).await;
    let (_, token) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let path = thread(article);

    let field_of = |body: &Value| body["errors"][0]["field"].as_str().unwrap().to_string();
    for (payload, field) in [
        (json!({"body": ""}), "body"),
        (json!({"body": "   \n\t  "}), "body"),
        (json!({"body": "x".repeat(5001)}), "body"),
        (json!({"body": format!(" {} ", "é".repeat(5001))}), "body"),
        (json!({"body": "nul \u{0} byte"}), "body"),
        (json!({"body": 5}), "body"),
        (json!({"body": null}), "body"),
        (json!({}), "body"),
        (json!({"body": "ok", "parent_id": "x"}), "parent_id"),
        (json!({"body": "ok", "parent_id": 1.5}), "parent_id"),
        (json!({"body": "ok", "status": "approved"}), "status"),
        (json!({"body": "ok", "author_id": 1}), "author_id"),
    ] {
        let body = app
            .post(&path, Some(&token), &payload)
            .await
            .assert_problem(422);
        assert_eq!(field_of(&body), field, "{payload}");
    }
    let body = app
        .post(&path, Some(&token), &json!({"body": ""}))
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["message"], "must not be empty");
    app.raw(
        "POST",
        &path,
        Some(&token),
        "application/json",
        b"{\"body\":".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw(
        "POST",
        &path,
        Some(&token),
        "application/json",
        b"[1]".to_vec(),
    )
    .await
    .assert_problem(422);
    app.raw("POST", &path, Some(&token), "text/plain", b"hello".to_vec())
        .await
        .assert_problem(415);
    assert_eq!(comment_total(&mut app.conn()), 0);
    assert_eq!(stored_counts(&mut app.conn(), article), (0, 0));
    assert!(daily(&mut app.conn(), article).is_empty());

    // The limits are inclusive and count characters, not bytes.
    let long = "é".repeat(5000);
    let id = post(&app, article, &token, &format!("  {long}  "), None).await;
    let stored: String = comments::table
        .find(id)
        .select(comments::body)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(stored, long);

    // PATCH: the same rules; a rejected change changes nothing.
    let before: (String, String, NaiveDateTime) = comments::table
        .find(id)
        .select((comments::body, comments::status, comments::updated_at))
        .first(&mut app.conn())
        .unwrap();
    for (payload, field) in [
        (json!({"body": "  "}), "body"),
        (json!({"body": "y".repeat(5001)}), "body"),
        (json!({"body": 1}), "body"),
        (json!({"status": "deleted"}), "status"),
        (json!({"status": 3}), "status"),
        (json!({"version": 2}), "version"),
    ] {
        let body = app
            .patch(&one(id), Some(&editor), &payload)
            .await
            .assert_problem(422);
        assert_eq!(field_of(&body), field, "{payload}");
    }
    app.raw(
        "PATCH",
        &one(id),
        Some(&editor),
        "application/json",
        b"{".to_vec(),
    )
    .await
    .assert_problem(400);
    app.patch("/api/v1/comments/abc", Some(&editor), &json!({"body": "x"}))
        .await
        .assert_problem(400);
    app.delete("/api/v1/comments/abc", Some(&editor))
        .await
        .assert_problem(400);
    app.get("/api/v1/comments/abc", None)
        .await
        .assert_problem(400);
    let after: (String, String, NaiveDateTime) = comments::table
        .find(id)
        .select((comments::body, comments::status, comments::updated_at))
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(before, after);
    // An empty change is a no-op that answers with the comment.
    let res = app.patch(&one(id), Some(&token), &json!({})).await;
    res.assert_status(200);
    assert_eq!(res.json()["updated_at"], res.json()["created_at"]);

    // Query strings.
    for query in [
        "foo=1",
        "sort=body",
        "sort=-id",
        "per_page=101",
        "per_page=0",
        "page=0",
        "page=x",
        "after=garbage",
        "status=approved",
    ] {
        app.get(&format!("{path}?{query}"), None)
            .await
            .assert_problem(400);
    }
    for query in [
        "status=deleted",
        "status=Approved",
        "article_id=abc",
        "unknown=1",
        "per_page=101",
        "sort=name",
        "status=pending&status=spam",
    ] {
        app.get(&format!("/api/v1/comments?{query}"), Some(&editor))
            .await
            .assert_problem(400);
    }
    // A cursor belongs to its sort order.
    post(&app, article, &token, "second", None).await;
    let res = app
        .get("/api/v1/comments?per_page=1&sort=created_at", Some(&editor))
        .await;
    let cursor = res.json()["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(
        &format!("/api/v1/comments?per_page=1&after={cursor}"),
        Some(&editor),
    )
    .await
    .assert_problem(400);
    assert_counts_exact(&mut app.conn(), article);
});

db_test!(deleting_a_user_keeps_the_counts_exact, |backend| {
    let app = TestApp::spawn(backend).await;
    let a = visible_article(&app).await;
    let b = visible_article(&app).await;
    let (leaving, leaving_token) = app.user(Role::Reader).await;
    let (_, v) = app.user(Role::Reader).await;
    let (_, w) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;

    let u1 = post(&app, a, &leaving_token, "mine on a", None).await;
    let v1 = post(&app, a, &v, "reply to the leaver", Some(u1)).await;
    post(&app, a, &w, "reply to the reply", Some(v1)).await;
    let stays = post(&app, a, &w, "unrelated", None).await;
    let u2 = post(&app, b, &leaving_token, "mine on b", None).await;
    let v2 = post(&app, b, &v, "rejected reply", Some(u2)).await;
    let other_thread = post(&app, b, &v, "other thread", None).await;
    let leaver_reply = post(&app, b, &leaving_token, "my reply", Some(other_thread)).await;
    app.patch(&one(v2), Some(&editor), &json!({"status": "rejected"}))
        .await
        .assert_status(200);
    assert_eq!(stored_counts(&mut app.conn(), a).1, 4);
    assert_eq!(stored_counts(&mut app.conn(), b).1, 3);

    app.delete(&format!("/api/v1/users/{leaving}"), Some(&admin))
        .await
        .assert_status(204);
    let mut conn = app.conn();
    let left: Vec<i64> = comments::table
        .select(comments::id)
        .order(comments::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(left, vec![stays, other_thread]);
    assert!(!left.contains(&leaver_reply));
    assert_eq!(stored_counts(&mut conn, a).1, 1);
    assert_eq!(stored_counts(&mut conn, b).1, 1);
    assert_eq!(daily(&mut conn, a), vec![(today(), 0, 1)]);
    assert_eq!(daily(&mut conn, b), vec![(today(), 0, 1)]);
    assert_counts_exact(&mut conn, a);
    assert_counts_exact(&mut conn, b);
    let gone: i64 = users::table
        .filter(users::id.eq(leaving))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(gone, 0);
    drop(conn);
    // A token of the deleted user can no longer comment.
    app.post(&thread(a), Some(&leaving_token), &json!({"body": "ghost"}))
        .await
        .assert_problem(401);
    assert_eq!(comment_total(&mut app.conn()), 2);
});

/// What the seed made, comparable across databases.
type Seeded = Vec<(i64, Option<i64>, String, String, String)>;

fn seeded(conn: &mut DbConnection) -> Seeded {
    comments::table
        .inner_join(users::table)
        .order(comments::id)
        .select((
            comments::article_id,
            comments::parent_id,
            comments::body,
            comments::status,
            users::name,
        ))
        .load(conn)
        .unwrap()
}

/// Articles for the seed test: visible ones of various ages, a draft and a
/// scheduled one.
fn seed_articles(conn: &mut DbConnection, author: i64) -> (Vec<i64>, Vec<i64>) {
    let now = newsdesk::time::now();
    let mut visible = Vec::new();
    for days in [5, 7, 9, 12, 20, 45, 90, 6] {
        visible.push(insert_article(
            conn,
            author,
            "published",
            Some(now - Duration::days(days)),
            true,
        ));
    }
    let hidden = vec![
        insert_article(conn, author, "draft", None, true),
        insert_article(
            conn,
            author,
            "published",
            Some(now + Duration::days(1)),
            true,
        ),
    ];
    (visible, hidden)
}

db_test!(
    demo_activity_is_realistic_exact_and_deterministic,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (author, _) = app.user(Role::Author).await;
        let (visible, hidden) = seed_articles(&mut app.conn(), author);
        newsdesk::comments::seed_demo_activity(&mut app.conn()).unwrap();

        let mut conn = app.conn();
        let readers: Vec<(String, String)> = users::table
            .filter(users::role.eq("reader"))
            .select((users::email, users::password_hash))
            .load(&mut conn)
            .unwrap();
        assert_eq!(readers.len(), 8);
        for (email, hash) in &readers {
            assert!(hash.starts_with("$argon2id$"), "{email}");
            assert!(!newsdesk::auth::password::verify(
                crate::helpers::DEFAULT_PASSWORD,
                hash
            ));
        }
        let mut hashes: Vec<&String> = readers.iter().map(|(_, h)| h).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 8, "every reader has their own password");

        for id in &hidden {
            assert_eq!(stored_counts(&mut conn, *id), (0, 0));
            assert!(daily(&mut conn, *id).is_empty());
        }
        let mut comment_counts = Vec::new();
        let thirty_days_ago = today() - Duration::days(29);
        for id in &visible {
            assert_counts_exact(&mut conn, *id);
            let (views, count) = stored_counts(&mut conn, *id);
            comment_counts.push(count);
            let rows = daily(&mut conn, *id);
            let viewed: i64 = rows.iter().map(|(_, v, _)| v).sum();
            assert_eq!(views, viewed, "view_count matches the daily rows");
            assert!(views > 0);
            for (day, v, _) in rows {
                if v > 0 {
                    assert!(day >= thirty_days_ago && day <= today(), "{day}");
                }
            }
        }
        comment_counts.sort_unstable();
        comment_counts.dedup();
        assert!(
            comment_counts.len() >= 4,
            "varied counts: {comment_counts:?}"
        );
        let all = seeded(&mut conn);
        assert!(all.iter().any(|c| c.1.is_some()), "some replies");
        // A reply to a reply somewhere.
        let parent_of: BTreeMap<i64, Option<i64>> = comments::table
            .select((comments::id, comments::parent_id))
            .load::<(i64, Option<i64>)>(&mut conn)
            .unwrap()
            .into_iter()
            .collect();
        assert!(
            parent_of
                .values()
                .flatten()
                .any(|p| parent_of.get(p).copied().flatten().is_some()),
            "threads deeper than one reply"
        );
        drop(conn);
        // The public thread shows exactly the counted comments.
        for id in &visible {
            let res = app.get(&thread(*id), None).await;
            assert_eq!(
                res.json()["meta"]["total"].as_i64().unwrap(),
                stored_counts(&mut app.conn(), *id).1
            );
        }

        // Running it again changes nothing.
        let before_views: Vec<(i64, i64)> = visible
            .iter()
            .map(|id| stored_counts(&mut app.conn(), *id))
            .collect();
        newsdesk::comments::seed_demo_activity(&mut app.conn()).unwrap();
        assert_eq!(seeded(&mut app.conn()), all);
        let after_views: Vec<(i64, i64)> = visible
            .iter()
            .map(|id| stored_counts(&mut app.conn(), *id))
            .collect();
        assert_eq!(before_views, after_views);
        let reader_count: i64 = users::table
            .filter(users::role.eq("reader"))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(reader_count, 8);

        // The same articles elsewhere get the same activity.
        let twin = TestApp::spawn(backend).await;
        let (twin_author, _) = twin.user(Role::Author).await;
        let (twin_visible, _) = seed_articles(&mut twin.conn(), twin_author);
        assert_eq!(twin_visible, visible);
        newsdesk::comments::seed_demo_activity(&mut twin.conn()).unwrap();
        assert_eq!(seeded(&mut twin.conn()), all);
        let twin_views: Vec<(i64, i64)> = visible
            .iter()
            .map(|id| stored_counts(&mut twin.conn(), *id))
            .collect();
        assert_eq!(twin_views, before_views);
    }
);

db_test!(
    a_comment_refused_in_a_burst_leaves_the_others_stored,
    |backend| {
        // On SQLite a burst of writes commits as one group, each request in a
        // savepoint: the refused ones must roll back alone.
        use futures_util::future::{LocalBoxFuture, join_all};

        let app = TestApp::spawn_with(backend, &[("NEWSDESK_WORKERS", "2")]).await;
        let article = visible_article(&app).await;
        let other = visible_article(&app).await;
        let (_, reader) = app.user(Role::Reader).await;
        let foreign = post(&app, other, &reader, "elsewhere", None).await;
        let mut ops: Vec<LocalBoxFuture<'_, (bool, u16, serde_json::Value)>> = Vec::new();
        for i in 0..60 {
            let (app, reader) = (&app, &reader);
            // Every third one replies to a comment on another article: the
            // article is locked and checked, then the unit fails with a 422.
            let good = i % 3 != 0;
            let body = if good {
                json!({"body": format!("burst {i}")})
            } else {
                json!({"body": format!("burst {i}"), "parent_id": foreign})
            };
            ops.push(Box::pin(async move {
                let res = app.post(&thread(article), Some(reader), &body).await;
                (good, res.status, res.json())
            }));
        }
        let mut made = Vec::new();
        for (good, status, body) in join_all(ops).await {
            if good {
                assert_eq!(status, 201, "{body}");
                made.push(body["id"].as_i64().unwrap());
            } else {
                assert_eq!(status, 422, "{body}");
                assert_eq!(body["errors"][0]["field"], "parent_id", "{body}");
            }
        }
        assert_eq!(made.len(), 40);
        let mut conn = app.conn();
        assert_counts_exact(&mut conn, article);
        let stored: Vec<i64> = comments::table
            .filter(comments::article_id.eq(article))
            .select(comments::id)
            .order(comments::id)
            .load(&mut conn)
            .unwrap();
        made.sort_unstable();
        assert_eq!(stored, made);
        assert_eq!(stored_counts(&mut conn, article).1, 40);
        // Each answer is what the database holds: every id reads back.
        for id in made.iter().take(3) {
            app.get(&one(*id), None).await.assert_status(200);
        }
    }
);

db_test!(concurrent_comment_writes_keep_the_counts_exact, |backend| {
    use futures_util::future::{LocalBoxFuture, join_all};

    let app = TestApp::spawn_with(backend, &[("NEWSDESK_WORKERS", "2")]).await;
    let article = visible_article(&app).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (leaver, leaver_token) = app.user(Role::Reader).await;
    let mut readers = Vec::new();
    for _ in 0..6 {
        readers.push(app.user(Role::Reader).await.1);
    }
    let made: Vec<i64> = join_all(
        (0..40).map(|i| post(&app, article, &readers[i % readers.len()], "at once", None)),
    )
    .await;
    let leavers: Vec<i64> =
        join_all((0..5).map(|_| post(&app, article, &leaver_token, "mine", None))).await;
    assert_counts_exact(&mut app.conn(), article);

    // Replies, rejections, approvals, deletions of parents being replied
    // to, and the deletion of a user whose comments are being replied to,
    // all at the same time.
    let mut ops: Vec<LocalBoxFuture<'_, (&str, u16)>> = Vec::new();
    for (i, parent) in made[..10].iter().chain(&leavers).enumerate() {
        let token = readers[i % readers.len()].clone();
        let app = &app;
        let parent = *parent;
        ops.push(Box::pin(async move {
            let res = app
                .post(
                    &thread(article),
                    Some(&token),
                    &json!({"body": "reply", "parent_id": parent}),
                )
                .await;
            ("reply", res.status)
        }));
    }
    for (i, id) in made[10..30].iter().enumerate() {
        let status = if i % 2 == 0 { "rejected" } else { "spam" };
        let (app, editor, id) = (&app, &editor, *id);
        ops.push(Box::pin(async move {
            let res = app
                .patch(&one(id), Some(editor), &json!({"status": status}))
                .await;
            ("moderate", res.status)
        }));
    }
    for id in made[..5].iter().chain(&made[30..35]) {
        let (app, editor, id) = (&app, &editor, *id);
        ops.push(Box::pin(async move {
            ("delete", app.delete(&one(id), Some(editor)).await.status)
        }));
    }
    {
        let (app, admin) = (&app, &admin);
        ops.push(Box::pin(async move {
            let res = app
                .delete(&format!("/api/v1/users/{leaver}"), Some(admin))
                .await;
            ("delete user", res.status)
        }));
    }
    for (op, status) in join_all(ops).await {
        match op {
            // A reply races with the deletion of its parent: either it was
            // first (and went with the parent), or the parent was gone.
            "reply" => assert!(status == 201 || status == 422, "{op}: {status}"),
            "moderate" => assert_eq!(status, 200, "{op}"),
            _ => assert_eq!(status, 204, "{op}"),
        }
    }
    let mut conn = app.conn();
    assert_counts_exact(&mut conn, article);
    let left: i64 = comments::table
        .filter(comments::parent_id.eq_any(&leavers))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(left, 0);
    // 40 made; 5 deleted with their replies; 5 more deleted; 20 moderated
    // away: 10 approved top-level comments stay, plus the replies to the 5
    // surviving parents among the first 10.
    let approved_top: i64 = comments::table
        .filter(comments::article_id.eq(article))
        .filter(comments::parent_id.is_null())
        .filter(comments::status.eq("approved"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(approved_top, 10);
    assert_eq!(stored_counts(&mut conn, article).1, 15);
});

db_test!(
    replies_racing_with_deletions_keep_the_counts_exact,
    |backend| {
        use futures_util::future::{LocalBoxFuture, join_all};

        let app = TestApp::spawn_with(
            backend,
            &[("NEWSDESK_WORKERS", "4"), ("NEWSDESK_DB_POOL_SIZE", "16")],
        )
        .await;
        let article = visible_article(&app).await;
        let (_, editor) = app.user(Role::Editor).await;
        let (_, reader) = app.user(Role::Reader).await;
        for round in 0..5 {
            let parents: Vec<i64> =
                join_all((0..20).map(|_| post(&app, article, &reader, "parent", None))).await;
            let mut ops: Vec<LocalBoxFuture<'_, u16>> = Vec::new();
            for parent in &parents {
                for _ in 0..2 {
                    let (app, reader, parent) = (&app, &reader, *parent);
                    ops.push(Box::pin(async move {
                        app.post(
                            &thread(article),
                            Some(reader),
                            &json!({"body": "reply", "parent_id": parent}),
                        )
                        .await
                        .status
                    }));
                }
                let (app, editor, parent) = (&app, &editor, *parent);
                ops.push(Box::pin(async move {
                    app.delete(&one(parent), Some(editor)).await.status
                }));
            }
            for status in join_all(ops).await {
                assert!([201, 204, 422].contains(&status), "{status}");
            }
            let mut conn = app.conn();
            assert_eq!(comment_total(&mut conn), 0, "round {round}");
            assert_eq!(stored_counts(&mut conn, article).1, 0, "round {round}");
            assert_counts_exact(&mut conn, article);
        }
    }
);

db_test!(
    replies_racing_with_a_user_deletion_keep_the_counts_exact,
    |backend| {
        use futures_util::future::{LocalBoxFuture, join_all};

        let app = TestApp::spawn_with(
            backend,
            &[("NEWSDESK_WORKERS", "4"), ("NEWSDESK_DB_POOL_SIZE", "16")],
        )
        .await;
        let articles = [visible_article(&app).await, visible_article(&app).await];
        let (_, admin) = app.user(Role::Admin).await;
        let (_, reader) = app.user(Role::Reader).await;
        for round in 0..5 {
            let (leaver, token) = app.user(Role::Reader).await;
            let parents: Vec<(i64, i64)> = join_all((0..20).map(|i| {
                let (app, article, token) = (&app, articles[i % 2], &token);
                async move { (article, post(app, article, token, "mine", None).await) }
            }))
            .await;
            let mut ops: Vec<LocalBoxFuture<'_, u16>> = Vec::new();
            for (i, (article, parent)) in parents.iter().enumerate() {
                let (app, reader, article, parent) = (&app, &reader, *article, *parent);
                ops.push(Box::pin(async move {
                    app.post(
                        &thread(article),
                        Some(reader),
                        &json!({"body": "reply", "parent_id": parent}),
                    )
                    .await
                    .status
                }));
                if i == 10 {
                    let admin = &admin;
                    ops.push(Box::pin(async move {
                        app.delete(&format!("/api/v1/users/{leaver}"), Some(admin))
                            .await
                            .status
                    }));
                }
            }
            for status in join_all(ops).await {
                assert!([201, 204, 422].contains(&status), "{status}");
            }
            let mut conn = app.conn();
            assert_eq!(comment_total(&mut conn), 0, "round {round}");
            for article in articles {
                assert_eq!(stored_counts(&mut conn, article).1, 0, "round {round}");
                assert_counts_exact(&mut conn, article);
            }
        }
    }
);
