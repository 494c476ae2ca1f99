//! Recurring publication duties of units.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::obligations;
use super::DbConnection;

/// An obligation to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = obligations)]
pub struct NewObligation<'a> {
    /// The unit that owes the items.
    pub unit_code: &'a str,
    /// The category the items must be in; `None` for any.
    pub category_code: Option<&'a str>,
    /// Stored cadence, from [`crate::domain::reference::Cadence::as_str`].
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

/// Inserts one obligation.
pub fn insert(conn: &mut DbConnection, obligation: &NewObligation<'_>) -> QueryResult<()> {
    diesel::insert_into(obligations::table)
        .values(obligation)
        .execute(conn)
        .map(drop)
}

/// How many obligations exist.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    obligations::table.count().get_result(conn)
}
