//! Submissions and the editorial workflow (staff).

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::{date_range, double_option, page_limit, split_page, Cursor, Page};
use crate::auth::accounts::check_unit;
use crate::auth::policy::{handles_submissions, is_board, Role};
use crate::auth::Principal;
use crate::db::idempotency::{self, Claim};
use crate::db::submissions::{self as store, After, Content, Filter, Submission};
use crate::db::{self, DbConnection};
use crate::domain::account::{parse_name, parse_text};
use crate::domain::content::{
    parse_web_url, query_terms, sanitize_html, Attachment, MAX_ATTACHMENTS, MAX_BODY_BYTES,
};
use crate::domain::invalid::Invalid;
use crate::domain::submission::{self as workflow, Action, Actor, Refusal, Status};
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

/// A new content item from a unit.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubmissionRequest {
    /// The unit it is for: required for editors; officers and API clients post for their own.
    #[schema(example = "so-khcn")]
    pub unit: Option<String>,
    /// Category code.
    #[schema(example = "khoa-hoc-cong-nghe")]
    pub category: String,
    /// Title, 1–300 characters.
    #[schema(example = "Kết quả nghiên cứu khoa học tháng 3")]
    pub title: String,
    /// Summary, up to 2,000 characters.
    #[serde(default)]
    pub summary: String,
    /// HTML, up to 512 KiB; scripts and event handlers are removed. Links and images keep only
    /// http and https addresses, in normal form: relative ones are made absolute against the
    /// portal's public address; other schemes and `//host` addresses are dropped (a link keeps
    /// its text).
    #[serde(default)]
    pub body: String,
    /// Number and date of the source document.
    #[schema(example = "Số 123/TB-SKHCN ngày 05/3/2024")]
    pub source_ref: Option<String>,
    /// Address of the source document: http or https with a host and no user name or password,
    /// at most 2,000 characters, without spaces, quotes (write `'` as `%27`), backticks or any of
    /// `< > \ ^ { | }`. Stored in normal form: lower-case scheme and host, international host
    /// names in punycode, other letters beyond ASCII percent-encoded.
    pub source_url: Option<String>,
    /// When the event took place.
    pub event_date: Option<NaiveDate>,
    /// Attached files and pages (addresses checked like `source_url`), at most 50.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// `true` keeps it a draft; otherwise it is submitted at once.
    #[serde(default)]
    pub draft: bool,
}

/// Changes to the content; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubmissionRequest {
    /// Category code.
    pub category: Option<String>,
    /// Title, 1–300 characters.
    pub title: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// HTML body.
    pub body: Option<String>,
    /// Source document number; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source_ref: Option<Option<String>>,
    /// Source document address; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source_url: Option<Option<String>>,
    /// Event date; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub event_date: Option<Option<NaiveDate>>,
    /// Attachments (replaces the list).
    pub attachments: Option<Vec<Attachment>>,
}

/// A workflow step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The step to take.
    pub action: Action,
    /// Required for `return`, `reject` and `unpublish`; the unit sees it.
    pub note: Option<String>,
}

/// A submission, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionResponse {
    /// Identifier.
    pub id: String,
    /// The unit it comes from.
    pub unit: String,
    /// Category code.
    pub category: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Sanitised HTML: what was stored is what is served.
    pub body: String,
    /// Source document number.
    pub source_ref: Option<String>,
    /// Source document address.
    pub source_url: Option<String>,
    /// Event date.
    pub event_date: Option<NaiveDate>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Workflow status.
    pub status: Status,
    /// +1 on every change; also the `ETag`.
    pub version: i32,
    /// Who created it (`user:<id>` or `client:<client_id>`).
    pub author: String,
    /// The workflow steps the caller may take now.
    pub allowed_actions: Vec<Action>,
    /// Whether the caller may edit the content now.
    pub editable: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// First submission to the board.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Last publication.
    pub published_at: Option<DateTime<Utc>>,
}

impl SubmissionResponse {
    fn new(s: Submission, actor: Actor) -> Self {
        Self {
            allowed_actions: workflow::allowed_actions(s.status, actor),
            editable: workflow::editable(s.status, actor),
            id: s.id,
            unit: s.unit,
            category: s.content.category,
            title: s.content.title,
            summary: s.content.summary,
            body: s.content.body,
            source_ref: s.content.source_ref,
            source_url: s.content.source_url,
            event_date: s.content.event_date,
            attachments: s.content.attachments,
            status: s.status,
            version: s.version,
            author: s.author,
            created_at: s.created_at.and_utc(),
            updated_at: s.updated_at.and_utc(),
            submitted_at: s.submitted_at.map(|t| t.and_utc()),
            published_at: s.published_at.map(|t| t.and_utc()),
        }
    }
}

/// The entity tag of a version.
fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

fn with_etag(mut response: HttpResponse, version: i32) -> HttpResponse {
    if let Ok(value) = header::HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn respond(status: actix_web::http::StatusCode, body: &SubmissionResponse) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == actix_web::http::StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("/api/v1/submissions/{}", body.id)));
    }
    with_etag(response.json(body), body.version)
}

/// Checks and cleans content as sent; every rejected field is reported at once. Relative links
/// in the body are made absolute against `base`.
fn checked_content(raw: Content, base: &Url) -> Result<Content, ApiError> {
    let Content {
        category,
        title,
        summary,
        body,
        source_ref,
        source_url,
        event_date,
        attachments,
    } = raw;
    let mut errors = Vec::new();
    let mut check = |field: &str, r: Result<String, Invalid>| match r {
        Ok(v) => Some(v),
        Err(why) => {
            errors.push(FieldError::new(field, why));
            None
        }
    };
    let title = check("title", parse_name(&title, 300));
    let summary = check("summary", parse_text(&summary, 2000));
    let body_ok = check(
        "body",
        if body.len() > MAX_BODY_BYTES {
            Err(Invalid::new(
                "too_long",
                format!("must be at most {MAX_BODY_BYTES} bytes"),
            ))
        } else {
            Ok(body)
        },
    );
    let source_ref = source_ref.and_then(|r| check("source_ref", parse_name(&r, 300)));
    let source_url = source_url.and_then(|u| check("source_url", parse_web_url(&u)));
    let mut clean_attachments = Vec::new();
    if attachments.len() > MAX_ATTACHMENTS {
        check(
            "attachments",
            Err(Invalid::new(
                "too_many",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            )),
        );
    }
    for (i, a) in attachments.iter().enumerate() {
        let url = check(&format!("attachments[{i}].url"), parse_web_url(&a.url));
        let title = check(
            &format!("attachments[{i}].title"),
            parse_name(&a.title, 300),
        );
        if let (Some(url), Some(title)) = (url, title) {
            clean_attachments.push(Attachment { url, title });
        }
    }
    if let Some(d) = event_date {
        use chrono::Datelike;
        if !(1900..=2100).contains(&d.year()) {
            check("event_date", Err("must be a date from 1900 to 2100".into()));
        }
    }
    let (Some(title), Some(summary), Some(body), true) =
        (title, summary, body_ok, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    Ok(Content {
        category,
        title,
        summary,
        body: sanitize_html(&body, base),
        source_ref,
        source_url,
        event_date,
        attachments: clean_attachments,
    })
}

/// Checks that a category exists and a unit can take new items.
fn check_references(conn: &mut DbConnection, unit: &str, category: &str) -> Result<(), ApiError> {
    check_unit(conn, Role::Officer, Some(unit))?;
    if db::categories::find(conn, category)?.is_none() {
        return Err(ApiError::invalid_field(
            "category",
            format!("no category has the code {category:?}"),
        ));
    }
    Ok(())
}

/// Reads `Idempotency-Key`: 1–200 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "Idempotency-Key",
            "must be 1 to 200 visible ASCII characters",
        )));
    }
    Ok(Some(key.to_string()))
}

/// Create a submission.
///
/// Officers and API clients post for their own unit; editors name the `unit`. Unless `draft`
/// is true the item is submitted to the board at once. With `Idempotency-Key`, a retry with
/// the same key and body within 24 hours gets the first answer again and creates nothing;
/// the same key with another body answers 422; a retry while the first is still running, 409.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "Makes retries safe: 1–200 visible ASCII characters")),
    request_body = CreateSubmissionRequest,
    responses(
        (status = 201, description = "Created", body = SubmissionResponse,
            headers(("Location" = String, description = "The new item"), ("ETag" = String, description = "Its version"))),
        (status = 409, description = "A request with this Idempotency-Key is still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, unknown category, deactivated unit, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/submissions")]
pub async fn create_submission(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: Json<CreateSubmissionRequest>,
) -> Result<HttpResponse, ApiError> {
    if !handles_submissions(principal.role) {
        return Err(ApiError::Forbidden);
    }
    let key = idempotency_key(&req)?;
    let request = body.into_inner();
    let unit = match (&principal.unit, &request.unit, is_board(principal.role)) {
        // Editors and admins act for any unit, and must say which.
        (_, Some(unit), true) => unit.clone(),
        (_, None, true) => {
            return Err(ApiError::invalid_field(
                "unit",
                "editors must name the unit",
            ))
        }
        (Some(own), Some(unit), false) if own != unit => return Err(ApiError::Forbidden),
        (Some(own), _, false) => own.clone(),
        (None, _, false) => return Err(ApiError::Forbidden),
    };
    let hash = {
        let canonical = serde_json::to_vec(&request).map_err(anyhow::Error::from)?;
        hex(&Sha256::digest(
            [unit.as_bytes(), b"\0", &canonical].concat(),
        ))
    };
    let content = checked_content(
        Content {
            category: request.category.clone(),
            title: request.title.clone(),
            summary: request.summary.clone(),
            body: request.body.clone(),
            source_ref: request.source_ref.clone(),
            source_url: request.source_url.clone(),
            event_date: request.event_date,
            attachments: request.attachments.clone(),
        },
        &state.settings.public_base_url,
    )?;
    let status = if request.draft {
        Status::Draft
    } else {
        Status::Submitted
    };
    let actor = principal
        .submission_actor(&unit)
        .ok_or(ApiError::Forbidden)?;
    let subject = principal.subject.clone();

    let outcome = state
        .insert(move |conn| {
            if let Some(key) = &key {
                match idempotency::claim(conn, &subject, key, &hash, db::now())? {
                    Claim::Fresh => {}
                    Claim::Replay { status, body } => return Ok(Err((status, body))),
                    Claim::Mismatch => return Err(ApiError::IdempotencyKeyReused),
                    Claim::InProgress => {
                        return Err(ApiError::Conflict(
                            "A request with this Idempotency-Key is still running; retry later"
                                .into(),
                        ))
                    }
                }
            }
            let created = conn.transaction(|conn| {
                check_references(conn, &unit, &content.category)?;
                let id = uuid::Uuid::new_v4().to_string();
                store::insert(conn, &id, &unit, &content, status, &subject, db::now())?;
                let submission = store::find(conn, &id)?
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("submission vanished")))?;
                let response = SubmissionResponse::new(submission, actor);
                if let Some(key) = &key {
                    let body = serde_json::to_string(&response).map_err(anyhow::Error::from)?;
                    idempotency::complete(conn, &subject, key, 201, &body)?;
                }
                Ok::<_, ApiError>(response)
            });
            match created {
                Ok(response) => Ok(Ok(response)),
                Err(e) => {
                    if let Some(key) = &key {
                        idempotency::release(conn, &subject, key)?;
                    }
                    Err(e)
                }
            }
        })
        .await?;
    match outcome {
        Ok(response) => Ok(respond(actix_web::http::StatusCode::CREATED, &response)),
        Err((status, body)) => replay(status, body),
    }
}

/// Answers a stored first answer again, with its headers.
fn replay(status: u16, body: String) -> Result<HttpResponse, ApiError> {
    let value: serde_json::Value = serde_json::from_str(&body).map_err(anyhow::Error::from)?;
    let status = actix_web::http::StatusCode::from_u16(status).map_err(anyhow::Error::from)?;
    let mut response = HttpResponse::build(status);
    response.insert_header(("Idempotent-Replayed", "true"));
    if let Some(id) = value["id"].as_str() {
        response.insert_header((header::LOCATION, format!("/api/v1/submissions/{id}")));
    }
    let version = value["version"].as_i64().unwrap_or(0) as i32;
    Ok(with_etag(
        response.content_type("application/json").body(body),
        version,
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Filters and page of the staff list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmissionQuery {
    /// Only this unit (officers always see only their own).
    pub unit: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this category.
    pub category: Option<String>,
    /// Created on or after this day (Vietnam time).
    pub from: Option<NaiveDate>,
    /// Created on or before this day (Vietnam time).
    pub to: Option<NaiveDate>,
    /// Words to find in the title, summary, body or document number, with or without
    /// diacritics (`tuyen dung` finds `Tuyển dụng`).
    pub q: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One item of the staff list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionListItem {
    /// Identifier.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Category.
    pub category: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Status.
    pub status: Status,
    /// Version.
    pub version: i32,
    /// Event date.
    pub event_date: Option<NaiveDate>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// First submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Last publication.
    pub published_at: Option<DateTime<Utc>>,
}

impl From<Submission> for SubmissionListItem {
    fn from(s: Submission) -> Self {
        Self {
            id: s.id,
            unit: s.unit,
            category: s.content.category,
            title: s.content.title,
            summary: s.content.summary,
            status: s.status,
            version: s.version,
            event_date: s.content.event_date,
            created_at: s.created_at.and_utc(),
            updated_at: s.updated_at.and_utc(),
            submitted_at: s.submitted_at.map(|t| t.and_utc()),
            published_at: s.published_at.map(|t| t.and_utc()),
        }
    }
}

/// Encodes a list position as a cursor.
pub(crate) fn after_cursor(at: chrono::NaiveDateTime, id: &str) -> String {
    Cursor::encode(&format!("{}|{id}", at.and_utc().timestamp_micros()))
}

/// Reads a list position from a cursor.
pub(crate) fn parse_after(cursor: Option<&str>) -> Result<Option<After>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad =
        || ApiError::InvalidParameter(FieldError::new("cursor", "is not a cursor this API gave"));
    let decoded = Cursor::decode(cursor)?;
    let (micros, id) = decoded.as_str().split_once('|').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok(Some(After {
        at: at.naive_utc(),
        id: id.to_string(),
    }))
}

/// Builds the store filter from query parameters; `None` when `q` has no searchable word.
pub(crate) fn filter_of(
    unit: Option<String>,
    status: Option<Status>,
    category: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    q: Option<&str>,
) -> Result<Option<Filter>, ApiError> {
    let (from, to) = date_range(from, to)?;
    let terms = q.map(query_terms).unwrap_or_default();
    if q.is_some_and(|q| !q.trim().is_empty()) && terms.is_empty() {
        return Ok(None);
    }
    Ok(Some(Filter {
        unit,
        statuses: status.into_iter().collect(),
        category,
        from,
        to,
        terms,
    }))
}

/// List submissions, newest first.
///
/// Officers and API clients see their own unit's items only. Pages are stable while new items
/// arrive: a cursor continues after the last item served.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(SubmissionQuery),
    responses(
        (status = 200, description = "A page of submissions", body = Page<SubmissionListItem>),
        (status = 400, description = "Unreadable parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/submissions")]
pub async fn list_submissions(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<SubmissionQuery>,
) -> Result<web::Json<Page<SubmissionListItem>>, ApiError> {
    if !handles_submissions(principal.role) {
        return Err(ApiError::Forbidden);
    }
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = parse_after(query.cursor.as_deref())?;
    let unit = match (is_board(principal.role), &principal.unit) {
        (true, _) => query.unit,
        // An officer's list is its own unit's, whatever it asks for.
        (_, Some(own)) if query.unit.as_ref().is_none_or(|u| u == own) => Some(own.clone()),
        _ => return Ok(web::Json(Page::complete(Vec::new()))),
    };
    let Some(filter) = filter_of(
        unit,
        query.status,
        query.category,
        query.from,
        query.to,
        query.q.as_deref(),
    )?
    else {
        return Ok(web::Json(Page::complete(Vec::new())));
    };
    let mut items = state
        .read(move |conn| {
            Ok(store::list(
                conn,
                &filter,
                after.as_ref(),
                limit as i64 + 1,
            )?)
        })
        .await?;
    let next = split_page(&mut items, limit, |last| {
        after_cursor(last.created_at, &last.id)
    });
    Ok(web::Json(Page {
        items: items.into_iter().map(SubmissionListItem::from).collect(),
        next_cursor: next,
    }))
}

/// Loads an item the principal may see, or answers 404 as if it did not exist.
async fn visible(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<(Submission, Actor), ApiError> {
    let found = state.read(move |conn| Ok(store::find(conn, &id)?)).await?;
    found
        .and_then(|s| principal.submission_actor(&s.unit).map(|actor| (s, actor)))
        .ok_or_else(|| ApiError::not_found("Submission"))
}

/// Get a submission, with its `ETag`.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id")),
    responses((status = 200, description = "The submission", body = SubmissionResponse,
        headers(("ETag" = String, description = "Its version, for If-Match"))))
)]
#[get("/submissions/{id}")]
pub async fn get_submission(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (submission, actor) = visible(&state, &principal, id.into_inner()).await?;
    Ok(respond(
        actix_web::http::StatusCode::OK,
        &SubmissionResponse::new(submission, actor),
    ))
}

/// The version `If-Match` names: 428 without it, 412 when it is not `current`.
fn check_if_match(req: &HttpRequest, current: i32, required: bool) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return if required {
            Err(ApiError::PreconditionRequired)
        } else {
            Ok(())
        };
    };
    let value = value.to_str().unwrap_or("");
    let matches = value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag(current));
    if matches {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

/// Edit the content of a submission.
///
/// Needs `If-Match` with the current `ETag` (428 without it, 412 when another change came
/// first). The unit edits its drafts and returned items; the board edits items submitted or
/// in review. Every edit is kept as a revision.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Submission id"),
        ("If-Match" = String, Header, description = "The ETag the change is based on"),
    ),
    request_body = UpdateSubmissionRequest,
    responses(
        (status = 200, description = "The changed submission", body = SubmissionResponse),
        (status = 409, description = "Not editable by the caller in its current status", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The item changed since the ETag was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/submissions/{id}")]
pub async fn update_submission(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UpdateSubmissionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (current, actor) = visible(&state, &principal, id.into_inner()).await?;
    check_if_match(&req, current.version, true)?;
    if !workflow::editable(current.status, actor) {
        return Err(ApiError::Conflict(format!(
            "The item cannot be edited by you while it is {}",
            current.status.as_str()
        )));
    }
    let change = body.into_inner();
    let old = current.content.clone();
    let content = checked_content(
        Content {
            category: change.category.unwrap_or(old.category),
            title: change.title.unwrap_or(old.title),
            summary: change.summary.unwrap_or(old.summary),
            body: change.body.unwrap_or(old.body),
            source_ref: change.source_ref.unwrap_or(old.source_ref),
            source_url: change.source_url.unwrap_or(old.source_url),
            event_date: change.event_date.unwrap_or(old.event_date),
            attachments: change.attachments.unwrap_or(old.attachments),
        },
        &state.settings.public_base_url,
    )?;
    let subject = principal.subject.clone();
    let updated = state
        .write(move |conn| {
            conn.transaction(|conn| {
                if content.category != current.content.category
                    && db::categories::find(conn, &content.category)?.is_none()
                {
                    return Err(ApiError::invalid_field(
                        "category",
                        format!("no category has the code {:?}", content.category),
                    ));
                }
                if !store::update_content(
                    conn,
                    &current.id,
                    current.version,
                    &content,
                    &subject,
                    db::now(),
                )? {
                    return Err(ApiError::PreconditionFailed);
                }
                store::find(conn, &current.id)?.ok_or_else(|| ApiError::not_found("Submission"))
            })
        })
        .await?;
    Ok(respond(
        actix_web::http::StatusCode::OK,
        &SubmissionResponse::new(updated, actor),
    ))
}

/// Take a workflow step: submit, withdraw, start_review, publish, return, reject, unpublish.
///
/// `return`, `reject` and `unpublish` need a `note`, which the unit sees. A step the current
/// status does not allow answers 409 `invalid_transition` with `allowed_actions`; a step the
/// caller's role never takes answers 403. `If-Match` is optional here; when sent, a stale one
/// answers 412.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Submission id"),
        ("If-Match" = Option<String>, Header, description = "Optional: the ETag the step is based on"),
    ),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The submission after the step", body = SubmissionResponse),
        (status = 409, description = "Not possible from the current status (`allowed_actions` lists what is)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A note is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/submissions/{id}/transitions")]
pub async fn transition_submission(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (current, actor) = visible(&state, &principal, id.into_inner()).await?;
    check_if_match(&req, current.version, false)?;
    let TransitionRequest { action, note } = body.into_inner();
    let to =
        workflow::transition(current.status, action, actor).map_err(|refusal| match refusal {
            Refusal::Forbidden => ApiError::Forbidden,
            Refusal::InvalidTransition { allowed } => ApiError::InvalidTransition {
                status: current.status.as_str().into(),
                action: action.as_str().into(),
                allowed: allowed.iter().map(|a| a.as_str().to_string()).collect(),
            },
        })?;
    let note = match note.as_deref().map(|n| parse_text(n, 2000)) {
        Some(Err(why)) => return Err(ApiError::invalid_field("note", why)),
        Some(Ok(n)) if !n.is_empty() => Some(n),
        _ if action.needs_note() => {
            return Err(ApiError::invalid_field(
                "note",
                format!("'{}' needs a note for the unit", action.as_str()),
            ))
        }
        _ => None,
    };
    let was_published = current.status == Status::Published;
    let subject = principal.subject.clone();
    let updated = state
        .write(move |conn| {
            conn.transaction(|conn| {
                if !store::apply_transition(
                    conn,
                    &current,
                    action,
                    to,
                    &subject,
                    note.as_deref(),
                    db::now(),
                )? {
                    // Another change came first: say what the item is now.
                    let now = store::find(conn, &current.id)?
                        .ok_or_else(|| ApiError::not_found("Submission"))?;
                    return Err(if now.status == current.status {
                        ApiError::PreconditionFailed
                    } else {
                        ApiError::InvalidTransition {
                            status: now.status.as_str().into(),
                            action: action.as_str().into(),
                            allowed: workflow::allowed_actions(now.status, actor)
                                .iter()
                                .map(|a| a.as_str().to_string())
                                .collect(),
                        }
                    });
                }
                store::find(conn, &current.id)?.ok_or_else(|| ApiError::not_found("Submission"))
            })
        })
        .await?;
    if was_published || updated.status == Status::Published {
        state.public_cache.invalidate();
    }
    Ok(respond(
        actix_web::http::StatusCode::OK,
        &SubmissionResponse::new(updated, actor),
    ))
}

/// A status change in the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// The item's version after it.
    pub version: i32,
    /// `create` or the workflow action.
    pub action: String,
    /// Status before (none for creation).
    pub from: Option<String>,
    /// Status after.
    pub to: String,
    /// Who (`user:<id>` or `client:<client_id>`).
    pub actor: String,
    /// The note, for return, reject and unpublish.
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The content as it was at a version.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionResponse {
    /// The version this content belongs to.
    pub version: i32,
    /// Category.
    pub category: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Body.
    pub body: String,
    /// Source document number.
    pub source_ref: Option<String>,
    /// Source document address.
    pub source_url: Option<String>,
    /// Event date.
    pub event_date: Option<NaiveDate>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Every status change and every content revision of an item, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    /// Status changes, creation first.
    pub events: Vec<EventResponse>,
    /// Content revisions, the first version first.
    pub revisions: Vec<RevisionResponse>,
}

/// The history of a submission: events and revisions, oldest first.
#[utoipa::path(
    tag = "submissions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id")),
    responses((status = 200, description = "The history", body = HistoryResponse))
)]
#[get("/submissions/{id}/history")]
pub async fn submission_history(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    let (submission, _) = visible(&state, &principal, id.into_inner()).await?;
    let (revisions, events) = state
        .read(move |conn| Ok(store::history(conn, &submission.id)?))
        .await?;
    Ok(web::Json(HistoryResponse {
        events: events
            .into_iter()
            .map(|e| EventResponse {
                version: e.version,
                action: e.action,
                from: e.from_status,
                to: e.to_status,
                actor: e.actor,
                note: e.note,
                at: e.created_at.and_utc(),
            })
            .collect(),
        revisions: revisions
            .into_iter()
            .map(|r| RevisionResponse {
                version: r.version,
                category: r.category_code,
                title: r.title,
                summary: r.summary,
                body: r.body,
                source_ref: r.source_ref,
                source_url: r.source_url,
                event_date: r.event_date,
                attachments: serde_json::from_str(&r.attachments).unwrap_or_default(),
                author: r.author,
                at: r.created_at.and_utc(),
            })
            .collect(),
    }))
}
