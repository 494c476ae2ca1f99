//! Citizen questions and their replies.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::page::{newest_first_after, After};
use super::schema::{question_replies, questions};
use super::{search, DbBackend, DbConnection};
use crate::domain::question::{self as rules, Status};

mod insert;

pub use insert::{
    insert_many, insert_new_code, insert_pending, insert_pending_together, NewQuestion, NewReply,
    Pending,
};

/// A question as stored, without its search text.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = questions)]
struct QuestionRow {
    id: String,
    tracking_code: String,
    access_key_hash: String,
    title: String,
    body: String,
    category_code: Option<String>,
    unit_code: Option<String>,
    asker_name: String,
    asker_email: Option<String>,
    asker_phone: Option<String>,
    asker_address: Option<String>,
    asker_organization: Option<String>,
    publish_consent: bool,
    status: String,
    rejection_note: Option<String>,
    received_at: NaiveDateTime,
    due_at: NaiveDateTime,
    answered_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
    rating_score: Option<i32>,
    rating_comment: Option<String>,
    rated_at: Option<NaiveDateTime>,
}

/// Who asked, and how to reach them. Staff only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Asker {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Organisation.
    pub organization: Option<String>,
}

/// A question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// UUID.
    pub id: String,
    /// The code the asker follows it with.
    pub tracking_code: String,
    /// SHA-256 of the access key, hex.
    pub access_key_hash: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Category code.
    pub category: Option<String>,
    /// Unit that is to answer.
    pub unit: Option<String>,
    /// The asker.
    pub asker: Asker,
    /// Whether the asker agreed to publication.
    pub publish_consent: bool,
    /// Status.
    pub status: Status,
    /// Why it was rejected.
    pub rejection_note: Option<String>,
    /// When it was asked (UTC).
    pub received_at: NaiveDateTime,
    /// When the answer is due (UTC).
    pub due_at: NaiveDateTime,
    /// First reply (UTC).
    pub answered_at: Option<NaiveDateTime>,
    /// Publication (UTC).
    pub published_at: Option<NaiveDateTime>,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// The asker's rating, 1–5.
    pub rating_score: Option<i32>,
    /// The asker's comment with the rating.
    pub rating_comment: Option<String>,
    /// When it was rated.
    pub rated_at: Option<NaiveDateTime>,
}

impl Question {
    /// Not answered and past its due time: derived, never stored.
    pub fn is_overdue(&self, now: NaiveDateTime) -> bool {
        rules::is_overdue(self.status, self.answered_at, self.due_at, now)
    }
}

impl QuestionRow {
    fn into_question(self) -> QueryResult<Question> {
        let status = Status::parse(&self.status).ok_or_else(|| {
            diesel::result::Error::DeserializationError(
                format!("question {} has status {}", self.id, self.status).into(),
            )
        })?;
        Ok(Question {
            id: self.id,
            tracking_code: self.tracking_code,
            access_key_hash: self.access_key_hash,
            title: self.title,
            body: self.body,
            category: self.category_code,
            unit: self.unit_code,
            asker: Asker {
                name: self.asker_name,
                email: self.asker_email,
                phone: self.asker_phone,
                address: self.asker_address,
                organization: self.asker_organization,
            },
            publish_consent: self.publish_consent,
            status,
            rejection_note: self.rejection_note,
            received_at: self.received_at,
            due_at: self.due_at,
            answered_at: self.answered_at,
            published_at: self.published_at,
            updated_at: self.updated_at,
            rating_score: self.rating_score,
            rating_comment: self.rating_comment,
            rated_at: self.rated_at,
        })
    }
}

fn rows_into(rows: Vec<QuestionRow>) -> QueryResult<Vec<Question>> {
    rows.into_iter().map(QuestionRow::into_question).collect()
}

/// A reply to a question.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = question_replies)]
pub struct Reply {
    /// Sequence number.
    pub id: i64,
    /// The question.
    pub question_id: String,
    /// Text.
    pub body: String,
    /// The unit that answered, when an officer did.
    pub unit_code: Option<String>,
    /// Subject of who wrote it.
    pub author: String,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

/// One question by id.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Question>> {
    questions::table
        .find(id)
        .select(QuestionRow::as_select())
        .first(conn)
        .optional()?
        .map(QuestionRow::into_question)
        .transpose()
}

/// One question by tracking code.
pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Question>> {
    questions::table
        .filter(questions::tracking_code.eq(code))
        .select(QuestionRow::as_select())
        .first(conn)
        .optional()?
        .map(QuestionRow::into_question)
        .transpose()
}

/// The replies to some questions, oldest first, by question id.
pub fn replies(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<HashMap<String, Vec<Reply>>> {
    let rows: Vec<Reply> = question_replies::table
        .filter(question_replies::question_id.eq_any(ids))
        .order(question_replies::id.asc())
        .select(Reply::as_select())
        .load(conn)?;
    let mut by_question: HashMap<String, Vec<Reply>> = HashMap::new();
    for r in rows {
        by_question
            .entry(r.question_id.clone())
            .or_default()
            .push(r);
    }
    Ok(by_question)
}

/// The replies to one question, oldest first.
pub fn replies_of(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<Reply>> {
    Ok(replies(conn, &[id.to_string()])?
        .remove(id)
        .unwrap_or_default())
}

/// One question by id with its replies.
pub fn find_with_replies(
    conn: &mut DbConnection,
    id: &str,
) -> QueryResult<Option<(Question, Vec<Reply>)>> {
    let Some(q) = find(conn, id)? else {
        return Ok(None);
    };
    let replies = replies_of(conn, id)?;
    Ok(Some((q, replies)))
}

/// Moves a question still in `from` to `to` with the given unit; false if it moved meanwhile.
pub fn assign(
    conn: &mut DbConnection,
    id: &str,
    from: Status,
    unit: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        questions::table
            .find(id)
            .filter(questions::status.eq(from.as_str())),
    )
    .set((
        questions::status.eq(Status::Assigned.as_str()),
        questions::unit_code.eq(unit),
        questions::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Rejects a question still in `from`; false if it moved meanwhile.
pub fn reject(
    conn: &mut DbConnection,
    id: &str,
    from: Status,
    note: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        questions::table
            .find(id)
            .filter(questions::status.eq(from.as_str())),
    )
    .set((
        questions::status.eq(Status::Rejected.as_str()),
        questions::rejection_note.eq(note),
        questions::rejected_at.eq(Some(at)),
        questions::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Publishes an answered question; false if it is no longer answered.
pub fn publish(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        questions::table
            .find(id)
            .filter(questions::status.eq(Status::Answered.as_str()))
            .filter(questions::publish_consent.eq(true)),
    )
    .set((
        questions::status.eq(Status::Published.as_str()),
        questions::published_at.eq(Some(at)),
        questions::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Adds a reply to a question in `from`; the first one answers it, and stores
/// `answer_working_days`, the working days since receipt (kept for the statistics, so a quarter
/// is counted with the calendar as it stood when each answer was given; `None` keeps the
/// figure stored). False if the question moved meanwhile.
pub fn add_reply(
    conn: &mut DbConnection,
    question: &Question,
    body: &str,
    unit: Option<&str>,
    author: &str,
    at: NaiveDateTime,
    answer_working_days: Option<i32>,
) -> QueryResult<bool> {
    let n = diesel::update(
        questions::table
            .find(&question.id)
            .filter(questions::status.eq(question.status.as_str())),
    )
    .set((
        questions::status.eq(Status::Answered.as_str()),
        questions::answered_at.eq(question.answered_at.or(Some(at))),
        questions::updated_at.eq(at),
        answer_working_days.map(|days| questions::answer_working_days.eq(days)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(question_replies::table)
        .values(&NewReply {
            question_id: question.id.as_str().into(),
            body: body.into(),
            unit_code: unit.map(Cow::from),
            author: author.into(),
            created_at: at,
        })
        .execute(conn)?;
    Ok(true)
}

/// Records the asker's rating once, after an answer; false if rated already or unanswered.
pub fn rate(
    conn: &mut DbConnection,
    id: &str,
    score: i32,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        questions::table
            .find(id)
            .filter(questions::rating_score.is_null())
            .filter(questions::answered_at.is_not_null()),
    )
    .set((
        questions::rating_score.eq(Some(score)),
        questions::rating_comment.eq(comment),
        questions::rated_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// Filters for listing questions.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this unit.
    pub unit: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this category.
    pub category: Option<String>,
    /// Only overdue (true) or not overdue (false) questions, as of `now`.
    pub overdue: Option<bool>,
    /// The moment overdue is judged at.
    pub now: Option<NaiveDateTime>,
    /// Sort time on or after (UTC).
    pub from: Option<NaiveDateTime>,
    /// Sort time before (UTC).
    pub to: Option<NaiveDateTime>,
    /// Folded words, all required.
    pub terms: Vec<String>,
}

type Boxed = questions::BoxedQuery<'static, DbBackend>;

/// A condition on questions, for filters shared between queries.
pub type Condition = Box<dyn BoxableExpression<questions::table, DbBackend, SqlType = Bool>>;

/// The statuses that still owe an answer, as stored.
fn awaiting_answer() -> Vec<&'static str> {
    Status::ALL
        .into_iter()
        .filter(Status::awaits_answer)
        .map(|s| s.as_str())
        .collect()
}

/// Overdue as of `now`: the rule of [`rules::is_overdue`] as a filter, the one definition every
/// list and count of overdue questions uses.
pub fn overdue(now: NaiveDateTime) -> Condition {
    Box::new(
        questions::status
            .eq_any(awaiting_answer())
            .and(questions::answered_at.is_null())
            .and(questions::due_at.lt(now)),
    )
}

fn filtered(conn: &mut DbConnection, f: &Filter, published: bool) -> QueryResult<Boxed> {
    let mut query = questions::table.into_boxed();
    if let Some(unit) = &f.unit {
        query = query.filter(questions::unit_code.eq(unit.clone()));
    }
    if let Some(status) = f.status {
        query = query.filter(questions::status.eq(status.as_str()));
    }
    if let Some(category) = &f.category {
        query = query.filter(questions::category_code.eq(category.clone()));
    }
    match (f.overdue, f.now) {
        (Some(true), Some(now)) => query = query.filter(overdue(now)),
        // Every part of the rule is a NOT NULL column or IS NULL, so NOT is exact.
        (Some(false), Some(now)) => query = query.filter(diesel::dsl::not(overdue(now))),
        _ => {}
    }
    match (published, f.from) {
        (true, Some(from)) => query = query.filter(questions::published_at.ge(from)),
        (false, Some(from)) => query = query.filter(questions::received_at.ge(from)),
        _ => {}
    }
    match (published, f.to) {
        (true, Some(to)) => query = query.filter(questions::published_at.lt(to)),
        (false, Some(to)) => query = query.filter(questions::received_at.lt(to)),
        _ => {}
    }
    if !f.terms.is_empty() {
        query = query.filter(search::words(conn, "questions", &f.terms)?);
    }
    Ok(query)
}

/// Up to `limit` questions matching the filter, newest received first, after `after`.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&After>,
    limit: i64,
) -> QueryResult<Vec<Question>> {
    let query = filtered(conn, filter, false)?;
    rows_into(
        newest_first_after!(query, questions::received_at, questions::id, after)
            .limit(limit)
            .select(QuestionRow::as_select())
            .load(conn)?,
    )
}

/// Up to `limit` published questions matching the filter, newest published first.
pub fn list_published(
    conn: &mut DbConnection,
    filter: &Filter,
    after: Option<&After>,
    limit: i64,
) -> QueryResult<Vec<Question>> {
    let published = Filter {
        status: Some(Status::Published),
        ..filter.clone()
    };
    let query = filtered(conn, &published, true)?;
    rows_into(
        newest_first_after!(query, questions::published_at, questions::id, after)
            .limit(limit)
            .select(QuestionRow::as_select())
            .load(conn)?,
    )
}

/// Gives a question a new access key (its hash): the old key stops opening it.
pub fn set_access_key_hash(
    conn: &mut DbConnection,
    id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(questions::table.find(id))
        .set((
            questions::access_key_hash.eq(hash),
            questions::updated_at.eq(now),
        ))
        .execute(conn)
}
