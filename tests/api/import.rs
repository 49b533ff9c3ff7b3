//! `newsdesk import ghost|wordpress|newsdesk` and `newsdesk export` through
//! the real binary, against the database of a running test app (so the
//! result is checked over the API), and `GET /api/v1/export`.

use std::path::{Path, PathBuf};
use std::process::Command;

use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::content::{add_daily, count_articles, create, id, set_counters};
use crate::db_test;
use crate::helpers::{TEST_SECRET, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_newsdesk");

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

/// Runs `newsdesk ARGS` on the app's database; returns stdout (asserting
/// success).
fn cli(app: &TestApp, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NEWSDESK_DATABASE_URL", &app.db_url)
        .env("NEWSDESK_JWT_SECRET", TEST_SECRET)
        .env("NEWSDESK_LOG", "warn")
        .output()
        .expect("run newsdesk");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "newsdesk {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn resolve(path: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/api/v1/redirects/resolve?path={q}")
}

fn titles(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect()
}

db_test!(a_ghost_export_imports_once_with_its_old_urls, |backend| {
    let app = TestApp::spawn(backend).await;
    let file = sample("ghost-5.json");
    let out = cli(&app, &["import", "ghost", file.to_str().unwrap()]);
    assert!(
        out.contains("imported 5 articles, skipped 1, failed 0"),
        "{out}"
    );
    assert!(out.contains("created 2 users, 2 tags"), "{out}");

    let public = app.get("/api/v1/articles", None).await.json();
    assert_eq!(
        titles(&public),
        [
            "Parliament passes the budget",
            "Floods close the coastal road",
            "2019 Review, Part 1 (Final)"
        ]
    );
    let (_, editor) = app.user(Role::Editor).await;
    let drafts = app
        .get("/api/v1/articles?status=draft", Some(&editor))
        .await
        .json();
    assert_eq!(titles(&drafts), ["Unfinished: interview with the mayor"]);
    let scheduled = app
        .get("/api/v1/articles?status=scheduled", Some(&editor))
        .await
        .json();
    assert_eq!(titles(&scheduled), ["Election results special"]);
    assert_eq!(scheduled["data"][0]["published_at"], "2099-11-05T20:00:00Z");

    let budget = app
        .get("/api/v1/articles/slug/parliament-passes-the-budget", None)
        .await
        .json();
    assert_eq!(budget["published_at"], "2024-06-28T09:00:00Z");
    assert_eq!(budget["created_at"], "2024-06-28T08:00:00Z");
    assert_eq!(budget["updated_at"], "2024-06-28T10:30:00Z");
    assert_eq!(budget["excerpt"], "A narrow vote after a long night.");
    assert_eq!(budget["meta_title"], "Budget passes: what it means");
    assert_eq!(
        budget["feature_image"],
        "https://images.old-ghost.example/2024/06/budget.jpg"
    );
    assert_eq!(budget["author"]["name"], "Ada Reporter");
    let tags: Vec<&str> = budget["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["news", "politics"], "the internal tag is left out");
    let html = budget["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>212 votes</strong>"), "{html}");
    assert!(
        !html.contains("script") && !html.contains("onclick"),
        "{html}"
    );
    assert!(!budget["body"].as_str().unwrap().contains("script"));
    let tag = app.get("/api/v1/tags/news", None).await.json();
    assert_eq!(tag["description"], "Daily news.");
    app.get("/api/v1/tags/hash-newsletter", None)
        .await
        .assert_problem(404);

    // The odd slug is made canonical; its old URL still resolves.
    let odd = app
        .get("/api/v1/articles/slug/2019-review-part-1-final", None)
        .await;
    odd.assert_status(200);
    assert_eq!(
        odd.json()["canonical_url"],
        "https://original.example/2019-review"
    );
    let res = app.get(&resolve("/2019-Review--part_1-FINAL/"), None).await;
    assert_eq!(
        res.json(),
        json!({"location": "/articles/2019-review-part-1-final", "status": 301})
    );
    let res = app
        .get(&resolve("/parliament-passes-the-budget/"), None)
        .await;
    assert_eq!(
        res.json()["location"],
        "/articles/parliament-passes-the-budget"
    );
    // Drafts and scheduled stories do not resolve.
    app.get(&resolve("/interview-with-the-mayor/"), None)
        .await
        .assert_problem(404);

    // Authors are users who cannot sign in until invited.
    let authors = app.get("/api/v1/authors", None).await.json();
    let mut names: Vec<&str> = authors["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Ada Reporter", "Ben Columnist"]);
    for password in ["correct horse battery", "!locked"] {
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "ada@old-ghost.example", "password": password}),
        )
        .await
        .assert_problem(401);
    }

    // A second import changes nothing.
    let before = count_articles(&app);
    let out = cli(&app, &["import", "ghost", file.to_str().unwrap()]);
    assert!(
        out.contains("imported 0 articles, skipped 6, failed 0"),
        "{out}"
    );
    assert!(
        out.contains("created 0 users, 0 tags, 0 redirects"),
        "{out}"
    );
    assert_eq!(count_articles(&app), before);
});

db_test!(
    a_wordpress_export_imports_once_with_its_old_urls,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let file = sample("wordpress-6.xml");
        let out = cli(&app, &["import", "wordpress", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 3 articles, skipped 3, failed 0"),
            "{out}"
        );
        assert!(out.contains("created 2 users, 2 tags"), "{out}");

        let public = app.get("/api/v1/articles", None).await.json();
        assert_eq!(
            titles(&public),
            ["Café & market reopen", "Council approves the new bridge"]
        );
        let bridge = &public["data"][1];
        assert_eq!(bridge["published_at"], "2024-06-12T09:30:00Z");
        assert_eq!(bridge["author"]["name"], "Jane Editor");
        assert_eq!(bridge["excerpt"], "A 7 to 2 vote for the bridge.");
        assert_eq!(
            bridge["feature_image"],
            "https://old-press.example/wp-content/uploads/2024/06/bridge.jpg"
        );
        let tags: Vec<&str> = bridge["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["Local News", "Elections"]);
        let full = app
            .get(&format!("/api/v1/articles/{}", bridge["id"]), None)
            .await
            .json();
        let html = full["body_html"].as_str().unwrap();
        assert!(html.contains("bridge &amp; the bypass"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
        let cafe = &public["data"][0];
        assert!(!cafe["comments_enabled"].as_bool().unwrap());
        assert_eq!(cafe["author"]["name"], "John Doe");
        assert!(
            cafe["tags"].as_array().unwrap().is_empty(),
            "Uncategorized is no tag"
        );
        let cafe_slug = cafe["slug"].as_str().unwrap();
        let cafe_full = app
            .get(&format!("/api/v1/articles/{}", cafe["id"]), None)
            .await
            .json();
        assert!(
            cafe_full["body_html"]
                .as_str()
                .unwrap()
                .starts_with("<p>The café")
        );

        // Old permalinks and ?p= links resolve.
        for (old, slug) in [
            (
                "https://old-press.example/2024/06/12/council-approves-the-new-bridge/",
                bridge["slug"].as_str().unwrap(),
            ),
            (
                "/2024/06/12/council-approves-the-new-bridge",
                bridge["slug"].as_str().unwrap(),
            ),
            ("/?p=10", bridge["slug"].as_str().unwrap()),
            ("/2024/06/15/%e2%9c%93-caf%c3%a9-market/", cafe_slug),
            ("/?p=11", cafe_slug),
        ] {
            let res = app.get(&resolve(old), None).await;
            res.assert_status(200);
            assert_eq!(res.json()["location"], format!("/articles/{slug}"), "{old}");
        }
        // The draft was imported, but does not resolve publicly.
        app.get(&resolve("/?p=12"), None).await.assert_problem(404);
        let (_, editor) = app.user(Role::Editor).await;
        let drafts = app
            .get("/api/v1/articles?status=draft", Some(&editor))
            .await
            .json();
        assert_eq!(titles(&drafts), ["Draft: budget leaks"]);

        // A second import changes nothing.
        let out = cli(&app, &["import", "wordpress", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 0 articles, skipped 6, failed 0"),
            "{out}"
        );
        assert_eq!(count_articles(&app), 3);
    }
);

db_test!(bad_import_files_fail_clearly_and_write_nothing, |backend| {
    let app = TestApp::spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"db\": [ {\"data\": {\"posts\": [ {\"id\": 1, ").unwrap();
    let xml = dir.path().join("bad.xml");
    std::fs::write(&xml, b"<html><body>not an export</body></html>").unwrap();
    let not_export = dir.path().join("other.json");
    std::fs::write(
        &not_export,
        br#"{"format":"something-else","version":1,"users":[]}"#,
    )
    .unwrap();
    for (kind, file) in [
        ("ghost", &bad),
        ("wordpress", &xml),
        ("newsdesk", &not_export),
        ("ghost", &dir.path().join("missing.json")),
    ] {
        let out = Command::new(BIN)
            .args(["import", kind, file.to_str().unwrap()])
            .env_clear()
            .env("NEWSDESK_DATABASE_URL", &app.db_url)
            .env("NEWSDESK_JWT_SECRET", TEST_SECRET)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{kind} {file:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{err}");
    }
    assert_eq!(count_articles(&app), 0);
});

db_test!(
    an_export_imported_into_an_empty_site_gives_the_same_answers,
    |backend| {
        let app = TestApp::spawn(backend).await;
        cli(
            &app,
            &["import", "ghost", sample("ghost-5.json").to_str().unwrap()],
        );
        cli(
            &app,
            &[
                "import",
                "wordpress",
                sample("wordpress-6.xml").to_str().unwrap(),
            ],
        );
        let (editor_id, editor) = app.user_named(Role::Editor, "Eve Editor").await;
        let (_, admin) = app.user(Role::Admin).await;
        let (_, reader) = app.user_named(Role::Reader, "Rita Reader").await;
        let story = create(
            &app,
            &editor,
            json!({"title": "Made here", "body": "# Hello\n\nWorld", "status": "published",
               "tags": ["local-news", "fresh-tag"]}),
        )
        .await;
        let sid = id(&story);
        app.patch(
            &format!("/api/v1/articles/{sid}"),
            Some(&editor),
            &json!({"slug": "made-here-moved", "subtitle": "Now with a subtitle"}),
        )
        .await
        .assert_status(200);
        let parent = app
            .post(
                &format!("/api/v1/articles/{sid}/comments"),
                Some(&reader),
                &json!({"body": "First!"}),
            )
            .await
            .json();
        app.post(
            &format!("/api/v1/articles/{sid}/comments"),
            Some(&editor),
            &json!({"body": "Welcome.", "parent_id": parent["id"]}),
        )
        .await
        .assert_status(201);
        set_counters(&app, sid, 42, 2);
        add_daily(&app, sid, 1, 40, 0);
        add_daily(&app, sid, 2, 2, 0);

        let res = app.get("/api/v1/export", Some(&admin)).await;
        res.assert_status(200);
        assert!(res.header("etag").is_some());
        let export = res.json();
        assert_eq!(export["format"], "newsdesk-export");
        assert_eq!(export["version"], 1);
        assert!(
            export["users"]
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u.get("password_hash").is_none())
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.json");
        std::fs::write(&file, &res.body).unwrap();
        // The CLI writes the same document (but for the moment it was made).
        let cli_file = dir.path().join("cli.json");
        cli(&app, &["export", cli_file.to_str().unwrap()]);
        let mut from_cli: Value =
            serde_json::from_slice(&std::fs::read(&cli_file).unwrap()).unwrap();
        from_cli["exported_at"] = export["exported_at"].clone();
        assert_eq!(from_cli, export);

        let copy = TestApp::spawn(backend).await;
        let out = cli(&copy, &["import", "newsdesk", file.to_str().unwrap()]);
        assert!(out.contains("failed 0"), "{out}");
        // Same ids, same roles: the same tokens work on the copy.
        let editor2 = copy.state.jwt.issue(editor_id, Role::Editor).unwrap();
        let mut paths = vec![
            "/api/v1/articles?per_page=100".to_string(),
            "/api/v1/tags?per_page=100".to_string(),
            "/api/v1/authors?per_page=100".to_string(),
            resolve("/?p=10"),
            resolve("/2019-Review--part_1-FINAL/"),
            "/api/v1/articles/slug/made-here".to_string(),
        ];
        let all = app
            .get(
                "/api/v1/articles?per_page=100&status=published",
                Some(&editor),
            )
            .await
            .json();
        for a in all["data"].as_array().unwrap() {
            paths.push(format!("/api/v1/articles/{}", a["id"]));
            paths.push(format!("/api/v1/articles/{}/comments", a["id"]));
        }
        for path in &paths {
            let (a, b) = (app.get(path, None).await, copy.get(path, None).await);
            assert_eq!(a.status, b.status, "{path}");
            assert_eq!(
                String::from_utf8_lossy(&a.body),
                String::from_utf8_lossy(&b.body),
                "{path}"
            );
        }
        for path in [
            "/api/v1/articles?per_page=100&status=draft".to_string(),
            "/api/v1/articles?per_page=100&status=scheduled".to_string(),
            format!("/api/v1/articles/{sid}/revisions"),
            format!("/api/v1/articles/{sid}/revisions/1"),
            format!("/api/v1/articles/{sid}/stats?days=3"),
            "/api/v1/comments?per_page=100".to_string(),
        ] {
            let (a, b) = (
                app.get(&path, Some(&editor)).await,
                copy.get(&path, Some(&editor2)).await,
            );
            a.assert_status(200);
            assert_eq!(a.json(), b.json(), "{path}");
        }
        // New rows on the copy get fresh ids.
        let (new_user, new_token) = copy.user(Role::Editor).await;
        assert!(new_user > editor_id);
        let fresh = create(
            &copy,
            &new_token,
            json!({"title": "After the move", "body": "x"}),
        )
        .await;
        assert!(id(&fresh) > sid);

        // A second import of the same export changes nothing.
        let out = cli(&copy, &["import", "newsdesk", file.to_str().unwrap()]);
        assert!(out.contains("imported 0 articles"), "{out}");
        // Into a site with other content: refused, nothing written.
        let other = TestApp::spawn(backend).await;
        let (_, t) = other.user(Role::Editor).await;
        create(&other, &t, json!({"title": "Already here", "body": "x"})).await;
        let out = Command::new(BIN)
            .args(["import", "newsdesk", file.to_str().unwrap()])
            .env_clear()
            .env("NEWSDESK_DATABASE_URL", &other.db_url)
            .env("NEWSDESK_JWT_SECRET", TEST_SECRET)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert_eq!(count_articles(&other), 1);
    }
);

db_test!(only_admins_export, |backend| {
    let app = TestApp::spawn(backend).await;
    app.get("/api/v1/export", None).await.assert_problem(401);
    let (_, editor) = app.user(Role::Editor).await;
    app.get("/api/v1/export", Some(&editor))
        .await
        .assert_problem(403);
    let (_, admin) = app.user(Role::Admin).await;
    let res = app.get("/api/v1/export", Some(&admin)).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let v = res.json();
    assert_eq!(v["users"].as_array().unwrap().len(), 2);
    assert!(v["articles"].as_array().unwrap().is_empty());
    let etag = res.header("etag").unwrap();
    let again = app
        .request(
            "GET",
            "/api/v1/export",
            Some(&admin),
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
    assert!(again.status == 304 || again.status == 200);
});

/// `(day, comments)` rows of an article's daily statistics.
fn daily_comments(app: &TestApp, article: i64) -> Vec<(String, i64)> {
    use diesel::prelude::*;
    use newsdesk::db::schema::article_daily_stats as d;
    let mut conn = app.conn();
    let rows: Vec<(chrono::NaiveDate, i64)> = d::table
        .filter(d::article_id.eq(article))
        .filter(d::comments.ne(0))
        .order(d::day.asc())
        .select((d::day, d::comments))
        .load(&mut *conn)
        .expect("daily stats");
    rows.into_iter()
        .map(|(day, n)| (day.to_string(), n))
        .collect()
}

/// `(author name, parent's body or "", body, status)` of an article's
/// comments as an editor sees them, oldest first.
async fn comment_tree(
    app: &TestApp,
    editor: &str,
    article: i64,
) -> Vec<(String, String, String, String)> {
    let all = app
        .get(
            &format!("/api/v1/comments?article_id={article}&sort=created_at&per_page=100"),
            Some(editor),
        )
        .await
        .json();
    let rows = all["data"].as_array().unwrap().clone();
    let body_of = |id: &Value| {
        rows.iter()
            .find(|c| &c["id"] == id)
            .map(|c| c["body"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    rows.iter()
        .map(|c| {
            (
                c["author"]["name"].as_str().unwrap().to_string(),
                body_of(&c["parent_id"]),
                c["body"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(a: &str, parent: &str, body: &str, status: &str) -> (String, String, String, String) {
    (a.into(), parent.into(), body.into(), status.into())
}

db_test!(
    wordpress_comments_import_threaded_with_exact_counts_once,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let file = sample("wordpress-6.xml");
        let out = cli(&app, &["import", "wordpress", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 4 comments (2 new commenters), skipped 1 empty ones"),
            "{out}"
        );
        let bridge = app
            .get(
                "/api/v1/articles/slug/council-approves-the-new-bridge",
                None,
            )
            .await
            .json();
        let bridge_id = id(&bridge);
        assert_eq!(bridge["comment_count"], 3, "approved ones only");
        let (_, editor) = app.user(Role::Editor).await;
        assert_eq!(
            comment_tree(&app, &editor, bridge_id).await,
            [
                row(
                    "Mary Reader",
                    "",
                    "Finally! About time & well done.",
                    "approved"
                ),
                row(
                    "Jane Editor",
                    "Finally! About time & well done.",
                    "Thanks, Mary: the bypass comes first.",
                    "approved"
                ),
                row("Drive-by", "", "Waiting for a moderator.", "pending"),
                // Its parent was spam (left out): a top-level comment.
                row("Mary Reader", "", "Replying to a spam comment.", "approved"),
            ]
        );
        // The public sees the approved ones; the author's reply is by the
        // author's own (imported) account.
        let public = app
            .get(&format!("/api/v1/articles/{bridge_id}/comments"), None)
            .await
            .json();
        let public = public["data"].as_array().unwrap();
        assert_eq!(public.len(), 3);
        assert_eq!(public[1]["author"]["id"], bridge["author"]["id"]);
        assert_eq!(
            daily_comments(&app, bridge_id),
            [("2024-06-12".to_string(), 2), ("2024-06-13".to_string(), 1)]
        );
        // Commenters cannot sign in.
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "mary@readers.example", "password": "!locked"}),
        )
        .await
        .assert_problem(401);

        // A second import adds nothing, and counts stay.
        let out = cli(&app, &["import", "wordpress", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 0 comments (0 new commenters)"),
            "{out}"
        );
        let again = app
            .get(&format!("/api/v1/articles/{bridge_id}"), None)
            .await
            .json();
        assert_eq!(again["comment_count"], 3);
        assert_eq!(comment_tree(&app, &editor, bridge_id).await.len(), 4);
        assert_eq!(daily_comments(&app, bridge_id).len(), 2);

        // A newer export of the same site: only its new comment is added,
        // under the post imported before.
        let newer = std::fs::read_to_string(&file).unwrap().replace(
            "\t\t<wp:comment>\n\t\t\t<wp:comment_id>7</wp:comment_id>",
            "\t\t<wp:comment>\n\t\t\t<wp:comment_id>13</wp:comment_id>\n\t\t\t<wp:comment_author><![CDATA[Mary Reader]]></wp:comment_author>\n\t\t\t<wp:comment_author_email><![CDATA[mary@readers.example]]></wp:comment_author_email>\n\t\t\t<wp:comment_date_gmt><![CDATA[2024-06-14 08:00:00]]></wp:comment_date_gmt>\n\t\t\t<wp:comment_content><![CDATA[One more thing.]]></wp:comment_content>\n\t\t\t<wp:comment_approved><![CDATA[1]]></wp:comment_approved>\n\t\t\t<wp:comment_parent>6</wp:comment_parent>\n\t\t</wp:comment>\n\t\t<wp:comment>\n\t\t\t<wp:comment_id>7</wp:comment_id>",
        );
        let dir = tempfile::tempdir().unwrap();
        let newer_file = dir.path().join("newer.xml");
        std::fs::write(&newer_file, newer).unwrap();
        let out = cli(&app, &["import", "wordpress", newer_file.to_str().unwrap()]);
        assert!(
            out.contains("imported 0 articles, skipped 6, failed 0"),
            "{out}"
        );
        assert!(
            out.contains("imported 1 comments (0 new commenters)"),
            "{out}"
        );
        let tree = comment_tree(&app, &editor, bridge_id).await;
        assert_eq!(
            tree.last().unwrap(),
            &row(
                "Mary Reader",
                "Thanks, Mary: the bypass comes first.",
                "One more thing.",
                "approved"
            )
        );
        let again = app
            .get(&format!("/api/v1/articles/{bridge_id}"), None)
            .await
            .json();
        assert_eq!(again["comment_count"], 4);
    }
);

db_test!(
    ghost_comments_import_with_members_as_commenters,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let file = sample("ghost-5.json");
        let out = cli(&app, &["import", "ghost", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 4 comments (1 new commenters), skipped 0 empty ones"),
            "{out}"
        );
        let budget = app
            .get("/api/v1/articles/slug/parliament-passes-the-budget", None)
            .await
            .json();
        assert_eq!(budget["comment_count"], 2);
        let (_, editor) = app.user(Role::Editor).await;
        assert_eq!(
            comment_tree(&app, &editor, id(&budget)).await,
            [
                // The member with the author's email is the author.
                row("Ada Reporter", "", "A narrow vote indeed.", "approved"),
                row(
                    "Sam Member",
                    "A narrow vote indeed.",
                    "And the pensions?",
                    "approved"
                ),
                row("Sam Member", "", "Off topic.", "rejected"),
            ]
        );
        assert_eq!(
            daily_comments(&app, id(&budget)),
            [("2024-06-28".to_string(), 2)]
        );
        let floods = app
            .get("/api/v1/articles/slug/floods-close-the-coastal-road", None)
            .await
            .json();
        assert_eq!(floods["comment_count"], 1);
        // Commenters are readers, not authors.
        let authors = app.get("/api/v1/authors", None).await.json();
        assert_eq!(authors["data"].as_array().unwrap().len(), 2);

        let out = cli(&app, &["import", "ghost", file.to_str().unwrap()]);
        assert!(
            out.contains("imported 0 comments (0 new commenters)"),
            "{out}"
        );
        let again = app
            .get("/api/v1/articles/slug/parliament-passes-the-budget", None)
            .await
            .json();
        assert_eq!(again["comment_count"], 2);
    }
);

db_test!(an_export_carries_the_media_library_rows, |backend| {
    // The same public address on both sites, so their URLs compare.
    let cdn = [("NEWSDESK_MEDIA_URL", "https://cdn.example.com/media/files")];
    let app = TestApp::spawn_with(backend, &cdn).await;
    let (_, editor) = app.user_named(Role::Editor, "Eve Editor").await;
    let (_, admin) = app.user(Role::Admin).await;
    let png = {
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(700, 400, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let picture = app
        .multipart(
            "/api/v1/media",
            Some(&editor),
            &[
                ("alt", "A gradient"),
                ("caption", "Dawn"),
                ("focal_x", "0.25"),
                ("focal_y", "0.5"),
            ],
            &[("file", "g.png", "image/png", &png)],
        )
        .await
        .json();
    let story = create(
        &app,
        &editor,
        json!({"title": "With a picture", "body": "x", "status": "published",
               "feature_image_id": picture["id"]}),
    )
    .await;
    let export = app.get("/api/v1/export", Some(&admin)).await;
    export.assert_status(200);
    let doc = export.json();
    let rows = doc["media"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], picture["id"]);
    assert_eq!(rows[0]["alt"], "A gradient");
    assert_eq!(rows[0]["focal_x"], 0.25);
    let article = doc["articles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == story["id"])
        .unwrap();
    assert_eq!(article["feature_image_id"], picture["id"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.json");
    std::fs::write(&file, &export.body).unwrap();

    let copy = TestApp::spawn_with(backend, &cdn).await;
    let out = cli(&copy, &["import", "newsdesk", file.to_str().unwrap()]);
    assert!(out.contains("failed 0"), "{out}");
    // The same media object and the same embedding (files are copied apart).
    let (_, editor2) = copy.user(Role::Editor).await;
    let path = format!("/api/v1/media/{}", picture["id"]);
    let (a, b) = (
        app.get(&path, Some(&editor)).await.json(),
        copy.get(&path, Some(&editor2)).await.json(),
    );
    assert_eq!(a, b);
    let path = format!("/api/v1/articles/{}", story["id"]);
    let (a, b) = (app.get(&path, None).await, copy.get(&path, None).await);
    assert_eq!(
        String::from_utf8_lossy(&a.body),
        String::from_utf8_lossy(&b.body)
    );
    assert_eq!(b.json()["feature_image_media"]["alt"], "A gradient");
    // A new upload on the copy gets a fresh id.
    let fresh = copy
        .multipart(
            "/api/v1/media",
            Some(&editor2),
            &[("alt", "new")],
            &[("file", "g.png", "image/png", &png)],
        )
        .await
        .json();
    assert!(fresh["id"].as_i64().unwrap() > picture["id"].as_i64().unwrap());

    // A media row that names no stored picture: refused, nothing written.
    // (Edited as text: the keys must keep their order.)
    let hash = rows[0]["hash"].as_str().unwrap();
    let bad = String::from_utf8(export.body.to_vec())
        .unwrap()
        .replace(hash, "../../etc");
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, bad).unwrap();
    let other = TestApp::spawn(backend).await;
    let out = Command::new(BIN)
        .args(["import", "newsdesk", bad_file.to_str().unwrap()])
        .env_clear()
        .env("NEWSDESK_DATABASE_URL", &other.db_url)
        .env("NEWSDESK_JWT_SECRET", TEST_SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a stored picture"), "{err}");
    let (_, t) = other.user(Role::Editor).await;
    let list = other.get("/api/v1/media", Some(&t)).await.json();
    assert_eq!(list["meta"]["total"], 0);
});
