//! The root OpenAPI document: info, security scheme and tags. Paths are
//! added by `utoipa-actix-web` from the registered handlers, so routes and
//! documentation come from one list (see `startup::api`).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    modifiers(&BearerAuth),
    // Query-parameter enums: utoipa-actix-web collects the schemas of
    // bodies and responses, not of parameters, so these are named here.
    components(schemas(
        crate::articles::dto::Include,
        crate::articles::dto::StatusFilter,
        crate::articles::dto::Metric,
        crate::articles::dto::Period,
    )),
    tags(
        (name = "auth", description = "Sign-up, sign-in and tokens"),
        (name = "users", description = "User accounts (admins)"),
        (name = "articles", description = "Articles: reading, writing, revisions, popular lists and stats"),
        (name = "tags", description = "Tags and their visible article counts"),
        (name = "authors", description = "Public bylines: users with published articles"),
        (name = "views", description = "The anonymous view beacon; counts are written in batches"),
        (name = "comments", description = "Reader comments, threads and moderation"),
        (name = "operations", description = "Health and readiness"),
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
    }
}
