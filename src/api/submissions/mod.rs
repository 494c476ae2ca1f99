//! Submissions and the editorial workflow (staff): posting and editing ([`write`]), workflow
//! steps ([`review`]), lists, details and history ([`read`]).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::content::Attachment;
use crate::domain::submission::{
    self as workflow, etag, Action, Actor, IfMatch, Status, Submission,
};

mod read;
mod review;
mod write;

pub use read::{
    get_submission, list_submissions, submission_history, EventResponse, HistoryResponse,
    RevisionResponse, SubmissionListItem, SubmissionQuery,
};
pub use review::{transition_submission, TransitionRequest};
pub use write::{
    create_submission, update_submission, CreateSubmissionRequest, UpdateSubmissionRequest,
};

// The public pages and the questions keep naming these here.
pub(crate) use read::filter_of;

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

fn with_etag(mut response: HttpResponse, version: i32) -> HttpResponse {
    if let Ok(value) = header::HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Where a created item can be read.
fn location(id: &str) -> String {
    format!("/api/v1/submissions/{id}")
}

/// Answers an item with its `ETag`, and its `Location` when it was just created.
fn respond(status: StatusCode, (submission, actor): (Submission, Actor)) -> HttpResponse {
    respond_with(status, &SubmissionResponse::new(submission, actor))
}

fn respond_with(status: StatusCode, body: &SubmissionResponse) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, location(&body.id)));
    }
    with_etag(response.json(body), body.version)
}

/// The `If-Match` header, when sent; an unreadable one names no version.
fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| IfMatch(v.to_str().unwrap_or("").to_string()))
}
