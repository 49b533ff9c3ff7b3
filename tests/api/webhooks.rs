//! Webhooks: admin CRUD, and deliveries to a real receiver: signed, retried,
//! coalesced, logged, redelivered, and never sent twice.

use std::time::Duration;

use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::TestApp;
use crate::helpers::free_port;
use crate::receiver::{FAST, Receiver};

/// Creates a webhook as `admin`; returns (id, secret).
pub async fn webhook(app: &TestApp, admin: &str, url: &str, events: Value) -> (i64, String) {
    let res = app
        .post(
            "/api/v1/webhooks",
            Some(admin),
            &json!({"url": url, "events": events}),
        )
        .await;
    res.assert_status(201);
    let body = res.json();
    (
        body["id"].as_i64().unwrap(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

pub async fn publish(app: &TestApp, token: &str, title: &str) -> i64 {
    let res = app
        .post(
            "/api/v1/articles",
            Some(token),
            &json!({"title": title, "body": "Text.", "status": "published", "tags": ["world"]}),
        )
        .await;
    res.assert_status(201);
    res.json()["id"].as_i64().unwrap()
}

async fn deliveries(app: &TestApp, admin: &str, hook: i64) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/webhooks/{hook}/deliveries"), Some(admin))
        .await;
    res.assert_status(200);
    res.json()["data"].as_array().unwrap().clone()
}

/// Waits until the delivery log satisfies `pred`.
async fn wait_deliveries(
    app: &TestApp,
    admin: &str,
    hook: i64,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..200 {
        let d = deliveries(app, admin, hook).await;
        if pred(&d) {
            return d;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("delivery log: {:#?}", deliveries(app, admin, hook).await);
}

db_test!(a_publish_is_delivered_once_signed, |backend| {
    let app = TestApp::spawn_with(backend, FAST).await;
    let receiver = Receiver::start(0);
    let (_, admin) = app.user(Role::Admin).await;
    let (hook, secret) = webhook(&app, &admin, &receiver.url(), json!(["article.published"])).await;
    assert!(secret.starts_with("whsec_"));
    let id = publish(&app, &admin, "Breaking").await;
    let hits = receiver.wait_for(10, |h| !h.is_empty()).await;
    // Nothing more arrives.
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    let hits = if receiver.hits().len() == hits.len() {
        hits
    } else {
        receiver.hits()
    };
    assert_eq!(hits.len(), 1, "delivered once");
    let hit = &hits[0];
    assert!(
        hit.signed_with(&secret),
        "the signature verifies: {:?}",
        hit.headers
    );
    assert!(!hit.signed_with("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert_eq!(hit.header("content-type"), "application/json");
    let body = hit.json();
    assert_eq!(body["type"], "article.published");
    assert_eq!(body["data"]["id"], id);
    assert_eq!(body["data"]["title"], "Breaking");
    assert_eq!(hit.header("webhook-id"), format!("evt_{}", body["id"]));
    let ts: i64 = hit.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 30);
    assert!(
        body["purge_keys"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("article-{id}")))
    );
    let log = wait_deliveries(&app, &admin, hook, |d| {
        d.first().is_some_and(|x| x["status"] == "succeeded")
    })
    .await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["response_status"], 200);
    assert_eq!(log[0]["event_type"], "article.published");
    assert_eq!(log[0]["event_id"], body["id"]);
    assert!(log[0]["duration_ms"].is_i64());
    assert!(log[0]["next_attempt_at"].is_null());
    // The filter: an update was not asked for.
    app.patch(
        &format!("/api/v1/articles/{id}"),
        Some(&admin),
        &json!({"title": "B2"}),
    )
    .await
    .assert_status(200);
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.hits().len(), 1);
});

db_test!(
    a_failing_receiver_gets_the_event_on_the_fourth_attempt,
    |backend| {
        let app = TestApp::spawn_with(backend, FAST).await;
        let receiver = Receiver::start(3);
        let (_, admin) = app.user(Role::Admin).await;
        let (hook, secret) = webhook(&app, &admin, &receiver.url(), json!(["*"])).await;
        publish(&app, &admin, "Retry me").await;
        let hits = receiver.wait_for(20, |h| h.len() >= 4).await;
        assert_eq!(hits.len(), 4);
        assert_eq!(
            hits.iter().map(|h| h.status).collect::<Vec<_>>(),
            [500, 500, 500, 200]
        );
        let ids: Vec<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
        assert!(ids.iter().all(|i| *i == ids[0]), "one id: {ids:?}");
        assert!(hits.iter().all(|h| h.signed_with(&secret)));
        let log = wait_deliveries(&app, &admin, hook, |d| {
            d.first().is_some_and(|x| x["status"] == "succeeded")
        })
        .await;
        assert_eq!(log[0]["attempt"], 4);
        assert_eq!(log[0]["response_status"], 200);
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.hits().len(), 4, "nothing after the success");
    }
);

db_test!(
    a_receiver_down_across_a_restart_gets_every_event,
    |backend| {
        let settings: Vec<(&str, &str)> = FAST.to_vec();
        let first = TestApp::spawn_with(backend, &settings).await;
        let port = free_port();
        let (_, admin) = first.user(Role::Admin).await;
        let url = format!("http://localhost:{port}/hook");
        let (hook, _) = webhook(&first, &admin, &url, json!(["*"])).await;
        let a = publish(&first, &admin, "Before the restart").await;
        // Failed attempts (nothing listens), then a restart.
        wait_deliveries(&first, &admin, hook, |d| {
            d.first()
                .is_some_and(|x| x["attempt"].as_i64() >= Some(1) && x["error"].is_string())
        })
        .await;
        first.stop().await;
        let second = first.spawn_sharing(&settings).await;
        let b = publish(&second, &admin, "After the restart").await;
        let receiver = Receiver::start_on(port, 0);
        let hits = receiver
            .wait_for(30, |h| {
                let ids: Vec<i64> = h
                    .iter()
                    .map(|x| x.json()["data"]["id"].as_i64().unwrap())
                    .collect();
                ids.contains(&a) && ids.contains(&b)
            })
            .await;
        assert!(hits.iter().all(|h| h.json()["type"] == "article.published"));
    }
);

db_test!(changes_to_one_article_coalesce, |backend| {
    let mut settings: Vec<(&str, &str)> = FAST.to_vec();
    settings.retain(|(k, _)| *k != "NEWSDESK_WEBHOOK_COALESCE_MS");
    settings.push(("NEWSDESK_WEBHOOK_COALESCE_MS", "1500"));
    let app = TestApp::spawn_with(backend, &settings).await;
    let receiver = Receiver::start(0);
    let (_, admin) = app.user(Role::Admin).await;
    webhook(&app, &admin, &receiver.url(), json!(["*"])).await;
    let id = publish(&app, &admin, "v1").await;
    for title in ["v2", "v3", "v4"] {
        app.patch(
            &format!("/api/v1/articles/{id}"),
            Some(&admin),
            &json!({"title": title}),
        )
        .await
        .assert_status(200);
    }
    let hits = receiver.wait_for(15, |h| h.len() >= 2).await;
    actix_web::rt::time::sleep(Duration::from_millis(2000)).await;
    let hits = if receiver.hits().len() == hits.len() {
        hits
    } else {
        receiver.hits()
    };
    let seen: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            let b = h.json();
            (
                b["type"].as_str().unwrap().to_string(),
                b["data"]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("article.published".to_string(), "v1".to_string()),
            ("article.updated".to_string(), "v4".to_string())
        ],
        "three updates in the window make one delivery with the latest state"
    );
});

db_test!(a_delivery_can_be_redelivered, |backend| {
    let app = TestApp::spawn_with(backend, FAST).await;
    let receiver = Receiver::start(0);
    let (_, admin) = app.user(Role::Admin).await;
    let (hook, _) = webhook(&app, &admin, &receiver.url(), json!(["*"])).await;
    publish(&app, &admin, "Again").await;
    let log = wait_deliveries(&app, &admin, hook, |d| {
        d.first().is_some_and(|x| x["status"] == "succeeded")
    })
    .await;
    let delivery = log[0]["id"].as_i64().unwrap();
    let res = app
        .request(
            "POST",
            &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}/redeliver"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    res.assert_status(202);
    assert_eq!(res.json()["status"], "pending");
    let hits = receiver.wait_for(10, |h| h.len() >= 2).await;
    assert_eq!(hits[0].header("webhook-id"), hits[1].header("webhook-id"));
    // Unknown ids.
    for path in [
        format!("/api/v1/webhooks/{hook}/deliveries/999999/redeliver"),
        format!("/api/v1/webhooks/999999/deliveries/{delivery}/redeliver"),
    ] {
        app.request("POST", &path, Some(&admin), None, &[])
            .await
            .assert_problem(404);
    }
    // An inactive webhook sends nothing, so it is not asked to.
    app.patch(
        &format!("/api/v1/webhooks/{hook}"),
        Some(&admin),
        &json!({"active": false}),
    )
    .await
    .assert_status(200);
    app.request(
        "POST",
        &format!("/api/v1/webhooks/{hook}/deliveries/{delivery}/redeliver"),
        Some(&admin),
        None,
        &[],
    )
    .await
    .assert_problem(409);
});

db_test!(two_instances_send_each_attempt_once, |backend| {
    if backend != newsdesk::db::Backend::Postgres {
        // Several instances share PostgreSQL; SQLite has one.
        return;
    }
    let a = TestApp::spawn_with(backend, FAST).await;
    let b = a.spawn_sharing(FAST).await;
    let receiver = Receiver::start(0);
    let (_, admin) = a.user(Role::Admin).await;
    webhook(&a, &admin, &receiver.url(), json!(["*"])).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        ids.push(publish(app, &admin, &format!("Story {i}")).await);
    }
    let hits = receiver.wait_for(20, |h| h.len() >= 10).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let hits = if receiver.hits().len() == hits.len() {
        hits
    } else {
        receiver.hits()
    };
    let mut got: Vec<i64> = hits
        .iter()
        .map(|h| h.json()["data"]["id"].as_i64().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, ids, "every event once, none twice");
});

db_test!(webhook_crud_checks_input_and_roles, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (_, editor) = app.user(Role::Editor).await;
    let body = json!({"url": "https://hooks.example.com/newsdesk", "events": ["article.published", "article.published", "tag.created"]});
    app.post("/api/v1/webhooks", None, &body)
        .await
        .assert_problem(401);
    app.post("/api/v1/webhooks", Some(&editor), &body)
        .await
        .assert_problem(403);
    app.get("/api/v1/webhooks", Some(&editor))
        .await
        .assert_problem(403);
    let res = app.post("/api/v1/webhooks", Some(&admin), &body).await;
    res.assert_status(201);
    let created = res.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/webhooks/{id}")
    );
    assert_eq!(
        created["events"],
        json!(["article.published", "tag.created"])
    );
    assert_eq!(created["active"], true);
    assert!(created["secret"].as_str().unwrap().len() > 40);
    // The secret is shown once.
    let res = app
        .get(&format!("/api/v1/webhooks/{id}"), Some(&admin))
        .await;
    res.assert_status(200);
    assert!(res.json().get("secret").is_none());
    let res = app.get("/api/v1/webhooks", Some(&admin)).await;
    res.assert_status(200);
    assert_eq!(res.json()["meta"]["total"], 1);
    assert!(res.json()["data"][0].get("secret").is_none());

    // Bad input: 422 naming the field, 400 for malformed JSON.
    for (bad, field) in [
        (json!({"url": "ftp://example.com", "events": ["*"]}), "url"),
        (
            json!({"url": "http://127.0.0.1:8080/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost:8080/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://example.com:70000/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": format!("https://e.com/{}", "a".repeat(2100)), "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://e.com/\u{0}", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/", "events": ["article.nope"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://example.com/", "events": "*"}),
            "events",
        ),
        (json!({"url": "https://example.com/"}), "events"),
        (json!({"events": ["*"]}), "url"),
        (
            json!({"url": "https://example.com/", "events": ["*"], "secret": "x"}),
            "secret",
        ),
        (
            json!({"url": "https://example.com/", "events": ["*"], "active": "yes"}),
            "active",
        ),
    ] {
        let problem = app
            .post("/api/v1/webhooks", Some(&admin), &bad)
            .await
            .assert_problem(422);
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{bad}: {problem}"
        );
    }
    app.raw(
        "POST",
        "/api/v1/webhooks",
        Some(&admin),
        "application/json",
        b"{".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw(
        "POST",
        "/api/v1/webhooks",
        Some(&admin),
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415);
    // Nothing half-written.
    assert_eq!(
        app.get("/api/v1/webhooks", Some(&admin)).await.json()["meta"]["total"],
        1
    );

    // Update.
    let res = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            Some(&admin),
            &json!({"active": false, "events": ["*", "tag.created"]}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["active"], false);
    assert_eq!(res.json()["events"], json!(["*"]));
    app.patch(
        &format!("/api/v1/webhooks/{id}"),
        Some(&admin),
        &json!({"url": "nope"}),
    )
    .await
    .assert_problem(422);
    app.patch(
        &format!("/api/v1/webhooks/{id}"),
        Some(&editor),
        &json!({"active": true}),
    )
    .await
    .assert_problem(403);
    app.patch(
        "/api/v1/webhooks/999999",
        Some(&admin),
        &json!({"active": true}),
    )
    .await
    .assert_problem(404);
    app.get("/api/v1/webhooks/abc", Some(&admin))
        .await
        .assert_problem(400);
    app.get("/api/v1/webhooks/999999", Some(&admin))
        .await
        .assert_problem(404);
    app.get("/api/v1/webhooks?bogus=1", Some(&admin))
        .await
        .assert_problem(400);
    app.get("/api/v1/webhooks?per_page=101", Some(&admin))
        .await
        .assert_problem(400);
    app.get(
        &format!("/api/v1/webhooks/{id}/deliveries?sort=id"),
        Some(&admin),
    )
    .await
    .assert_problem(400);
    app.get("/api/v1/webhooks/999999/deliveries", Some(&admin))
        .await
        .assert_problem(404);
    app.get(&format!("/api/v1/webhooks/{id}/deliveries"), Some(&editor))
        .await
        .assert_problem(403);
    // Delete.
    app.delete(&format!("/api/v1/webhooks/{id}"), Some(&editor))
        .await
        .assert_problem(403);
    app.delete(&format!("/api/v1/webhooks/{id}"), Some(&admin))
        .await
        .assert_status(204);
    app.delete(&format!("/api/v1/webhooks/{id}"), Some(&admin))
        .await
        .assert_problem(404);
});

db_test!(deliveries_to_a_private_address_are_refused, |backend| {
    // Saved while private targets were allowed, sent after they no longer
    // are: refused at sending, as a name that comes to resolve to an
    // internal address would be.
    let first = TestApp::spawn_with(backend, FAST).await;
    let receiver = Receiver::start(0);
    let (_, admin) = first.user(Role::Admin).await;
    let (hook, _) = webhook(&first, &admin, &receiver.url(), json!(["*"])).await;
    first.stop().await;
    let mut strict: Vec<(&str, &str)> = FAST.to_vec();
    strict.retain(|(k, _)| *k != "NEWSDESK_WEBHOOK_ALLOW_PRIVATE");
    let second = first.spawn_sharing(&strict).await;
    publish(&second, &admin, "Internal").await;
    let log = wait_deliveries(&second, &admin, hook, |d| {
        d.first().is_some_and(|x| x["error"].is_string())
    })
    .await;
    assert!(
        log[0]["error"].as_str().unwrap().contains("127.0.0.1"),
        "{log:?}"
    );
    assert!(log[0]["response_status"].is_null());
    assert_eq!(log[0]["status"], "pending");
    assert!(receiver.hits().is_empty());
});

db_test!(a_delivery_fails_once_its_retries_run_out, |backend| {
    let mut settings: Vec<(&str, &str)> = FAST.to_vec();
    settings.push(("NEWSDESK_WEBHOOK_RETRY_FOR", "1s"));
    let app = TestApp::spawn_with(backend, &settings).await;
    let receiver = Receiver::start(usize::MAX);
    let (_, admin) = app.user(Role::Admin).await;
    let (hook, _) = webhook(&app, &admin, &receiver.url(), json!(["*"])).await;
    publish(&app, &admin, "Never taken").await;
    let log = wait_deliveries(&app, &admin, hook, |d| {
        d.first().is_some_and(|x| x["status"] == "failed")
    })
    .await;
    assert_eq!(log[0]["response_status"], 500);
    assert!(log[0]["next_attempt_at"].is_null());
    let attempts = log[0]["attempt"].as_i64().unwrap();
    assert!(attempts >= 2, "retried before giving up: {attempts}");
    actix_web::rt::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver.hits().len() as i64,
        attempts,
        "nothing after giving up"
    );
});
