//! The queries of the time-driven events: unanswered questions by due time, the life of each
//! obligation, which subjects were already marked, and the emission itself.
//!
//! An emission marks its subject and records its event in one transaction, so an event is
//! recorded once per subject however many instances look for it at the same time.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::{mark_once, record, Collect};
use super::schema::{event_marks, obligations, questions, units};
use super::{write_transaction, DbConnection, DbError};
use crate::domain::events::{EventType, NewEvent};
use crate::domain::question::Status;

/// An unanswered question, as the time-driven events describe it: nothing of the asker's.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = questions)]
pub struct DueQuestion {
    /// Identifier.
    pub id: String,
    /// Stored status (`received` or `assigned`).
    pub status: String,
    /// The code the asker follows it with.
    pub tracking_code: String,
    /// Title.
    pub title: String,
    /// The unit to answer it, once assigned.
    #[diesel(column_name = unit_code)]
    pub unit: Option<String>,
    /// Category code.
    #[diesel(column_name = category_code)]
    pub category: Option<String>,
    /// When it was asked (UTC).
    pub received_at: NaiveDateTime,
    /// When the answer is due (UTC).
    pub due_at: NaiveDateTime,
}

impl DueQuestion {
    /// Where a walk in due-time order continues after this question.
    pub fn key(&self) -> DueKey {
        (self.due_at, self.id.clone())
    }
}

/// A place in the order of due time, then id.
pub type DueKey = (NaiveDateTime, String);

/// Questions in `status` due from `from` (or any time) up to, not including, `before`, after
/// `after` in (due time, id) order: at most `limit`, in that order.
///
/// One range of the (status, due time) index, whatever the statistics say: which of them were
/// already emitted is asked by id ([`marked_among`]), not joined, so a planner that misjudges
/// how many marks there are cannot compare every question with every mark.
pub fn due_between(
    conn: &mut DbConnection,
    status: Status,
    from: Option<NaiveDateTime>,
    before: NaiveDateTime,
    after: Option<&DueKey>,
    limit: i64,
) -> Result<Vec<DueQuestion>, DbError> {
    let mut query = questions::table
        .filter(questions::status.eq(status.as_str()))
        .filter(questions::due_at.lt(before))
        .order((questions::due_at.asc(), questions::id.asc()))
        .limit(limit)
        .select(DueQuestion::as_select())
        .into_boxed();
    query = match (after, from) {
        (Some((at, id)), from) if from.is_none_or(|from| *at >= from) => query
            .filter(questions::due_at.ge(*at))
            .filter(questions::due_at.gt(*at).or(questions::id.gt(id.clone()))),
        (_, Some(from)) => query.filter(questions::due_at.ge(from)),
        (_, None) => query,
    };
    Ok(query.load(conn)?)
}

/// When an obligation was created, and whether its unit is active (or since when it is not).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ObligationLife {
    /// The obligation.
    pub id: i64,
    /// When it was created (UTC).
    pub created_at: NaiveDateTime,
    /// Whether its unit is active.
    pub unit_active: bool,
    /// When its unit was deactivated (UTC), if it was.
    pub unit_deactivated_at: Option<NaiveDateTime>,
}

/// The life of every obligation, by id.
pub fn obligation_lives(conn: &mut DbConnection) -> Result<Vec<ObligationLife>, DbError> {
    Ok(obligations::table
        .inner_join(units::table)
        .order(obligations::id.asc())
        .select((
            obligations::id,
            obligations::created_at,
            units::active,
            units::deactivated_at,
        ))
        .load(conn)?)
}

/// Of `subjects`, those for which `kind` was already emitted: primary-key lookups, in lists
/// of at most 500.
pub fn marked_among(
    conn: &mut DbConnection,
    kind: EventType,
    subjects: &[String],
) -> Result<HashSet<String>, DbError> {
    let mut out = HashSet::new();
    // Bounded lists, so the statement stays within every backend's parameter limit.
    for chunk in subjects.chunks(500) {
        let found: Vec<String> = event_marks::table
            .filter(event_marks::kind.eq(kind.as_str()))
            .filter(event_marks::subject_id.eq_any(chunk))
            .select(event_marks::subject_id)
            .load(conn)?;
        out.extend(found);
    }
    Ok(out)
}

/// Records each event whose subject was not yet marked for its type, and marks it, in one
/// transaction; returns how many were recorded. Another instance emitting the same subject at
/// the same time makes the mark wait for its transaction and then pass over the subject.
pub fn emit_once(
    conn: &mut DbConnection,
    list: &[NewEvent],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    if list.is_empty() {
        return Ok(0);
    }
    // One order for every instance, so two that mark the same subjects never wait on each
    // other in a circle.
    let mut ordered: Vec<&NewEvent> = list.iter().collect();
    ordered.sort_by(|a, b| (a.kind, &a.subject_id).cmp(&(b.kind, &b.subject_id)));
    write_transaction(conn, |conn| {
        // The events are inserted together after the marks, in one statement (on SQLite,
        // whose write lock this transaction holds, they are numbered as they are inserted).
        let collected = Collect::start();
        let mut recorded = 0;
        for event in ordered {
            if mark_once(conn, event.kind, &event.subject_id, now)? {
                record(conn, event)?;
                recorded += 1;
            }
        }
        collected.insert(conn)?;
        Ok(recorded)
    })
}
