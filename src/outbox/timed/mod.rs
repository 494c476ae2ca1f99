//! Time-driven events: `question.due_soon`, `question.overdue`, `obligation.period_missed`,
//! each emitted once per subject, whichever instance sees it first; and the mail time sends.
//!
//! When each is due (dates are Vietnamese, UTC+7, as the deadlines are):
//! - `question.due_soon`: an unanswered question (received or assigned) from 00:00 on the
//!   working day three working days before its due day; a question due on a Friday is due soon
//!   from Tuesday 00:00. From then on, at most three working days follow today up to and
//!   including the due day (`working_days_left` in the event), as when a question is asked with
//!   three working days to answer. Not sent once the question is overdue.
//! - `question.overdue`: an unanswered question whose `due_at` has passed, within
//!   [`OVERDUE_LOOKBACK_DAYS`](emitters::OVERDUE_LOOKBACK_DAYS): one overdue for longer when first seen (an old database on its
//!   first start) gets no event; the staff list's `overdue=true` shows it.
//! - `obligation.period_missed`: a period of an obligation has closed (the day after
//!   [`Period::closes`] has begun) with fewer items counting for it than the obligation
//!   requires, counted as `GET /api/v1/obligations/status` counts them. Only periods that
//!   closed after the obligation was created, while its unit was active, are looked at, for
//!   [`LOOKBACK_DAYS`](emitters::LOOKBACK_DAYS) after they close: a period is found short in the first round after it
//!   closes, or later in that time if an item that counted for it is rejected.
//!
//!
//! The same sweep sends the mail that time causes, once whichever instance comes first: the
//! reminders of obligation periods due within five working days and not yet met
//! ([`reminders`], recorded in `obligation_reminders`), and the daily digest of a working day
//! from 07:30 in Vietnam ([`digest`], marked in `event_marks`).
//!
//! A sweep looks for all of them at start and every [`Schedule::EVERY`]; each call of
//! [`Schedule::run_if_due`] does a bounded part of it, so a backlog (every overdue question
//! of an old database, on first start) drains over rounds, in short transactions. Each
//! emission marks its subject in the transaction that records its event
//! ([`db::timed::emit_once`]): another instance that finds the same subject passes over it.

mod digest;
mod emitters;
mod reminders;

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::db::timed::DueKey;
use crate::db::{self, DbConnection, DbError};
use crate::domain::calendar::{local_date, WorkingCalendar};
use crate::domain::question::Status;
use emitters::{due_soon, due_soon_before, overdue, periods_missed, BATCH};

/// Questions a round reads at most, when none of them needs an event (after a restart the
/// walk over overdue questions goes again over those found before).
const ROUND_READS: usize = 10 * BATCH as usize;

/// Days of holidays read ahead of today: far more than four working days ever span.
const CALENDAR_AHEAD_DAYS: u64 = 60;

/// Where the time-driven events were last looked for, and the sweep in progress.
#[derive(Debug, Default)]
pub struct Schedule {
    /// When the last sweep began.
    last: Option<Instant>,
    /// The sweep in progress, if any.
    sweep: Option<Sweep>,
    /// Every unanswered question due before this time was found overdue by an earlier sweep
    /// of this instance: a question's due time never changes and an answered question never
    /// awaits an answer again, so later sweeps start here.
    overdue_before: Option<NaiveDateTime>,
}

/// What a sweep looks at, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    DueSoon(Status),
    Overdue(Status),
    Periods,
    Reminders,
    Digest,
}

impl Step {
    fn next(self) -> Option<Self> {
        match self {
            Self::DueSoon(Status::Received) => Some(Self::DueSoon(Status::Assigned)),
            Self::DueSoon(_) => Some(Self::Overdue(Status::Received)),
            Self::Overdue(Status::Received) => Some(Self::Overdue(Status::Assigned)),
            Self::Overdue(_) => Some(Self::Periods),
            Self::Periods => Some(Self::Reminders),
            Self::Reminders => Some(Self::Digest),
            Self::Digest => None,
        }
    }
}

/// One look for every time-driven event, as of the time it began.
#[derive(Debug)]
struct Sweep {
    /// When it began: every bound of the sweep is taken at this time.
    now: NaiveDateTime,
    /// The Vietnamese date then.
    today: NaiveDate,
    /// The working calendar from today on.
    calendar: WorkingCalendar,
    /// Questions due before this time are due soon.
    due_soon_before: NaiveDateTime,
    /// The step in progress.
    step: Step,
    /// Where the step's walk over questions stands.
    after: Option<DueKey>,
    /// The first obligation the period step has yet to look at.
    next_obligation: i64,
    /// The unit the reminder step reminded last.
    reminded_unit: Option<String>,
}

impl Sweep {
    fn start(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Self, DbError> {
        let today = local_date(now.and_utc());
        let ahead = today
            .checked_add_days(Days::new(CALENDAR_AHEAD_DAYS))
            .unwrap_or(today);
        let calendar = db::holidays::calendar(conn, today, ahead)?;
        Ok(Self {
            now,
            today,
            due_soon_before: due_soon_before(&calendar, today),
            calendar,
            step: Step::DueSoon(Status::Received),
            after: None,
            next_obligation: i64::MIN,
            reminded_unit: None,
        })
    }
}

/// What a part of a sweep did.
struct Progress {
    /// Rows read.
    read: usize,
    /// Events recorded.
    recorded: usize,
    /// Whether the step is done.
    done: bool,
}

impl Schedule {
    /// How often the time-driven events are looked for.
    pub const EVERY: Duration = Duration::from_secs(30);

    /// Looks for due time-driven events at start and every [`Self::EVERY`], doing a bounded
    /// part of the look per call. Errors are logged; the next sweep tries again.
    pub fn run_if_due(&mut self, conn: &mut DbConnection, now: NaiveDateTime) {
        if self.sweep.is_none() {
            if self.last.is_some_and(|at| at.elapsed() < Self::EVERY) {
                return;
            }
            self.last = Some(Instant::now());
            match Sweep::start(conn, now) {
                Ok(sweep) => self.sweep = Some(sweep),
                Err(e) => {
                    tracing::warn!(error = %e, "looking for time-driven events failed");
                    return;
                }
            }
        }
        if let Err(e) = self.advance(conn, now) {
            tracing::warn!(error = %e, "looking for time-driven events failed");
            self.sweep = None;
        }
    }

    /// Runs parts of the sweep until one records events or [`ROUND_READS`] rows were read,
    /// or the sweep ends: a round writes one transaction at most.
    fn advance(&mut self, conn: &mut DbConnection, now: NaiveDateTime) -> Result<(), DbError> {
        let mut read = 0;
        while let Some(sweep) = self.sweep.as_mut() {
            let progress = match sweep.step {
                Step::DueSoon(status) => due_soon(conn, sweep, status, now)?,
                Step::Overdue(status) => overdue(conn, sweep, status, self.overdue_before, now)?,
                Step::Periods => periods_missed(conn, sweep, now)?,
                Step::Reminders => reminders::remind(conn, sweep, now)?,
                Step::Digest => digest::send_once(conn, sweep, now)?,
            };
            read += progress.read;
            if progress.done {
                if sweep.step == Step::Overdue(Status::Assigned) {
                    self.overdue_before = Some(sweep.now);
                }
                match sweep.step.next() {
                    Some(step) => {
                        sweep.step = step;
                        sweep.after = None;
                    }
                    None => self.sweep = None,
                }
            }
            if progress.recorded > 0 || read >= ROUND_READS {
                break;
            }
        }
        Ok(())
    }
}
