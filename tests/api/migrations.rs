//! Migrations that rebuild a table must keep everything stored in it and
//! around it: rows, ids, the id counter, links, full-text search, triggers
//! and foreign keys.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use newsdesk::auth::Role;
use newsdesk::db::Backend;
use serde_json::json;

use crate::content::{create, id, ids};
use crate::helpers::TestApp;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .expect(sql)
        .n
}

/// SQLite only: PostgreSQL keeps long texts out of line, and its migration
/// of the same name adds an index only (which every PostgreSQL test uses).
#[actix_web::test]
async fn narrow_article_rows_rebuild_keeps_rows_ids_search_triggers_and_keys() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, editor) = app.user(Role::Editor).await;
    let first = create(
        &app,
        &editor,
        json!({"title": "Harbour reopens", "body": "The harbour reopened after the storm.",
               "status": "published", "tags": ["ports", "weather"]}),
    )
    .await;
    let second = create(
        &app,
        &editor,
        json!({"title": "Budget passes", "body": "Parliament passed the budget.",
               "status": "published", "tags": ["politics"]}),
    )
    .await;
    let third = create(
        &app,
        &editor,
        json!({"title": "Short-lived", "body": "Deleted soon.", "status": "published"}),
    )
    .await;
    let comment = app
        .post(
            &format!("/api/v1/articles/{}/comments", id(&first)),
            Some(&editor),
            &json!({"body": "Good news for the fishermen."}),
        )
        .await;
    comment.assert_status(201);
    // The newest id is gone: a new article must still not reuse it.
    app.delete(&format!("/api/v1/articles/{}", id(&third)), Some(&editor))
        .await
        .assert_status(204);
    let before = app.get("/api/v1/articles?include=body", None).await.json();
    app.stop().await;

    // The rebuild once more, now over stored rows: revert the migration
    // (its down step keeps the layout) and apply it again.
    let path = app.db_url.trim_start_matches("sqlite://").to_string();
    let mut conn = SqliteConnection::establish(&path).expect("open the test database");
    let migrations = FileBasedMigrations::from_path(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .expect("migrations");
    let reverted = conn
        .revert_last_migration(migrations.clone())
        .expect("revert")
        .to_string();
    assert_eq!(reverted, "20261208000100");
    let applied = conn.run_pending_migrations(migrations).expect("apply");
    assert_eq!(applied.len(), 1);
    // The long texts are the row's last columns.
    let columns: Vec<String> =
        diesel::sql_query("SELECT name FROM pragma_table_info('articles') ORDER BY cid")
            .load::<Name>(&mut conn)
            .expect("columns")
            .into_iter()
            .map(|c| c.name)
            .collect();
    assert_eq!(
        columns[columns.len() - 3..],
        ["body", "body_html", "body_text"]
    );
    assert_eq!(columns.len(), 25);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM pragma_foreign_key_check"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM pragma_integrity_check WHERE integrity_check = 'ok'"
        ),
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM sqlite_master WHERE name = 'articles_new'"
        ),
        0
    );
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)").ok();
    drop(conn);

    let app2 = app.spawn_sharing(&[]).await;
    // The same articles, fields, tags and counters.
    let after = app2.get("/api/v1/articles?include=body", None).await.json();
    assert_eq!(after["data"], before["data"]);
    assert_eq!(after["meta"]["total"], 2);
    // Full-text search still finds body words, and follows edits.
    assert_eq!(
        ids(&app2.get("/api/v1/articles?q=harbour", None).await),
        [id(&first)]
    );
    let edited = app2
        .patch(
            &format!("/api/v1/articles/{}", id(&second)),
            Some(&editor),
            &json!({"title": "Budget passes narrowly", "tags": ["politics", "ports"]}),
        )
        .await;
    edited.assert_status(200);
    assert_eq!(
        ids(&app2.get("/api/v1/articles?q=narrowly", None).await),
        [id(&second)]
    );
    // A new link copies the article's visibility (trigger): the tag page
    // lists it, newest first.
    assert_eq!(
        ids(&app2.get("/api/v1/articles?tag=ports", None).await),
        [id(&second), id(&first)]
    );
    // The id counter was kept: the deleted id is not handed out again.
    let fourth = create(
        &app2,
        &editor,
        json!({"title": "Fresh", "body": "New.", "status": "published"}),
    )
    .await;
    assert_eq!(id(&fourth), id(&third) + 1);
    // Foreign keys still act: deleting an article removes its comments.
    app2.delete(&format!("/api/v1/articles/{}", id(&first)), Some(&editor))
        .await
        .assert_status(204);
    let mut conn = SqliteConnection::establish(&path).expect("open the test database");
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM comments WHERE article_id = {}",
                id(&first)
            )
        ),
        0
    );
}
