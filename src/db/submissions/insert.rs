//! New rows: the forms of submissions, revisions and events as stored, and their inserts, one
//! at a time for the service or many per statement for bulk loads.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{attachments_json, content_search_text, Content, Status};
use crate::db::schema::{submission_events, submission_revisions, submissions};
use crate::db::DbConnection;

use crate::db::bulk::insert_rows;

/// A submission row as stored. `None` is stored as NULL, so that rows with and without a
/// value go into one multi-row statement on SQLite too.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = submissions, treat_none_as_default_value = false)]
pub struct NewSubmission<'a> {
    /// UUID.
    pub id: Cow<'a, str>,
    /// Unit code.
    pub unit_code: Cow<'a, str>,
    /// Category code.
    pub category_code: Cow<'a, str>,
    /// Title.
    pub title: Cow<'a, str>,
    /// Summary.
    pub summary: Cow<'a, str>,
    /// Body.
    pub body: Cow<'a, str>,
    /// Source document number.
    pub source_ref: Option<Cow<'a, str>>,
    /// Source document address.
    pub source_url: Option<Cow<'a, str>>,
    /// Event date.
    pub event_date: Option<NaiveDate>,
    /// Attachments, JSON.
    pub attachments: Cow<'a, str>,
    /// Status.
    pub status: &'static str,
    /// Version.
    pub version: i32,
    /// Subject of who wrote it.
    pub author: Cow<'a, str>,
    /// Folded words of the content, for search.
    pub search_text: String,
    /// Creation (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// First submission for review (UTC).
    pub submitted_at: Option<NaiveDateTime>,
    /// Publication (UTC).
    pub published_at: Option<NaiveDateTime>,
}

/// A content revision row as stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = submission_revisions, treat_none_as_default_value = false)]
pub struct NewRevision<'a> {
    /// The submission.
    pub submission_id: Cow<'a, str>,
    /// The submission's version this content belongs to.
    pub version: i32,
    /// Category code.
    pub category_code: Cow<'a, str>,
    /// Title.
    pub title: Cow<'a, str>,
    /// Summary.
    pub summary: Cow<'a, str>,
    /// Body.
    pub body: Cow<'a, str>,
    /// Source document number.
    pub source_ref: Option<Cow<'a, str>>,
    /// Source document address.
    pub source_url: Option<Cow<'a, str>>,
    /// Event date.
    pub event_date: Option<NaiveDate>,
    /// Attachments, JSON.
    pub attachments: Cow<'a, str>,
    /// Subject of who wrote it.
    pub author: Cow<'a, str>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

impl<'a> NewRevision<'a> {
    /// The revision holding `content` at `version`.
    pub fn of(
        id: &'a str,
        version: i32,
        content: &'a Content,
        author: &'a str,
        at: NaiveDateTime,
    ) -> QueryResult<Self> {
        Ok(Self {
            submission_id: id.into(),
            version,
            category_code: content.category.as_str().into(),
            title: content.title.as_str().into(),
            summary: content.summary.as_str().into(),
            body: content.body.as_str().into(),
            source_ref: content.source_ref.as_deref().map(Cow::from),
            source_url: content.source_url.as_deref().map(Cow::from),
            event_date: content.event_date,
            attachments: attachments_json(&content.attachments)?.into(),
            author: author.into(),
            created_at: at,
        })
    }
}

/// A workflow event row as stored: one step, with its actor and note.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = submission_events, treat_none_as_default_value = false)]
pub struct NewEvent<'a> {
    /// The submission.
    pub submission_id: Cow<'a, str>,
    /// The submission's unit at the time.
    pub unit_code: Cow<'a, str>,
    /// Version after the step.
    pub version: i32,
    /// `create` or the action's name.
    pub action: &'static str,
    /// Status before; none for creation.
    pub from_status: Option<&'static str>,
    /// Status after.
    pub to_status: &'static str,
    /// Subject of who did it.
    pub actor: Cow<'a, str>,
    /// Note.
    pub note: Option<Cow<'a, str>>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

/// Inserts a new submission at version 1, with its first revision and its creation event.
/// The caller runs this in a transaction.
pub fn insert(
    conn: &mut DbConnection,
    id: &str,
    unit: &str,
    content: &Content,
    status: Status,
    author: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let revision = NewRevision::of(id, 1, content, author, at)?;
    let submission = NewSubmission {
        id: id.into(),
        unit_code: unit.into(),
        category_code: revision.category_code.clone(),
        title: revision.title.clone(),
        summary: revision.summary.clone(),
        body: revision.body.clone(),
        source_ref: revision.source_ref.clone(),
        source_url: revision.source_url.clone(),
        event_date: revision.event_date,
        attachments: revision.attachments.clone(),
        status: status.as_str(),
        version: 1,
        author: author.into(),
        search_text: content_search_text(content),
        created_at: at,
        updated_at: at,
        submitted_at: (status == Status::Submitted).then_some(at),
        published_at: None,
    };
    let event = NewEvent {
        submission_id: id.into(),
        unit_code: unit.into(),
        version: 1,
        action: "create",
        from_status: None,
        to_status: status.as_str(),
        actor: author.into(),
        note: None,
        created_at: at,
    };
    diesel::insert_into(submissions::table)
        .values(&submission)
        .execute(conn)?;
    diesel::insert_into(submission_revisions::table)
        .values(&revision)
        .execute(conn)?;
    diesel::insert_into(submission_events::table)
        .values(&event)
        .execute(conn)
        .map(drop)
}

/// Inserts submissions, revisions and events as given, a few hundred rows per statement.
/// The caller runs this in a transaction.
pub fn insert_many(
    conn: &mut DbConnection,
    submissions: &[NewSubmission<'_>],
    revisions: &[NewRevision<'_>],
    events: &[NewEvent<'_>],
) -> QueryResult<()> {
    insert_rows!(conn, submissions::table, submissions)?;
    insert_rows!(conn, submission_revisions::table, revisions)?;
    insert_rows!(conn, submission_events::table, events)?;
    Ok(())
}
