//! Draft previews: the article's author or an editor makes an expiring,
//! revocable token; anyone holding it reads the draft (by id or slug, or a
//! pinned revision), privately, without poisoning the public cache.

use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::article_previews;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{Res, TestApp};
use crate::integrations::create_key;

async fn draft(app: &TestApp, token: &str, title: &str) -> (i64, String) {
    let res = app
        .post(
            "/api/v1/articles",
            Some(token),
            &json!({"title": title, "body": "**Not yet.**", "tags": ["economy"]}),
        )
        .await;
    res.assert_status(201);
    let body = res.json();
    (
        body["id"].as_i64().unwrap(),
        body["slug"].as_str().unwrap().to_string(),
    )
}

async fn preview(app: &TestApp, token: &str, id: i64, body: Value) -> Res {
    app.post(
        &format!("/api/v1/articles/{id}/preview"),
        Some(token),
        &body,
    )
    .await
}

fn stored(app: &TestApp) -> i64 {
    article_previews::table
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

db_test!(a_preview_token_reads_a_draft_privately, |backend| {
    // The read cache on: a preview must neither enter nor come from it.
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_READ_CACHE_MS", "60000")]).await;
    let (_, author) = app.user(Role::Author).await;
    let (id, slug) = draft(&app, &author, "Budget leak").await;
    let public = format!("/api/v1/articles/{id}");
    app.get(&public, None).await.assert_problem(404);

    let before = chrono::Utc::now();
    let res = preview(&app, &author, id, json!({})).await;
    res.assert_status(201);
    let created = res.json();
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ndp_"), "{token}");
    assert_eq!(
        created["url"],
        format!("/api/v1/articles/{id}?preview={token}")
    );
    let expires: chrono::DateTime<chrono::Utc> =
        created["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = (expires - before).num_seconds();
    assert!((3590..=3610).contains(&lifetime), "{lifetime}");
    // Stored hashed.
    let hash: String = article_previews::table
        .select(article_previews::token_hash)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(hash, newsdesk::integrations::keys::hash(&token));

    for path in [
        format!("/api/v1/articles/{id}?preview={token}"),
        format!("/api/v1/articles/slug/{slug}?preview={token}"),
    ] {
        for _ in 0..2 {
            let res = app.get(&path, None).await;
            res.assert_status(200);
            let body = res.json();
            assert_eq!(body["title"], "Budget leak");
            assert_eq!(body["status"], "draft");
            assert_eq!(body["body_html"], "<p><strong>Not yet.</strong></p>\n");
            assert_eq!(
                res.header("cache-control").as_deref(),
                Some("private, no-store")
            );
            assert_eq!(
                res.header("etag").as_deref(),
                Some(&*format!("\"p{id}-v1\""))
            );
            assert!(res.header("surrogate-key").is_none());
            assert!(res.header("cache-tag").is_none());
        }
    }
    // The public read is still a 404: the preview did not enter the cache.
    app.get(&public, None).await.assert_problem(404);
    app.get(&format!("/api/v1/articles/slug/{slug}"), None)
        .await
        .assert_problem(404);
    // An empty preview parameter counts as absent.
    app.get(&format!("{public}?preview="), None)
        .await
        .assert_problem(404);

    // A preview follows the draft as it changes (no version pinned).
    app.patch(
        &public,
        Some(&author),
        &json!({"title": "Budget leak, updated"}),
    )
    .await
    .assert_status(200);
    let res = app.get(&format!("{public}?preview={token}"), None).await;
    assert_eq!(res.json()["title"], "Budget leak, updated");
    assert_eq!(
        res.header("etag").as_deref(),
        Some(&*format!("\"p{id}-v2\""))
    );

    // Once published, the public answer has an ETag of its own.
    app.patch(&public, Some(&author), &json!({"status": "published"}))
        .await
        .assert_status(200);
    let open = app.get(&public, None).await;
    open.assert_status(200);
    let previewed = app.get(&format!("{public}?preview={token}"), None).await;
    previewed.assert_status(200);
    assert_ne!(open.header("etag"), previewed.header("etag"));
    assert_eq!(
        open.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    assert_eq!(stored(&app), 1);
});

db_test!(a_preview_can_pin_a_revision, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (id, _) = draft(&app, &editor, "First draft").await;
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&editor),
        &json!({"title": "Second draft", "body": "Changed."}),
    )
    .await
    .assert_status(200);
    let res = preview(&app, &editor, id, json!({"version": 1})).await;
    res.assert_status(201);
    assert_eq!(res.json()["version"], 1);
    let token = res.json()["token"].as_str().unwrap().to_string();
    let res = app
        .get(&format!("/api/v1/articles/{id}?preview={token}"), None)
        .await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["title"], "First draft");
    assert_eq!(body["version"], 1);
    assert_eq!(body["body_html"], "<p><strong>Not yet.</strong></p>\n");
    assert_eq!(
        res.header("etag").as_deref(),
        Some(&*format!("\"p{id}-r1\""))
    );
    // No such version.
    let res = preview(&app, &editor, id, json!({"version": 9})).await;
    assert_eq!(res.assert_problem(422)["errors"][0]["field"], "version");
});

db_test!(preview_tokens_expire_and_can_be_revoked, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (id, _) = draft(&app, &author, "Short lived").await;
    let (other, _) = draft(&app, &author, "Other draft").await;
    let token_for = |res: Res| res.json()["token"].as_str().unwrap().to_string();
    let first = token_for(preview(&app, &author, id, json!({"expires_in": 60})).await);
    let second = token_for(preview(&app, &editor, id, json!({})).await);
    let path = |t: &str| format!("/api/v1/articles/{id}?preview={t}");
    app.get(&path(&first), None).await.assert_status(200);

    // Expired: moved into the past in the database.
    diesel::update(article_previews::table)
        .filter(article_previews::token_hash.eq(newsdesk::integrations::keys::hash(&first)))
        .set(
            article_previews::expires_at
                .eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
        )
        .execute(&mut app.conn())
        .unwrap();
    let problem = app.get(&path(&first), None).await.assert_problem(401);
    assert!(problem["detail"].as_str().unwrap().contains("preview"));
    app.get(&path(&second), None).await.assert_status(200);

    // A token opens its own article only.
    app.get(&format!("/api/v1/articles/{other}?preview={second}"), None)
        .await
        .assert_problem(401);
    // Unknown or malformed tokens.
    let unknown = format!("ndp_{}", "A".repeat(43));
    app.get(&path(&unknown), None).await.assert_problem(401);
    app.get(&path("nonsense"), None).await.assert_problem(401);

    // Revoked: every token of the article at once.
    app.delete(&format!("/api/v1/articles/{id}/preview"), Some(&author))
        .await
        .assert_status(204);
    app.get(&path(&second), None).await.assert_problem(401);
    assert_eq!(stored(&app), 0);
    // Revoking again is fine.
    app.delete(&format!("/api/v1/articles/{id}/preview"), Some(&editor))
        .await
        .assert_status(204);

    // Deleting the article ends its previews.
    let third = token_for(preview(&app, &author, id, json!({})).await);
    app.delete(&format!("/api/v1/articles/{id}"), Some(&author))
        .await
        .assert_status(204);
    app.get(&path(&third), None).await.assert_problem(401);
    assert_eq!(stored(&app), 0);
});

db_test!(preview_endpoints_check_roles_and_input, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, other_author) = app.user(Role::Author).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (id, _) = draft(&app, &author, "Guarded").await;
    let create = format!("/api/v1/articles/{id}/preview");

    app.post(&create, None, &json!({}))
        .await
        .assert_problem(401);
    app.post(&create, Some("bad"), &json!({}))
        .await
        .assert_problem(401);
    // Another author cannot see the draft at all; a reader neither.
    app.post(&create, Some(&other_author), &json!({}))
        .await
        .assert_problem(404);
    app.post(&create, Some(&reader), &json!({}))
        .await
        .assert_problem(404);
    app.delete(&create, Some(&other_author))
        .await
        .assert_problem(404);
    app.delete(&create, None).await.assert_problem(401);
    // Another author on a published article: visible, not theirs.
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&author),
        &json!({"status": "published"}),
    )
    .await
    .assert_status(200);
    app.post(&create, Some(&other_author), &json!({}))
        .await
        .assert_problem(403);
    app.delete(&create, Some(&other_author))
        .await
        .assert_problem(403);
    app.post("/api/v1/articles/999999/preview", Some(&admin), &json!({}))
        .await
        .assert_problem(404);
    app.post("/api/v1/articles/abc/preview", Some(&admin), &json!({}))
        .await
        .assert_problem(400);

    let field = |res: Res| -> String {
        res.assert_problem(422)["errors"][0]["field"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for bad in [
        json!({"expires_in": 59}),
        json!({"expires_in": 604801}),
        json!({"expires_in": -5}),
        json!({"expires_in": "soon"}),
        json!({"expires_in": 1.5}),
    ] {
        assert_eq!(field(preview(&app, &author, id, bad).await), "expires_in");
    }
    assert_eq!(
        field(preview(&app, &author, id, json!({"version": 0})).await),
        "version"
    );
    assert_eq!(
        field(preview(&app, &author, id, json!({"forever": true})).await),
        "forever"
    );
    app.raw(
        "POST",
        &create,
        Some(&author),
        "application/json",
        b"{".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw("POST", &create, Some(&author), "text/plain", b"{}".to_vec())
        .await
        .assert_problem(415);
    assert_eq!(stored(&app), 0);
    // The longest lifetime is allowed; admins may preview anything.
    preview(&app, &admin, id, json!({"expires_in": 604800}))
        .await
        .assert_status(201);
});

db_test!(keys_need_the_preview_scope_to_preview, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (id, _) = draft(&app, &editor, "Scoped preview").await;
    let token = preview(&app, &editor, id, json!({})).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/articles/{id}?preview={token}");
    let (_, read_only) = create_key(&app, &admin, &["read"]).await;
    let (_, previewer) = create_key(&app, &admin, &["read", "preview"]).await;

    let problem = app.get(&path, Some(&read_only)).await.assert_problem(403);
    assert!(problem["detail"].as_str().unwrap().contains("preview"));
    app.get(&format!("{path}&key={read_only}"), None)
        .await
        .assert_problem(403);
    let res = app.get(&path, Some(&previewer)).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    app.get(&format!("{path}&key={previewer}"), None)
        .await
        .assert_status(200);
    // Without a key, the token alone is enough.
    app.get(&path, None).await.assert_status(200);
});
