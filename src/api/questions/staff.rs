//! What staff do with questions: list and read them with the asker's contact details, answer,
//! route, reject and publish them. Officers see their unit's questions, the board all.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::{rule, RatingResponse};
use crate::api::extract::{Json, Query, ValidJson};
use crate::api::page::{after_cursor, parse_after};
use crate::api::{date_range, page_limit, split_page, Page};
use crate::auth::Principal;
use crate::domain::question::{self as rules, parse_body, Action, Actor, Status};
use crate::error::{ApiError, Problem};
use crate::service::questions::{self as service, Question, Reply, StaffListing, Step};
use crate::state::AppState;

/// The asker's details, for staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct AskerResponse {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Organisation.
    pub organization: Option<String>,
}

/// A reply as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffReplyResponse {
    /// Text.
    pub body: String,
    /// The unit that answered, when an officer did.
    pub unit: Option<String>,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A question as staff see it, with the asker's contact details.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionResponse {
    /// Identifier.
    pub id: String,
    /// Tracking code.
    pub tracking_code: String,
    /// Title.
    pub title: String,
    /// The question.
    pub body: String,
    /// Category.
    pub category: Option<String>,
    /// The unit to answer.
    pub unit: Option<String>,
    /// The asker, with contact details.
    pub asker: AskerResponse,
    /// Whether the asker agreed to publication.
    pub publish_consent: bool,
    /// Status.
    pub status: Status,
    /// Not answered and past `due_at`.
    pub overdue: bool,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// When the answer is due.
    pub due_at: DateTime<Utc>,
    /// First reply.
    pub answered_at: Option<DateTime<Utc>>,
    /// Publication.
    pub published_at: Option<DateTime<Utc>>,
    /// The asker's rating.
    pub rating: Option<RatingResponse>,
    /// Replies, oldest first.
    pub replies: Vec<StaffReplyResponse>,
    /// The steps the caller may take now (`reply` through `/replies`).
    pub allowed_actions: Vec<Action>,
}

fn staff_view(
    q: Question,
    replies: Vec<Reply>,
    actor: Actor,
    now: chrono::NaiveDateTime,
) -> QuestionResponse {
    QuestionResponse {
        allowed_actions: rules::allowed_actions(q.status, actor, q.publish_consent),
        overdue: q.is_overdue(now),
        id: q.id,
        tracking_code: q.tracking_code,
        title: q.title,
        body: q.body,
        category: q.category,
        unit: q.unit,
        asker: AskerResponse {
            name: q.asker.name,
            email: q.asker.email,
            phone: q.asker.phone,
            address: q.asker.address,
            organization: q.asker.organization,
        },
        publish_consent: q.publish_consent,
        status: q.status,
        rejection_reason: q.rejection_note,
        received_at: q.received_at.and_utc(),
        due_at: q.due_at.and_utc(),
        answered_at: q.answered_at.map(|t| t.and_utc()),
        published_at: q.published_at.map(|t| t.and_utc()),
        rating: q.rating_score.map(|score| RatingResponse {
            score,
            comment: q.rating_comment,
        }),
        replies: replies
            .into_iter()
            .map(|r| StaffReplyResponse {
                body: r.body,
                unit: r.unit_code,
                author: r.author,
                at: r.created_at.and_utc(),
            })
            .collect(),
    }
}

/// Filters and page of the staff list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionQuery {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this unit (officers always see only their own).
    pub unit: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// `true`: only questions not answered and past their due time; `false`: the others.
    pub overdue: Option<bool>,
    /// Words to find in the title or text, with or without diacritics.
    pub q: Option<String>,
    /// Received on or after this day (Vietnam time).
    pub from: Option<NaiveDate>,
    /// Received on or before this day (Vietnam time).
    pub to: Option<NaiveDate>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List questions, newest first: officers see their unit's, the board all.
#[utoipa::path(
    tag = "questions",
    security(("bearer" = [])),
    params(QuestionQuery),
    responses(
        (status = 200, description = "A page of questions", body = Page<QuestionResponse>),
        (status = 400, description = "Unreadable parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/questions")]
pub async fn list_questions(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<QuestionQuery>,
) -> Result<web::Json<Page<QuestionResponse>>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = parse_after(query.cursor.as_deref())?;
    let (from, to) = date_range(query.from, query.to)?;
    let listing = StaffListing {
        unit: query.unit,
        status: query.status,
        category: query.category,
        overdue: query.overdue,
        from,
        to,
        q: query.q,
        after,
        limit,
    };
    let mut items = service::list_for_staff(&state, &principal, listing).await?;
    let next = split_page(&mut items, limit, |(last, _, _)| {
        after_cursor(last.received_at, &last.id)
    });
    let now = state.now();
    Ok(web::Json(Page {
        items: items
            .into_iter()
            .map(|(q, r, actor)| staff_view(q, r, actor, now))
            .collect(),
        next_cursor: next,
    }))
}

/// Get a question with the asker's contact details.
#[utoipa::path(
    tag = "questions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    responses((status = 200, description = "The question", body = QuestionResponse))
)]
#[get("/questions/{id}")]
pub async fn get_question(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<QuestionResponse>, ApiError> {
    let (q, replies, actor) = service::get_for_staff(&state, &principal, id.into_inner()).await?;
    Ok(web::Json(staff_view(q, replies, actor, state.now())))
}

/// The reply's rule, for the declared checks.
fn body_rule(body: &str) -> Result<(), validator::ValidationError> {
    rule(parse_body(body))
}

/// An answer.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// Text, 1–10,000 characters.
    #[validate(custom(function = "body_rule"))]
    pub body: String,
}

/// Answer a question (officer of the assigned unit, or the board). The first reply answers it;
/// later ones are follow-ups.
#[utoipa::path(
    tag = "questions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "The question with the reply", body = QuestionResponse),
        (status = 409, description = "The question cannot take a reply now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty reply", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/questions/{id}/replies")]
pub async fn reply(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: ValidJson<ReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let text =
        parse_body(&body.into_inner().body).map_err(|why| ApiError::invalid_field("body", why))?;
    let (q, replies, actor) = service::reply(&state, &principal, id.into_inner(), text).await?;
    Ok(HttpResponse::Created().json(staff_view(q, replies, actor, state.now())))
}

/// A step on a question.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStep {
    /// Route to a unit (board); `unit` required. Keeps the due date.
    Assign,
    /// Refuse (board); `note` required, shown to the asker.
    Reject,
    /// Show in the public Q&A (board, or the assigned unit); only when answered and the asker
    /// consented.
    Publish,
}

/// A step on a question.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionTransitionRequest {
    /// The step.
    pub action: QuestionStep,
    /// For `assign`: the unit's code.
    pub unit: Option<String>,
    /// For `reject`: the reason, shown to the asker.
    pub note: Option<String>,
}

/// Route, reject or publish a question.
#[utoipa::path(
    tag = "questions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    request_body = QuestionTransitionRequest,
    responses(
        (status = 200, description = "The question after the step", body = QuestionResponse),
        (status = 409, description = "Not possible now (`allowed_actions` lists what is), or no consent to publish", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing unit or note, unknown or deactivated unit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/questions/{id}/transitions")]
pub async fn transition_question(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<QuestionTransitionRequest>,
) -> Result<web::Json<QuestionResponse>, ApiError> {
    let request = body.into_inner();
    let step = Step {
        action: match request.action {
            QuestionStep::Assign => Action::Assign,
            QuestionStep::Reject => Action::Reject,
            QuestionStep::Publish => Action::Publish,
        },
        unit: request.unit,
        note: request.note,
    };
    let (q, replies, actor) = service::take_step(&state, &principal, id.into_inner(), step).await?;
    Ok(web::Json(staff_view(q, replies, actor, state.now())))
}
