//! Submissions, their revisions and their workflow events.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::page::newest_first_after;
use super::schema::{submission_events, submission_revisions, submissions};
use super::{search, DbBackend, DbConnection};
use crate::domain::content::{search_text, Attachment};
use crate::domain::submission::{Action, Status};

mod insert;

pub use super::page::After;
pub use crate::domain::submission::{Content, Submission};
pub use insert::{insert, insert_many, NewEvent, NewRevision, NewSubmission};

/// A submission as stored, without its search text.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submissions)]
struct SubmissionRow {
    id: String,
    unit_code: String,
    category_code: String,
    title: String,
    summary: String,
    body: String,
    source_ref: Option<String>,
    source_url: Option<String>,
    event_date: Option<NaiveDate>,
    attachments: String,
    status: String,
    version: i32,
    author: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    submitted_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
}

fn corrupt(what: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(what.into())
}

fn attachments_json(attachments: &[Attachment]) -> QueryResult<String> {
    serde_json::to_string(attachments)
        .map_err(|e| diesel::result::Error::SerializationError(e.into()))
}

impl SubmissionRow {
    fn into_submission(self) -> QueryResult<Submission> {
        let status = Status::parse(&self.status)
            .ok_or_else(|| corrupt(format!("submission {} has status {}", self.id, self.status)))?;
        let attachments = serde_json::from_str(&self.attachments)
            .map_err(|e| corrupt(format!("submission {} attachments: {e}", self.id)))?;
        Ok(Submission {
            id: self.id,
            unit: self.unit_code,
            content: Content {
                category: self.category_code,
                title: self.title,
                summary: self.summary,
                body: self.body,
                source_ref: self.source_ref,
                source_url: self.source_url,
                event_date: self.event_date,
                attachments,
            },
            status,
            version: self.version,
            author: self.author,
            created_at: self.created_at,
            updated_at: self.updated_at,
            submitted_at: self.submitted_at,
            published_at: self.published_at,
        })
    }
}

fn rows_into(rows: Vec<SubmissionRow>) -> QueryResult<Vec<Submission>> {
    rows.into_iter()
        .map(SubmissionRow::into_submission)
        .collect()
}

/// A workflow event: a status change with its actor and note.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = submission_events)]
pub struct Event {
    /// The item's version after the event.
    pub version: i32,
    /// `create` or a workflow action.
    pub action: String,
    /// Status before; none for creation.
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Subject of who did it.
    pub actor: String,
    /// The note, for return, reject and unpublish.
    pub note: Option<String>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

/// A content revision: the content as it was at a version.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = submission_revisions)]
pub struct Revision {
    /// The item's version this content belongs to.
    pub version: i32,
    /// Category code.
    pub category_code: String,
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
    /// Attachments, JSON.
    pub attachments: String,
    /// Subject of who wrote it.
    pub author: String,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

impl Revision {
    /// The attachments it had; none when the stored list cannot be read.
    pub fn attachment_list(&self) -> Vec<Attachment> {
        serde_json::from_str(&self.attachments).unwrap_or_default()
    }
}

fn content_search_text(content: &Content) -> String {
    search_text(
        &content.title,
        &content.summary,
        &content.body,
        content.source_ref.as_deref(),
    )
}

/// One submission by id.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Submission>> {
    submissions::table
        .find(id)
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()?
        .map(SubmissionRow::into_submission)
        .transpose()
}

/// Replaces the content if the item is still at `expected_version`; stores a revision.
/// False when another change got there first.
pub fn update_content(
    conn: &mut DbConnection,
    id: &str,
    expected_version: i32,
    content: &Content,
    author: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        submissions::table
            .find(id)
            .filter(submissions::version.eq(expected_version)),
    )
    .set((
        submissions::category_code.eq(&content.category),
        submissions::title.eq(&content.title),
        submissions::summary.eq(&content.summary),
        submissions::body.eq(&content.body),
        submissions::source_ref.eq(&content.source_ref),
        submissions::source_url.eq(&content.source_url),
        submissions::event_date.eq(content.event_date),
        submissions::attachments.eq(attachments_json(&content.attachments)?),
        submissions::search_text.eq(content_search_text(content)),
        submissions::version.eq(expected_version + 1),
        submissions::updated_at.eq(at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(submission_revisions::table)
        .values(&NewRevision::of(
            id,
            expected_version + 1,
            content,
            author,
            at,
        )?)
        .execute(conn)?;
    Ok(true)
}

/// Moves the item from `current` along `action` if it is still at `current.version`;
/// records the event. False when another change got there first.
pub fn apply_transition(
    conn: &mut DbConnection,
    current: &Submission,
    action: Action,
    to: Status,
    actor: &str,
    note: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let version = current.version + 1;
    let submitted_at = current
        .submitted_at
        .or((to == Status::Submitted).then_some(at));
    let published_at = if to == Status::Published {
        Some(at)
    } else {
        current.published_at
    };
    let n = diesel::update(
        submissions::table
            .find(&current.id)
            .filter(submissions::version.eq(current.version)),
    )
    .set((
        submissions::status.eq(to.as_str()),
        submissions::version.eq(version),
        submissions::updated_at.eq(at),
        submissions::submitted_at.eq(submitted_at),
        submissions::published_at.eq(published_at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(submission_events::table)
        .values(&NewEvent {
            submission_id: current.id.as_str().into(),
            unit_code: current.unit.as_str().into(),
            version,
            action: action.as_str(),
            from_status: Some(current.status.as_str()),
            to_status: to.as_str(),
            actor: actor.into(),
            note: note.map(Cow::from),
            created_at: at,
        })
        .execute(conn)?;
    Ok(true)
}

/// Revisions and events of an item, oldest first.
pub fn history(conn: &mut DbConnection, id: &str) -> QueryResult<(Vec<Revision>, Vec<Event>)> {
    let revisions = submission_revisions::table
        .filter(submission_revisions::submission_id.eq(id))
        .order(submission_revisions::version.asc())
        .select(Revision::as_select())
        .load(conn)?;
    let events = submission_events::table
        .filter(submission_events::submission_id.eq(id))
        .order(submission_events::version.asc())
        .select(Event::as_select())
        .load(conn)?;
    Ok((revisions, events))
}

/// Filters for listing submissions.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this unit.
    pub unit: Option<String>,
    /// Only these statuses (none: all).
    pub statuses: Vec<Status>,
    /// Only this category.
    pub category: Option<String>,
    /// Sort time on or after (UTC).
    pub from: Option<NaiveDateTime>,
    /// Sort time before (UTC).
    pub to: Option<NaiveDateTime>,
    /// Folded search words, all of which must appear.
    pub terms: Vec<String>,
}

type Boxed = submissions::BoxedQuery<'static, DbBackend>;

fn filtered(conn: &mut DbConnection, filter: &Filter, time: SortTime) -> QueryResult<Boxed> {
    let mut query = submissions::table.into_boxed();
    if let Some(unit) = &filter.unit {
        query = query.filter(submissions::unit_code.eq(unit.clone()));
    }
    match filter.statuses.as_slice() {
        [] => {}
        // A plain `=` lets PostgreSQL walk the (status, time) index in order; `= ANY(...)`
        // made it sort every published row for each page.
        [one] => query = query.filter(submissions::status.eq(one.as_str())),
        many => {
            let statuses: Vec<&'static str> = many.iter().map(Status::as_str).collect();
            query = query.filter(submissions::status.eq_any(statuses));
        }
    }
    if let Some(category) = &filter.category {
        query = query.filter(submissions::category_code.eq(category.clone()));
    }
    match time {
        SortTime::Created => {
            if let Some(from) = filter.from {
                query = query.filter(submissions::created_at.ge(from));
            }
            if let Some(to) = filter.to {
                query = query.filter(submissions::created_at.lt(to));
            }
        }
        SortTime::Published => {
            if let Some(from) = filter.from {
                query = query.filter(submissions::published_at.ge(from));
            }
            if let Some(to) = filter.to {
                query = query.filter(submissions::published_at.lt(to));
            }
        }
    }
    if !filter.terms.is_empty() {
        query = query.filter(search::words(conn, "submissions", &filter.terms)?);
    }
    Ok(query)
}

#[derive(Debug, Clone, Copy)]
enum SortTime {
    Created,
    Published,
}

/// Up to `limit` submissions matching the filter, newest created first, after `after`.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&After>,
    limit: i64,
) -> QueryResult<Vec<Submission>> {
    let query = filtered(conn, filter, SortTime::Created)?;
    let rows = newest_first_after!(query, submissions::created_at, submissions::id, after)
        .limit(limit)
        .select(SubmissionRow::as_select())
        .load(conn)?;
    rows_into(rows)
}

/// Up to `limit` published submissions matching the filter, newest published first.
pub fn list_published(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&After>,
    limit: i64,
) -> QueryResult<Vec<Submission>> {
    let published = Filter {
        statuses: vec![Status::Published],
        ..filter.clone()
    };
    let query = filtered(conn, &published, SortTime::Published)?;
    let rows = newest_first_after!(query, submissions::published_at, submissions::id, after)
        .limit(limit)
        .select(SubmissionRow::as_select())
        .load(conn)?;
    rows_into(rows)
}
