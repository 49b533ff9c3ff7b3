//! `/feeds/...`: RSS, Atom and JSON Feed for the site, a tag and an author,
//! each read back with a real parser (the `rss` and `atom_syndication`
//! crates, serde for JSON Feed).

use newsdesk::auth::Role;
use serde_json::{Value, json};

use crate::content::{create, id};
use crate::db_test;
use crate::helpers::{Res, TestApp};

fn rss(res: &Res) -> rss::Channel {
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    rss::Channel::read_from(&res.body[..]).expect("valid RSS")
}

fn atom(res: &Res) -> atom_syndication::Feed {
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/atom+xml; charset=utf-8")
    );
    atom_syndication::Feed::read_from(&res.body[..]).expect("valid Atom")
}

fn json_feed(res: &Res) -> Value {
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/feed+json")
    );
    let feed = res.json();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    for item in feed["items"].as_array().expect("items") {
        assert!(item["id"].is_string());
        assert!(item["content_html"].is_string() || item["content_text"].is_string());
    }
    feed
}

fn ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Three published stories (oldest first), a draft and a scheduled one.
async fn newsroom(app: &TestApp, token: &str) -> Vec<Value> {
    let mut made = Vec::new();
    for (i, title) in ["First story", "Second story", "Third story"]
        .iter()
        .enumerate()
    {
        made.push(
            create(
                app,
                token,
                json!({
                    "title": title,
                    "body": format!("**Bold** text of {title}. <script>alert(1)</script>"),
                    "status": "published",
                    "published_at": ago(10 - i as i64),
                    "tags": ["economy"],
                    "feature_image": if i == 2 { json!("https://img.example/third.png") } else { Value::Null },
                }),
            )
            .await,
        );
    }
    create(
        app,
        token,
        json!({"title": "Secret draft", "body": "Not yet.", "tags": ["economy"]}),
    )
    .await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(45))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    create(
        app,
        token,
        json!({"title": "Embargoed story", "body": "Later.", "status": "published",
               "published_at": soon, "tags": ["economy"]}),
    )
    .await;
    made
}

db_test!(
    site_feeds_list_the_newest_published_stories_in_order,
    |backend| {
        let app = TestApp::spawn_with(
            backend,
            &[
                ("NEWSDESK_CACHE_MAX_AGE", "600"),
                ("NEWSDESK_SITE_NAME", "The Daily Test"),
                (
                    "NEWSDESK_PUBLIC_URL_TEMPLATE",
                    "https://news.example/{yyyy}/{mm}/{dd}/{slug}-{id}",
                ),
            ],
        )
        .await;
        let (_, token) = app.user(Role::Editor).await;
        let made = newsroom(&app, &token).await;
        let url_of = |a: &Value| {
            let t =
                chrono::DateTime::parse_from_rfc3339(a["published_at"].as_str().unwrap()).unwrap();
            format!(
                "https://news.example/{}/{}-{}",
                t.format("%Y/%m/%d"),
                a["slug"].as_str().unwrap(),
                id(a)
            )
        };
        let newest_first: Vec<&Value> = made.iter().rev().collect();

        // RSS 2.0
        let res = app.get("/feeds/rss.xml", None).await;
        let channel = rss(&res);
        assert_eq!(channel.title(), "The Daily Test");
        assert_eq!(channel.link(), "https://news.example/");
        let titles: Vec<&str> = channel.items().iter().filter_map(|i| i.title()).collect();
        assert_eq!(titles, ["Third story", "Second story", "First story"]);
        for (item, article) in channel.items().iter().zip(&newest_first) {
            assert_eq!(item.link(), Some(url_of(article).as_str()));
            let date = chrono::DateTime::parse_from_rfc2822(item.pub_date().unwrap()).unwrap();
            assert_eq!(
                date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    .replace("+00:00", "Z"),
                article["published_at"].as_str().unwrap()
            );
            let content = item.content().expect("content:encoded");
            assert!(content.contains("<strong>Bold</strong>"), "{content}");
            assert!(!content.contains("<script"), "{content}");
            assert_eq!(item.categories()[0].name(), "Economy");
            assert_eq!(
                item.dublin_core_ext().unwrap().creators(),
                [article["author"]["name"].as_str().unwrap().to_string()]
            );
        }
        let enclosure = channel.items()[0]
            .enclosure()
            .expect("feature image enclosure");
        assert_eq!(enclosure.url(), "https://img.example/third.png");
        assert_eq!(enclosure.mime_type(), "image/png");
        assert!(channel.items()[1].enclosure().is_none());
        assert!(channel.items()[0].extensions().contains_key("media"));
        // Not cached past the moment the scheduled story goes live.
        let cc = res.header("cache-control").unwrap();
        let max_age: u32 = cc
            .strip_prefix("public, max-age=")
            .unwrap()
            .parse()
            .unwrap();
        assert!(max_age <= 45, "{cc}");
        // ETag and 304.
        let etag = res.header("etag").expect("etag");
        let again = app
            .request(
                "GET",
                "/feeds/rss.xml",
                None,
                None,
                &[("If-None-Match", &etag)],
            )
            .await;
        again.assert_status(304);

        // Atom
        let feed = atom(&app.get("/feeds/atom.xml", None).await);
        let titles: Vec<&str> = feed.entries().iter().map(|e| e.title().as_str()).collect();
        assert_eq!(titles, ["Third story", "Second story", "First story"]);
        for (entry, article) in feed.entries().iter().zip(&newest_first) {
            assert_eq!(entry.links()[0].href(), url_of(article));
            assert_eq!(
                entry
                    .published()
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    .replace("+00:00", "Z"),
                article["published_at"].as_str().unwrap()
            );
            assert!(
                entry
                    .content()
                    .unwrap()
                    .value()
                    .unwrap()
                    .contains("<strong>Bold</strong>")
            );
            assert_eq!(
                entry.authors()[0].name(),
                article["author"]["name"].as_str().unwrap()
            );
        }
        assert!(
            feed.links()
                .iter()
                .any(|l| l.rel() == "self" && l.href().ends_with("/feeds/atom.xml"))
        );
        assert!(
            feed.entries()[0]
                .links()
                .iter()
                .any(|l| l.rel() == "enclosure")
        );

        // JSON Feed
        let feed = json_feed(&app.get("/feeds/feed.json", None).await);
        let items = feed["items"].as_array().unwrap();
        let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Third story", "Second story", "First story"]);
        assert_eq!(items[0]["url"], url_of(newest_first[0]));
        assert_eq!(items[0]["image"], "https://img.example/third.png");
        assert_eq!(items[0]["date_published"], newest_first[0]["published_at"]);
        assert_eq!(items[0]["tags"], json!(["Economy"]));
    }
);

db_test!(feeds_hold_at_most_fifty_stories, |backend| {
    let app = TestApp::spawn(backend).await;
    {
        let mut conn = app.conn();
        newsdesk::seed::seed_articles(&mut conn, 60, |_| {}).unwrap();
    }
    let channel = rss(&app.get("/feeds/rss.xml", None).await);
    assert_eq!(channel.items().len(), 50);
    let dates: Vec<_> = channel
        .items()
        .iter()
        .map(|i| chrono::DateTime::parse_from_rfc2822(i.pub_date().unwrap()).unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let feed = json_feed(&app.get("/feeds/feed.json", None).await);
    assert_eq!(feed["items"].as_array().unwrap().len(), 50);
});

db_test!(tag_and_author_feeds_hold_only_their_stories, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_FEED_CONTENT", "excerpt")]).await;
    let (_, kim) = app.user_named(Role::Author, "Daniel Kim").await;
    let (_, lee) = app.user_named(Role::Author, "Mina Lee").await;
    for (token, title, tag, hours) in [
        (&kim, "Kim on trade", "trade", 5),
        (&lee, "Lee on trade", "trade", 4),
        (&kim, "Kim on sport", "sport", 3),
    ] {
        create(
            &app,
            token,
            json!({"title": title, "body": "Words.", "status": "published",
                   "published_at": ago(hours), "tags": [tag]}),
        )
        .await;
    }
    create(
        &app,
        &kim,
        json!({"title": "Kim draft", "body": "x", "tags": ["trade"]}),
    )
    .await;

    let channel = rss(&app.get("/feeds/tags/trade/rss.xml", None).await);
    let titles: Vec<&str> = channel.items().iter().filter_map(|i| i.title()).collect();
    assert_eq!(titles, ["Lee on trade", "Kim on trade"]);
    assert_eq!(channel.link(), "http://127.0.0.1:8080/tags/trade");
    // Excerpts only: no content:encoded, the excerpt as description.
    assert!(channel.items().iter().all(|i| i.content().is_none()));
    assert_eq!(channel.items()[0].description(), Some("Words."));

    let feed = atom(&app.get("/feeds/authors/daniel-kim/atom.xml", None).await);
    let titles: Vec<&str> = feed.entries().iter().map(|e| e.title().as_str()).collect();
    assert_eq!(titles, ["Kim on sport", "Kim on trade"]);
    assert!(feed.entries().iter().all(|e| e.content().is_none()));

    let feed = json_feed(&app.get("/feeds/authors/mina-lee/feed.json", None).await);
    assert_eq!(feed["items"].as_array().unwrap().len(), 1);
    assert_eq!(feed["items"][0]["content_text"], "Words.");
    let feed = json_feed(&app.get("/feeds/tags/sport/feed.json", None).await);
    assert_eq!(feed["items"][0]["title"], "Kim on sport");
    atom(&app.get("/feeds/tags/sport/atom.xml", None).await);
    rss(&app.get("/feeds/authors/mina-lee/rss.xml", None).await);

    // Unknown tags and authors, invalid slugs, non-authors: 404 problems.
    let (_, _) = app.user_named(Role::Reader, "Just Reader").await;
    for path in [
        "/feeds/tags/nope/rss.xml",
        "/feeds/tags/Not%20A%20Slug/atom.xml",
        "/feeds/authors/nobody/feed.json",
        "/feeds/authors/just-reader/rss.xml",
        "/feeds/rss",
        "/feeds/tags/trade/other.xml",
    ] {
        app.get(path, None).await.assert_problem(404);
    }
    // POST is not allowed on a feed.
    let res = app.post("/feeds/rss.xml", None, &json!({})).await;
    res.assert_problem(405);
});

db_test!(an_empty_site_has_valid_empty_feeds, |backend| {
    let app = TestApp::spawn(backend).await;
    assert!(
        rss(&app.get("/feeds/rss.xml", None).await)
            .items()
            .is_empty()
    );
    assert!(
        atom(&app.get("/feeds/atom.xml", None).await)
            .entries()
            .is_empty()
    );
    assert!(
        json_feed(&app.get("/feeds/feed.json", None).await)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A signed-in reader gets the same feed, privately cached.
    let (_, token) = app.user(Role::Reader).await;
    let res = app.get("/feeds/rss.xml", Some(&token)).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
});

db_test!(
    a_library_feature_image_is_enclosed_with_its_real_type_and_length,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (_, editor) = app.user(Role::Editor).await;
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
        }));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let png = png.into_inner();
        let media = app
            .multipart(
                "/api/v1/media",
                Some(&editor),
                &[("alt", "The harbour at dawn")],
                &[("file", "harbour.jpg", "image/jpeg", &png[..])],
            )
            .await;
        media.assert_status(201);
        let media = media.json();
        create(
            &app,
            &editor,
            json!({"title": "With a library picture", "body": "Text.", "status": "published",
                   "feature_image_id": media["id"]}),
        )
        .await;
        create(
            &app,
            &editor,
            json!({"title": "With an external picture", "body": "Text.", "status": "published",
                   "feature_image": "https://img.example/ext.webp?w=800"}),
        )
        .await;
        let url = media["url"].as_str().unwrap();
        let bytes = media["bytes"].as_i64().unwrap();
        assert!(bytes > 0);

        let channel = rss(&app.get("/feeds/rss.xml", None).await);
        let items = channel.items();
        let external = items[0].enclosure().expect("external enclosure");
        assert_eq!(external.url(), "https://img.example/ext.webp?w=800");
        assert_eq!(external.mime_type(), "image/webp");
        assert_eq!(external.length(), "0");
        let enclosure = items[1].enclosure().expect("library enclosure");
        assert_eq!(enclosure.url(), url);
        // The type from the bytes, not the upload's name.
        assert_eq!(enclosure.mime_type(), "image/png");
        assert_eq!(enclosure.length(), bytes.to_string());
        let content = &items[1].extensions()["media"]["content"][0];
        let attrs = content.attrs();
        assert_eq!(attrs["url"], url);
        assert_eq!(attrs["type"], "image/png");
        assert_eq!(attrs["fileSize"], bytes.to_string());
        assert_eq!(
            (attrs["width"].as_str(), attrs["height"].as_str()),
            ("40", "30")
        );
        assert_eq!(
            content.children()["description"][0].value(),
            Some("The harbour at dawn")
        );
        assert!(
            !items[0].extensions()["media"]["content"][0]
                .attrs()
                .contains_key("fileSize")
        );

        let feed = atom(&app.get("/feeds/atom.xml", None).await);
        let enclosure = feed.entries()[1]
            .links()
            .iter()
            .find(|l| l.rel() == "enclosure")
            .expect("atom enclosure");
        assert_eq!(enclosure.href(), url);
        assert_eq!(enclosure.mime_type(), Some("image/png"));
        assert_eq!(enclosure.length(), Some(bytes.to_string().as_str()));

        let feed = json_feed(&app.get("/feeds/feed.json", None).await);
        assert_eq!(feed["items"][1]["image"], url);
        assert_eq!(
            feed["items"][0]["image"],
            "https://img.example/ext.webp?w=800"
        );
    }
);
