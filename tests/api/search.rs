//! Full-text search (`GET /articles?q=`) on both backends: relevance,
//! filters, pagination, and input that must never break the query.

use newsdesk::auth::Role;
use serde_json::json;

use crate::content::{create, draft, ids, walk_cursor, walk_pages};
use crate::db_test;
use crate::helpers::TestApp;

fn art(title: &str, body: &str) -> serde_json::Value {
    json!({"title": title, "body": body, "status": "published"})
}

db_test!(search_matches_all_words_and_ranks_by_relevance, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let body_only = create(
        &app,
        &token,
        art(
            "Market report",
            "Prices of cabbage rose, and kimchi makers worried about the winter.",
        ),
    )
    .await;
    let in_title = create(
        &app,
        &token,
        art(
            "Kimchi exports reach a record",
            "Shipments of kimchi grew for the fifth year.",
        ),
    )
    .await;
    let other = create(
        &app,
        &token,
        art("Weather", "Rain is expected in the north."),
    )
    .await;
    let hidden = draft(&app, &token, "Kimchi secrets").await;
    let res = app.get("/api/v1/articles?q=kimchi", None).await;
    res.assert_status(200);
    assert_eq!(
        ids(&res),
        [
            crate::content::id(&in_title),
            crate::content::id(&body_only)
        ]
    );
    assert_eq!(res.json()["meta"]["total"], 2);
    // Stemming: another form of the word matches.
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=shipment", None).await),
        [crate::content::id(&in_title)]
    );
    // Every word must match.
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=kimchi%20cabbage", None).await),
        [crate::content::id(&body_only)]
    );
    assert!(ids(&app.get("/api/v1/articles?q=kimchi%20rain", None).await).is_empty());
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=RAIN", None).await),
        [crate::content::id(&other)]
    );
    // Editors also find drafts; an explicit sort replaces relevance.
    let (_, editor) = app.user(Role::Editor).await;
    let found = ids(&app.get("/api/v1/articles?q=kimchi", Some(&editor)).await);
    assert_eq!(found.len(), 3);
    assert!(found.contains(&crate::content::id(&hidden)));
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=kimchi&sort=title", None).await),
        [
            crate::content::id(&in_title),
            crate::content::id(&body_only)
        ]
    );
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=kimchi&sort=-title", None).await),
        [
            crate::content::id(&body_only),
            crate::content::id(&in_title)
        ]
    );
    // The excerpt is searched too; a body edit is searchable at once.
    let e = create(
        &app,
        &token,
        json!({"title": "Plain", "body": "Nothing here.", "excerpt": "All about dumplings", "status": "published"}),
    )
    .await;
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=dumplings", None).await),
        [crate::content::id(&e)]
    );
    app.patch(
        &format!("/api/v1/articles/{}", crate::content::id(&other)),
        Some(&token),
        &json!({"body": "Snow is expected, with dumplings for everyone."}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        ids(&app.get("/api/v1/articles?q=snow", None).await).len(),
        1
    );
    assert!(ids(&app.get("/api/v1/articles?q=rain", None).await).is_empty());
});

db_test!(search_combines_with_filters, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, dan) = app.user_named(Role::Author, "Daniel Kim").await;
    let (_, lena) = app.user_named(Role::Author, "Lena Fischer").await;
    let a = create(
        &app,
        &dan,
        json!({"title": "Talks in Seoul", "body": "Diplomats met.", "status": "published", "tags": ["diplomacy"], "published_at": "2024-01-01T00:00:00Z"}),
    )
    .await;
    let b = create(
        &app,
        &lena,
        json!({"title": "Talks in Geneva", "body": "Diplomats met again.", "status": "published", "tags": ["diplomacy", "europe"], "published_at": "2024-06-01T00:00:00Z"}),
    )
    .await;
    let get = |q: &'static str| app.get(q, None);
    assert_eq!(
        ids(&get("/api/v1/articles?q=talks&tag=europe").await),
        [crate::content::id(&b)]
    );
    assert_eq!(
        ids(&get("/api/v1/articles?q=talks&author=daniel-kim").await),
        [crate::content::id(&a)]
    );
    assert_eq!(
        ids(&get("/api/v1/articles?q=diplomats&published_before=2024-03-01T00:00:00Z").await),
        [crate::content::id(&a)]
    );
    assert_eq!(
        ids(&get("/api/v1/articles?q=diplomats&include=body").await).len(),
        2
    );
});

db_test!(hostile_search_input_is_searched_as_words, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    let k = create(
        &app,
        &token,
        art("Kimchi title", "Spicy cabbage near the sea."),
    )
    .await;
    let long = "kimchi ".repeat(143); // ~1,000 characters
    let inputs: Vec<String> = vec![
        "\"".into(),
        "\"unbalanced quote".into(),
        "kimchi\"".into(),
        "*".into(),
        "kimchi*".into(),
        "OR".into(),
        "kimchi OR".into(),
        "AND NOT".into(),
        "-kimchi".into(),
        "- - -".into(),
        "(".into(),
        "((kimchi".into(),
        "kimchi)))".into(),
        "NEAR(kimchi cabbage)".into(),
        "NEAR/2".into(),
        "title:kimchi".into(),
        "body_text:kimchi".into(),
        "{title excerpt}: kimchi".into(),
        "^kimchi".into(),
        "kimchi + cabbage".into(),
        "🎉".into(),
        "🎉 kimchi 🎉".into(),
        "'; DROP TABLE articles; --".into(),
        "\\".into(),
        "%_%".into(),
        "a:b:c".into(),
        "&|!<->".into(),
        "kimchi & !cabbage".into(),
        "北京".into(),
        long.clone(),
        "x".repeat(1000),
        "word ".repeat(400),
    ];
    for q in &inputs {
        let url = format!(
            "/api/v1/articles?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let res = app.get(&url, None).await;
        assert_eq!(
            res.status,
            200,
            "q={q:?}: {}",
            String::from_utf8_lossy(&res.body)
        );
        let found = ids(&res);
        assert!(
            found.is_empty() || found == [crate::content::id(&k)],
            "q={q:?}"
        );
        // The cursor of a search works too.
        let res = app.get(&format!("{url}&per_page=1&sort=title"), None).await;
        assert_eq!(res.status, 200, "q={q:?}");
    }
    // The one exception: NUL is refused in every text input (contract,
    // "Limits and security"), naming the parameter.
    let problem = app
        .get("/api/v1/articles?q=%00kimchi", None)
        .await
        .assert_problem(400);
    assert!(problem["detail"].as_str().unwrap().starts_with("q "));
    // Words among the operators are still found.
    for q in [
        "kimchi%22",
        "%28%28kimchi",
        "kimchi%29%29%29",
        "-kimchi",
        "%5Ekimchi",
        "kimchi*",
    ] {
        assert_eq!(
            ids(&app.get(&format!("/api/v1/articles?q={q}"), None).await),
            [crate::content::id(&k)],
            "{q}"
        );
    }
    // Nothing searchable at all matches nothing (and is not an error).
    let res = app.get("/api/v1/articles?q=%F0%9F%8E%89%20***", None).await;
    res.assert_status(200);
    assert_eq!(res.json()["meta"]["total"], 0);
    // An empty q is no filter.
    assert_eq!(ids(&app.get("/api/v1/articles?q=%20", None).await).len(), 1);
});

db_test!(relevance_pages_by_cursor_like_by_page, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Author).await;
    // Varying relevance with ties: identical texts score the same.
    for i in 0..11 {
        let body = match i % 3 {
            0 => "harbour".to_string(),
            1 => "harbour harbour harbour and more words about the sea".to_string(),
            _ => "a long text that mentions the harbour once among many other words".to_string(),
        };
        let title = if i % 4 == 0 { "Harbour news" } else { "News" };
        create(&app, &token, art(title, &body)).await;
    }
    create(&app, &token, art("Unrelated", "Mountains.")).await;
    let base = "/api/v1/articles?q=harbour&per_page=3";
    let by_cursor = walk_cursor(&app, base, None).await;
    let by_page = walk_pages(&app, base, None).await;
    assert_eq!(by_cursor.len(), 11);
    assert_eq!(by_cursor, by_page);
    // The best matches (title hits) come first.
    let first = app.get(base, None).await.json();
    assert_eq!(first["data"][0]["title"], "Harbour news");
    // A relevance cursor is refused under an explicit sort.
    let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_string();
    app.get(&format!("{base}&sort=title&after={cursor}"), None)
        .await
        .assert_problem(400);
});

db_test!(relevance_ranks_the_newest_thousand_matches, |backend| {
    let app = TestApp::spawn(backend).await;
    {
        let mut conn = app.conn();
        newsdesk::seed::seed_articles(&mut conn, 1_800, |_| {}).unwrap();
    }
    // A word of the synthetic vocabulary found in more than 1,000 articles.
    let first = app.get("/api/v1/articles?per_page=5", None).await.json();
    let titles: Vec<String> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_lowercase())
        .collect();
    let mut chosen = None;
    for word in titles.iter().flat_map(|t| t.split_whitespace()) {
        let all = app
            .get(
                &format!("/api/v1/articles?q={word}&sort=-published_at&per_page=1"),
                None,
            )
            .await
            .json();
        if all["meta"]["total"].as_i64().unwrap() > 1_000 {
            chosen = Some(word.to_string());
            break;
        }
    }
    let word = chosen.expect("a common word");
    // Sorted by a field, every match is listed.
    let newest_first = walk_cursor(
        &app,
        &format!("/api/v1/articles?q={word}&sort=-published_at&per_page=100"),
        None,
    )
    .await;
    assert!(newest_first.len() > 1_000);
    // By relevance, the newest 1,000 matches (by id) are ranked, and the
    // total says so.
    let mut newest_ids = newest_first.clone();
    newest_ids.sort_unstable_by(|a, b| b.cmp(a));
    newest_ids.truncate(1_000);
    let res = app
        .get(&format!("/api/v1/articles?q={word}&per_page=100"), None)
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["meta"]["total"], 1_000);
    let ranked = walk_pages(
        &app,
        &format!("/api/v1/articles?q={word}&per_page=100"),
        None,
    )
    .await;
    let by_cursor = walk_cursor(
        &app,
        &format!("/api/v1/articles?q={word}&per_page=100"),
        None,
    )
    .await;
    assert_eq!(ranked, by_cursor);
    let mut got = ranked.clone();
    got.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(got, newest_ids);
});
