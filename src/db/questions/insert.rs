//! New rows: the forms of questions and replies as stored, and their inserts, one at a time
//! for the service or many per statement for bulk loads.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Question;
use crate::db::bulk::insert_rows;
use crate::db::schema::{question_replies, questions};
use crate::db::DbConnection;

/// A question row as stored. `None` is stored as NULL, so that rows with and without a value
/// go into one multi-row statement on SQLite too.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = questions, treat_none_as_default_value = false)]
pub struct NewQuestion<'a> {
    /// UUID.
    pub id: Cow<'a, str>,
    /// The code the asker follows it with.
    pub tracking_code: Cow<'a, str>,
    /// SHA-256 of the access key, hex.
    pub access_key_hash: Cow<'a, str>,
    /// Title.
    pub title: Cow<'a, str>,
    /// Text.
    pub body: Cow<'a, str>,
    /// Category code.
    pub category_code: Option<Cow<'a, str>>,
    /// Unit that is to answer.
    pub unit_code: Option<Cow<'a, str>>,
    /// The asker's name.
    pub asker_name: Cow<'a, str>,
    /// The asker's e-mail.
    pub asker_email: Option<Cow<'a, str>>,
    /// The asker's phone.
    pub asker_phone: Option<Cow<'a, str>>,
    /// The asker's postal address.
    pub asker_address: Option<Cow<'a, str>>,
    /// The asker's organisation.
    pub asker_organization: Option<Cow<'a, str>>,
    /// Whether the asker agreed to publication.
    pub publish_consent: bool,
    /// Status.
    pub status: &'static str,
    /// Folded words of title and text, for search.
    pub search_text: Cow<'a, str>,
    /// When it was asked (UTC).
    pub received_at: NaiveDateTime,
    /// When the answer is due (UTC).
    pub due_at: NaiveDateTime,
    /// First reply (UTC).
    pub answered_at: Option<NaiveDateTime>,
    /// Working days from receipt to the first reply.
    pub answer_working_days: Option<i32>,
    /// Publication (UTC).
    pub published_at: Option<NaiveDateTime>,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
}

/// A reply row as stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = question_replies, treat_none_as_default_value = false)]
pub struct NewReply<'a> {
    /// The question.
    pub question_id: Cow<'a, str>,
    /// Text.
    pub body: Cow<'a, str>,
    /// The unit that answered, when an officer did.
    pub unit_code: Option<Cow<'a, str>>,
    /// Subject of who wrote it.
    pub author: Cow<'a, str>,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

fn borrowed(value: &Option<String>) -> Option<Cow<'_, str>> {
    value.as_deref().map(Cow::from)
}

/// Inserts a new question unless its tracking code is taken; whether it was inserted.
pub fn insert_new_code(
    conn: &mut DbConnection,
    q: &Question,
    search_text: &str,
) -> QueryResult<bool> {
    let row = NewQuestion {
        id: q.id.as_str().into(),
        tracking_code: q.tracking_code.as_str().into(),
        access_key_hash: q.access_key_hash.as_str().into(),
        title: q.title.as_str().into(),
        body: q.body.as_str().into(),
        category_code: borrowed(&q.category),
        unit_code: borrowed(&q.unit),
        asker_name: q.asker.name.as_str().into(),
        asker_email: borrowed(&q.asker.email),
        asker_phone: borrowed(&q.asker.phone),
        asker_address: borrowed(&q.asker.address),
        asker_organization: borrowed(&q.asker.organization),
        publish_consent: q.publish_consent,
        status: q.status.as_str(),
        search_text: search_text.into(),
        received_at: q.received_at,
        due_at: q.due_at,
        answered_at: q.answered_at,
        answer_working_days: None,
        published_at: q.published_at,
        updated_at: q.updated_at,
    };
    let insert = diesel::insert_into(questions::table)
        .values(&row)
        .on_conflict(questions::tracking_code)
        .do_nothing();
    // The multi-backend query builder has no ON CONFLICT; each backend's has.
    let inserted = match conn {
        DbConnection::Pg(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(inserted == 1)
}

/// Inserts questions and replies as given, a few hundred rows per statement. The caller runs
/// this in a transaction.
pub fn insert_many(
    conn: &mut DbConnection,
    questions: &[NewQuestion<'_>],
    replies: &[NewReply<'_>],
) -> QueryResult<()> {
    insert_rows!(conn, questions::table, questions)?;
    insert_rows!(conn, question_replies::table, replies)?;
    Ok(())
}
