//! The event log: recording events in the transaction of their change, numbered in commit
//! order, and reading them back in that order.
//!
//! An event is numbered (`seq`) as it is inserted, by a transaction that holds, until it
//! commits, the lock every numbering transaction takes: SQLite's write lock (one writer at a
//! time), or on PostgreSQL a transaction-level advisory lock taken just before the insert.
//! Numbers therefore increase in commit order, and a reader that remembers the last number it
//! saw misses nothing.
//!
//! The group-commit writer collects the events of its jobs (see [`Collect`]) and inserts them
//! in one statement just before the group commits: a job pays no round trip for its event, and
//! on PostgreSQL the lock is held only for that insert and the commit.

use std::cell::RefCell;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::bulk::insert_rows;
use super::schema::{event_marks, events};
use super::{DbConnection, DbError};
use crate::domain::events::{Event, EventType, NewEvent, SubjectKind};

/// The advisory lock a PostgreSQL transaction holds from numbering its events to its commit
/// (31647734761090049; `bench/run.sh` takes it to put a backlog in the log).
pub const NUMBERING_LOCK: i64 = 0x0070_6f72_7461_6c01;

thread_local! {
    /// The events of the writer's group in progress on this thread, when it collects them.
    static COLLECTED: RefCell<Option<Vec<NewEvent>>> = const { RefCell::new(None) };
}

/// The writer's collection of its group's events, on its own thread: while it is alive,
/// [`record`] adds events to it instead of inserting them.
pub struct Collect(());

impl Collect {
    /// Starts collecting on this thread.
    pub fn start() -> Self {
        COLLECTED.with(|c| *c.borrow_mut() = Some(Vec::new()));
        Self(())
    }

    /// How many are collected: a job's events are those after the mark taken before it.
    pub fn mark(&self) -> usize {
        COLLECTED.with(|c| c.borrow().as_ref().map_or(0, Vec::len))
    }

    /// Drops the events after `mark`: the job that recorded them failed.
    pub fn undo_to(&self, mark: usize) {
        COLLECTED.with(|c| {
            if let Some(list) = c.borrow_mut().as_mut() {
                list.truncate(mark);
            }
        });
    }

    /// Inserts what was collected, numbered, in the group's transaction, and empties the
    /// collection.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<usize, DbError> {
        let list = COLLECTED.with(|c| c.borrow_mut().as_mut().map(std::mem::take));
        match list {
            Some(list) if !list.is_empty() => insert_numbered(conn, &list),
            _ => Ok(0),
        }
    }

    /// Forgets what was collected: the group was rolled back.
    pub fn discard(&self) {
        COLLECTED.with(|c| {
            if let Some(list) = c.borrow_mut().as_mut() {
                list.clear();
            }
        });
    }
}

impl Drop for Collect {
    fn drop(&mut self) {
        COLLECTED.with(|c| *c.borrow_mut() = None);
    }
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct Row<'a> {
    seq: i64,
    id: &'a str,
    kind: &'a str,
    occurred_at: NaiveDateTime,
    unit_code: Option<&'a str>,
    subject_kind: &'a str,
    subject_id: &'a str,
    data: String,
}

#[derive(QueryableByName)]
struct Bound {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

/// Inserts events numbered after every event committed so far. The caller's transaction must
/// commit soon after: on PostgreSQL it holds [`NUMBERING_LOCK`] until then.
fn insert_numbered(conn: &mut DbConnection, list: &[NewEvent]) -> Result<usize, DbError> {
    let data: Vec<String> = list
        .iter()
        .map(|e| serde_json::to_string(&e.data).unwrap_or_else(|_| "{}".into()))
        .collect();
    if let DbConnection::Pg(pg) = conn {
        if let Some(sql) = pg_numbered_insert(list, &data) {
            // One round trip: the lock, then the insert, whose snapshot is taken after it.
            pg.batch_execute(&sql)?;
            return Ok(list.len());
        }
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(NUMBERING_LOCK)
            .execute(pg)?;
    }
    // Read after the lock: every transaction that numbered before has committed.
    let last: Bound = diesel::sql_query("SELECT MAX(seq) AS n FROM events").get_result(conn)?;
    let first = last.n.unwrap_or(0) + 1;
    let rows: Vec<Row> = list
        .iter()
        .zip(data)
        .zip(first..)
        .map(|((event, data), seq)| Row {
            seq,
            id: &event.id,
            kind: event.kind.as_str(),
            occurred_at: event.occurred_at,
            unit_code: event.unit.as_deref(),
            subject_kind: event.subject_kind.as_str(),
            subject_id: &event.subject_id,
            data,
        })
        .collect();
    Ok(insert_rows!(conn, events::table, rows)?)
}

/// A PostgreSQL string literal (`E'…'`, whatever `standard_conforming_strings` says); `None`
/// for text PostgreSQL cannot hold (a NUL character).
fn pg_literal(text: &str) -> Option<String> {
    if text.contains('\0') {
        return None;
    }
    Some(format!(
        "E'{}'",
        text.replace('\\', "\\\\").replace('\'', "''")
    ))
}

/// The lock and the numbered insert of `list` as one simple-query string, the values written
/// as literals: PostgreSQL runs its two statements in turn, each with its own snapshot, so the
/// largest number is read after the lock is held. `None` when a value cannot be written as a
/// literal (the caller then binds them).
fn pg_numbered_insert(list: &[NewEvent], data: &[String]) -> Option<String> {
    let mut sql = format!(
        "SELECT pg_advisory_xact_lock({NUMBERING_LOCK}); \
         INSERT INTO events (seq, id, type, occurred_at, unit_code, subject_kind, subject_id, data) \
         SELECT (SELECT COALESCE(MAX(seq), 0) FROM events) + v.i, v.id, v.type, v.at::timestamp, \
         v.unit, v.kind, v.subject, v.data FROM (VALUES "
    );
    for (i, (event, data)) in list.iter().zip(data).enumerate() {
        let unit = match &event.unit {
            Some(unit) => pg_literal(unit)?,
            None => "NULL".into(),
        };
        sql.push_str(&format!(
            "{}({}, {}, {}, {}, {}::text, {}, {}, {})",
            if i == 0 { "" } else { ", " },
            i + 1,
            pg_literal(&event.id)?,
            pg_literal(event.kind.as_str())?,
            pg_literal(
                &event
                    .occurred_at
                    .format("%Y-%m-%d %H:%M:%S%.6f")
                    .to_string()
            )?,
            unit,
            pg_literal(event.subject_kind.as_str())?,
            pg_literal(&event.subject_id)?,
            pg_literal(data)?,
        ));
    }
    sql.push_str(") AS v(i, id, type, at, unit, kind, subject, data)");
    Some(sql)
}

/// Records an event in the caller's transaction: it commits or rolls back with the change. In
/// the writer it is inserted with the group's other events just before the group commits;
/// elsewhere at once, and the caller's transaction should then commit soon (on PostgreSQL it
/// holds the numbering lock until it does).
pub fn record(conn: &mut DbConnection, event: &NewEvent) -> Result<(), DbError> {
    let collected = COLLECTED.with(|c| match c.borrow_mut().as_mut() {
        Some(list) => {
            list.push(event.clone());
            true
        }
        None => false,
    });
    if !collected {
        insert_numbered(conn, std::slice::from_ref(event))?;
    }
    Ok(())
}

/// Records several events in the caller's transaction, in order.
pub fn record_all(conn: &mut DbConnection, list: &[NewEvent]) -> Result<(), DbError> {
    list.iter().try_for_each(|e| record(conn, e))
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

/// Most events a filtered read of the feed looks at: a filter that matches little stops at the
/// end of this stretch of the log and says where it stopped, so no read walks the whole log.
pub const SCAN_WINDOW: i64 = 20_000;

/// A read of the feed.
#[derive(Debug)]
pub struct Listed {
    /// The events found, oldest first.
    pub events: Vec<Event>,
    /// Where a filtered read stopped looking, when the log goes on after it.
    pub scanned_to: Option<i64>,
}

/// Events matching `filter`, oldest first, up to `limit`. Only the numbers are indexed, so a
/// read by unit or type looks at [`SCAN_WINDOW`] events at most.
pub fn read(conn: &mut DbConnection, filter: &Filter, limit: i64) -> Result<Listed, DbError> {
    if filter.types.is_empty() && filter.unit.is_none() {
        return Ok(Listed {
            events: list(conn, filter, limit, None)?,
            scanned_to: None,
        });
    }
    let end = filter.after_seq.saturating_add(SCAN_WINDOW);
    let events = list(conn, filter, limit, Some(end))?;
    let scanned_to = if (events.len() as i64) < limit {
        let last: Bound = diesel::sql_query("SELECT MAX(seq) AS n FROM events").get_result(conn)?;
        last.n.filter(|last| *last > end).map(|_| end)
    } else {
        None
    };
    Ok(Listed { events, scanned_to })
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
    i64,
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
        seq,
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

/// Events matching `filter`, oldest first, up to `limit`, and up to `seq` `until` if given.
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    limit: i64,
    until: Option<i64>,
) -> Result<Vec<Event>, DbError> {
    let mut query = events::table
        .filter(events::seq.gt(filter.after_seq))
        .filter(events::seq.le(until.unwrap_or(i64::MAX)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_quotes_and_backslashes_and_refuse_nul() {
        assert_eq!(pg_literal("O'Brien").unwrap(), "E'O''Brien'");
        assert_eq!(pg_literal(r"a\'b").unwrap(), r"E'a\\''b'");
        assert_eq!(pg_literal("Đồng Xoài").unwrap(), "E'Đồng Xoài'");
        assert_eq!(pg_literal("a\0b"), None);
    }
}
