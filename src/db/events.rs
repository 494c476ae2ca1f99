//! The event log: recording events in the transaction of their change, numbering them in
//! commit order, and reading them back in that order.
//!
//! On SQLite one transaction writes at a time, so an event takes the next number as it is
//! inserted. On PostgreSQL transactions commit in an order their inserts cannot know, so an
//! event is inserted without a number, and [`sequence`] numbers the committed ones later, one
//! instance at a time: every number it gives is above every number given before it, so a
//! reader that remembers the last number it saw misses nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::schema::{event_marks, events};
use super::{DbConnection, DbError};
use crate::domain::events::{Event, EventType, NewEvent, SubjectKind};

/// The advisory lock that makes one PostgreSQL instance at a time number events.
pub const SEQUENCE_LOCK: i64 = 0x0070_6f72_7461_6c01;

#[derive(Insertable)]
#[diesel(table_name = events)]
struct Row<'a> {
    id: &'a str,
    kind: &'a str,
    occurred_at: NaiveDateTime,
    unit_code: Option<&'a str>,
    subject_kind: &'a str,
    subject_id: &'a str,
    data: String,
}

fn data_text(event: &NewEvent) -> String {
    serde_json::Value::Object(event.data.clone()).to_string()
}

/// Records an event in the caller's transaction: it commits or rolls back with the change.
pub fn record(conn: &mut DbConnection, event: &NewEvent) -> Result<(), DbError> {
    let data = data_text(event);
    match conn {
        DbConnection::Sqlite(c) => {
            diesel::sql_query(
                "INSERT INTO events (id, seq, type, occurred_at, unit_code, subject_kind, \
                 subject_id, data) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events), \
                 ?, ?, ?, ?, ?, ?)",
            )
            .bind::<Text, _>(&event.id)
            .bind::<Text, _>(event.kind.as_str())
            .bind::<Timestamp, _>(event.occurred_at)
            .bind::<Nullable<Text>, _>(event.unit.as_deref())
            .bind::<Text, _>(event.subject_kind.as_str())
            .bind::<Text, _>(&event.subject_id)
            .bind::<Text, _>(&data)
            .execute(c)?;
        }
        DbConnection::Pg(c) => {
            diesel::insert_into(events::table)
                .values(Row {
                    id: &event.id,
                    kind: event.kind.as_str(),
                    occurred_at: event.occurred_at,
                    unit_code: event.unit.as_deref(),
                    subject_kind: event.subject_kind.as_str(),
                    subject_id: &event.subject_id,
                    data,
                })
                .execute(c)?;
        }
    }
    Ok(())
}

/// Records several events in the caller's transaction, in order.
pub fn record_all(conn: &mut DbConnection, list: &[NewEvent]) -> Result<(), DbError> {
    list.iter().try_for_each(|e| record(conn, e))
}

/// Takes back an event recorded in this transaction, when the change it reported failed after
/// it on SQLite (where a failed statement undoes only itself).
pub fn forget(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::delete(events::table.filter(events::id.eq(id))).execute(conn)?;
    Ok(())
}

/// Marks that the time-driven event `kind` was emitted for `subject_id`, in the caller's
/// transaction; false when it already was (by this instance or another).
pub fn mark_once(
    conn: &mut DbConnection,
    kind: EventType,
    subject_id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let sql = match conn {
        DbConnection::Sqlite(_) => {
            "INSERT INTO event_marks (type, subject_id, marked_at) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING"
        }
        DbConnection::Pg(_) => {
            "INSERT INTO event_marks (type, subject_id, marked_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING"
        }
    };
    let inserted = diesel::sql_query(sql)
        .bind::<Text, _>(kind.as_str())
        .bind::<Text, _>(subject_id)
        .bind::<Timestamp, _>(now)
        .execute(conn)?;
    Ok(inserted == 1)
}

/// Whether `kind` was already emitted for `subject_id`.
pub fn marked(conn: &mut DbConnection, kind: EventType, subject_id: &str) -> Result<bool, DbError> {
    let n: i64 = event_marks::table
        .filter(event_marks::kind.eq(kind.as_str()))
        .filter(event_marks::subject_id.eq(subject_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

#[derive(QueryableByName)]
struct Bound {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Numbers the committed events that have no number yet (PostgreSQL; on SQLite every event is
/// numbered as it is inserted). Runs in its own transaction under an advisory lock, so that
/// instances take turns; returns how many it numbered, 0 when another instance holds the turn.
pub fn sequence(conn: &mut DbConnection) -> Result<usize, DbError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(0);
    };
    pg.transaction::<_, diesel::result::Error, _>(|pg| {
        let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(SEQUENCE_LOCK)
            .get_result(pg)?;
        if !locked.locked {
            return Ok(0);
        }
        // Each statement sees what committed before it began: the numbers given before this
        // turn, and events that committed since.
        let first: Bound =
            diesel::sql_query("SELECT MIN(row_id) AS n FROM events WHERE seq IS NULL")
                .get_result(pg)?;
        let Some(first) = first.n else {
            return Ok(0);
        };
        let last: Bound = diesel::sql_query("SELECT MAX(seq) AS n FROM events").get_result(pg)?;
        // Rows below `first` that commit meanwhile wait for the next turn, which numbers
        // above this one.
        let offset = last.n.unwrap_or(0) - first + 1;
        let numbered = diesel::sql_query(
            "UPDATE events SET seq = row_id + $1 WHERE seq IS NULL AND row_id >= $2",
        )
        .bind::<BigInt, _>(offset)
        .bind::<BigInt, _>(first)
        .execute(pg)?;
        Ok(numbered)
    })
    .map_err(DbError::from)
}

/// What the feed is asked for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only events after this number.
    pub after_seq: i64,
    /// Only these types (any, when empty).
    pub types: Vec<String>,
    /// Only this unit's events.
    pub unit: Option<String>,
}

type EventRow = (
    Option<i64>,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    String,
    String,
    String,
);

fn subject_kind(name: &str) -> SubjectKind {
    match name {
        "submission" => SubjectKind::Submission,
        "question" => SubjectKind::Question,
        "unit" => SubjectKind::Unit,
        "obligation_period" => SubjectKind::ObligationPeriod,
        "holiday" => SubjectKind::Holiday,
        _ => SubjectKind::Webhook,
    }
}

fn to_event(row: EventRow) -> Result<Event, DbError> {
    let (seq, id, kind, occurred_at, unit, subject, subject_id, data) = row;
    let kind = EventType::parse(&kind)
        .ok_or_else(|| DbError::Internal(format!("unknown event type {kind:?} stored")))?;
    let data = match serde_json::from_str(&data) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(DbError::Internal("event data is not a JSON object".into())),
    };
    Ok(Event {
        seq: seq.unwrap_or(0),
        event: NewEvent {
            id,
            kind,
            occurred_at,
            unit,
            subject_kind: subject_kind(&subject),
            subject_id,
            data,
        },
    })
}

/// Numbered events matching `filter`, oldest first, up to `limit`.
pub fn list(conn: &mut DbConnection, filter: &Filter, limit: i64) -> Result<Vec<Event>, DbError> {
    let mut query = events::table
        .filter(events::seq.gt(filter.after_seq))
        .order(events::seq.asc())
        .limit(limit)
        .select((
            events::seq,
            events::id,
            events::kind,
            events::occurred_at,
            events::unit_code,
            events::subject_kind,
            events::subject_id,
            events::data,
        ))
        .into_boxed();
    if !filter.types.is_empty() {
        query = query.filter(events::kind.eq_any(filter.types.clone()));
    }
    if let Some(unit) = &filter.unit {
        query = query.filter(events::unit_code.eq(unit.clone()));
    }
    let rows: Vec<EventRow> = query.load(conn)?;
    rows.into_iter().map(to_event).collect()
}
