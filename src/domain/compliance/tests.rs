//! The compliance rules' tests, kept apart so the rules read in one screen.

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

fn obligation(id: i64, due_day: Option<i32>, starts_on: &str) -> Obligation {
    Obligation {
        id,
        unit: "so-a".into(),
        category: None,
        cadence: Cadence::Monthly,
        min_items: 1,
        due_day,
        starts_on: d(starts_on),
        ends_on: None,
        description: String::new(),
    }
}

#[test]
fn items_are_read_from_the_first_period_to_the_day_after_the_last_closes() {
    let both = [
        obligation(1, None, "2024-02-01"),
        obligation(2, Some(31), "2024-01-01"),
    ];
    assert_eq!(
        item_days(&both, d("2024-01-15"), d("2024-02-10")),
        Some((d("2024-01-01"), d("2024-03-01")))
    );
    assert_eq!(
        item_days(&both[..1], d("2023-01-01"), d("2023-12-31")),
        None
    );
}

#[test]
fn each_obligation_counts_its_own_items_by_vietnamese_day() {
    let obligations = [
        obligation(1, Some(10), "2024-01-01"),
        obligation(2, None, "2024-01-01"),
    ];
    let item = |obligation_id, id: &str, utc: &str| ObligationItem {
        obligation_id,
        id: id.into(),
        submitted_at: utc.parse().unwrap(),
    };
    let items = [
        // 00:30 on 11 January in Vietnam: after the 10th.
        item(1, "late", "2024-01-10T17:30:00"),
        item(2, "early", "2024-01-02T03:00:00"),
        item(2, "next", "2024-02-02T03:00:00"),
    ];
    let statuses = period_statuses(
        &obligations,
        &items,
        d("2024-01-01"),
        d("2024-01-31"),
        d("2024-03-01"),
    );
    let got: Vec<(i64, PeriodStatus, Vec<String>)> = statuses
        .into_iter()
        .map(|p| (p.obligation_id, p.status, p.items))
        .collect();
    assert_eq!(
        got,
        [
            (1, PeriodStatus::Late, vec!["late".to_string()]),
            (2, PeriodStatus::Met, vec!["early".to_string()]),
        ]
    );
}

#[test]
fn medians() {
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
}

#[test]
fn a_period_is_reminded_from_five_working_days_before_it_is_due() {
    use crate::domain::calendar::{CalendarEntry, HolidayKind};
    let plain = WorkingCalendar::default();
    // Due Friday 31 May 2024: from Friday 24 May, up to the due day.
    let due = d("2024-05-31");
    assert!(!in_reminder_window(&plain, d("2024-05-23"), due));
    assert!(in_reminder_window(&plain, d("2024-05-24"), due));
    assert!(in_reminder_window(&plain, d("2024-05-31"), due));
    assert!(!in_reminder_window(&plain, d("2024-06-01"), due));
    // Due Saturday 31 August 2024: from Friday 23 August.
    assert!(!in_reminder_window(
        &plain,
        d("2024-08-22"),
        d("2024-08-31")
    ));
    assert!(in_reminder_window(&plain, d("2024-08-23"), d("2024-08-31")));
    // Holidays are not counted: with Tết from 8 to 14 February 2024, a period due on Tuesday
    // 20 February is reminded from Tuesday 6 February (7, 15, 16, 19 and 20 follow).
    let tet = WorkingCalendar::new([8, 9, 12, 13, 14].map(|day| CalendarEntry {
        date: NaiveDate::from_ymd_opt(2024, 2, day).unwrap(),
        name: "Tết".into(),
        kind: HolidayKind::Holiday,
    }));
    assert!(!in_reminder_window(&tet, d("2024-02-05"), d("2024-02-20")));
    assert!(in_reminder_window(&tet, d("2024-02-06"), d("2024-02-20")));
}
