//! Scheduled publishing: the scheduler announces a scheduled article when
//! its time comes, once, on any number of instances, and lists' cache
//! lifetimes never run past it.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use newsdesk::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::events::{events_after, types};
use crate::helpers::TestApp;

/// Whole seconds from now, as the API takes them.
fn in_secs(secs: i64) -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(0) + chrono::Duration::seconds(secs)
}

fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn schedule(app: &TestApp, token: &str, title: &str, at: chrono::DateTime<Utc>) -> i64 {
    let res = app
        .post(
            "/api/v1/articles",
            Some(token),
            &json!({"title": title, "body": "Soon.", "status": "published",
                    "published_at": rfc3339(at)}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_i64().unwrap()
}

db_test!(
    a_scheduled_article_goes_live_with_its_event_on_time,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, editor) = app.user(Role::Editor).await;
        let at = in_secs(3);
        let id = schedule(&app, &editor, "At three", at).await;
        app.get(&format!("/api/v1/articles/{id}"), None)
            .await
            .assert_problem(404);
        // Lists may be cached only until it goes live.
        let res = app.get("/api/v1/articles", None).await;
        let cache = res.header("cache-control").unwrap();
        let max_age: u64 = cache.rsplit('=').next().unwrap().parse().unwrap();
        assert!(max_age <= 3, "{cache}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let published_at = loop {
            let events = events_after(&app, &editor, 0).await;
            if events.iter().any(|e| e["type"] == "article.published") {
                break Utc::now();
            }
            assert!(Instant::now() < deadline, "not published: {events:?}");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        };
        let late = (published_at - at).to_std().unwrap_or_default();
        assert!(
            late < Duration::from_secs(2),
            "published {late:?} after its time"
        );
        let events = events_after(&app, &editor, 0).await;
        assert_eq!(types(&events), ["article.scheduled", "article.published"]);
        assert_eq!(events[1]["data"]["id"], id);
        app.get(&format!("/api/v1/articles/{id}"), None)
            .await
            .assert_status(200);
        // Once: nothing more later.
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(events_after(&app, &editor, 0).await.len(), 2);
    }
);

db_test!(overdue_articles_are_published_at_start_up, |backend| {
    let first = TestApp::spawn(backend).await;
    let (_, editor) = first.user(Role::Editor).await;
    let id = schedule(&first, &editor, "While down", in_secs(2)).await;
    first.stop().await;
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    let second = first.spawn_sharing(&[]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = events_after(&second, &editor, 0).await;
        if types(&events) == ["article.scheduled", "article.published"] {
            assert_eq!(events[1]["data"]["id"], id);
            break;
        }
        assert!(Instant::now() < deadline, "{events:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
});

db_test!(rescheduling_and_publishing_early_announce_once, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, editor) = app.user(Role::Editor).await;
    let id = schedule(&app, &editor, "Moved", in_secs(3600)).await;
    // Published early by hand: published now, and the scheduler has
    // nothing left to announce for it.
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&editor),
        &json!({"published_at": rfc3339(in_secs(-1))}),
    )
    .await
    .assert_status(200);
    let events = events_after(&app, &editor, 0).await;
    assert_eq!(types(&events), ["article.scheduled", "article.published"]);
    let stored: i64 = {
        use diesel::prelude::*;
        newsdesk::db::schema::scheduled_articles::table
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(stored, 0);
});

db_test!(
    two_instances_publish_each_scheduled_article_once,
    |backend| {
        if backend != newsdesk::db::Backend::Postgres {
            // Several instances share PostgreSQL; SQLite has one.
            return;
        }
        let a = TestApp::spawn(backend).await;
        let b = a.spawn_sharing(&[]).await;
        let c = a.spawn_sharing(&[]).await;
        let (_, editor) = a.user(Role::Editor).await;
        let at = in_secs(2);
        let mut ids = Vec::new();
        for i in 0..12 {
            ids.push(schedule(&a, &editor, &format!("Wave {i}"), at).await);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = events_after(&b, &editor, 0).await;
            let published = events
                .iter()
                .filter(|e| e["type"] == "article.published")
                .count();
            if published >= ids.len() {
                break;
            }
            assert!(Instant::now() < deadline, "{events:?}");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        let events = events_after(&c, &editor, 0).await;
        let mut published: Vec<i64> = events
            .iter()
            .filter(|e| e["type"] == "article.published")
            .map(|e| e["data"]["id"].as_i64().unwrap())
            .collect();
        published.sort_unstable();
        assert_eq!(published, ids, "each article published exactly once");
    }
);

db_test!(going_live_empties_the_read_cache, |backend| {
    // A long-lived read cache: only the scheduler's publication can make
    // the new story appear in the cached list at once.
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_READ_CACHE_MS", "60000")]).await;
    let (_, editor) = app.user(Role::Editor).await;
    let id = schedule(&app, &editor, "Cached away", in_secs(2)).await;
    let before = app.get("/api/v1/articles", None).await;
    assert_eq!(before.json()["meta"]["total"], 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = events_after(&app, &editor, 0).await;
        if types(&events).len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{events:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // The cache is emptied right after the commit that the event log
    // shows: allow the scheduler that moment, far less than the cache's
    // 60 s.
    let mut after = app.get("/api/v1/articles", None).await;
    for _ in 0..20 {
        if after.json()["meta"]["total"] == 1 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        after = app.get("/api/v1/articles", None).await;
    }
    assert_eq!(after.json()["meta"]["total"], 1);
    assert_eq!(after.json()["data"][0]["id"], id);
});
