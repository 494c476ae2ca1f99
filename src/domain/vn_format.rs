//! Dates and times as Vietnamese readers write them: `dd/mm/yyyy`, and `HH:MM dd/mm/yyyy` in
//! Vietnam time (UTC+7, no daylight saving).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::calendar::vietnam_offset;

/// `09/03/2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A UTC time as its day in Vietnam: `09/03/2026`.
pub fn day_of(at: NaiveDateTime) -> String {
    date(vn(at).date_naive())
}

/// A UTC time in Vietnam time: `14:05 09/03/2026`.
pub fn datetime(at: NaiveDateTime) -> String {
    vn(at).format("%H:%M %d/%m/%Y").to_string()
}

fn vn(at: NaiveDateTime) -> DateTime<chrono::FixedOffset> {
    DateTime::<Utc>::from_naive_utc_and_offset(at, Utc).with_timezone(&vietnam_offset())
}

/// `2026-03-09` (or an RFC 3339 time, read as its day in Vietnam) as `09/03/2026`.
pub fn date_from_iso(value: &str) -> Option<String> {
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Some(date(d));
    }
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| day_of(t.naive_utc()))
}

/// An RFC 3339 time as `14:05 09/03/2026` in Vietnam time.
pub fn datetime_from_rfc3339(value: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| datetime(t.naive_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_month_year_in_vietnam_time() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(17, 5, 0)
            .unwrap();
        assert_eq!(day_of(at), "09/03/2026");
        assert_eq!(datetime(at), "00:05 09/03/2026");
        assert_eq!(date_from_iso("2026-12-31").unwrap(), "31/12/2026");
        assert_eq!(date_from_iso("2026-03-08T17:05:00Z").unwrap(), "09/03/2026");
        assert_eq!(
            datetime_from_rfc3339("2026-03-09T07:30:00+07:00").unwrap(),
            "07:30 09/03/2026"
        );
        assert_eq!(date_from_iso("soon"), None);
    }
}
