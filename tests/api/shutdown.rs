//! The real binary: `newsdesk serve` stopped with SIGTERM writes every
//! buffered view before it exits with status 0, and a restarted process
//! keeps adding to what is stored.

use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::db_test;
use crate::helpers::{TEST_SECRET, TestApp};
use crate::views::{daily, stored_counts, visible_article};

/// A `newsdesk serve` child process, killed if a test fails before it stops.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary on `db_url` with a flush interval so long that only
/// the shutdown flush can write, and waits until it answers.
async fn serve(db_url: &str, dir: &std::path::Path) -> Served {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .arg("serve")
        .env_clear()
        .current_dir(dir)
        .env("NEWSDESK_DATABASE_URL", db_url)
        .env("NEWSDESK_BIND", format!("127.0.0.1:{port}"))
        .env("NEWSDESK_JWT_SECRET", TEST_SECRET)
        .env("NEWSDESK_VIEW_FLUSH_MS", "600000")
        .env("NEWSDESK_WORKERS", "2")
        .env("NEWSDESK_DB_POOL_SIZE", "4")
        .env("NEWSDESK_LOG", "warn")
        // Every beacon of this test comes from one client: count them all.
        .env("NEWSDESK_VIEW_DEDUP_WINDOW", "0")
        .env("NEWSDESK_RATE_VIEWS", "off")
        .env("NEWSDESK_METRICS_BIND", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start newsdesk");
    let mut served = Served {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = awc::Client::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = served.child.try_wait() {
            panic!("newsdesk exited during start-up: {status}");
        }
        if let Ok(res) = client.get(format!("{}/healthz", served.url)).send().await
            && res.status().as_u16() == 200
        {
            return served;
        }
        assert!(Instant::now() < deadline, "newsdesk did not start");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn beacons(served: &Served, article: i64, n: usize) {
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
async fn terminate(mut served: Served) -> ExitStatus {
    let pid = served.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "newsdesk did not stop");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
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
