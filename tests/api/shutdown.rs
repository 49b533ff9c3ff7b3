//! The real binary: `newsdesk serve` stopped with SIGTERM writes every
//! buffered view before it exits with status 0, and a restarted process
//! keeps adding to what is stored.

use std::process::ExitStatus;

use futures_util::future::join_all;

use crate::db_test;
use crate::helpers::{Served, TestApp};
use crate::views::{daily, stored_counts, visible_article};

/// Starts the binary on `db_url` with a flush interval so long that only
/// the shutdown flush can write, and waits until it answers.
async fn serve(db_url: &str, dir: &std::path::Path) -> Served {
    Served::start(db_url, dir, &[("NEWSDESK_VIEW_FLUSH_MS", "600000")])
        .ready()
        .await
}

pub async fn beacons(served: &Served, article: i64, n: usize) {
    let client = awc::Client::default();
    let url = format!("{}/api/v1/articles/{article}/views", served.url);
    let mut left = n;
    while left > 0 {
        let batch = left.min(50);
        for res in join_all((0..batch).map(|_| client.post(&url).send())).await {
            assert_eq!(res.unwrap().status().as_u16(), 202);
        }
        left -= batch;
    }
}

/// Sends SIGTERM and waits for the process to exit.
async fn terminate(served: Served) -> ExitStatus {
    served.signal("TERM").await
}

db_test!(sigterm_writes_every_buffered_view, |backend| {
    // The in-process app provides the database (and removes it afterwards).
    let app = TestApp::spawn(backend).await;
    let a = visible_article(&app).await;
    let b = visible_article(&app).await;
    let dir = tempfile::tempdir().unwrap();

    let served = serve(&app.db_url, dir.path()).await;
    beacons(&served, a, 150).await;
    beacons(&served, b, 40).await;
    // Nothing written yet: the flush interval is ten minutes.
    assert_eq!(stored_counts(&mut app.conn(), a), (0, 0));
    let status = terminate(served).await;
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(stored_counts(&mut app.conn(), a), (150, 0));
    assert_eq!(stored_counts(&mut app.conn(), b), (40, 0));
    let today = chrono::Utc::now().date_naive();
    assert_eq!(daily(&mut app.conn(), a), vec![(today, 150, 0)]);

    // A restarted process sees the stored counts and adds to them.
    let served = serve(&app.db_url, dir.path()).await;
    beacons(&served, a, 25).await;
    let status = terminate(served).await;
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(stored_counts(&mut app.conn(), a), (175, 0));
    assert_eq!(stored_counts(&mut app.conn(), b), (40, 0));
    assert_eq!(daily(&mut app.conn(), a), vec![(today, 175, 0)]);
});
