//! Posting a new item and editing its content.

use actix_web::http::{header, StatusCode};
use actix_web::{patch, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{if_match, location, respond, respond_with, with_etag, SubmissionResponse};
use crate::api::double_option;
use crate::api::extract::Json;
use crate::auth::Principal;
use crate::domain::content::Attachment;
use crate::domain::submission::{Content, ContentChange};
use crate::error::{ApiError, Problem};
use crate::service::submissions::{self as service, Created, NewSubmission, Retry};
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

impl CreateSubmissionRequest {
    fn into_new(self) -> NewSubmission {
        NewSubmission {
            unit: self.unit,
            content: Content {
                category: self.category,
                title: self.title,
                summary: self.summary,
                body: self.body,
                source_ref: self.source_ref,
                source_url: self.source_url,
                event_date: self.event_date,
                attachments: self.attachments,
            },
            draft: self.draft,
        }
    }
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

impl From<UpdateSubmissionRequest> for ContentChange {
    fn from(r: UpdateSubmissionRequest) -> Self {
        Self {
            category: r.category,
            title: r.title,
            summary: r.summary,
            body: r.body,
            source_ref: r.source_ref,
            source_url: r.source_url,
            event_date: r.event_date,
            attachments: r.attachments,
        }
    }
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
    let request = body.into_inner();
    let retry = match req.headers().get("idempotency-key") {
        Some(value) => Some(Retry {
            key: value.to_str().unwrap_or("").to_string(),
            request: serde_json::to_vec(&request).map_err(anyhow::Error::from)?,
        }),
        None => None,
    };
    let created = service::create(
        &state,
        &principal,
        request.into_new(),
        retry,
        SubmissionResponse::new,
    )
    .await?;
    match created {
        Created::New(response) => Ok(respond_with(StatusCode::CREATED, &response)),
        Created::Replayed { status, body } => replay(status, body),
    }
}

/// Answers a stored first answer again, with its headers.
fn replay(status: u16, body: String) -> Result<HttpResponse, ApiError> {
    let value: serde_json::Value = serde_json::from_str(&body).map_err(anyhow::Error::from)?;
    let status = StatusCode::from_u16(status).map_err(anyhow::Error::from)?;
    let mut response = HttpResponse::build(status);
    response.insert_header(("Idempotent-Replayed", "true"));
    if let Some(id) = value["id"].as_str() {
        response.insert_header((header::LOCATION, location(id)));
    }
    let version = value["version"].as_i64().unwrap_or(0) as i32;
    Ok(with_etag(
        response.content_type("application/json").body(body),
        version,
    ))
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
    let updated = service::update(
        &state,
        &principal,
        id.into_inner(),
        if_match(&req),
        body.into_inner().into(),
    )
    .await?;
    Ok(respond(StatusCode::OK, updated))
}
