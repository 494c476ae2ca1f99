//! The working-day calendar used for statutory answer and review deadlines.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Utc, Weekday};

/// Upper bound on days scanned for one deadline, so absurd counts saturate instead of looping.
const MAX_SCAN_DAYS: u32 = 20 * 366;

/// Kind of a calendar override row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// A public holiday: not worked even on a weekday.
    Holiday,
    /// A declared make-up working day: worked even on a weekend.
    WorkingDay,
}

impl HolidayKind {
    /// The wire name, as serde spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::WorkingDay => "working_day",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holiday" => Some(Self::Holiday),
            "working_day" => Some(Self::WorkingDay),
            _ => None,
        }
    }
}

/// One dated exception to the Monday–Friday week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// The day affected.
    pub date: NaiveDate,
    /// Human name, e.g. "Tết Nguyên đán".
    pub name: String,
    /// Whether the day is taken off or worked.
    pub kind: HolidayKind,
}

/// Why a day was not counted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// An ordinary Saturday.
    Saturday,
    /// An ordinary Sunday.
    Sunday,
    /// A public holiday.
    Holiday,
}

/// A day passed over while counting, with its reason and, for a holiday, its name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SkippedDay {
    /// The day passed over.
    pub date: NaiveDate,
    /// Why it was not counted.
    pub reason: SkipReason,
    /// The holiday's name, for holidays only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The result of counting working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// The day counting starts after (not itself counted).
    pub from: NaiveDate,
    /// Number of working days asked for.
    pub working_days: u32,
    /// The last day allowed.
    pub due_date: NaiveDate,
    /// End of `due_date` in Vietnam, 23:59:59 +07:00.
    pub due_at: DateTime<FixedOffset>,
    /// The working days counted, in order.
    pub counted: Vec<NaiveDate>,
    /// Days after `from` up to `due_date` that were not counted, in order.
    pub skipped: Vec<SkippedDay>,
}

/// Vietnam's offset from UTC, +07:00.
pub fn vietnam_offset() -> FixedOffset {
    // Vietnam has kept +07:00 without DST since 1975, so no tz database is needed.
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// The calendar date in Vietnam at instant `t`.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vietnam_offset()).date_naive()
}

/// The UTC time at which day `d` starts in Vietnam, as stored in the database.
pub fn day_start_utc(d: NaiveDate) -> chrono::NaiveDateTime {
    // 00:00 at +07:00 is 17:00 UTC the day before.
    d.and_time(NaiveTime::MIN) - chrono::Duration::hours(7)
}

/// When the working morning starts in Vietnam: the daily digest and the obligation reminders
/// go out from then on.
pub const MORNING: NaiveTime = match NaiveTime::from_hms_opt(7, 30, 0) {
    Some(t) => t,
    None => panic!("07:30 is a valid time"),
};

/// Whether [`MORNING`] has come on the Vietnamese date of `now` (UTC).
pub fn morning_has_come(now: chrono::NaiveDateTime) -> bool {
    now.and_utc().with_timezone(&vietnam_offset()).time() >= MORNING
}

/// The last second of `d` in Vietnam.
fn end_of_day(d: NaiveDate) -> DateTime<FixedOffset> {
    // 23:59:59 at +07:00 is 16:59:59 UTC on the same date, which exists for every
    // NaiveDate, whereas converting from local time can fail at chrono's range ends.
    let utc_time = NaiveTime::from_hms_opt(16, 59, 59).expect("16:59:59 is a valid time");
    DateTime::from_naive_utc_and_offset(d.and_time(utc_time), vietnam_offset())
}

/// Monday–Friday working week with dated holidays and make-up working days.
#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    entries: BTreeMap<NaiveDate, CalendarEntry>,
}

impl WorkingCalendar {
    /// Builds a calendar from override rows; a later entry for the same date wins.
    pub fn new(entries: impl IntoIterator<Item = CalendarEntry>) -> Self {
        Self {
            entries: entries.into_iter().map(|e| (e.date, e)).collect(),
        }
    }

    /// Whether `d` is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.skip_reason(d).is_none()
    }

    /// Why `d` is not a working day, or `None` if it is one.
    fn skip_reason(&self, d: NaiveDate) -> Option<SkippedDay> {
        let (reason, name) = match self.entries.get(&d) {
            Some(e) if e.kind == HolidayKind::WorkingDay => return None,
            Some(e) => (SkipReason::Holiday, Some(e.name.clone())),
            None => match d.weekday() {
                Weekday::Sat => (SkipReason::Saturday, None),
                Weekday::Sun => (SkipReason::Sunday, None),
                _ => return None,
            },
        };
        Some(SkippedDay {
            date: d,
            reason,
            name,
        })
    }

    /// The `working_days`-th working day after `from` (Civil Code 2015 Art. 147: `from` is not counted).
    pub fn deadline(&self, from: NaiveDate, working_days: u32) -> Deadline {
        let mut counted = Vec::new();
        let mut skipped = Vec::new();
        let mut due_date = from;
        // Saturates at MAX_SCAN_DAYS (or chrono's last date) with fewer days counted.
        for day in from.iter_days().skip(1).take(MAX_SCAN_DAYS as usize) {
            if counted.len() >= working_days as usize {
                break;
            }
            due_date = day;
            match self.skip_reason(day) {
                Some(skip) => skipped.push(skip),
                None => counted.push(day),
            }
        }
        Deadline {
            from,
            working_days,
            due_date,
            due_at: end_of_day(due_date),
            counted,
            skipped,
        }
    }

    /// Like [`Self::deadline`], counting from the Vietnamese date of instant `t`.
    pub fn deadline_after(&self, t: DateTime<Utc>, working_days: u32) -> Deadline {
        self.deadline(local_date(t), working_days)
    }

    /// Working days after `start`'s local date up to and including `end`'s (0 if not later).
    pub fn working_days_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        let (start, end) = (local_date(start), local_date(end));
        if end <= start {
            return 0;
        }
        // Count arithmetically rather than day by day, since the span comes from
        // stored timestamps and may be arbitrarily long.
        let span = (end - start).num_days();
        let leftover = start
            .iter_days()
            .skip(1)
            .take((span % 7) as usize)
            .filter(|d| d.weekday().number_from_monday() <= 5)
            .count() as i64;
        let weekdays = span / 7 * 5 + leftover;
        let adjustment: i64 = self
            .entries
            .range(start.succ_opt().unwrap_or(start)..=end)
            .map(|(d, e)| {
                let weekend = d.weekday().number_from_monday() > 5;
                match (e.kind, weekend) {
                    (HolidayKind::Holiday, false) => -1,
                    (HolidayKind::WorkingDay, true) => 1,
                    _ => 0,
                }
            })
            .sum();
        weekdays + adjustment
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn entry(date: NaiveDate, name: &str, kind: HolidayKind) -> CalendarEntry {
        CalendarEntry {
            date,
            name: name.to_string(),
            kind,
        }
    }

    fn tet_2024() -> WorkingCalendar {
        WorkingCalendar::new(
            [8, 9, 12, 13, 14].map(|day| entry(d(2024, 2, day), "Tết", HolidayKind::Holiday)),
        )
    }

    fn skip(date: NaiveDate, reason: SkipReason) -> SkippedDay {
        let name = (reason == SkipReason::Holiday).then(|| "Tết".to_string());
        SkippedDay { date, reason, name }
    }

    fn utc(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, 0, 0).unwrap()
    }

    #[test]
    fn tet_holidays_and_weekends_are_skipped() {
        let dl = tet_2024().deadline(d(2024, 2, 5), 5);
        assert_eq!(dl.due_date, d(2024, 2, 19));
        assert_eq!(dl.counted, [6, 7, 15, 16, 19].map(|x| d(2024, 2, x)));
        use SkipReason::*;
        let expected: Vec<_> = [
            (8, Holiday),
            (9, Holiday),
            (10, Saturday),
            (11, Sunday),
            (12, Holiday),
            (13, Holiday),
            (14, Holiday),
            (17, Saturday),
            (18, Sunday),
        ]
        .into_iter()
        .map(|(day, r)| skip(d(2024, 2, day), r))
        .collect();
        assert_eq!(dl.skipped, expected);
        assert_eq!((dl.from, dl.working_days), (d(2024, 2, 5), 5));
    }

    #[test]
    fn make_up_saturday_is_counted() {
        let cal = WorkingCalendar::new([
            entry(d(2024, 4, 29), "Bù", HolidayKind::Holiday),
            entry(d(2024, 5, 4), "Làm bù", HolidayKind::WorkingDay),
        ]);
        assert!(cal.is_working_day(d(2024, 5, 4)));
        assert!(!cal.is_working_day(d(2024, 4, 29)));
        let dl = cal.deadline(d(2024, 5, 3), 1);
        assert_eq!(dl.due_date, d(2024, 5, 4));
        assert!(dl.skipped.is_empty());
    }

    #[test]
    fn deadline_from_friday_skips_weekend() {
        let dl = WorkingCalendar::default().deadline(d(2024, 3, 1), 1);
        assert_eq!(dl.due_date, d(2024, 3, 4));
        assert_eq!(
            dl.skipped,
            [
                skip(d(2024, 3, 2), SkipReason::Saturday),
                skip(d(2024, 3, 3), SkipReason::Sunday)
            ]
        );
    }

    #[test]
    fn due_at_is_last_second_of_day_in_vietnam() {
        let dl = WorkingCalendar::default().deadline(d(2024, 3, 1), 1);
        assert_eq!(dl.due_at.to_rfc3339(), "2024-03-04T23:59:59+07:00");
        assert_eq!(
            dl.due_at.with_timezone(&Utc),
            utc(2024, 3, 4, 16) + chrono::Duration::seconds(59 * 60 + 59)
        );
    }

    #[test]
    fn zero_working_days_is_due_end_of_from() {
        let dl = tet_2024().deadline(d(2024, 2, 10), 0);
        assert_eq!(dl.due_date, d(2024, 2, 10));
        assert!(dl.counted.is_empty() && dl.skipped.is_empty());
    }

    #[test]
    fn deadline_after_uses_vietnamese_date() {
        let t = utc(2024, 2, 4, 20);
        assert_eq!(local_date(t), d(2024, 2, 5));
        assert_eq!(
            tet_2024().deadline_after(t, 5),
            tet_2024().deadline(d(2024, 2, 5), 5)
        );
    }

    #[test]
    fn later_entry_for_same_date_wins() {
        let cal = WorkingCalendar::new([
            entry(d(2024, 2, 8), "Tết", HolidayKind::Holiday),
            entry(d(2024, 2, 8), "Đổi", HolidayKind::WorkingDay),
        ]);
        assert!(cal.is_working_day(d(2024, 2, 8)));
    }

    #[test]
    fn huge_count_saturates_instead_of_looping() {
        let dl = WorkingCalendar::default().deadline(d(2024, 1, 1), u32::MAX);
        assert!(dl.counted.len() < 6000);
        assert_eq!(
            (dl.due_date - d(2024, 1, 1)).num_days(),
            i64::from(MAX_SCAN_DAYS)
        );
        let end = WorkingCalendar::default().deadline(NaiveDate::MAX, 3);
        assert_eq!(end.due_date, NaiveDate::MAX);
    }

    #[test]
    fn working_days_between_counts_after_start_through_end() {
        let cal = tet_2024();
        assert_eq!(
            cal.working_days_between(utc(2024, 2, 5, 2), utc(2024, 2, 19, 2)),
            5
        );
        // 2024-02-18T18:00Z is already 19 Feb in Vietnam.
        assert_eq!(
            cal.working_days_between(utc(2024, 2, 5, 2), utc(2024, 2, 18, 18)),
            5
        );
        assert_eq!(
            cal.working_days_between(utc(2024, 2, 5, 2), utc(2024, 2, 5, 9)),
            0
        );
        assert_eq!(
            cal.working_days_between(utc(2024, 2, 19, 2), utc(2024, 2, 5, 2)),
            0
        );
        let makeup =
            WorkingCalendar::new([entry(d(2024, 5, 4), "Làm bù", HolidayKind::WorkingDay)]);
        assert_eq!(
            makeup.working_days_between(utc(2024, 5, 3, 2), utc(2024, 5, 6, 2)),
            2
        );
    }

    #[test]
    fn working_days_between_agrees_with_deadline() {
        let cal = tet_2024();
        let start = utc(2024, 1, 3, 5);
        for n in 0..60 {
            let due = cal.deadline_after(start, n).due_at.with_timezone(&Utc);
            assert_eq!(cal.working_days_between(start, due), i64::from(n), "n={n}");
        }
    }

    #[test]
    fn holiday_kind_round_trips_through_its_name() {
        for kind in [HolidayKind::Holiday, HolidayKind::WorkingDay] {
            assert_eq!(HolidayKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(HolidayKind::parse("workingday"), None);
    }

    #[test]
    fn the_morning_comes_at_half_past_seven_in_vietnam() {
        // 07:30 +07:00 is 00:30 UTC.
        let at = |h, m| d(2024, 3, 4).and_hms_opt(h, m, 0).unwrap();
        assert!(!morning_has_come(at(0, 29)));
        assert!(morning_has_come(at(0, 30)));
        assert!(morning_has_come(at(16, 59)));
        // 17:00 UTC is midnight in Vietnam: the next day's morning has not come.
        assert!(!morning_has_come(at(17, 0)));
    }
}
