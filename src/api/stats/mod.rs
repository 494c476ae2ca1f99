//! The quarterly compliance report and the dashboard overview.

mod csv;

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use self::csv::wants_csv;
use super::extract::Query;
use crate::auth::Principal;
use crate::domain::compliance::{report, Reason};
use crate::domain::period::{Quarter, ReportPeriod, WindowKind};
use crate::domain::reference::UnitKind;
use crate::error::{ApiError, FieldError, Problem};
use crate::service;
use crate::state::AppState;

/// Which quarter, over which window, in which format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuarterlyQuery {
    /// The year.
    #[param(example = 2024, minimum = 1900, maximum = 9999)]
    pub year: i32,
    /// The quarter, 1–4.
    #[param(example = 1, minimum = 1, maximum = 4)]
    pub quarter: u8,
    /// `reporting` (default): 15th of the month before the quarter to the 14th of its last
    /// month (Decree 09/2019/NĐ-CP); `calendar`: the calendar quarter.
    pub window: Option<WindowKind>,
    /// `json` (default) or `csv` (also chosen by `Accept: text/csv`).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// Submissions of a unit in the window.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct SubmissionFigures {
    /// First submitted in the window.
    pub received: i64,
    /// Published in the window.
    pub published: i64,
    /// Returned to the unit in the window.
    pub returned: i64,
    /// Rejected in the window.
    pub rejected: i64,
}

/// Obligation periods of a unit ending in the window.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ObligationFigures {
    /// Periods ending in the window.
    pub due: i64,
    /// Of those, met.
    pub met: i64,
    /// Late.
    pub late: i64,
    /// Missing.
    pub missing: i64,
    /// Not yet due.
    pub pending: i64,
}

/// Questions assigned to a unit.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct QuestionFigures {
    /// Received in the window.
    pub received: i64,
    /// First answered in the window.
    pub answered: i64,
    /// Of those, answered by their due time.
    pub answered_on_time: i64,
    /// Not answered (nor rejected) and past due at the window's end.
    pub overdue_open: i64,
    /// Median working days from receipt to first reply, of those answered in the window; each
    /// answer's days are counted when it is given, with the calendar of that day.
    pub median_working_days_to_answer: Option<f64>,
}

/// Compliant or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    /// Every rule holds.
    Compliant,
    /// At least one rule fails; see `reasons`.
    NonCompliant,
}

/// One unit's row of the report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitReport {
    /// Unit code.
    pub unit: String,
    /// Name.
    pub name: String,
    /// Department or district.
    pub kind: UnitKind,
    /// False once merged or dissolved.
    pub active: bool,
    /// The units that took over its duties.
    pub successors: Vec<String>,
    /// Submissions.
    pub submissions: SubmissionFigures,
    /// Obligations.
    pub obligations: ObligationFigures,
    /// Questions.
    pub questions: QuestionFigures,
    /// The verdict.
    pub compliance: Compliance,
    /// The failed rules: `obligation_missed`, `no_submissions`, `overdue_questions`.
    pub reasons: Vec<Reason>,
}

/// The whole-province sums.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Totals {
    /// Units in the report.
    pub units: i64,
    /// Of those, compliant.
    pub compliant: i64,
    /// Submissions.
    pub submissions: SubmissionFigures,
    /// Obligations.
    pub obligations: ObligationFigures,
    /// Questions (the median over every question answered in the window).
    pub questions: QuestionFigures,
}

/// The quarterly statistics report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuarterlyReport {
    /// The window and the report's due date.
    pub period: ReportPeriod,
    /// One row per unit active at any time in the window.
    pub units: Vec<UnitReport>,
    /// Sums over the rows.
    pub totals: Totals,
    /// The non-compliant units' codes, worst first.
    pub non_compliant: Vec<String>,
}

impl From<report::SubmissionFigures> for SubmissionFigures {
    fn from(f: report::SubmissionFigures) -> Self {
        Self {
            received: f.received,
            published: f.published,
            returned: f.returned,
            rejected: f.rejected,
        }
    }
}

impl From<report::ObligationFigures> for ObligationFigures {
    fn from(f: report::ObligationFigures) -> Self {
        Self {
            due: f.due,
            met: f.met,
            late: f.late,
            missing: f.missing,
            pending: f.pending,
        }
    }
}

impl From<report::QuestionFigures> for QuestionFigures {
    fn from(f: report::QuestionFigures) -> Self {
        Self {
            received: f.received,
            answered: f.answered,
            answered_on_time: f.answered_on_time,
            overdue_open: f.overdue_open,
            median_working_days_to_answer: f.median_working_days_to_answer,
        }
    }
}

impl From<report::UnitRow> for UnitReport {
    fn from(r: report::UnitRow) -> Self {
        Self {
            compliance: if r.compliant() {
                Compliance::Compliant
            } else {
                Compliance::NonCompliant
            },
            unit: r.unit.code,
            name: r.unit.name,
            kind: r.unit.kind,
            active: r.unit.active,
            successors: r.unit.successors,
            submissions: r.submissions.into(),
            obligations: r.obligations.into(),
            questions: r.questions.into(),
            reasons: r.reasons,
        }
    }
}

impl From<report::QuarterlyReport> for QuarterlyReport {
    fn from(r: report::QuarterlyReport) -> Self {
        let t = r.totals;
        Self {
            period: r.period,
            units: r.units.into_iter().map(Into::into).collect(),
            totals: Totals {
                units: t.units,
                compliant: t.compliant,
                submissions: t.submissions.into(),
                obligations: t.obligations.into(),
                questions: t.questions.into(),
            },
            non_compliant: r.non_compliant,
        }
    }
}

/// The quarterly statistics and compliance report.
///
/// Per unit (every unit active at some time in the window; deactivated ones with their
/// successors): submissions received (first submitted), published, returned and rejected in
/// the window; obligation periods ending in the window by status; questions received, first
/// answered (and on time), overdue and open at the window's end, and the median working days
/// to the first reply. A unit is compliant when no obligation period is late or missing
/// (`obligation_missed`), it submitted at least one item in the window (`no_submissions`), and
/// none of its questions was overdue at the window's end (`overdue_questions`).
/// Viewers, editors and admins see every unit; an officer, its own unit's row.
///
/// The CSV (UTF-8 with a byte order mark) has the JSON's figures; a text cell that begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return starts with an added `'`, so that a
/// spreadsheet shows it as text rather than running it as a formula.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(QuarterlyQuery),
    responses(
        (status = 200, description = "The report; as CSV (UTF-8 with BOM, one row per unit) with `format=csv` or `Accept: text/csv`",
            content((QuarterlyReport = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Unreadable year, quarter, window or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/quarterly")]
pub async fn quarterly(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: Query<QuarterlyQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let quarter = Quarter::new(query.year, query.quarter).ok_or_else(|| {
        ApiError::InvalidParameter(FieldError::new(
            "quarter",
            "year must be 1900–9999 and quarter 1–4",
        ))
    })?;
    let csv = wants_csv(&req, query.format.as_deref())?;
    let period = quarter.window(query.window.unwrap_or_default());
    let report =
        QuarterlyReport::from(service::report::quarterly_report(&state, &principal, period).await?);
    if csv {
        let filename = format!(
            "thong-ke-quy-{}-{}-{}.csv",
            period.quarter,
            period.year,
            period.window.as_str()
        );
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(csv::report(&report)?))
    } else {
        Ok(HttpResponse::Ok().json(report))
    }
}

/// Live counters for dashboards.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewResponse {
    /// Submissions by status.
    pub submissions_by_status: HashMap<String, i64>,
    /// Questions waiting for an answer.
    pub questions_open: i64,
    /// Of those, past their due time.
    pub questions_overdue: i64,
    /// Questions first answered this month (Vietnam time).
    pub questions_answered_this_month: i64,
    /// The units with the most overdue questions, most first (up to 5).
    pub most_overdue_units: Vec<UnitCount>,
}

/// A unit and a count.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitCount {
    /// Unit code.
    pub unit: String,
    /// How many.
    pub count: i64,
}

/// Live counters for dashboards.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    responses((status = 200, description = "The counters", body = OverviewResponse))
)]
#[get("/stats/overview")]
pub async fn overview(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<web::Json<OverviewResponse>, ApiError> {
    let o = service::report::overview(&state, &principal).await?;
    Ok(web::Json(OverviewResponse {
        submissions_by_status: o.submissions_by_status.into_iter().collect(),
        questions_open: o.questions_open,
        questions_overdue: o.questions_overdue,
        questions_answered_this_month: o.questions_answered_this_month,
        most_overdue_units: o
            .most_overdue
            .into_iter()
            .map(|(unit, count)| UnitCount { unit, count })
            .collect(),
    }))
}
