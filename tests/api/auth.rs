//! `/auth`: sign-up, sign-in, refresh-token rotation, sign-out and `/auth/me`,
//! including every way a token can be wrong.

use std::time::Duration;

use base64::Engine;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use newsdesk::auth::Role;
use newsdesk::db::schema::{refresh_tokens, users};
use newsdesk::users::queries::UserRow;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{DEFAULT_PASSWORD, Res, TEST_SECRET, TestApp};

pub const PASSWORD: &str = "a long passphrase";

/// The fields of a validation problem, in order.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts a 422 naming exactly these fields.
#[track_caller]
pub fn assert_invalid(res: &Res, fields: &[&str]) -> Value {
    let problem = res.assert_problem(422);
    assert_eq!(
        problem["type"], "https://newsdesk.dev/problems/validation",
        "{problem}"
    );
    assert_eq!(problem_fields(&problem), fields, "{problem}");
    for e in problem["errors"].as_array().unwrap() {
        assert!(!e["message"].as_str().unwrap().is_empty(), "{problem}");
    }
    problem
}

/// Asserts a 401 with `WWW-Authenticate: Bearer`.
#[track_caller]
pub fn assert_unauthorized(res: &Res) -> Value {
    let problem = res.assert_problem(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    assert_eq!(
        problem["type"],
        "https://newsdesk.dev/problems/unauthorized"
    );
    problem
}

/// The exact key set of a user object as the API shows it.
#[track_caller]
pub fn assert_user_shape(user: &Value) {
    let mut keys: Vec<&str> = user
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {user}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avatar_url",
            "bio",
            "created_at",
            "email",
            "id",
            "name",
            "role",
            "slug",
            "updated_at"
        ],
        "{user}"
    );
    for field in ["created_at", "updated_at"] {
        let t = user[field].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{field} is not RFC 3339 UTC: {t}"
        );
    }
}

pub fn stored_user(app: &TestApp, id: i64) -> Option<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(&mut *app.conn())
        .optional()
        .unwrap()
}

pub fn user_count(app: &TestApp) -> i64 {
    users::table.count().get_result(&mut *app.conn()).unwrap()
}

#[derive(Debug, Queryable)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Every stored refresh token of a user, oldest first.
pub fn stored_tokens(app: &TestApp, user_id: i64) -> Vec<TokenRow> {
    refresh_tokens::table
        .filter(refresh_tokens::user_id.eq(user_id))
        .order(refresh_tokens::id.asc())
        .select(refresh_tokens::all_columns)
        .load(&mut *app.conn())
        .unwrap()
}

/// A refresh token made directly in the database (no password hashing).
pub fn issue_refresh(app: &TestApp, user_id: i64) -> String {
    newsdesk::auth::tokens::issue(&mut app.conn(), user_id, None, Duration::from_secs(3600))
        .unwrap()
}

pub async fn register(app: &TestApp, email: &str, name: &str) -> Value {
    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": email, "password": PASSWORD, "name": name}),
        )
        .await;
    res.assert_status(201);
    res.json()
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> Res {
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": email, "password": password}),
    )
    .await
}

/// The email of a user made with `app.user(...)`.
pub fn email_of(app: &TestApp, id: i64) -> String {
    stored_user(app, id).unwrap().email
}

fn jwt(alg: Algorithm, key: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

fn claims(sub: &str, role: &str, iat: i64, exp: i64) -> Value {
    json!({"sub": sub, "role": role, "iat": iat, "exp": exp})
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// ---------------------------------------------------------------- register

db_test!(register_creates_a_reader, |backend| {
    let app = TestApp::spawn(backend).await;
    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "  Jane.Doe@Example.COM ", "password": PASSWORD, "name": " Jane Doe "}),
        )
        .await;
    res.assert_status(201);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let user = res.json();
    assert_user_shape(&user);
    let id = user["id"].as_i64().unwrap();
    assert_eq!(
        res.header("location").as_deref(),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    assert_eq!(user["email"], "jane.doe@example.com");
    assert_eq!(user["name"], "Jane Doe");
    assert_eq!(user["slug"], "jane-doe");
    assert_eq!(user["role"], "reader");
    assert!(user["bio"].is_null() && user["avatar_url"].is_null());
    assert_eq!(user["created_at"], user["updated_at"]);

    let row = stored_user(&app, id).unwrap();
    assert_eq!(row.email, "jane.doe@example.com");
    assert_eq!(row.name, "Jane Doe");
    assert_eq!(row.role, "reader");
    assert!(
        row.password_hash.starts_with("$argon2id$"),
        "{}",
        row.password_hash
    );
    assert!(!row.password_hash.contains(PASSWORD));
    // Signing up does not sign in.
    assert!(stored_tokens(&app, id).is_empty());

    // A second sign-up with the same name gets its own slug.
    let other = register(&app, "jane2@example.com", "Jane Doe").await;
    assert_eq!(other["slug"], "jane-doe-2");
    assert_eq!(other["role"], "reader");
});

db_test!(
    register_rejects_a_taken_email_case_insensitively,
    |backend| {
        let app = TestApp::spawn(backend).await;
        register(&app, "taken@example.com", "First").await;
        for email in [
            "taken@example.com",
            "TAKEN@Example.com",
            " Taken@EXAMPLE.COM ",
        ] {
            let res = app
                .post(
                    "/api/v1/auth/register",
                    None,
                    &json!({"email": email, "password": PASSWORD, "name": "Second"}),
                )
                .await;
            let problem = res.assert_problem(409);
            assert_eq!(problem["type"], "https://newsdesk.dev/problems/conflict");
            assert!(
                problem["detail"].as_str().unwrap().contains("email"),
                "{problem}"
            );
        }
        assert_eq!(user_count(&app), 1);
        let stored: Vec<String> = users::table
            .select(users::name)
            .load(&mut *app.conn())
            .unwrap();
        assert_eq!(stored, ["First"]);
    }
);

db_test!(register_is_forbidden_when_closed, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_REGISTRATION", "closed")]).await;
    let res = app
        .post(
            "/api/v1/auth/register",
            None,
            &json!({"email": "a@example.com", "password": PASSWORD, "name": "A"}),
        )
        .await;
    let problem = res.assert_problem(403);
    assert_eq!(problem["type"], "https://newsdesk.dev/problems/forbidden");
    assert!(problem["detail"].as_str().unwrap().contains("closed"));
    assert_eq!(user_count(&app), 0);
    // Signing in still works for existing accounts.
    let (id, _) = app.user(Role::Editor).await;
    login(&app, &email_of(&app, id), DEFAULT_PASSWORD)
        .await
        .assert_status(200);
});

db_test!(register_validates_every_field, |backend| {
    let app = TestApp::spawn(backend).await;
    let long_name = "n".repeat(101);
    let long_password = "p".repeat(1025);
    let long_email = format!("{}@example.com", "e".repeat(250));
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"email": "a@example.com", "password": "short", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": "123456789", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": long_password, "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "a@b", "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "a b@example.com", "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "", "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": long_email, "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "   "}),
            vec!["name"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": long_name}),
            vec!["name"],
        ),
        // Every invalid field at once, in the order of the body.
        (
            json!({"email": "nope", "password": "x", "name": ""}),
            vec!["email", "password", "name"],
        ),
        // Missing fields are named.
        (json!({"password": PASSWORD, "name": "A"}), vec!["email"]),
        (
            json!({"email": "a@example.com", "name": "A"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD}),
            vec!["name"],
        ),
        // Wrong types.
        (
            json!({"email": 5, "password": PASSWORD, "name": "A"}),
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": ["A"]}),
            vec!["name"],
        ),
        (
            json!({"email": "a@example.com", "password": null, "name": "A"}),
            vec!["password"],
        ),
        // Unknown fields, including an attempt to pick one's own role.
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "A", "role": "admin"}),
            vec!["role"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "A", "nickname": "x"}),
            vec!["nickname"],
        ),
        // Not an object at all.
        (json!(["a@example.com", PASSWORD, "A"]), vec!["body"]),
    ];
    for (body, fields) in cases {
        let res = app.post("/api/v1/auth/register", None, &body).await;
        assert_eq!(
            res.status,
            422,
            "{body}: {}",
            String::from_utf8_lossy(&res.body)
        );
        assert_invalid(&res, &fields);
    }
    assert_eq!(user_count(&app), 0);
});

db_test!(register_rejects_bad_bodies, |backend| {
    let app = TestApp::spawn_with(backend, &[("NEWSDESK_MAX_BODY_BYTES", "1024")]).await;
    let path = "/api/v1/auth/register";

    let trailing =
        format!(r#"{{"email": "a@example.com", "password": "{PASSWORD}", "name": "A"}} x"#);
    for raw in [
        &b"{\"email\": "[..],
        b"",
        b"   ",
        b"{'email': 'a'}",
        trailing.as_bytes(),
        b"{\"email\": \"a@example.com\",}",
    ] {
        let res = app
            .raw("POST", path, None, "application/json", raw.to_vec())
            .await;
        let problem = res.assert_problem(400);
        assert_eq!(problem["type"], "https://newsdesk.dev/problems/bad-request");
    }

    let valid =
        serde_json::to_vec(&json!({"email": "a@example.com", "password": PASSWORD, "name": "A"}))
            .unwrap();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "text/json-ish",
    ] {
        let res = app
            .raw("POST", path, None, content_type, valid.clone())
            .await;
        let problem = res.assert_problem(415);
        assert_eq!(
            problem["type"],
            "https://newsdesk.dev/problems/unsupported-media-type"
        );
    }
    // No content type at all.
    app.request("POST", path, None, None, &[])
        .await
        .assert_problem(415);

    let big = json!({"email": "a@example.com", "password": PASSWORD, "name": "A".repeat(2000)});
    let res = app.post(path, None, &big).await;
    let problem = res.assert_problem(413);
    assert_eq!(
        problem["type"],
        "https://newsdesk.dev/problems/payload-too-large"
    );

    assert_eq!(user_count(&app), 0);
    // The limit leaves ordinary bodies alone.
    app.raw("POST", path, None, "application/json; charset=utf-8", valid)
        .await
        .assert_status(201);
});

// ------------------------------------------------------------------- login

db_test!(login_returns_a_token_pair, |backend| {
    let app = TestApp::spawn(backend).await;
    let user = register(&app, "reader@example.com", "Reader").await;
    let id = user["id"].as_i64().unwrap();

    let res = login(&app, " READER@Example.com", PASSWORD).await;
    res.assert_status(200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let body = res.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "token_type",
            "user"
        ]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_user_shape(&body["user"]);
    assert_eq!(body["user"]["id"], id);
    assert_eq!(body["user"]["email"], "reader@example.com");
    assert!(!String::from_utf8_lossy(&res.body).contains("argon2"));

    // The access token is an HS256 JWT for this user and role.
    let access = body["access_token"].as_str().unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let decoded = jsonwebtoken::decode::<Value>(
        access,
        &jsonwebtoken::DecodingKey::from_secret(TEST_SECRET.as_bytes()),
        &validation,
    )
    .unwrap();
    assert_eq!(decoded.header.alg, Algorithm::HS256);
    assert_eq!(decoded.claims["sub"], id.to_string());
    assert_eq!(decoded.claims["role"], "reader");
    let (iat, exp) = (
        decoded.claims["iat"].as_i64().unwrap(),
        decoded.claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 900);
    assert!((iat - Utc::now().timestamp()).abs() < 60);

    let me = app.get("/api/v1/auth/me", Some(access)).await;
    me.assert_status(200);
    assert_eq!(me.json()["id"], id);

    // The refresh token is stored only as a hash, with a 30-day expiry.
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.len() >= 40, "{refresh}");
    let tokens = stored_tokens(&app, id);
    assert_eq!(tokens.len(), 1);
    let t = &tokens[0];
    assert!(t.id > 0);
    assert_eq!(t.user_id, id);
    assert_eq!(t.token_hash, newsdesk::auth::tokens::hash(refresh));
    assert_ne!(t.token_hash, refresh);
    assert!(t.rotated_at.is_none() && t.revoked_at.is_none());
    let ttl = (t.expires_at - t.created_at).num_seconds();
    assert_eq!(ttl, 30 * 86400);
    assert!((t.created_at.and_utc().timestamp() - Utc::now().timestamp()).abs() < 60);

    // Two sign-ins are two independent sessions.
    let second = login(&app, "reader@example.com", PASSWORD).await;
    second.assert_status(200);
    assert_ne!(second.json()["refresh_token"], body["refresh_token"]);
    let tokens = stored_tokens(&app, id);
    assert_eq!(tokens.len(), 2);
    assert_ne!(tokens[0].family_id, tokens[1].family_id);
});

db_test!(login_failures_look_the_same, |backend| {
    let app = TestApp::spawn(backend).await;
    let user = register(&app, "known@example.com", "Known").await;
    let id = user["id"].as_i64().unwrap();

    let wrong_password = login(&app, "known@example.com", "not the password").await;
    let unknown_email = login(&app, "unknown@example.com", PASSWORD).await;
    let wrong_case_password = login(&app, "known@example.com", &PASSWORD.to_uppercase()).await;
    let empty = login(&app, "", "").await;
    for res in [
        &wrong_password,
        &unknown_email,
        &wrong_case_password,
        &empty,
    ] {
        assert_unauthorized(res);
        assert_eq!(res.body, wrong_password.body, "bodies must be identical");
    }
    assert!(
        !String::from_utf8_lossy(&unknown_email.body).contains("unknown@"),
        "the answer must not echo the email"
    );
    assert!(stored_tokens(&app, id).is_empty());
    // A NUL in any text input is refused naming the field (the contract),
    // before any account is looked up.
    let nul_email = login(&app, "known\u{0}@example.com", PASSWORD).await;
    let problem = nul_email.assert_problem(422);
    assert_eq!(problem["errors"][0]["field"], "email");

    // Malformed requests are not 401s.
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "known@example.com"}),
        )
        .await;
    assert_invalid(&res, &["password"]);
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "known@example.com", "password": PASSWORD, "remember": true}),
        )
        .await;
    assert_invalid(&res, &["remember"]);
    app.raw(
        "POST",
        "/api/v1/auth/login",
        None,
        "application/json",
        b"{".to_vec(),
    )
    .await
    .assert_problem(400);
    app.raw(
        "POST",
        "/api/v1/auth/login",
        None,
        "text/plain",
        b"{}".to_vec(),
    )
    .await
    .assert_problem(415);
    assert!(stored_tokens(&app, id).is_empty());
});

// ----------------------------------------------------------------- refresh

db_test!(refresh_rotates_the_token, |backend| {
    let app = TestApp::spawn(backend).await;
    let user = register(&app, "r@example.com", "R").await;
    let id = user["id"].as_i64().unwrap();
    let first = login(&app, "r@example.com", PASSWORD).await.json();
    let r1 = first["refresh_token"].as_str().unwrap().to_string();

    let res = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    res.assert_status(200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let second = res.json();
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 900);
    assert_user_shape(&second["user"]);
    assert_eq!(second["user"]["id"], id);
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    app.get("/api/v1/auth/me", second["access_token"].as_str())
        .await
        .assert_status(200);

    let tokens = stored_tokens(&app, id);
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0].token_hash, newsdesk::auth::tokens::hash(&r1));
    assert!(tokens[0].rotated_at.is_some());
    assert!(tokens[0].revoked_at.is_none());
    assert_eq!(tokens[1].token_hash, newsdesk::auth::tokens::hash(&r2));
    assert_eq!(tokens[1].family_id, tokens[0].family_id);
    assert!(tokens[1].rotated_at.is_none() && tokens[1].revoked_at.is_none());

    // The newest token keeps rotating.
    let third = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r2}))
        .await;
    third.assert_status(200);
    assert_eq!(stored_tokens(&app, id).len(), 3);
});

db_test!(reusing_a_rotated_token_revokes_the_family, |backend| {
    let app = TestApp::spawn(backend).await;
    let user = register(&app, "victim@example.com", "Victim").await;
    let id = user["id"].as_i64().unwrap();
    let session = login(&app, "victim@example.com", PASSWORD).await.json();
    let other_session = login(&app, "victim@example.com", PASSWORD).await.json();
    let r1 = session["refresh_token"].as_str().unwrap().to_string();
    let r2 = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await
        .json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // r1 was rotated: presenting it again means it leaked.
    let res = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    assert_unauthorized(&res);
    // ...so the newest token of that family is dead too.
    let res = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r2}))
        .await;
    assert_unauthorized(&res);

    let family = stored_tokens(&app, id)
        .into_iter()
        .find(|t| t.token_hash == newsdesk::auth::tokens::hash(&r1))
        .unwrap()
        .family_id;
    let tokens = stored_tokens(&app, id);
    assert_eq!(tokens.len(), 3, "no new token was issued");
    for t in &tokens {
        if t.family_id == family {
            assert!(t.revoked_at.is_some(), "{t:?}");
        } else {
            assert!(t.revoked_at.is_none(), "{t:?}");
        }
    }
    // Another sign-in of the same user is unaffected.
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": other_session["refresh_token"]}),
    )
    .await
    .assert_status(200);
});

db_test!(refresh_rejects_expired_and_unknown_tokens, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.user(Role::Author).await;
    let token = issue_refresh(&app, id);
    diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq(id)))
        .set(refresh_tokens::expires_at.eq(newsdesk::time::now() - chrono::Duration::seconds(1)))
        .execute(&mut *app.conn())
        .unwrap();
    let res = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": token}),
        )
        .await;
    let problem = assert_unauthorized(&res);
    assert!(!problem["detail"].as_str().unwrap().contains(&token));
    let tokens = stored_tokens(&app, id);
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].rotated_at.is_none());

    for bad in ["", "garbage", "a".repeat(5000).as_str()] {
        let res = app
            .post("/api/v1/auth/refresh", None, &json!({"refresh_token": bad}))
            .await;
        assert_unauthorized(&res);
    }
    // An access token is not a refresh token.
    let (_, access) = app.user(Role::Reader).await;
    assert_unauthorized(
        &app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": access}),
        )
        .await,
    );

    assert_invalid(
        &app.post("/api/v1/auth/refresh", None, &json!({})).await,
        &["refresh_token"],
    );
    assert_invalid(
        &app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": 42}))
            .await,
        &["refresh_token"],
    );
    app.raw(
        "POST",
        "/api/v1/auth/refresh",
        None,
        "application/json",
        b"nope".to_vec(),
    )
    .await
    .assert_problem(400);
    assert_eq!(stored_tokens(&app, id).len(), 1);
});

db_test!(token_lifetimes_follow_the_configuration, |backend| {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("NEWSDESK_ACCESS_TTL", "90s"),
            ("NEWSDESK_REFRESH_TTL", "2h"),
        ],
    )
    .await;
    let (id, _) = app.user(Role::Reader).await;
    let pair = login(&app, &email_of(&app, id), DEFAULT_PASSWORD)
        .await
        .json();
    assert_eq!(pair["expires_in"], 90);
    let payload = pair["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        90
    );
    let t = &stored_tokens(&app, id)[0];
    assert_eq!((t.expires_at - t.created_at).num_seconds(), 7200);
});

// ------------------------------------------------------------------ logout

db_test!(logout_revokes_the_session, |backend| {
    let app = TestApp::spawn(backend).await;
    let user = register(&app, "out@example.com", "Out").await;
    let id = user["id"].as_i64().unwrap();
    let pair = login(&app, "out@example.com", PASSWORD).await.json();
    let other = login(&app, "out@example.com", PASSWORD).await.json();

    let res = app
        .post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    res.assert_status(204);
    assert!(res.body.is_empty());

    let hash = newsdesk::auth::tokens::hash(pair["refresh_token"].as_str().unwrap());
    for t in stored_tokens(&app, id) {
        assert_eq!(t.revoked_at.is_some(), t.token_hash == hash, "{t:?}");
    }
    assert_unauthorized(
        &app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": pair["refresh_token"]}),
        )
        .await,
    );
    // The other session lives on.
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": other["refresh_token"]}),
    )
    .await
    .assert_status(200);

    assert_unauthorized(
        &app.post(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": "never-issued"}),
        )
        .await,
    );
    assert_invalid(
        &app.post("/api/v1/auth/logout", None, &json!({})).await,
        &["refresh_token"],
    );
    app.request("POST", "/api/v1/auth/logout", None, None, &[])
        .await
        .assert_problem(415);
});

db_test!(
    logout_with_a_rotated_token_ends_the_whole_session,
    |backend| {
        let app = TestApp::spawn(backend).await;
        let (id, _) = app.user(Role::Reader).await;
        let r1 = issue_refresh(&app, id);
        let r2 = app
            .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
            .await
            .json()["refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
        app.post("/api/v1/auth/logout", None, &json!({"refresh_token": r2}))
            .await
            .assert_status(204);
        for t in stored_tokens(&app, id) {
            assert!(t.revoked_at.is_some(), "{t:?}");
        }
        assert_unauthorized(
            &app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": r2}))
                .await,
        );
    }
);

// ---------------------------------------------------------------------- me

db_test!(me_returns_the_caller, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user_named(Role::Editor, "Ed Itor").await;
    let res = app.get("/api/v1/auth/me", Some(&token)).await;
    res.assert_status(200);
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    assert!(res.header("etag").is_some());
    let me = res.json();
    assert_user_shape(&me);
    assert_eq!(me["id"], id);
    assert_eq!(me["name"], "Ed Itor");
    assert_eq!(me["slug"], "ed-itor");
    assert_eq!(me["role"], "editor");
    assert_eq!(me["email"], email_of(&app, id));

    // The scheme is case-insensitive (RFC 9110).
    app.request(
        "GET",
        "/api/v1/auth/me",
        None,
        None,
        &[("Authorization", &format!("bearer {token}"))],
    )
    .await
    .assert_status(200);
});

db_test!(me_needs_a_well_formed_token, |backend| {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.user(Role::Reader).await;

    let res = app.get("/api/v1/auth/me", None).await;
    assert_unauthorized(&res);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));

    for header in [
        String::new(),
        "Bearer".to_string(),
        "Bearer ".to_string(),
        "Token abc".to_string(),
        format!("Basic {}", b64(b"user:pass")),
        format!("Token {token}"),
        token.clone(),
        "Bearer not.a.jwt".to_string(),
        "Bearer a b c".to_string(),
        format!("Bearer {token}x"),
    ] {
        let res = app
            .request(
                "GET",
                "/api/v1/auth/me",
                None,
                None,
                &[("Authorization", header.as_str())],
            )
            .await;
        assert_eq!(res.status, 401, "Authorization: {header}");
        assert_unauthorized(&res);
    }
});

db_test!(me_rejects_bad_tokens, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, _) = app.user(Role::Admin).await;
    let sub = id.to_string();
    let now = Utc::now().timestamp();
    let secret = TEST_SECRET.as_bytes();

    let good = jwt(
        Algorithm::HS256,
        secret,
        &claims(&sub, "admin", now, now + 600),
    );
    app.get("/api/v1/auth/me", Some(&good))
        .await
        .assert_status(200);

    let header_none = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64(claims(&sub, "admin", now, now + 600).to_string().as_bytes());
    let good_signature = good.rsplit('.').next().unwrap();

    let cases = [
        (
            "expired",
            jwt(
                Algorithm::HS256,
                secret,
                &claims(&sub, "admin", now - 7200, now - 3600),
            ),
        ),
        (
            "wrong key",
            jwt(
                Algorithm::HS256,
                b"another-secret-another-secret-0123456789",
                &claims(&sub, "admin", now, now + 600),
            ),
        ),
        ("alg none", format!("{header_none}.{body}.")),
        (
            "alg none with a signature",
            format!("{header_none}.{body}.{good_signature}"),
        ),
        (
            "HS512 with the right key",
            jwt(
                Algorithm::HS512,
                secret,
                &claims(&sub, "admin", now, now + 600),
            ),
        ),
        (
            "HS384 with the right key",
            jwt(
                Algorithm::HS384,
                secret,
                &claims(&sub, "admin", now, now + 600),
            ),
        ),
        (
            "unknown role",
            jwt(
                Algorithm::HS256,
                secret,
                &claims(&sub, "superuser", now, now + 600),
            ),
        ),
        (
            "non-numeric subject",
            jwt(
                Algorithm::HS256,
                secret,
                &claims("me", "admin", now, now + 600),
            ),
        ),
        (
            "no expiry",
            jwt(
                Algorithm::HS256,
                secret,
                &json!({"sub": sub, "role": "admin", "iat": now}),
            ),
        ),
        ("payload swapped under a valid signature", {
            let mut parts: Vec<&str> = good.split('.').collect();
            let forged = b64(claims(&sub, "admin", now, now + 60_000)
                .to_string()
                .as_bytes());
            parts[1] = &forged;
            parts.join(".")
        }),
    ];
    for (what, token) in cases {
        let res = app.get("/api/v1/auth/me", Some(&token)).await;
        assert_eq!(res.status, 401, "{what}");
        let problem = assert_unauthorized(&res);
        if what == "expired" {
            assert!(
                problem["detail"].as_str().unwrap().contains("expired"),
                "{problem}"
            );
        }
    }
    // A bad token is rejected everywhere, never treated as anonymous.
    let expired = jwt(
        Algorithm::HS256,
        secret,
        &claims(&sub, "admin", now - 7200, now - 3600),
    );
    assert_unauthorized(&app.get("/api/v1/users", Some(&expired)).await);
});

db_test!(me_rejects_a_deleted_users_token, |backend| {
    let app = TestApp::spawn(backend).await;
    let (id, token) = app.user(Role::Author).await;
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .assert_status(200);
    diesel::delete(users::table.find(id))
        .execute(&mut *app.conn())
        .unwrap();
    let res = app.get("/api/v1/auth/me", Some(&token)).await;
    assert_unauthorized(&res);
});
