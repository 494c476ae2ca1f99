//! The staff side of citizen questions: their lists, routing and answering.

use chrono::NaiveDateTime;
use diesel::Connection;

use super::{search_terms, ForStaff, Question};
use crate::db::events::{record, record_all};
use crate::db::holidays;
use crate::db::questions::{self as store, Filter};
use crate::db::submissions::After;
use crate::db::DbConnection;
use crate::domain::access::{Principal, Role};
use crate::domain::calendar::local_date;
use crate::domain::events::EventType;
use crate::domain::question::{
    self as rules, first_reply_working_days, step_note, step_unit, Action, Actor, Refusal, Status,
};
use crate::error::ApiError;
use crate::references::check_unit;
use crate::service::events;
use crate::state::AppState;

/// Filters of a staff list, in domain terms.
#[derive(Debug, Default)]
pub struct StaffListing {
    /// The unit asked for.
    pub unit: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this category.
    pub category: Option<String>,
    /// Only overdue (true) or not overdue (false) questions.
    pub overdue: Option<bool>,
    /// Received at or after (UTC).
    pub from: Option<NaiveDateTime>,
    /// Received before (UTC).
    pub to: Option<NaiveDateTime>,
    /// Words to find.
    pub q: Option<String>,
    /// Continue after this question.
    pub after: Option<After>,
    /// Page size; one more is read, so the caller knows whether a page follows.
    pub limit: usize,
}

/// Lists questions newest first, up to `limit + 1`: officers their unit's, the board all.
pub async fn list_for_staff(
    state: &AppState,
    principal: &Principal,
    listing: StaffListing,
) -> Result<Vec<ForStaff>, ApiError> {
    // Questions carry the askers' contact details: viewers do not list them.
    if !rules::handles_questions(principal.role) {
        return Err(ApiError::Forbidden);
    }
    let Some(unit) = principal.unit_scope(listing.unit.as_deref()).listed() else {
        return Ok(Vec::new());
    };
    let Some(terms) = search_terms(listing.q.as_deref()) else {
        return Ok(Vec::new());
    };
    let filter = Filter {
        unit,
        status: listing.status,
        category: listing.category,
        overdue: listing.overdue,
        now: Some(state.now()),
        from: listing.from,
        to: listing.to,
        terms,
    };
    let fetch = listing.limit as i64 + 1;
    let after = listing.after;
    let (items, mut replies) = state
        .read(move |conn| {
            let items = store::list(conn, &filter, after.as_ref(), fetch)?;
            let ids: Vec<String> = items.iter().map(|q| q.id.clone()).collect();
            let replies = store::replies(conn, &ids)?;
            Ok((items, replies))
        })
        .await?;
    Ok(items
        .into_iter()
        .filter_map(|q| {
            let actor = rules::actor(principal, q.unit.as_deref())?;
            let r = replies.remove(&q.id).unwrap_or_default();
            Some((q, r, actor))
        })
        .collect())
}

/// A question the principal may see, read on `conn`, or 404.
fn visible(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<ForStaff, ApiError> {
    store::find_with_replies(conn, id)?
        .and_then(|(q, r)| rules::actor(principal, q.unit.as_deref()).map(|a| (q, r, a)))
        .ok_or_else(|| ApiError::not_found("Question"))
}

/// One question with the asker's contact details, for staff who may see it.
pub async fn get_for_staff(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<ForStaff, ApiError> {
    let principal = principal.clone();
    state.read(move |conn| visible(conn, &principal, &id)).await
}

/// The refusal of a step, as the API answers it.
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

/// The answer when a conditional change found the question moved on.
fn changed_meanwhile() -> ApiError {
    ApiError::Conflict("The question changed meanwhile; read it again".into())
}

/// Answers a question (`body` checked with [`rules::parse_body`]): the first reply answers it
/// and records its working days since receipt; later ones add to the answer.
pub async fn reply(
    state: &AppState,
    principal: &Principal,
    id: String,
    body: String,
) -> Result<ForStaff, ApiError> {
    let principal = principal.clone();
    let now = state.now();
    state
        .write(move |conn| {
            conn.transaction(|conn| {
                let (q, _, actor) = visible(conn, &principal, &id)?;
                rules::transition(q.status, Action::Reply, actor, q.publish_consent)
                    .map_err(|r| refusal(&q, Action::Reply, r))?;
                let unit = (actor == Actor::AssignedUnit)
                    .then(|| q.unit.clone())
                    .flatten();
                let received = local_date(q.received_at.and_utc());
                let days = holidays::calendar(conn, received, local_date(now.and_utc()))?
                    .working_days_between(q.received_at.and_utc(), now.and_utc());
                let days = first_reply_working_days(q.answered_at, days);
                let author = &principal.subject;
                if !store::add_reply(conn, &q, &body, unit.as_deref(), author, now, days)? {
                    return Err(changed_meanwhile());
                }
                let first = q.answered_at.is_none();
                let (q, replies) = store::find_with_replies(conn, &q.id)?
                    .ok_or_else(|| ApiError::not_found("Question"))?;
                let kind = if first {
                    EventType::QuestionAnswered
                } else {
                    EventType::QuestionReplied
                };
                let role = principal.role.as_str();
                let event = events::question(kind, &q, role, replies.last(), now);
                record_all(conn, &[event])?;
                Ok((q, replies, actor))
            })
        })
        .await
}

/// A step on a question as asked for: the action, and the unit or note it may need.
#[derive(Debug, Clone)]
pub struct Step {
    /// Assign, reject or publish.
    pub action: Action,
    /// For `assign`: the unit's code.
    pub unit: Option<String>,
    /// For `reject`: the reason, shown to the asker.
    pub note: Option<String>,
}

/// Routes, rejects or publishes a question, when the principal may and its status allows.
pub async fn take_step(
    state: &AppState,
    principal: &Principal,
    id: String,
    step: Step,
) -> Result<ForStaff, ApiError> {
    let principal = principal.clone();
    let now = state.now();
    state
        .write(move |conn| {
            conn.transaction(|conn| {
                let (q, _, actor) = visible(conn, &principal, &id)?;
                let action = step.action;
                rules::transition(q.status, action, actor, q.publish_consent)
                    .map_err(|r| refusal(&q, action, r))?;
                let note = step_note(action, step.note.as_deref())
                    .map_err(|why| ApiError::invalid_field("note", why))?;
                let unit = step_unit(action, step.unit)
                    .map_err(|why| ApiError::invalid_field("unit", why))?;
                let moved = match (action, unit) {
                    (Action::Assign, Some(unit)) => {
                        check_unit(conn, Role::Officer, Some(&unit))?;
                        store::assign(conn, &q.id, q.status, &unit, now)?
                    }
                    (Action::Reject, _) => {
                        store::reject(conn, &q.id, q.status, note.as_deref().unwrap_or(""), now)?
                    }
                    (Action::Publish, _) => store::publish(conn, &q.id, now)?,
                    (Action::Assign, None) | (Action::Reply, _) => false,
                };
                if !moved {
                    return Err(changed_meanwhile());
                }
                let (q, replies) = store::find_with_replies(conn, &q.id)?
                    .ok_or_else(|| ApiError::not_found("Question"))?;
                let kind = match action {
                    Action::Assign => EventType::QuestionAssigned,
                    Action::Reject => EventType::QuestionRejected,
                    Action::Publish | Action::Reply => EventType::QuestionPublished,
                };
                let event = events::question(kind, &q, principal.role.as_str(), None, now);
                record(conn, &event)?;
                Ok((q, replies, actor))
            })
        })
        .await
}
