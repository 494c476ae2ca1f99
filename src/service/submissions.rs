//! What staff do with submissions: post, edit, move through the workflow, list and read them.

use crate::domain::text::sha256_hex;
use diesel::Connection;
use serde::Serialize;

use crate::db::events::record_all;
use crate::db::idempotency::{self, Claim};
use crate::db::submissions as store;
use crate::db::{self, DbConnection};
use crate::domain::access::{handles_submissions, Principal, Role};
use crate::domain::events::EventType;
use crate::domain::submission::{
    self as workflow, check_content, initial_status, parse_idempotency_key, posting_unit,
    step_note, Action, Actor, Content, ContentChange, FieldRefusal, IfMatch, NotPosted, Refusal,
    Status, Submission,
};
use crate::error::{ApiError, FieldError};
use crate::references::check_unit;
use crate::service::events;
use crate::state::AppState;

pub use crate::db::page::After;
pub use crate::db::submissions::{Event, Filter, Revision};

/// A new item as asked for.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    /// The unit named in the request, if any.
    pub unit: Option<String>,
    /// The content as sent, unchecked.
    pub content: Content,
    /// Keep it a draft instead of submitting it.
    pub draft: bool,
}

/// The `Idempotency-Key` of a request, as sent, and the request it came with.
#[derive(Debug, Clone)]
pub struct Retry {
    /// The header's value; checked here, after the caller's role.
    pub key: String,
    /// The request body in a stable form: a retry must send the same.
    pub request: Vec<u8>,
}

/// What creating an item answered.
#[derive(Debug)]
pub enum Created<R> {
    /// A new item, in the caller's answer form.
    New(R),
    /// The first answer to a request with the same key and body, sent again.
    Replayed {
        /// HTTP status of the first answer.
        status: u16,
        /// Its body, as it was sent.
        body: String,
    },
}

fn refused_fields(errors: Vec<FieldRefusal>) -> ApiError {
    ApiError::Validation(
        errors
            .into_iter()
            .map(|(field, why)| FieldError::new(field, why))
            .collect(),
    )
}

fn unknown_category(code: &str) -> ApiError {
    ApiError::invalid_field("category", format!("no category has the code {code:?}"))
}

/// Checks that a category exists and a unit can take new items.
fn check_references(conn: &mut DbConnection, unit: &str, category: &str) -> Result<(), ApiError> {
    check_unit(conn, Role::Officer, Some(unit))?;
    if db::categories::find(conn, category)?.is_none() {
        return Err(unknown_category(category));
    }
    Ok(())
}

/// Creates an item for the unit the principal may post for. With a `retry` key, a repeat of
/// the same request within the key's lifetime answers the first answer again and creates
/// nothing; the key is claimed and the item inserted in one unit of work, and a failed request
/// frees its key. `answer` gives the form that is both answered and kept for repeats.
pub async fn create<R, F>(
    state: &AppState,
    principal: &Principal,
    new: NewSubmission,
    retry: Option<Retry>,
    answer: F,
) -> Result<Created<R>, ApiError>
where
    R: Serialize + Send + 'static,
    F: FnOnce(Submission, Actor) -> R + Send + 'static,
{
    if !handles_submissions(principal.role) {
        return Err(ApiError::Forbidden);
    }
    let retry = match retry {
        Some(Retry { key, request }) => Some((
            parse_idempotency_key(&key).map_err(|why| {
                ApiError::InvalidParameter(FieldError::new("Idempotency-Key", why))
            })?,
            request,
        )),
        None => None,
    };
    let unit = posting_unit(principal, new.unit.as_deref()).map_err(|refusal| match refusal {
        NotPosted::Forbidden => ApiError::Forbidden,
        NotPosted::Unit(why) => ApiError::invalid_field("unit", why),
    })?;
    let retry = retry.map(|(key, request)| {
        let hash = sha256_hex(&[unit.as_bytes(), b"\0", &request].concat());
        (key, hash)
    });
    let content =
        check_content(new.content, &state.settings.public_base_url).map_err(refused_fields)?;
    let status = initial_status(new.draft);
    let actor = principal
        .submission_actor(&unit)
        .ok_or(ApiError::Forbidden)?;
    let subject = principal.subject.clone();
    let role = principal.role;
    let now = state.now();
    state
        .insert(move |conn| {
            if let Some((key, hash)) = &retry {
                match idempotency::claim(conn, &subject, key, hash, now)? {
                    Claim::Fresh => {}
                    Claim::Replay { status, body } => {
                        return Ok(Created::Replayed { status, body })
                    }
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
                store::insert(conn, &id, &unit, &content, status, &subject, now)?;
                let submission = store::find(conn, &id)?
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("submission vanished")))?;
                let mut news = vec![events::submission(
                    EventType::SubmissionCreated,
                    &submission,
                    role,
                    None,
                    now,
                )];
                if submission.status == Status::Submitted {
                    news.push(events::submission(
                        EventType::SubmissionSubmitted,
                        &submission,
                        role,
                        None,
                        now,
                    ));
                }
                record_all(conn, &news)?;
                let response = answer(submission, actor);
                if let Some((key, _)) = &retry {
                    let body = serde_json::to_string(&response).map_err(anyhow::Error::from)?;
                    idempotency::complete(conn, &subject, key, 201, &body)?;
                }
                Ok::<_, ApiError>(response)
            });
            created.map(Created::New).or_else(|e| {
                if let Some((key, _)) = &retry {
                    idempotency::release(conn, &subject, key)?;
                }
                Err(e)
            })
        })
        .await
}

/// What a staff list asks for, as parsed from its query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only this unit, when the caller may see it.
    pub unit: Option<String>,
    /// The other filters; `None` when the query can match nothing.
    pub filter: Option<Filter>,
    /// Where the page starts.
    pub after: Option<After>,
    /// Rows to fetch: the page size and one more, to know whether another page follows.
    pub fetch: i64,
}

/// Items the principal may see, newest created first. An officer sees its own unit's only.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: ListQuery,
) -> Result<Vec<Submission>, ApiError> {
    if !handles_submissions(principal.role) {
        return Err(ApiError::Forbidden);
    }
    let Some(unit) = principal.unit_scope(query.unit.as_deref()).listed() else {
        return Ok(Vec::new());
    };
    let Some(filter) = query.filter else {
        return Ok(Vec::new());
    };
    let filter = Filter { unit, ..filter };
    state
        .read(move |conn| {
            Ok(store::list(
                conn,
                &filter,
                query.after.as_ref(),
                query.fetch,
            )?)
        })
        .await
}

/// An item the principal may see, with how it stands to it; 404 as if it did not exist.
fn visible(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
) -> Result<(Submission, Actor), ApiError> {
    store::find(conn, id)?
        .and_then(|s| principal.submission_actor(&s.unit).map(|actor| (s, actor)))
        .ok_or_else(|| ApiError::not_found("Submission"))
}

/// One item the principal may see.
pub async fn detail(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<(Submission, Actor), ApiError> {
    let principal = principal.clone();
    state.read(move |conn| visible(conn, &principal, &id)).await
}

/// The revisions and events of an item the principal may see, oldest first.
pub async fn history(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<(Vec<Revision>, Vec<Event>), ApiError> {
    let principal = principal.clone();
    state
        .read(move |conn| {
            let (submission, _) = visible(conn, &principal, &id)?;
            Ok(store::history(conn, &submission.id)?)
        })
        .await
}

/// The version `If-Match` names: 428 without it when `required`, 412 when it is not `current`.
fn check_if_match(
    if_match: Option<&IfMatch>,
    current: i32,
    required: bool,
) -> Result<(), ApiError> {
    match if_match {
        None if required => Err(ApiError::PreconditionRequired),
        Some(tags) if !tags.names(current) => Err(ApiError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Edits the content of an item, based on the version `If-Match` names; keeps a revision.
///
/// The item is read and the new content checked and cleaned first, so that cleaning a large
/// body does not hold up the writer; the write then applies only if no other change came in
/// between (412 otherwise).
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: String,
    if_match: Option<IfMatch>,
    change: ContentChange,
) -> Result<(Submission, Actor), ApiError> {
    let (current, actor) = detail(state, principal, id).await?;
    check_if_match(if_match.as_ref(), current.version, true)?;
    if !workflow::editable(current.status, actor) {
        return Err(ApiError::Conflict(format!(
            "The item cannot be edited by you while it is {}",
            current.status.as_str()
        )));
    }
    let content = check_content(
        change.apply(current.content.clone()),
        &state.settings.public_base_url,
    )
    .map_err(refused_fields)?;
    let subject = principal.subject.clone();
    let role = principal.role;
    let now = state.now();
    let updated = state
        .write(move |conn| {
            conn.transaction(|conn| {
                if content.category != current.content.category
                    && db::categories::find(conn, &content.category)?.is_none()
                {
                    return Err(unknown_category(&content.category));
                }
                if !store::update_content(
                    conn,
                    &current.id,
                    current.version,
                    &content,
                    &subject,
                    now,
                )? {
                    return Err(ApiError::PreconditionFailed);
                }
                let updated = store::find(conn, &current.id)?
                    .ok_or_else(|| ApiError::not_found("Submission"))?;
                let event =
                    events::submission(EventType::SubmissionUpdated, &updated, role, None, now);
                record_all(conn, &[event])?;
                Ok(updated)
            })
        })
        .await?;
    Ok((updated, actor))
}

fn invalid_transition(status: Status, action: Action, actor: Actor) -> ApiError {
    ApiError::InvalidTransition {
        status: status.as_str().into(),
        action: action.as_str().into(),
        allowed: workflow::allowed_actions(status, actor)
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
    }
}

/// Takes a workflow step on an item. A role that never takes the step is refused (403) before
/// a status that does not allow it (409), and both before a missing note (422). When the item
/// leaves or reaches the portal, the public pages are renewed at once.
pub async fn transition(
    state: &AppState,
    principal: &Principal,
    id: String,
    if_match: Option<IfMatch>,
    action: Action,
    note: Option<String>,
) -> Result<(Submission, Actor), ApiError> {
    let (current, actor) = detail(state, principal, id).await?;
    check_if_match(if_match.as_ref(), current.version, false)?;
    let to =
        workflow::transition(current.status, action, actor).map_err(|refusal| match refusal {
            Refusal::Forbidden => ApiError::Forbidden,
            Refusal::InvalidTransition { .. } => invalid_transition(current.status, action, actor),
        })?;
    let note =
        step_note(action, note.as_deref()).map_err(|why| ApiError::invalid_field("note", why))?;
    let was_published = current.status == Status::Published;
    let subject = principal.subject.clone();
    let role = principal.role;
    let now = state.now();
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
                    now,
                )? {
                    // Another change came first: say what the item is now.
                    let latest = store::find(conn, &current.id)?
                        .ok_or_else(|| ApiError::not_found("Submission"))?;
                    return Err(if latest.status == current.status {
                        ApiError::PreconditionFailed
                    } else {
                        invalid_transition(latest.status, action, actor)
                    });
                }
                let updated = store::find(conn, &current.id)?
                    .ok_or_else(|| ApiError::not_found("Submission"))?;
                let kind = events::submission_step(action);
                let event = events::submission(kind, &updated, role, note.as_deref(), now);
                record_all(conn, &[event])?;
                Ok(updated)
            })
        })
        .await?;
    if was_published || updated.status == Status::Published {
        state.public_cache.invalidate();
    }
    Ok((updated, actor))
}
