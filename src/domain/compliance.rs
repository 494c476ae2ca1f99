//! Obligation periods, their status, and a unit's compliance in a quarter (SPEC §4).
//!
//! All dates are calendar dates in Vietnam; the database layer converts stored UTC times.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn monthly_periods_cover_the_range_and_the_obligations_life() {
        let p = periods(
            Cadence::Monthly,
            None,
            d("2024-01-01"),
            None,
            d("2023-12-15"),
            d("2024-03-14"),
        );
        let months: Vec<(NaiveDate, NaiveDate)> = p.iter().map(|p| (p.from, p.due)).collect();
        assert_eq!(
            months,
            [
                (d("2024-01-01"), d("2024-01-31")),
                (d("2024-02-01"), d("2024-02-29")),
                (d("2024-03-01"), d("2024-03-31")),
            ]
        );
        let ended = periods(
            Cadence::Monthly,
            None,
            d("2024-01-01"),
            Some(d("2024-01-20")),
            d("2024-01-01"),
            d("2024-12-31"),
        );
        assert_eq!(ended.len(), 1);
    }

    #[test]
    fn a_due_day_is_capped_at_the_end_of_the_month() {
        let p = periods(
            Cadence::Monthly,
            Some(31),
            d("2024-02-01"),
            None,
            d("2024-02-01"),
            d("2024-02-29"),
        );
        assert_eq!(p[0].due, d("2024-02-29"));
        let q = periods(
            Cadence::Quarterly,
            Some(20),
            d("2024-01-01"),
            None,
            d("2024-01-01"),
            d("2024-06-30"),
        );
        assert_eq!(
            q.iter().map(|p| p.due).collect::<Vec<_>>(),
            [d("2024-03-20"), d("2024-06-20")]
        );
        assert_eq!(q[0].from, d("2024-01-01"));
        assert_eq!(q[0].to, d("2024-03-31"));
    }

    #[test]
    fn a_period_is_met_late_missing_or_pending() {
        let p = Period {
            from: d("2024-01-01"),
            to: d("2024-01-31"),
            due: d("2024-01-20"),
        };
        let after = d("2024-02-15");
        assert_eq!(status(&p, 1, &[d("2024-01-05")], after), PeriodStatus::Met);
        assert_eq!(status(&p, 1, &[d("2024-01-25")], after), PeriodStatus::Late);
        assert_eq!(
            status(&p, 2, &[d("2024-01-05"), d("2024-01-25")], after),
            PeriodStatus::Late
        );
        assert_eq!(
            status(&p, 2, &[d("2024-01-05"), d("2024-01-06")], after),
            PeriodStatus::Met
        );
        assert_eq!(status(&p, 1, &[], after), PeriodStatus::Missing);
        assert_eq!(
            status(&p, 1, &[d("2024-02-02")], after),
            PeriodStatus::Missing,
            "after the period closes"
        );
        assert_eq!(
            status(&p, 1, &[d("2023-12-31")], after),
            PeriodStatus::Missing,
            "before the period"
        );
        assert_eq!(status(&p, 1, &[], d("2024-01-20")), PeriodStatus::Pending);
        assert_eq!(
            status(&p, 1, &[d("2024-01-02")], d("2024-01-03")),
            PeriodStatus::Met
        );
    }

    #[test]
    fn reasons_name_each_failed_rule() {
        assert!(reasons(0, 3, 0).is_empty());
        assert_eq!(
            reasons(1, 0, 2),
            [
                Reason::ObligationMissed,
                Reason::NoSubmissions,
                Reason::OverdueQuestions
            ]
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
