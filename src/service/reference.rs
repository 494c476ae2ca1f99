//! Units and categories: listing them, and the admin's changes to them.
//!
//! Every change goes through the writer (`state.write`): changes are rare, and the writer
//! serialises them with the other changes to existing rows, so that a code check and its
//! insert see the same table and SQLite is never asked for two write locks at once. Each
//! change drops the copy of the references that new questions are checked against.

use std::collections::BTreeSet;

use diesel::Connection;

use crate::db::categories::{self, CategoryChanges, NewCategory};
use crate::db::events::record;
use crate::db::units::{self, NewUnit, UnitChanges};
use crate::db::DbConnection;
use crate::domain::events::EventType;
use crate::domain::question::Email;
use crate::domain::reference::{successor_refusal, CategoryCode, UnitCode, UnitKind};
use crate::error::ApiError;
use crate::service::events;
use crate::state::AppState;

pub use crate::db::categories::Category;
pub use crate::db::units::{Unit, UnitFilter};

/// Units matching `filter`, in the province's order.
pub async fn list_units(state: &AppState, filter: UnitFilter) -> Result<Vec<Unit>, ApiError> {
    state.read(move |conn| Ok(units::list(conn, filter)?)).await
}

/// One unit by code.
pub async fn get_unit(state: &AppState, code: String) -> Result<Unit, ApiError> {
    let lookup = code.clone();
    state
        .read(move |conn| Ok(units::find(conn, &lookup)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Unit {code:?}")))
}

/// Every category, in display order.
pub async fn list_categories(state: &AppState) -> Result<Vec<Category>, ApiError> {
    state.read(|conn| Ok(categories::list(conn)?)).await
}

/// A checked new unit.
#[derive(Debug)]
pub struct NewUnitInput {
    /// Code.
    pub code: UnitCode,
    /// Official name.
    pub name: String,
    /// Department or district.
    pub kind: UnitKind,
    /// Standing agency flag.
    pub is_standing_agency: bool,
    /// Assigned information fields.
    pub fields: Vec<String>,
    /// Contact e-mail address.
    pub email: Option<Email>,
}

/// Creates a unit, active, after every existing one; a taken code is a conflict.
pub async fn create_unit(state: &AppState, unit: NewUnitInput) -> Result<Unit, ApiError> {
    let fields = serde_json::to_string(&unit.fields).map_err(anyhow::Error::from)?;
    let now = state.now();
    let created = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let code = unit.code.as_str();
                if units::is_active(conn, code)?.is_some() {
                    return Err(ApiError::Conflict(format!(
                        "A unit with the code {code} exists"
                    )));
                }
                let position = units::next_position(conn)?;
                units::insert(
                    conn,
                    &NewUnit {
                        code,
                        name: &unit.name,
                        kind: unit.kind.as_str(),
                        is_standing_agency: unit.is_standing_agency,
                        fields,
                        active: true,
                        position,
                        created_at: now,
                        updated_at: now,
                        email: unit.email.as_ref().map(Email::as_str),
                    },
                )?;
                let created = units::find(conn, code)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("unit vanished after insert"))
                })?;
                record(conn, &events::unit(EventType::UnitCreated, &created, now))?;
                Ok(created)
            })
        })
        .await?;
    state.references.invalidate();
    Ok(created)
}

/// A checked change to a unit; absent fields stay as they are.
#[derive(Debug, Default)]
pub struct UnitChange {
    /// New name.
    pub name: Option<String>,
    /// New assigned fields.
    pub fields: Option<Vec<String>>,
    /// Standing agency flag.
    pub is_standing_agency: Option<bool>,
    /// Deactivate (`false`) or reactivate (`true`).
    pub active: Option<bool>,
    /// With `active: false`: the units that take over its duties.
    pub successors: Option<Vec<String>>,
    /// New contact e-mail address; `Some(None)` removes it.
    pub email: Option<Option<Email>>,
}

/// Renames a unit, reassigns its fields, deactivates it with successors, or reactivates it
/// (which clears its successors).
pub async fn change_unit(
    state: &AppState,
    code: String,
    change: UnitChange,
) -> Result<Unit, ApiError> {
    if change.successors.is_some() && change.active != Some(false) {
        return Err(ApiError::invalid_field(
            "successors",
            "successors are named when deactivating: send them with \"active\": false",
        ));
    }
    let fields = match &change.fields {
        Some(f) => Some(serde_json::to_string(f).map_err(anyhow::Error::from)?),
        None => None,
    };
    let now = state.now();
    let unit = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let current = units::find(conn, &code)?
                    .ok_or_else(|| ApiError::not_found(format!("Unit {code:?}")))?;
                let mut changes = UnitChanges {
                    name: change.name,
                    fields,
                    is_standing_agency: change.is_standing_agency,
                    active: change.active,
                    email: change.email.map(|e| e.map(Email::into_inner)),
                    updated_at: Some(now),
                    ..Default::default()
                };
                match change.active {
                    Some(false) => {
                        let successors = change.successors.unwrap_or_default();
                        check_successors(conn, &code, &successors)?;
                        if current.active {
                            changes.deactivated_at = Some(Some(now));
                        }
                        units::set_successors(conn, &code, &successors)?;
                    }
                    Some(true) if !current.active => {
                        changes.deactivated_at = Some(None);
                        units::set_successors(conn, &code, &[])?;
                    }
                    _ => {}
                }
                units::update(conn, &code, &changes)?;
                let changed =
                    units::find(conn, &code)?.ok_or_else(|| ApiError::not_found("Unit"))?;
                let kind = if current.active && !changed.active {
                    EventType::UnitDeactivated
                } else {
                    EventType::UnitUpdated
                };
                record(conn, &events::unit(kind, &changed, now))?;
                Ok(changed)
            })
        })
        .await?;
    state.references.invalidate();
    Ok(unit)
}

fn check_successors(
    conn: &mut DbConnection,
    code: &str,
    successors: &[String],
) -> Result<(), ApiError> {
    let mut seen = BTreeSet::new();
    for (i, successor) in successors.iter().enumerate() {
        let named_before = !seen.insert(successor);
        // Only a plausible successor costs a read.
        let active = if successor == code || named_before {
            Some(true)
        } else {
            units::is_active(conn, successor)?
        };
        if let Some(why) = successor_refusal(code, successor, active, named_before) {
            return Err(ApiError::invalid_field(format!("successors[{i}]"), why));
        }
    }
    Ok(())
}

/// A checked new category.
#[derive(Debug)]
pub struct NewCategoryInput {
    /// Code.
    pub code: CategoryCode,
    /// Display name.
    pub name: String,
    /// Longer description.
    pub description: String,
    /// Mandatory flag.
    pub mandatory: bool,
    /// Working days to answer; the configured default when absent.
    pub answer_days: Option<i32>,
    /// Legal basis.
    pub legal_basis: String,
}

/// Creates a category after every existing one; a taken code is a conflict.
pub async fn create_category(
    state: &AppState,
    category: NewCategoryInput,
) -> Result<Category, ApiError> {
    let answer_days = category
        .answer_days
        .unwrap_or(state.settings.default_answer_days);
    let now = state.now();
    let created = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let code = category.code.as_str();
                if categories::find(conn, code)?.is_some() {
                    return Err(ApiError::Conflict(format!(
                        "A category with the code {code} exists"
                    )));
                }
                let position = categories::next_position(conn)?;
                categories::insert(
                    conn,
                    &NewCategory {
                        code,
                        name: &category.name,
                        description: &category.description,
                        mandatory: category.mandatory,
                        answer_days,
                        legal_basis: &category.legal_basis,
                        position,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                categories::find(conn, code)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("category vanished after insert"))
                })
            })
        })
        .await?;
    state.references.invalidate();
    Ok(created)
}

/// A checked change to a category; absent fields stay as they are.
#[derive(Debug, Default)]
pub struct CategoryChange {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Mandatory flag.
    pub mandatory: Option<bool>,
    /// Working days to answer; questions already asked keep their due date.
    pub answer_days: Option<i32>,
    /// Legal basis.
    pub legal_basis: Option<String>,
}

/// Changes a category.
pub async fn change_category(
    state: &AppState,
    code: String,
    change: CategoryChange,
) -> Result<Category, ApiError> {
    let changes = CategoryChanges {
        name: change.name,
        description: change.description,
        mandatory: change.mandatory,
        answer_days: change.answer_days,
        legal_basis: change.legal_basis,
        updated_at: Some(state.now()),
    };
    let category = state
        .write(move |conn| {
            if !categories::update(conn, &code, &changes)? {
                return Err(ApiError::not_found(format!("Category {code:?}")));
            }
            categories::find(conn, &code)?.ok_or_else(|| ApiError::not_found("Category"))
        })
        .await?;
    state.references.invalidate();
    Ok(category)
}
