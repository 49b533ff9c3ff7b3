//! Shared helpers for the content tests (articles, tags, authors, search).

#![allow(dead_code)]

use diesel::prelude::*;
use newsdesk::db::schema::{article_daily_stats, article_revisions, article_tags, articles};
use serde_json::{Value, json};

use crate::helpers::{Res, TestApp};

/// Creates an article and returns its JSON (asserting 201).
pub async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/v1/articles", Some(token), &body).await;
    res.assert_status(201);
    res.json()
}

/// A published article with a title and a short body.
pub async fn published(app: &TestApp, token: &str, title: &str) -> Value {
    create(
        app,
        token,
        json!({"title": title, "body": format!("About {title}."), "status": "published"}),
    )
    .await
}

/// A draft with a title.
pub async fn draft(app: &TestApp, token: &str, title: &str) -> Value {
    create(
        app,
        token,
        json!({"title": title, "body": format!("Draft about {title}.")}),
    )
    .await
}

pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

/// The ids of a list page, in order.
pub fn ids(res: &Res) -> Vec<i64> {
    res.json()["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect()
}

pub fn count_articles(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    articles::table
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

pub fn count_revisions(app: &TestApp, article: i64) -> i64 {
    let mut conn = app.conn();
    article_revisions::table
        .filter(article_revisions::article_id.eq(article))
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

pub fn count_tag_links(app: &TestApp, article: i64) -> i64 {
    let mut conn = app.conn();
    article_tags::table
        .filter(article_tags::article_id.eq(article))
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

/// Sets the counters directly, as the views and comments modules would.
pub fn set_counters(app: &TestApp, article: i64, views: i64, comments: i64) {
    let mut conn = app.conn();
    diesel::update(articles::table.find(article))
        .set((
            articles::view_count.eq(views),
            articles::comment_count.eq(comments),
        ))
        .execute(&mut *conn)
        .expect("update counters");
}

/// Adds a row of daily counters, days before today (UTC).
pub fn add_daily(app: &TestApp, article: i64, days_ago: i64, views: i64, comments: i64) {
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(days_ago);
    let mut conn = app.conn();
    diesel::insert_into(article_daily_stats::table)
        .values((
            article_daily_stats::article_id.eq(article),
            article_daily_stats::day.eq(day),
            article_daily_stats::views.eq(views),
            article_daily_stats::comments.eq(comments),
        ))
        .execute(&mut *conn)
        .expect("insert daily stats");
}

/// Walks a list by `after` cursors and returns every id in order.
pub async fn walk_cursor(app: &TestApp, base: &str, token: Option<&str>) -> Vec<i64> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut url = base.to_string();
    for _ in 0..1000 {
        let res = app.get(&url, token).await;
        res.assert_status(200);
        out.extend(ids(&res));
        match res.json()["meta"]["next_cursor"].as_str() {
            Some(c) => url = format!("{base}{sep}after={c}"),
            None => return out,
        }
    }
    panic!("cursor walk did not end");
}

/// Walks a list by page numbers and returns every id in order.
pub async fn walk_pages(app: &TestApp, base: &str, token: Option<&str>) -> Vec<i64> {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    for page in 1..1000 {
        let res = app.get(&format!("{base}{sep}page={page}"), token).await;
        res.assert_status(200);
        let got = ids(&res);
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
    panic!("page walk did not end");
}
