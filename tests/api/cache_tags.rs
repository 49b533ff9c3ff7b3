//! Cache tags for CDNs: public answers name what they contain in
//! `Surrogate-Key` (space-separated) and `Cache-Tag` (comma-separated),
//! from the read cache as well; signed-in (private) answers carry none.

use newsdesk::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::helpers::{Res, TestApp};
use crate::integrations::create_key;

fn keys(res: &Res) -> Vec<String> {
    let spaced = res.header("surrogate-key").unwrap_or_default();
    let commas = res.header("cache-tag").unwrap_or_default();
    let a: Vec<String> = spaced.split(' ').map(str::to_owned).collect();
    let b: Vec<String> = commas.split(',').map(str::to_owned).collect();
    assert_eq!(a, b, "Surrogate-Key and Cache-Tag name the same keys");
    a
}

#[track_caller]
fn assert_keys(res: &Res, expected: &[&str]) {
    res.assert_status(200);
    let mut got = keys(res);
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
}

async fn article(app: &TestApp, token: &str, title: &str, tags: &[&str]) -> i64 {
    let res = app
        .post(
            "/api/v1/articles",
            Some(token),
            &json!({"title": title, "body": "Words.", "status": "published", "tags": tags}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_i64().unwrap()
}

async fn surrogate_keys_name_what_a_response_contains(app: TestApp) {
    let (kim, editor) = app.user_named(Role::Editor, "Daniel Kim").await;
    let (lee, lee_token) = app.user_named(Role::Author, "Sara Lee").await;
    let a = article(&app, &editor, "Rates rise", &["economy", "world"]).await;
    let b = article(&app, &lee_token, "Rates fall", &["economy"]).await;
    let c = app
        .post(
            "/api/v1/articles",
            Some(&editor),
            &json!({"title": "Draft", "body": "Words.", "tags": ["secret"]}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/articles/{a}/comments"),
        Some(&editor),
        &json!({"body": "First."}),
    )
    .await
    .assert_status(201);
    let (ka, kb, kim_key, lee_key) = (
        format!("article-{a}"),
        format!("article-{b}"),
        format!("author-{kim}"),
        format!("author-{lee}"),
    );

    // Twice each: the second answer may come from the read cache.
    for _ in 0..2 {
        let one = app.get(&format!("/api/v1/articles/{a}"), None).await;
        assert_keys(&one, &[&ka, &kim_key, "tag-economy", "tag-world"]);
        let slug = one.json()["slug"].as_str().unwrap().to_string();
        assert_keys(
            &app.get(&format!("/api/v1/articles/slug/{slug}"), None)
                .await,
            &[&ka, &kim_key, "tag-economy", "tag-world"],
        );
        let list = app.get("/api/v1/articles", None).await;
        assert_keys(
            &list,
            &[
                "list-articles",
                &ka,
                &kb,
                &kim_key,
                &lee_key,
                "tag-economy",
                "tag-world",
            ],
        );
        assert!(!keys(&list).contains(&format!("article-{c}")));
        assert_keys(
            &app.get("/api/v1/articles?tag=world", None).await,
            &["list-articles", &ka, &kim_key, "tag-economy", "tag-world"],
        );
        // An empty list still names the list.
        assert_keys(
            &app.get("/api/v1/articles?tag=nothing-here", None).await,
            &["list-articles"],
        );
        assert_keys(
            &app.get("/api/v1/articles/popular?metric=comments", None)
                .await,
            &["list-articles", &ka, &kim_key, "tag-economy", "tag-world"],
        );
        assert_keys(
            &app.get("/api/v1/tags", None).await,
            &["list-tags", "tag-economy", "tag-secret", "tag-world"],
        );
        assert_keys(
            &app.get("/api/v1/tags/economy", None).await,
            &["tag-economy"],
        );
        assert_keys(
            &app.get("/api/v1/authors", None).await,
            &["list-authors", &kim_key, &lee_key],
        );
        let author_slug =
            app.get(&format!("/api/v1/articles/{b}"), None).await.json()["author"]["slug"]
                .as_str()
                .unwrap()
                .to_string();
        assert_keys(
            &app.get(&format!("/api/v1/authors/{author_slug}"), None)
                .await,
            &[&lee_key],
        );
        let comments = app
            .get(&format!("/api/v1/articles/{a}/comments"), None)
            .await;
        assert_keys(&comments, &[&ka, &format!("comments-{a}")]);
        let comment = comments.json()["data"][0]["id"].as_i64().unwrap();
        assert_keys(
            &app.get(&format!("/api/v1/comments/{comment}"), None).await,
            &[&ka, &format!("comments-{a}")],
        );
    }

    // A conditional request that is answered 304 keeps them too.
    let first = app.get(&format!("/api/v1/articles/{a}"), None).await;
    let etag = first.header("etag").unwrap();
    let res = app
        .request(
            "GET",
            &format!("/api/v1/articles/{a}"),
            None,
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(res.status, 304);
    assert_eq!(res.header("surrogate-key"), first.header("surrogate-key"));

    // A content key gets them too (to tag its own pages).
    let (_, admin) = app.user(Role::Admin).await;
    let (_, key) = create_key(&app, &admin, &["read"]).await;
    for _ in 0..2 {
        assert_keys(
            &app.get(&format!("/api/v1/articles/{a}"), Some(&key)).await,
            &[&ka, &kim_key, "tag-economy", "tag-world"],
        );
    }

    // Private answers carry none: signed in, errors.
    for path in [
        format!("/api/v1/articles/{a}"),
        "/api/v1/articles".to_string(),
        "/api/v1/tags".to_string(),
    ] {
        let res = app.get(&path, Some(&editor)).await;
        res.assert_status(200);
        assert!(res.header("surrogate-key").is_none(), "{path}");
        assert!(res.header("cache-tag").is_none(), "{path}");
    }
    let missing = app.get(&format!("/api/v1/articles/{c}"), None).await;
    missing.assert_problem(404);
    assert!(missing.header("surrogate-key").is_none());
}

db_test!(surrogate_keys_without_the_read_cache, |backend| {
    surrogate_keys_name_what_a_response_contains(TestApp::spawn(backend).await).await;
});

db_test!(surrogate_keys_through_the_read_cache, |backend| {
    surrogate_keys_name_what_a_response_contains(
        TestApp::spawn_with(backend, &[("NEWSDESK_READ_CACHE_MS", "60000")]).await,
    )
    .await;
});
