//! Reference data loaded into a new database: units, categories, holidays, obligations.
//!
//! The CSV files are embedded in the binary so that it runs from any folder.

use anyhow::{bail, Context};
use chrono::NaiveDate;
use diesel::Connection;
use serde::Deserialize;

use super::{categories, holidays, obligations, units, DbConnection};
use crate::domain::calendar::HolidayKind;
use crate::domain::reference::{Cadence, UnitKind};

const UNITS_CSV: &str = include_str!("../../data/seed/units.csv");
const CATEGORIES_CSV: &str = include_str!("../../data/seed/categories.csv");
const HOLIDAYS_CSV: &str = include_str!("../../data/seed/holidays.csv");
const OBLIGATIONS_CSV: &str = include_str!("../../data/seed/obligations.csv");

#[derive(Debug, Deserialize)]
struct UnitRecord {
    code: String,
    name: String,
    kind: String,
    is_standing_agency: bool,
    fields: String,
}

#[derive(Debug, Deserialize)]
struct CategoryRecord {
    code: String,
    name: String,
    mandatory: bool,
    answer_days: i32,
    legal_basis: String,
}

#[derive(Debug, Deserialize)]
struct HolidayRecord {
    date: NaiveDate,
    name: String,
    kind: String,
    source: String,
}

#[derive(Debug, Deserialize)]
struct ObligationRecord {
    unit: String,
    category: Option<String>,
    cadence: String,
    min_items: Option<i32>,
    due_day: Option<i32>,
    starts_on: NaiveDate,
    description: String,
}

/// What a seeding run inserted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Units inserted.
    pub units: usize,
    /// Categories inserted.
    pub categories: usize,
    /// Holidays and make-up days inserted.
    pub holidays: usize,
    /// Obligations inserted.
    pub obligations: usize,
}

fn records<T: for<'de> Deserialize<'de>>(name: &str, csv_text: &str) -> anyhow::Result<Vec<T>> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .deserialize()
        .enumerate()
        .map(|(i, r)| r.with_context(|| format!("{name}.csv row {}", i + 2)))
        .collect()
}

/// Loads the embedded reference data when the database has no unit yet; otherwise does nothing.
///
/// A database with units is one an admin may have changed, so it is never touched again.
pub fn seed_if_empty(
    conn: &mut DbConnection,
    now: chrono::NaiveDateTime,
) -> anyhow::Result<Option<SeedReport>> {
    conn.transaction(|conn| {
        if units::count(conn)? > 0 {
            return Ok(None);
        }
        load_all(conn, now).map(Some)
    })
}

fn load_all(conn: &mut DbConnection, t: chrono::NaiveDateTime) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();

    for (i, u) in records::<UnitRecord>("units", UNITS_CSV)?
        .iter()
        .enumerate()
    {
        let Some(kind) = UnitKind::parse(&u.kind) else {
            bail!("units.csv: unit {} has unknown kind {}", u.code, u.kind);
        };
        let fields: Vec<&str> = u
            .fields
            .split(';')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        units::insert(
            conn,
            &units::NewUnit {
                code: &u.code,
                name: &u.name,
                kind: kind.as_str(),
                is_standing_agency: u.is_standing_agency,
                fields: serde_json::to_string(&fields)?,
                active: true,
                position: i32::try_from(i)?,
                created_at: t,
                updated_at: t,
                email: None,
            },
        )
        .with_context(|| format!("inserting unit {}", u.code))?;
        report.units += 1;
    }

    for (i, c) in records::<CategoryRecord>("categories", CATEGORIES_CSV)?
        .iter()
        .enumerate()
    {
        categories::insert(
            conn,
            &categories::NewCategory {
                code: &c.code,
                name: &c.name,
                description: "",
                mandatory: c.mandatory,
                answer_days: c.answer_days,
                legal_basis: &c.legal_basis,
                position: i32::try_from(i)?,
                created_at: t,
                updated_at: t,
            },
        )
        .with_context(|| format!("inserting category {}", c.code))?;
        report.categories += 1;
    }

    for h in records::<HolidayRecord>("holidays", HOLIDAYS_CSV)? {
        let Some(kind) = HolidayKind::parse(&h.kind) else {
            bail!("holidays.csv: {} has unknown kind {}", h.date, h.kind);
        };
        holidays::insert(
            conn,
            &holidays::NewHoliday {
                date: h.date,
                name: &h.name,
                kind: kind.as_str(),
                source: &h.source,
                updated_at: t,
            },
        )
        .with_context(|| format!("inserting holiday {}", h.date))?;
        report.holidays += 1;
    }

    for o in records::<ObligationRecord>("obligations", OBLIGATIONS_CSV)? {
        let Some(cadence) = Cadence::parse(&o.cadence) else {
            bail!(
                "obligations.csv: {} has unknown cadence {}",
                o.unit,
                o.cadence
            );
        };
        obligations::insert(
            conn,
            &obligations::NewObligation {
                unit_code: &o.unit,
                category_code: o.category.as_deref().filter(|c| !c.is_empty()),
                cadence: cadence.as_str(),
                min_items: o.min_items.unwrap_or(1),
                due_day: o.due_day,
                starts_on: o.starts_on,
                ends_on: None,
                description: &o.description,
                created_at: t,
                updated_at: t,
            },
        )
        .with_context(|| format!("inserting obligation of {}", o.unit))?;
        report.obligations += 1;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_reference_data_parses() {
        assert_eq!(records::<UnitRecord>("units", UNITS_CSV).unwrap().len(), 31);
        assert_eq!(
            records::<CategoryRecord>("categories", CATEGORIES_CSV)
                .unwrap()
                .len(),
            12
        );
        assert!(
            records::<HolidayRecord>("holidays", HOLIDAYS_CSV)
                .unwrap()
                .len()
                >= 36
        );
        assert_eq!(
            records::<ObligationRecord>("obligations", OBLIGATIONS_CSV)
                .unwrap()
                .len(),
            3
        );
    }
}
