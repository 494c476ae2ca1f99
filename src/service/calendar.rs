//! The working-day calendar: listing a year's exceptions, counting a deadline, and the
//! admin's holidays.
//!
//! Holidays are set and removed through the writer (`state.write`), as every change to
//! existing rows: the put is a read then an insert or an update, which the writer keeps from
//! interleaving with another change. Each change drops the copy of the calendar that new
//! questions are dated by.

use chrono::{Datelike, Days, NaiveDate};
use diesel::Connection;

use crate::db::events::record;
use crate::db::holidays::{self, NewHoliday};
use crate::domain::calendar::{local_date, Deadline, HolidayKind};
use crate::error::ApiError;
use crate::service::events;
use crate::state::AppState;

pub use crate::db::holidays::Holiday;

/// Years a calendar can be asked for or changed in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// Largest number of working days a deadline may be asked for.
pub const MAX_WORKING_DAYS: u32 = 365;

/// The holidays and make-up working days of `year`, by date; the current year in Vietnam
/// when none is given.
pub async fn list_holidays(state: &AppState, year: Option<i32>) -> Result<Vec<Holiday>, ApiError> {
    let year = year.unwrap_or_else(|| local_date(state.now().and_utc()).year());
    if !YEARS.contains(&year) {
        return Err(ApiError::invalid_field("year", "must be from 1900 to 9999"));
    }
    state
        .read(move |conn| Ok(holidays::list_year(conn, year)?))
        .await
}

/// The deadline `working_days` working days after `from`, with the days it counted and
/// skipped.
pub async fn deadline(
    state: &AppState,
    from: NaiveDate,
    working_days: u32,
) -> Result<Deadline, ApiError> {
    if !(1..=MAX_WORKING_DAYS).contains(&working_days) {
        return Err(ApiError::invalid_field(
            "working_days",
            format!("must be from 1 to {MAX_WORKING_DAYS}"),
        ));
    }
    // 365 working days span well under three calendar years, holidays included.
    let until = from
        .checked_add_days(Days::new(3 * 366))
        .unwrap_or(NaiveDate::MAX);
    let calendar = state
        .read(move |conn| Ok(holidays::calendar(conn, from, until)?))
        .await?;
    let d = calendar.deadline(from, working_days);
    // Dates are answered as RFC 3339 full-dates, which have four-digit years.
    if d.due_date.year() > *YEARS.end() {
        return Err(ApiError::invalid_field(
            "from",
            "the deadline would fall after the year 9999",
        ));
    }
    Ok(d)
}

/// A checked holiday or make-up working day.
#[derive(Debug)]
pub struct HolidayInput {
    /// Its name.
    pub name: String,
    /// Day off or make-up working day.
    pub kind: HolidayKind,
    /// The law or announcement that fixed it.
    pub source: String,
}

/// Sets the exception of `date`, replacing what was there; whether it is new, and the
/// stored exception.
pub async fn put_holiday(
    state: &AppState,
    date: NaiveDate,
    holiday: HolidayInput,
) -> Result<(bool, Holiday), ApiError> {
    let now = state.now();
    let answer = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let created = holidays::put(
                    conn,
                    &NewHoliday {
                        date,
                        name: &holiday.name,
                        kind: holiday.kind.as_str(),
                        source: &holiday.source,
                        updated_at: now,
                    },
                )?;
                let stored = holidays::find(conn, date)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("holiday vanished after put"))
                })?;
                record(conn, &events::holiday(date, Some(&stored), now))?;
                Ok((created, stored))
            })
        })
        .await?;
    state.references.invalidate();
    Ok(answer)
}

/// Removes the exception of `date`; not found when there was none.
pub async fn delete_holiday(state: &AppState, date: NaiveDate) -> Result<(), ApiError> {
    let now = state.now();
    let removed = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let removed = holidays::delete(conn, date)?;
                if removed {
                    record(conn, &events::holiday(date, None, now))?;
                }
                Ok(removed)
            })
        })
        .await?;
    state.references.invalidate();
    if removed {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("A holiday on {date}")))
    }
}
