//! Lists, details and history of submissions, for staff.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{respond, SubmissionResponse};
use crate::api::date_range;
use crate::api::extract::Query;
use crate::api::page::{after_cursor, page_limit, parse_after, split_page, Page};
use crate::auth::Principal;
use crate::domain::content::{query_terms, Attachment};
use crate::domain::submission::{Status, Submission};
use crate::error::{ApiError, Problem};
use crate::service::submissions::{self as service, ListQuery};
use crate::service::submissions::{Event, Filter, Revision};
use crate::state::AppState;

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

/// Builds the list filter from query parameters; `None` when `q` has no searchable word.
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
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = parse_after(query.cursor.as_deref())?;
    let filter = filter_of(
        None,
        query.status,
        query.category,
        query.from,
        query.to,
        query.q.as_deref(),
    )?;
    let mut items = service::list(
        &state,
        &principal,
        ListQuery {
            unit: query.unit,
            filter,
            after,
            fetch: limit as i64 + 1,
        },
    )
    .await?;
    let next = split_page(&mut items, limit, |last| {
        after_cursor(last.created_at, &last.id)
    });
    Ok(web::Json(Page {
        items: items.into_iter().map(SubmissionListItem::from).collect(),
        next_cursor: next,
    }))
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
    let found = service::detail(&state, &principal, id.into_inner()).await?;
    Ok(respond(StatusCode::OK, found))
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

impl From<Event> for EventResponse {
    fn from(e: Event) -> Self {
        Self {
            version: e.version,
            action: e.action,
            from: e.from_status,
            to: e.to_status,
            actor: e.actor,
            note: e.note,
            at: e.created_at.and_utc(),
        }
    }
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

impl From<Revision> for RevisionResponse {
    fn from(r: Revision) -> Self {
        Self {
            attachments: r.attachment_list(),
            version: r.version,
            category: r.category_code,
            title: r.title,
            summary: r.summary,
            body: r.body,
            source_ref: r.source_ref,
            source_url: r.source_url,
            event_date: r.event_date,
            author: r.author,
            at: r.created_at.and_utc(),
        }
    }
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
    let (revisions, events) = service::history(&state, &principal, id.into_inner()).await?;
    Ok(web::Json(HistoryResponse {
        events: events.into_iter().map(EventResponse::from).collect(),
        revisions: revisions.into_iter().map(RevisionResponse::from).collect(),
    }))
}
