//! The units, categories and working calendar a new question is checked against and dated
//! by, read once for all the questions of the next ten seconds: asking is the busiest write,
//! and with these in memory it reads nothing before its insert.
//!
//! This instance's own changes to units, categories and holidays drop the copy at once;
//! another instance's show here within [`REFERENCE_TTL`], as for accounts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use diesel::QueryResult;

use crate::cache::TtlCache;
use crate::db::{self, DbConnection};
use crate::domain::access::Role;
use crate::domain::calendar::WorkingCalendar;
use crate::domain::reference::unit_refusal;
use crate::error::{ApiError, FieldError};

/// How long a copy is used.
pub const REFERENCE_TTL: Duration = Duration::from_secs(10);

/// What a new question received on `day` is checked against.
#[derive(Debug)]
pub struct References {
    /// Whether each unit is active, by code.
    units: HashMap<String, bool>,
    /// Each category's answer days, by code.
    categories: HashMap<String, i32>,
    /// Holidays and make-up days from `day` to two years after.
    pub calendar: WorkingCalendar,
}

impl References {
    /// Reads the references for questions received on `day`.
    pub fn load(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Self> {
        let units = db::units::list(conn, db::units::UnitFilter::default())?
            .into_iter()
            .map(|u| (u.code, u.active))
            .collect();
        let categories = db::categories::list(conn)?
            .into_iter()
            .map(|c| (c.code, c.answer_days))
            .collect();
        // Two years hold any deadline a category can set (at most 365 working days).
        let until = day
            .checked_add_days(Days::new(2 * 366))
            .unwrap_or(NaiveDate::MAX);
        let calendar = db::holidays::calendar(conn, day, until)?;
        Ok(Self {
            units,
            categories,
            calendar,
        })
    }

    /// Checks a question's unit (known and active) and category (known); returns the
    /// category's answer days. Every rejected field is reported at once.
    pub fn check(
        &self,
        unit: Option<&str>,
        category: Option<&str>,
    ) -> Result<Option<i32>, ApiError> {
        let mut errors = Vec::new();
        if let Some(why) = unit.and_then(|code| unit_refusal(code, self.units.get(code).copied())) {
            errors.push(("unit", why));
        }
        let days = match category {
            None => None,
            Some(code) => match self.categories.get(code) {
                Some(days) => Some(*days),
                None => {
                    errors.push(("category", format!("no category has the code {code:?}")));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(days)
        } else {
            Err(ApiError::Validation(
                errors
                    .into_iter()
                    .map(|(field, message)| FieldError::new(field, message))
                    .collect(),
            ))
        }
    }
}

/// The copy of [`References`] in use, by the day it was read for: one day at a time.
#[derive(Debug)]
pub struct ReferenceCache(TtlCache<NaiveDate, Arc<References>>);

impl Default for ReferenceCache {
    fn default() -> Self {
        Self(TtlCache::new(REFERENCE_TTL, 1))
    }
}

impl ReferenceCache {
    /// The references for questions received on `day`, read from the database when the copy
    /// is older than [`REFERENCE_TTL`], of another day, or dropped.
    pub async fn get(
        &self,
        pool: &db::DbPool,
        day: NaiveDate,
    ) -> Result<Arc<References>, ApiError> {
        if let Some(fresh) = self.0.get(&day) {
            return Ok(fresh);
        }
        let generation = self.0.generation();
        let loaded = Arc::new(
            db::run::<_, ApiError, _>(pool, move |conn| Ok(References::load(conn, day)?)).await?,
        );
        // A copy read while this instance changed a reference is used once, never kept.
        self.0.put(day, loaded.clone(), generation);
        Ok(loaded)
    }

    /// Drops the copy: a unit, category or holiday changed.
    pub fn invalidate(&self) {
        self.0.invalidate_all();
    }
}

/// Checks that `unit` suits `role`: officers need one, and a named unit must exist and be
/// active. Every use case that binds an account, a client, a submission or an obligation to
/// a unit asks this, inside its own transaction.
pub fn check_unit(conn: &mut DbConnection, role: Role, unit: Option<&str>) -> Result<(), ApiError> {
    match unit {
        None if role.needs_unit() => Err(ApiError::invalid_field(
            "unit",
            "an officer must belong to a unit",
        )),
        None => Ok(()),
        Some(code) => match unit_refusal(code, db::units::is_active(conn, code)?) {
            Some(why) => Err(ApiError::invalid_field("unit", why)),
            None => Ok(()),
        },
    }
}
