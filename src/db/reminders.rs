//! The record of obligation reminders and missed-period notices: one of each kind per period,
//! written in the transaction that queues its mail, so it is sent once however many instances
//! look, and `GET /api/v1/obligations/status` can say when a unit was reminded.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::mail::{self, NewMail};
use super::schema::obligation_reminders;
use super::{write_transaction, DbConnection, DbError};
use crate::domain::compliance::Reminded;
use crate::domain::mail::MailKind;

/// What was sent about a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    /// The reminder some working days before the due date.
    DueSoon,
    /// The notice once the period was missed.
    Missed,
}

impl ReminderKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueSoon => "due_soon",
            Self::Missed => "missed",
        }
    }
}

/// A period of an obligation.
pub type PeriodKey = (i64, NaiveDate);

/// Records that `kind` was sent about a period to `recipients` addresses, in the caller's
/// transaction; false when it already was.
pub fn record(
    conn: &mut DbConnection,
    (obligation_id, period_start): PeriodKey,
    kind: ReminderKind,
    at: NaiveDateTime,
    recipients: usize,
) -> Result<bool, DbError> {
    let row = (
        obligation_reminders::obligation_id.eq(obligation_id),
        obligation_reminders::period_start.eq(period_start),
        obligation_reminders::kind.eq(kind.as_str()),
        obligation_reminders::reminded_at.eq(at),
        obligation_reminders::recipients.eq(i32::try_from(recipients).unwrap_or(i32::MAX)),
    );
    let inserted = match conn {
        DbConnection::Pg(c) => diesel::insert_into(obligation_reminders::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_or_ignore_into(obligation_reminders::table)
            .values(row)
            .execute(c)?,
    };
    Ok(inserted == 1)
}

/// Of the periods of `obligations` starting from `from` to `to`, what was sent about each.
pub fn of_periods(
    conn: &mut DbConnection,
    obligations: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<PeriodKey, Reminded>, DbError> {
    let mut out: HashMap<PeriodKey, Reminded> = HashMap::new();
    for chunk in obligations.chunks(500) {
        let rows: Vec<(i64, NaiveDate, String, NaiveDateTime)> = obligation_reminders::table
            .filter(obligation_reminders::obligation_id.eq_any(chunk))
            .filter(obligation_reminders::period_start.ge(from))
            .filter(obligation_reminders::period_start.le(to))
            .select((
                obligation_reminders::obligation_id,
                obligation_reminders::period_start,
                obligation_reminders::kind,
                obligation_reminders::reminded_at,
            ))
            .load(conn)?;
        for (id, start, kind, at) in rows {
            let entry = out.entry((id, start)).or_default();
            if kind == ReminderKind::Missed.as_str() {
                entry.missed = Some(at);
            } else {
                entry.due_soon = Some(at);
            }
        }
    }
    Ok(out)
}

/// Of `periods`, those already reminded before their due date.
pub fn reminded_among(
    conn: &mut DbConnection,
    periods: &[PeriodKey],
) -> Result<HashSet<PeriodKey>, DbError> {
    let ids: Vec<i64> = periods.iter().map(|(id, _)| *id).collect();
    let (Some(from), Some(to)) = (
        periods.iter().map(|(_, d)| *d).min(),
        periods.iter().map(|(_, d)| *d).max(),
    ) else {
        return Ok(HashSet::new());
    };
    Ok(of_periods(conn, &ids, from, to)?
        .into_iter()
        .filter(|(key, r)| r.due_soon.is_some() && periods.contains(key))
        .map(|(key, _)| key)
        .collect())
}

/// A period to remind its unit of, with what its line in the message says.
#[derive(Debug, Clone)]
pub struct DuePeriod {
    /// The period.
    pub key: PeriodKey,
    /// Its line: the obligation, the period, what is there and what is owed.
    pub line: Map<String, Value>,
}

/// Reminds `unit` of the periods not reminded yet, in one transaction: records each and queues
/// one message listing them to each of `recipients`. Returns the periods it reminded of (none
/// when another instance did first).
pub fn remind_once(
    conn: &mut DbConnection,
    unit: &str,
    due: &[DuePeriod],
    recipients: &[(String, Option<String>)],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    if due.is_empty() || recipients.is_empty() {
        return Ok(0);
    }
    // One order for every instance, so two that remind at once never wait in a circle.
    let mut ordered: Vec<&DuePeriod> = due.iter().collect();
    ordered.sort_by_key(|d| d.key);
    write_transaction(conn, |conn| {
        let mut reminded = Vec::new();
        for d in ordered {
            if record(conn, d.key, ReminderKind::DueSoon, now, recipients.len())? {
                reminded.push(d);
            }
        }
        if reminded.is_empty() {
            return Ok(0);
        }
        let keys: Vec<String> = reminded
            .iter()
            .map(|d| format!("{}:{}", d.key.0, d.key.1))
            .collect();
        let cause = format!("reminder:{}", keys.join(","));
        let mut data = Map::new();
        data.insert(
            "periods".into(),
            Value::Array(
                reminded
                    .iter()
                    .map(|d| Value::Object(d.line.clone()))
                    .collect(),
            ),
        );
        let list: Vec<NewMail> = recipients
            .iter()
            .map(|(email, name)| {
                let mut data = data.clone();
                data.insert("recipient_name".into(), name.clone().into());
                NewMail::new(&cause, MailKind::ObligationReminder, email, &data, now)
                    .about(&keys[0], Some(unit))
            })
            .collect();
        mail::queue(conn, list)?;
        Ok(reminded.len())
    })
}
