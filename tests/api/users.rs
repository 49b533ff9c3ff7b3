//! `/users`: the admin list (envelope, pages, cursors, sorts, filters),
//! creation, reading, self-service and admin updates, and deletion.

use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use newsdesk::auth::Role;
use newsdesk::db::schema::{articles, comments, refresh_tokens, users};
use newsdesk::users::queries::AccountInput;
use serde_json::{Value, json};

use crate::auth::{
    PASSWORD, assert_invalid, assert_unauthorized, assert_user_shape, email_of, issue_refresh,
    login, stored_tokens, stored_user, user_count,
};
use crate::db_test;
use crate::helpers::{DEFAULT_PASSWORD, Res, TestApp};

/// Makes a user directly with chosen fields (the password hash is a
/// placeholder: these users never sign in). Returns the id.
fn insert_user(
    app: &TestApp,
    name: &str,
    email: &str,
    role: Role,
    created_at: Option<NaiveDateTime>,
) -> i64 {
    let input = AccountInput {
        email: email.into(),
        name: name.into(),
        role: role.as_str().into(),
        bio: None,
        avatar_url: None,
        password_hash: "placeholder".into(),
    };
    let mut conn = app.conn();
    let row = newsdesk::users::queries::create_account(&mut conn, input).unwrap();
    if let Some(t) = created_at {
        diesel::update(users::table.find(row.id))
            .set((users::created_at.eq(t), users::updated_at.eq(t)))
            .execute(&mut *conn)
            .unwrap();
    }
    row.id
}

fn ids(res: &Res) -> Vec<i64> {
    res.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect()
}

/// `rel` -> URL of an RFC 8288 `Link` header.
fn links(res: &Res) -> Vec<(String, String)> {
    let Some(header) = res.header("link") else {
        return Vec::new();
    };
    header
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url.trim_start_matches('<').trim_end_matches('>');
            let rel = rel
                .strip_prefix("rel=\"")
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or_else(|| panic!("bad link {part}"));
            (rel.to_string(), url.to_string())
        })
        .collect()
}

fn link(res: &Res, rel: &str) -> Option<String> {
    links(res)
        .into_iter()
        .find(|(r, _)| r == rel)
        .map(|(_, u)| u)
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let (_, q) = url.split_once('?').unwrap();
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn stored_article(app: &TestApp, author_id: i64, slug: &str) -> i64 {
    let now = newsdesk::time::now();
    diesel::insert_into(articles::table)
        .values((
            articles::slug.eq(slug),
            articles::title.eq(slug),
            articles::excerpt.eq(""),
            articles::body.eq("text"),
            articles::body_format.eq("markdown"),
            articles::body_html.eq("<p>text</p>"),
            articles::body_text.eq("text"),
            articles::status.eq("published"),
            articles::published_at.eq(Some(now)),
            articles::created_at.eq(now),
            articles::updated_at.eq(now),
            articles::author_id.eq(author_id),
        ))
        .returning(articles::id)
        .get_result(&mut *app.conn())
        .unwrap()
}

fn stored_comment(
    app: &TestApp,
    article_id: i64,
    author_id: i64,
    parent_id: Option<i64>,
    status: &str,
) -> i64 {
    let now = newsdesk::time::now();
    let id: i64 = diesel::insert_into(comments::table)
        .values((
            comments::article_id.eq(article_id),
            comments::parent_id.eq(parent_id),
            comments::author_id.eq(author_id),
            comments::body.eq("a comment"),
            comments::status.eq(status),
            comments::created_at.eq(now),
            comments::updated_at.eq(now),
        ))
        .returning(comments::id)
        .get_result(&mut *app.conn())
        .unwrap();
    if status == "approved" {
        diesel::update(articles::table.find(article_id))
            .set(articles::comment_count.eq(articles::comment_count + 1))
            .execute(&mut *app.conn())
            .unwrap();
    }
    id
}

// -------------------------------------------------------------------- list

db_test!(list_returns_the_envelope, |backend| {
    let app = TestApp::spawn(backend).await;
    let (admin, token) = app.user(Role::Admin).await;
    let mut made = vec![admin];
    for role in [Role::Reader, Role::Author, Role::Editor, Role::Reader] {
        made.push(app.user(role).await.0);
    }
    let res = app.get("/api/v1/users", Some(&token)).await;
    res.assert_status(200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(res.header("x-total-count").as_deref(), Some("5"));
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    let body = res.json();
    assert_eq!(
        body["meta"],
        json!({"page": 1, "per_page": 20, "total": 5, "total_pages": 1, "next_cursor": null})
    );
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 5);
    for u in data {
        assert_user_shape(u);
        assert!(u["email"].as_str().unwrap().ends_with("@example.com"));
    }
    // Default order: newest first (ties by id, newest first).
    made.reverse();
    assert_eq!(ids(&res), made);
    assert!(!String::from_utf8_lossy(&res.body).contains("password"));
    assert_eq!(
        links(&res),
        vec![
            ("first".to_string(), "/api/v1/users?page=1".to_string()),
            ("last".to_string(), "/api/v1/users?page=1".to_string()),
        ]
    );
});

db_test!(list_is_for_admins_only, |backend| {
    let app = TestApp::spawn(backend).await;
    for role in [Role::Reader, Role::Author, Role::Editor] {
        let (_, token) = app.user(role).await;
        let problem = app
            .get("/api/v1/users", Some(&token))
            .await
            .assert_problem(403);
        assert_eq!(problem["type"], "https://newsdesk.dev/problems/forbidden");
    }
    assert_unauthorized(&app.get("/api/v1/users", None).await);
});

db_test!(list_pages_have_links_and_counts, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Admin).await;
    for i in 0..15 {
        insert_user(
            &app,
            &format!("P{i:02}"),
            &format!("p{i:02}@example.com"),
            Role::Reader,
            None,
        );
    }
    // 16 users, 5 per page: pages of 5, 5, 5, 1.
    let mut seen = Vec::new();
    for page in 1..=4 {
        let res = app
            .get(
                &format!("/api/v1/users?per_page=5&page={page}&sort=email&role=reader"),
                Some(&token),
            )
            .await;
        res.assert_status(200);
        // The admin is filtered out: 15 readers.
        assert_eq!(res.header("x-total-count").as_deref(), Some("15"));
        let meta = res.json()["meta"].clone();
        assert_eq!(meta["page"], page.min(4));
        assert_eq!(meta["per_page"], 5);
        assert_eq!(meta["total"], 15);
        assert_eq!(meta["total_pages"], 3);
        let page_ids = ids(&res);
        let first = link(&res, "first").unwrap();
        let last = link(&res, "last").unwrap();
        assert!(first.starts_with("/api/v1/users?"));
        let first_q = query_of(&first);
        assert!(first_q.contains(&("page".into(), "1".into())));
        // Every other parameter is kept.
        assert!(first_q.contains(&("per_page".into(), "5".into())));
        assert!(first_q.contains(&("sort".into(), "email".into())));
        assert!(first_q.contains(&("role".into(), "reader".into())));
        assert!(query_of(&last).contains(&("page".into(), "3".into())));
        match page {
            1 => {
                assert_eq!(page_ids.len(), 5);
                assert!(link(&res, "prev").is_none());
                assert!(link(&res, "next").is_some());
                assert!(meta["next_cursor"].is_string());
            }
            2 => {
                assert!(
                    query_of(&link(&res, "prev").unwrap()).contains(&("page".into(), "1".into()))
                );
                assert!(link(&res, "next").is_some());
            }
            3 => {
                assert_eq!(page_ids.len(), 5);
                assert!(
                    query_of(&link(&res, "prev").unwrap()).contains(&("page".into(), "2".into()))
                );
                assert!(link(&res, "next").is_none(), "the last page has no next");
                assert!(meta["next_cursor"].is_null());
            }
            _ => {
                // Past the end: an empty page, not an error.
                assert!(page_ids.is_empty());
                assert!(link(&res, "next").is_none());
                assert!(
                    query_of(&link(&res, "prev").unwrap()).contains(&("page".into(), "3".into()))
                );
            }
        }
        seen.extend(page_ids);
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(seen.len(), 15);
    assert_eq!(sorted.len(), 15);

    // per_page bounds.
    let res = app.get("/api/v1/users?per_page=100", Some(&token)).await;
    res.assert_status(200);
    assert_eq!(res.json()["meta"]["per_page"], 100);
    let res = app.get("/api/v1/users?per_page=1", Some(&token)).await;
    assert_eq!(res.json()["meta"]["total_pages"], 16);
    assert_eq!(ids(&res).len(), 1);
});

db_test!(cursor_walk_equals_page_walk_for_every_sort, |backend| {
    let app = TestApp::spawn(backend).await;
    let (admin, token) = app.user_named(Role::Admin, "Admin").await;
    let base = newsdesk::time::now() - chrono::Duration::days(10);
    diesel::update(users::table.find(admin))
        .set(users::created_at.eq(base))
        .execute(&mut *app.conn())
        .unwrap();
    // Names and creation times repeat, so ties must be broken by id.
    let names = [
        "Delta", "Alpha", "Echo", "Charlie", "Bravo", "Alpha", "Foxtrot", "Charlie",
    ];
    for i in 0..25usize {
        let name = names[i % names.len()];
        let minutes = ((i * 7) % 11) as i64;
        insert_user(
            &app,
            name,
            &format!("u{:02}@example.com", (i * 13) % 25),
            Role::Reader,
            Some(base + chrono::Duration::minutes(minutes)),
        );
    }
    let all: Vec<(i64, String, String, NaiveDateTime)> = users::table
        .select((users::id, users::name, users::email, users::created_at))
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(all.len(), 26);

    for sort in [
        "name",
        "-name",
        "email",
        "-email",
        "created_at",
        "-created_at",
    ] {
        let desc = sort.starts_with('-');
        let mut expected = all.clone();
        expected.sort_by(|a, b| {
            let key = match sort.trim_start_matches('-') {
                "name" => a.1.cmp(&b.1),
                "email" => a.2.cmp(&b.2),
                _ => a.3.cmp(&b.3),
            }
            .then(a.0.cmp(&b.0));
            if desc { key.reverse() } else { key }
        });
        let expected: Vec<i64> = expected.iter().map(|u| u.0).collect();

        let mut by_page = Vec::new();
        for page in 1..=4 {
            let res = app
                .get(
                    &format!("/api/v1/users?per_page=7&page={page}&sort={sort}"),
                    Some(&token),
                )
                .await;
            res.assert_status(200);
            by_page.extend(ids(&res));
        }
        assert_eq!(by_page, expected, "page walk, sort={sort}");

        // Follow meta.next_cursor.
        let mut by_cursor = Vec::new();
        let mut url = format!("/api/v1/users?per_page=7&sort={sort}");
        let mut pages = 0;
        loop {
            let res = app.get(&url, Some(&token)).await;
            res.assert_status(200);
            pages += 1;
            let body = res.json();
            assert_eq!(body["meta"]["page"], pages, "sort={sort}");
            assert_eq!(body["meta"]["total"], 26);
            by_cursor.extend(ids(&res));
            match body["meta"]["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/users?per_page=7&sort={sort}&after={c}"),
                None => break,
            }
            assert!(pages < 10, "runaway cursor");
        }
        assert_eq!(pages, 4);
        assert_eq!(by_cursor, expected, "cursor walk, sort={sort}");

        // Follow the Link header's rel="next" literally.
        let mut by_link = Vec::new();
        let mut url = format!("/api/v1/users?per_page=7&sort={sort}");
        loop {
            let res = app.get(&url, Some(&token)).await;
            by_link.extend(ids(&res));
            match link(&res, "next") {
                Some(next) => url = next,
                None => break,
            }
        }
        assert_eq!(by_link, expected, "link walk, sort={sort}");

        // `after` wins over `page`.
        let first = app
            .get(
                &format!("/api/v1/users?per_page=7&sort={sort}"),
                Some(&token),
            )
            .await
            .json();
        let cursor = first["meta"]["next_cursor"].as_str().unwrap();
        let res = app
            .get(
                &format!("/api/v1/users?per_page=7&sort={sort}&page=4&after={cursor}"),
                Some(&token),
            )
            .await;
        assert_eq!(ids(&res), expected[7..14].to_vec(), "sort={sort}");
    }
});

db_test!(list_rejects_bad_parameters, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Admin).await;
    insert_user(&app, "Someone", "someone@example.com", Role::Reader, None);
    let name_cursor = app
        .get("/api/v1/users?per_page=1&sort=name", Some(&token))
        .await
        .json()["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let encode = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let bad_time_cursor = encode(json!({"s": "-created_at", "k": "yesterday", "i": 1, "p": 1}));
    let null_time_cursor = encode(json!({"s": "-created_at", "k": null, "i": 1, "p": 1}));
    let null_name_cursor = encode(json!({"s": "name", "k": null, "i": 1, "p": 1}));
    let not_a_cursor = encode(json!({"s": "name"}));
    let zero_page_cursor =
        encode(json!({"s": "-created_at", "k": "2024-01-01T00:00:00Z", "i": 1, "p": 0}));
    for query in [
        "per_page=101".to_string(),
        "per_page=0".into(),
        "per_page=-5".into(),
        "per_page=ten".into(),
        "page=0".into(),
        "page=-1".into(),
        "page=1.5".into(),
        "page=99999999999999999999".into(),
        "page=1&page=2".into(),
        "foo=1".into(),
        "PAGE=1".into(),
        "sort=password_hash".into(),
        "sort=-".into(),
        "sort=name,email".into(),
        "role=superuser".into(),
        "role=Admin".into(),
        "after=garbage".into(),
        format!("after={name_cursor}&sort=email"),
        format!("after={name_cursor}&sort=-name"),
        format!("after={name_cursor}"),
        format!("after={bad_time_cursor}"),
        format!("after={null_time_cursor}"),
        format!("after={null_name_cursor}&sort=name"),
        format!("after={not_a_cursor}&sort=name"),
        format!("after={zero_page_cursor}"),
    ] {
        let res = app
            .get(&format!("/api/v1/users?{query}"), Some(&token))
            .await;
        assert_eq!(
            res.status,
            400,
            "{query}: {}",
            String::from_utf8_lossy(&res.body)
        );
        let problem = res.assert_problem(400);
        assert_eq!(problem["type"], "https://newsdesk.dev/problems/bad-request");
    }
    // An empty parameter is an absent one (as HTML forms send them).
    let defaults = app.get("/api/v1/users", Some(&token)).await;
    for query in ["sort=", "after=", "q=", "role=", "page=&per_page="] {
        let res = app
            .get(&format!("/api/v1/users?{query}"), Some(&token))
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["data"], defaults.json()["data"], "{query}");
    }
    // The same cursor with its own sort is fine.
    app.get(
        &format!("/api/v1/users?sort=name&after={name_cursor}"),
        Some(&token),
    )
    .await
    .assert_status(200);
});

db_test!(list_filters_by_role_and_text, |backend| {
    let app = TestApp::spawn(backend).await;
    let (admin, token) = app.user_named(Role::Admin, "Root").await;
    let ada = insert_user(&app, "Ada Lovelace", "ada@example.com", Role::Editor, None);
    let grace = insert_user(
        &app,
        "Grace Hopper",
        "grace@navy.example",
        Role::Editor,
        None,
    );
    let alan = insert_user(&app, "Alan Turing", "alan@example.com", Role::Author, None);
    let odd = insert_user(
        &app,
        "100% Real_Name",
        "odd@example.com",
        Role::Reader,
        None,
    );

    let check = async |query: &str, expected: &[i64]| {
        let res = app
            .get(&format!("/api/v1/users?{query}"), Some(&token))
            .await;
        res.assert_status(200);
        let mut got = ids(&res);
        got.sort_unstable();
        let mut want = expected.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{query}");
        assert_eq!(
            res.header("x-total-count"),
            Some(expected.len().to_string()),
            "{query}"
        );
        assert_eq!(res.json()["meta"]["total"], expected.len(), "{query}");
    };
    check("role=editor", &[ada, grace]).await;
    check("role=author", &[alan]).await;
    check("role=admin", &[admin]).await;
    check("role=reader", &[odd]).await;
    check("q=ada", &[ada]).await;
    check("q=ADA", &[ada]).await;
    check("q=hopper", &[grace]).await;
    check("q=NAVY", &[grace]).await;
    check("q=%20lovelace%20", &[ada]).await;
    check("q=a", &[ada, grace, alan, odd, admin]).await;
    check("q=al&role=author", &[alan]).await;
    check("q=al&role=editor", &[]).await;
    check("q=zzz", &[]).await;
    // LIKE wildcards in q are literal characters.
    check("q=%25", &[odd]).await;
    check("q=_", &[odd, admin]).await;
    check("q=0%25%20r", &[odd]).await;
    check("q=", &[ada, grace, alan, odd, admin]).await;
    // NUL (which PostgreSQL text cannot hold) is refused, naming `q`.
    for q in ["q=ho%00pper", "q=%00"] {
        let res = app.get(&format!("/api/v1/users?{q}"), Some(&token)).await;
        let problem = res.assert_problem(400);
        assert!(problem["detail"].as_str().unwrap().contains('q'), "{q}");
    }
});

// ------------------------------------------------------------------ create

db_test!(admin_creates_a_user, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Admin).await;
    let res = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({
                "email": "New.Editor@Example.com",
                "password": PASSWORD,
                "name": " Nora Editor ",
                "role": "editor",
                "bio": " Covers politics. ",
                "avatar_url": "https://images.example.com/nora.jpg"
            }),
        )
        .await;
    res.assert_status(201);
    let user = res.json();
    assert_user_shape(&user);
    let id = user["id"].as_i64().unwrap();
    assert_eq!(res.header("location"), Some(format!("/api/v1/users/{id}")));
    assert_eq!(user["email"], "new.editor@example.com");
    assert_eq!(user["name"], "Nora Editor");
    assert_eq!(user["slug"], "nora-editor");
    assert_eq!(user["role"], "editor");
    assert_eq!(user["bio"], "Covers politics.");
    assert_eq!(user["avatar_url"], "https://images.example.com/nora.jpg");

    let row = stored_user(&app, id).unwrap();
    assert_eq!(row.role, "editor");
    assert_eq!(row.bio.as_deref(), Some("Covers politics."));
    assert!(row.password_hash.starts_with("$argon2id$"));
    // The new account signs in with its password.
    let pair = login(&app, "new.editor@example.com", PASSWORD).await;
    pair.assert_status(200);
    assert_eq!(pair.json()["user"]["role"], "editor");

    // Optional fields may be left out; every role can be given.
    for role in ["reader", "author", "admin"] {
        let res = app
            .post(
                "/api/v1/users",
                Some(&token),
                &json!({"email": format!("{role}@example.com"), "password": PASSWORD, "name": role, "role": role}),
            )
            .await;
        res.assert_status(201);
        assert_eq!(res.json()["role"], role);
        assert!(res.json()["bio"].is_null());
    }
});

db_test!(create_rejects_conflicts_and_invalid_input, |backend| {
    let app = TestApp::spawn(backend).await;
    let (admin, token) = app.user(Role::Admin).await;
    let taken = email_of(&app, admin);
    let before = user_count(&app);

    let res = app
        .post(
            "/api/v1/users",
            Some(&token),
            &json!({"email": taken.to_uppercase(), "password": PASSWORD, "name": "Dup", "role": "reader"}),
        )
        .await;
    let problem = res.assert_problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("email"));

    let ok = json!({"email": "x@example.com", "password": PASSWORD, "name": "X", "role": "reader"});
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (with("role", json!("superuser")), vec!["role"]),
        (with("role", json!("Admin")), vec!["role"]),
        (with("role", json!(3)), vec!["role"]),
        (without("role"), vec!["role"]),
        (without("email"), vec!["email"]),
        (with("email", json!("x@")), vec!["email"]),
        (with("password", json!("short")), vec!["password"]),
        (with("name", json!("")), vec!["name"]),
        (
            with("avatar_url", json!("javascript:alert(1)")),
            vec!["avatar_url"],
        ),
        (
            with("avatar_url", json!("/relative.png")),
            vec!["avatar_url"],
        ),
        (with("bio", json!("b".repeat(2001))), vec!["bio"]),
        (with("bio", json!(["x"])), vec!["bio"]),
        (with("slug", json!("chosen")), vec!["slug"]),
        (
            with("password_hash", json!("$argon2id$")),
            vec!["password_hash"],
        ),
    ];
    for (body, fields) in cases {
        let res = app.post("/api/v1/users", Some(&token), &body).await;
        assert_eq!(res.status, 422, "{body}");
        assert_invalid(&res, &fields);
    }
    app.raw(
        "POST",
        "/api/v1/users",
        Some(&token),
        "application/json",
        b"{\"email\"".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw(
        "POST",
        "/api/v1/users",
        Some(&token),
        "text/plain",
        ok.to_string().into_bytes(),
    )
    .await
    .assert_problem(415);

    for role in [Role::Reader, Role::Author, Role::Editor] {
        let (_, t) = app.user(role).await;
        app.post("/api/v1/users", Some(&t), &ok)
            .await
            .assert_problem(403);
    }
    assert_unauthorized(&app.post("/api/v1/users", None, &ok).await);
    // Three users were made for the role checks; nothing else was written.
    assert_eq!(user_count(&app), before + 3);
    let none: i64 = users::table
        .filter(users::email.eq("x@example.com"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(none, 0);
});

// --------------------------------------------------------------------- get

db_test!(get_user_respects_roles, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (reader, reader_token) = app.user_named(Role::Reader, "Rita Reader").await;
    let (other, _) = app.user(Role::Editor).await;

    let res = app
        .get(&format!("/api/v1/users/{reader}"), Some(&admin))
        .await;
    res.assert_status(200);
    let user = res.json();
    assert_user_shape(&user);
    assert_eq!(user["id"], reader);
    assert_eq!(user["name"], "Rita Reader");
    assert_eq!(user["email"], email_of(&app, reader));
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );

    let res = app
        .get(&format!("/api/v1/users/{reader}"), Some(&reader_token))
        .await;
    res.assert_status(200);
    assert_eq!(res.json(), user);

    app.get(&format!("/api/v1/users/{other}"), Some(&reader_token))
        .await
        .assert_problem(403);
    // A missing user looks forbidden to non-admins, not found to admins.
    app.get("/api/v1/users/999999", Some(&reader_token))
        .await
        .assert_problem(403);
    let problem = app
        .get("/api/v1/users/999999", Some(&admin))
        .await
        .assert_problem(404);
    assert_eq!(problem["type"], "https://newsdesk.dev/problems/not-found");
    for bad in ["abc", "1.5", "99999999999999999999", "-"] {
        let problem = app
            .get(&format!("/api/v1/users/{bad}"), Some(&admin))
            .await
            .assert_problem(400);
        assert_eq!(problem["type"], "https://newsdesk.dev/problems/bad-request");
    }
    assert_unauthorized(&app.get(&format!("/api/v1/users/{reader}"), None).await);
});

// ------------------------------------------------------------------- patch

db_test!(users_update_their_own_profile, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user_named(Role::Reader, "Old Name").await;
    let before = stored_user(&app, id).unwrap();
    let path = format!("/api/v1/users/{id}");

    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"name": " New Name ", "bio": "Hello.", "avatar_url": "https://img.example.com/a.png"}),
        )
        .await;
    res.assert_status(200);
    let user = res.json();
    assert_user_shape(&user);
    assert_eq!(user["name"], "New Name");
    assert_eq!(user["slug"], "new-name");
    assert_eq!(user["bio"], "Hello.");
    assert_eq!(user["avatar_url"], "https://img.example.com/a.png");
    assert_eq!(user["role"], "reader");
    assert_eq!(user["email"], before.email);
    let row = stored_user(&app, id).unwrap();
    assert_eq!(row.name, "New Name");
    assert_eq!(row.slug, "new-name");
    assert_eq!(row.bio.as_deref(), Some("Hello."));
    assert_eq!(row.password_hash, before.password_hash);
    assert!(row.updated_at >= before.updated_at);
    assert_eq!(row.created_at, before.created_at);

    // Absent fields stay; null clears.
    let res = app.patch(&path, Some(&token), &json!({"bio": null})).await;
    res.assert_status(200);
    assert!(res.json()["bio"].is_null());
    assert_eq!(res.json()["avatar_url"], "https://img.example.com/a.png");
    let res = app
        .patch(&path, Some(&token), &json!({"avatar_url": null}))
        .await;
    res.assert_status(200);
    assert!(res.json()["avatar_url"].is_null());
    let row = stored_user(&app, id).unwrap();
    assert!(row.bio.is_none() && row.avatar_url.is_none());
    assert_eq!(row.name, "New Name");

    // An empty body changes nothing visible.
    let res = app.patch(&path, Some(&token), &json!({})).await;
    res.assert_status(200);
    assert_eq!(res.json()["name"], "New Name");

    // Own email: lowercased (a change needs the current password).
    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"email": "Me.New@Example.com", "current_password": DEFAULT_PASSWORD}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["email"], "me.new@example.com");
    assert_eq!(stored_user(&app, id).unwrap().email, "me.new@example.com");
});

db_test!(slug_follows_the_name_and_stays_unique, |backend| {
    let app = TestApp::spawn(backend).await;
    let (a, _) = app.user_named(Role::Author, "Jane Doe").await;
    let (b, b_token) = app.user_named(Role::Author, "Someone Else").await;
    let (c, _) = app.user_named(Role::Author, "Jane Doe 2").await;
    assert_eq!(stored_user(&app, a).unwrap().slug, "jane-doe");
    assert_eq!(stored_user(&app, c).unwrap().slug, "jane-doe-2");

    let path = format!("/api/v1/users/{b}");
    let res = app
        .patch(&path, Some(&b_token), &json!({"name": "Jane Doe"}))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["slug"], "jane-doe-3");
    // Same name again: the slug does not move.
    let res = app
        .patch(&path, Some(&b_token), &json!({"name": "Jane Doe"}))
        .await;
    assert_eq!(res.json()["slug"], "jane-doe-3");
    // A name with the same slug keeps it too.
    let res = app
        .patch(&path, Some(&b_token), &json!({"name": "JANE  doe"}))
        .await;
    assert_eq!(res.json()["slug"], "jane-doe-3");
    let res = app
        .patch(&path, Some(&b_token), &json!({"name": "Ünïcode Ñame"}))
        .await;
    assert_eq!(res.json()["slug"], "unicode-name");
    let res = app
        .patch(&path, Some(&b_token), &json!({"name": "!!!"}))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["slug"], "user");
    let slugs: Vec<String> = users::table
        .order(users::id)
        .select(users::slug)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(slugs, ["jane-doe", "user", "jane-doe-2"]);
});

db_test!(roles_are_changed_only_by_admins_for_others, |backend| {
    let app = TestApp::spawn(backend).await;
    let (admin, admin_token) = app.user(Role::Admin).await;
    let (_second_admin, _) = app.user(Role::Admin).await;
    let (reader, reader_token) = app.user(Role::Reader).await;
    let (editor, editor_token) = app.user(Role::Editor).await;

    // Nobody changes their own role, admins included.
    for (id, token) in [
        (admin, &admin_token),
        (reader, &reader_token),
        (editor, &editor_token),
    ] {
        let current = stored_user(&app, id).unwrap().role;
        let res = app
            .patch(
                &format!("/api/v1/users/{id}"),
                Some(token),
                &json!({"role": "admin"}),
            )
            .await;
        res.assert_problem(403);
        let res = app
            .patch(
                &format!("/api/v1/users/{id}"),
                Some(token),
                &json!({"role": "reader", "name": "Changed"}),
            )
            .await;
        res.assert_problem(403);
        let row = stored_user(&app, id).unwrap();
        assert_eq!(row.role, current);
        assert_ne!(row.name, "Changed");
    }
    // Non-admins change nothing of others.
    let res = app
        .patch(
            &format!("/api/v1/users/{reader}"),
            Some(&editor_token),
            &json!({"role": "author"}),
        )
        .await;
    res.assert_problem(403);
    let res = app
        .patch(
            &format!("/api/v1/users/{reader}"),
            Some(&editor_token),
            &json!({"name": "Hacked"}),
        )
        .await;
    res.assert_problem(403);
    assert_eq!(stored_user(&app, reader).unwrap().role, "reader");

    // An admin promotes the reader; the reader's sessions end.
    let session = issue_refresh(&app, reader);
    let bystander_session = issue_refresh(&app, editor);
    let res = app
        .patch(
            &format!("/api/v1/users/{reader}"),
            Some(&admin_token),
            &json!({"role": "author"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["role"], "author");
    assert_eq!(stored_user(&app, reader).unwrap().role, "author");
    for t in stored_tokens(&app, reader) {
        assert!(t.revoked_at.is_some(), "{t:?}");
    }
    assert_unauthorized(
        &app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": session}),
        )
        .await,
    );
    // Other users' sessions are untouched.
    let res = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": bystander_session}),
        )
        .await;
    res.assert_status(200);
    // After signing in again, the new role is in the token.
    let pair = login(&app, &email_of(&app, reader), DEFAULT_PASSWORD)
        .await
        .json();
    assert_eq!(pair["user"]["role"], "author");

    // Not a role at all.
    let res = app
        .patch(
            &format!("/api/v1/users/{reader}"),
            Some(&admin_token),
            &json!({"role": "owner"}),
        )
        .await;
    assert_invalid(&res, &["role"]);
    assert_eq!(stored_user(&app, reader).unwrap().role, "author");
});

db_test!(the_last_admin_cannot_be_demoted, |backend| {
    // A long account cache: this instance keeps acting on what it read, as
    // another instance would until its cache expires.
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_AUTH_CACHE_MS", "60000")]).await;
    let (a, a_token) = app.user(Role::Admin).await;
    let (b, _) = app.user(Role::Admin).await;
    app.get("/api/v1/users", Some(&a_token))
        .await
        .assert_status(200);
    // A is demoted through another instance (here: directly in the
    // database), so this instance still believes A is an admin; B is now
    // the last admin and must stay one: the database-side check holds.
    diesel::update(users::table.find(a))
        .set(users::role.eq("editor"))
        .execute(&mut *app.conn())
        .unwrap();
    let res = app
        .patch(
            &format!("/api/v1/users/{b}"),
            Some(&a_token),
            &json!({"role": "reader"}),
        )
        .await;
    let problem = res.assert_problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("last admin"));
    assert_eq!(stored_user(&app, b).unwrap().role, "admin");
    // Changing other fields of the last admin is fine.
    app.patch(
        &format!("/api/v1/users/{b}"),
        Some(&a_token),
        &json!({"role": "admin", "bio": "x"}),
    )
    .await
    .assert_status(200);
});

db_test!(changing_ones_password_needs_the_current_one, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user(Role::Author).await;
    let email = email_of(&app, id);
    let path = format!("/api/v1/users/{id}");
    let before = stored_user(&app, id).unwrap().password_hash;
    let session = issue_refresh(&app, id);
    let new_password = "an even longer passphrase";

    let res = app
        .patch(&path, Some(&token), &json!({"password": new_password}))
        .await;
    assert_invalid(&res, &["current_password"]);
    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"password": new_password, "current_password": "wrong password"}),
        )
        .await;
    assert_invalid(&res, &["current_password"]);
    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"password": "short", "current_password": DEFAULT_PASSWORD}),
        )
        .await;
    assert_invalid(&res, &["password"]);
    // A failed change also leaves every other field alone.
    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"name": "Changed", "password": new_password, "current_password": "wrong password"}),
        )
        .await;
    res.assert_problem(422);
    let row = stored_user(&app, id).unwrap();
    assert_eq!(row.password_hash, before);
    assert_ne!(row.name, "Changed");
    assert!(
        stored_tokens(&app, id)
            .iter()
            .all(|t| t.revoked_at.is_none())
    );

    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"password": new_password, "current_password": DEFAULT_PASSWORD}),
        )
        .await;
    res.assert_status(200);
    assert!(!String::from_utf8_lossy(&res.body).contains("password"));
    let row = stored_user(&app, id).unwrap();
    assert_ne!(row.password_hash, before);
    assert!(row.password_hash.starts_with("$argon2id$"));
    // Every session ends with the old password.
    assert!(
        stored_tokens(&app, id)
            .iter()
            .all(|t| t.revoked_at.is_some())
    );
    assert_unauthorized(
        &app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": session}),
        )
        .await,
    );
    assert_unauthorized(&login(&app, &email, DEFAULT_PASSWORD).await);
    login(&app, &email, new_password).await.assert_status(200);

    // An admin resets another user's password without knowing it.
    let (_, admin) = app.user(Role::Admin).await;
    app.patch(
        &path,
        Some(&admin),
        &json!({"password": "reset by the admin"}),
    )
    .await
    .assert_status(200);
    login(&app, &email, "reset by the admin")
        .await
        .assert_status(200);
});

db_test!(update_rejects_invalid_input_and_conflicts, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user(Role::Reader).await;
    let (other, _) = app.user(Role::Reader).await;
    let other_email = email_of(&app, other);
    let path = format!("/api/v1/users/{id}");
    let before = stored_user(&app, id).unwrap();

    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"avatar_url": "not a url"}), vec!["avatar_url"]),
        (
            json!({"avatar_url": "javascript:alert(1)"}),
            vec!["avatar_url"],
        ),
        (
            json!({"avatar_url": "ftp://files.example.com/a.png"}),
            vec!["avatar_url"],
        ),
        (json!({"avatar_url": 7}), vec!["avatar_url"]),
        (json!({"email": "nope"}), vec!["email"]),
        (json!({"email": null}), vec![]),
        (json!({"name": ""}), vec!["name"]),
        (json!({"name": "n".repeat(101)}), vec!["name"]),
        (json!({"bio": "b".repeat(2001)}), vec!["bio"]),
        (json!({"slug": "mine"}), vec!["slug"]),
        (json!({"password_hash": "x"}), vec!["password_hash"]),
        (json!({"id": 1}), vec!["id"]),
        (
            json!({"name": "Ok", "avatar_url": "nope", "email": "bad"}),
            vec!["email", "avatar_url"],
        ),
    ];
    for (body, fields) in cases {
        let res = app.patch(&path, Some(&token), &body).await;
        if fields.is_empty() {
            // null for a non-nullable field means "leave it".
            res.assert_status(200);
            continue;
        }
        assert_eq!(res.status, 422, "{body}");
        let problem = res.assert_problem(422);
        let mut got = crate::auth::problem_fields(&problem);
        let mut want: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{body}");
    }
    let res = app
        .patch(
            &path,
            Some(&token),
            &json!({"email": other_email.to_uppercase(), "name": "Clash",
                    "current_password": DEFAULT_PASSWORD}),
        )
        .await;
    let problem = res.assert_problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("email"));
    app.raw(
        "PATCH",
        &path,
        Some(&token),
        "application/json",
        b"{,}".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw("PATCH", &path, Some(&token), "text/plain", b"{}".to_vec())
        .await
        .assert_problem(415);
    let after = stored_user(&app, id).unwrap();
    assert_eq!(after.email, before.email);
    assert_eq!(after.name, before.name);
    assert_eq!(after.slug, before.slug);
    assert_eq!(after.bio, before.bio);
    assert_eq!(after.avatar_url, before.avatar_url);

    // Admins get 404 for a missing user; others 403; nobody 401 with a token.
    let (_, admin) = app.user(Role::Admin).await;
    app.patch("/api/v1/users/999999", Some(&admin), &json!({"name": "X"}))
        .await
        .assert_problem(404);
    app.patch("/api/v1/users/999999", Some(&token), &json!({"name": "X"}))
        .await
        .assert_problem(403);
    app.patch("/api/v1/users/x", Some(&admin), &json!({"name": "X"}))
        .await
        .assert_problem(400);
    assert_unauthorized(&app.patch(&path, None, &json!({"name": "X"})).await);
});

// ------------------------------------------------------------------ delete

db_test!(admin_deletes_a_user, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (victim, victim_token) = app.user(Role::Author).await;
    let session = issue_refresh(&app, victim);
    let res = app
        .delete(&format!("/api/v1/users/{victim}"), Some(&admin))
        .await;
    res.assert_status(204);
    assert!(res.body.is_empty());
    assert!(stored_user(&app, victim).is_none());
    let left: i64 = refresh_tokens::table
        .filter(refresh_tokens::user_id.eq(victim))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(left, 0);
    assert_unauthorized(
        &app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": session}),
        )
        .await,
    );
    assert_unauthorized(&app.get("/api/v1/auth/me", Some(&victim_token)).await);
    app.get(&format!("/api/v1/users/{victim}"), Some(&admin))
        .await
        .assert_problem(404);
    app.delete(&format!("/api/v1/users/{victim}"), Some(&admin))
        .await
        .assert_problem(404);
    app.delete("/api/v1/users/abc", Some(&admin))
        .await
        .assert_problem(400);
});

db_test!(users_delete_themselves_but_not_others, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, _admin) = app.user(Role::Admin).await;
    let (me, me_token) = app.user(Role::Reader).await;
    let (other, _) = app.user(Role::Reader).await;
    let (_, editor) = app.user(Role::Editor).await;

    app.delete(&format!("/api/v1/users/{other}"), Some(&me_token))
        .await
        .assert_problem(403);
    app.delete(&format!("/api/v1/users/{other}"), Some(&editor))
        .await
        .assert_problem(403);
    assert_unauthorized(&app.delete(&format!("/api/v1/users/{other}"), None).await);
    assert!(stored_user(&app, other).is_some());

    app.delete(&format!("/api/v1/users/{me}"), Some(&me_token))
        .await
        .assert_status(204);
    assert!(stored_user(&app, me).is_none());
    assert!(stored_user(&app, other).is_some());
});

db_test!(the_last_admin_cannot_be_deleted, |backend| {
    let app = TestApp::spawn(backend).await;
    let (a, a_token) = app.user(Role::Admin).await;
    let problem = app
        .delete(&format!("/api/v1/users/{a}"), Some(&a_token))
        .await
        .assert_problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("last admin"));
    assert!(stored_user(&app, a).is_some());

    // With a second admin, an admin may leave.
    let (b, b_token) = app.user(Role::Admin).await;
    app.delete(&format!("/api/v1/users/{a}"), Some(&a_token))
        .await
        .assert_status(204);
    // A's token died with A's account (it could otherwise remove B, now
    // the last admin); B cannot leave either.
    crate::auth::assert_unauthorized(
        &app.delete(&format!("/api/v1/users/{b}"), Some(&a_token))
            .await,
    );
    app.delete(&format!("/api/v1/users/{b}"), Some(&b_token))
        .await
        .assert_problem(409);
    assert!(stored_user(&app, b).is_some());
});

db_test!(delete_refuses_authors_with_articles, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (author, _) = app.user(Role::Author).await;
    let article = stored_article(&app, author, "kept-article");
    let problem = app
        .delete(&format!("/api/v1/users/{author}"), Some(&admin))
        .await
        .assert_problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("articles"));
    assert!(stored_user(&app, author).is_some());
    diesel::delete(articles::table.find(article))
        .execute(&mut *app.conn())
        .unwrap();
    app.delete(&format!("/api/v1/users/{author}"), Some(&admin))
        .await
        .assert_status(204);
});

db_test!(delete_keeps_comment_counts_exact, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, admin) = app.user(Role::Admin).await;
    let (author, _) = app.user(Role::Author).await;
    let (leaving, _) = app.user(Role::Reader).await;
    let (staying, _) = app.user(Role::Reader).await;
    let article = stored_article(&app, author, "discussed");
    let other_article = stored_article(&app, author, "also-discussed");

    // The leaving user's comments, one pending, and other people's replies to
    // them (which go with them), down two levels.
    let c1 = stored_comment(&app, article, leaving, None, "approved");
    let _ = stored_comment(&app, article, leaving, None, "pending");
    let r1 = stored_comment(&app, article, staying, Some(c1), "approved");
    let _ = stored_comment(&app, article, author, Some(r1), "approved");
    let _ = stored_comment(&app, article, staying, Some(c1), "pending");
    // Unrelated comments stay.
    let _ = stored_comment(&app, article, staying, None, "approved");
    let _ = stored_comment(&app, other_article, staying, None, "approved");
    let _ = stored_comment(&app, other_article, leaving, None, "approved");

    let count = |id: i64| -> i64 {
        articles::table
            .find(id)
            .select(articles::comment_count)
            .first(&mut *app.conn())
            .unwrap()
    };
    assert_eq!((count(article), count(other_article)), (4, 2));

    app.delete(&format!("/api/v1/users/{leaving}"), Some(&admin))
        .await
        .assert_status(204);

    let approved_left = |id: i64| -> i64 {
        comments::table
            .filter(comments::article_id.eq(id))
            .filter(comments::status.eq("approved"))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(approved_left(article), 1);
    assert_eq!(approved_left(other_article), 1);
    assert_eq!(count(article), approved_left(article));
    assert_eq!(count(other_article), approved_left(other_article));
});

// -------------------------------------------------------------- first admin

db_test!(the_first_admin_comes_from_the_environment, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_ADMIN_EMAIL", "Boss@Example.com"),
            ("NEWSDESK_ADMIN_PASSWORD", "the boss's passphrase"),
        ],
    )
    .await;
    assert_eq!(user_count(&app), 1);
    let res = login(&app, "boss@example.com", "the boss's passphrase").await;
    res.assert_status(200);
    let user = res.json()["user"].clone();
    assert_eq!(user["role"], "admin");
    assert_eq!(user["email"], "boss@example.com");
    let token = res.json()["access_token"].as_str().unwrap().to_string();
    app.get("/api/v1/users", Some(&token))
        .await
        .assert_status(200);
});

db_test!(concurrent_removals_always_leave_an_admin, |backend| {
    let app = TestApp::spawn(backend).await;
    // Two admins remove each other at the same moment; at most one may win.
    for round in 0..24 {
        let (a, a_token) = app.user(Role::Admin).await;
        let (b, b_token) = app.user(Role::Admin).await;
        diesel::update(users::table.filter(users::id.ne_all(vec![a, b])))
            .set(users::role.eq("reader"))
            .execute(&mut *app.conn())
            .unwrap();
        let (pa, pb) = (format!("/api/v1/users/{a}"), format!("/api/v1/users/{b}"));
        let demote = json!({"role": "reader"});
        let (ra, rb) = match round % 3 {
            0 => {
                futures_util::future::join(
                    app.patch(&pa, Some(&b_token), &demote),
                    app.patch(&pb, Some(&a_token), &demote),
                )
                .await
            }
            1 => {
                futures_util::future::join(
                    app.delete(&pa, Some(&b_token)),
                    app.delete(&pb, Some(&a_token)),
                )
                .await
            }
            _ => {
                futures_util::future::join(
                    app.patch(&pa, Some(&b_token), &demote),
                    app.delete(&pb, Some(&a_token)),
                )
                .await
            }
        };
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        // The loser is refused: 409 if it still acted as an admin, or (the
        // role being checked on every request) 403/401 if the winner's
        // demotion or deletion of it came first.
        assert!(
            matches!(statuses[1], 401 | 403 | 409),
            "round {round}: {statuses:?}"
        );
        assert!(statuses[0] == 200 || statuses[0] == 204, "{statuses:?}");
        let admins: i64 = users::table
            .filter(users::role.eq("admin"))
            .count()
            .get_result(&mut *app.conn())
            .unwrap();
        assert_eq!(admins, 1, "round {round}");
    }
});

db_test!(
    concurrent_accounts_with_one_name_get_distinct_slugs,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let app = &app;
        let signups = (0..8).map(|i| async move {
        let body = json!({"email": format!("same{i}@example.com"), "password": PASSWORD, "name": "Same Name"});
        app.post("/api/v1/auth/register", None, &body).await
    });
        let mut slugs = Vec::new();
        for res in futures_util::future::join_all(signups).await {
            res.assert_status(201);
            slugs.push(res.json()["slug"].as_str().unwrap().to_string());
        }
        let (_, admin) = app.user(Role::Admin).await;
        let mut others = Vec::new();
        for _ in 0..8 {
            others.push(app.user(Role::Reader).await.0);
        }
        let admin = admin.as_str();
        let renames = others.iter().map(|id| async move {
            app.patch(
                &format!("/api/v1/users/{id}"),
                Some(admin),
                &json!({"name": "Same Name"}),
            )
            .await
        });
        for res in futures_util::future::join_all(renames).await {
            res.assert_status(200);
            slugs.push(res.json()["slug"].as_str().unwrap().to_string());
        }
        slugs.sort();
        let mut expected: Vec<String> = (2..=16).map(|n| format!("same-name-{n}")).collect();
        expected.push("same-name".into());
        expected.sort();
        assert_eq!(slugs, expected);
    }
);
