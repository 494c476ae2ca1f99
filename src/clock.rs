//! The one clock: every "now" of the service comes from here, so tests can fix time everywhere.

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// Where the current time comes from: the system, or a fixed instant (tests, demonstrations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    fixed: Option<NaiveDateTime>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that always reads `at` (UTC).
    pub fn fixed(at: NaiveDateTime) -> Self {
        Self { fixed: Some(at) }
    }

    /// A fixed clock when `at` is given, else the system clock.
    pub fn fixed_or_system(at: Option<NaiveDateTime>) -> Self {
        Self { fixed: at }
    }

    /// The current time in UTC, truncated to microseconds so SQLite and PostgreSQL store the
    /// same value.
    pub fn now(&self) -> NaiveDateTime {
        self.fixed
            .unwrap_or_else(|| Utc::now().naive_utc())
            .trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_reads_its_instant_and_the_system_clock_moves() {
        let at = chrono::NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 6)
            .unwrap();
        assert_eq!(Clock::fixed(at).now(), at);
        assert_eq!(Clock::fixed_or_system(Some(at)).now(), at);
        let a = Clock::system().now();
        assert!(Clock::system().now() >= a);
        assert_eq!(a.and_utc().timestamp_subsec_nanos() % 1000, 0);
    }
}
