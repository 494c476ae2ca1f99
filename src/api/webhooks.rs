//! Webhooks: URLs that receive every event as it happens, signed with their secret.
//! Admins manage every webhook; an agency portal's API client manages its own.

use std::fmt;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;
use super::extract::{Json, Query};
use super::page::{page_limit, split_page, Cursor, Page};
use crate::auth::Principal;
use crate::error::{ApiError, FieldError, Problem};
use crate::service::webhooks::{self as service, Attempt, Registration, Update, WithSecret};
use crate::state::AppState;

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to send events: `https://` (in development `http://` too), without user name,
    /// password or fragment, at most 2048 characters. Its host must not be, or resolve to, a
    /// loopback, private, link-local or unique-local address unless the service allows them
    /// (`PORTAL_WEBHOOK_ALLOW_PRIVATE`).
    #[schema(example = "https://portal.so-khcn.example.vn/hooks/portal")]
    pub url: String,
    /// The event types to receive (each at most once), or `["*"]` for all of them. The types
    /// are listed under `type` of `Event`; `webhook.test` is sent on request only.
    #[schema(example = json!(["submission.published", "submission.returned"]))]
    pub events: Vec<String>,
    /// Only this unit's events. An admin may omit it to receive every unit's events; an API
    /// client's webhooks always receive its own unit's, and naming another unit is refused.
    #[schema(example = "so-khcn")]
    pub unit: Option<String>,
    /// What it is for, at most 500 characters.
    #[schema(example = "Cổng TTĐT Sở KH&CN: bài được duyệt")]
    pub description: Option<String>,
}

/// Changes to a webhook; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// A new URL, checked as at creation.
    #[schema(example = "https://portal.so-khcn.example.vn/hooks/v2")]
    pub url: Option<String>,
    /// New event types, or `["*"]`.
    #[schema(example = json!(["*"]))]
    pub events: Option<Vec<String>>,
    /// `false` stops sending; `true` starts again and forgets the failures that disabled it.
    pub enabled: Option<bool>,
    /// A new description; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `true` gives the webhook a new secret, in this answer only; the old one stops signing
    /// at once.
    #[serde(default)]
    pub rotate_secret: bool,
}

/// A webhook. Its secret is shown only in the answer that made it: its creation, or a
/// `PATCH` with `rotate_secret`.
#[derive(Serialize, ToSchema)]
pub struct WebhookResponse {
    /// `wh_` and 32 hex digits.
    #[schema(example = "wh_3f2a9c1e7b5d4e8fa0b1c2d3e4f5a6b7")]
    pub id: String,
    /// Where events are sent.
    #[schema(example = "https://portal.so-khcn.example.vn/hooks/portal")]
    pub url: String,
    /// The event types it receives, or `["*"]`.
    #[schema(example = json!(["submission.published", "submission.returned"]))]
    pub events: Vec<String>,
    /// Only this unit's events; null: every unit's.
    #[schema(example = "so-khcn")]
    pub unit: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether events are sent to it.
    pub enabled: bool,
    /// Since when every delivery has failed, if they do. After 5 days of failures the
    /// webhook is disabled.
    pub failing_since: Option<DateTime<Utc>>,
    /// Why the service disabled it; null when it is enabled or was turned off by request.
    pub disabled_reason: Option<String>,
    /// `whsec_` and the base64 of its key: the key of every `webhook-signature`. Only in the
    /// answer to its creation and to a `PATCH` with `rotate_secret`; keep it secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for WebhookResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookResponse")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl From<WithSecret> for WebhookResponse {
    fn from(made: WithSecret) -> Self {
        let w = made.webhook;
        Self {
            id: w.id,
            url: w.url,
            events: w.events,
            unit: w.unit,
            description: w.description,
            enabled: w.enabled,
            failing_since: w.failing_since.map(|t| t.and_utc()),
            disabled_reason: w.disabled_reason,
            secret: made.secret,
            created_at: w.created_at.and_utc(),
            updated_at: w.updated_at.and_utc(),
        }
    }
}

impl From<service::Webhook> for WebhookResponse {
    fn from(webhook: service::Webhook) -> Self {
        WithSecret {
            webhook,
            secret: None,
        }
        .into()
    }
}

/// The answer for a webhook; one that shows a secret is never to be kept by a cache.
fn answer(mut builder: actix_web::HttpResponseBuilder, made: WithSecret) -> HttpResponse {
    if made.secret.is_some() {
        builder.insert_header(("Cache-Control", "no-store"));
    }
    builder.json(WebhookResponse::from(made))
}

/// Register a webhook.
///
/// Answers the webhook with its `secret`, shown in this answer only. Every event of the types
/// named (of its unit, or of every unit) is then sent to `url` as a signed `POST`: see the
/// `event` webhook of this document for the request, its headers and how to verify them.
///
/// Admins register webhooks for one unit or for all; an API client registers its own, which
/// receive only its unit's events. An API client may have 20 webhooks, the service 200.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Registered; the secret is in this answer only", body = WebhookResponse,
            headers(("Location" = String, description = "The webhook's address"))),
        (status = 409, description = "The API client, or the service, has as many webhooks as it may", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, inward-pointing or unresolvable URL, unknown event type, unknown or deactivated unit, or another unit than the client's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let made = service::create(
        &state,
        &principal,
        Registration {
            url: req.url,
            events: req.events,
            unit: req.unit,
            description: req.description,
        },
    )
    .await?;
    let mut created = HttpResponse::Created();
    created.insert_header(("Location", format!("/api/v1/webhooks/{}", made.webhook.id)));
    Ok(answer(created, made))
}

/// List webhooks.
///
/// Admins see every webhook; an API client its own. The whole list as one page
/// (`next_cursor` is always null): there are at most 200.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, description = "The webhooks, oldest first", body = Page<WebhookResponse>))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<Page<WebhookResponse>>, ApiError> {
    let found = service::list(&state, &principal).await?;
    Ok(web::Json(Page::complete(
        found.into_iter().map(WebhookResponse::from).collect(),
    )))
}

/// Read a webhook.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 200, description = "The webhook", body = WebhookResponse))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<WebhookResponse>, ApiError> {
    let webhook = service::get(&state, &principal, id.into_inner()).await?;
    Ok(web::Json(webhook.into()))
}

/// Change a webhook.
///
/// Changes its URL (checked as at creation), its event types, its description, turns it off
/// or on again (which forgets the failures that disabled it), or, with `rotate_secret`, gives
/// it a new secret, answered this once.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook's id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The changed webhook; with `secret` when it was rotated", body = WebhookResponse),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.into_inner();
    let changed = service::update(
        &state,
        &principal,
        id.into_inner(),
        Update {
            url: req.url,
            events: req.events,
            enabled: req.enabled,
            description: req.description,
            rotate_secret: req.rotate_secret,
        },
    )
    .await?;
    Ok(answer(HttpResponse::Ok(), changed))
}

/// Delete a webhook, with the deliveries still queued for it and the record of its attempts.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &principal, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Which page of attempts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The receiver answered 2xx within 10 seconds.
    Succeeded,
    /// Anything else: another status, no answer in time, no connection.
    Failed,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttemptResponse {
    /// The delivery: one event to this webhook, attempted until it succeeds or its retries
    /// run out.
    pub delivery_id: i64,
    /// The event's id, sent as `webhook-id`.
    #[schema(example = "evt_5f0c6a3e9d2b4f7a8c1e2d3b4a5f6e7d")]
    pub event_id: String,
    /// The event's type.
    #[schema(example = "submission.published")]
    pub event_type: String,
    /// 1 for the first attempt of the delivery, 2 for its first retry, …
    pub attempt: i32,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// `succeeded` or `failed`.
    pub outcome: Outcome,
    /// The receiver's HTTP status, when it answered.
    #[schema(example = 200)]
    pub http_status: Option<i32>,
    /// What went wrong, when the receiver did not answer (timeout, refused connection,
    /// refused address).
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// When the next attempt is due; null when none follows.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<Attempt> for DeliveryAttemptResponse {
    fn from(a: Attempt) -> Self {
        let outcome = if service::succeeded(&a) {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        };
        Self {
            delivery_id: a.delivery_id,
            event_id: a.event_id,
            event_type: a.event_type,
            attempt: a.attempt,
            attempted_at: a.attempted_at.and_utc(),
            outcome,
            http_status: a.http_status,
            error: a.error,
            duration_ms: a.duration_ms,
            next_attempt_at: a.next_attempt_at.map(|t| t.and_utc()),
        }
    }
}

/// Reads the cursor of the attempts list: the id of the last attempt served.
fn before_attempt(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|c| {
            Cursor::decode(c)?.as_str().parse::<i64>().map_err(|_| {
                ApiError::InvalidParameter(FieldError::new(
                    "cursor",
                    "is not a cursor this API gave",
                ))
            })
        })
        .transpose()
}

/// List a webhook's delivery attempts, newest first.
///
/// Every attempt to send an event to this webhook: the event, the attempt's number, its
/// outcome with the receiver's status or the error, how long it took, and when the next
/// attempt is due.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook's id"), DeliveryQuery),
    responses((status = 200, description = "A page of attempts, newest first", body = Page<DeliveryAttemptResponse>))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: Query<DeliveryQuery>,
) -> Result<web::Json<Page<DeliveryAttemptResponse>>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let before = before_attempt(query.cursor.as_deref())?;
    let mut attempts =
        service::attempts(&state, &principal, id.into_inner(), before, limit).await?;
    let next_cursor = split_page(&mut attempts, limit, |a| Cursor::encode(&a.id.to_string()));
    Ok(web::Json(Page {
        items: attempts
            .into_iter()
            .map(DeliveryAttemptResponse::from)
            .collect(),
        next_cursor,
    }))
}

/// The test event queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResponse {
    /// The test event's id, the `webhook-id` of its delivery.
    #[schema(example = "evt_9b1d7c3a5e2f4a6b8c0d1e3f5a7b9c1d")]
    pub event_id: String,
}

/// Send a test event.
///
/// Queues a `webhook.test` event for this webhook only; it is sent like any event, signed,
/// and its attempts are listed under `deliveries`. It is never in the events feed.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 202, description = "Queued for sending", body = TestResponse),
        (status = 409, description = "The webhook is disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let event_id = service::send_test(&state, &principal, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(TestResponse { event_id }))
}
