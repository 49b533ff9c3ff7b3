//! `/sitemap.xml` and `/sitemaps/...`, read back with `quick-xml`.

use std::collections::HashMap;

use newsdesk::auth::Role;
use quick_xml::events::Event;
use serde_json::json;

use crate::content::create;
use crate::db_test;
use crate::helpers::{Res, TestApp};

/// The text of every element named `name` (local name), in order, after
/// checking the root element and its namespace.
fn texts(res: &Res, root: &str, name: &str) -> Vec<String> {
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/xml; charset=utf-8")
    );
    let mut reader = quick_xml::Reader::from_reader(&res.body[..]);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut saw_root = false;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            Event::Start(e) => {
                let qname = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if !saw_root {
                    assert_eq!(qname, root);
                    let ns = e
                        .attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == b"xmlns")
                        .map(|a| String::from_utf8(a.value.to_vec()).unwrap());
                    assert_eq!(
                        ns.as_deref(),
                        Some("http://www.sitemaps.org/schemas/sitemap/0.9")
                    );
                    saw_root = true;
                }
                current = Some(qname);
            }
            Event::Text(t) if current.as_deref() == Some(name) => {
                out.push(t.decode().unwrap().into_owned());
            }
            Event::End(_) => current = None,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert!(saw_root, "no root element");
    out
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    format!("/{}", rest.split_once('/').unwrap().1)
}

db_test!(
    sitemaps_list_every_published_article_once_across_pages,
    |backend| {
        let app = TestApp::spawn_with(backend, &[("NEWSDESK_SITEMAP_PAGE_SIZE", "10")]).await;
        {
            let mut conn = app.conn();
            newsdesk::seed::seed_articles(&mut conn, 34, |_| {}).unwrap();
        }
        let (_, token) = app.user(Role::Editor).await;
        let draft = create(&app, &token, json!({"title": "Draft one", "body": "x"})).await;
        let soon = (chrono::Utc::now() + chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let scheduled = create(
        &app,
        &token,
        json!({"title": "Scheduled one", "body": "x", "status": "published", "published_at": soon}),
    )
    .await;
        let last = create(
            &app,
            &token,
            json!({"title": "Last one", "body": "x", "status": "published", "tags": ["world"]}),
        )
        .await;

        // What the public list says is published.
        let mut expected: Vec<String> = Vec::new();
        let mut page = 1;
        loop {
            let res = app
                .get(&format!("/api/v1/articles?per_page=100&page={page}"), None)
                .await;
            let data = res.json()["data"].as_array().unwrap().clone();
            if data.is_empty() {
                break;
            }
            expected.extend(data.iter().map(|a| {
                format!(
                    "http://127.0.0.1:8080/articles/{}",
                    a["slug"].as_str().unwrap()
                )
            }));
            page += 1;
        }
        assert_eq!(expected.len(), 35);

        let index = app.get("/sitemap.xml", None).await;
        let locs = texts(&index, "sitemapindex", "loc");
        assert!(locs.iter().any(|l| l.ends_with("/sitemaps/tags.xml")));
        assert!(locs.iter().any(|l| l.ends_with("/sitemaps/authors.xml")));
        assert!(locs.iter().any(|l| l.ends_with("/sitemaps/news.xml")));
        let pages: Vec<&String> = locs
            .iter()
            .filter(|l| l.contains("/sitemaps/articles-"))
            .collect();
        assert!(pages.len() >= 4, "{pages:?}");
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut lastmods = 0;
        for page in &pages {
            let res = app.get(&path_of(page), None).await;
            let urls = texts(&res, "urlset", "loc");
            assert!(
                !urls.is_empty() && urls.len() <= 10,
                "{page}: {}",
                urls.len()
            );
            lastmods += texts(&res, "urlset", "lastmod").len();
            for u in urls {
                *seen.entry(u).or_default() += 1;
            }
        }
        assert_eq!(lastmods, 35);
        assert!(seen.values().all(|n| *n == 1), "listed once each");
        let mut listed: Vec<String> = seen.into_keys().collect();
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected);
        for a in [&draft, &scheduled] {
            assert!(
                !listed
                    .iter()
                    .any(|u| u.ends_with(a["slug"].as_str().unwrap()))
            );
        }

        // An article page: ETag and 304; pages past the end, bad numbers: 404.
        let first = path_of(pages[0]);
        let res = app.get(&first, None).await;
        let etag = res.header("etag").expect("etag");
        app.request("GET", &first, None, None, &[("If-None-Match", &etag)])
            .await
            .assert_status(304);
        // A change of one of its articles changes the page's ETag.
        let some_slug = texts(&res, "urlset", "loc")[0]
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let article = app
            .get(&format!("/api/v1/articles/slug/{some_slug}"), None)
            .await
            .json();
        app.patch(
            &format!("/api/v1/articles/{}", article["id"]),
            Some(&token),
            &json!({"slug": format!("{some_slug}-renamed")}),
        )
        .await
        .assert_status(200);
        let res = app.get(&first, None).await;
        assert_ne!(res.header("etag").unwrap(), etag);
        assert!(
            texts(&res, "urlset", "loc")
                .iter()
                .any(|u| u.ends_with("-renamed"))
        );
        for bad in [
            "/sitemaps/articles-99.xml",
            "/sitemaps/articles-0.xml",
            "/sitemaps/articles-01.xml",
            "/sitemaps/articles-x.xml",
            "/sitemaps/articles--1.xml",
        ] {
            app.get(bad, None).await.assert_problem(404);
        }

        // Tags and authors with published articles.
        let tags = texts(&app.get("/sitemaps/tags.xml", None).await, "urlset", "loc");
        assert!(
            tags.contains(&"http://127.0.0.1:8080/tags/world".to_string()),
            "{tags:?}"
        );
        let authors = texts(
            &app.get("/sitemaps/authors.xml", None).await,
            "urlset",
            "loc",
        );
        assert!(authors.contains(&format!(
            "http://127.0.0.1:8080/authors/{}",
            last["author"]["slug"].as_str().unwrap()
        )));
        assert!(authors.iter().all(|a| a.contains("/authors/")));
    }
);

db_test!(the_news_sitemap_holds_the_last_48_hours, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_SITE_NAME", "The Test Times"),
            ("NEWSDESK_SITE_LANGUAGE", "de"),
        ],
    )
    .await;
    let (_, token) = app.user(Role::Editor).await;
    let at = |hours: i64| {
        (chrono::Utc::now() - chrono::Duration::hours(hours))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut made = Vec::new();
    for (title, hours) in [("Old news", 72), ("Yesterday", 30), ("Fresh", 1)] {
        made.push(
            create(
                &app,
                &token,
                json!({"title": title, "body": "x", "status": "published", "published_at": at(hours)}),
            )
            .await,
        );
    }
    create(&app, &token, json!({"title": "Unpublished", "body": "x"})).await;
    let res = app.get("/sitemaps/news.xml", None).await;
    let locs = texts(&res, "urlset", "loc");
    assert_eq!(
        locs,
        [
            "http://127.0.0.1:8080/articles/fresh",
            "http://127.0.0.1:8080/articles/yesterday"
        ]
    );
    assert_eq!(texts(&res, "urlset", "news:title"), ["Fresh", "Yesterday"]);
    assert_eq!(
        texts(&res, "urlset", "news:name"),
        ["The Test Times", "The Test Times"]
    );
    assert_eq!(texts(&res, "urlset", "news:language"), ["de", "de"]);
    let dates = texts(&res, "urlset", "news:publication_date");
    assert_eq!(
        dates,
        [
            made[2]["published_at"].as_str().unwrap(),
            made[1]["published_at"].as_str().unwrap()
        ]
    );
    // Cached no longer than until "Yesterday" leaves the window (18 h).
    let cc = res.header("cache-control").unwrap();
    assert!(cc.starts_with("public, max-age="), "{cc}");
});

db_test!(an_empty_site_has_valid_sitemaps, |backend| {
    let app = TestApp::spawn(backend).await;
    let locs = texts(&app.get("/sitemap.xml", None).await, "sitemapindex", "loc");
    assert_eq!(locs.len(), 3, "{locs:?}");
    assert!(texts(&app.get("/sitemaps/tags.xml", None).await, "urlset", "loc").is_empty());
    assert!(
        texts(
            &app.get("/sitemaps/authors.xml", None).await,
            "urlset",
            "loc"
        )
        .is_empty()
    );
    assert!(texts(&app.get("/sitemaps/news.xml", None).await, "urlset", "loc").is_empty());
    app.get("/sitemaps/articles-1.xml", None)
        .await
        .assert_problem(404);
});
