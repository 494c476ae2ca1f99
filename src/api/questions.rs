//! Citizen questions: asking and tracking (public), routing and answering (staff), public Q&A.

use std::time::Instant;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::submissions::{after_cursor, parse_after};
use super::{date_range, page_limit, split_page, Page};
use crate::auth::accounts::{check_unit, random_token};
use crate::auth::policy::{is_board, Role};
use crate::auth::Principal;
use crate::db;
use crate::db::questions::{self as store, Asker, Filter, Question, Reply};
use crate::domain::account::{parse_name, parse_text};
use crate::domain::calendar::local_date;
use crate::domain::content::{index_text, query_terms};
use crate::domain::invalid::Invalid;
use crate::domain::question::{
    self as rules, initials, normalize_tracking_code, parse_email, parse_phone, tracking_code,
    Action, Actor, Refusal, Status,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::ratelimit::client_address;
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

/// Hex SHA-256 of an access key. Keys carry 256 random bits, so a fast hash is enough.
fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn vn(t: chrono::NaiveDateTime) -> DateTime<chrono::FixedOffset> {
    t.and_utc()
        .with_timezone(&crate::domain::calendar::vietnam_offset())
}

/// Checks a question; every rejected field is reported at once.
fn checked_question(req: &AskRequest) -> Result<(String, String, Asker), ApiError> {
    let mut errors = Vec::new();
    let mut check = |field: &str, r: Result<String, Invalid>| match r {
        Ok(v) => Some(v),
        Err(why) => {
            errors.push(FieldError::new(field, why));
            None
        }
    };
    let title = check("title", parse_name(&req.title, 300));
    let body = check(
        "body",
        parse_text(&req.body, 10_000).and_then(|b| {
            if b.is_empty() {
                Err("must not be empty".into())
            } else {
                Ok(b)
            }
        }),
    );
    let a = &req.asker;
    let name = check("asker.name", parse_name(&a.name, 200));
    let email = a
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .and_then(|e| check("asker.email", parse_email(e)));
    let phone = a
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| check("asker.phone", parse_phone(p)));
    let address = a
        .address
        .as_deref()
        .and_then(|v| check("asker.address", parse_text(v, 500)))
        .filter(|v| !v.is_empty());
    let organization = a
        .organization
        .as_deref()
        .and_then(|v| check("asker.organization", parse_text(v, 300)))
        .filter(|v| !v.is_empty());
    let no_contact = a.email.as_deref().is_none_or(|e| e.trim().is_empty())
        && a.phone.as_deref().is_none_or(|p| p.trim().is_empty());
    if no_contact {
        check(
            "asker",
            Err("give an e-mail address or a phone number".into()),
        );
    }
    match (title, body, name, errors.is_empty()) {
        (Some(title), Some(body), Some(name), true) => Ok((
            title,
            body,
            Asker {
                name,
                email,
                phone,
                address,
                organization,
            },
        )),
        _ => Err(ApiError::Validation(errors)),
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
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    if let Some(addr) = client_address(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.settings.trusted_proxies,
    ) {
        if let Err(wait) = state.question_limit.check(addr, Instant::now()) {
            return Err(ApiError::RateLimited {
                retry_after: wait.as_secs().max(1),
            });
        }
    }
    let request = body.into_inner();
    let (title, text, asker) = checked_question(&request)?;
    let access_key = random_token(32);
    let hashed_key = access_key.clone();
    let default_days = state.settings.default_answer_days;
    let now = state.now();
    // Checked and dated against the references in memory: the writer, which all new
    // questions share, only inserts.
    let received_on = local_date(now.and_utc());
    let references = state.references.get(&state.pool, received_on).await?;
    let days = references
        .check(request.unit.as_deref(), request.category.as_deref())?
        .unwrap_or(default_days);
    let due = references
        .calendar
        .deadline_after(now.and_utc(), u32::try_from(days).unwrap_or(15));
    let question = state
        .insert_one(move |conn| {
            let mut question = Question {
                id: uuid::Uuid::new_v4().to_string(),
                tracking_code: tracking_code(received_on.year()),
                access_key_hash: key_hash(&hashed_key),
                title,
                body: text,
                category: request.category,
                unit: request.unit.clone(),
                asker,
                publish_consent: request.publish_consent,
                status: if request.unit.is_some() {
                    Status::Assigned
                } else {
                    Status::Received
                },
                rejection_note: None,
                received_at: now,
                due_at: due.due_at.naive_utc(),
                answered_at: None,
                published_at: None,
                updated_at: now,
                rating_score: None,
                rating_comment: None,
                rated_at: None,
            };
            let folded = index_text(&format!("{} {}", question.title, question.body));
            // A code already given is passed over by the insert itself; another is drawn.
            for _ in 0..8 {
                if store::insert_new_code(conn, &question, &folded)? {
                    return Ok::<_, ApiError>(question);
                }
                question.tracking_code = tracking_code(received_on.year());
            }
            Err(ApiError::Unavailable(
                "No free tracking code was found; please send the question again".to_string(),
            ))
        })
        .await?;
    Ok(HttpResponse::Created().json(AskResponse {
        tracking_code: question.tracking_code,
        access_key,
        status: question.status,
        due_at: vn(question.due_at),
    }))
}

/// A reply, as the asker and the public see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyResponse {
    /// Text.
    pub body: String,
    /// The unit that answered, when an officer did; none when the board did.
    pub unit: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<Reply> for ReplyResponse {
    fn from(r: Reply) -> Self {
        Self {
            body: r.body,
            unit: r.unit_code,
            at: r.created_at.and_utc(),
        }
    }
}

/// The asker's rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingResponse {
    /// 1 (poor) to 5 (excellent).
    pub score: i32,
    /// Comment.
    pub comment: Option<String>,
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

fn tracking_view(q: Question, replies: Vec<Reply>, now: chrono::NaiveDateTime) -> TrackingResponse {
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

/// Loads a question by code if the key fits; anything else is the same 404.
async fn tracked(
    state: &AppState,
    req: &HttpRequest,
    code: &str,
    query_key: Option<String>,
) -> Result<(Question, Vec<Reply>), ApiError> {
    let key = req
        .headers()
        .get("x-access-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query_key);
    let not_found = || ApiError::not_found("A question with this code and key");
    let Some(key) = key.filter(|k| !k.is_empty() && k.len() <= 200) else {
        return Err(not_found());
    };
    let code = normalize_tracking_code(code);
    let found = state
        .read(move |conn| {
            let Some(q) = store::find_by_code(conn, &code)? else {
                return Ok(None);
            };
            let replies = store::replies_of(conn, &q.id)?;
            Ok(Some((q, replies)))
        })
        .await?;
    match found {
        Some((q, replies)) if constant_time_eq(&q.access_key_hash, &key_hash(&key)) => {
            Ok((q, replies))
        }
        _ => Err(not_found()),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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
    let (q, replies) = tracked(&state, &req, &code, query.into_inner().key).await?;
    Ok(web::Json(tracking_view(q, replies, state.now())))
}

/// The asker's rating of the answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    pub score: i32,
    /// Comment, up to 2,000 characters.
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
    body: Json<RatingRequest>,
) -> Result<web::Json<TrackingResponse>, ApiError> {
    let (q, _) = tracked(&state, &req, &code, query.into_inner().key).await?;
    let RatingRequest { score, comment } = body.into_inner();
    if !(1..=5).contains(&score) {
        return Err(ApiError::invalid_field("score", "must be from 1 to 5"));
    }
    let comment = comment
        .as_deref()
        .map(|c| parse_text(c, 2000).map_err(|why| ApiError::invalid_field("comment", why)))
        .transpose()?
        .filter(|c| !c.is_empty());
    let id = q.id.clone();
    let now = state.now();
    let (q, replies) = state
        .read(move |conn| {
            if !store::rate(conn, &id, score, comment.as_deref(), now)? {
                let q = store::find(conn, &id)?.ok_or_else(|| ApiError::not_found("Question"))?;
                return Err(ApiError::Conflict(if q.rating_score.is_some() {
                    "This answer has been rated already".into()
                } else {
                    "There is no answer to rate yet".into()
                }));
            }
            store::find_with_replies(conn, &id)?.ok_or_else(|| ApiError::not_found("Question"))
        })
        .await?;
    Ok(web::Json(tracking_view(q, replies, state.now())))
}

/// How a principal stands to a question: `None` when it may not see it.
fn actor(principal: &Principal, q: &Question) -> Option<Actor> {
    if is_board(principal.role) {
        Some(Actor::Board)
    } else if principal.role == Role::Officer
        && principal.unit.is_some()
        && principal.unit == q.unit
    {
        Some(Actor::AssignedUnit)
    } else {
        None
    }
}

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

/// Loads a question the principal may see, with its replies, or answers 404.
async fn visible(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<(Question, Vec<Reply>, Actor), ApiError> {
    let found = state
        .read(move |conn| Ok(store::find_with_replies(conn, &id)?))
        .await?;
    found
        .and_then(|(q, r)| actor(principal, &q).map(|a| (q, r, a)))
        .ok_or_else(|| ApiError::not_found("Question"))
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
    let unit = match (is_board(principal.role), principal.role, &principal.unit) {
        (true, _, _) => query.unit,
        (false, Role::Officer, Some(own)) if query.unit.as_ref().is_none_or(|u| u == own) => {
            Some(own.clone())
        }
        (false, Role::Officer, _) => return Ok(web::Json(Page::complete(Vec::new()))),
        _ => return Err(ApiError::Forbidden),
    };
    let (from, to) = date_range(query.from, query.to)?;
    let terms = query.q.as_deref().map(query_terms).unwrap_or_default();
    if query.q.as_deref().is_some_and(|q| !q.trim().is_empty()) && terms.is_empty() {
        return Ok(web::Json(Page::complete(Vec::new())));
    }
    let now = state.now();
    let filter = Filter {
        unit,
        status: query.status,
        category: query.category,
        overdue: query.overdue,
        now: Some(now),
        from,
        to,
        terms,
    };
    let (mut items, mut replies) = state
        .read(move |conn| {
            let items = store::list(conn, &filter, after.as_ref(), limit as i64 + 1)?;
            let ids: Vec<String> = items.iter().map(|q| q.id.clone()).collect();
            let replies = store::replies(conn, &ids)?;
            Ok((items, replies))
        })
        .await?;
    let next = split_page(&mut items, limit, |last| {
        after_cursor(last.received_at, &last.id)
    });
    let views = items
        .into_iter()
        .filter_map(|q| {
            let a = actor(&principal, &q)?;
            let r = replies.remove(&q.id).unwrap_or_default();
            Some(staff_view(q, r, a, now))
        })
        .collect();
    Ok(web::Json(Page {
        items: views,
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
    let (q, replies, actor) = visible(&state, &principal, id.into_inner()).await?;
    Ok(web::Json(staff_view(q, replies, actor, state.now())))
}

/// An answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// Text, 1–10,000 characters.
    pub body: String,
}

fn refusal(q: &Question, action: Action, refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Forbidden => ApiError::Forbidden,
        Refusal::InvalidTransition { allowed } => ApiError::InvalidTransition {
            status: q.status.as_str().into(),
            action: if action == Action::Publish && !q.publish_consent {
                "publish (the asker did not consent)".into()
            } else {
                action.as_str().into()
            },
            allowed: allowed.iter().map(|a| a.as_str().to_string()).collect(),
        },
    }
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
    body: Json<ReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (q, _, actor) = visible(&state, &principal, id.into_inner()).await?;
    rules::transition(q.status, Action::Reply, actor, q.publish_consent)
        .map_err(|r| refusal(&q, Action::Reply, r))?;
    let text = parse_text(&body.into_inner().body, 10_000)
        .and_then(|b| {
            if b.is_empty() {
                Err("must not be empty".into())
            } else {
                Ok(b)
            }
        })
        .map_err(|why| ApiError::invalid_field("body", why))?;
    let unit = (actor == Actor::AssignedUnit)
        .then(|| q.unit.clone())
        .flatten();
    let subject = principal.subject.clone();
    let now = state.now();
    let (q, replies) = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let received = local_date(q.received_at.and_utc());
                let days = db::holidays::calendar(conn, received, local_date(now.and_utc()))?
                    .working_days_between(q.received_at.and_utc(), now.and_utc());
                let days = i32::try_from(days).unwrap_or(i32::MAX);
                if !store::add_reply(conn, &q, &text, unit.as_deref(), &subject, now, days)? {
                    return Err(ApiError::Conflict(
                        "The question changed meanwhile; read it again".into(),
                    ));
                }
                store::find_with_replies(conn, &q.id)?
                    .ok_or_else(|| ApiError::not_found("Question"))
            })
        })
        .await?;
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
    let (q, _, actor) = visible(&state, &principal, id.into_inner()).await?;
    let request = body.into_inner();
    let action = match request.action {
        QuestionStep::Assign => Action::Assign,
        QuestionStep::Reject => Action::Reject,
        QuestionStep::Publish => Action::Publish,
    };
    rules::transition(q.status, action, actor, q.publish_consent)
        .map_err(|r| refusal(&q, action, r))?;
    let note = match (action, request.note.as_deref().map(|n| parse_text(n, 2000))) {
        (_, Some(Err(why))) => return Err(ApiError::invalid_field("note", why)),
        (Action::Reject, Some(Ok(n))) if !n.is_empty() => Some(n),
        (Action::Reject, _) => {
            return Err(ApiError::invalid_field(
                "note",
                "a rejection needs a reason for the asker",
            ))
        }
        _ => None,
    };
    let unit = match (action, request.unit) {
        (Action::Assign, Some(u)) => Some(u),
        (Action::Assign, None) => {
            return Err(ApiError::invalid_field("unit", "name the unit to assign"))
        }
        _ => None,
    };
    let now = state.now();
    let (q, replies) = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let moved = match action {
                    Action::Assign => {
                        let unit = unit.unwrap_or_default();
                        check_unit(conn, Role::Officer, Some(&unit))?;
                        store::assign(conn, &q.id, q.status, &unit, now)?
                    }
                    Action::Reject => {
                        store::reject(conn, &q.id, q.status, note.as_deref().unwrap_or(""), now)?
                    }
                    Action::Publish => store::publish(conn, &q.id, now)?,
                    Action::Reply => false,
                };
                if !moved {
                    return Err(ApiError::Conflict(
                        "The question changed meanwhile; read it again".into(),
                    ));
                }
                store::find_with_replies(conn, &q.id)?
                    .ok_or_else(|| ApiError::not_found("Question"))
            })
        })
        .await?;
    Ok(web::Json(staff_view(q, replies, actor, state.now())))
}

/// A published question and its answers. Never the asker's contact details.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicQuestion {
    /// Identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// The question.
    pub body: String,
    /// Category.
    pub category: Option<String>,
    /// The unit that answered.
    pub unit: Option<String>,
    /// The asker's initials, e.g. `N. V. A.`
    #[schema(example = "N. V. A.")]
    pub asker: String,
    /// When it was asked.
    pub asked_at: DateTime<Utc>,
    /// When it was first answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// The answers, oldest first.
    pub replies: Vec<ReplyResponse>,
}

fn public_view(q: Question, replies: Vec<Reply>) -> PublicQuestion {
    PublicQuestion {
        asker: initials(&q.asker.name),
        id: q.id,
        title: q.title,
        body: q.body,
        category: q.category,
        unit: q.unit,
        asked_at: q.received_at.and_utc(),
        answered_at: q.answered_at.map(|t| t.and_utc()),
        published_at: q.published_at.map(|t| t.and_utc()),
        replies: replies.into_iter().map(ReplyResponse::from).collect(),
    }
}

/// Filters and page of the public Q&A.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuestionQuery {
    /// Only this category.
    pub category: Option<String>,
    /// Only this unit.
    pub unit: Option<String>,
    /// Words to find, with or without diacritics.
    pub q: Option<String>,
    /// Published on or after this day (Vietnam time).
    pub from: Option<NaiveDate>,
    /// Published on or before this day (Vietnam time).
    pub to: Option<NaiveDate>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The public Q&A: published questions with their answers, newest first.
#[utoipa::path(
    tag = "public",
    params(PublicQuestionQuery),
    responses(
        (status = 200, description = "A page of questions and answers", body = Page<PublicQuestion>),
        (status = 400, description = "Unreadable parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/questions")]
pub async fn list_public_questions(
    state: web::Data<AppState>,
    query: Query<PublicQuestionQuery>,
) -> Result<web::Json<Page<PublicQuestion>>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = parse_after(query.cursor.as_deref())?;
    let (from, to) = date_range(query.from, query.to)?;
    let terms = query.q.as_deref().map(query_terms).unwrap_or_default();
    if query.q.as_deref().is_some_and(|q| !q.trim().is_empty()) && terms.is_empty() {
        return Ok(web::Json(Page::complete(Vec::new())));
    }
    let filter = Filter {
        unit: query.unit,
        category: query.category,
        from,
        to,
        terms,
        ..Default::default()
    };
    let (mut items, mut replies) = state
        .read(move |conn| {
            let items = store::list_published(conn, &filter, after.as_ref(), limit as i64 + 1)?;
            let ids: Vec<String> = items.iter().map(|q| q.id.clone()).collect();
            let replies = store::replies(conn, &ids)?;
            Ok((items, replies))
        })
        .await?;
    let next = split_page(&mut items, limit, |last| {
        after_cursor(last.published_at.unwrap_or(last.updated_at), &last.id)
    });
    Ok(web::Json(Page {
        items: items
            .into_iter()
            .map(|q| {
                let r = replies.remove(&q.id).unwrap_or_default();
                public_view(q, r)
            })
            .collect(),
        next_cursor: next,
    }))
}

/// One published question with its answers.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Question id")),
    responses((status = 200, description = "The question", body = PublicQuestion))
)]
#[get("/public/questions/{id}")]
pub async fn get_public_question(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<web::Json<PublicQuestion>, ApiError> {
    let id = id.into_inner();
    let found = state
        .read(move |conn| {
            Ok(store::find_with_replies(conn, &id)?.filter(|(q, _)| q.status == Status::Published))
        })
        .await?;
    found
        .map(|(q, r)| web::Json(public_view(q, r)))
        .ok_or_else(|| ApiError::not_found("Question"))
}
