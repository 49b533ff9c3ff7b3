//! The committed OpenAPI document as a tool sees it: valid OpenAPI 3.1 (the
//! official meta-schema, vendored in tests/data, checked by a JSON Schema
//! validator), every `$ref` resolvable, one unique camelCase `operationId`
//! per operation, described tags, examples on request bodies that validate
//! against their own schemas, and every error answer a problem+json.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Value, json};

fn document() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("read openapi/openapi.json");
    serde_json::from_str(&text).expect("openapi/openapi.json is JSON")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.clone(), method.to_string(), op.clone()));
            }
        }
    }
    out
}

/// Follows a local `$ref` (`#/components/...`), or panics naming it.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("$ref {r} is not local"));
            resolve(
                doc,
                doc.pointer(pointer)
                    .unwrap_or_else(|| panic!("$ref {r} does not resolve")),
            )
        }
        None => value,
    }
}

fn collect_refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        out.push((at.to_string(), r.to_string()));
                    }
                } else {
                    collect_refs(v, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, "", &mut refs);
    assert!(refs.len() > 50, "expected many $refs, found {}", refs.len());
    let broken: Vec<_> = refs
        .iter()
        .filter(|(_, r)| r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_none())
        .collect();
    assert!(broken.is_empty(), "dangling $refs: {broken:?}");
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let meta: Value = serde_json::from_str(include_str!("../data/openapi-3.1-schema.json"))
        .expect("meta-schema is JSON");
    let validator = jsonschema::draft202012::new(&meta).expect("the meta-schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not valid OpenAPI 3.1: {errors:#?}");

    // The meta-schema is only as strict as its regexes; a document that
    // breaks it on purpose must fail, or the check above proves nothing.
    let mut broken = doc.clone();
    broken["paths"]["/healthz"]["get"]["responses"] = json!({"200": {"content": {}}});
    assert!(
        !validator.is_valid(&broken),
        "a response without description passed"
    );
}

#[test]
fn operation_ids_are_unique_camel_case_and_tags_are_described() {
    let doc = document();
    let described: HashSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter(|t| t["description"].as_str().is_some_and(|d| !d.is_empty()))
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut seen = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            id.starts_with(|c: char| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{method} {path}: operationId {id} is not camelCase"
        );
        assert!(
            seen.insert(id.to_string()),
            "operationId {id} is used twice"
        );
        for tag in op["tags"].as_array().expect("every operation is tagged") {
            let tag = tag.as_str().expect("tag name");
            assert!(described.contains(tag), "tag {tag} has no description");
        }
    }
    assert!(seen.contains("listArticles") && seen.contains("getArticleBySlug"));
    let servers = doc["servers"].as_array().expect("servers");
    assert!(!servers.is_empty());
}

/// A validator for `value` against the schema at `pointer` in the document
/// (its `$ref`s resolve within the document).
fn schema_validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"].clone(),
    });
    if let (Some(root), Some(schema)) = (root.as_object_mut(), schema.as_object()) {
        for (k, v) in schema {
            root.insert(k.clone(), v.clone());
        }
    }
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("schema compiles")
}

#[test]
fn request_bodies_and_main_objects_have_valid_examples() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        // JSON bodies, and the multipart upload of the media library.
        let content = &body["content"];
        let media = content
            .get("application/json")
            .or_else(|| content.get("multipart/form-data"))
            .unwrap_or_else(|| panic!("{method} {path}: an unexpected body type"));
        let schema = &media["schema"];
        let example = media
            .get("example")
            .or_else(|| resolve(&doc, schema).get("example"))
            .unwrap_or_else(|| panic!("{method} {path}: the request body has no example"));
        let validator = schema_validator(&doc, schema);
        let errors: Vec<String> = validator
            .iter_errors(example)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path}: the example does not match the schema: {errors:?}"
        );
    }
    for name in [
        "Article",
        "Tag",
        "User",
        "Comment",
        "Author",
        "TokenResponse",
        "Problem",
        "Media",
    ] {
        let schema = &doc["components"]["schemas"][name];
        let example = schema
            .get("example")
            .unwrap_or_else(|| panic!("{name} has no example"));
        let validator = schema_validator(
            &doc,
            &json!({"$ref": format!("#/components/schemas/{name}")}),
        );
        let errors: Vec<String> = validator
            .iter_errors(example)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: the example does not match: {errors:?}"
        );
    }
}

#[test]
fn every_error_answer_is_problem_json() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().expect("responses") {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = resolve(&doc, response);
            let schema = &response["content"]["application/problem+json"]["schema"];
            assert_eq!(
                schema["$ref"], "#/components/schemas/Problem",
                "{method} {path} {status} is not a problem+json"
            );
        }
        if path.starts_with("/api/v1/") {
            assert!(
                op["responses"].get("503").is_some(),
                "{method} {path}: no 503"
            );
        }
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{method} {path}: a body but no {status}"
                );
            }
        }
    }
}

/// Whether `value` matches the schema of `property` of component `schema`
/// in the committed document.
fn doc_accepts(doc: &Value, schema: &str, property: &str, value: &str) -> bool {
    let property = doc["components"]["schemas"][schema]["properties"][property].clone();
    schema_validator(doc, &property).is_valid(&json!(value))
}

/// The patterns the document states agree with the rules the server applies,
/// on the strings where regex dialects and Unicode whitespace differ.
#[test]
fn patterns_agree_with_the_server() {
    let doc = document();
    let tricky = [
        "",
        " ",
        "a",
        " a ",
        "\t\n",
        "\u{85}",
        "\u{a0}",
        "\u{1680}",
        "\u{2000}",
        "\u{200a}",
        "\u{2028}",
        "\u{202f}",
        "\u{3000}",
        "\u{feff}",
        "\u{1c}",
        "\u{1f}",
        "\u{b}",
        "\u{c}",
        "\u{0}",
        "a\u{0}",
        "\u{1}",
        "x\u{7f}y",
        "\u{84}",
        "北京",
        "Ünïcödé",
        "line\nbreak\ttab",
        "a-b",
        "a--b",
        "-a",
        "a-",
        "A",
        "a1-2b",
        "ab c",
    ];
    for s in tricky {
        // Required texts: trimmed non-empty, no NUL.
        let mut v = newsdesk::validate::Validator::new();
        v.text("name", s, 1, 100);
        assert_eq!(
            doc_accepts(&doc, "CreateTag", "name", s),
            v.finish().is_ok(),
            "name {s:?}"
        );
        // Optional texts: anything without NUL (blank clears).
        let mut v = newsdesk::validate::Validator::new();
        v.opt_text("description", Some(s), 500);
        assert_eq!(
            doc_accepts(&doc, "CreateTag", "description", s),
            v.finish().is_ok(),
            "description {s:?}"
        );
        // Slugs.
        assert_eq!(
            doc_accepts(&doc, "CreateTag", "slug", s),
            newsdesk::slug::is_valid(s),
            "slug {s:?}"
        );
        // Comment bodies: as required texts, and no control characters but
        // line breaks and tabs.
        let server = {
            let t = s.trim();
            !t.is_empty()
                && !t
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        };
        assert_eq!(
            doc_accepts(&doc, "CreateComment", "body", s),
            server,
            "comment body {s:?}"
        );
    }
    // URLs: the server accepts exactly what the document accepts.
    for url in [
        "https://news-site.example.com/a-b.png",
        "http://e.0e.KnO07R0kcdwibVH.go*",
        "http://user@example.com/",
        "http://127.0.0.1/",
        "http://-bad.example.com/",
        "http://example.com:123456/",
        "http://example.com:71011/",
        "http://example.com:8080/",
        "https://example.com/\u{e9}",
        "",
        "http://a",
        "https://example.com/x?y=1#z",
        "http://a.b.c:8080/",
        "https://img.example.com/a%20b.png",
        "ftp://example.com",
        "http://",
        "http://1.2.3.999",
        "javascript:alert(1)",
        "http://exa mple.com",
    ] {
        let mut v = newsdesk::validate::Validator::new();
        v.opt_url("avatar_url", Some(url));
        assert_eq!(
            doc_accepts(&doc, "CreateUser", "avatar_url", url),
            v.finish().is_ok(),
            "avatar_url {url:?}"
        );
    }
}
