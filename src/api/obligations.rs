//! Obligations and the status of their periods.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{Datelike, Days, NaiveDate};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::{double_option, Page};
use crate::auth::policy::{Action, Role};
use crate::auth::Principal;
use crate::db::obligations::{NewObligation, Obligation, ObligationChanges};
use crate::db::{self, DbConnection};
use crate::domain::account::parse_text;
use crate::domain::calendar::{day_start_utc, local_date};
use crate::domain::compliance::{self, Period, PeriodStatus};
use crate::domain::reference::Cadence;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;

/// A recurring duty of a unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationResponse {
    /// Identifier.
    pub id: i64,
    /// The unit that owes the items.
    pub unit: String,
    /// The category the items must be in; null for any.
    pub category: Option<String>,
    /// `monthly` or `quarterly`.
    pub cadence: Cadence,
    /// Items owed per period.
    pub min_items: i32,
    /// Day of the period's last month by which the items are due; null for its last day.
    pub due_day: Option<i32>,
    /// First day it applies.
    pub starts_on: NaiveDate,
    /// Last day it applies; null while it runs.
    pub ends_on: Option<NaiveDate>,
    /// What is owed.
    pub description: String,
}

impl From<Obligation> for ObligationResponse {
    fn from(o: Obligation) -> Self {
        Self {
            id: o.id,
            unit: o.unit,
            category: o.category,
            cadence: o.cadence,
            min_items: o.min_items,
            due_day: o.due_day,
            starts_on: o.starts_on,
            ends_on: o.ends_on,
            description: o.description,
        }
    }
}

/// The unit whose obligations a principal may read: its own for an officer, any for the board
/// and viewers (`None` = all, unless a unit is asked for).
fn readable_unit(principal: &Principal, asked: Option<String>) -> Result<Option<String>, ApiError> {
    if principal.can(Action::ReadAllStatistics) {
        return Ok(asked);
    }
    match (principal.role, &principal.unit) {
        (Role::Officer, Some(own)) if asked.as_ref().is_none_or(|a| a == own) => {
            Ok(Some(own.clone()))
        }
        (Role::Officer, Some(_)) => Err(ApiError::not_found("That unit's obligations")),
        _ => Err(ApiError::Forbidden),
    }
}

/// Which unit's obligations to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObligationQuery {
    /// Only this unit (officers: always their own).
    pub unit: Option<String>,
}

/// List obligations.
///
/// The whole list as one page (`next_cursor` is always null): there are a few per unit.
#[utoipa::path(
    tag = "obligations",
    security(("bearer" = [])),
    params(ObligationQuery),
    responses((status = 200, description = "The obligations", body = Page<ObligationResponse>))
)]
#[get("/obligations")]
pub async fn list_obligations(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<ObligationQuery>,
) -> Result<web::Json<Page<ObligationResponse>>, ApiError> {
    let unit = readable_unit(&principal, query.into_inner().unit)?;
    let list = state
        .read(move |conn| Ok(db::obligations::list(conn, unit.as_deref())?))
        .await?;
    Ok(web::Json(Page::complete(
        list.into_iter().map(Into::into).collect(),
    )))
}

/// A new obligation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateObligationRequest {
    /// The unit (active).
    #[schema(example = "so-khcn")]
    pub unit: String,
    /// The category; omit for any.
    pub category: Option<String>,
    /// `monthly` or `quarterly`.
    pub cadence: Cadence,
    /// Items owed per period, 1–1000 (default 1).
    #[schema(minimum = 1, maximum = 1000)]
    pub min_items: Option<i32>,
    /// Day of the period's last month by which the items are due, 1–31 (capped at the
    /// month's end); omit for the period's last day.
    #[schema(minimum = 1, maximum = 31)]
    pub due_day: Option<i32>,
    /// First day it applies.
    pub starts_on: NaiveDate,
    /// Last day it applies.
    pub ends_on: Option<NaiveDate>,
    /// What is owed.
    #[serde(default)]
    pub description: String,
}

/// Changes to an obligation; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateObligationRequest {
    /// Category; `null` for any.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// Cadence.
    pub cadence: Option<Cadence>,
    /// Items per period, 1–1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub min_items: Option<i32>,
    /// Due day; `null` for the period's last day.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 31)]
    pub due_day: Option<Option<i32>>,
    /// First day.
    pub starts_on: Option<NaiveDate>,
    /// Last day; `null` while it runs.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    /// Description.
    pub description: Option<String>,
}

fn check_numbers(min_items: Option<i32>, due_day: Option<i32>) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if min_items.is_some_and(|n| !(1..=1000).contains(&n)) {
        errors.push(FieldError::new("min_items", "must be from 1 to 1000"));
    }
    if due_day.is_some_and(|d| !(1..=31).contains(&d)) {
        errors.push(FieldError::new("due_day", "must be from 1 to 31"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn check_dates(starts_on: NaiveDate, ends_on: Option<NaiveDate>) -> Result<(), ApiError> {
    if !(2000..=2100).contains(&starts_on.year()) {
        return Err(ApiError::invalid_field(
            "starts_on",
            "must be a date from 2000 to 2100",
        ));
    }
    if ends_on.is_some_and(|e| e < starts_on) {
        return Err(ApiError::invalid_field(
            "ends_on",
            "must not be before starts_on",
        ));
    }
    Ok(())
}

fn check_category(conn: &mut DbConnection, category: Option<&str>) -> Result<(), ApiError> {
    match category {
        Some(code) if db::categories::find(conn, code)?.is_none() => Err(ApiError::invalid_field(
            "category",
            format!("no category has the code {code:?}"),
        )),
        _ => Ok(()),
    }
}

/// Create an obligation.
#[utoipa::path(
    tag = "obligations",
    security(("bearer" = [])),
    request_body = CreateObligationRequest,
    responses(
        (status = 201, description = "Created", body = ObligationResponse),
        (status = 422, description = "Invalid field, unknown category, unknown or deactivated unit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/obligations")]
pub async fn create_obligation(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateObligationRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageObligations)?;
    let req = body.into_inner();
    check_numbers(req.min_items, req.due_day)?;
    check_dates(req.starts_on, req.ends_on)?;
    let description = parse_text(&req.description, 2000)
        .map_err(|why| ApiError::invalid_field("description", why))?;
    let obligation = state
        .write(move |conn| {
            conn.transaction(|conn| {
                crate::auth::accounts::check_unit(conn, Role::Officer, Some(&req.unit))?;
                check_category(conn, req.category.as_deref())?;
                let now = db::now();
                let id = db::obligations::insert(
                    conn,
                    &NewObligation {
                        unit_code: &req.unit,
                        category_code: req.category.as_deref(),
                        cadence: req.cadence.as_str(),
                        min_items: req.min_items.unwrap_or(1),
                        due_day: req.due_day,
                        starts_on: req.starts_on,
                        ends_on: req.ends_on,
                        description: &description,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                db::obligations::find(conn, id)?.ok_or_else(|| ApiError::not_found("Obligation"))
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/obligations/{}", obligation.id)))
        .json(ObligationResponse::from(obligation)))
}

/// Change an obligation.
#[utoipa::path(
    tag = "obligations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Obligation id")),
    request_body = UpdateObligationRequest,
    responses(
        (status = 200, description = "The changed obligation", body = ObligationResponse),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
// Only numbers are ids, so `PATCH /obligations/status` is a method `status` does not allow.
#[patch("/obligations/{id:-?[0-9]+}")]
pub async fn update_obligation(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<UpdateObligationRequest>,
) -> Result<web::Json<ObligationResponse>, ApiError> {
    principal.require(Action::ManageObligations)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("Obligation"))?;
    let req = body.into_inner();
    check_numbers(req.min_items, req.due_day.flatten())?;
    let description = req
        .description
        .as_deref()
        .map(|d| parse_text(d, 2000).map_err(|why| ApiError::invalid_field("description", why)))
        .transpose()?;
    let obligation = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let current = db::obligations::find(conn, id)?
                    .ok_or_else(|| ApiError::not_found("Obligation"))?;
                check_category(conn, req.category.clone().flatten().as_deref())?;
                check_dates(
                    req.starts_on.unwrap_or(current.starts_on),
                    req.ends_on.unwrap_or(current.ends_on),
                )?;
                let changes = ObligationChanges {
                    category_code: req.category,
                    cadence: req.cadence.map(|c| c.as_str().to_string()),
                    min_items: req.min_items,
                    due_day: req.due_day,
                    starts_on: req.starts_on,
                    ends_on: req.ends_on,
                    description,
                    updated_at: Some(db::now()),
                };
                db::obligations::update(conn, id, &changes)?;
                db::obligations::find(conn, id)?.ok_or_else(|| ApiError::not_found("Obligation"))
            })
        })
        .await?;
    Ok(web::Json(obligation.into()))
}

/// One period of an obligation and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodStatusResponse {
    /// The obligation.
    pub obligation_id: i64,
    /// Its unit.
    pub unit: String,
    /// Its category, or null for any.
    pub category: Option<String>,
    /// The period: first day, last day, due date.
    pub period: Period,
    /// `met`, `late`, `missing` or `pending`.
    pub status: PeriodStatus,
    /// Items owed.
    pub min_items: i32,
    /// The submissions that count for the period, in submission order.
    pub items: Vec<String>,
}

/// The range of periods to report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Only this unit (officers: always their own).
    pub unit: Option<String>,
    /// Periods overlapping from this day (default: 1 January of this year).
    pub from: Option<NaiveDate>,
    /// Periods overlapping up to this day (default: today).
    pub to: Option<NaiveDate>,
}

/// Computes the status of every period of `obligations` overlapping `from`–`to`, as of `today`.
pub fn period_statuses(
    conn: &mut DbConnection,
    obligations: &[Obligation],
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<PeriodStatusResponse>, ApiError> {
    let mut out = Vec::new();
    for o in obligations {
        let periods = compliance::periods(
            o.cadence,
            o.due_day.map(|d| d as u32),
            o.starts_on,
            o.ends_on,
            from,
            to,
        );
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            continue;
        };
        let until = last
            .closes()
            .checked_add_days(Days::new(1))
            .unwrap_or(last.closes());
        let items = db::stats::obligation_items(
            conn,
            &o.unit,
            o.category.as_deref(),
            day_start_utc(first.from),
            day_start_utc(until),
        )?;
        let dated: Vec<(String, NaiveDate)> = items
            .into_iter()
            .map(|(id, at)| (id, local_date(at.and_utc())))
            .collect();
        for period in periods {
            let counting: Vec<&(String, NaiveDate)> = dated
                .iter()
                .filter(|(_, d)| *d >= period.from && *d <= period.closes())
                .collect();
            let dates: Vec<NaiveDate> = counting.iter().map(|(_, d)| *d).collect();
            out.push(PeriodStatusResponse {
                obligation_id: o.id,
                unit: o.unit.clone(),
                category: o.category.clone(),
                status: compliance::status(&period, o.min_items.max(1) as u32, &dates, today),
                period,
                min_items: o.min_items,
                items: counting.into_iter().map(|(id, _)| id.clone()).collect(),
            });
        }
    }
    Ok(out)
}

/// The status of every obligation period in a range.
///
/// A submission counts for a period when it is of the obligation's unit and category (any
/// category when the obligation names none), it is not rejected, and its first submission
/// falls on a day from the period's first day to the day the period closes (its last day, or its
/// due date if later); days are Vietnamese calendar days. With `n` = `min_items`: `met` when
/// `n` items were first submitted on or before the due date; `late` when `n` items count but the
/// `n`-th earliest came after the due date; `pending` when neither holds and the due date has
/// not passed; `missing` otherwise.
#[utoipa::path(
    tag = "obligations",
    security(("bearer" = [])),
    params(StatusQuery),
    responses(
        (status = 200, description = "The periods, by obligation then date", body = Page<PeriodStatusResponse>),
        (status = 400, description = "Unreadable or too long range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/obligations/status")]
pub async fn obligation_status(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<StatusQuery>,
) -> Result<web::Json<Page<PeriodStatusResponse>>, ApiError> {
    let query = query.into_inner();
    let unit = readable_unit(&principal, query.unit)?;
    let today = local_date(state.now().and_utc());
    let to = query.to.unwrap_or(today);
    let from = query
        .from
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
    if from > to || (to - from).num_days() > 5 * 366 {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "from",
            "must be on or before `to`, at most five years earlier",
        )));
    }
    let statuses = state
        .read(move |conn| {
            let obligations = db::obligations::list(conn, unit.as_deref())?;
            period_statuses(conn, &obligations, from, to, today)
        })
        .await?;
    Ok(web::Json(Page::complete(statuses)))
}
