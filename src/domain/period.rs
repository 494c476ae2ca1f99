//! Months, quarters and the windows quarterly statistics are counted over.

use chrono::{Datelike, NaiveDate};

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 9999;

/// Builds a date, saturating instead of panicking when the year leaves chrono's range.
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// Calendar year.
    pub year: i32,
    /// Quarter number, 1..=4.
    pub quarter: u8,
}

impl Quarter {
    /// Returns the quarter, or `None` when the quarter or year (1900..=9999) is out of range.
    pub fn new(year: i32, quarter: u8) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=4).contains(&quarter))
            .then_some(Self { year, quarter })
    }

    /// The quarter a date falls in.
    pub fn containing(d: NaiveDate) -> Self {
        // month0 is 0..=11, so the quotient always fits in u8.
        Self {
            year: d.year(),
            quarter: (d.month0() / 3 + 1) as u8,
        }
    }

    /// Quarter number clamped to 1..=4, since the public fields can be set to anything.
    fn number(&self) -> u32 {
        u32::from(self.quarter.clamp(1, 4))
    }

    fn first_month(&self) -> Month {
        Month {
            year: self.year,
            month: self.last_month() - 2,
        }
    }

    /// Number (3, 6, 9 or 12) of the quarter's last month.
    pub fn last_month(&self) -> u32 {
        self.number() * 3
    }

    fn closing_month(&self) -> Month {
        Month {
            year: self.year,
            month: self.last_month(),
        }
    }

    /// First day of the quarter.
    pub fn first_day(&self) -> NaiveDate {
        self.first_month().first_day()
    }

    /// Last day of the quarter.
    pub fn last_day(&self) -> NaiveDate {
        self.closing_month().last_day()
    }

    /// The counting window of the given kind and the report's due date.
    pub fn window(&self, kind: WindowKind) -> ReportPeriod {
        let closing = self.closing_month();
        let (from, to) = match kind {
            WindowKind::Calendar => (self.first_day(), self.last_day()),
            // Decree 09/2019/NĐ-CP Art. 12: figures run from the 15th of the month
            // before the quarter to the 14th of its last month, so the report can be
            // compiled before it falls due on the 20th.
            WindowKind::Reporting => (self.first_month().prev().day(15), closing.day(14)),
        };
        ReportPeriod {
            year: self.year,
            quarter: self.number() as u8,
            window: kind,
            from,
            to,
            report_due: closing.day(20),
        }
    }

    /// The following quarter.
    pub fn next(&self) -> Self {
        let (year, q) = match self.number() {
            4 => (self.year.saturating_add(1), 1),
            q => (self.year, q + 1),
        };
        Self {
            year,
            quarter: q as u8,
        }
    }

    /// The preceding quarter.
    pub fn prev(&self) -> Self {
        let (year, q) = match self.number() {
            1 => (self.year.saturating_sub(1), 4),
            q => (self.year, q - 1),
        };
        Self {
            year,
            quarter: q as u8,
        }
    }
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// Calendar year.
    pub year: i32,
    /// Month number, 1..=12.
    pub month: u32,
}

impl Month {
    /// Returns the month, or `None` when the month or year (1900..=9999) is out of range.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(Self { year, month })
    }

    /// The month a date falls in.
    pub fn containing(d: NaiveDate) -> Self {
        Self {
            year: d.year(),
            month: d.month(),
        }
    }

    /// Month number clamped to 1..=12, since the public fields can be set to anything.
    fn number(&self) -> u32 {
        self.month.clamp(1, 12)
    }

    /// The given day of this month, capped at the month's length.
    fn day(&self, day: u32) -> NaiveDate {
        ymd(self.year, self.number(), day.min(self.len()))
    }

    fn len(&self) -> u32 {
        match self.number() {
            2 if is_leap(self.year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// First day of the month.
    pub fn first_day(&self) -> NaiveDate {
        self.day(1)
    }

    /// Last day of the month.
    pub fn last_day(&self) -> NaiveDate {
        self.day(self.len())
    }

    /// The following month.
    pub fn next(&self) -> Self {
        let (year, month) = match self.number() {
            12 => (self.year.saturating_add(1), 1),
            m => (self.year, m + 1),
        };
        Self { year, month }
    }

    /// The preceding month.
    pub fn prev(&self) -> Self {
        let (year, month) = match self.number() {
            1 => (self.year.saturating_sub(1), 12),
            m => (self.year, m - 1),
        };
        Self { year, month }
    }
}

/// Which window statistics are counted over.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    Default,
)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// The statutory reporting window, 15th of the prior month to the 14th of the last month.
    #[default]
    Reporting,
    /// The plain calendar quarter.
    Calendar,
}

impl WindowKind {
    /// The wire name, as serde spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Reporting => "reporting",
            Self::Calendar => "calendar",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reporting" => Some(Self::Reporting),
            "calendar" => Some(Self::Calendar),
            _ => None,
        }
    }
}

/// A quarter's counting window (inclusive dates) and the report's due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReportPeriod {
    /// Year of the quarter reported on.
    pub year: i32,
    /// Quarter reported on, 1..=4.
    pub quarter: u8,
    /// Which window `from`..=`to` is.
    pub window: WindowKind,
    /// First day counted.
    pub from: NaiveDate,
    /// Last day counted.
    pub to: NaiveDate,
    /// Day the report is due.
    pub report_due: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn q(year: i32, quarter: u8) -> Quarter {
        Quarter::new(year, quarter).unwrap()
    }

    #[test]
    fn quarter_new_rejects_out_of_range() {
        assert!(Quarter::new(2024, 0).is_none());
        assert!(Quarter::new(2024, 5).is_none());
        assert!(Quarter::new(1899, 1).is_none());
        assert!(Quarter::new(10_000, 1).is_none());
        assert_eq!(
            Quarter::new(1900, 1),
            Some(Quarter {
                year: 1900,
                quarter: 1
            })
        );
        assert_eq!(
            Quarter::new(9999, 4),
            Some(Quarter {
                year: 9999,
                quarter: 4
            })
        );
    }

    #[test]
    fn month_new_rejects_out_of_range() {
        assert!(Month::new(2024, 0).is_none());
        assert!(Month::new(2024, 13).is_none());
        assert!(Month::new(1899, 5).is_none());
        assert_eq!(
            Month::new(2024, 12),
            Some(Month {
                year: 2024,
                month: 12
            })
        );
    }

    #[test]
    fn containing_maps_dates_to_their_quarter_and_month() {
        assert_eq!(Quarter::containing(d(2024, 1, 1)), q(2024, 1));
        assert_eq!(Quarter::containing(d(2024, 3, 31)), q(2024, 1));
        assert_eq!(Quarter::containing(d(2024, 4, 1)), q(2024, 2));
        assert_eq!(Quarter::containing(d(2024, 9, 30)), q(2024, 3));
        assert_eq!(Quarter::containing(d(2024, 12, 31)), q(2024, 4));
        assert_eq!(
            Month::containing(d(2024, 2, 29)),
            Month {
                year: 2024,
                month: 2
            }
        );
    }

    #[test]
    fn calendar_window_spans_each_whole_quarter() {
        let expected = [
            (d(2024, 1, 1), d(2024, 3, 31), 3),
            (d(2024, 4, 1), d(2024, 6, 30), 6),
            (d(2024, 7, 1), d(2024, 9, 30), 9),
            (d(2024, 10, 1), d(2024, 12, 31), 12),
        ];
        for (n, (from, to, last_month)) in (1..=4).zip(expected) {
            let p = q(2024, n).window(WindowKind::Calendar);
            assert_eq!((p.from, p.to), (from, to), "Q{n}");
            assert_eq!(q(2024, n).last_month(), last_month);
            assert_eq!(p.report_due, d(2024, last_month, 20));
            assert_eq!(
                (p.year, p.quarter, p.window),
                (2024, n, WindowKind::Calendar)
            );
        }
    }

    #[test]
    fn reporting_window_runs_15th_to_14th_for_each_quarter() {
        let expected = [
            (d(2023, 12, 15), d(2024, 3, 14)),
            (d(2024, 3, 15), d(2024, 6, 14)),
            (d(2024, 6, 15), d(2024, 9, 14)),
            (d(2024, 9, 15), d(2024, 12, 14)),
        ];
        for (n, (from, to)) in (1..=4).zip(expected) {
            let p = q(2024, n).window(WindowKind::Reporting);
            assert_eq!((p.from, p.to), (from, to), "Q{n}");
            assert_eq!(p.window, WindowKind::Reporting);
        }
        assert_eq!(
            q(2024, 1).window(WindowKind::Reporting).report_due,
            d(2024, 3, 20)
        );
    }

    #[test]
    fn reporting_windows_tile_the_year_without_gaps() {
        let mut quarter = q(2023, 1);
        for _ in 0..8 {
            let this = quarter.window(WindowKind::Reporting);
            let next = quarter.next().window(WindowKind::Reporting);
            assert_eq!(this.to.succ_opt(), Some(next.from));
            quarter = quarter.next();
        }
    }

    #[test]
    fn month_last_day_handles_leap_february() {
        assert_eq!(
            Month {
                year: 2024,
                month: 2
            }
            .last_day(),
            d(2024, 2, 29)
        );
        assert_eq!(
            Month {
                year: 2023,
                month: 2
            }
            .last_day(),
            d(2023, 2, 28)
        );
        assert_eq!(
            Month {
                year: 1900,
                month: 2
            }
            .last_day(),
            d(1900, 2, 28)
        );
        assert_eq!(
            Month {
                year: 2000,
                month: 2
            }
            .last_day(),
            d(2000, 2, 29)
        );
        assert_eq!(
            Month {
                year: 2024,
                month: 4
            }
            .last_day(),
            d(2024, 4, 30)
        );
        assert_eq!(
            Month {
                year: 2024,
                month: 12
            }
            .first_day(),
            d(2024, 12, 1)
        );
    }

    #[test]
    fn next_and_prev_wrap_across_years() {
        assert_eq!(q(2023, 4).next(), q(2024, 1));
        assert_eq!(q(2024, 1).prev(), q(2023, 4));
        assert_eq!(q(2024, 2).next(), q(2024, 3));
        assert_eq!(q(2024, 3).prev(), q(2024, 2));
        let dec = Month {
            year: 2023,
            month: 12,
        };
        let jan = Month {
            year: 2024,
            month: 1,
        };
        assert_eq!(dec.next(), jan);
        assert_eq!(jan.prev(), dec);
        assert_eq!(
            Month {
                year: 2024,
                month: 6
            }
            .next()
            .month,
            7
        );
    }

    #[test]
    fn invalid_public_fields_do_not_panic() {
        let odd = Quarter {
            year: 2024,
            quarter: 9,
        };
        assert_eq!(odd.last_day(), d(2024, 12, 31));
        let far = Month {
            year: i32::MAX,
            month: 0,
        };
        assert_eq!(far.first_day(), NaiveDate::MAX);
        assert_eq!(far.next().year, i32::MAX);
    }

    #[test]
    fn window_kind_round_trips_through_its_name() {
        for kind in [WindowKind::Reporting, WindowKind::Calendar] {
            assert_eq!(WindowKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(WindowKind::parse("Reporting"), None);
        assert_eq!(WindowKind::default(), WindowKind::Reporting);
    }
}
