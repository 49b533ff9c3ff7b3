//! Request and response types of `/webhooks`.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::queries::{DeliveryRow, WebhookRow};
use crate::time::to_api;

/// What a webhook may subscribe to: an event type, or `*` for all.
pub const EVENT_FILTER_PATTERN: &str = r"^(\*|article\.(published|updated|unpublished|deleted|scheduled)|comment\.(created|approved)|tag\.(created|updated|deleted))$";

/// Most entries in a webhook's `events`.
pub const EVENTS_MAX: usize = 20;

/// A webhook: where newsdesk sends which events. The secret is shown
/// once, when the webhook is created.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "url": "https://example.com/hooks/newsdesk", "events": ["article.published", "article.updated"],
    "active": true, "created_at": "2024-05-16T01:00:00Z", "updated_at": "2024-05-16T01:00:00Z"
}))]
pub struct Webhook {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(example = "https://example.com/hooks/newsdesk")]
    pub url: String,
    /// Event types sent, or `["*"]` for every type.
    #[schema(example = json!(["article.published"]))]
    pub events: Vec<String>,
    /// Inactive webhooks get nothing: events meanwhile are skipped and
    /// pending deliveries wait.
    #[schema(example = true)]
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn from_row(row: &WebhookRow) -> Self {
        Self {
            id: row.id,
            url: row.url.clone(),
            events: serde_json::from_str(&row.events).unwrap_or_default(),
            active: row.active,
            created_at: to_api(row.created_at),
            updated_at: to_api(row.updated_at),
        }
    }
}

/// A new webhook with its signing secret: the only time it is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and the base64 of the HMAC key (Standard Webhooks).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// Body of `POST /webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://example.com/hooks/newsdesk", "events": ["article.published", "article.updated"]}))]
pub struct CreateWebhook {
    /// An http(s) URL with a host name. Its addresses must be public
    /// (unless `NEWSDESK_WEBHOOK_ALLOW_PRIVATE=true`).
    #[schema(
        max_length = 2048,
        pattern = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$"
    )]
    pub url: String,
    /// Event types to send (repeats ignored), or `["*"]` for all.
    #[schema(min_items = 1, max_items = 20, inline, value_type = Vec<EventFilter>)]
    pub events: Vec<String>,
    /// Default true.
    pub active: Option<bool>,
}

/// Body of `PATCH /webhooks/{id}`: only the fields sent change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UpdateWebhook {
    #[schema(
        max_length = 2048,
        pattern = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$"
    )]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 20, inline, value_type = Option<Vec<EventFilter>>)]
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// An event type or `*`.
#[derive(ToSchema)]
#[schema(
    pattern = r"^(\*|article\.(published|updated|unpublished|deleted|scheduled)|comment\.(created|approved)|tag\.(created|updated|deleted))$",
    example = "article.published"
)]
pub struct EventFilter(#[allow(dead_code)] String);

/// The state of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not sent yet, or waiting for its next attempt.
    Pending,
    /// A receiver answered 2xx.
    Succeeded,
    /// Retries ran out (`NEWSDESK_WEBHOOK_RETRY_FOR`).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// One delivery of an event to a webhook, with its latest attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 77, "event_id": 1042, "event_type": "article.published", "attempt": 1, "status": "succeeded",
    "response_status": 200, "duration_ms": 84, "error": null, "next_attempt_at": null,
    "created_at": "2024-05-16T01:00:00Z"
}))]
pub struct Delivery {
    #[schema(example = 77)]
    pub id: i64,
    /// The event sent (the latest one when changes were coalesced); also
    /// the `webhook-id` the receiver sees, as `evt_{event_id}`.
    #[schema(example = 1042)]
    pub event_id: i64,
    #[schema(example = "article.published")]
    pub event_type: String,
    /// Attempts made so far (0 before the first).
    #[schema(example = 1)]
    pub attempt: i32,
    pub status: DeliveryStatus,
    /// The receiver's status code at the latest attempt, if it answered.
    #[schema(example = 200)]
    pub response_status: Option<i32>,
    /// How long the latest attempt took.
    #[schema(example = 84)]
    pub duration_ms: Option<i64>,
    /// Why the latest attempt failed without an answer (refused address,
    /// no connection, timeout).
    #[schema(example = json!(null))]
    pub error: Option<String>,
    /// When the next attempt is due, while `pending`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Delivery {
    pub fn from_row(row: DeliveryRow) -> Self {
        Self {
            id: row.id,
            event_id: row.event_id,
            event_type: row.event_type,
            attempt: row.attempt,
            status: DeliveryStatus::parse(&row.status).unwrap_or(DeliveryStatus::Pending),
            response_status: row.response_status,
            duration_ms: row.duration_ms,
            error: row.error,
            // Whole seconds, like every timestamp of the API.
            next_attempt_at: row.next_attempt_at.map(|t| to_api(t.trunc_subsecs(0))),
            created_at: to_api(row.created_at.trunc_subsecs(0)),
        }
    }
}

/// Query of the webhook and delivery lists (newest first by default).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookListQuery {
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `created_at` or `-created_at` (default, newest first).
    #[param(pattern = r"^[-+]?(created_at)$", example = "-created_at")]
    pub sort: Option<String>,
}

crate::list_query!(WebhookListQuery, ["created_at"], "-created_at");
