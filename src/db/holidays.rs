//! Public holidays and make-up working days.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::holidays;
use super::DbConnection;
use crate::domain::calendar::{CalendarEntry, HolidayKind, WorkingCalendar};

/// A calendar exception as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = holidays)]
struct HolidayRow {
    date: NaiveDate,
    name: String,
    kind: String,
    source: String,
}

/// A holiday or make-up working day with the text that declared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// The day.
    pub date: NaiveDate,
    /// Its name.
    pub name: String,
    /// Day off, or working day.
    pub kind: HolidayKind,
    /// The legal text or announcement.
    pub source: String,
}

/// A holiday to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = holidays)]
pub struct NewHoliday<'a> {
    /// The day.
    pub date: NaiveDate,
    /// Its name.
    pub name: &'a str,
    /// Stored kind, from [`HolidayKind::as_str`].
    pub kind: &'a str,
    /// The legal text or announcement.
    pub source: &'a str,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
}

fn load(conn: &mut DbConnection, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<Holiday>> {
    let rows: Vec<HolidayRow> = holidays::table
        .filter(holidays::date.between(from, to))
        .order(holidays::date.asc())
        .select(HolidayRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let kind = HolidayKind::parse(&row.kind).ok_or_else(|| {
                diesel::result::Error::DeserializationError(
                    format!("holiday {} has unknown kind {}", row.date, row.kind).into(),
                )
            })?;
            Ok(Holiday {
                date: row.date,
                name: row.name,
                kind,
                source: row.source,
            })
        })
        .collect()
}

/// The exceptions of one calendar year, in date order.
pub fn list_year(conn: &mut DbConnection, year: i32) -> QueryResult<Vec<Holiday>> {
    match (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) {
        (Some(from), Some(to)) => load(conn, from, to),
        _ => Ok(Vec::new()),
    }
}

/// The working calendar over a range of dates (inclusive), for counting deadlines.
pub fn calendar(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<WorkingCalendar> {
    let entries = load(conn, from, to)?.into_iter().map(|h| CalendarEntry {
        date: h.date,
        name: h.name,
        kind: h.kind,
    });
    Ok(WorkingCalendar::new(entries))
}

/// Inserts one exception.
pub fn insert(conn: &mut DbConnection, holiday: &NewHoliday<'_>) -> QueryResult<()> {
    diesel::insert_into(holidays::table)
        .values(holiday)
        .execute(conn)
        .map(drop)
}

/// One exception by date.
pub fn find(conn: &mut DbConnection, date: NaiveDate) -> QueryResult<Option<Holiday>> {
    Ok(load(conn, date, date)?.into_iter().next())
}

/// Sets the exception of a date, replacing any; true when it was new.
///
/// Callers run this in a transaction: both backends lack a shared upsert through diesel's
/// multi-connection, so it is a read then an insert or an update.
pub fn put(conn: &mut DbConnection, holiday: &NewHoliday<'_>) -> QueryResult<bool> {
    let updated = diesel::update(holidays::table.find(holiday.date))
        .set((
            holidays::name.eq(holiday.name),
            holidays::kind.eq(holiday.kind),
            holidays::source.eq(holiday.source),
            holidays::updated_at.eq(holiday.updated_at),
        ))
        .execute(conn)?;
    if updated > 0 {
        return Ok(false);
    }
    insert(conn, holiday)?;
    Ok(true)
}

/// Removes the exception of a date; false when there was none.
pub fn delete(conn: &mut DbConnection, date: NaiveDate) -> QueryResult<bool> {
    let n = diesel::delete(holidays::table.find(date)).execute(conn)?;
    Ok(n > 0)
}
