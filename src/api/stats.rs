//! The quarterly compliance report and the dashboard overview.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::obligations::period_statuses;
use crate::auth::policy::{Action, Role};
use crate::auth::Principal;
use crate::db::{self, units::Unit, DbConnection};
use crate::domain::calendar::{day_start_utc, local_date};
use crate::domain::compliance::{self, PeriodStatus, Reason};
use crate::domain::export::csv_text;
use crate::domain::period::{Month, Quarter, ReportPeriod, WindowKind};
use crate::domain::reference::UnitKind;
use crate::error::{ApiError, FieldError, Problem};
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

/// Whether the unit was active at some time in the window starting at `from`.
fn in_window(unit: &Unit, from: chrono::NaiveDateTime) -> bool {
    unit.active || unit.deactivated_at.is_some_and(|t| t >= from)
}

/// The window as UTC instants `[from, to)`.
fn window_bounds(period: &ReportPeriod) -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
    let from = day_start_utc(period.from);
    let to = day_start_utc(
        period
            .to
            .checked_add_days(Days::new(1))
            .unwrap_or(period.to),
    );
    (from, to)
}

/// The window's submission and question figures, the report's two large reads.
struct Figures {
    submissions: db::stats::SubmissionCounts,
    questions: db::stats::QuestionFigures,
}

impl Figures {
    /// Reads both at once, on two connections.
    async fn read(pool: &db::DbPool, period: &ReportPeriod) -> Result<Self, ApiError> {
        let (from, to) = window_bounds(period);
        let other = pool.clone();
        let questions = actix_web::rt::spawn(async move {
            db::run::<_, ApiError, _>(&other, move |conn| {
                Ok(db::stats::question_figures(conn, from, to)?)
            })
            .await
        });
        let submissions = db::run::<_, ApiError, _>(pool, move |conn| {
            Ok(db::stats::submission_counts(conn, from, to)?)
        })
        .await?;
        let questions = questions
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("report task failed: {e}")))??;
        Ok(Self {
            submissions,
            questions,
        })
    }
}

/// Builds the report from the window's figures. `only` restricts it to one unit (an
/// officer's).
fn build_report(
    conn: &mut DbConnection,
    period: ReportPeriod,
    only: Option<&str>,
    today: NaiveDate,
    figures: Figures,
) -> Result<QuarterlyReport, ApiError> {
    let (from, _) = window_bounds(&period);
    let units: Vec<Unit> = db::units::list(conn, Default::default())?
        .into_iter()
        .filter(|u| in_window(u, from) && only.is_none_or(|o| o == u.code))
        .collect();
    let Figures {
        submissions,
        questions,
    } = figures;

    // Obligation periods that end inside the window.
    let obligations = db::obligations::list(conn, only)?;
    let statuses = period_statuses(conn, &obligations, period.from, period.to, today)?;
    let mut per_unit_obligations: HashMap<String, ObligationFigures> = HashMap::new();
    for s in statuses
        .iter()
        .filter(|s| s.period.to >= period.from && s.period.to <= period.to)
    {
        let f = per_unit_obligations.entry(s.unit.clone()).or_default();
        f.due += 1;
        match s.status {
            PeriodStatus::Met => f.met += 1,
            PeriodStatus::Late => f.late += 1,
            PeriodStatus::Missing => f.missing += 1,
            PeriodStatus::Pending => f.pending += 1,
        }
    }

    // Working days from receipt to first reply, by unit: as recorded with each first reply,
    // or counted here for answers from before that was recorded.
    let calendar = match (
        questions
            .answered_uncounted
            .iter()
            .map(|a| a.received_at)
            .min(),
        questions
            .answered_uncounted
            .iter()
            .map(|a| a.answered_at)
            .max(),
    ) {
        (Some(first), Some(last)) => Some(db::holidays::calendar(
            conn,
            local_date(first.and_utc()),
            local_date(last.and_utc()),
        )?),
        _ => None,
    };
    let uncounted = questions.answered_uncounted.iter().map(|a| {
        let days = calendar.as_ref().map_or(0, |c| {
            c.working_days_between(a.received_at.and_utc(), a.answered_at.and_utc())
        });
        (a.unit.as_ref(), days, a.answered_at <= a.due_at)
    });
    let counted = questions
        .answered
        .iter()
        .map(|a| (a.unit.as_ref(), i64::from(a.days), a.on_time != 0));
    let mut answered: HashMap<String, (i64, i64, Vec<f64>)> = HashMap::new();
    let mut all_days = Vec::new();
    for (unit, days, on_time) in counted.chain(uncounted) {
        let days = days as f64;
        all_days.push(days);
        let Some(unit) = unit else { continue };
        let entry = match answered.get_mut(unit) {
            Some(entry) => entry,
            None => answered.entry(unit.clone()).or_default(),
        };
        entry.0 += 1;
        if on_time {
            entry.1 += 1;
        }
        entry.2.push(days);
    }

    let get = |m: &HashMap<String, i64>, u: &str| m.get(u).copied().unwrap_or(0);
    let mut rows = Vec::new();
    for unit in units {
        let code = unit.code.clone();
        let subs = SubmissionFigures {
            received: get(&submissions.received, &code),
            published: get(&submissions.published, &code),
            returned: get(&submissions.returned, &code),
            rejected: get(&submissions.rejected, &code),
        };
        let obl = per_unit_obligations.remove(&code).unwrap_or_default();
        let (n_answered, on_time, mut days) = answered.remove(&code).unwrap_or_default();
        let q = QuestionFigures {
            received: get(&questions.received, &code),
            answered: n_answered,
            answered_on_time: on_time,
            overdue_open: get(&questions.overdue_open, &code),
            median_working_days_to_answer: compliance::median(&mut days),
        };
        let reasons = compliance::reasons(
            (obl.late + obl.missing) as u64,
            subs.received as u64,
            q.overdue_open as u64,
        );
        rows.push(UnitReport {
            unit: unit.code,
            name: unit.name,
            kind: unit.kind,
            active: unit.active,
            successors: unit.successors,
            submissions: subs,
            obligations: obl,
            questions: q,
            compliance: if reasons.is_empty() {
                Compliance::Compliant
            } else {
                Compliance::NonCompliant
            },
            reasons,
        });
    }

    let mut totals = Totals {
        units: rows.len() as i64,
        ..Default::default()
    };
    for r in &rows {
        totals.compliant += i64::from(r.compliance == Compliance::Compliant);
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
    totals.questions.median_working_days_to_answer = if only.is_some() {
        rows.first()
            .and_then(|r| r.questions.median_working_days_to_answer)
    } else {
        compliance::median(&mut all_days)
    };

    // Worst first: most failed rules, then most missed periods and overdue questions.
    let mut failing: Vec<&UnitReport> = rows
        .iter()
        .filter(|r| r.compliance == Compliance::NonCompliant)
        .collect();
    failing.sort_by(|a, b| {
        let weight = |r: &UnitReport| {
            (
                r.reasons.len(),
                r.obligations.missing + r.obligations.late + r.questions.overdue_open,
            )
        };
        weight(b).cmp(&weight(a)).then_with(|| a.unit.cmp(&b.unit))
    });
    let non_compliant = failing.iter().map(|r| r.unit.clone()).collect();
    Ok(QuarterlyReport {
        period,
        units: rows,
        totals,
        non_compliant,
    })
}

fn csv_report(report: &QuarterlyReport) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "unit",
            "name",
            "kind",
            "active",
            "successors",
            "submissions_received",
            "submissions_published",
            "submissions_returned",
            "submissions_rejected",
            "obligations_due",
            "obligations_met",
            "obligations_late",
            "obligations_missing",
            "obligations_pending",
            "questions_received",
            "questions_answered",
            "questions_answered_on_time",
            "questions_overdue_open",
            "median_working_days_to_answer",
            "compliance",
            "reasons",
        ])
        .map_err(anyhow::Error::from)?;
        for r in &report.units {
            let (s, o, q) = (&r.submissions, &r.obligations, &r.questions);
            // Unit names are typed by people; every text cell goes through `csv_text`, numbers
            // and true/false do not.
            w.write_record([
                csv_text(&r.unit).into_owned(),
                csv_text(&r.name).into_owned(),
                csv_text(r.kind.as_str()).into_owned(),
                r.active.to_string(),
                csv_text(&r.successors.join(";")).into_owned(),
                s.received.to_string(),
                s.published.to_string(),
                s.returned.to_string(),
                s.rejected.to_string(),
                o.due.to_string(),
                o.met.to_string(),
                o.late.to_string(),
                o.missing.to_string(),
                o.pending.to_string(),
                q.received.to_string(),
                q.answered.to_string(),
                q.answered_on_time.to_string(),
                q.overdue_open.to_string(),
                q.median_working_days_to_answer
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                csv_text(match r.compliance {
                    Compliance::Compliant => "compliant",
                    Compliance::NonCompliant => "non_compliant",
                })
                .into_owned(),
                csv_text(
                    &r.reasons
                        .iter()
                        .map(Reason::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                )
                .into_owned(),
            ])
            .map_err(anyhow::Error::from)?;
        }
        w.flush().map_err(anyhow::Error::from)?;
    }
    Ok(out)
}

fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ApiError::InvalidParameter(FieldError::new(
            "format",
            "must be json or csv",
        ))),
        None => Ok(req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))),
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
    let only = if principal.can(Action::ReadAllStatistics) {
        None
    } else {
        match (principal.role, &principal.unit) {
            (Role::Officer, Some(own)) => Some(own.clone()),
            _ => return Err(ApiError::Forbidden),
        }
    };
    let quarter = Quarter::new(query.year, query.quarter).ok_or_else(|| {
        ApiError::InvalidParameter(FieldError::new(
            "quarter",
            "year must be 1900–9999 and quarter 1–4",
        ))
    })?;
    let csv = wants_csv(&req, query.format.as_deref())?;
    let period = quarter.window(query.window.unwrap_or_default());
    let today = local_date(state.now().and_utc());
    let figures = Figures::read(&state.pool, &period).await?;
    let report = state
        .read(move |conn| build_report(conn, period, only.as_deref(), today, figures))
        .await?;
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
            .body(csv_report(&report)?))
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
    principal.require(Action::ReadAllStatistics)?;
    let now = state.now();
    let month_start = day_start_utc(Month::containing(local_date(now.and_utc())).first_day());
    let o = state
        .read(move |conn| Ok(db::stats::overview(conn, now, month_start)?))
        .await?;
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
