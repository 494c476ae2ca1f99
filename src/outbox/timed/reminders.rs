//! The reminders the directive asks for: from the working morning
//! [`REMINDER_WORKING_DAYS`](crate::domain::compliance::REMINDER_WORKING_DAYS) working days
//! before a period's due date, a unit that has not met it is mailed (its officers and its
//! contact address) the periods it still owes, once per period.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use super::emitters::submitted_dates;
use super::{Progress, Sweep};
use crate::db::reminders::{DuePeriod, PeriodKey};
use crate::db::{self, DbConnection, DbError};
use crate::domain::calendar::morning_has_come;
use crate::domain::compliance::{
    in_reminder_window, status, Obligation, Period, PeriodStatus, REMINDER_WORKING_DAYS,
};
use crate::domain::mail::period_line;

/// Reminds the next unit that owes periods due soon, after the one reminded last in this sweep:
/// one transaction at most per call.
pub(super) fn remind(
    conn: &mut DbConnection,
    sweep: &mut Sweep,
    now: NaiveDateTime,
) -> Result<Progress, DbError> {
    let done = Progress {
        read: 0,
        recorded: 0,
        done: true,
    };
    if !morning_has_come(now) {
        return Ok(done);
    }
    let today = sweep.today;
    let horizon = sweep
        .calendar
        .deadline(today, REMINDER_WORKING_DAYS + 1)
        .due_date;
    let active: HashMap<i64, bool> = db::timed::obligation_lives(conn)?
        .into_iter()
        .map(|l| (l.id, l.unit_active))
        .collect();
    let obligations = db::obligations::list(conn, None)?;
    let mut by_unit: BTreeMap<&str, Vec<(&Obligation, Period)>> = BTreeMap::new();
    for o in &obligations {
        if !active.get(&o.id).copied().unwrap_or(false) {
            continue;
        }
        if sweep
            .reminded_unit
            .as_deref()
            .is_some_and(|after| o.unit.as_str() <= after)
        {
            continue;
        }
        for p in o.periods(today, horizon) {
            if in_reminder_window(&sweep.calendar, today, p.due) {
                by_unit.entry(&o.unit).or_default().push((o, p));
            }
        }
    }
    let keys: Vec<PeriodKey> = by_unit
        .values()
        .flatten()
        .map(|(o, p)| (o.id, p.from))
        .collect();
    let reminded = db::reminders::reminded_among(conn, &keys)?;
    let mut categories: HashMap<String, Option<String>> = HashMap::new();
    let mut read = 0;
    for (unit, mut periods) in by_unit {
        periods.retain(|(o, p)| !reminded.contains(&(o.id, p.from)));
        if periods.is_empty() {
            continue;
        }
        read += periods.len();
        let dates = submitted_dates(conn, &periods)?;
        let mut due = Vec::new();
        for (o, p) in &periods {
            let submitted = dates.get(&o.id).map_or(&[][..], Vec::as_slice);
            let need = o.min_items.max(1);
            if status(p, need as u32, submitted, today) != PeriodStatus::Pending {
                continue;
            }
            let have = submitted
                .iter()
                .filter(|d| **d >= p.from && **d <= p.closes())
                .count();
            let category = match &o.category {
                Some(code) => match categories.get(code) {
                    Some(name) => name.clone(),
                    None => {
                        let name = db::categories::find(conn, code)?.map(|c| c.name);
                        categories.insert(code.clone(), name.clone());
                        name
                    }
                },
                None => None,
            };
            due.push(DuePeriod {
                key: (o.id, p.from),
                line: period_line(o, p, category.as_deref(), have as i64, i64::from(need)),
            });
        }
        if due.is_empty() {
            continue;
        }
        // A unit with no address is looked at again in later sweeps: an address added before
        // the due date still gets the reminder.
        let recipients = db::accounts::unit_recipients(conn, unit)?;
        let recorded = db::reminders::remind_once(conn, unit, &due, &recipients, now)?;
        if recorded > 0 {
            tracing::info!(
                unit,
                periods = recorded,
                recipients = recipients.len(),
                "obligation reminder queued"
            );
            sweep.reminded_unit = Some(unit.to_string());
            return Ok(Progress {
                read,
                recorded,
                done: false,
            });
        }
    }
    Ok(Progress { read, ..done })
}
