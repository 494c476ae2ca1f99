//! What an asker does: ask a question, follow it, rate its answer. No account needed.

use std::time::Instant;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{rule, vn, RatingResponse, ReplyResponse};
use crate::api::client_of;
use crate::api::extract::{Json, Query, ValidJson};
use crate::domain::invalid::Invalid;
use crate::domain::question::{
    contact_given, optional_email, optional_phone, optional_text, parse_asker_name, parse_body,
    parse_title, Status, ADDRESS_MAX, NOTE_MAX, ORGANIZATION_MAX, RATING_MAX, RATING_MIN,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::service::questions::{self as service, NewAsker, NewQuestion, Question, Reply};
use crate::state::AppState;

/// Who asks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskerRequest {
    /// Full name.
    #[schema(example = "Nguyễn Văn An")]
    pub name: String,
    /// E-mail (this or `phone` is required).
    pub email: Option<String>,
    /// Vietnamese phone number: 0 or +84 then 9 digits (this or `email` is required).
    #[schema(example = "0912 345 678")]
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Organisation, when asking for one.
    pub organization: Option<String>,
}

/// A question from a citizen or an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    /// Title, 1–300 characters.
    #[schema(example = "Thủ tục cấp giấy phép xây dựng")]
    pub title: String,
    /// The question, 1–10,000 characters.
    pub body: String,
    /// The unit asked (an active unit's code); without it the board routes the question.
    pub unit: Option<String>,
    /// Category code; its `answer_days` sets the deadline.
    pub category: Option<String>,
    /// Who asks.
    pub asker: AskerRequest,
    /// Whether the question and its answer may be shown in the public Q&A.
    pub publish_consent: bool,
}

/// What the asker needs to follow the question. Keep the access key: it is shown only once.
#[derive(Debug, Serialize, ToSchema)]
pub struct AskResponse {
    /// Short code to follow the question with.
    #[schema(example = "Q24-7KX9M2")]
    pub tracking_code: String,
    /// Secret that, with the code, shows the question and its answers.
    pub access_key: String,
    /// `assigned` when a unit was named, otherwise `received`.
    pub status: Status,
    /// When the answer is due: working days, end of day in Vietnam.
    #[schema(value_type = String, format = DateTime, example = "2024-03-04T23:59:59+07:00")]
    pub due_at: DateTime<chrono::FixedOffset>,
}

/// The value of a field, or `None` with its refusal noted.
fn checked<T>(errors: &mut Vec<FieldError>, field: &str, r: Result<T, Invalid>) -> Option<T> {
    r.map_err(|why| errors.push(FieldError::new(field, why)))
        .ok()
}

/// Checks a question; every rejected field is reported at once, in the order of the form
/// (the declared-rules extractor would sort them by name).
fn checked_question(req: AskRequest) -> Result<NewQuestion, ApiError> {
    let mut e = Vec::new();
    let a = &req.asker;
    let title = checked(&mut e, "title", parse_title(&req.title));
    let body = checked(&mut e, "body", parse_body(&req.body));
    let name = checked(&mut e, "asker.name", parse_asker_name(&a.name));
    let email = checked(&mut e, "asker.email", optional_email(a.email.as_deref())).flatten();
    let phone = checked(&mut e, "asker.phone", optional_phone(a.phone.as_deref())).flatten();
    let address = optional_text(a.address.as_deref(), ADDRESS_MAX);
    let address = checked(&mut e, "asker.address", address).flatten();
    let organization = optional_text(a.organization.as_deref(), ORGANIZATION_MAX);
    let organization = checked(&mut e, "asker.organization", organization).flatten();
    let contact = contact_given(a.email.as_deref(), a.phone.as_deref());
    checked(&mut e, "asker", contact);
    match (title, body, name, e.is_empty()) {
        (Some(title), Some(body), Some(name), true) => Ok(NewQuestion {
            title,
            body,
            unit: req.unit,
            category: req.category,
            asker: NewAsker {
                name,
                email,
                phone,
                address,
                organization,
            },
            publish_consent: req.publish_consent,
        }),
        _ => Err(ApiError::Validation(e)),
    }
}

/// Ask a question.
///
/// No account needed. Limited per client address (`PORTAL_QUESTIONS_PER_MINUTE`, per instance);
/// over it answers 429 with `Retry-After`. The answer is due `answer_days` working days after
/// the day it is asked (the category's, or 15), at the end of that day in Vietnam.
#[utoipa::path(
    tag = "questions",
    request_body = AskRequest,
    responses(
        (status = 201, description = "Received; keep the tracking code and access key", body = AskResponse),
        (status = 422, description = "Invalid field, unknown category, unknown or deactivated unit", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many questions from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/questions")]
pub async fn ask(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<AskRequest>,
) -> Result<HttpResponse, ApiError> {
    // The limit is per client address as HTTP sees it (peer or trusted proxy's header), and
    // refuses before the body is even checked: it stays here, at the door.
    if let Some(addr) = client_of(&req, &state.settings.trusted_proxies) {
        if let Err(wait) = state.question_limit.check(addr, Instant::now()) {
            return Err(ApiError::RateLimited {
                retry_after: wait.as_secs().max(1),
            });
        }
    }
    let asked = service::ask(&state, checked_question(body.into_inner())?).await?;
    Ok(HttpResponse::Created().json(AskResponse {
        tracking_code: asked.question.tracking_code,
        access_key: asked.access_key,
        status: asked.question.status,
        due_at: vn(asked.question.due_at),
    }))
}

/// A question as its asker follows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingResponse {
    /// Tracking code.
    pub tracking_code: String,
    /// Title.
    pub title: String,
    /// The question.
    pub body: String,
    /// Category.
    pub category: Option<String>,
    /// The unit that is to answer.
    pub unit: Option<String>,
    /// Status.
    pub status: Status,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// When the answer is due.
    pub due_at: DateTime<Utc>,
    /// Not answered and past `due_at`.
    pub overdue: bool,
    /// First answer.
    pub answered_at: Option<DateTime<Utc>>,
    /// The answers, oldest first.
    pub replies: Vec<ReplyResponse>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// Whether the asker agreed to publication.
    pub publish_consent: bool,
    /// The asker's rating, once given.
    pub rating: Option<RatingResponse>,
}

/// A question and its replies as the asker sees them, at `now` (which decides `overdue`).
pub fn tracking_view(
    q: Question,
    replies: Vec<Reply>,
    now: chrono::NaiveDateTime,
) -> TrackingResponse {
    TrackingResponse {
        overdue: q.is_overdue(now),
        tracking_code: q.tracking_code,
        title: q.title,
        body: q.body,
        category: q.category,
        unit: q.unit,
        status: q.status,
        received_at: q.received_at.and_utc(),
        due_at: q.due_at.and_utc(),
        answered_at: q.answered_at.map(|t| t.and_utc()),
        replies: replies.into_iter().map(ReplyResponse::from).collect(),
        rejection_reason: q.rejection_note,
        publish_consent: q.publish_consent,
        rating: q.rating_score.map(|score| RatingResponse {
            score,
            comment: q.rating_comment,
        }),
    }
}

/// The access key, from `X-Access-Key` or `?key=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// The access key (prefer the `X-Access-Key` header: query strings end up in logs).
    pub key: Option<String>,
}

/// The access key, from `X-Access-Key` or else `?key=`.
fn access_key(req: &HttpRequest, query: Query<KeyQuery>) -> Option<String> {
    req.headers()
        .get("x-access-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query.into_inner().key)
}

/// Follow a question: status, due date, answers, rejection reason.
///
/// Needs the access key in `X-Access-Key` (or `?key=`). A wrong or missing key answers 404,
/// exactly as an unknown code does.
#[utoipa::path(
    tag = "questions",
    params(
        ("tracking_code" = String, Path, description = "The tracking code", example = "Q24-7KX9M2"),
        ("X-Access-Key" = Option<String>, Header, description = "The access key"),
        KeyQuery,
    ),
    responses((status = 200, description = "The question", body = TrackingResponse))
)]
#[get("/tracking/{tracking_code}")]
pub async fn track(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    query: Query<KeyQuery>,
) -> Result<web::Json<TrackingResponse>, ApiError> {
    let (q, replies) = service::track(&state, code.into_inner(), access_key(&req, query)).await?;
    Ok(web::Json(tracking_view(q, replies, state.now())))
}

/// The rating comment's rule, for the declared checks.
fn comment_rule(comment: &str) -> Result<(), validator::ValidationError> {
    rule(optional_text(Some(comment), NOTE_MAX))
}

/// The asker's rating of the answer.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    #[validate(range(
        min = RATING_MIN,
        max = RATING_MAX,
        code = "out_of_range",
        message = "must be from 1 to 5"
    ))]
    pub score: i32,
    /// Comment, up to 2,000 characters.
    #[validate(custom(function = "comment_rule"))]
    pub comment: Option<String>,
}

/// Rate the answer, once, after there is one.
#[utoipa::path(
    tag = "questions",
    params(
        ("tracking_code" = String, Path, description = "The tracking code"),
        ("X-Access-Key" = Option<String>, Header, description = "The access key"),
        KeyQuery,
    ),
    request_body = RatingRequest,
    responses(
        (status = 200, description = "Rated", body = TrackingResponse),
        (status = 409, description = "Not answered yet, or rated already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Score out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tracking/{tracking_code}/rating")]
pub async fn rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
    query: Query<KeyQuery>,
    body: ValidJson<RatingRequest>,
) -> Result<web::Json<TrackingResponse>, ApiError> {
    let RatingRequest { score, comment } = body.into_inner();
    let comment = optional_text(comment.as_deref(), NOTE_MAX)
        .map_err(|why| ApiError::invalid_field("comment", why))?;
    let key = access_key(&req, query);
    let (q, replies) = service::rate(&state, code.into_inner(), key, score, comment).await?;
    Ok(web::Json(tracking_view(q, replies, state.now())))
}
