//! The webhook fan-out: turning the events of the log, in order, into one pending delivery
//! per enabled webhook that takes each, with a cursor that says how far it has come.
//!
//! One instance at a time fans out (PostgreSQL: an advisory lock, the others skip their turn;
//! SQLite: the write lock), in one transaction with the cursor's advance, so an event is passed
//! on once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::events::{self as event_log, Filter, LOCKS};
use super::schema::{events as schema_events, webhook_deliveries, webhooks};
use super::{portable_query as query, write_transaction, DbConnection, DbError};
use crate::domain::events::{self, EventType, NewEvent};

/// The advisory lock that makes one PostgreSQL instance at a time fan events out.
pub const FANOUT_LOCK: i64 = LOCKS + 1;

/// The `event_cursors` row of the webhook fan-out.
const CURSOR: &str = "webhooks";

/// Rows per multi-row INSERT: far below both databases' bind-parameter limits at 9 columns.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct Cursor {
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDelivery<'a> {
    webhook_id: &'a str,
    event_id: &'a str,
    event_type: &'a str,
    payload: &'a str,
    status: &'a str,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    lease_until: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// What one fan-out did.
#[derive(Debug, Default)]
pub struct FanOut {
    /// The types of the events passed on, one per event (whether or not a webhook took it).
    pub events: Vec<EventType>,
    /// Deliveries created.
    pub deliveries: usize,
    /// Whether it stopped at its limit, with more events waiting.
    pub more: bool,
}

/// A webhook as the fan-out matches events against it.
struct Subscriber {
    id: String,
    events: Vec<String>,
    unit: Option<String>,
    created_at: NaiveDateTime,
}

impl Subscriber {
    /// Whether it takes the event: subscribed to its type, of its unit (if it has one), and
    /// not from before it existed (the fan-out may be behind when a webhook is added).
    fn takes(&self, event: &NewEvent) -> bool {
        event.occurred_at >= self.created_at
            && events::subscribed(&self.events, event.kind.as_str())
            && self
                .unit
                .as_ref()
                .is_none_or(|u| event.unit.as_ref() == Some(u))
    }
}

/// Passes up to `limit` numbered events after the fan-out's cursor to the enabled webhooks
/// that take them: one pending delivery each, due `now`, in one transaction with the cursor's
/// advance. One instance at a time does it (PostgreSQL: an advisory lock, the others skip
/// their turn; SQLite: the write lock). It takes the write lock even when there is nothing to
/// pass on: ask [`probe`] first.
pub fn fan_out(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> Result<FanOut, DbError> {
    write_transaction(conn, |conn| {
        if matches!(conn, DbConnection::Pg(_)) {
            let locked: Locked = query(conn, "SELECT pg_try_advisory_xact_lock(?) AS locked")
                .bind::<BigInt, _>(FANOUT_LOCK)
                .get_result(conn)?;
            if !locked.locked {
                return Ok(FanOut::default());
            }
        }
        // Read again under the lock: another instance may have advanced it meanwhile.
        let cursor: Cursor = query(conn, "SELECT seq FROM event_cursors WHERE name = ?")
            .bind::<Text, _>(CURSOR)
            .get_result(conn)?;
        // Only events no transaction still running can come in under (see `db::events`).
        let below = event_log::visible_below(conn)?;
        let subscribers = subscribers(conn)?;
        if subscribers.is_empty() {
            // Nobody to pass them to: count them and move on, without reading their data.
            let kinds: Vec<(i64, String)> = schema_events::table
                .filter(schema_events::seq.gt(cursor.seq))
                .filter(schema_events::seq.lt(below))
                .order(schema_events::seq.asc())
                .limit(limit)
                .select((schema_events::seq, schema_events::kind))
                .load(conn)?;
            let Some(last) = kinds.last().map(|(seq, _)| *seq) else {
                return Ok(FanOut::default());
            };
            advance(conn, last)?;
            return Ok(FanOut {
                events: kinds
                    .iter()
                    .filter_map(|(_, kind)| EventType::parse(kind))
                    .collect(),
                deliveries: 0,
                more: i64::try_from(kinds.len()).unwrap_or(i64::MAX) >= limit,
            });
        }
        let list = event_log::list(
            conn,
            &Filter {
                after_seq: cursor.seq,
                ..Filter::default()
            },
            limit,
            below,
        )?;
        let Some(last) = list.last().map(|e| e.seq) else {
            return Ok(FanOut::default());
        };
        let mut payloads: Vec<(usize, String)> = Vec::new();
        for (i, event) in list.iter().enumerate() {
            if subscribers.iter().any(|s| s.takes(&event.event)) {
                payloads.push((i, event.to_json().to_string()));
            }
        }
        let mut rows = Vec::new();
        for (i, payload) in &payloads {
            let event = &list[*i].event;
            for subscriber in subscribers.iter().filter(|s| s.takes(event)) {
                rows.push(NewDelivery {
                    webhook_id: &subscriber.id,
                    event_id: &event.id,
                    event_type: event.kind.as_str(),
                    payload,
                    status: "pending",
                    attempts: 0,
                    next_attempt_at: Some(now),
                    lease_until: None,
                    created_at: now,
                });
            }
        }
        let mut deliveries = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            // The cursor moves in this transaction, so an event is passed on once; a conflict
            // could only come from a delivery made by other means, and then it stands.
            deliveries += match conn {
                DbConnection::Pg(c) => diesel::insert_into(webhook_deliveries::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?,
                DbConnection::Sqlite(c) => diesel::insert_or_ignore_into(webhook_deliveries::table)
                    .values(chunk)
                    .execute(c)?,
            };
        }
        advance(conn, last)?;
        Ok(FanOut {
            events: list.iter().map(|e| e.event.kind).collect(),
            deliveries,
            more: i64::try_from(list.len()).unwrap_or(i64::MAX) >= limit,
        })
    })
}

/// Moves the fan-out's cursor to `seq`.
fn advance(conn: &mut DbConnection, seq: i64) -> Result<(), DbError> {
    query(conn, "UPDATE event_cursors SET seq = ? WHERE name = ?")
        .bind::<BigInt, _>(seq)
        .bind::<Text, _>(CURSOR)
        .execute(conn)?;
    Ok(())
}

fn subscribers(conn: &mut DbConnection) -> Result<Vec<Subscriber>, DbError> {
    type Row = (String, String, Option<String>, NaiveDateTime);
    let rows: Vec<Row> = webhooks::table
        .filter(webhooks::enabled.eq(true))
        .select((
            webhooks::id,
            webhooks::events,
            webhooks::unit_code,
            webhooks::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, list, unit, created_at)| match serde_json::from_str(&list) {
            Ok(events) => Some(Subscriber {
                id,
                events,
                unit,
                created_at,
            }),
            Err(_) => {
                tracing::warn!(webhook = %id, "a webhook's event list is not a JSON array of names");
                None
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::SubjectKind;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn a_webhook_takes_its_types_of_its_unit_from_its_creation_on() {
        let subscriber = Subscriber {
            id: "wh".into(),
            events: vec!["question.asked".into()],
            unit: Some("so-xay-dung".into()),
            created_at: at("2026-03-02 10:00:00"),
        };
        let event = |kind, unit: Option<&str>, when| {
            NewEvent::new(
                kind,
                at(when),
                unit.map(str::to_string),
                SubjectKind::Question,
                "q1",
            )
        };
        let asked = EventType::QuestionAsked;
        assert!(subscriber.takes(&event(asked, Some("so-xay-dung"), "2026-03-02 10:00:00")));
        assert!(!subscriber.takes(&event(asked, Some("so-noi-vu"), "2026-03-02 10:00:01")));
        assert!(!subscriber.takes(&event(asked, None, "2026-03-02 10:00:01")));
        assert!(!subscriber.takes(&event(
            EventType::QuestionAnswered,
            Some("so-xay-dung"),
            "2026-03-02 10:00:01"
        )));
        assert!(!subscriber.takes(&event(asked, Some("so-xay-dung"), "2026-03-02 09:59:59")));
        let everything = Subscriber {
            events: vec!["*".into()],
            unit: None,
            ..subscriber
        };
        assert!(everything.takes(&event(asked, None, "2026-03-02 10:00:00")));
        assert!(!everything.takes(&event(EventType::WebhookTest, None, "2026-03-02 10:00:00")));
    }
}
