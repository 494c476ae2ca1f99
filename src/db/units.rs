//! Government units and their successor links.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{unit_successors, units};
use super::DbConnection;
use crate::domain::reference::UnitKind;

/// A unit as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
struct UnitRow {
    code: String,
    name: String,
    kind: String,
    is_standing_agency: bool,
    fields: String,
    active: bool,
    deactivated_at: Option<NaiveDateTime>,
    email: Option<String>,
}

/// A government unit with the codes of the units that took over its duties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Stable slug.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Department or district.
    pub kind: UnitKind,
    /// Whether this is the portal's standing agency (Sở TT&TT).
    pub is_standing_agency: bool,
    /// Information fields assigned to the unit.
    pub fields: Vec<String>,
    /// False once the unit was merged or dissolved.
    pub active: bool,
    /// Units that took over its duties, in code order.
    pub successors: Vec<String>,
    /// When it was deactivated (UTC).
    pub deactivated_at: Option<NaiveDateTime>,
    /// The unit's contact e-mail address, as parsed.
    pub email: Option<String>,
}

/// A unit to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = units)]
pub struct NewUnit<'a> {
    /// Stable slug.
    pub code: &'a str,
    /// Official name.
    pub name: &'a str,
    /// Stored kind, from [`UnitKind::as_str`].
    pub kind: &'a str,
    /// Standing agency flag.
    pub is_standing_agency: bool,
    /// JSON array of field names.
    pub fields: String,
    /// Active flag.
    pub active: bool,
    /// Display order.
    pub position: i32,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
    /// Contact e-mail address, as parsed.
    pub email: Option<&'a str>,
}

/// Filters for listing units.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnitFilter {
    /// Only this kind.
    pub kind: Option<UnitKind>,
    /// Only active (true) or only deactivated (false) units.
    pub active: Option<bool>,
}

fn corrupt(what: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(what.into())
}

impl UnitRow {
    fn into_unit(self, successors: Vec<String>) -> QueryResult<Unit> {
        let kind = UnitKind::parse(&self.kind)
            .ok_or_else(|| corrupt(format!("unit {} has unknown kind {}", self.code, self.kind)))?;
        let fields = serde_json::from_str(&self.fields)
            .map_err(|e| corrupt(format!("unit {} has unreadable fields: {e}", self.code)))?;
        Ok(Unit {
            code: self.code,
            name: self.name,
            kind,
            is_standing_agency: self.is_standing_agency,
            fields,
            active: self.active,
            successors,
            deactivated_at: self.deactivated_at,
            email: self.email,
        })
    }
}

/// Units matching the filter, in display order.
pub fn list(conn: &mut DbConnection, filter: UnitFilter) -> QueryResult<Vec<Unit>> {
    let mut query = units::table.into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(units::kind.eq(kind.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(units::active.eq(active));
    }
    let rows: Vec<UnitRow> = query
        .order((units::position.asc(), units::code.asc()))
        .select(UnitRow::as_select())
        .load(conn)?;
    let mut successors = successors_of(conn, rows.iter().map(|r| r.code.as_str()))?;
    rows.into_iter()
        .map(|row| {
            let next = successors.remove(&row.code).unwrap_or_default();
            row.into_unit(next)
        })
        .collect()
}

/// One unit by code.
pub fn find(conn: &mut DbConnection, code: &str) -> QueryResult<Option<Unit>> {
    let Some(row) = units::table
        .find(code)
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mut successors = successors_of(conn, std::iter::once(row.code.as_str()))?;
    let next = successors.remove(&row.code).unwrap_or_default();
    row.into_unit(next).map(Some)
}

fn successors_of<'a>(
    conn: &mut DbConnection,
    codes: impl Iterator<Item = &'a str>,
) -> QueryResult<BTreeMap<String, Vec<String>>> {
    let codes: Vec<&str> = codes.collect();
    let links: Vec<(String, String)> = unit_successors::table
        .filter(unit_successors::unit_code.eq_any(codes))
        .order((unit_successors::unit_code, unit_successors::successor_code))
        .load(conn)?;
    let mut by_unit: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (unit, successor) in links {
        by_unit.entry(unit).or_default().push(successor);
    }
    Ok(by_unit)
}

/// Inserts one unit.
pub fn insert(conn: &mut DbConnection, unit: &NewUnit<'_>) -> QueryResult<()> {
    diesel::insert_into(units::table)
        .values(unit)
        .execute(conn)
        .map(drop)
}

/// How many units exist; zero means a new database.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    units::table.count().get_result(conn)
}

/// Changes to a unit; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = units)]
pub struct UnitChanges {
    /// New name.
    pub name: Option<String>,
    /// New fields, as a JSON array.
    pub fields: Option<String>,
    /// Standing agency flag.
    pub is_standing_agency: Option<bool>,
    /// Active flag.
    pub active: Option<bool>,
    /// Deactivation time (`Some(None)` clears it).
    pub deactivated_at: Option<Option<NaiveDateTime>>,
    /// Contact e-mail address (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies changes to a unit; false when there is no such unit.
pub fn update(conn: &mut DbConnection, code: &str, changes: &UnitChanges) -> QueryResult<bool> {
    let n = diesel::update(units::table.find(code))
        .set(changes)
        .execute(conn)?;
    Ok(n > 0)
}

/// Replaces the successors of a unit.
pub fn set_successors(
    conn: &mut DbConnection,
    code: &str,
    successors: &[String],
) -> QueryResult<()> {
    diesel::delete(unit_successors::table.filter(unit_successors::unit_code.eq(code)))
        .execute(conn)?;
    for successor in successors {
        diesel::insert_into(unit_successors::table)
            .values((
                unit_successors::unit_code.eq(code),
                unit_successors::successor_code.eq(successor),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether a unit exists and is active: `None` if it does not exist.
pub fn is_active(conn: &mut DbConnection, code: &str) -> QueryResult<Option<bool>> {
    units::table
        .find(code)
        .select(units::active)
        .first(conn)
        .optional()
}

/// The next display position, after every existing unit.
pub fn next_position(conn: &mut DbConnection) -> QueryResult<i32> {
    let max: Option<i32> = units::table
        .select(diesel::dsl::max(units::position))
        .first(conn)?;
    Ok(max.map_or(0, |m| m + 1))
}
