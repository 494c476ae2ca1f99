//! The three emitters of time-driven events, each a bounded part of a sweep: the questions due
//! soon, the questions overdue, the obligation periods missed.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate, NaiveDateTime};

use super::{Progress, Sweep};
use crate::db::timed::{DueKey, DueQuestion, ObligationLife};
use crate::db::{self, DbConnection, DbError};
use crate::domain::calendar::{day_start_utc, local_date, WorkingCalendar};
use crate::domain::compliance::{status, Obligation, Period, PeriodStatus};
use crate::domain::events::{self, question_facts, EventType, NewEvent, SubjectKind};
use crate::domain::question::Status;

/// Working days before the due day from which an unanswered question is due soon.
const DUE_SOON_WORKING_DAYS: u32 = 3;

/// Questions read per query.
pub(super) const BATCH: i64 = 500;

/// Obligation periods checked per round.
const PERIOD_BATCH: usize = 100;

/// How long after its due time an unanswered question may still be reported overdue.
pub const OVERDUE_LOOKBACK_DAYS: u64 = 30;

/// How long after it closes a period is checked.
pub const LOOKBACK_DAYS: u64 = 92;

/// The time before which an unanswered question's due time makes it due soon on `today`:
/// 00:00 of the fourth working day after today, so that at most three working days follow
/// today up to and including the due day.
pub(super) fn due_soon_before(calendar: &WorkingCalendar, today: NaiveDate) -> NaiveDateTime {
    day_start_utc(calendar.deadline(today, DUE_SOON_WORKING_DAYS + 1).due_date)
}

/// The working days after the date of `now` up to and including the due day.
fn working_days_left(calendar: &WorkingCalendar, now: NaiveDateTime, due_at: NaiveDateTime) -> i64 {
    calendar.working_days_between(now.and_utc(), due_at.and_utc())
}

/// An event about an unanswered question: what a receiver needs, nothing of the asker's.
fn question_event(kind: EventType, q: &DueQuestion, now: NaiveDateTime) -> NewEvent {
    let facts = question_facts!(q);
    events::question_event(kind, now, facts)
}

/// Emits `question.due_soon` for one batch of questions in `status`.
pub(super) fn due_soon(
    conn: &mut DbConnection,
    sweep: &mut Sweep,
    status: Status,
    now: NaiveDateTime,
) -> Result<Progress, DbError> {
    let range = (Some(sweep.now), sweep.due_soon_before);
    let (calendar, asked) = (&sweep.calendar, sweep.now);
    let kind = EventType::QuestionDueSoon;
    questions_batch(conn, &mut sweep.after, kind, status, range, now, |e, q| {
        e.with(
            "working_days_left",
            working_days_left(calendar, asked, q.due_at),
        )
    })
}

/// Emits `question.overdue` for one batch of questions in `status`, due from `from` on.
pub(super) fn overdue(
    conn: &mut DbConnection,
    sweep: &mut Sweep,
    status: Status,
    from: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Progress, DbError> {
    let floor = sweep.now.checked_sub_days(Days::new(OVERDUE_LOOKBACK_DAYS));
    let range = (from.max(floor), sweep.now);
    let kind = EventType::QuestionOverdue;
    questions_batch(conn, &mut sweep.after, kind, status, range, now, |e, _| e)
}

/// Reads the batch of questions in `status` due in `range` (from, if any, up to before) that
/// follows `after`, moving `after` past it, and emits `kind` for those not yet marked, `more`
/// adding to each event's data.
fn questions_batch(
    conn: &mut DbConnection,
    after: &mut Option<DueKey>,
    kind: EventType,
    status: Status,
    range: (Option<NaiveDateTime>, NaiveDateTime),
    now: NaiveDateTime,
    more: impl Fn(NewEvent, &DueQuestion) -> NewEvent,
) -> Result<Progress, DbError> {
    let (from, before) = range;
    let found = db::timed::due_between(conn, status, from, before, after.as_ref(), BATCH)?;
    let ids: Vec<String> = found.iter().map(|q| q.id.clone()).collect();
    let marked = db::timed::marked_among(conn, kind, &ids)?;
    let events: Vec<NewEvent> = found
        .iter()
        .filter(|q| !marked.contains(&q.id))
        .map(|q| more(question_event(kind, q, now), q))
        .collect();
    let recorded = emit(conn, kind, &events, now)?;
    *after = found.last().map(DueQuestion::key);
    Ok(Progress {
        read: found.len(),
        recorded,
        done: (found.len() as i64) < BATCH,
    })
}

/// Records events not yet emitted for their subjects; how many were recorded.
fn emit(
    conn: &mut DbConnection,
    kind: EventType,
    events: &[NewEvent],
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    let recorded = db::timed::emit_once(conn, events, now)?;
    if recorded > 0 {
        tracing::info!(
            kind = kind.as_str(),
            recorded,
            "time-driven events recorded"
        );
    }
    Ok(recorded)
}

/// The periods of an obligation to check on `today`: closed before today, after the
/// obligation was created and at most [`LOOKBACK_DAYS`] ago, begun while its unit was active.
fn periods_to_check(o: &Obligation, life: &ObligationLife, today: NaiveDate) -> Vec<Period> {
    // A period closes at the end of its closing day, so it closed after the obligation was
    // created when that day is not before the day of creation.
    let created_on = local_date(life.created_at.and_utc());
    let oldest = today
        .checked_sub_days(Days::new(LOOKBACK_DAYS))
        .unwrap_or(today)
        .max(created_on);
    let Some(yesterday) = today.pred_opt() else {
        return Vec::new();
    };
    if oldest > yesterday {
        return Vec::new();
    }
    o.periods(oldest, yesterday)
        .into_iter()
        .filter(|p| p.closes() >= oldest && p.closes() <= yesterday)
        .filter(|p| {
            life.unit_active
                || life
                    .unit_deactivated_at
                    .is_some_and(|at| at >= day_start_utc(p.from))
        })
        .collect()
}

/// The subject of an obligation's period.
fn period_subject(o: &Obligation, p: &Period) -> String {
    format!("{}:{}", o.id, p.from)
}

/// The days on which the items that may count for `periods` were first submitted, by
/// obligation: read once per unit, over the span of its periods.
pub(super) fn submitted_dates(
    conn: &mut DbConnection,
    periods: &[(&Obligation, Period)],
) -> Result<HashMap<i64, Vec<NaiveDate>>, DbError> {
    let mut spans: BTreeMap<&str, (NaiveDate, NaiveDate)> = BTreeMap::new();
    for (o, p) in periods {
        let span = spans.entry(&o.unit).or_insert((p.from, p.closes()));
        *span = (span.0.min(p.from), span.1.max(p.closes()));
    }
    let mut dates: HashMap<i64, Vec<NaiveDate>> = HashMap::new();
    for (unit, (first, last)) in spans {
        let after_last = last.succ_opt().unwrap_or(last);
        let items = db::stats::obligation_items(
            conn,
            Some(unit),
            day_start_utc(first),
            day_start_utc(after_last),
        )?;
        for item in items {
            dates
                .entry(item.obligation_id)
                .or_default()
                .push(local_date(item.submitted_at.and_utc()));
        }
    }
    Ok(dates)
}

/// Emits `obligation.period_missed` for the closed periods of a batch of obligations.
pub(super) fn periods_missed(
    conn: &mut DbConnection,
    sweep: &mut Sweep,
    now: NaiveDateTime,
) -> Result<Progress, DbError> {
    let kind = EventType::ObligationPeriodMissed;
    let lives: HashMap<i64, ObligationLife> = db::timed::obligation_lives(conn)?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let obligations = db::obligations::list(conn, None)?;
    let mut candidates: Vec<(&Obligation, Period)> = Vec::new();
    let mut done = true;
    for o in obligations.iter().filter(|o| o.id >= sweep.next_obligation) {
        if candidates.len() >= PERIOD_BATCH {
            sweep.next_obligation = o.id;
            done = false;
            break;
        }
        if let Some(life) = lives.get(&o.id) {
            candidates.extend(
                periods_to_check(o, life, sweep.today)
                    .into_iter()
                    .map(|p| (o, p)),
            );
        }
    }
    let read = candidates.len();
    let subjects: Vec<String> = candidates
        .iter()
        .map(|(o, p)| period_subject(o, p))
        .collect();
    let marked = db::timed::marked_among(conn, kind, &subjects)?;
    candidates.retain(|(o, p)| !marked.contains(&period_subject(o, p)));

    let dates = submitted_dates(conn, &candidates)?;

    let events: Vec<NewEvent> = candidates
        .iter()
        .filter_map(|(o, p)| {
            let submitted = dates.get(&o.id).map_or(&[][..], Vec::as_slice);
            let required = o.min_items.max(1);
            if status(p, required as u32, submitted, sweep.today) != PeriodStatus::Missing {
                return None;
            }
            let counted = submitted
                .iter()
                .filter(|d| **d >= p.from && **d <= p.closes())
                .count();
            Some(
                NewEvent::new(
                    kind,
                    now,
                    Some(o.unit.clone()),
                    SubjectKind::ObligationPeriod,
                    period_subject(o, p),
                )
                .with("obligation_id", o.id)
                .with("unit", o.unit.as_str())
                .with("category", o.category.as_deref())
                .with("period_start", p.from.to_string())
                .with("period_end", p.to.to_string())
                .with("required", required)
                .with("counted", counted),
            )
        })
        .collect();
    let recorded = emit(conn, kind, &events, now)?;
    Ok(Progress {
        read,
        recorded,
        done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{CalendarEntry, HolidayKind};
    use crate::domain::reference::Cadence;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn tet_2024() -> WorkingCalendar {
        WorkingCalendar::new([8, 9, 12, 13, 14].map(|day| CalendarEntry {
            date: d(2024, 2, day),
            name: "Tết".into(),
            kind: HolidayKind::Holiday,
        }))
    }

    /// Whether a question due at the end of `due` (Vietnam) is due soon at `now` (UTC).
    fn is_due_soon(calendar: &WorkingCalendar, due: NaiveDate, now: NaiveDateTime) -> bool {
        let due_at = calendar.deadline(due, 0).due_at.naive_utc();
        let today = local_date(now.and_utc());
        now <= due_at && due_at < due_soon_before(calendar, today)
    }

    #[test]
    fn a_question_due_on_friday_is_due_soon_from_tuesday_midnight_in_vietnam() {
        let cal = WorkingCalendar::default();
        let friday = d(2024, 3, 22);
        // Tuesday 00:00 +07:00 is Monday 17:00 UTC.
        assert!(!is_due_soon(&cal, friday, at("2024-03-18T16:59:59")));
        assert!(is_due_soon(&cal, friday, at("2024-03-18T17:00:00")));
        assert!(is_due_soon(&cal, friday, at("2024-03-22T16:59:59")));
        assert!(!is_due_soon(&cal, friday, at("2024-03-22T17:00:00")));
        let due_at = cal.deadline(friday, 0).due_at.naive_utc();
        assert_eq!(
            working_days_left(&cal, at("2024-03-18T17:00:00"), due_at),
            3
        );
        assert_eq!(
            working_days_left(&cal, at("2024-03-22T03:00:00"), due_at),
            0
        );
    }

    #[test]
    fn weekends_and_holidays_are_not_counted_towards_due_soon() {
        // Due Monday 19 February 2024: Friday 16, Thursday 15, then Wednesday 7 before Tết.
        let cal = tet_2024();
        let monday = d(2024, 2, 19);
        assert!(!is_due_soon(&cal, monday, at("2024-02-06T16:59:59")));
        assert!(is_due_soon(&cal, monday, at("2024-02-06T17:00:00")));
        let due_at = cal.deadline(monday, 0).due_at.naive_utc();
        assert_eq!(
            working_days_left(&cal, at("2024-02-06T17:00:00"), due_at),
            3
        );
        // Due on a Monday in an ordinary week: from the Wednesday before.
        let plain = WorkingCalendar::default();
        assert!(!is_due_soon(
            &plain,
            d(2024, 3, 25),
            at("2024-03-19T16:00:00")
        ));
        assert!(is_due_soon(
            &plain,
            d(2024, 3, 25),
            at("2024-03-19T17:00:00")
        ));
    }

    fn obligation(cadence: Cadence, starts_on: NaiveDate) -> Obligation {
        Obligation {
            id: 7,
            unit: "so-khcn".into(),
            category: None,
            cadence,
            min_items: 1,
            due_day: None,
            starts_on,
            ends_on: None,
            description: "Hằng tháng".into(),
        }
    }

    fn life(created_at: &str) -> ObligationLife {
        ObligationLife {
            id: 7,
            created_at: at(created_at),
            unit_active: true,
            unit_deactivated_at: None,
        }
    }

    fn starts(periods: &[Period]) -> Vec<NaiveDate> {
        periods.iter().map(|p| p.from).collect()
    }

    #[test]
    fn only_periods_closed_since_the_obligation_was_created_are_checked() {
        let o = obligation(Cadence::Monthly, d(2023, 1, 1));
        // Created 26 February: February closes after it, January before.
        let l = life("2024-02-26T03:00:00");
        assert!(periods_to_check(&o, &l, d(2024, 2, 29)).is_empty());
        assert_eq!(
            starts(&periods_to_check(&o, &l, d(2024, 3, 1))),
            [d(2024, 2, 1)]
        );
        assert_eq!(
            starts(&periods_to_check(&o, &l, d(2024, 4, 13))),
            [d(2024, 2, 1), d(2024, 3, 1)]
        );
        // Created late on 29 February in Vietnam (17:30 UTC is 00:30 on 1 March).
        let late = life("2024-02-29T17:30:00");
        assert!(periods_to_check(&o, &late, d(2024, 3, 5)).is_empty());
    }

    #[test]
    fn periods_are_checked_for_a_while_after_they_close() {
        let o = obligation(Cadence::Quarterly, d(2020, 1, 1));
        let l = life("2020-01-01T00:00:00");
        // 2 July is 93 days after 31 March, when Q1 closed.
        let today = d(2024, 7, 2);
        assert_eq!(starts(&periods_to_check(&o, &l, today)), [d(2024, 4, 1)]);
        let later = d(2024, 12, 31);
        // Q2 closed 30 June, more than 92 days before; Q3 closed 30 September.
        assert_eq!(starts(&periods_to_check(&o, &l, later)), [d(2024, 7, 1)]);
    }

    #[test]
    fn a_deactivated_unit_owes_only_periods_begun_while_it_was_active() {
        let o = obligation(Cadence::Monthly, d(2024, 1, 1));
        let mut l = life("2024-01-01T00:00:00");
        l.unit_active = false;
        l.unit_deactivated_at = Some(at("2024-01-10T03:00:00"));
        assert_eq!(
            starts(&periods_to_check(&o, &l, d(2024, 3, 20))),
            [d(2024, 1, 1)]
        );
    }
}
