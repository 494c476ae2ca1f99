//! The event log: recording events in the transaction of their change, numbered so that a
//! reader that remembers the last number it saw misses nothing, and reading them back in that
//! order.
//!
//! - SQLite takes one writer at a time: an event is numbered one more than the largest, as it
//!   is inserted under the write lock, so numbers increase in commit order with no gap.
//! - PostgreSQL commits many transactions at once, and a lock held from numbering to commit
//!   would line their commits up one behind the other. An event is numbered instead from its
//!   transaction's id: `xid * 65536 + n`, n counting the transaction's events. Ids are given
//!   as transactions begin to write, not as they commit, so a reader looks only below the
//!   oldest transaction still running (its snapshot's `xmin`, times 65536): every transaction
//!   below it has ended, so nothing can later appear under a number already passed. Numbers
//!   then have gaps, and a reader sees an event once its transaction and every older writing
//!   transaction have ended (milliseconds, unless a transaction stays open). A change made
//!   after another committed still has the larger number: its transaction began writing after.
//!   (Changes to existing rows all go through one writer, whose groups run one after another.)
//!
//! The group-commit writer collects the events of its jobs (see [`Collect`]) and inserts them
//! in one statement just before the group commits: a job pays no round trip for its event.

use std::cell::RefCell;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};

use super::bulk::insert_rows;
use super::schema::events;
use super::{DbConnection, DbError};
use crate::domain::events::{Event, EventType, NewEvent, SubjectKind};

/// The base of the advisory locks the outbox takes on PostgreSQL.
pub const LOCKS: i64 = 0x0070_6f72_7461_6c01;

/// How many events one PostgreSQL transaction may number: its id times this is its first.
pub const PER_TRANSACTION: i64 = 65_536;

/// The number of the transaction's first event, as PostgreSQL computes it.
const PG_BASE: &str = "(pg_current_xact_id()::text::bigint * 65536)";

/// The numbers a PostgreSQL reader may look at are below this: every transaction under its
/// snapshot's oldest running one has ended.
const PG_VISIBLE_BELOW: &str = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536)";

thread_local! {
    /// The events of the writer's group in progress on this thread, when it collects them.
    static COLLECTED: RefCell<Option<Vec<NewEvent>>> = const { RefCell::new(None) };
}

/// The writer's collection of its group's events, on its own thread: while it is alive,
/// [`record`] adds events to it instead of inserting them.
pub struct Collect(());

/// Where a job's events and messages begin in the collection.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    events: usize,
    mail: usize,
}

impl Collect {
    /// Starts collecting on this thread, events and the messages queued with them.
    pub fn start() -> Self {
        COLLECTED.with(|c| *c.borrow_mut() = Some(Vec::new()));
        super::mail::collect_start();
        Self(())
    }

    /// How many are collected: a job's events are those after the mark taken before it.
    pub fn mark(&self) -> Mark {
        Mark {
            events: COLLECTED.with(|c| c.borrow().as_ref().map_or(0, Vec::len)),
            mail: super::mail::collect_mark(),
        }
    }

    /// Drops the events and messages after `mark`: the job that recorded them failed.
    pub fn undo_to(&self, mark: Mark) {
        COLLECTED.with(|c| {
            if let Some(list) = c.borrow_mut().as_mut() {
                list.truncate(mark.events);
            }
        });
        super::mail::collect_undo_to(mark.mail);
    }

    /// Inserts what was collected, numbered, in the group's transaction, with the messages
    /// queued by the jobs and those the events cause, and empties the collection.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<usize, DbError> {
        let list = COLLECTED.with(|c| c.borrow_mut().as_mut().map(std::mem::take));
        let queued = super::mail::collect_take();
        if !queued.is_empty() {
            super::mail::insert(conn, &queued)?;
        }
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
        super::mail::collect_undo_to(0);
    }
}

impl Drop for Collect {
    fn drop(&mut self) {
        COLLECTED.with(|c| *c.borrow_mut() = None);
        super::mail::collect_stop();
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

/// Inserts events numbered after every event the caller's transaction has numbered, and (on
/// SQLite, which holds its write lock) after every event committed so far.
fn insert_numbered(conn: &mut DbConnection, list: &[NewEvent]) -> Result<usize, DbError> {
    super::mail::for_events(conn, list)?;
    let data: Vec<String> = list
        .iter()
        .map(|e| serde_json::to_string(&e.data).unwrap_or_else(|_| "{}".into()))
        .collect();
    if let DbConnection::Pg(pg) = conn {
        let insert = PgInsert {
            ids: list.iter().map(|e| e.id.as_str()).collect(),
            kinds: list.iter().map(|e| e.kind.as_str()).collect(),
            times: list.iter().map(|e| e.occurred_at).collect(),
            units: list.iter().map(|e| e.unit.as_deref()).collect(),
            subject_kinds: list.iter().map(|e| e.subject_kind.as_str()).collect(),
            subject_ids: list.iter().map(|e| e.subject_id.as_str()).collect(),
            data: data.iter().map(String::as_str).collect(),
        };
        return Ok(insert.execute(pg)?);
    }
    // SQLite: read under the write lock, so every transaction that numbered before committed.
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

/// The numbered insert of a list of events on PostgreSQL: one statement whatever the length
/// of the list, its values bound as arrays, so that the connection prepares it once and runs it
/// as prepared from then on (a statement written out for each list is parsed and planned at
/// every group commit: measured, `POST /questions` then ran at 0.78 of its rate before
/// events, against 0.86–0.95 with this one; bench/RESULTS.md).
/// Numbers go on from the transaction's last, if it numbered events before.
struct PgInsert<'a> {
    ids: Vec<&'a str>,
    kinds: Vec<&'a str>,
    times: Vec<NaiveDateTime>,
    units: Vec<Option<&'a str>>,
    subject_kinds: Vec<&'a str>,
    subject_ids: Vec<&'a str>,
    data: Vec<&'a str>,
}

impl QueryId for PgInsert<'_> {
    type QueryId = PgInsert<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for PgInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(&format!(
            "INSERT INTO events (seq, id, type, occurred_at, unit_code, subject_kind, subject_id, \
             data) SELECT (SELECT COALESCE(MAX(seq), {PG_BASE}) FROM events \
             WHERE seq > {PG_BASE} AND seq < {PG_BASE} + {PER_TRANSACTION}) + v.n, \
             v.id, v.type, v.at, v.unit, v.kind, v.subject, v.data FROM unnest("
        ));
        out.push_bind_param::<Array<Text>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.kinds)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.times)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.units)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.subject_kinds)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.subject_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.data)?;
        out.push_sql(") WITH ORDINALITY AS v(id, type, at, unit, kind, subject, data, n)");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for PgInsert<'_> {}

/// Records an event in the caller's transaction: it commits or rolls back with the change. In
/// the writer it is inserted with the group's other events just before the group commits;
/// elsewhere at once, and the caller's transaction should then commit soon (on PostgreSQL
/// readers see no event numbered after its own transaction began until it ends).
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
    mark_once_as(conn, kind.as_str(), subject_id, now)
}

/// Like [`mark_once`], for a mark that is not of an event type (the day of a digest).
pub fn mark_once_as(
    conn: &mut DbConnection,
    kind: &str,
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
        .bind::<Text, _>(kind)
        .bind::<Text, _>(subject_id)
        .bind::<Timestamp, _>(now)
        .execute(conn)?;
    Ok(inserted == 1)
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

/// The numbers a reader may look at are below this (see the module's notes): on SQLite any.
pub fn visible_below(conn: &mut DbConnection) -> Result<i64, DbError> {
    match conn {
        DbConnection::Sqlite(_) => Ok(i64::MAX),
        DbConnection::Pg(pg) => {
            let bound: Bound =
                diesel::sql_query(format!("SELECT {PG_VISIBLE_BELOW} AS n")).get_result(pg)?;
            Ok(bound.n.unwrap_or(0))
        }
    }
}

/// [`visible_below`] as an SQL expression, for a statement that reads events itself.
pub fn visible_below_sql(conn: &DbConnection) -> &'static str {
    match conn {
        DbConnection::Sqlite(_) => "9223372036854775807",
        DbConnection::Pg(_) => PG_VISIBLE_BELOW,
    }
}

/// The number of the `nth` visible event after `after` (counting from 1), if there are that
/// many.
fn nth_after(
    conn: &mut DbConnection,
    after: i64,
    below: i64,
    nth: i64,
) -> Result<Option<i64>, DbError> {
    Ok(events::table
        .filter(events::seq.gt(after))
        .filter(events::seq.lt(below))
        .order(events::seq.asc())
        .offset(nth - 1)
        .limit(1)
        .select(events::seq)
        .first(conn)
        .optional()?)
}

/// Events matching `filter`, oldest first, up to `limit`. Only the numbers are indexed, so a
/// read by unit or type looks at [`SCAN_WINDOW`] events at most.
pub fn read(conn: &mut DbConnection, filter: &Filter, limit: i64) -> Result<Listed, DbError> {
    let below = visible_below(conn)?;
    if filter.types.is_empty() && filter.unit.is_none() {
        return Ok(Listed {
            events: list(conn, filter, limit, below)?,
            scanned_to: None,
        });
    }
    // The end of the stretch: the last of its events, and whether the log goes on after it.
    let end = nth_after(conn, filter.after_seq, below, SCAN_WINDOW)?;
    let stretch_below = match end {
        Some(end) => end.saturating_add(1),
        None => below,
    };
    let events = list(conn, filter, limit, stretch_below)?;
    let scanned_to = match end {
        Some(end) if (events.len() as i64) < limit => nth_after(conn, end, below, 1)?.map(|_| end),
        _ => None,
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

/// Events matching `filter`, oldest first, up to `limit`, numbered below `below` (a reader
/// passes [`visible_below`], or less).
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    limit: i64,
    below: i64,
) -> Result<Vec<Event>, DbError> {
    let mut query = events::table
        .filter(events::seq.gt(filter.after_seq))
        .filter(events::seq.lt(below))
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
