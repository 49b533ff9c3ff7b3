//! Demo and benchmark content (`newsdesk seed`, `serve --demo`).

use diesel::prelude::*;
use newsdesk::db::schema::{article_revisions, article_tags, articles, users};
use newsdesk::seed;
use serde_json::json;

use crate::content::ids;
use crate::db_test;
use crate::helpers::TestApp;

db_test!(
    demo_newsroom_is_realistic_and_only_the_editor_signs_in,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let summary = {
            let mut conn = app.conn();
            assert!(seed::is_empty(&mut conn).unwrap());
            seed::seed_demo(&mut conn).unwrap()
        };
        assert_eq!(summary.editor_email, seed::DEMO_EDITOR_EMAIL);
        assert!(summary.editor_password.len() >= 20);
        assert!(summary.articles >= 12);
        let printed = summary.to_string();
        assert!(printed.contains(&summary.editor_password));
        assert!(printed.contains("demo"));

        // The public sees every article except the draft and the scheduled one.
        let res = app.get("/api/v1/articles?per_page=100", None).await;
        res.assert_status(200);
        let total = res.json()["meta"]["total"].as_i64().unwrap();
        assert_eq!(total as usize, summary.articles - 2);
        let list = app
            .get(
                "/api/v1/articles?author=daniel-kim&tag=north-korea&tag=human-rights",
                None,
            )
            .await
            .json();
        let fff = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                == "Fighting for Freedom: U.S. and South Korea Seek Solutions for North Korean Human Rights Issues"
        })
        .expect("the Fighting for Freedom article")
        .clone();
        assert_eq!(fff["author"]["name"], "Daniel Kim");
        let tag_slugs: Vec<&str> = fff["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap())
            .collect();
        assert!(tag_slugs.contains(&"diplomacy"));
        let full = app
            .get(&format!("/api/v1/articles/{}", fff["id"]), None)
            .await
            .json();
        let body = full["body"].as_str().unwrap();
        assert!(body.split("\n\n").count() >= 6, "several paragraphs");
        assert!(full["body_html"].as_str().unwrap().contains("<table>"));
        assert!(full["reading_time_minutes"].as_i64().unwrap() >= 2);
        assert_eq!(full["version"], 1);
        // Search finds it.
        assert!(
            ids(&app
                .get("/api/v1/articles?q=defectors%20testimony", None)
                .await)
            .contains(&full["id"].as_i64().unwrap())
        );
        // Authors have bios; tags have counts.
        let authors = app.get("/api/v1/authors", None).await.json();
        assert_eq!(authors["meta"]["total"], 4);
        assert!(
            authors["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["bio"].is_string())
        );
        let nk = app.get("/api/v1/tags/north-korea", None).await.json();
        assert!(nk["article_count"].as_i64().unwrap() >= 3);

        // The demo editor signs in with the printed password and sees the
        // draft and the scheduled article.
        let res = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": summary.editor_email, "password": summary.editor_password}),
            )
            .await;
        res.assert_status(200);
        let token = res.json()["access_token"].as_str().unwrap().to_string();
        let drafts = app
            .get("/api/v1/articles?status=draft", Some(&token))
            .await
            .json();
        assert_eq!(drafts["meta"]["total"], 1);
        let scheduled = app
            .get("/api/v1/articles?status=scheduled", Some(&token))
            .await
            .json();
        assert_eq!(scheduled["meta"]["total"], 1);
        // Authors cannot sign in with any password.
        for password in ["", "password", "daniel", "correct horse battery"] {
            app.post(
                "/api/v1/auth/login",
                None,
                &json!({"email": "daniel.kim@demo.newsdesk.dev", "password": password}),
            )
            .await
            .assert_problem(401);
        }

        // Seeding twice fails and adds nothing.
        let mut conn = app.conn();
        assert!(!seed::is_empty(&mut conn).unwrap());
        let n_users: i64 = users::table.count().get_result(&mut *conn).unwrap();
        assert!(seed::seed_demo(&mut conn).is_err());
        let again: i64 = users::table.count().get_result(&mut *conn).unwrap();
        assert_eq!(n_users, again);
    }
);

db_test!(
    synthetic_articles_have_tags_authors_and_revisions,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let mut seen = Vec::new();
        let made = {
            let mut conn = app.conn();
            seed::seed_articles(&mut conn, 1234, |n| seen.push(n)).unwrap()
        };
        assert_eq!(made, 1234);
        assert_eq!(seen, [1000, 1234]);
        let mut conn = app.conn();
        let n: i64 = articles::table
            .filter(articles::status.eq("published"))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(n, 1234);
        let links: i64 = article_tags::table.count().get_result(&mut *conn).unwrap();
        assert!(links >= 1234);
        let revisions: i64 = article_revisions::table
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(revisions, 1234);
        drop(conn);
        let res = app.get("/api/v1/articles?per_page=5", None).await;
        res.assert_status(200);
        assert_eq!(res.json()["meta"]["total"], 1234);
        let first = &res.json()["data"][0];
        assert!(!first["tags"].as_array().unwrap().is_empty());
        assert!(
            first["author"]["name"]
                .as_str()
                .unwrap()
                .starts_with("Bench Author")
        );
        // Bodies render and search works on them.
        let a = app
            .get(&format!("/api/v1/articles/{}", first["id"]), None)
            .await
            .json();
        assert!(a["body_html"].as_str().unwrap().starts_with("<p>"));
        let word = a["body"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap();
        let word: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        let res = app.get(&format!("/api/v1/articles?q={word}"), None).await;
        res.assert_status(200);
        assert!(res.json()["meta"]["total"].as_i64().unwrap() > 0);
        app.get("/api/v1/articles/popular?period=all", None)
            .await
            .assert_status(200);
        // A second run adds more, reusing authors and tags.
        let mut conn = app.conn();
        seed::seed_articles(&mut conn, 10, |_| {}).unwrap();
        let authors: i64 = users::table.count().get_result(&mut *conn).unwrap();
        assert_eq!(authors, 25);
    }
);

fn cli(app: &TestApp) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    cmd.env("NEWSDESK_DATABASE_URL", &app.db_url)
        .env("NEWSDESK_JWT_SECRET", crate::helpers::TEST_SECRET)
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env("NEWSDESK_LOG", "info")
        .env("NEWSDESK_LOG_FORMAT", "text")
        .env("NEWSDESK_WORKERS", "1");
    cmd
}

/// Runs `newsdesk serve --demo` until it listens, stops it, and returns
/// what it printed on stdout.
fn serve_demo_output(app: &TestApp) -> String {
    use std::io::{BufRead, Read};
    let mut child = cli(app)
        .args(["serve", "--demo"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("newsdesk starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("newsdesk listening") => break,
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("serve --demo did not start: {seen:?}");
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn printed(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {out}"))
        .trim()
        .to_string()
}

db_test!(seed_command_prints_the_demo_sign_in_once, |backend| {
    let app = TestApp::spawn(backend).await;
    let out = cli(&app)
        .args(["seed", "--demo", "--articles", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let email = printed(&stdout, "email:");
    let password = printed(&stdout, "password:");
    assert_eq!(email, seed::DEMO_EDITOR_EMAIL);
    assert!(stdout.contains("made 3 synthetic articles"), "{stdout}");
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
    .assert_status(200);
    // Again: refused, with one clear line, and nothing printed as a secret.
    let out = cli(&app).args(["seed", "--demo"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("already loaded"), "{stderr}");
    assert!(!String::from_utf8(out.stdout).unwrap().contains("password"));
    // Without an option it explains itself instead of doing nothing.
    let out = cli(&app).arg("seed").output().unwrap();
    assert!(!out.status.success());
    // serve --demo on a site with articles loads nothing.
    let stdout = serve_demo_output(&app);
    assert!(!stdout.contains("password"), "{stdout}");
});

db_test!(serve_demo_seeds_an_empty_site, |backend| {
    let app = TestApp::spawn(backend).await;
    let stdout = serve_demo_output(&app);
    let password = printed(&stdout, "password:");
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": seed::DEMO_EDITOR_EMAIL, "password": password}),
        )
        .await;
    res.assert_status(200);
    let res = app.get("/api/v1/articles", None).await;
    assert!(res.json()["meta"]["total"].as_i64().unwrap() >= 10);
});
