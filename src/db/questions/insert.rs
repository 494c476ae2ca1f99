//! New rows: the forms of questions and replies as stored, and their inserts, one at a time
//! for the service or many per statement for bulk loads.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamp};

use super::Question;
use crate::db::bulk::insert_rows;
use crate::db::events::record;
use crate::db::mail::{queue, NewMail};
use crate::db::schema::{question_replies, questions};
use crate::db::{DbConnection, DbError};
use crate::domain::events::NewEvent;
use crate::domain::question::TRACKING_CODE_ATTEMPTS;

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

/// A new question on its way in: its row, its `question.asked` event, and how to draw it
/// another tracking code (and the event naming that code) when its own is taken.
#[derive(Debug)]
pub struct Pending {
    /// The question as it is to be stored.
    pub question: Question,
    /// Folded words of title and text, for search.
    pub search_text: String,
    /// Its `question.asked` event.
    pub event: NewEvent,
    /// The receipt to the asker, when they gave an e-mail: queued with the question, caused by
    /// its event.
    pub receipt: Option<NewMail>,
    /// Gives it another tracking code and the event that goes with it.
    pub redraw: fn(&mut Pending),
}

/// Stores a new question and records its event, drawing codes until one is free (at most
/// [`TRACKING_CODE_ATTEMPTS`]); false when every code drawn was taken.
pub fn insert_pending(conn: &mut DbConnection, p: &mut Pending) -> Result<bool, DbError> {
    for _ in 0..TRACKING_CODE_ATTEMPTS {
        if insert_new_code(conn, &p.question, &p.search_text)? {
            record_stored(conn, p)?;
            return Ok(true);
        }
        (p.redraw)(p);
    }
    Ok(false)
}

/// Stores several new questions at once, recording their events: on PostgreSQL with one
/// statement for all of them (and one more for those whose codes were taken, which is rare),
/// on SQLite one by one. For each, whether it was stored (false: every code drawn for it was
/// taken). On PostgreSQL one failed statement fails them all and aborts the caller's
/// transaction.
pub fn insert_pending_together(
    conn: &mut DbConnection,
    list: &mut [&mut Pending],
) -> Result<Vec<bool>, DbError> {
    let DbConnection::Pg(pg) = conn else {
        return list.iter_mut().map(|p| insert_pending(conn, p)).collect();
    };
    let mut stored = vec![false; list.len()];
    let mut left: Vec<usize> = (0..list.len()).collect();
    for attempt in 0..TRACKING_CODE_ATTEMPTS {
        if left.is_empty() {
            break;
        }
        if attempt > 0 {
            for &i in &left {
                (list[i].redraw)(list[i]);
            }
        }
        let rows: Vec<&Pending> = left.iter().map(|&i| &*list[i]).collect();
        let inserted: HashSet<String> = PgInsert::of(&rows)
            .load::<String>(pg)?
            .into_iter()
            .collect();
        left.retain(|&i| {
            let done = inserted.contains(&list[i].question.id);
            stored[i] = done;
            !done
        });
    }
    for (p, _) in list.iter().zip(&stored).filter(|(_, stored)| **stored) {
        record_stored(conn, p)?;
    }
    Ok(stored)
}

/// Records a stored question's event, and queues its receipt as caused by that event.
fn record_stored(conn: &mut DbConnection, p: &Pending) -> Result<(), DbError> {
    record(conn, &p.event)?;
    if let Some(receipt) = &p.receipt {
        let mut receipt = receipt.clone();
        receipt.cause.clone_from(&p.event.id);
        queue(conn, vec![receipt])?;
    }
    Ok(())
}

/// The insert of many new questions on PostgreSQL: one statement whatever their number, the
/// values bound as one array per column, so the connection prepares it once. A taken tracking
/// code (by a stored question or another of the list) leaves that row out; the ids of the rows
/// stored are returned.
struct PgInsert<'a> {
    text: [Vec<&'a str>; 8],
    optional: [Vec<Option<&'a str>>; 6],
    consent: Vec<bool>,
    times: [Vec<NaiveDateTime>; 3],
    optional_times: [Vec<Option<NaiveDateTime>>; 2],
}

impl<'a> PgInsert<'a> {
    fn of(rows: &[&'a Pending]) -> Self {
        let text = |f: fn(&'a Pending) -> &'a str| rows.iter().map(|p| f(p)).collect();
        let optional = |f: fn(&'a Question) -> &'a Option<String>| {
            rows.iter().map(|p| f(&p.question).as_deref()).collect()
        };
        let time =
            |f: fn(&Question) -> NaiveDateTime| rows.iter().map(|p| f(&p.question)).collect();
        let optional_time = |f: fn(&Question) -> Option<NaiveDateTime>| {
            rows.iter().map(|p| f(&p.question)).collect()
        };
        Self {
            text: [
                text(|p| &p.question.id),
                text(|p| &p.question.tracking_code),
                text(|p| &p.question.access_key_hash),
                text(|p| &p.question.title),
                text(|p| &p.question.body),
                text(|p| &p.question.asker.name),
                text(|p| p.question.status.as_str()),
                text(|p| &p.search_text),
            ],
            optional: [
                optional(|q| &q.category),
                optional(|q| &q.unit),
                optional(|q| &q.asker.email),
                optional(|q| &q.asker.phone),
                optional(|q| &q.asker.address),
                optional(|q| &q.asker.organization),
            ],
            consent: rows.iter().map(|p| p.question.publish_consent).collect(),
            times: [
                time(|q| q.received_at),
                time(|q| q.due_at),
                time(|q| q.updated_at),
            ],
            optional_times: [
                optional_time(|q| q.answered_at),
                optional_time(|q| q.published_at),
            ],
        }
    }
}

impl QueryId for PgInsert<'_> {
    type QueryId = PgInsert<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for PgInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO questions (id, tracking_code, access_key_hash, title, body, asker_name, \
             status, search_text, category_code, unit_code, asker_email, asker_phone, \
             asker_address, asker_organization, publish_consent, received_at, due_at, \
             updated_at, answered_at, published_at) SELECT * FROM unnest(",
        );
        let mut first = true;
        let mut comma = |out: &mut AstPass<'_, 'b, Pg>| {
            if !std::mem::take(&mut first) {
                out.push_sql(", ");
            }
        };
        for column in &self.text {
            comma(&mut out);
            out.push_bind_param::<Array<Text>, _>(column)?;
        }
        for column in &self.optional {
            comma(&mut out);
            out.push_bind_param::<Array<Nullable<Text>>, _>(column)?;
        }
        comma(&mut out);
        out.push_bind_param::<Array<Bool>, _>(&self.consent)?;
        for column in &self.times {
            comma(&mut out);
            out.push_bind_param::<Array<Timestamp>, _>(column)?;
        }
        for column in &self.optional_times {
            comma(&mut out);
            out.push_bind_param::<Array<Nullable<Timestamp>>, _>(column)?;
        }
        out.push_sql(") ON CONFLICT (tracking_code) DO NOTHING RETURNING id");
        Ok(())
    }
}

impl Query for PgInsert<'_> {
    type SqlType = Text;
}

impl RunQueryDsl<PgConnection> for PgInsert<'_> {}

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
