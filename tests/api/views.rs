//! The view beacon: answers from memory, batched additive writes, exact
//! counts under concurrency, across instances, failures and shutdown.
//!
//! Also the article fixtures the comment and shutdown tests share (there is
//! no article API on this branch: rows are inserted directly).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use futures_util::future::join_all;
use newsdesk::auth::Role;
use newsdesk::db::DbConnection;
use newsdesk::db::schema::{article_daily_stats, articles};
use serde_json::json;

use crate::db_test;
use crate::helpers::TestApp;

/// Inserts an article with simple values for every required column.
pub fn insert_article(
    conn: &mut DbConnection,
    author_id: i64,
    status: &str,
    published_at: Option<NaiveDateTime>,
    comments_enabled: bool,
) -> i64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let slug = format!("article-{n}-{}", rand::random::<u32>());
    let now = newsdesk::time::now();
    diesel::insert_into(articles::table)
        .values((
            articles::slug.eq(&slug),
            articles::title.eq(format!("Article {n}")),
            articles::excerpt.eq("An excerpt."),
            articles::body.eq("A body."),
            articles::body_format.eq("markdown"),
            articles::body_html.eq("<p>A body.</p>"),
            articles::body_text.eq("A body."),
            articles::status.eq(status),
            articles::published_at.eq(published_at),
            articles::created_at.eq(now),
            articles::updated_at.eq(now),
            articles::comments_enabled.eq(comments_enabled),
            articles::author_id.eq(author_id),
        ))
        .returning(articles::id)
        .get_result(conn)
        .expect("insert article")
}

/// A visible article (published an hour ago) by a new author.
pub async fn visible_article(app: &TestApp) -> i64 {
    let (author, _) = app.user(Role::Author).await;
    let at = newsdesk::time::now() - Duration::hours(1);
    insert_article(&mut app.conn(), author, "published", Some(at), true)
}

/// `(view_count, comment_count)` as stored.
pub fn stored_counts(conn: &mut DbConnection, id: i64) -> (i64, i64) {
    articles::table
        .find(id)
        .select((articles::view_count, articles::comment_count))
        .first(conn)
        .expect("article")
}

/// `(day, views, comments)` rows of an article, by day.
pub fn daily(conn: &mut DbConnection, id: i64) -> Vec<(NaiveDate, i64, i64)> {
    article_daily_stats::table
        .filter(article_daily_stats::article_id.eq(id))
        .order(article_daily_stats::day.asc())
        .select((
            article_daily_stats::day,
            article_daily_stats::views,
            article_daily_stats::comments,
        ))
        .load(conn)
        .expect("daily stats")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn beacon(id: i64) -> String {
    format!("/api/v1/articles/{id}/views")
}

/// Sends `n` beacons, `concurrency` at a time, and asserts each is a 202.
pub async fn send_beacons(app: &TestApp, id: i64, n: usize, concurrency: usize) {
    let path = beacon(id);
    let mut left = n;
    while left > 0 {
        let batch = left.min(concurrency);
        let results =
            join_all((0..batch).map(|_| app.request("POST", &path, None, None, &[]))).await;
        for r in results {
            r.assert_status(202);
        }
        left -= batch;
    }
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

db_test!(beacon_answers_202_and_counts_after_a_flush, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let id = visible_article(&app).await;
    let res = app.request("POST", &beacon(id), None, None, &[]).await;
    res.assert_status(202);
    assert!(res.body.is_empty(), "no body");
    assert!(res.header("content-type").is_none());
    // Any body and any Authorization header are ignored.
    app.request(
        "POST",
        &beacon(id),
        Some("not-a-token"),
        Some(&json!({"anything": [1, 2]})),
        &[],
    )
    .await
    .assert_status(202);
    app.raw("POST", &beacon(id), None, "text/plain", b"ping".to_vec())
        .await
        .assert_status(202);
    assert_eq!(app.state.views.pending(), 3);
    // Nothing is written before the flush.
    assert_eq!(stored_counts(&mut app.conn(), id), (0, 0));
    assert!(daily(&mut app.conn(), id).is_empty());

    let metrics = String::from_utf8(app.metrics().await.body).unwrap();
    assert_eq!(metric(&metrics, "newsdesk_view_buffer_size"), Some(3.0));

    assert_eq!(app.state.views.flush().await.unwrap(), 3);
    assert_eq!(stored_counts(&mut app.conn(), id), (3, 0));
    assert_eq!(daily(&mut app.conn(), id), vec![(today(), 3, 0)]);
    assert_eq!(app.state.views.pending(), 0);
    // An empty flush writes nothing.
    assert_eq!(app.state.views.flush().await.unwrap(), 0);

    let metrics = String::from_utf8(app.metrics().await.body).unwrap();
    assert_eq!(metric(&metrics, "newsdesk_view_buffer_size"), Some(0.0));
    assert_eq!(
        metric(
            &metrics,
            "newsdesk_view_flush_duration_seconds_count{outcome=\"ok\"}"
        ),
        Some(1.0),
        "{metrics}"
    );

    // Other methods on the beacon are a 405 naming POST.
    let res = app.get(&beacon(id), None).await;
    res.assert_problem(405);
    assert!(res.header("allow").unwrap().contains("POST"));
});

db_test!(the_background_task_flushes_on_its_interval, |backend| {
    let app = TestApp::spawn(backend).await; // flushes every 100 ms
    let id = visible_article(&app).await;
    send_beacons(&app, id, 5, 5).await;
    let mut stored = (0, 0);
    for _ in 0..100 {
        stored = stored_counts(&mut app.conn(), id);
        if stored.0 == 5 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stored, (5, 0));
    assert_eq!(daily(&mut app.conn(), id), vec![(today(), 5, 0)]);
});

db_test!(two_thousand_concurrent_beacons_add_up_exactly, |backend| {
    let app = TestApp::spawn(backend).await; // the interval flusher runs too
    let a = visible_article(&app).await;
    let b = visible_article(&app).await;
    // 200 requests in flight at a time: 150 for one article, 50 for the other.
    futures_util::future::join(
        send_beacons(&app, a, 1500, 150),
        send_beacons(&app, b, 500, 50),
    )
    .await;
    app.state.views.flush().await.unwrap();
    assert_eq!(app.state.views.pending(), 0);
    assert_eq!(stored_counts(&mut app.conn(), a), (1500, 0));
    assert_eq!(stored_counts(&mut app.conn(), b), (500, 0));
    assert_eq!(daily(&mut app.conn(), a), vec![(today(), 1500, 0)]);
    assert_eq!(daily(&mut app.conn(), b), vec![(today(), 500, 0)]);
});

db_test!(unknown_and_invisible_articles_are_404, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let (author, _) = app.user(Role::Author).await;
    let past = Some(newsdesk::time::now() - Duration::hours(1));
    let future = Some(newsdesk::time::now() + Duration::hours(1));
    let mut conn = app.conn();
    let draft = insert_article(&mut conn, author, "draft", None, true);
    let draft_dated = insert_article(&mut conn, author, "draft", past, true);
    let archived = insert_article(&mut conn, author, "archived", past, true);
    let scheduled = insert_article(&mut conn, author, "published", future, true);
    let undated = insert_article(&mut conn, author, "published", None, true);
    drop(conn);
    for id in [draft, draft_dated, archived, scheduled, undated, 999_999] {
        // Twice: the second answer comes from the cache, and is the same.
        for _ in 0..2 {
            let body = app
                .request("POST", &beacon(id), None, None, &[])
                .await
                .assert_problem(404);
            assert_eq!(body["title"], "Not found");
        }
    }
    let body = app
        .request("POST", "/api/v1/articles/abc/views", None, None, &[])
        .await
        .assert_problem(400);
    assert!(body["detail"].as_str().unwrap().contains("path"), "{body}");
    app.request("POST", "/api/v1/articles/1.5/views", None, None, &[])
        .await
        .assert_problem(400);
    assert_eq!(app.state.views.pending(), 0);
    app.state.views.flush().await.unwrap();
    let written: i64 = article_daily_stats::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(written, 0);
});

db_test!(
    a_scheduled_article_becomes_countable_at_its_time,
    |backend| {
        let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
        let (author, _) = app.user(Role::Author).await;
        let at = newsdesk::time::now() + Duration::seconds(2);
        let id = insert_article(&mut app.conn(), author, "published", Some(at), true);
        app.request("POST", &beacon(id), None, None, &[])
            .await
            .assert_problem(404);
        // The cache holds the publication time, not the answer: no invalidation
        // is needed for the moment to come.
        while newsdesk::time::now() < at {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        app.request("POST", &beacon(id), None, None, &[])
            .await
            .assert_status(202);
        app.state.views.flush().await.unwrap();
        assert_eq!(stored_counts(&mut app.conn(), id), (1, 0));
    }
);

db_test!(forget_applies_an_article_change_at_once, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let id = visible_article(&app).await;
    app.request("POST", &beacon(id), None, None, &[])
        .await
        .assert_status(202);
    // Unpublished behind the beacon's back: it answers from its cache (no
    // database round trip per beacon) until told or until the TTL passes.
    diesel::update(articles::table.find(id))
        .set(articles::status.eq("draft"))
        .execute(&mut app.conn())
        .unwrap();
    app.request("POST", &beacon(id), None, None, &[])
        .await
        .assert_status(202);
    app.state.views.forget(id);
    app.request("POST", &beacon(id), None, None, &[])
        .await
        .assert_problem(404);
    // And back: "not visible" is cached too, until forgotten.
    diesel::update(articles::table.find(id))
        .set(articles::status.eq("published"))
        .execute(&mut app.conn())
        .unwrap();
    app.request("POST", &beacon(id), None, None, &[])
        .await
        .assert_problem(404);
    app.state.views.forget(id);
    app.request("POST", &beacon(id), None, None, &[])
        .await
        .assert_status(202);
    // Without `forget`, the change is seen once the TTL has passed.
    diesel::update(articles::table.find(id))
        .set(articles::status.eq("archived"))
        .execute(&mut app.conn())
        .unwrap();
    actix_web::rt::time::sleep(
        newsdesk::stats::views::VISIBILITY_TTL + std::time::Duration::from_millis(300),
    )
    .await;
    app.request("POST", &beacon(id), None, None, &[])
        .await
        .assert_problem(404);
    app.state.views.flush().await.unwrap();
    assert_eq!(stored_counts(&mut app.conn(), id), (3, 0));
});

db_test!(a_deleted_article_does_not_break_the_flush, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let gone = visible_article(&app).await;
    let kept = visible_article(&app).await;
    send_beacons(&app, gone, 4, 4).await;
    send_beacons(&app, kept, 6, 6).await;
    diesel::delete(articles::table.find(gone))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(app.state.views.flush().await.unwrap(), 10);
    assert_eq!(app.state.views.pending(), 0);
    assert_eq!(stored_counts(&mut app.conn(), kept), (6, 0));
    assert_eq!(daily(&mut app.conn(), kept), vec![(today(), 6, 0)]);
    assert!(daily(&mut app.conn(), gone).is_empty());
});

db_test!(a_failed_flush_keeps_its_counts_for_the_next, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let id = visible_article(&app).await;
    send_beacons(&app, id, 7, 7).await;
    // Make the write fail: the statistics table is briefly missing.
    let rename = |from: &str, to: &str| {
        diesel::sql_query(format!("ALTER TABLE {from} RENAME TO {to}"))
            .execute(&mut app.conn())
            .unwrap();
    };
    rename("article_daily_stats", "article_daily_stats_away");
    assert!(app.state.views.flush().await.is_err());
    assert_eq!(app.state.views.pending(), 7);
    // Nothing half-written: view_count was rolled back with the rest.
    assert_eq!(stored_counts(&mut app.conn(), id), (0, 0));
    send_beacons(&app, id, 3, 3).await;
    rename("article_daily_stats_away", "article_daily_stats");
    assert_eq!(app.state.views.flush().await.unwrap(), 10);
    assert_eq!(stored_counts(&mut app.conn(), id), (10, 0));
    assert_eq!(daily(&mut app.conn(), id), vec![(today(), 10, 0)]);

    let metrics = String::from_utf8(app.metrics().await.body).unwrap();
    assert_eq!(
        metric(
            &metrics,
            "newsdesk_view_flush_duration_seconds_count{outcome=\"error\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "newsdesk_view_buffer_size"), Some(0.0));
});

db_test!(two_instances_sharing_a_database_add_up, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let mut vars = crate::helpers::base_vars(&app.db_url);
    vars.insert("NEWSDESK_VIEW_FLUSH_MS".into(), "600000".into());
    let config = newsdesk::config::Config::from_map(&vars).unwrap();
    let other = newsdesk::startup::Application::build(config).await.unwrap();
    let other_state = other.state();
    let other_url = format!("http://127.0.0.1:{}", other.port());
    let other_handle = other.handle();
    actix_web::rt::spawn(other.run_until_stopped());

    let ids = [visible_article(&app).await, visible_article(&app).await];
    let client = awc::Client::default();
    for round in 0..3 {
        send_beacons(&app, ids[0], 40, 40).await;
        send_beacons(&app, ids[1], 10, 10).await;
        for id in ids {
            let sent = join_all((0..25).map(|_| {
                client
                    .post(format!("{other_url}/api/v1/articles/{id}/views"))
                    .send()
            }))
            .await;
            for r in sent {
                assert_eq!(r.unwrap().status().as_u16(), 202);
            }
        }
        // Both flush at the same moment: increments, never overwrites.
        let (x, y) =
            futures_util::future::join(app.state.views.flush(), other_state.views.flush()).await;
        assert_eq!(x.unwrap(), 50, "round {round}");
        assert_eq!(y.unwrap(), 50, "round {round}");
    }
    assert_eq!(stored_counts(&mut app.conn(), ids[0]), (195, 0));
    assert_eq!(stored_counts(&mut app.conn(), ids[1]), (105, 0));
    assert_eq!(daily(&mut app.conn(), ids[0]), vec![(today(), 195, 0)]);
    assert_eq!(daily(&mut app.conn(), ids[1]), vec![(today(), 105, 0)]);
    other_handle.stop(true).await;
});

db_test!(a_graceful_stop_writes_the_buffer, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")]).await;
    let id = visible_article(&app).await;
    send_beacons(&app, id, 120, 60).await;
    assert_eq!(stored_counts(&mut app.conn(), id), (0, 0));
    app.stop().await;
    // Written by the time `stop` returns.
    assert_eq!(stored_counts(&mut app.conn(), id), (120, 0));
    assert_eq!(daily(&mut app.conn(), id), vec![(today(), 120, 0)]);
    assert_eq!(app.state.views.pending(), 0);
});
