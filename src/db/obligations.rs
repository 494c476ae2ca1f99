//! Recurring publication duties of units.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::obligations;
use super::DbConnection;
use crate::domain::compliance::Obligation;
use crate::domain::reference::Cadence;

/// An obligation to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = obligations)]
pub struct NewObligation<'a> {
    /// The unit that owes the items.
    pub unit_code: &'a str,
    /// The category the items must be in; `None` for any.
    pub category_code: Option<&'a str>,
    /// Stored cadence, from [`Cadence::as_str`].
    pub cadence: &'a str,
    /// Items owed per period.
    pub min_items: i32,
    /// Day of the period's last month by which the items are due; `None` for its last day.
    pub due_day: Option<i32>,
    /// First day the duty applies.
    pub starts_on: NaiveDate,
    /// Last day the duty applies, if it ends.
    pub ends_on: Option<NaiveDate>,
    /// What is owed, in words.
    pub description: &'a str,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = obligations)]
struct ObligationRow {
    id: i64,
    unit_code: String,
    category_code: Option<String>,
    cadence: String,
    min_items: i32,
    due_day: Option<i32>,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    description: String,
}

impl ObligationRow {
    fn into_obligation(self) -> QueryResult<Obligation> {
        let cadence = Cadence::parse(&self.cadence).ok_or_else(|| {
            diesel::result::Error::DeserializationError(
                format!("obligation {} has cadence {}", self.id, self.cadence).into(),
            )
        })?;
        Ok(Obligation {
            id: self.id,
            unit: self.unit_code,
            category: self.category_code,
            cadence,
            min_items: self.min_items,
            due_day: self.due_day,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            description: self.description,
        })
    }
}

/// Inserts one obligation and returns its id.
pub fn insert(conn: &mut DbConnection, obligation: &NewObligation<'_>) -> QueryResult<i64> {
    diesel::insert_into(obligations::table)
        .values(obligation)
        .returning(obligations::id)
        .get_result(conn)
}

/// Obligations, of one unit or all, by id.
pub fn list(conn: &mut DbConnection, unit: Option<&str>) -> QueryResult<Vec<Obligation>> {
    let mut query = obligations::table.into_boxed();
    if let Some(unit) = unit {
        query = query.filter(obligations::unit_code.eq(unit.to_string()));
    }
    query
        .order(obligations::id.asc())
        .select(ObligationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ObligationRow::into_obligation)
        .collect()
}

/// One obligation.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Obligation>> {
    obligations::table
        .find(id)
        .select(ObligationRow::as_select())
        .first(conn)
        .optional()?
        .map(ObligationRow::into_obligation)
        .transpose()
}

/// Changes to an obligation; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = obligations)]
pub struct ObligationChanges {
    /// Category (`Some(None)`: any).
    pub category_code: Option<Option<String>>,
    /// Cadence.
    pub cadence: Option<String>,
    /// Items per period.
    pub min_items: Option<i32>,
    /// Due day (`Some(None)`: the period's last day).
    pub due_day: Option<Option<i32>>,
    /// First day.
    pub starts_on: Option<NaiveDate>,
    /// Last day (`Some(None)`: open-ended).
    pub ends_on: Option<Option<NaiveDate>>,
    /// Description.
    pub description: Option<String>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies changes; false when there is no such obligation.
pub fn update(conn: &mut DbConnection, id: i64, changes: &ObligationChanges) -> QueryResult<bool> {
    let n = diesel::update(obligations::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(n > 0)
}
