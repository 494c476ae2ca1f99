//! Obligation periods, their status, and a unit's compliance in a quarter (SPEC §4).
//!
//! All dates are calendar dates in Vietnam; the database layer converts stored UTC times.

pub mod report;

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::calendar::{local_date, WorkingCalendar};
use super::period::{Month, Quarter};
use super::reference::Cadence;

/// One period of an obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Last day the items are due: `due_day` of the period's last month (capped at the month's
    /// end), or the period's last day.
    pub due: NaiveDate,
}

impl Period {
    /// The last day an item may be submitted and still count for the period: its due date,
    /// or its last day when that is later.
    pub fn closes(&self) -> NaiveDate {
        self.to.max(self.due)
    }
}

/// When a period's unit was reminded, and when it was told the period was missed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reminded {
    /// The reminder before the due date.
    pub due_soon: Option<NaiveDateTime>,
    /// The missed-period notice.
    pub missed: Option<NaiveDateTime>,
}

/// Working days before a period's due date from which its unit is reminded, if it has not met
/// it yet.
pub const REMINDER_WORKING_DAYS: u32 = 5;

/// Whether a period due on `due` is in its reminder window on `today`: `due` is not past, and
/// at most [`REMINDER_WORKING_DAYS`] working days follow today up to it (counting the due day
/// when it is one). A period due on Friday 31 is reminded from Friday 24, one due on a
/// Saturday from the Friday eight days before it (five working days follow, then the due day).
pub fn in_reminder_window(calendar: &WorkingCalendar, today: NaiveDate, due: NaiveDate) -> bool {
    today <= due && due < calendar.deadline(today, REMINDER_WORKING_DAYS + 1).due_date
}

/// Where an obligation period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodStatus {
    /// Enough items by the due date.
    Met,
    /// Enough items, but only counting some that came after the due date.
    Late,
    /// Past the due date without enough items.
    Missing,
    /// Not yet due, and not yet met.
    Pending,
}

impl PeriodStatus {
    /// The wire form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Late => "late",
            Self::Missing => "missing",
            Self::Pending => "pending",
        }
    }
}

fn due_in(last_month: Month, last_day: NaiveDate, due_day: Option<u32>) -> NaiveDate {
    match due_day {
        Some(day) => {
            let capped = day.clamp(1, last_month.last_day().day0() + 1);
            NaiveDate::from_ymd_opt(last_month.year, last_month.month, capped).unwrap_or(last_day)
        }
        None => last_day,
    }
}

/// The periods of an obligation that overlap both its own life (`starts_on` to `ends_on`) and
/// the range `from`–`to`, in order.
pub fn periods(
    cadence: Cadence,
    due_day: Option<u32>,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Period> {
    let first = from.max(starts_on);
    let last = ends_on.map_or(to, |e| e.min(to));
    if first > last {
        return Vec::new();
    }
    let mut out = Vec::new();
    match cadence {
        Cadence::Monthly => {
            let mut m = Month::containing(first);
            while m.first_day() <= last {
                out.push(Period {
                    from: m.first_day(),
                    to: m.last_day(),
                    due: due_in(m, m.last_day(), due_day),
                });
                m = m.next();
            }
        }
        Cadence::Quarterly => {
            let mut q = Quarter::containing(first);
            while q.first_day() <= last {
                let last_month = Month {
                    year: q.year,
                    month: q.last_month(),
                };
                out.push(Period {
                    from: q.first_day(),
                    to: q.last_day(),
                    due: due_in(last_month, q.last_day(), due_day),
                });
                q = q.next();
            }
        }
    }
    out
}

/// The status of a period, given the dates on which the counting items were first submitted
/// (any order) and today's date.
///
/// An item counts when it was first submitted between the period's first day and the day it
/// closes ([`Period::closes`]), is of the obligation's unit and category, and is not rejected;
/// the caller passes only such items. Then, with `n` = `min_items`:
/// - `met`: at least `n` items were submitted on or before the due date;
/// - `late`: at least `n` items count, but the `n`-th earliest came after the due date;
/// - `pending`: not met, and today is on or before the due date;
/// - `missing`: not met nor late, and the due date has passed.
pub fn status(
    period: &Period,
    min_items: u32,
    submitted_on: &[NaiveDate],
    today: NaiveDate,
) -> PeriodStatus {
    let n = min_items.max(1) as usize;
    let mut dates: Vec<NaiveDate> = submitted_on
        .iter()
        .copied()
        .filter(|d| *d >= period.from && *d <= period.closes())
        .collect();
    dates.sort();
    match dates.get(n - 1) {
        Some(nth) if *nth <= period.due => PeriodStatus::Met,
        _ if today <= period.due => PeriodStatus::Pending,
        Some(_) => PeriodStatus::Late,
        None => PeriodStatus::Missing,
    }
}

/// A failed rule of the quarterly compliance check, with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// An obligation period ending in the window was late or missing.
    ObligationMissed,
    /// The unit submitted nothing during the window.
    NoSubmissions,
    /// A question assigned to the unit was overdue at the window's end.
    OverdueQuestions,
}

impl Reason {
    /// The stable code.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ObligationMissed => "obligation_missed",
            Self::NoSubmissions => "no_submissions",
            Self::OverdueQuestions => "overdue_questions",
        }
    }
}

/// The reasons a unit fails the quarterly check; none means compliant.
pub fn reasons(late_or_missing: u64, submitted: u64, overdue_open: u64) -> Vec<Reason> {
    let mut out = Vec::new();
    if late_or_missing > 0 {
        out.push(Reason::ObligationMissed);
    }
    if submitted == 0 {
        out.push(Reason::NoSubmissions);
    }
    if overdue_open > 0 {
        out.push(Reason::OverdueQuestions);
    }
    out
}

/// The median of some numbers, or `None` for none.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// A recurring duty: a unit owes `min_items` items (of a category, or any) every period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    /// Identifier.
    pub id: i64,
    /// The unit.
    pub unit: String,
    /// The category, or any.
    pub category: Option<String>,
    /// Monthly or quarterly.
    pub cadence: Cadence,
    /// Items owed per period.
    pub min_items: i32,
    /// Due day of the period's last month; `None` for its last day.
    pub due_day: Option<i32>,
    /// First day it applies.
    pub starts_on: NaiveDate,
    /// Last day it applies.
    pub ends_on: Option<NaiveDate>,
    /// What is owed.
    pub description: String,
}

impl Obligation {
    /// Its periods overlapping `from`–`to`, in order.
    pub fn periods(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        periods(
            self.cadence,
            self.due_day.map(|d| d as u32),
            self.starts_on,
            self.ends_on,
            from,
            to,
        )
    }
}

/// A submission that may count for an obligation: of its unit and category, not rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationItem {
    /// The obligation it may count for.
    pub obligation_id: i64,
    /// The submission.
    pub id: String,
    /// When it was first submitted (UTC).
    pub submitted_at: NaiveDateTime,
}

/// One period of an obligation and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodReport {
    /// The obligation.
    pub obligation_id: i64,
    /// Its unit.
    pub unit: String,
    /// Its category, or any.
    pub category: Option<String>,
    /// The period.
    pub period: Period,
    /// Where it stands.
    pub status: PeriodStatus,
    /// Items owed.
    pub min_items: i32,
    /// The submissions that count for the period, in submission order.
    pub items: Vec<String>,
}

/// The days from which items may count for the periods of `obligations` overlapping
/// `from`–`to`: from the first period's first day up to, not including, the day after the
/// last one closes. `None` when no period overlaps.
pub fn item_days(
    obligations: &[Obligation],
    from: NaiveDate,
    to: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    obligations
        .iter()
        .filter_map(|o| {
            let periods = o.periods(from, to);
            let (first, last) = (periods.first()?, periods.last()?);
            let closes = last.closes();
            Some((
                first.from,
                closes.checked_add_days(Days::new(1)).unwrap_or(closes),
            ))
        })
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

/// The status of every period of `obligations` overlapping `from`–`to`, as of `today`, by
/// obligation then date. `items` are those that may count (see [`ObligationItem`]), in
/// submission order, first submitted at least on the days [`item_days`] gives.
pub fn period_statuses(
    obligations: &[Obligation],
    items: &[ObligationItem],
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Vec<PeriodReport> {
    let mut by_obligation: HashMap<i64, Vec<(&str, NaiveDate)>> = HashMap::new();
    for item in items {
        by_obligation
            .entry(item.obligation_id)
            .or_default()
            .push((&item.id, local_date(item.submitted_at.and_utc())));
    }
    let mut out = Vec::new();
    for o in obligations {
        let dated = by_obligation.get(&o.id).map_or(&[][..], Vec::as_slice);
        for period in o.periods(from, to) {
            let counting: Vec<&(&str, NaiveDate)> = dated
                .iter()
                .filter(|(_, d)| *d >= period.from && *d <= period.closes())
                .collect();
            let dates: Vec<NaiveDate> = counting.iter().map(|(_, d)| *d).collect();
            out.push(PeriodReport {
                obligation_id: o.id,
                unit: o.unit.clone(),
                category: o.category.clone(),
                status: status(&period, o.min_items.max(1) as u32, &dates, today),
                period,
                min_items: o.min_items,
                items: counting.into_iter().map(|(id, _)| id.to_string()).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
