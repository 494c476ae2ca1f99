//! Mail: the admins' view of the outbox, and a new tracking link for an asker who lost theirs.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::page::{after_cursor, parse_after};
use super::{page_limit, split_page, Page};
use crate::api::client_of;
use crate::api::extract::{Json, Query};
use crate::db::mail::Listed;
use crate::domain::access::Principal;
use crate::domain::mail::{mask, MailStatus};
use crate::error::{ApiError, FieldError, Problem};
use crate::service::mail as service;
use crate::state::AppState;

/// Filters and page of the outbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailQuery {
    /// Only messages in this state: `pending` (waiting or to be tried again), `sent` or `failed`.
    #[param(pattern = "^(pending|sent|failed)$")]
    pub status: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A message of the outbox, its recipient masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailResponse {
    /// Identifier.
    pub id: String,
    /// What it is: `receipt`, `answer`, `reply`, `rejection`, `publication`, `key_resent`,
    /// `question_routed`, `item_returned`, `item_rejected`, `item_published`, `digest`,
    /// `obligation_reminder`, `obligation_missed`.
    pub kind: String,
    /// The recipient, masked.
    #[schema(example = "n***@example.vn")]
    pub to: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt did not go through.
    pub last_error: Option<String>,
    /// Its subject line, once sent.
    pub subject: Option<String>,
    /// What it is about: a question's or an item's id, an obligation period.
    pub subject_id: Option<String>,
    /// The unit it concerns.
    pub unit: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the server took it.
    pub sent_at: Option<DateTime<Utc>>,
}

fn utc(t: chrono::NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

impl From<Listed> for MailResponse {
    fn from(m: Listed) -> Self {
        Self {
            to: mask(&m.recipient),
            id: m.id,
            kind: m.kind,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at.map(utc),
            last_error: m.last_error,
            subject: m.subject,
            subject_id: m.subject_id,
            unit: m.unit_code,
            created_at: utc(m.created_at),
            sent_at: m.sent_at.map(utc),
        }
    }
}

/// List the mail outbox, newest first (admins).
///
/// Every message the service queued: `?status=failed` shows those given up on after a day
/// of refusals (or refused for good), with the server's last answer. Addresses are masked.
#[utoipa::path(
    tag = "mail",
    security(("bearer" = [])),
    params(MailQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<MailResponse>),
        (status = 400, description = "Unreadable parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/mail")]
pub async fn list_mail(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<MailQuery>,
) -> Result<web::Json<Page<MailResponse>>, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(MailStatus::parse(s).ok_or_else(|| {
            ApiError::InvalidParameter(FieldError::new("status", "must be pending, sent or failed"))
        })?),
    };
    let limit = page_limit(query.limit)?;
    let after = parse_after(query.cursor.as_deref())?;
    let mut items = service::list(&state, &principal, status, after, limit).await?;
    let next = split_page(&mut items, limit, |m| after_cursor(m.created_at, &m.id));
    Ok(web::Json(Page {
        items: items.into_iter().map(MailResponse::from).collect(),
        next_cursor: next,
    }))
}

/// The e-mail a question was asked with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    /// The e-mail given when asking.
    #[schema(
        example = "nguyen.van.an@example.vn",
        format = "email",
        max_length = 254
    )]
    pub email: String,
}

/// What every resend request is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResendResponse {
    /// Always the same text.
    #[schema(
        example = "If the e-mail is the one the question was asked with, a new tracking link is on its way to it."
    )]
    pub message: &'static str,
}

const RESEND_ANSWER: &str =
    "If the e-mail is the one the question was asked with, a new tracking link is on its way to it.";

/// Send a new tracking link.
///
/// When `email` is the one the question was asked with, a new access key is issued (the old one
/// stops working) and its link is mailed there. The answer is the same whether or not the code
/// and the e-mail exist or match; a code and an e-mail are each written to at most 3 times an
/// hour, and a client address may ask 10 times a minute.
#[utoipa::path(
    tag = "questions",
    params(("tracking_code" = String, Path, description = "The tracking code", max_length = 32)),
    request_body = ResendRequest,
    responses(
        (status = 202, description = "Taken; the same answer whatever the code and e-mail", body = ResendResponse),
        (status = 422, description = "Not an e-mail address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/tracking/{tracking_code}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    body: Json<ResendRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = client_of(&req, &state.settings.trusted_proxies);
    service::request_resend(&state, client, code.into_inner(), &body.into_inner().email)?;
    Ok(HttpResponse::Accepted().json(ResendResponse {
        message: RESEND_ANSWER,
    }))
}
