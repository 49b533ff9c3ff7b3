//! The media library: uploads of every accepted type, what is refused
//! (wrong bytes, truncated files, bombs, oversize files, wrong roles),
//! dedup, renditions and how they are served, articles that embed a
//! picture, the deletion rules, and a crash between writing the files and
//! committing the row.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{Res, TestApp};

/// A picture with some structure (so encoders have work to do).
fn picture(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x / 16 + y / 16) % 2 * 200) as u8,
        ])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// The path of an absolute URL (the tests talk to the app's own address).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/".into(), |i| rest[i..].to_string())
}

async fn upload(app: &TestApp, token: &str, bytes: &[u8], alt: &str) -> Res {
    app.multipart(
        "/api/v1/media",
        Some(token),
        &[("alt", alt)],
        &[("file", "picture.bin", "application/octet-stream", bytes)],
    )
    .await
}

/// Folders of stored pictures under the media dir.
fn stored_folders(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(&app.media_dir).unwrap().flatten() {
        let name = shard.file_name().to_string_lossy().to_string();
        if name.len() != 2 {
            continue;
        }
        for entry in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.push(entry.file_name().to_string_lossy().to_string());
        }
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A well-formed PNG whose header claims `w`×`h` pixels, with a few bytes
/// of image data: a decompression bomb unless refused before decoding.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // zlib: an empty stored block, as a header and checksum.
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

db_test!(every_accepted_type_uploads_with_renditions, |backend| {
    let app = TestApp::spawn(backend).await;
    let (author_id, token) = app.user(Role::Author).await;
    for (format, mime, ext) in [
        (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        (ImageFormat::Png, "image/png", "png"),
        (ImageFormat::WebP, "image/webp", "webp"),
        (ImageFormat::Gif, "image/gif", "gif"),
    ] {
        let bytes = picture(format, 700, 350);
        let res = upload(&app, &token, &bytes, "A test card").await;
        res.assert_status(201);
        let m = res.json();
        assert_eq!(
            res.header("location").unwrap(),
            format!("/api/v1/media/{}", m["id"])
        );
        assert_eq!(m["mime_type"], mime);
        assert_eq!(
            (m["width"].as_i64(), m["height"].as_i64()),
            (Some(700), Some(350))
        );
        assert_eq!(m["alt"], "A test card");
        assert_eq!(m["uploaded_by"]["id"], author_id);
        assert!(
            m["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/original.{ext}"))
        );
        assert!(m["url"].as_str().unwrap().starts_with("http://"));
        // 320 and 640 (not wider than 700), in the type and in WebP.
        let renditions = m["renditions"].as_array().unwrap();
        let widths: Vec<i64> = renditions
            .iter()
            .map(|r| r["width"].as_i64().unwrap())
            .collect();
        let expected: &[i64] = if ext == "webp" {
            &[320, 640]
        } else {
            &[320, 320, 640, 640]
        };
        assert_eq!(widths, expected, "{ext}");
        let srcset = m["srcset"].as_str().unwrap();
        assert!(srcset.contains(" 320w") && srcset.contains(" 640w") && srcset.ends_with(" 700w"));

        let original = app.get(&path_of(m["url"].as_str().unwrap()), None).await;
        original.assert_status(200);
        assert_eq!(original.header("content-type").as_deref(), Some(mime));
        assert_eq!(original.body.len() as i64, m["bytes"].as_i64().unwrap());
        for r in renditions {
            let file = app.get(&path_of(r["url"].as_str().unwrap()), None).await;
            file.assert_status(200);
            assert_eq!(
                file.header("content-type"),
                r["mime_type"].as_str().map(String::from)
            );
            let img = image::load_from_memory(&file.body).unwrap();
            assert_eq!(img.width() as i64, r["width"].as_i64().unwrap());
            assert_eq!(img.height() as i64, r["height"].as_i64().unwrap());
        }
    }
});

db_test!(the_type_comes_from_the_bytes_not_the_name, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let png = picture(ImageFormat::Png, 40, 30);
    let res = app
        .multipart(
            "/api/v1/media",
            Some(&token),
            &[("alt", "x")],
            &[("file", "holiday.jpg", "image/jpeg", &png)],
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["mime_type"], "image/png");
    assert!(
        res.json()["url"]
            .as_str()
            .unwrap()
            .ends_with("original.png")
    );
    // A small picture has no renditions: only the original.
    assert_eq!(res.json()["renditions"], json!([]));
});

db_test!(broken_and_foreign_files_are_refused, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let jpeg = picture(ImageFormat::Jpeg, 200, 100);
    let png = picture(ImageFormat::Png, 200, 100);
    let mut avif = vec![0, 0, 0, 0x1C];
    avif.extend_from_slice(b"ftypavif\0\0\0\0avifmif1miaf");
    for (name, bytes) in [
        ("truncated jpeg", jpeg[..jpeg.len() / 2].to_vec()),
        ("truncated png", png[..png.len() - 20].to_vec()),
        ("text", b"<?php echo 'hello'; ?>".repeat(20)),
        ("html", b"<html><script>alert(1)</script></html>".to_vec()),
        ("avif", avif),
    ] {
        let body = upload(&app, &token, &bytes, "x").await.assert_problem(422);
        assert_eq!(body["errors"][0]["field"], "file", "{name}");
    }
    let list = app.get("/api/v1/media", Some(&token)).await;
    assert_eq!(list.json()["meta"]["total"], 0);
    assert!(stored_folders(&app).is_empty());
});

db_test!(decompression_bombs_are_refused_before_decoding, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_MEDIA_MAX_PIXELS", "1000000")]).await;
    let (_, token) = app.user(Role::Author).await;
    for (w, h) in [(100_000, 100_000), (5_000, 5_000)] {
        let body = upload(&app, &token, &png_claiming(w, h), "bomb")
            .await
            .assert_problem(422);
        assert_eq!(body["errors"][0]["field"], "file");
    }
    // Within the limit, the same kind of file is merely truncated data.
    upload(&app, &token, &picture(ImageFormat::Png, 1000, 1000), "ok")
        .await
        .assert_status(201);
});

db_test!(an_oversize_file_is_a_413, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_MEDIA_MAX_BYTES", "4096")]).await;
    let (_, token) = app.user(Role::Author).await;
    let big = picture(ImageFormat::Png, 300, 300);
    assert!(big.len() > 4096);
    upload(&app, &token, &big, "big").await.assert_problem(413);
    assert!(stored_folders(&app).is_empty());
    let small = picture(ImageFormat::Jpeg, 16, 16);
    assert!(small.len() <= 4096);
    upload(&app, &token, &small, "small")
        .await
        .assert_status(201);
});

db_test!(uploads_need_an_author_and_a_proper_form, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, reader) = app.user(Role::Reader).await;
    let (_, author) = app.user(Role::Author).await;
    let bytes = picture(ImageFormat::Png, 20, 20);
    upload(&app, &reader, &bytes, "x").await.assert_problem(403);
    app.multipart(
        "/api/v1/media",
        None,
        &[],
        &[("file", "a.png", "image/png", &bytes)],
    )
    .await
    .assert_problem(401);
    app.post("/api/v1/media", Some(&author), &json!({"alt": "x"}))
        .await
        .assert_problem(415);
    let body = app
        .multipart("/api/v1/media", Some(&author), &[("alt", "no file")], &[])
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "file");
    let body = app
        .multipart(
            "/api/v1/media",
            Some(&author),
            &[("colour", "red")],
            &[("file", "a.png", "image/png", &bytes)],
        )
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "colour");
    let body = app
        .multipart(
            "/api/v1/media",
            Some(&author),
            &[("focal_x", "1.5"), ("focal_y", "0.5")],
            &[("file", "a.png", "image/png", &bytes)],
        )
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "focal_x");
    app.raw(
        "POST",
        "/api/v1/media",
        Some(&author),
        "multipart/form-data; boundary=zzz",
        b"this is not multipart at all".to_vec(),
    )
    .await
    .assert_problem(400);
    assert!(stored_folders(&app).is_empty());
    // A focal point and the other fields are stored and returned.
    let res = app
        .multipart(
            "/api/v1/media",
            Some(&author),
            &[
                ("alt", "Harbour"),
                ("caption", "The harbour at dawn"),
                ("credit", "Photo: Lena Fischer"),
                ("focal_x", "0.25"),
                ("focal_y", "0.75"),
            ],
            &[("file", "a.png", "image/png", &bytes)],
        )
        .await;
    res.assert_status(201);
    let m = res.json();
    assert_eq!(m["focal"], json!({"x": 0.25, "y": 0.75}));
    assert_eq!(m["caption"], "The harbour at dawn");
    assert_eq!(m["credit"], "Photo: Lena Fischer");
    // One coordinate alone: the other is the middle.
    let res = app
        .multipart(
            "/api/v1/media",
            Some(&author),
            &[("focal_x", "0.2")],
            &[("file", "a.png", "image/png", &bytes)],
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["focal"], json!({"x": 0.2, "y": 0.5}));
});

db_test!(alt_text_is_required_when_the_site_says_so, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_MEDIA_REQUIRE_ALT", "true")]).await;
    let (_, token) = app.user(Role::Author).await;
    let bytes = picture(ImageFormat::Png, 20, 20);
    let body = upload(&app, &token, &bytes, "  ").await.assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "alt");
    let id = upload(&app, &token, &bytes, "A red square").await.json()["id"].clone();
    let body = app
        .patch(
            &format!("/api/v1/media/{id}"),
            Some(&token),
            &json!({"alt": ""}),
        )
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "alt");
    // Without the setting, no alt text is fine.
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let res = app
        .multipart(
            "/api/v1/media",
            Some(&token),
            &[],
            &[("file", "a.png", "image/png", &bytes)],
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["alt"], "");
});

db_test!(the_same_bytes_are_stored_once, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, a) = app.user(Role::Author).await;
    let (_, b) = app.user(Role::Author).await;
    let bytes = picture(ImageFormat::Jpeg, 800, 400);
    let first = upload(&app, &a, &bytes, "first").await;
    first.assert_status(201);
    let second = upload(&app, &b, &bytes, "second").await;
    second.assert_status(201);
    let (first, second) = (first.json(), second.json());
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["url"], second["url"]);
    assert_eq!(first["renditions"], second["renditions"]);
    assert_eq!(second["alt"], "second");
    assert_eq!(stored_folders(&app).len(), 1);
    // The files stay while one row names them.
    let url = path_of(first["url"].as_str().unwrap());
    app.delete(&format!("/api/v1/media/{}", first["id"]), Some(&a))
        .await
        .assert_status(204);
    app.get(&url, None).await.assert_status(200);
    app.delete(&format!("/api/v1/media/{}", second["id"]), Some(&b))
        .await
        .assert_status(204);
    app.get(&url, None).await.assert_problem(404);
    assert!(stored_folders(&app).is_empty());
});

db_test!(files_are_served_immutable_with_ranges_and_head, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let m = upload(&app, &token, &picture(ImageFormat::Jpeg, 1100, 600), "x")
        .await
        .json();
    let webp = m["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["width"] == 1024 && r["mime_type"] == "image/webp")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = path_of(&webp);
    let res = app.get(&path, None).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.header("content-type").as_deref(), Some("image/webp"));
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let etag = res.header("etag").unwrap();
    assert!(etag.starts_with('"'));
    let full = res.body.clone();

    let res = app
        .request("GET", &path, None, None, &[("If-None-Match", &etag)])
        .await;
    res.assert_status(304);
    let res = app
        .request("GET", &path, None, None, &[("Range", "bytes=10-19")])
        .await;
    res.assert_status(206);
    assert_eq!(res.body, full[10..20]);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 10-19/{}", full.len()))
    );
    let res = app
        .request("GET", &path, None, None, &[("Range", "bytes=99999999-")])
        .await;
    assert_eq!(res.status, 416);
    let res = app.request("HEAD", &path, None, None, &[]).await;
    res.assert_status(200);
    assert!(res.body.is_empty());
    assert_eq!(res.header("content-length"), Some(full.len().to_string()));

    // Only made files exist: no other width, nothing wider than the original.
    let hash_dir = path.rsplit_once('/').unwrap().0.to_string();
    for name in [
        "2400.jpg",
        "500.jpg",
        "1600.webp",
        "original.png",
        "..%2Foriginal.jpg",
    ] {
        app.get(&format!("{hash_dir}/{name}"), None)
            .await
            .assert_problem(404);
    }
    app.get("/media/files/not-a-hash/original.jpg", None)
        .await
        .assert_problem(404);
});

db_test!(exif_and_gps_are_not_served, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let jpeg = picture(ImageFormat::Jpeg, 64, 64);
    let payload = b"Exif\0\0MM\0*GPSLatitude 52.5200 N secret-location";
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&[0xFF, 0xE1]);
    with_exif.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    with_exif.extend_from_slice(payload);
    with_exif.extend_from_slice(&jpeg[2..]);
    let m = upload(&app, &token, &with_exif, "x").await.json();
    let served = app.get(&path_of(m["url"].as_str().unwrap()), None).await;
    served.assert_status(200);
    assert!(!served.body.windows(15).any(|w| w == b"secret-location"));
    assert!(image::load_from_memory(&served.body).is_ok());
});

db_test!(the_library_lists_and_edits_by_role, |backend| {
    let app = TestApp::spawn(backend).await;
    let (a_id, a) = app.user(Role::Author).await;
    let (_, b) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let (_, reader) = app.user(Role::Reader).await;
    let one = upload(
        &app,
        &a,
        &picture(ImageFormat::Png, 30, 30),
        "Harbour at dawn",
    )
    .await
    .json();
    upload(&app, &b, &picture(ImageFormat::Png, 31, 30), "A cat")
        .await
        .assert_status(201);

    let list = app.get("/api/v1/media", Some(&b)).await;
    list.assert_status(200);
    assert_eq!(list.header("x-total-count").as_deref(), Some("2"));
    assert_eq!(list.json()["data"][0]["alt"], "A cat", "newest first");
    let found = app.get("/api/v1/media?q=HARBOUR", Some(&b)).await.json();
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(found["data"][0]["id"], one["id"]);
    let mine = app
        .get(&format!("/api/v1/media?uploaded_by={a_id}"), Some(&a))
        .await
        .json();
    assert_eq!(mine["meta"]["total"], 1);
    let page = app.get("/api/v1/media?per_page=1", Some(&a)).await.json();
    let next = page["meta"]["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(&format!("/api/v1/media?per_page=1&after={next}"), Some(&a))
        .await
        .json();
    assert_eq!(rest["data"][0]["id"], one["id"]);
    app.get("/api/v1/media?sort=alt", Some(&a))
        .await
        .assert_problem(400);
    app.get("/api/v1/media?colour=red", Some(&a))
        .await
        .assert_problem(400);
    app.get("/api/v1/media", Some(&reader))
        .await
        .assert_problem(403);
    app.get("/api/v1/media", None).await.assert_problem(401);

    let path = format!("/api/v1/media/{}", one["id"]);
    app.get(&path, Some(&b)).await.assert_status(200);
    app.get(&path, Some(&reader)).await.assert_problem(403);
    app.get("/api/v1/media/999999", Some(&a))
        .await
        .assert_problem(404);
    app.patch(&path, Some(&b), &json!({"alt": "mine now"}))
        .await
        .assert_problem(403);
    let res = app
        .patch(
            &path,
            Some(&a),
            &json!({"caption": "Dawn", "focal": {"x": 0.1, "y": 0.9}}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["caption"], "Dawn");
    assert_eq!(res.json()["alt"], "Harbour at dawn");
    assert_eq!(res.json()["focal"], json!({"x": 0.1, "y": 0.9}));
    let body = app
        .patch(&path, Some(&editor), &json!({"focal": {"x": 2, "y": 0}}))
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "focal.x");
    app.patch(&path, Some(&editor), &json!({"url": "x"}))
        .await
        .assert_problem(422);
    let res = app
        .patch(
            &path,
            Some(&editor),
            &json!({"caption": null, "focal": null}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["caption"], Value::Null);
    assert_eq!(res.json()["focal"], Value::Null);
    app.delete(&path, Some(&b)).await.assert_problem(403);
});

db_test!(articles_embed_a_library_picture, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let m = upload(
        &app,
        &token,
        &picture(ImageFormat::Jpeg, 700, 400),
        "Harbour",
    )
    .await
    .json();
    let res = app
        .post(
            "/api/v1/articles",
            Some(&token),
            &json!({"title": "Harbour news", "body": "Text", "status": "published",
                    "feature_image_id": m["id"]}),
        )
        .await;
    res.assert_status(201);
    let article = res.json();
    assert_eq!(article["feature_image_id"], m["id"]);
    assert_eq!(article["feature_image"], m["url"]);
    assert_eq!(article["feature_image_media"]["srcset"], m["srcset"]);
    assert_eq!(article["feature_image_media"]["alt"], "Harbour");
    let id = article["id"].as_i64().unwrap();

    let public = app
        .get(&format!("/api/v1/articles/{id}"), None)
        .await
        .json();
    assert_eq!(public["feature_image_media"]["id"], m["id"]);
    let list = app.get("/api/v1/articles", None).await.json();
    assert_eq!(list["data"][0]["feature_image"], m["url"]);
    assert_eq!(list["data"][0]["feature_image_media"]["id"], m["id"]);

    // An unknown picture, or a URL and a picture at once, is refused.
    let body = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            Some(&token),
            &json!({"feature_image_id": 999999}),
        )
        .await
        .assert_problem(422);
    assert_eq!(body["errors"][0]["field"], "feature_image_id");
    app.post(
        "/api/v1/articles",
        Some(&token),
        &json!({"title": "Both", "body": "x", "feature_image": "https://cdn.example.com/a.jpg",
                "feature_image_id": m["id"]}),
    )
    .await
    .assert_problem(422);

    // An external URL replaces the library picture.
    let res = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            Some(&token),
            &json!({"feature_image": "https://cdn.example.com/a.jpg"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["feature_image"], "https://cdn.example.com/a.jpg");
    assert_eq!(res.json()["feature_image_id"], Value::Null);
    assert_eq!(res.json()["feature_image_media"], Value::Null);
    // And back.
    let res = app
        .patch(
            &format!("/api/v1/articles/{id}"),
            Some(&token),
            &json!({"feature_image_id": m["id"]}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["feature_image"], m["url"]);
});

db_test!(a_picture_in_use_is_deleted_only_by_force, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, author) = app.user(Role::Author).await;
    let (_, editor) = app.user(Role::Editor).await;
    let m = upload(&app, &author, &picture(ImageFormat::Png, 64, 64), "x")
        .await
        .json();
    let article = app
        .post(
            "/api/v1/articles",
            Some(&author),
            &json!({"title": "Uses it", "body": "x", "feature_image_id": m["id"]}),
        )
        .await
        .json();
    let path = format!("/api/v1/media/{}", m["id"]);
    let body = app.delete(&path, Some(&author)).await.assert_problem(409);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("{} (uses-it)", article["id"])),
        "{detail}"
    );
    app.delete(&format!("{path}?force=true"), Some(&author))
        .await
        .assert_problem(403);
    app.delete(&format!("{path}?force=maybe"), Some(&editor))
        .await
        .assert_problem(400);
    app.get(&path, Some(&author)).await.assert_status(200);
    app.delete(&format!("{path}?force=true"), Some(&editor))
        .await
        .assert_status(204);
    app.get(&path, Some(&author)).await.assert_problem(404);
    app.get(&path_of(m["url"].as_str().unwrap()), None)
        .await
        .assert_problem(404);
    let after = app
        .get(
            &format!("/api/v1/articles/{}", article["id"]),
            Some(&author),
        )
        .await
        .json();
    assert_eq!(after["feature_image_id"], Value::Null);
    assert_eq!(after["feature_image"], Value::Null);

    // The event log has the upload and the deletion, with what to purge.
    let events = app
        .get("/api/v1/events?limit=1000", Some(&editor))
        .await
        .json();
    let media_events: Vec<&Value> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("media."))
        .collect();
    assert_eq!(media_events.len(), 2, "{media_events:?}");
    assert_eq!(media_events[0]["type"], "media.created");
    assert_eq!(media_events[0]["data"]["id"], m["id"]);
    assert_eq!(media_events[0]["data"]["url"], m["url"]);
    assert_eq!(media_events[1]["type"], "media.deleted");
    assert_eq!(media_events[1]["data"], json!({"id": m["id"]}));
    assert_eq!(
        media_events[1]["purge_keys"],
        json!([format!("article-{}", article["id"]), "list-articles"])
    );
});

db_test!(
    a_crash_between_files_and_row_leaves_nothing_behind,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.user(Role::Author).await;
        let kept = upload(&app, &token, &picture(ImageFormat::Png, 400, 200), "kept")
            .await
            .json();

        // The row cannot be committed: the files this upload put in place go.
        let fail = match backend {
            newsdesk::db::Backend::Sqlite => "CREATE TRIGGER media_fail BEFORE INSERT ON media \
             BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;"
                .to_string(),
            newsdesk::db::Backend::Postgres => {
                "CREATE FUNCTION media_fail() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'simulated crash'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER media_fail BEFORE INSERT ON media \
             FOR EACH ROW EXECUTE FUNCTION media_fail();"
                    .to_string()
            }
        };
        {
            use diesel::connection::SimpleConnection;
            app.conn().batch_execute(&fail).unwrap();
        }
        let res = upload(&app, &token, &picture(ImageFormat::Jpeg, 500, 300), "lost").await;
        res.assert_problem(500);
        assert_eq!(stored_folders(&app).len(), 1, "only the committed picture");
        // The same bytes as a stored picture: its files stay.
        upload(&app, &token, &picture(ImageFormat::Png, 400, 200), "again")
            .await
            .assert_problem(500);
        app.get(&path_of(kept["url"].as_str().unwrap()), None)
            .await
            .assert_status(200);
        let list = app.get("/api/v1/media", Some(&token)).await.json();
        assert_eq!(list["meta"]["total"], 1);

        // A hard crash after the rename: files no row names, which the rebuild
        // removes (and it re-makes a rendition gone missing).
        let store = newsdesk::media::storage::LocalStore::new(&app.media_dir);
        let orphan =
            newsdesk::media::processing::process(&picture(ImageFormat::Gif, 50, 50), 1_000_000)
                .unwrap();
        let orphan_hash = "ab".repeat(32);
        assert!(store.put(&orphan_hash, &orphan).unwrap());
        assert_eq!(stored_folders(&app).len(), 2);
        let rendition = kept["renditions"][0]["url"].as_str().unwrap().to_string();
        let hash = kept["url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .nth(1)
            .unwrap()
            .to_string();
        std::fs::remove_file(store.path_of(&hash, rendition.rsplit('/').next().unwrap())).unwrap();
        app.get(&path_of(&rendition), None)
            .await
            .assert_problem(404);

        let db = app.state.db.clone();
        let config = app.state.config.media.clone();
        let report = newsdesk::media::rebuild(&db, &config, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(report.orphans_removed, 1);
        assert_eq!(report.renditions_made, 1);
        assert_eq!(stored_folders(&app), vec![hash]);
        app.get(&path_of(&rendition), None).await.assert_status(200);
    }
);

db_test!(demo_articles_get_drawn_pictures, |backend| {
    let app = TestApp::spawn(backend).await;
    let config = app.state.config.media.clone();
    let given = {
        let mut conn = app.conn();
        newsdesk::seed::seed_demo(&mut conn).unwrap();
        newsdesk::media::demo::seed_pictures(&mut conn, &config).unwrap()
    };
    assert!(given >= 10, "{given}");
    let list = app.get("/api/v1/articles?per_page=100", None).await.json();
    for a in list["data"].as_array().unwrap() {
        let m = &a["feature_image_media"];
        assert_eq!(a["feature_image"], m["url"]);
        assert_eq!(m["width"], 1200);
        assert_eq!(m["renditions"].as_array().unwrap().len(), 6);
        app.get(&path_of(m["renditions"][0]["url"].as_str().unwrap()), None)
            .await
            .assert_status(200);
    }
    // A second run finds nothing left to illustrate.
    assert_eq!(
        newsdesk::media::demo::seed_pictures(&mut app.conn(), &config).unwrap(),
        0
    );
});

db_test!(library_pictures_in_bodies_get_sizes_and_srcset, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let m = upload(
        &app,
        &token,
        &picture(ImageFormat::Jpeg, 700, 400),
        "Harbour",
    )
    .await
    .json();
    let url = m["url"].as_str().unwrap();
    let body = format!(
        "Before.\n\n![Harbour]({url})\n\n![Elsewhere](https://example.com/x.jpg)\n\n<img src=\"{url}\" onerror=\"alert(1)\">"
    );
    let res = app
        .post(
            "/api/v1/articles",
            Some(&token),
            &json!({"title": "Inline", "body": body}),
        )
        .await;
    res.assert_status(201);
    let html = res.json()["body_html"].as_str().unwrap().to_string();
    let prefix = url.trim_end_matches("original.jpg");
    let expected = format!(
        "width=\"700\" height=\"400\" srcset=\"{prefix}320.jpg 320w, {prefix}640.jpg 640w, {url} 700w\""
    );
    assert_eq!(html.matches(&expected).count(), 2, "{html}");
    assert!(
        html.contains(r#"<img src="https://example.com/x.jpg" alt="Elsewhere">"#),
        "{html}"
    );
    assert!(!html.contains("onerror"), "{html}");
});

/// A grey picture with a red square centred at (`cx`, `cy`).
fn marked(w: u32, h: u32, cx: u32, cy: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        if x.abs_diff(cx) <= 20 && y.abs_diff(cy) <= 20 {
            Rgb([230, 10, 10])
        } else {
            Rgb([120, 120, 120])
        }
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn is_red(p: &image::Rgba<u8>) -> bool {
    p[0] > 180 && p[1] < 70 && p[2] < 70
}

/// The crops of one ratio in a media object.
fn crops_of(m: &Value, ratio: &str) -> Vec<Value> {
    m["crops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ratio"] == ratio)
        .cloned()
        .collect()
}

db_test!(crops_keep_the_focal_point_in_frame, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    // The subject at (90 %, 20 %) of a 1200×600 picture.
    let bytes = marked(1200, 600, 1080, 120);
    let res = app
        .multipart(
            "/api/v1/media",
            Some(&token),
            &[("alt", "red"), ("focal_x", "0.9"), ("focal_y", "0.2")],
            &[("file", "p.png", "image/png", &bytes)],
        )
        .await;
    res.assert_status(201);
    let m = res.json();

    // The allow-list: three ratios, the allowed widths that fit (up to 1600).
    let widths = |ratio: &str| -> Vec<u64> {
        crops_of(&m, ratio)
            .iter()
            .map(|c| c["width"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(widths("16x9"), vec![320, 640, 1024]);
    assert_eq!(widths("1x1"), vec![320]);
    assert_eq!(widths("4x3"), vec![320, 640]);
    assert_eq!(m["crops"].as_array().unwrap().len(), 6);

    // Every crop is served, at its size, with the subject where the box
    // around the focal point puts it.
    for c in m["crops"].as_array().unwrap() {
        assert_eq!(c["mime_type"], "image/png");
        let url = c["url"].as_str().unwrap();
        assert!(url.ends_with("-90-20.png"), "{url}");
        let res = app.get(&path_of(url), None).await;
        res.assert_status(200);
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        let img = image::load_from_memory(&res.body).unwrap().to_rgba8();
        let (w, h) = (
            c["width"].as_u64().unwrap() as u32,
            c["height"].as_u64().unwrap() as u32,
        );
        assert_eq!((img.width(), img.height()), (w, h));
        let ratio = c["ratio"].as_str().unwrap();
        let (a, b): (u32, u32) = {
            let (a, b) = ratio.split_once('x').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        };
        assert!((w * b).abs_diff(h * a) <= a.max(b), "{ratio}: {w}x{h}");
        let (left, top, cw, ch) =
            newsdesk::media::processing::crop_box(1200, 600, (a, b), (90, 20));
        let fx = (1080 - left) * w / cw;
        let fy = (120 - top) * h / ch;
        assert!(
            is_red(img.get_pixel(fx.min(w - 1), fy.min(h - 1))),
            "{ratio} {w}: the subject is not at ({fx}, {fy})"
        );
    }

    // The square crop without a focal point would be the centre, which
    // misses the subject; with it, the subject is in frame.
    let square = &crops_of(&m, "1x1")[0];
    let img = image::load_from_memory(
        &app.get(&path_of(square["url"].as_str().unwrap()), None)
            .await
            .body,
    )
    .unwrap()
    .to_rgba8();
    assert!(img.pixels().any(is_red));

    // A new focal point: new crop URLs, made before the answer, and the
    // subject out of the square crop now.
    let path = format!("/api/v1/media/{}", m["id"]);
    let res = app
        .patch(&path, Some(&token), &json!({"focal": {"x": 0.1, "y": 0.5}}))
        .await;
    res.assert_status(200);
    let moved = res.json();
    let square = &crops_of(&moved, "1x1")[0];
    let url = square["url"].as_str().unwrap();
    assert!(url.ends_with("320-1x1-10-50.png"), "{url}");
    let res = app.get(&path_of(url), None).await;
    res.assert_status(200);
    let img = image::load_from_memory(&res.body).unwrap().to_rgba8();
    assert!(!img.pixels().any(is_red));
    // Without a focal point: the centre.
    let res = app
        .patch(&path, Some(&token), &json!({"focal": null}))
        .await;
    res.assert_status(200);
    let centred = res.json();
    let url = crops_of(&centred, "16x9")[2]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.ends_with("1024-16x9-50-50.png"), "{url}");
    app.get(&path_of(&url), None).await.assert_status(200);

    // The same bytes with another focal point: that row's crops exist too.
    let again = app
        .multipart(
            "/api/v1/media",
            Some(&token),
            &[("alt", "again"), ("focal_x", "0.33"), ("focal_y", "0.67")],
            &[("file", "p.png", "image/png", &bytes)],
        )
        .await
        .json();
    assert_eq!(again["url"], m["url"]);
    for c in again["crops"].as_array().unwrap() {
        let url = c["url"].as_str().unwrap();
        assert!(url.ends_with("-33-67.png"), "{url}");
        app.get(&path_of(url), None).await.assert_status(200);
    }

    // Bad input: a focal point out of range makes nothing and is a 422;
    // crops that were never made, other ratios and wider crops are 404s.
    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"focal": {"x": 0.5, "y": -0.1}}),
        )
        .await;
    assert_eq!(res.assert_problem(422)["errors"][0]["field"], "focal.y");
    let dir = path_of(m["url"].as_str().unwrap())
        .rsplit_once('/')
        .unwrap()
        .0
        .to_string();
    for name in [
        "640-16x9-70-70.png",
        "640-3x2-90-20.png",
        "2400-16x9-90-20.png",
        "1600-16x9-90-20.png",
        "640-16x9-090-20.png",
        "640-16x9-90-20.jpg",
    ] {
        app.get(&format!("{dir}/{name}"), None)
            .await
            .assert_problem(404);
    }
});
