//! The counting queries behind the statistics: one aggregate per figure, each reading one
//! index range, so a quarter over millions of rows stays well under a second.
//!
//! Windows are half-open UTC ranges `[from, to)` computed from Vietnamese calendar days.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::DbConnection;
use crate::domain::compliance::report::{
    CountedAnswer, QuestionCounts, SubmissionCounts, UncountedAnswer,
};
use crate::domain::compliance::ObligationItem;

/// Runs raw SQL written with `?` placeholders on either backend.
macro_rules! load_sql {
    ($conn:expr, $sql:expr, $row:ty $(, ($st:ty, $val:expr))* $(,)?) => {{
        let sql: &str = $sql;
        match $conn {
            DbConnection::Sqlite(c) => diesel::sql_query(sql)
                $(.bind::<$st, _>($val))*
                .load::<$row>(c),
            DbConnection::Pg(c) => diesel::sql_query(super::numbered(sql))
                $(.bind::<$st, _>($val))*
                .load::<$row>(c),
        }
    }};
}

#[derive(Debug, QueryableByName)]
struct UnitCount {
    #[diesel(sql_type = Nullable<Text>)]
    unit: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug, QueryableByName)]
struct UnitRow {
    #[diesel(sql_type = Nullable<Text>)]
    unit: Option<String>,
}

fn by_unit(rows: Vec<UnitCount>) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    for r in rows {
        if let Some(unit) = r.unit {
            *out.entry(unit).or_insert(0) += r.n;
        }
    }
    out
}

#[derive(Debug, QueryableByName)]
struct UnitSubmissions {
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = BigInt)]
    received: i64,
    #[diesel(sql_type = BigInt)]
    published: i64,
    #[diesel(sql_type = BigInt)]
    returned: i64,
    #[diesel(sql_type = BigInt)]
    rejected: i64,
}

/// Counts submissions received, published, returned and rejected in `[from, to)`, per unit.
///
/// Each figure is a count over one range of an index that starts with the unit, unit by unit:
/// nothing is sorted and no row is read, however many rows the window holds.
pub fn submission_counts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<SubmissionCounts> {
    let rows = load_sql!(
        conn,
        "SELECT u.code AS unit, \
         (SELECT COUNT(*) FROM submissions s WHERE s.unit_code = u.code \
          AND s.submitted_at >= ? AND s.submitted_at < ?) AS received, \
         (SELECT COUNT(*) FROM submissions s WHERE s.unit_code = u.code \
          AND s.published_at >= ? AND s.published_at < ?) AS published, \
         (SELECT COUNT(*) FROM submission_events e WHERE e.unit_code = u.code \
          AND e.action = 'return' AND e.created_at >= ? AND e.created_at < ?) AS returned, \
         (SELECT COUNT(*) FROM submission_events e WHERE e.unit_code = u.code \
          AND e.action = 'reject' AND e.created_at >= ? AND e.created_at < ?) AS rejected \
         FROM units u",
        UnitSubmissions,
        (Timestamp, from),
        (Timestamp, to),
        (Timestamp, from),
        (Timestamp, to),
        (Timestamp, from),
        (Timestamp, to),
        (Timestamp, from),
        (Timestamp, to)
    )?;
    let mut counts = SubmissionCounts::default();
    for r in rows {
        counts.received.insert(r.unit.clone(), r.received);
        counts.published.insert(r.unit.clone(), r.published);
        counts.returned.insert(r.unit.clone(), r.returned);
        counts.rejected.insert(r.unit, r.rejected);
    }
    Ok(counts)
}

#[derive(Debug, QueryableByName)]
struct CountedRow {
    #[diesel(sql_type = Nullable<Text>)]
    unit: Option<String>,
    #[diesel(sql_type = Integer)]
    days: i32,
    #[diesel(sql_type = Integer)]
    on_time: i32,
}

#[derive(Debug, QueryableByName)]
struct UncountedRow {
    #[diesel(sql_type = Nullable<Text>)]
    unit: Option<String>,
    #[diesel(sql_type = Timestamp)]
    received_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    answered_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    due_at: NaiveDateTime,
}

/// Reads the question figures of `[from, to)`; "open" is judged at `to`.
pub fn question_figures(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<QuestionCounts> {
    let received = load_sql!(
        conn,
        "SELECT u.code AS unit, \
         (SELECT COUNT(*) FROM questions q WHERE q.unit_code = u.code \
          AND q.received_at >= ? AND q.received_at < ?) AS n \
         FROM units u",
        UnitCount,
        (Timestamp, from),
        (Timestamp, to)
    )?;
    let answered = load_sql!(
        conn,
        "SELECT unit_code AS unit, answer_working_days AS days, \
         CASE WHEN answered_at <= due_at THEN 1 ELSE 0 END AS on_time FROM questions \
         WHERE answered_at >= ? AND answered_at < ? AND answer_working_days IS NOT NULL",
        CountedRow,
        (Timestamp, from),
        (Timestamp, to)
    )?;
    let answered_uncounted = load_sql!(
        conn,
        "SELECT unit_code AS unit, received_at, answered_at, due_at FROM questions \
         WHERE answered_at >= ? AND answered_at < ? AND answer_working_days IS NULL",
        UncountedRow,
        (Timestamp, from),
        (Timestamp, to)
    )?;
    // Open at the end: unanswered, or answered only after it: two ranges of the answered
    // index, read as rows and counted here. With a GROUP BY, SQLite's planner preferred
    // walking the (unit, received) index over the whole table.
    let open_at_end = load_sql!(
        conn,
        "SELECT unit_code AS unit FROM questions \
         WHERE answered_at IS NULL AND due_at < ? AND received_at < ? \
         AND (rejected_at IS NULL OR rejected_at >= ?) \
         UNION ALL \
         SELECT unit_code AS unit FROM questions \
         WHERE answered_at >= ? AND due_at < ? AND received_at < ? \
         AND (rejected_at IS NULL OR rejected_at >= ?)",
        UnitRow,
        (Timestamp, to),
        (Timestamp, to),
        (Timestamp, to),
        (Timestamp, to),
        (Timestamp, to),
        (Timestamp, to),
        (Timestamp, to)
    )?;
    let mut overdue_open: HashMap<String, i64> = HashMap::new();
    for unit in open_at_end.into_iter().filter_map(|r| r.unit) {
        *overdue_open.entry(unit).or_insert(0) += 1;
    }
    Ok(QuestionCounts {
        received: by_unit(received),
        answered: answered
            .into_iter()
            .map(|a| CountedAnswer {
                unit: a.unit,
                days: a.days,
                on_time: a.on_time != 0,
            })
            .collect(),
        answered_uncounted: answered_uncounted
            .into_iter()
            .map(|a| UncountedAnswer {
                unit: a.unit,
                received_at: a.received_at,
                answered_at: a.answered_at,
                due_at: a.due_at,
            })
            .collect(),
        overdue_open,
    })
}

#[derive(Debug, QueryableByName)]
struct Item {
    #[diesel(sql_type = BigInt)]
    obligation_id: i64,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Timestamp)]
    submitted_at: NaiveDateTime,
}

/// The submissions that may count for the obligations (of one unit, or of all): of the
/// obligation's unit and category (any when it names none), not rejected, first submitted in
/// `[from, to)`; by obligation, oldest first. An item appears once for each obligation it may
/// count for.
pub fn obligation_items(
    conn: &mut DbConnection,
    unit: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<ObligationItem>> {
    // Each obligation reads one range of the (unit, submitted) index, which holds the
    // category and status too.
    let select = "SELECT o.id AS obligation_id, s.id, s.submitted_at FROM obligations o \
         JOIN submissions s ON s.unit_code = o.unit_code \
         AND (o.category_code IS NULL OR s.category_code = o.category_code) \
         WHERE s.submitted_at >= ? AND s.submitted_at < ? AND s.status <> 'rejected'";
    let order = "ORDER BY o.id, s.submitted_at, s.id";
    let rows = match unit {
        Some(unit) => load_sql!(
            conn,
            &format!("{select} AND o.unit_code = ? {order}"),
            Item,
            (Timestamp, from),
            (Timestamp, to),
            (Text, unit)
        )?,
        None => load_sql!(
            conn,
            &format!("{select} {order}"),
            Item,
            (Timestamp, from),
            (Timestamp, to)
        )?,
    };
    Ok(rows
        .into_iter()
        .map(|r| ObligationItem {
            obligation_id: r.obligation_id,
            id: r.id,
            submitted_at: r.submitted_at,
        })
        .collect())
}

#[derive(Debug, QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Live counters for dashboards.
#[derive(Debug, Default, Clone)]
pub struct Overview {
    /// Submissions by status.
    pub submissions_by_status: Vec<(String, i64)>,
    /// Questions waiting for an answer.
    pub questions_open: i64,
    /// Of those, past their due time.
    pub questions_overdue: i64,
    /// Questions first answered since `month_start`.
    pub questions_answered_this_month: i64,
    /// Units with the most overdue questions, most first.
    pub most_overdue: Vec<(String, i64)>,
}

/// Reads the dashboard counters as of `now`.
pub fn overview(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    month_start: NaiveDateTime,
) -> QueryResult<Overview> {
    let statuses = load_sql!(
        conn,
        "SELECT status, COUNT(*) AS n FROM submissions GROUP BY status ORDER BY status",
        StatusCount
    )?;
    let open = load_sql!(
        conn,
        "SELECT status, COUNT(*) AS n FROM questions \
         WHERE status IN ('received', 'assigned') GROUP BY status",
        StatusCount
    )?;
    let overdue: Vec<UnitCount> = super::schema::questions::table
        .filter(super::questions::overdue(now))
        .group_by(super::schema::questions::unit_code)
        .select((
            super::schema::questions::unit_code,
            diesel::dsl::count_star(),
        ))
        .load::<(Option<String>, i64)>(conn)?
        .into_iter()
        .map(|(unit, n)| UnitCount { unit, n })
        .collect();
    let answered = load_sql!(
        conn,
        "SELECT NULL AS unit, COUNT(*) AS n FROM questions WHERE answered_at >= ?",
        UnitCount,
        (Timestamp, month_start)
    )?;
    let questions_overdue = overdue.iter().map(|r| r.n).sum();
    let mut most_overdue: Vec<(String, i64)> = overdue
        .into_iter()
        .filter_map(|r| r.unit.map(|u| (u, r.n)))
        .collect();
    most_overdue.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    most_overdue.truncate(5);
    Ok(Overview {
        submissions_by_status: statuses.into_iter().map(|r| (r.status, r.n)).collect(),
        questions_open: open.iter().map(|r| r.n).sum(),
        questions_overdue,
        questions_answered_this_month: answered.first().map_or(0, |r| r.n),
        most_overdue,
    })
}
