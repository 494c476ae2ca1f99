//! The queries of the daily digest: what waits for a unit's officers and for the editorial
//! board, a bounded list and a count of each, and the mark that sends a day's digest once.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::events::mark_once_as;
use super::mail::{self, NewMail};
use super::schema::{event_marks, questions, submissions, units};
use super::{write_transaction, DbConnection, DbError};
use crate::domain::question::Status;
use crate::domain::submission::Status as ItemStatus;

/// The mark of a day whose digest was queued.
const MARK: &str = "mail.digest";

/// A question in a digest: nothing of the asker's.
#[derive(Debug, Clone, Queryable)]
pub struct Question {
    /// Tracking code.
    pub code: String,
    /// Title.
    pub title: String,
    /// When it was asked (UTC).
    pub received_at: NaiveDateTime,
    /// When the answer is due (UTC).
    pub due_at: NaiveDateTime,
}

/// An item waiting for review.
#[derive(Debug, Clone, Queryable)]
pub struct Item {
    /// Title.
    pub title: String,
    /// Name of its unit.
    pub unit_name: String,
    /// When it was (last) submitted (UTC).
    pub since: Option<NaiveDateTime>,
}

/// The first of a list, and how many there are in all.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    /// The first ones, in order.
    pub items: Vec<T>,
    /// How many in all.
    pub total: i64,
}

/// A unit's unanswered questions due from `now` up to (not including) `before`, and those past
/// due; the soonest first.
pub fn unit_questions(
    conn: &mut DbConnection,
    unit: &str,
    now: NaiveDateTime,
    before: NaiveDateTime,
    limit: i64,
) -> Result<(Listed<Question>, Listed<Question>), DbError> {
    let of_unit = || {
        questions::table
            .filter(questions::status.eq(Status::Assigned.as_str()))
            .filter(questions::unit_code.eq(unit))
    };
    let fields = (
        questions::tracking_code,
        questions::title,
        questions::received_at,
        questions::due_at,
    );
    let soon = Listed {
        items: of_unit()
            .filter(questions::due_at.ge(now))
            .filter(questions::due_at.lt(before))
            .order((questions::due_at.asc(), questions::id.asc()))
            .limit(limit)
            .select(fields)
            .load(conn)?,
        total: of_unit()
            .filter(questions::due_at.ge(now))
            .filter(questions::due_at.lt(before))
            .count()
            .get_result(conn)?,
    };
    let overdue = Listed {
        items: of_unit()
            .filter(questions::due_at.lt(now))
            .order((questions::due_at.asc(), questions::id.asc()))
            .limit(limit)
            .select(fields)
            .load(conn)?,
        total: of_unit()
            .filter(questions::due_at.lt(now))
            .count()
            .get_result(conn)?,
    };
    Ok((soon, overdue))
}

/// Items submitted to the board and not yet decided, the longest waiting first.
pub fn waiting_review(conn: &mut DbConnection, limit: i64) -> Result<Listed<Item>, DbError> {
    let waiting = [
        ItemStatus::Submitted.as_str(),
        ItemStatus::InReview.as_str(),
    ];
    Ok(Listed {
        items: submissions::table
            .inner_join(units::table)
            .filter(submissions::status.eq_any(waiting))
            .order((submissions::submitted_at.asc(), submissions::id.asc()))
            .limit(limit)
            .select((submissions::title, units::name, submissions::submitted_at))
            .load(conn)?,
        total: submissions::table
            .filter(submissions::status.eq_any(waiting))
            .count()
            .get_result(conn)?,
    })
}

/// Questions waiting to be routed to a unit, the oldest first.
pub fn unrouted(conn: &mut DbConnection, limit: i64) -> Result<Listed<Question>, DbError> {
    let received = || questions::table.filter(questions::status.eq(Status::Received.as_str()));
    Ok(Listed {
        items: received()
            .order((questions::received_at.asc(), questions::id.asc()))
            .limit(limit)
            .select((
                questions::tracking_code,
                questions::title,
                questions::received_at,
                questions::due_at,
            ))
            .load(conn)?,
        total: received().count().get_result(conn)?,
    })
}

/// Whether the digest of `day` was queued.
pub fn queued(conn: &mut DbConnection, day: NaiveDate) -> Result<bool, DbError> {
    let found: i64 = event_marks::table
        .filter(event_marks::kind.eq(MARK))
        .filter(event_marks::subject_id.eq(day.to_string()))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Marks the digest of `day` and queues its messages, in one transaction; false (and nothing
/// queued) when another instance did first.
pub fn queue_once(
    conn: &mut DbConnection,
    day: NaiveDate,
    list: Vec<NewMail>,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    write_transaction(conn, |conn| {
        if !mark_once_as(conn, MARK, &day.to_string(), now)? {
            return Ok(false);
        }
        mail::queue(conn, list)?;
        Ok(true)
    })
}
