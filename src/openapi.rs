//! The root OpenAPI document: info, security scheme and tags. Paths are
//! added by `utoipa-actix-web` from the registered handlers, so routes and
//! documentation come from one list (see `startup::api`).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The pattern of every slug the API accepts (see `crate::slug::is_valid`).
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// A slug: lowercase ASCII letters and digits in words joined by `-`, at
/// most 120 characters. Only for the document (as `value_type`).
pub struct Slug;

impl utoipa::PartialSchema for Slug {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "Lowercase ASCII letters and digits in words joined by `-`",
            ))
            .pattern(Some(SLUG_PATTERN))
            .min_length(Some(1))
            .max_length(Some(crate::slug::MAX_LEN))
            .examples([serde_json::json!("north-korea")])
            .build()
            .into()
    }
}

impl utoipa::ToSchema for Slug {
    fn name() -> std::borrow::Cow<'static, str> {
        "Slug".into()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk",
        description = "A headless CMS that serves news content as a JSON API.\n\n\
Lists return `{data, meta}` with `page`/`per_page` or keyset `after` pagination, \
`X-Total-Count` and RFC 8288 `Link` headers. Errors are RFC 9457 problem details \
(`application/problem+json`). Every GET sends a strong `ETag` and answers `If-None-Match` with 304. \
Timestamps are RFC 3339 in UTC with whole seconds.\n\nLimits: a query string over 8 KiB is a 414, request headers over 16 KiB in total a 431, a body over `NEWSDESK_MAX_BODY_BYTES` a 413; NUL characters in any text input are a 400 (query) or 422 (body) naming the field. 429 (rate limits) and 503 (database or password hashing busy) carry `Retry-After` in seconds.",
        license(name = "MIT"),
    ),
    servers(
        (url = "/", description = "The server that serves this document"),
        (url = "http://127.0.0.1:8080", description = "Local default (`newsdesk serve`)"),
    ),
    modifiers(&BearerAuth),
    // Query-parameter enums: utoipa-actix-web collects the schemas of
    // bodies and responses, not of parameters, so these are named here.
    components(schemas(
        crate::articles::dto::Include,
        crate::articles::dto::StatusFilter,
        crate::articles::dto::Metric,
        crate::articles::dto::Period,
        Slug,
    )),
    tags(
        (name = "auth", description = "Sign-up, sign-in and tokens"),
        (name = "users", description = "User accounts (admins)"),
        (name = "articles", description = "Articles: reading, writing, revisions, popular lists and stats"),
        (name = "tags", description = "Tags and their visible article counts"),
        (name = "authors", description = "Public bylines: users with published articles"),
        (name = "views", description = "The anonymous view beacon; counts are written in batches"),
        (name = "comments", description = "Reader comments, threads and moderation"),
        (name = "events", description = "The event log: every public change, in order, resumable"),
        (name = "webhooks", description = "Webhooks (admins): signed deliveries of events, with retries and a log"),
        (name = "media", description = "The media library: uploads, renditions and the public files"),
        (name = "operations", description = "Health and readiness"),
        (name = "integrations", description = "Content API keys for server-side front ends (admins)"),
        (name = "feeds", description = "RSS, Atom and JSON feeds of published articles (site, tag, author), at the site root"),
        (name = "export", description = "The whole site as versioned JSON (admins)"),
        (name = "redirects", description = "Where old URLs of the front end now live"),
        (name = "sitemaps", description = "Sitemaps of the front end's pages and a Google News sitemap, at the site root"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        // A content API key (`nd_...`) of an integration, in either place.
        let mut key = Http::new(HttpAuthScheme::Bearer);
        key.bearer_format = Some("nd_...".into());
        key.description = Some(
            "A content API key of an integration (`Authorization: Bearer nd_...`): reads what anonymous clients read, with the key's scopes and rate limit".into(),
        );
        components.add_security_scheme(CONTENT_KEY, SecurityScheme::Http(key));
        components.add_security_scheme(
            CONTENT_KEY_QUERY,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "key",
                "A content API key sent as `?key=nd_...` (for clients that cannot set headers)",
            ))),
        );
    }
}

/// The security scheme of a content key in `Authorization`.
pub const CONTENT_KEY: &str = "contentKey";
/// The security scheme of a content key in the `key` query parameter.
pub const CONTENT_KEY_QUERY: &str = "contentKeyQuery";
/// The pattern of a content API key.
pub const CONTENT_KEY_PATTERN: &str = "^nd_[A-Za-z0-9_-]{43}$";

/// The operations a rate limit applies to (429 with `Retry-After`).
const RATE_LIMITED: &[&str] = &[
    "login",
    "register",
    "refreshTokens",
    "createComment",
    "countArticleView",
    "updateUser",
];

/// The shared error responses, as `components.responses`.
const COMMON_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Bad request: malformed JSON, an unknown or malformed query parameter, or a path parameter of the wrong type",
    ),
    ("401", "Unauthorized", "Missing, invalid or expired token"),
    (
        "403",
        "Forbidden",
        "The content API key lacks the scope this needs",
    ),
    (
        "404",
        "NotFound",
        "No such resource (or not visible to the caller)",
    ),
    ("413", "PayloadTooLarge", "The body exceeds the size limit"),
    ("414", "UriTooLong", "The query string exceeds 8 KiB"),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not sent as application/json",
    ),
    (
        "422",
        "ValidationFailed",
        "Invalid fields; `errors` names each one",
    ),
    (
        "429",
        "TooManyRequests",
        "Rate limited; retry after `Retry-After` seconds",
    ),
    (
        "503",
        "Unavailable",
        "The database does not answer; retry later",
    ),
];

/// Completes the document the routes produced with the shared error
/// responses every operation can answer with: declared once in
/// `components.responses` and referenced where an operation does not
/// describe the status itself, so that no status the server sends is
/// missing from the document.
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Ref, RefOr, Response};

    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON_RESPONSES {
        let mut r = problem_response(description);
        if *name == "TooManyRequests" {
            r["headers"] = serde_json::json!({
                "Retry-After": {
                    "description": "Seconds to wait before retrying",
                    "schema": { "type": "integer", "minimum": 0 }
                }
            });
        }
        if let Ok(response) = serde_json::from_value::<Response>(r) {
            components
                .responses
                .insert((*name).to_string(), RefOr::T(response));
        }
    }

    refuse_nul_in_bodies(&mut doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        // Every operation that reads the database may answer 503.
        let api = path.starts_with("/api/v1/")
            || path.starts_with("/feeds/")
            || path.starts_with("/sitemap");
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            refuse_nul_in_query(op);
            let id = op.operation_id.clone().unwrap_or_default();
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
            let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
            let typed_path = params.iter().any(|p| {
                p.parameter_in == ParameterIn::Path
                    && serde_json::to_value(&p.schema)
                        .is_ok_and(|s| s["type"].as_str() == Some("integer"))
            });
            let has_body = op.request_body.is_some();
            let bearer = serde_json::to_value(&op.security).is_ok_and(|s| {
                s.as_array()
                    .is_some_and(|a| a.iter().any(|r| r.get("bearer").is_some()))
            });
            let takes_key = serde_json::to_value(&op.security).is_ok_and(|s| {
                s.as_array()
                    .is_some_and(|a| a.iter().any(|r| r.get(CONTENT_KEY_QUERY).is_some()))
            });
            if takes_key {
                add_key_parameter(op);
            }
            let has_query = has_query || takes_key;
            let mut wanted: Vec<&str> = Vec::new();
            if has_query || has_body || typed_path {
                wanted.push("400");
            }
            if bearer || takes_key {
                wanted.push("401");
            }
            if takes_key {
                wanted.push("403");
            }
            if has_path {
                wanted.push("404");
            }
            if has_query {
                wanted.push("414");
            }
            if has_body {
                wanted.extend(["413", "415", "422"]);
            }
            if RATE_LIMITED.contains(&id.as_str()) || takes_key {
                wanted.push("429");
            }
            if api {
                wanted.push("503");
            }
            for status in wanted {
                if op.responses.responses.contains_key(status) {
                    continue;
                }
                if let Some((_, name, _)) = COMMON_RESPONSES.iter().find(|(s, _, _)| *s == status) {
                    op.responses.responses.insert(
                        status.to_string(),
                        RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
                    );
                }
            }
        }
    }
    doc
}

/// Declares the `key` query parameter on an operation that takes content
/// keys (its security names `contentKeyQuery`), so that the parameter is a
/// known one there.
fn add_key_parameter(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, schema::Type};

    let params = op.parameters.get_or_insert_with(Vec::new);
    if params.iter().any(|p| p.name == "key") {
        return;
    }
    params.push(
        ParameterBuilder::new()
            .name("key")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "A content API key (`nd_...`), instead of `Authorization: Bearer nd_...`. A bad, unknown or revoked key is a 401, never anonymous.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(CONTENT_KEY_PATTERN)),
            ))
            .build(),
    );
}

/// The server refuses NUL in every text of a request body (422 naming the
/// field): every string property of a request body's schema says so with
/// a pattern, unless a stricter pattern or an enum already does.
/// The server refuses NUL in every query text (400): free-text query
/// parameters (those without a pattern or an enum of their own) say so.
fn refuse_nul_in_query(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{Schema, SchemaType, Type};

    for param in op.parameters.iter_mut().flatten() {
        if param.parameter_in != ParameterIn::Query {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = param.schema.as_mut()
            && object.schema_type == SchemaType::Type(Type::String)
            && object.pattern.is_none()
            && object.enum_values.is_none()
            && object.format.is_none()
        {
            object.pattern = Some(r"^[^\u0000]*$".into());
        }
    }
}

fn refuse_nul_in_bodies(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    let Ok(paths) = serde_json::to_value(&doc.paths) else {
        return;
    };
    let mut bodies: Vec<String> = Vec::new();
    for item in paths.as_object().into_iter().flat_map(|m| m.values()) {
        for op in item.as_object().into_iter().flat_map(|m| m.values()) {
            let content = &op["requestBody"]["content"];
            for media in content.as_object().into_iter().flat_map(|m| m.values()) {
                if let Some(r) = media["schema"]["$ref"].as_str() {
                    bodies.push(r.trim_start_matches("#/components/schemas/").to_string());
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in bodies {
        let Some(schema) = components.schemas.get_mut(&name) else {
            continue;
        };
        let Ok(mut value) = serde_json::to_value(&*schema) else {
            continue;
        };
        let Some(props) = value["properties"].as_object_mut() else {
            continue;
        };
        for prop in props.values_mut() {
            let is_text = match &prop["type"] {
                serde_json::Value::String(t) => t == "string",
                serde_json::Value::Array(ts) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            // An uploaded file (`format: binary`) is bytes, not text.
            let binary = prop["format"].as_str() == Some("binary");
            if is_text && !binary && prop.get("pattern").is_none() && prop.get("enum").is_none() {
                prop["pattern"] = serde_json::Value::String(r"^[^\u0000]*$".into());
            }
        }
        if let Ok(updated) = serde_json::from_value::<Schema>(value) {
            *schema = RefOr::T(updated);
        }
    }
}

fn problem_response(description: &str) -> serde_json::Value {
    serde_json::json!({
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": { "$ref": "#/components/schemas/Problem" }
            }
        }
    })
}

/// Pretty JSON of a finished document. utoipa has no field for a
/// parameter's `allowEmptyValue`, so it is added here: every query
/// parameter is optional, and an empty value (`sort=`, as HTML forms send
/// it) counts as absent.
pub fn to_json(doc: &utoipa::openapi::OpenApi) -> String {
    let pretty = doc.to_pretty_json().unwrap_or_default();
    let mut out = String::with_capacity(pretty.len() + 8192);
    let mut previous = "";
    for line in pretty.lines() {
        out.push_str(line);
        out.push('\n');
        // Parameters only: an API key security scheme has `in` too.
        let scheme = previous.trim() == r#""type": "apiKey","#;
        previous = line;
        if line.trim() == r#""in": "query","# && !scheme {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(indent);
            out.push_str("\"allowEmptyValue\": true,\n");
        }
    }
    out
}
