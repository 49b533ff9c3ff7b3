//! Operations endpoints, the OpenAPI document and the docs UI.

use crate::db_test;
use crate::helpers::TestApp;

db_test!(healthz_and_readyz_answer, |backend| {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/healthz", None).await;
    res.assert_status(200);
    assert_eq!(res.json()["status"], "ok");
    let res = app.get("/readyz", None).await;
    res.assert_status(200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
});

db_test!(
    openapi_document_is_served_and_matches_the_committed_file,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let res = app.get("/api/openapi.json", None).await;
        res.assert_status(200);
        let served = res.json();
        assert_eq!(served["openapi"], "3.1.0");
        let generated: serde_json::Value =
            serde_json::from_str(&newsdesk::startup::openapi_json()).unwrap();
        assert_eq!(served, generated);
    }
);

db_test!(docs_ui_is_served_without_external_assets, |backend| {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/docs/", None).await;
    res.assert_status(200);
    let html = String::from_utf8_lossy(&res.body).to_string();
    assert!(html.contains("swagger"), "{html}");
    assert!(!html.contains("cdn."), "docs must not load from a CDN");
    let res = app.get("/docs", None).await;
    assert!(
        res.status == 200 || res.status == 301 || res.status == 308 || res.status == 302,
        "{}",
        res.status
    );
});

#[test]
fn committed_openapi_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json exists; regenerate with `cargo run -- openapi > openapi/openapi.json`");
    assert!(
        committed == newsdesk::startup::openapi_json(),
        "openapi/openapi.json is stale: regenerate with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn env_example_documents_every_variable() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
    for (name, default) in newsdesk::config::VARIABLES {
        let line = if default.is_empty() {
            format!("# {name}=")
        } else {
            format!("{name}={default}")
        };
        assert!(
            example.lines().any(|l| l == line),
            ".env.example lacks `{line}`"
        );
    }
}

db_test!(metrics_are_prometheus_text, |backend| {
    let app = TestApp::spawn(backend).await;
    app.get("/healthz", None).await.assert_status(200);
    let res = app.metrics().await;
    res.assert_status(200);
    let text = String::from_utf8_lossy(&res.body).to_string();
    assert!(
        res.header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    assert!(
        text.contains(
            "newsdesk_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("newsdesk_http_request_duration_seconds_bucket"));
    assert!(text.contains("newsdesk_view_buffer_size"));
    assert!(text.contains("newsdesk_db_pool_connections"));
});
