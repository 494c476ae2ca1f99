//! Failed logins, counted per login name in the database so the limit holds across instances.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use super::schema::login_failures;
use super::DbConnection;

/// Failures of `login` since `since`: how many, and the oldest one's time.
pub fn recent(
    conn: &mut DbConnection,
    login: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    login_failures::table
        .filter(login_failures::login.eq(login))
        .filter(login_failures::failed_at.gt(since))
        .select((count_star(), min(login_failures::failed_at)))
        .first(conn)
}

/// Records a failure and drops this login's failures older than `forget_before`.
pub fn record(
    conn: &mut DbConnection,
    login: &str,
    at: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::login.eq(login))
            .filter(login_failures::failed_at.le(forget_before)),
    )
    .execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::login.eq(login),
            login_failures::failed_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Forgets a login's failures after it succeeded.
pub fn clear(conn: &mut DbConnection, login: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::login.eq(login)))
        .execute(conn)
        .map(drop)
}
