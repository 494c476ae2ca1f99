//! The statistics use cases: the quarterly compliance report and the dashboard counters.
//!
//! The report reads its inputs with a fixed number of queries, whatever the number of units
//! and obligations, and leaves every rule to [`crate::domain::compliance::report`].

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use chrono::{NaiveDate, NaiveDateTime};

use crate::db::{self, DbConnection};
use crate::domain::access::{Action, Principal, UnitScope};
use crate::domain::calendar::{day_start_utc, local_date, WorkingCalendar};
use crate::domain::compliance::report::{
    self, QuarterlyReport, QuestionCounts, ReportInputs, ReportUnit, SubmissionCounts,
};
use crate::domain::compliance::{Obligation, ObligationItem};
use crate::domain::period::{Month, ReportPeriod};
use crate::error::ApiError;
use crate::service::obligations::obligations_with_items;
use crate::state::AppState;

/// The unit whose row a principal may see: every unit's (`None`), or an officer's own.
fn report_scope(principal: &Principal) -> Result<Option<String>, ApiError> {
    match principal.unit_scope(None) {
        UnitScope::All => Ok(None),
        UnitScope::One(unit) => Ok(Some(unit)),
        UnitScope::OtherUnit | UnitScope::None => Err(ApiError::Forbidden),
    }
}

/// Submissions received, published, returned and rejected in `[from, to)`: one query.
fn read_submissions(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<SubmissionCounts, ApiError> {
    Ok(db::stats::submission_counts(conn, from, to)?)
}

/// The question figures of `[from, to)` (four queries), and the working calendar for the
/// answers whose working days were not recorded (one more query, when there are any).
fn read_questions(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<(QuestionCounts, Option<WorkingCalendar>), ApiError> {
    let questions = db::stats::question_figures(conn, from, to)?;
    let calendar = match questions.calendar_days() {
        Some((first, last)) => Some(db::holidays::calendar(conn, first, last)?),
        None => None,
    };
    Ok((questions, calendar))
}

/// Every unit, and the obligations with the submissions that may count for them.
struct Duties {
    units: Vec<ReportUnit>,
    obligations: Vec<Obligation>,
    items: Vec<ObligationItem>,
}

/// The units, the obligations (of `only`, or all) and the submissions that may count for
/// their periods overlapping `from`–`to`: four queries.
fn read_duties(
    conn: &mut DbConnection,
    only: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Duties, ApiError> {
    let units = db::units::list(conn, Default::default())?
        .into_iter()
        .map(|u| ReportUnit {
            code: u.code,
            name: u.name,
            kind: u.kind,
            active: u.active,
            successors: u.successors,
            deactivated_at: u.deactivated_at,
        })
        .collect();
    let (obligations, items) = obligations_with_items(conn, only, from, to)?;
    Ok(Duties {
        units,
        obligations,
        items,
    })
}

/// Builds the report of `period` (only `only`'s row, if given) as of `today`, reading its
/// inputs on one connection one after another.
pub fn quarterly_report_on(
    conn: &mut DbConnection,
    period: ReportPeriod,
    only: Option<String>,
    today: NaiveDate,
) -> Result<QuarterlyReport, ApiError> {
    let (from, to) = report::window_bounds(&period);
    let submissions = read_submissions(conn, from, to)?;
    let questions = read_questions(conn, from, to)?;
    let duties = read_duties(conn, only.as_deref(), period.from, period.to)?;
    Ok(build(period, today, only, submissions, questions, duties))
}

/// Hands what was read to the rules of the report.
fn build(
    period: ReportPeriod,
    today: NaiveDate,
    only: Option<String>,
    submissions: SubmissionCounts,
    (questions, calendar): (QuestionCounts, Option<WorkingCalendar>),
    duties: Duties,
) -> QuarterlyReport {
    report::build(ReportInputs {
        period,
        today,
        only,
        units: duties.units,
        obligations: duties.obligations,
        items: duties.items,
        submissions,
        questions,
        calendar,
    })
}

/// The quarterly statistics and compliance report of `period` as `principal` may see it:
/// every unit for the board and viewers, an officer's own unit's row for an officer.
///
/// Its three groups of reads run side by side on three connections.
pub async fn quarterly_report(
    state: &AppState,
    principal: &Principal,
    period: ReportPeriod,
) -> Result<QuarterlyReport, ApiError> {
    let only = report_scope(principal)?;
    let today = local_date(state.now().and_utc());
    let (from, to) = report::window_bounds(&period);
    let unit = only.clone();
    let (submissions, (questions, duties)) = both(
        state.read(move |conn| read_submissions(conn, from, to)),
        both(
            state.read(move |conn| read_questions(conn, from, to)),
            state.read(move |conn| read_duties(conn, unit.as_deref(), period.from, period.to)),
        ),
    )
    .await;
    Ok(build(
        period,
        today,
        only,
        submissions?,
        questions?,
        duties?,
    ))
}

/// Awaits two futures together, so that two reads run at the same time.
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut first, mut second) = (None, None);
    std::future::poll_fn(move |cx| {
        if first.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                first = Some(out);
            }
        }
        if second.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                second = Some(out);
            }
        }
        match (first.take(), second.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (first, second) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}

/// Live counters for dashboards as of now, for those who read every unit's statistics.
pub async fn overview(
    state: &AppState,
    principal: &Principal,
) -> Result<db::stats::Overview, ApiError> {
    principal.require(Action::ReadAllStatistics)?;
    let now = state.now();
    let month_start = day_start_utc(Month::containing(local_date(now.and_utc())).first_day());
    state
        .read(move |conn| Ok(db::stats::overview(conn, now, month_start)?))
        .await
}
