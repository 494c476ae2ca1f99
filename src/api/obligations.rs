//! Obligations and the status of their periods.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::{double_option, Page};
use crate::auth::Principal;
use crate::domain::compliance::{Obligation, Period, PeriodReport, PeriodStatus, Reminded};
use crate::domain::reference::Cadence;
use crate::error::{ApiError, Problem};
use crate::service::obligations::{self as service, NewObligationRequest, ObligationUpdate};
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
    let unit = query.into_inner().unit;
    let list = service::list(&state, &principal, unit.as_deref()).await?;
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
    let req = body.into_inner();
    let new = NewObligationRequest {
        unit: req.unit,
        category: req.category,
        cadence: req.cadence,
        min_items: req.min_items,
        due_day: req.due_day,
        starts_on: req.starts_on,
        ends_on: req.ends_on,
        description: req.description,
    };
    let obligation = service::create(&state, &principal, new).await?;
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
    let req = body.into_inner();
    let changes = ObligationUpdate {
        category: req.category,
        cadence: req.cadence,
        min_items: req.min_items,
        due_day: req.due_day,
        starts_on: req.starts_on,
        ends_on: req.ends_on,
        description: req.description,
    };
    let obligation = service::update(&state, &principal, &id, changes).await?;
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
    /// When the unit was mailed a reminder, some working days before the due date, because
    /// the period was not met yet; null when it was not.
    pub reminded_at: Option<DateTime<Utc>>,
    /// When the unit and the editors were mailed that the period was missed; null when they
    /// were not.
    pub missed_notice_at: Option<DateTime<Utc>>,
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

impl From<(PeriodReport, Reminded)> for PeriodStatusResponse {
    fn from((p, reminded): (PeriodReport, Reminded)) -> Self {
        Self {
            reminded_at: reminded.due_soon.map(|t| t.and_utc()),
            missed_notice_at: reminded.missed.map(|t| t.and_utc()),
            obligation_id: p.obligation_id,
            unit: p.unit,
            category: p.category,
            period: p.period,
            status: p.status,
            min_items: p.min_items,
            items: p.items,
        }
    }
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
    let statuses = service::statuses(
        &state,
        &principal,
        query.unit.as_deref(),
        query.from,
        query.to,
    )
    .await?;
    Ok(web::Json(Page::complete(
        statuses.into_iter().map(Into::into).collect(),
    )))
}
