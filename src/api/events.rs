//! The events feed: every change, in order, for integrators to follow and catch up.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::Query;
use crate::api::page::{split_page, Page};
use crate::auth::Principal;
use crate::domain::events::{occurred_time, Event};
use crate::error::{ApiError, FieldError, Problem};
use crate::service::events::{self as service, FeedQuery};
use crate::state::AppState;

/// Page size of the feed when none is asked for.
pub const DEFAULT_EVENTS: usize = 100;
/// Largest page of the feed.
pub const MAX_EVENTS: usize = 1000;

/// Where to start reading, and which events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events after this `seq` (0 or absent: from the first). Pass the `seq` of the last
    /// event you processed, or the page's `next_cursor`.
    #[param(minimum = 0, example = 0)]
    pub after_seq: Option<i64>,
    /// Only these types, comma-separated (e.g. `submission.published,question.asked`).
    #[serde(rename = "type")]
    #[param(rename = "type", example = "submission.published")]
    pub kind: Option<String>,
    /// Only this unit's events (officers and API clients always see only their own unit's).
    pub unit: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// What an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventSubject {
    /// `submission`, `question`, `unit`, `obligation_period`, `holiday` or `webhook`.
    #[schema(example = "submission")]
    pub kind: String,
    /// Its id: a UUID, a unit code, a date, or `{obligation id}:{period start}`.
    pub id: String,
}

/// A change of state. Receivers de-duplicate by `id`, which is also the `webhook-id` header of
/// a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventResponse {
    /// `evt_` and 32 hex digits.
    #[schema(example = "evt_5f0c6a3e9d2b4f7a8c1e2d3b4a5f6e7d")]
    pub id: String,
    /// The event's place in the log, a 64-bit integer (with gaps on PostgreSQL): no event ever
    /// appears under a number already listed, so remember the last one you processed and ask
    /// for the events after it to miss nothing. Null only in a `webhook.test` delivery.
    pub seq: Option<i64>,
    /// What happened: `submission.created`, `submission.updated`, `submission.submitted`,
    /// `submission.withdrawn`, `submission.review_started`, `submission.returned`,
    /// `submission.rejected`, `submission.published`, `submission.unpublished`,
    /// `question.asked`, `question.assigned`, `question.answered` (first reply),
    /// `question.replied` (later replies), `question.rejected`, `question.published`,
    /// `question.rated`, `question.due_soon` (unanswered, from 00:00 UTC+7 on the third working day before the due day),
    /// `question.overdue` (unanswered past `due_at`; sent within 30 days of it), `unit.created`,
    /// `unit.updated`, `unit.deactivated`,
    /// `holiday.changed`, `obligation.period_missed`, `webhook.disabled`; and `webhook.test`
    /// in test deliveries only.
    #[serde(rename = "type")]
    #[schema(rename = "type", example = "submission.published")]
    pub kind: String,
    /// When it happened: UTC, to the millisecond.
    #[schema(value_type = String, format = DateTime, example = "2026-03-02T01:02:03.123Z")]
    pub occurred_at: String,
    /// The unit whose business it is, if any.
    pub unit: Option<String>,
    /// What it is about.
    pub subject: EventSubject,
    /// What a receiver needs to act without another call: the status, title, unit and
    /// category, `due_at` of a question, the note of a return or rejection, the actor's role
    /// (`actor_role`). Never an asker's name, e-mail, phone, address or access key.
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl From<Event> for EventResponse {
    fn from(e: Event) -> Self {
        let Event { seq, event } = e;
        Self {
            id: event.id,
            seq: Some(seq),
            kind: event.kind.as_str().to_string(),
            occurred_at: occurred_time(event.occurred_at),
            unit: event.unit,
            subject: EventSubject {
                kind: event.subject_kind.as_str().to_string(),
                id: event.subject_id,
            },
            data: event.data,
        }
    }
}

fn events_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_EVENTS),
        Some(n) if (1..=MAX_EVENTS as u32).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            format!("must be from 1 to {MAX_EVENTS}"),
        ))),
    }
}

/// Read the events, oldest first.
///
/// Every change of state is an event, recorded in the same transaction as the change, and
/// numbered by `seq`; no event ever appears under a number already listed. This is the way to catch up after downtime: remember the
/// `seq` of the last event you processed, and ask for `after_seq` of it until a page comes back
/// with `next_cursor` null. Webhooks push the same events as they happen; a receiver that was
/// down reads what it missed here.
///
/// Officers and API clients see their unit's events; editors, viewers and admins see all.
/// A read filtered by `type` or `unit` looks at 20,000 events of the log at most: when it
/// stops there, `next_cursor` says where, and the page may hold fewer events than asked (even
/// none). Go on while `next_cursor` is not null.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(EventQuery),
    responses(
        (status = 200, description = "A page of events, oldest first; `next_cursor` is the `after_seq` of the next page", body = Page<EventResponse>),
        (status = 400, description = "Unreadable parameter or unknown event type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<EventQuery>,
) -> Result<web::Json<Page<EventResponse>>, ApiError> {
    let query = query.into_inner();
    let limit = events_limit(query.limit)?;
    let listed = service::feed(
        &state,
        &principal,
        FeedQuery {
            after_seq: query.after_seq.unwrap_or(0),
            types: query.kind,
            unit: query.unit,
            limit,
        },
    )
    .await?;
    let mut events = listed.events;
    let next_cursor = split_page(&mut events, limit, |e| e.seq.to_string())
        .or(listed.scanned_to.map(|seq| seq.to_string()));
    Ok(web::Json(Page {
        items: events.into_iter().map(EventResponse::from).collect(),
        next_cursor,
    }))
}
