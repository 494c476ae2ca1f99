//! Events of the use cases: what each change says about itself, and the feed that lists them.
//!
//! Every use case that changes state records its event with [`crate::db::events::record`] in
//! the transaction of the change; the builders here decide what `data` carries. None of them
//! reads an asker's name, e-mail, phone, address or access key.

use chrono::NaiveDateTime;

pub use crate::db::events::Listed;
use crate::db::events::{self as store, Filter};
use crate::db::holidays::Holiday;
use crate::db::questions::{Question, Reply};
use crate::db::units::Unit;
use crate::domain::access::{Principal, Role};
use crate::domain::events::{
    question_event, question_facts, wire_time, EventType, NewEvent, SubjectKind,
};
use crate::domain::submission::{Action as SubmissionAction, Submission};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The event type of a workflow step on an item.
pub fn submission_step(action: SubmissionAction) -> EventType {
    match action {
        SubmissionAction::Submit => EventType::SubmissionSubmitted,
        SubmissionAction::Withdraw => EventType::SubmissionWithdrawn,
        SubmissionAction::StartReview => EventType::SubmissionReviewStarted,
        SubmissionAction::Return => EventType::SubmissionReturned,
        SubmissionAction::Reject => EventType::SubmissionRejected,
        SubmissionAction::Publish => EventType::SubmissionPublished,
        SubmissionAction::Unpublish => EventType::SubmissionUnpublished,
    }
}

/// An event about an item, as it stands after the change.
pub fn submission(
    kind: EventType,
    item: &Submission,
    role: Role,
    note: Option<&str>,
    now: NaiveDateTime,
) -> NewEvent {
    NewEvent::new(
        kind,
        now,
        Some(item.unit.clone()),
        SubjectKind::Submission,
        &item.id,
    )
    .with("status", item.status.as_str())
    .with("title", item.content.title.as_str())
    .with("unit", item.unit.as_str())
    .with("category", item.content.category.as_str())
    .with("version", item.version)
    .with("actor_role", role.as_str())
    .with("note", note)
    .with("published_at", item.published_at.map(wire_time))
}

/// An event about a question, as it stands after the change; `reply` for the answer events.
pub fn question(
    kind: EventType,
    q: &Question,
    actor_role: &str,
    reply: Option<&Reply>,
    now: NaiveDateTime,
) -> NewEvent {
    let facts = question_facts!(q);
    let mut event = question_event(kind, now, facts)
        .with("answered_at", q.answered_at.map(wire_time))
        .with("published_at", q.published_at.map(wire_time))
        .with("publish_consent", q.publish_consent)
        .with("actor_role", actor_role);
    if kind == EventType::QuestionRejected {
        event = event.with("note", q.rejection_note.as_deref());
    }
    if kind == EventType::QuestionRated {
        event = event.with("rating_score", q.rating_score);
    }
    if let Some(reply) = reply {
        event = event.with(
            "reply",
            serde_json::json!({
                "body": reply.body,
                "unit": reply.unit_code,
                "created_at": wire_time(reply.created_at),
            }),
        );
    }
    event
}

/// An event about a unit, as it stands after the change.
pub fn unit(kind: EventType, u: &Unit, now: NaiveDateTime) -> NewEvent {
    NewEvent::new(kind, now, Some(u.code.clone()), SubjectKind::Unit, &u.code)
        .with("code", u.code.as_str())
        .with("name", u.name.as_str())
        .with("kind", u.kind.as_str())
        .with("active", u.active)
        .with("fields", u.fields.clone())
        .with("successors", u.successors.clone())
        .with("deactivated_at", u.deactivated_at.map(wire_time))
        .with("actor_role", Role::Admin.as_str())
}

/// A change to the calendar: `holiday` as set, or `None` when the date's exception was removed.
pub fn holiday(date: chrono::NaiveDate, holiday: Option<&Holiday>, now: NaiveDateTime) -> NewEvent {
    let event = NewEvent::new(
        EventType::HolidayChanged,
        now,
        None,
        SubjectKind::Holiday,
        date.to_string(),
    )
    .with("date", date.to_string())
    .with("change", if holiday.is_some() { "set" } else { "removed" })
    .with("actor_role", Role::Admin.as_str());
    match holiday {
        Some(h) => event
            .with("name", h.name.as_str())
            .with("kind", h.kind.as_str())
            .with("source", h.source.as_str()),
        None => event,
    }
}

/// What a reader of the feed asks for.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    /// Events after this number (0: from the start).
    pub after_seq: i64,
    /// Comma-separated types, as sent.
    pub types: Option<String>,
    /// Only this unit.
    pub unit: Option<String>,
    /// Page size; one more is read, to know whether more follow.
    pub limit: usize,
}

/// The events the principal may see, oldest first, up to `limit + 1`: officers and API
/// clients their unit's, the board and viewers all.
pub async fn feed(
    state: &AppState,
    principal: &Principal,
    query: FeedQuery,
) -> Result<Listed, ApiError> {
    if query.after_seq < 0 {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "after_seq",
            "must be 0 or more",
        )));
    }
    let types = match query.types.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .map(|name| match EventType::parse(name) {
                Some(t) if t != EventType::WebhookTest => Ok(name.to_string()),
                _ => Err(ApiError::InvalidParameter(FieldError::new(
                    "type",
                    format!(
                        "{:?} is not an event type; the types are listed in the API document",
                        name.chars().take(64).collect::<String>()
                    ),
                ))),
            })
            .collect::<Result<_, _>>()?,
    };
    let Some(unit) = principal.unit_scope(query.unit.as_deref()).listed() else {
        return Ok(Listed {
            events: Vec::new(),
            scanned_to: None,
        });
    };
    let filter = Filter {
        after_seq: query.after_seq,
        types,
        unit,
    };
    let fetch = query.limit as i64 + 1;
    state
        .read(move |conn| Ok(store::read(conn, &filter, fetch)?))
        .await
}
