//! The media library on S3-compatible storage (`NEWSDESK_MEDIA_STORE`):
//! a real S3 server (s3s over a temp folder, in-process on a free port,
//! speaking the S3 protocol with SigV4 signatures) keeps the files; the
//! app stores, serves (ETag, ranges, HEAD, 304), rebuilds and deletes
//! through it, and keeps nothing on local disk.

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use newsdesk::auth::Role;
use serde_json::Value;

use crate::db_test;
use crate::helpers::{Res, TestApp};

const ACCESS_KEY: &str = "newsdesk-test";
const SECRET_KEY: &str = "newsdesk-test-secret";
const BUCKET: &str = "media";

/// An S3 server over a temp folder, running on a thread of its own until
/// dropped.
struct S3Server {
    endpoint: String,
    root: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl S3Server {
    fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let service = {
                    let mut b = s3s::service::S3ServiceBuilder::new(fs);
                    b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
                    b.build()
                };
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let http = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                loop {
                    let socket = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((socket, _)) => socket,
                            Err(_) => continue,
                        },
                        _ = &mut stopped => break,
                    };
                    let conn = http
                        .serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone())
                        .into_owned();
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
            });
        });
        Self {
            endpoint,
            root,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The variables that point an app at this server, under `prefix`.
    fn vars(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("NEWSDESK_MEDIA_STORE", format!("s3://{BUCKET}/{prefix}")),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Where the server keeps the object `key` of the bucket.
    fn object(&self, key: &str) -> PathBuf {
        self.root.path().join(BUCKET).join(key)
    }

    /// The stored picture folders (hashes) under `prefix`.
    fn hashes(&self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(self.root.path().join(BUCKET).join(prefix)) else {
            return out;
        };
        for shard in shards.flatten() {
            for entry in std::fs::read_dir(shard.path()).unwrap().flatten() {
                if std::fs::read_dir(entry.path()).unwrap().next().is_some() {
                    out.push(entry.file_name().to_string_lossy().to_string());
                }
            }
        }
        out
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn spawn_on(backend: newsdesk::db::Backend, s3: &S3Server, prefix: &str) -> TestApp {
    let vars = s3.vars(prefix);
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::spawn_with(backend, &extra).await
}

fn picture(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 7 * 30) as u8])
    }));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/".into(), |i| rest[i..].to_string())
}

async fn upload(app: &TestApp, token: &str, bytes: &[u8]) -> Res {
    app.multipart(
        "/api/v1/media",
        Some(token),
        &[("alt", "on S3")],
        &[("file", "p.jpg", "image/jpeg", bytes)],
    )
    .await
}

/// `…/media/files/HASH/NAME` → (HASH, NAME).
fn hash_and_name(url: &str) -> (String, String) {
    let mut parts = url.rsplit('/');
    let name = parts.next().unwrap().to_string();
    (parts.next().unwrap().to_string(), name)
}

fn no_local_pictures(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .all(|e| e.file_name().to_string_lossy().len() != 2)
        })
        .unwrap_or(true)
}

db_test!(s3_store_keeps_and_serves_the_files, |backend| {
    let s3 = S3Server::start();
    let app = spawn_on(backend, &s3, "site-a").await;
    let (_, token) = app.user(Role::Author).await;
    let bytes = picture(ImageFormat::Jpeg, 1100, 600);
    let res = upload(&app, &token, &bytes).await;
    res.assert_status(201);
    let m: Value = res.json();
    let (hash, original) = hash_and_name(m["url"].as_str().unwrap());
    assert_eq!(original, "original.jpg");

    // In the bucket, under the prefix, in the local layout; nothing on disk.
    assert_eq!(s3.hashes("site-a"), vec![hash.clone()]);
    let key = |name: &str| format!("site-a/{}/{hash}/{name}", &hash[..2]);
    for r in m["renditions"].as_array().unwrap() {
        let (_, name) = hash_and_name(r["url"].as_str().unwrap());
        assert!(s3.object(&key(&name)).is_file(), "{name}");
    }
    assert!(no_local_pictures(&app.media_dir));

    // Served as local files are: type, immutable caching, ETag, ranges, HEAD.
    let rendition = m["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["width"] == 1024 && r["mime_type"] == "image/webp")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = path_of(&rendition);
    let stored = std::fs::read(s3.object(&key("1024.webp"))).unwrap();
    let res = app.get(&path, None).await;
    res.assert_status(200);
    assert_eq!(res.body, stored);
    assert_eq!(res.header("content-type").as_deref(), Some("image/webp"));
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(res.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(res.header("last-modified").is_some());
    let etag = res.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    // The same path gives the same ETag (it names one content forever).
    assert_eq!(
        app.get(&path, None).await.header("etag"),
        Some(etag.clone())
    );

    let res = app
        .request("GET", &path, None, None, &[("If-None-Match", &etag)])
        .await;
    res.assert_status(304);
    assert!(res.body.is_empty());
    assert_eq!(res.header("etag"), Some(etag.clone()));
    app.request("GET", &path, None, None, &[("If-None-Match", "\"other\"")])
        .await
        .assert_status(200);
    let last_modified = app.get(&path, None).await.header("last-modified").unwrap();
    app.request(
        "GET",
        &path,
        None,
        None,
        &[("If-Modified-Since", &last_modified)],
    )
    .await
    .assert_status(304);

    let res = app
        .request("GET", &path, None, None, &[("Range", "bytes=10-19")])
        .await;
    res.assert_status(206);
    assert_eq!(res.body, stored[10..20]);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 10-19/{}", stored.len()))
    );
    let res = app
        .request("GET", &path, None, None, &[("Range", "bytes=-7")])
        .await;
    res.assert_status(206);
    assert_eq!(res.body, stored[stored.len() - 7..]);
    let res = app
        .request("GET", &path, None, None, &[("Range", "bytes=99999999-")])
        .await;
    assert_eq!(res.status, 416);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes */{}", stored.len()))
    );
    // Several ranges or a malformed one: the whole file.
    let res = app
        .request("GET", &path, None, None, &[("Range", "bytes=0-1,5-6")])
        .await;
    res.assert_status(200);
    assert_eq!(res.body, stored);
    let res = app.request("HEAD", &path, None, None, &[]).await;
    res.assert_status(200);
    assert!(res.body.is_empty());
    assert_eq!(res.header("content-length"), Some(stored.len().to_string()));

    // Only stored files exist, whatever the URL asks.
    let dir = path.rsplit_once('/').unwrap().0.to_string();
    for name in ["2400.jpg", "500.jpg", "original.png", "..%2Foriginal.jpg"] {
        app.get(&format!("{dir}/{name}"), None)
            .await
            .assert_problem(404);
    }

    // The same bytes again: a new row, the same objects.
    let again: Value = upload(&app, &token, &bytes).await.json();
    assert_ne!(again["id"], m["id"]);
    assert_eq!(again["url"], m["url"]);
    assert_eq!(s3.hashes("site-a").len(), 1);
});

db_test!(s3_store_rebuilds_and_deletes, |backend| {
    let s3 = S3Server::start();
    let app = spawn_on(backend, &s3, "").await;
    let (_, token) = app.user(Role::Editor).await;
    let m: Value = upload(&app, &token, &picture(ImageFormat::Png, 700, 400))
        .await
        .json();
    let (hash, _) = hash_and_name(m["url"].as_str().unwrap());
    let rendition = m["renditions"][0]["url"].as_str().unwrap().to_string();
    let (_, name) = hash_and_name(&rendition);
    let key = format!("{}/{hash}/{name}", &hash[..2]);

    // A rendition gone missing, and a picture no row names (a crash
    // between storing and committing): the rebuild mends both.
    std::fs::remove_file(s3.object(&key)).unwrap();
    app.get(&path_of(&rendition), None)
        .await
        .assert_problem(404);
    let config = app.state.config.media.clone();
    let store = newsdesk::media::open_store(&config);
    let orphan =
        newsdesk::media::processing::process(&picture(ImageFormat::Gif, 40, 40), 1_000_000)
            .unwrap();
    let orphan_hash = "cd".repeat(32);
    assert!(store.put(&orphan_hash, orphan).await.unwrap());
    assert!(
        store
            .has(&orphan_hash, newsdesk::media::processing::Kind::Gif)
            .await
            .unwrap()
    );
    let mut both = s3.hashes("");
    both.sort();
    let mut expected = vec![hash.clone(), orphan_hash.clone()];
    expected.sort();
    assert_eq!(both, expected);

    let report = newsdesk::media::rebuild(&app.state.db, &config, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(report.checked, 1);
    assert_eq!(report.renditions_made, 1);
    assert_eq!(report.orphans_removed, 1);
    assert_eq!(s3.hashes(""), vec![hash.clone()]);
    app.get(&path_of(&rendition), None).await.assert_status(200);
    assert!(no_local_pictures(&app.media_dir));

    // Deleting the row takes its objects away.
    app.delete(&format!("/api/v1/media/{}", m["id"]), Some(&token))
        .await
        .assert_status(204);
    assert!(s3.hashes("").is_empty());
    app.get(&path_of(m["url"].as_str().unwrap()), None)
        .await
        .assert_problem(404);
});

#[test]
fn a_bad_store_stops_start_up_naming_the_variable() {
    let base = crate::helpers::base_vars("sqlite://unused.db");
    for (store, extra) in [
        ("ftp://bucket/x", None),
        ("s3://", None),
        ("s3://Upper_Case", None),
        ("s3://bucket/../up", None),
        ("s3://bucket/x", Some(("AWS_ALLOW_HTTP", "maybe"))),
    ] {
        let mut vars = base.clone();
        vars.insert("NEWSDESK_MEDIA_STORE".into(), store.into());
        if let Some((k, v)) = extra {
            vars.insert(k.into(), v.into());
        }
        match newsdesk::config::Config::from_map(&vars) {
            Err(e) => assert_eq!(e.var, "NEWSDESK_MEDIA_STORE", "{store}: {e}"),
            Ok(_) => panic!("{store} {extra:?} was accepted"),
        }
    }
    let mut vars = base;
    vars.insert(
        "NEWSDESK_MEDIA_STORE".into(),
        "s3://media-bucket/site/a".into(),
    );
    vars.insert("AWS_ACCESS_KEY_ID".into(), "key-id".into());
    vars.insert("AWS_SECRET_ACCESS_KEY".into(), "hidden-value".into());
    let config = newsdesk::config::Config::from_map(&vars).unwrap();
    let location = config.media.store.clone().unwrap();
    assert_eq!(location.bucket, "media-bucket");
    assert_eq!(location.prefix, "site/a");
    // Secrets never reach a log line through Debug.
    assert!(!format!("{config:?}").contains("hidden-value"));
}
