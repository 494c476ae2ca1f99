//! The daily digest: on a working day, from the working morning (07:30 in Vietnam), each
//! officer who has it on is mailed the unit's questions due within three working days and those
//! overdue; each editor and admin the items waiting for review and the questions waiting to be
//! routed. Once a day, whichever instance comes first; none on a weekend or holiday, and none to
//! someone with nothing waiting.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};

use super::{Progress, Sweep};
use crate::db::digest::{self as queries, Listed, Question};
use crate::db::mail::NewMail;
use crate::db::{self, DbConnection, DbError};
use crate::domain::access::{is_board, Role};
use crate::domain::calendar::{morning_has_come, WorkingCalendar};
use crate::domain::mail::MailKind;
use crate::domain::vn_format;

/// Entries of each list in a digest; the counts say how many there are in all.
const LIST: i64 = 20;

/// Queues today's digest when it is due and no instance has yet.
pub(super) fn send_once(
    conn: &mut DbConnection,
    sweep: &mut Sweep,
    now: NaiveDateTime,
) -> Result<Progress, DbError> {
    let mut progress = Progress {
        read: 0,
        recorded: 0,
        done: true,
    };
    let today = sweep.today;
    if !due(&sweep.calendar, today, now) || queries::queued(conn, today)? {
        return Ok(progress);
    }
    let date = vn_format::date(today);
    let cause = format!("digest:{today}");
    let recipients = db::accounts::digest_recipients(conn)?;
    let mut units: HashMap<String, Option<Map<String, Value>>> = HashMap::new();
    let mut board: Option<Option<Map<String, Value>>> = None;
    let mut list = Vec::new();
    for r in &recipients {
        let content = if is_board(r.role) {
            if board.is_none() {
                board = Some(board_content(conn)?);
            }
            board.clone().flatten()
        } else if r.role == Role::Officer {
            let Some(unit) = r.unit_code.as_deref() else {
                continue;
            };
            if !units.contains_key(unit) {
                let content = unit_content(conn, unit, sweep.now, sweep.due_soon_before)?;
                units.insert(unit.to_string(), content);
            }
            units.get(unit).cloned().flatten()
        } else {
            None
        };
        // Nothing waits for this person today.
        let Some(mut data) = content else {
            continue;
        };
        data.insert("date".into(), date.clone().into());
        data.insert("recipient_name".into(), r.display_name.clone().into());
        list.push(
            NewMail::new(&cause, MailKind::Digest, &r.email, &data, now)
                .about(&cause, r.unit_code.as_deref().filter(|_| !is_board(r.role))),
        );
    }
    progress.read = recipients.len();
    let messages = list.len();
    if queries::queue_once(conn, today, list, now)? {
        if messages == 0 {
            tracing::info!(%today, "no daily digest today: nothing waits for anyone");
        } else {
            tracing::info!(%today, messages, "daily digest queued");
        }
        // Counted as recorded so the round ends with this transaction.
        progress.recorded = 1;
    }
    Ok(progress)
}

/// Whether a digest is due on `today` at `now`: a working day whose morning has come.
fn due(calendar: &WorkingCalendar, today: NaiveDate, now: NaiveDateTime) -> bool {
    calendar.is_working_day(today) && morning_has_come(now)
}

/// A list of questions, each with the date it is due and the date it was asked.
fn questions(list: &Listed<Question>) -> Value {
    list.items
        .iter()
        .map(|q| {
            json!({
                "code": q.code,
                "title": q.title,
                "due_date": vn_format::day_of(q.due_at),
                "received": vn_format::day_of(q.received_at),
            })
        })
        .collect()
}

/// What an officer of `unit` is told, or `None` when nothing waits.
fn unit_content(
    conn: &mut DbConnection,
    unit: &str,
    now: NaiveDateTime,
    due_soon_before: NaiveDateTime,
) -> Result<Option<Map<String, Value>>, DbError> {
    let (soon, overdue) = queries::unit_questions(conn, unit, now, due_soon_before, LIST)?;
    if soon.total == 0 && overdue.total == 0 {
        return Ok(None);
    }
    Ok(Some(content(json!({
        "role": "officer",
        "due_soon": questions(&soon),
        "overdue": questions(&overdue),
        "review": [],
        "unrouted": [],
        "counts": {"due_soon": soon.total, "overdue": overdue.total, "review": 0, "unrouted": 0},
    }))))
}

/// What the editorial board is told, or `None` when nothing waits.
fn board_content(conn: &mut DbConnection) -> Result<Option<Map<String, Value>>, DbError> {
    let review = queries::waiting_review(conn, LIST)?;
    let unrouted = queries::unrouted(conn, LIST)?;
    if review.total == 0 && unrouted.total == 0 {
        return Ok(None);
    }
    let items: Vec<Value> = review
        .items
        .iter()
        .map(|i| {
            json!({
                "title": i.title,
                "unit_name": i.unit_name,
                "since": i.since.map(vn_format::day_of),
            })
        })
        .collect();
    Ok(Some(content(json!({
        "role": "board",
        "due_soon": [],
        "overdue": [],
        "review": items,
        "unrouted": questions(&unrouted),
        "counts": {"due_soon": 0, "overdue": 0, "review": review.total, "unrouted": unrouted.total},
    }))))
}

fn content(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{local_date, CalendarEntry, HolidayKind};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn due_at(calendar: &WorkingCalendar, now: &str) -> bool {
        let now = at(now);
        due(calendar, local_date(now.and_utc()), now)
    }

    #[test]
    fn the_digest_is_due_from_half_past_seven_on_working_days_only() {
        let tet = WorkingCalendar::new([8, 9, 12, 13, 14].map(|day| CalendarEntry {
            date: NaiveDate::from_ymd_opt(2024, 2, day).unwrap(),
            name: "Tết".into(),
            kind: HolidayKind::Holiday,
        }));
        // Wednesday 7 February 2024: 07:29 and 07:30 in Vietnam.
        assert!(!due_at(&tet, "2024-02-07T00:29:00"));
        assert!(due_at(&tet, "2024-02-07T00:30:00"));
        // Thursday 8 February, Tết: none all day; nor on the weekend after.
        assert!(!due_at(&tet, "2024-02-08T03:00:00"));
        assert!(!due_at(&tet, "2024-02-10T03:00:00"));
        // Thursday 15 February, back at work.
        assert!(due_at(&tet, "2024-02-15T01:00:00"));
        // A make-up working day on a Saturday has its digest.
        let makeup = WorkingCalendar::new([CalendarEntry {
            date: NaiveDate::from_ymd_opt(2024, 2, 17).unwrap(),
            name: "Làm bù".into(),
            kind: HolidayKind::WorkingDay,
        }]);
        assert!(due_at(&makeup, "2024-02-17T01:00:00"));
    }
}
