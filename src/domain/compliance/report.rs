//! The quarterly compliance report (SPEC §4): each unit's figures, its verdict and the
//! failing units worst first, from counts and rows read beforehand.

use std::collections::HashMap;

use chrono::{Days, NaiveDate, NaiveDateTime};

use super::{median, period_statuses, reasons, Obligation, ObligationItem, PeriodStatus, Reason};
use crate::domain::calendar::{day_start_utc, local_date, WorkingCalendar};
use crate::domain::period::ReportPeriod;
use crate::domain::reference::UnitKind;

/// A unit as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportUnit {
    /// Unit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Department or district.
    pub kind: UnitKind,
    /// False once merged or dissolved.
    pub active: bool,
    /// The units that took over its duties.
    pub successors: Vec<String>,
    /// When it was deactivated (UTC).
    pub deactivated_at: Option<NaiveDateTime>,
}

/// Submission counts of a window, per unit code.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SubmissionCounts {
    /// First submitted in the window.
    pub received: HashMap<String, i64>,
    /// Published in the window.
    pub published: HashMap<String, i64>,
    /// Returned in the window.
    pub returned: HashMap<String, i64>,
    /// Rejected in the window.
    pub rejected: HashMap<String, i64>,
}

/// A question first answered in the window, with its working days as counted when the answer
/// was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedAnswer {
    /// The unit it is assigned to.
    pub unit: Option<String>,
    /// Working days from receipt to the first reply.
    pub days: i32,
    /// Answered by its due time.
    pub on_time: bool,
}

/// A question first answered in the window whose working days were not recorded (rows from
/// before they were): the report counts them from the times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncountedAnswer {
    /// The unit it is assigned to.
    pub unit: Option<String>,
    /// When it was received (UTC).
    pub received_at: NaiveDateTime,
    /// First reply (UTC).
    pub answered_at: NaiveDateTime,
    /// When it was due (UTC).
    pub due_at: NaiveDateTime,
}

/// Question counts and answers of a window.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QuestionCounts {
    /// Received in the window, per unit.
    pub received: HashMap<String, i64>,
    /// First answered in the window, working days recorded.
    pub answered: Vec<CountedAnswer>,
    /// First answered in the window, working days not recorded.
    pub answered_uncounted: Vec<UncountedAnswer>,
    /// Not answered (nor rejected) and past due at the window's end, per unit.
    pub overdue_open: HashMap<String, i64>,
}

impl QuestionCounts {
    /// The days a working calendar must cover to count the unrecorded answers, if any.
    pub fn calendar_days(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self
            .answered_uncounted
            .iter()
            .map(|a| a.received_at)
            .min()?;
        let last = self
            .answered_uncounted
            .iter()
            .map(|a| a.answered_at)
            .max()?;
        Some((local_date(first.and_utc()), local_date(last.and_utc())))
    }
}

/// What the report is built from.
#[derive(Debug, Clone)]
pub struct ReportInputs {
    /// The window.
    pub period: ReportPeriod,
    /// Today, in Vietnam: periods not yet due are pending.
    pub today: NaiveDate,
    /// Only this unit's row (an officer's), or every unit's.
    pub only: Option<String>,
    /// Every unit (those outside the window are left out here).
    pub units: Vec<ReportUnit>,
    /// The obligations.
    pub obligations: Vec<Obligation>,
    /// The submissions that may count for them, on the days [`super::item_days`] gives for
    /// the window.
    pub items: Vec<ObligationItem>,
    /// Submissions in the window.
    pub submissions: SubmissionCounts,
    /// Questions in the window.
    pub questions: QuestionCounts,
    /// The working calendar over [`QuestionCounts::calendar_days`].
    pub calendar: Option<WorkingCalendar>,
}

/// Submissions of a unit in the window.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SubmissionFigures {
    /// First submitted.
    pub received: i64,
    /// Published.
    pub published: i64,
    /// Returned to the unit.
    pub returned: i64,
    /// Rejected.
    pub rejected: i64,
}

/// Obligation periods of a unit ending in the window.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ObligationFigures {
    /// Periods ending in the window.
    pub due: i64,
    /// Met.
    pub met: i64,
    /// Late.
    pub late: i64,
    /// Missing.
    pub missing: i64,
    /// Not yet due.
    pub pending: i64,
}

/// Questions assigned to a unit.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct QuestionFigures {
    /// Received in the window.
    pub received: i64,
    /// First answered in the window.
    pub answered: i64,
    /// Of those, by their due time.
    pub answered_on_time: i64,
    /// Open and past due at the window's end.
    pub overdue_open: i64,
    /// Median working days to the first reply.
    pub median_working_days_to_answer: Option<f64>,
}

/// One unit's row.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    /// The unit.
    pub unit: ReportUnit,
    /// Submissions.
    pub submissions: SubmissionFigures,
    /// Obligations.
    pub obligations: ObligationFigures,
    /// Questions.
    pub questions: QuestionFigures,
    /// The failed rules; none means compliant.
    pub reasons: Vec<Reason>,
}

impl UnitRow {
    /// Whether every rule holds.
    pub fn compliant(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// Sums over the rows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals {
    /// Rows.
    pub units: i64,
    /// Compliant rows.
    pub compliant: i64,
    /// Submissions.
    pub submissions: SubmissionFigures,
    /// Obligations.
    pub obligations: ObligationFigures,
    /// Questions; the median is over every question answered in the window.
    pub questions: QuestionFigures,
}

/// The report.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarterlyReport {
    /// The window.
    pub period: ReportPeriod,
    /// One row per unit active at some time in the window.
    pub units: Vec<UnitRow>,
    /// Sums.
    pub totals: Totals,
    /// The non-compliant units' codes, worst first.
    pub non_compliant: Vec<String>,
}

/// The window as UTC instants `[from, to)`.
pub fn window_bounds(period: &ReportPeriod) -> (NaiveDateTime, NaiveDateTime) {
    let from = day_start_utc(period.from);
    let to = day_start_utc(
        period
            .to
            .checked_add_days(Days::new(1))
            .unwrap_or(period.to),
    );
    (from, to)
}

/// Whether the unit was active at some time in the window starting at `from`.
fn in_window(unit: &ReportUnit, from: NaiveDateTime) -> bool {
    unit.active || unit.deactivated_at.is_some_and(|t| t >= from)
}

/// Obligation periods ending inside the window, counted by unit and status.
fn obligation_figures(inputs: &ReportInputs) -> HashMap<String, ObligationFigures> {
    let period = &inputs.period;
    let statuses = period_statuses(
        &inputs.obligations,
        &inputs.items,
        period.from,
        period.to,
        inputs.today,
    );
    let mut out: HashMap<String, ObligationFigures> = HashMap::new();
    for s in statuses
        .into_iter()
        .filter(|s| s.period.to >= period.from && s.period.to <= period.to)
    {
        let f = out.entry(s.unit).or_default();
        f.due += 1;
        match s.status {
            PeriodStatus::Met => f.met += 1,
            PeriodStatus::Late => f.late += 1,
            PeriodStatus::Missing => f.missing += 1,
            PeriodStatus::Pending => f.pending += 1,
        }
    }
    out
}

/// Answers by unit: how many, how many on time, and their working days; and the days of every
/// answer, with or without a unit.
struct Answers {
    by_unit: HashMap<String, (i64, i64, Vec<f64>)>,
    all_days: Vec<f64>,
}

/// Working days from receipt to first reply: as recorded with each first reply, or counted
/// here with the calendar for answers from before that was recorded.
fn answers(questions: &QuestionCounts, calendar: Option<&WorkingCalendar>) -> Answers {
    let uncounted = questions.answered_uncounted.iter().map(|a| {
        let days = calendar.map_or(0, |c| {
            c.working_days_between(a.received_at.and_utc(), a.answered_at.and_utc())
        });
        (a.unit.as_ref(), days, a.answered_at <= a.due_at)
    });
    let counted = questions
        .answered
        .iter()
        .map(|a| (a.unit.as_ref(), i64::from(a.days), a.on_time));
    let mut by_unit: HashMap<String, (i64, i64, Vec<f64>)> = HashMap::new();
    let mut all_days = Vec::new();
    for (unit, days, on_time) in counted.chain(uncounted) {
        let days = days as f64;
        all_days.push(days);
        let Some(unit) = unit else { continue };
        let entry = match by_unit.get_mut(unit) {
            Some(entry) => entry,
            None => by_unit.entry(unit.clone()).or_default(),
        };
        entry.0 += 1;
        if on_time {
            entry.1 += 1;
        }
        entry.2.push(days);
    }
    Answers { by_unit, all_days }
}

fn add_up(rows: &[UnitRow]) -> Totals {
    let mut totals = Totals {
        units: rows.len() as i64,
        ..Default::default()
    };
    for r in rows {
        totals.compliant += i64::from(r.compliant());
        let (s, o, q) = (&r.submissions, &r.obligations, &r.questions);
        totals.submissions.received += s.received;
        totals.submissions.published += s.published;
        totals.submissions.returned += s.returned;
        totals.submissions.rejected += s.rejected;
        totals.obligations.due += o.due;
        totals.obligations.met += o.met;
        totals.obligations.late += o.late;
        totals.obligations.missing += o.missing;
        totals.obligations.pending += o.pending;
        totals.questions.received += q.received;
        totals.questions.answered += q.answered;
        totals.questions.answered_on_time += q.answered_on_time;
        totals.questions.overdue_open += q.overdue_open;
    }
    totals
}

/// The non-compliant units worst first: most failed rules, then most missed periods and
/// overdue questions, then by code.
pub fn worst_first(rows: &[UnitRow]) -> Vec<String> {
    let mut failing: Vec<&UnitRow> = rows.iter().filter(|r| !r.compliant()).collect();
    let weight = |r: &UnitRow| {
        (
            r.reasons.len(),
            r.obligations.missing + r.obligations.late + r.questions.overdue_open,
        )
    };
    failing.sort_by(|a, b| {
        weight(b)
            .cmp(&weight(a))
            .then_with(|| a.unit.code.cmp(&b.unit.code))
    });
    failing.iter().map(|r| r.unit.code.clone()).collect()
}

/// Builds the report: a row for every unit active at some time in the window (only the one
/// asked for, if any), its figures and failed rules, the totals and the worst-first order.
pub fn build(inputs: ReportInputs) -> QuarterlyReport {
    let (from, _) = window_bounds(&inputs.period);
    let mut obligations = obligation_figures(&inputs);
    let Answers {
        mut by_unit,
        mut all_days,
    } = answers(&inputs.questions, inputs.calendar.as_ref());
    let ReportInputs {
        period,
        only,
        units,
        submissions,
        questions,
        ..
    } = inputs;
    let get = |m: &HashMap<String, i64>, u: &str| m.get(u).copied().unwrap_or(0);
    let rows: Vec<UnitRow> = units
        .into_iter()
        .filter(|u| in_window(u, from) && only.as_ref().is_none_or(|o| *o == u.code))
        .map(|unit| {
            let code = unit.code.as_str();
            let subs = SubmissionFigures {
                received: get(&submissions.received, code),
                published: get(&submissions.published, code),
                returned: get(&submissions.returned, code),
                rejected: get(&submissions.rejected, code),
            };
            let obl = obligations.remove(code).unwrap_or_default();
            let (answered, on_time, mut days) = by_unit.remove(code).unwrap_or_default();
            let q = QuestionFigures {
                received: get(&questions.received, code),
                answered,
                answered_on_time: on_time,
                overdue_open: get(&questions.overdue_open, code),
                median_working_days_to_answer: median(&mut days),
            };
            let reasons = reasons(
                (obl.late + obl.missing) as u64,
                subs.received as u64,
                q.overdue_open as u64,
            );
            UnitRow {
                unit,
                submissions: subs,
                obligations: obl,
                questions: q,
                reasons,
            }
        })
        .collect();
    let mut totals = add_up(&rows);
    // One unit's report has that unit's median; the province's is over every answer,
    // including those of questions assigned to no unit.
    totals.questions.median_working_days_to_answer = if only.is_some() {
        rows.first()
            .and_then(|r| r.questions.median_working_days_to_answer)
    } else {
        median(&mut all_days)
    };
    let non_compliant = worst_first(&rows);
    QuarterlyReport {
        period,
        units: rows,
        totals,
        non_compliant,
    }
}

#[cfg(test)]
mod tests;
