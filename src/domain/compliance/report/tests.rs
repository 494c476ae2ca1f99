//! The report built from a small hand-made quarter.

use super::*;
use crate::domain::period::{Quarter, WindowKind};
use crate::domain::reference::Cadence;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 10:00 in Vietnam on a day, as stored.
fn at(s: &str) -> NaiveDateTime {
    d(s).and_hms_opt(3, 0, 0).unwrap()
}

fn unit(code: &str) -> ReportUnit {
    ReportUnit {
        code: code.into(),
        name: format!("Sở {code}"),
        kind: UnitKind::Department,
        active: true,
        successors: vec![],
        deactivated_at: None,
    }
}

fn counts(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
    pairs.iter().map(|(u, n)| (u.to_string(), *n)).collect()
}

fn monthly(id: i64, unit: &str) -> Obligation {
    Obligation {
        id,
        unit: unit.into(),
        category: None,
        cadence: Cadence::Monthly,
        min_items: 1,
        due_day: None,
        starts_on: d("2024-01-01"),
        ends_on: None,
        description: String::new(),
    }
}

fn item(obligation_id: i64, id: &str, day: &str) -> ObligationItem {
    ObligationItem {
        obligation_id,
        id: id.into(),
        submitted_at: at(day),
    }
}

/// Q1 2024 in calendar months, seen from April: "ok" meets its monthly duty and answers on
/// time, "late" misses March, "quiet" submits nothing, "slow" leaves a question overdue,
/// "gone" left in 2023.
fn inputs() -> ReportInputs {
    let mut gone = unit("gone");
    gone.active = false;
    gone.deactivated_at = Some(at("2023-12-01"));
    ReportInputs {
        period: Quarter::new(2024, 1).unwrap().window(WindowKind::Calendar),
        today: d("2024-04-20"),
        only: None,
        units: ["ok", "late", "quiet", "slow"]
            .map(unit)
            .into_iter()
            .chain([gone])
            .collect(),
        obligations: vec![monthly(1, "ok"), monthly(2, "late")],
        items: vec![
            item(1, "o1", "2024-01-10"),
            item(1, "o2", "2024-02-10"),
            item(1, "o3", "2024-03-10"),
            item(2, "l1", "2024-01-10"),
            item(2, "l2", "2024-02-10"),
        ],
        submissions: SubmissionCounts {
            received: counts(&[("ok", 3), ("late", 2), ("slow", 1), ("gone", 4)]),
            published: counts(&[("ok", 1)]),
            returned: counts(&[("late", 1)]),
            rejected: HashMap::new(),
        },
        questions: QuestionCounts {
            received: counts(&[("ok", 2), ("slow", 1)]),
            answered: vec![
                CountedAnswer {
                    unit: Some("ok".into()),
                    days: 2,
                    on_time: true,
                },
                CountedAnswer {
                    unit: None,
                    days: 9,
                    on_time: false,
                },
            ],
            answered_uncounted: vec![UncountedAnswer {
                unit: Some("ok".into()),
                // Monday to Thursday: three working days.
                received_at: at("2024-03-04"),
                answered_at: at("2024-03-07"),
                due_at: at("2024-03-01"),
            }],
            overdue_open: counts(&[("slow", 1)]),
        },
        calendar: Some(WorkingCalendar::new([])),
    }
}

fn row<'a>(report: &'a QuarterlyReport, code: &str) -> &'a UnitRow {
    report.units.iter().find(|r| r.unit.code == code).unwrap()
}

#[test]
fn each_unit_fails_the_rules_its_figures_break() {
    let report = build(inputs());
    let codes: Vec<&str> = report.units.iter().map(|r| r.unit.code.as_str()).collect();
    assert_eq!(codes, ["ok", "late", "quiet", "slow"], "gone left before");
    assert!(row(&report, "ok").compliant());
    assert_eq!(row(&report, "late").reasons, [Reason::ObligationMissed]);
    assert_eq!(row(&report, "quiet").reasons, [Reason::NoSubmissions]);
    assert_eq!(row(&report, "slow").reasons, [Reason::OverdueQuestions]);
    let late = &row(&report, "late").obligations;
    assert_eq!((late.due, late.met, late.missing), (3, 2, 1));
    let ok = &row(&report, "ok").questions;
    assert_eq!((ok.answered, ok.answered_on_time), (2, 1));
    assert_eq!(ok.median_working_days_to_answer, Some(2.5));
}

#[test]
fn the_failing_units_come_worst_first() {
    let mut inputs = inputs();
    // "slow" now also misses March; "quiet" leaves two questions overdue.
    inputs.obligations.push(monthly(3, "slow"));
    inputs.items.push(item(3, "s1", "2024-01-10"));
    inputs.items.push(item(3, "s2", "2024-02-10"));
    inputs.questions.overdue_open = counts(&[("slow", 1), ("quiet", 2)]);
    let report = build(inputs);
    // quiet and slow fail two rules each with a weight of two, so by code; late fails one.
    assert_eq!(report.non_compliant, ["quiet", "slow", "late"]);
}

#[test]
fn totals_sum_the_rows_and_take_the_median_of_every_answer() {
    let report = build(inputs());
    let t = &report.totals;
    assert_eq!((t.units, t.compliant), (4, 1));
    assert_eq!(t.submissions.received, 6, "gone's items are not in a row");
    assert_eq!((t.submissions.published, t.submissions.returned), (1, 1));
    assert_eq!((t.obligations.due, t.obligations.met), (6, 5));
    assert_eq!(t.obligations.missing, 1);
    assert_eq!((t.questions.received, t.questions.answered), (3, 2));
    assert_eq!(t.questions.overdue_open, 1);
    // 2 (ok), 9 (no unit), 3 (ok, counted here).
    assert_eq!(t.questions.median_working_days_to_answer, Some(3.0));

    let mut one = inputs();
    one.only = Some("ok".into());
    let report = build(one);
    assert_eq!(report.units.len(), 1);
    assert_eq!(
        report.totals.questions.median_working_days_to_answer,
        Some(2.5)
    );
}

#[test]
fn periods_not_yet_due_are_pending() {
    let mut inputs = inputs();
    inputs.today = d("2024-03-15");
    let report = build(inputs);
    let late = &row(&report, "late").obligations;
    assert_eq!((late.met, late.pending, late.missing), (2, 1, 0));
    assert!(row(&report, "late").compliant());
}
