//! The obligation use cases: list, create and change obligations, and the status of their
//! periods.

use chrono::{Datelike, NaiveDate};
use diesel::Connection;

use crate::db::obligations::{NewObligation, ObligationChanges};
use crate::db::{self, DbConnection};
use crate::domain::access::{Action, Principal, Role, UnitScope};
use crate::domain::account::parse_text;
use crate::domain::calendar::{day_start_utc, local_date};
use crate::domain::compliance::{
    item_days, period_statuses, Obligation, ObligationItem, PeriodReport, Reminded,
};
use crate::domain::reference::Cadence;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The unit whose obligations a principal may read: its own for an officer, any for the board
/// and viewers (`None` = all, unless a unit is asked for).
fn readable_unit(principal: &Principal, asked: Option<&str>) -> Result<Option<String>, ApiError> {
    match principal.unit_scope(asked) {
        UnitScope::All => Ok(None),
        UnitScope::One(unit) => Ok(Some(unit)),
        UnitScope::OtherUnit => Err(ApiError::not_found("That unit's obligations")),
        UnitScope::None => Err(ApiError::Forbidden),
    }
}

/// The obligations (of `unit`, or all) and the submissions that may count for their periods
/// overlapping `from`–`to`: two queries, however many obligations there are.
pub fn obligations_with_items(
    conn: &mut DbConnection,
    unit: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<Obligation>, Vec<ObligationItem>), ApiError> {
    let obligations = db::obligations::list(conn, unit)?;
    let items = match item_days(&obligations, from, to) {
        Some((first, after)) => {
            db::stats::obligation_items(conn, unit, day_start_utc(first), day_start_utc(after))?
        }
        None => Vec::new(),
    };
    Ok((obligations, items))
}

/// The obligations `principal` may read, of the unit asked for or all, by id.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    unit: Option<&str>,
) -> Result<Vec<Obligation>, ApiError> {
    let unit = readable_unit(principal, unit)?;
    state
        .read(move |conn| Ok(db::obligations::list(conn, unit.as_deref())?))
        .await
}

/// A new obligation, as asked for.
#[derive(Debug, Clone)]
pub struct NewObligationRequest {
    /// The unit (active).
    pub unit: String,
    /// The category, or any.
    pub category: Option<String>,
    /// Monthly or quarterly.
    pub cadence: Cadence,
    /// Items owed per period, 1–1000; 1 when not given.
    pub min_items: Option<i32>,
    /// Due day of the period's last month, 1–31; the period's last day when not given.
    pub due_day: Option<i32>,
    /// First day it applies.
    pub starts_on: NaiveDate,
    /// Last day it applies.
    pub ends_on: Option<NaiveDate>,
    /// What is owed.
    pub description: String,
}

/// Changes to an obligation: `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ObligationUpdate {
    /// Category; `Some(None)` for any.
    pub category: Option<Option<String>>,
    /// Cadence.
    pub cadence: Option<Cadence>,
    /// Items per period, 1–1000.
    pub min_items: Option<i32>,
    /// Due day; `Some(None)` for the period's last day.
    pub due_day: Option<Option<i32>>,
    /// First day.
    pub starts_on: Option<NaiveDate>,
    /// Last day; `Some(None)` while it runs.
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

fn description(text: &str) -> Result<String, ApiError> {
    parse_text(text, 2000).map_err(|why| ApiError::invalid_field("description", why))
}

/// Creates an obligation of an active unit (the board only).
pub async fn create(
    state: &AppState,
    principal: &Principal,
    req: NewObligationRequest,
) -> Result<Obligation, ApiError> {
    principal.require(Action::ManageObligations)?;
    check_numbers(req.min_items, req.due_day)?;
    check_dates(req.starts_on, req.ends_on)?;
    let description = description(&req.description)?;
    let now = state.now();
    state
        .write(move |conn| {
            conn.transaction(|conn| {
                crate::references::check_unit(conn, Role::Officer, Some(&req.unit))?;
                check_category(conn, req.category.as_deref())?;
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
        .await
}

/// Changes an obligation (the board only). `id` is as given in the path: one that is not a
/// number names no obligation.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    req: ObligationUpdate,
) -> Result<Obligation, ApiError> {
    principal.require(Action::ManageObligations)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("Obligation"))?;
    check_numbers(req.min_items, req.due_day.flatten())?;
    let description = req.description.as_deref().map(description).transpose()?;
    let now = state.now();
    state
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
                    updated_at: Some(now),
                };
                db::obligations::update(conn, id, &changes)?;
                db::obligations::find(conn, id)?.ok_or_else(|| ApiError::not_found("Obligation"))
            })
        })
        .await
}

/// The status of every period overlapping `from`–`to` of the obligations `principal` may
/// read (of the unit asked for, or all), as of today: by default from 1 January of `to`'s
/// year to today, at most five years.
pub async fn statuses(
    state: &AppState,
    principal: &Principal,
    unit: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<(PeriodReport, Reminded)>, ApiError> {
    let unit = readable_unit(principal, unit)?;
    let today = local_date(state.now().and_utc());
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to));
    if from > to || (to - from).num_days() > 5 * 366 {
        return Err(ApiError::InvalidParameter(FieldError::new(
            "from",
            "must be on or before `to`, at most five years earlier",
        )));
    }
    state
        .read(move |conn| {
            let (obligations, items) = obligations_with_items(conn, unit.as_deref(), from, to)?;
            let reports = period_statuses(&obligations, &items, from, to, today);
            let ids: Vec<i64> = obligations.iter().map(|o| o.id).collect();
            let first = reports.iter().map(|r| r.period.from).min().unwrap_or(from);
            let reminded = db::reminders::of_periods(conn, &ids, first, to)?;
            Ok(reports
                .into_iter()
                .map(|r| {
                    let sent = reminded
                        .get(&(r.obligation_id, r.period.from))
                        .copied()
                        .unwrap_or_default();
                    (r, sent)
                })
                .collect())
        })
        .await
}
