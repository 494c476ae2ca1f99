//! The working-day calendar: holidays and deadline computation.

use actix_web::{delete, get, put, web, HttpResponse};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::Page;
use crate::auth::policy::Action;
use crate::auth::Principal;
use crate::domain::account::{parse_name, parse_text};
use crate::domain::calendar::{HolidayKind, SkippedDay};
use crate::error::{ApiError, FieldError, Problem};
use crate::service::calendar::{self as service, Holiday, HolidayInput, YEARS};
use crate::state::AppState;

/// Which year's calendar to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolidayQuery {
    /// Calendar year, 1900–9999; the current year in Vietnam when omitted.
    #[param(example = 2024, minimum = 1900, maximum = 9999)]
    pub year: Option<i32>,
}

/// A public holiday or a make-up working day.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayResponse {
    /// The day.
    pub date: NaiveDate,
    /// Its name.
    #[schema(example = "Tết Nguyên đán")]
    pub name: String,
    /// `holiday` (a day off) or `working_day` (a Saturday worked in exchange).
    pub kind: HolidayKind,
    /// The law or announcement that fixed it.
    pub source: String,
}

impl From<Holiday> for HolidayResponse {
    fn from(h: Holiday) -> Self {
        Self {
            date: h.date,
            name: h.name,
            kind: h.kind,
            source: h.source,
        }
    }
}

/// List the holidays and make-up working days of a year.
///
/// The whole year as one page (`next_cursor` is always null).
#[utoipa::path(
    tag = "calendar",
    params(HolidayQuery),
    responses(
        (status = 200, description = "The year's calendar exceptions, by date", body = Page<HolidayResponse>),
        (status = 400, description = "Unreadable year", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Year out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar/holidays")]
pub async fn list_holidays(
    state: web::Data<AppState>,
    query: Query<HolidayQuery>,
) -> Result<web::Json<Page<HolidayResponse>>, ApiError> {
    let holidays = service::list_holidays(&state, query.year).await?;
    Ok(web::Json(Page::complete(
        holidays.into_iter().map(HolidayResponse::from).collect(),
    )))
}

/// The start of a deadline and its length.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeadlineQuery {
    /// The day of the event (received, asked, ...); it is not counted.
    #[param(example = "2024-02-05")]
    pub from: NaiveDate,
    /// Working days allowed, 1–365.
    #[param(example = 5, minimum = 1, maximum = 365)]
    pub working_days: u32,
}

/// A deadline with the days it counted and skipped, so that it can be explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineResponse {
    /// The day of the event, not counted.
    pub from: NaiveDate,
    /// Working days allowed.
    pub working_days: u32,
    /// The last day allowed.
    #[schema(example = "2024-02-19")]
    pub due_date: NaiveDate,
    /// The end of the last day, 23:59:59 in Vietnam.
    #[schema(value_type = String, format = DateTime, example = "2024-02-19T23:59:59+07:00")]
    pub due_at: DateTime<FixedOffset>,
    /// Time zone of `due_at`.
    #[schema(example = "Asia/Ho_Chi_Minh")]
    pub time_zone: &'static str,
    /// The working days counted, in order.
    pub counted: Vec<NaiveDate>,
    /// The days passed over (weekends, holidays), in order, with the reason.
    pub skipped: Vec<SkippedDay>,
}

/// Compute a deadline in working days.
///
/// Counts `working_days` working days after `from` (Civil Code 2015 Art. 147: the day of the
/// event is not counted), skipping Saturdays, Sundays and public holidays, and counting
/// Saturdays declared make-up working days. The deadline is the end of the last counted day.
#[utoipa::path(
    tag = "calendar",
    params(DeadlineQuery),
    responses(
        (status = 200, description = "The deadline, with counted and skipped days", body = DeadlineResponse),
        (status = 400, description = "Missing or unreadable parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "working_days out of range, or a deadline after the year 9999", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar/deadline")]
pub async fn deadline(
    state: web::Data<AppState>,
    query: Query<DeadlineQuery>,
) -> Result<web::Json<DeadlineResponse>, ApiError> {
    let DeadlineQuery { from, working_days } = query.into_inner();
    let d = service::deadline(&state, from, working_days).await?;
    Ok(web::Json(DeadlineResponse {
        from: d.from,
        working_days: d.working_days,
        due_date: d.due_date,
        due_at: d.due_at,
        time_zone: "Asia/Ho_Chi_Minh",
        counted: d.counted,
        skipped: d.skipped,
    }))
}

/// A holiday or make-up working day to set on a date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutHolidayRequest {
    /// Its name.
    #[schema(example = "Quốc khánh (ngày liền kề)")]
    pub name: String,
    /// `holiday` (a day off) or `working_day` (a Saturday worked in exchange).
    pub kind: HolidayKind,
    /// The law or announcement that fixed it.
    #[serde(default)]
    pub source: String,
}

fn parse_date(raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
        .ok_or_else(|| {
            ApiError::InvalidParameter(FieldError::new("date", "must be a date as YYYY-MM-DD"))
        })
}

/// Set the holiday or make-up working day of a date, replacing what was there.
///
/// Deadlines computed after the change use it; questions already asked keep their due date.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("date" = NaiveDate, Path, pattern = "^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = "The day, YYYY-MM-DD, of the years 1900–9999", example = "2026-09-01")),
    request_body = PutHolidayRequest,
    responses(
        (status = 200, description = "Replaced", body = HolidayResponse),
        (status = 201, description = "Created", body = HolidayResponse),
        (status = 400, description = "Unreadable date", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/calendar/holidays/{date}")]
pub async fn put_holiday(
    state: web::Data<AppState>,
    principal: Principal,
    date: web::Path<String>,
    body: Json<PutHolidayRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageHolidays)?;
    let date = parse_date(&date)?;
    let req = body.into_inner();
    let mut errors = Vec::new();
    let name = parse_name(&req.name, 200)
        .map_err(|why| errors.push(FieldError::new("name", why)))
        .ok();
    let source = parse_text(&req.source, 500)
        .map_err(|why| errors.push(FieldError::new("source", why)))
        .ok();
    let (Some(name), Some(source)) = (name, source) else {
        return Err(ApiError::Validation(errors));
    };
    let holiday = HolidayInput {
        name,
        kind: req.kind,
        source,
    };
    let (created, holiday) = service::put_holiday(&state, date, holiday).await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(HolidayResponse::from(holiday)))
}

/// Remove the holiday or make-up working day of a date.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("date" = NaiveDate, Path, pattern = "^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description = "The day, YYYY-MM-DD, of the years 1900–9999", example = "2026-09-01")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Unreadable date", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/calendar/holidays/{date}")]
pub async fn delete_holiday(
    state: web::Data<AppState>,
    principal: Principal,
    date: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageHolidays)?;
    let date = parse_date(&date)?;
    service::delete_holiday(&state, date).await?;
    Ok(HttpResponse::NoContent().finish())
}
