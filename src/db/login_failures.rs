//! Login attempts, counted per login name and per client address in the database, so the
//! limits hold across instances and however many attempts arrive at once.
//!
//! An attempt is counted before its password is checked, in a transaction that no other
//! attempt for the same name or address can interleave with: on PostgreSQL it first takes an
//! advisory lock per name and per address (name first, so two attempts never wait on each
//! other in a circle); on SQLite its first statement writes, which takes the database's write
//! lock. A burst of any size therefore gets exactly as many checks as the limit leaves.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::login_failures;
use super::DbConnection;

/// The limits an attempt is admitted under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The window attempts are counted over.
    pub window: Duration,
    /// Failed attempts allowed per login name within the window.
    pub per_login: i64,
    /// Failed attempts allowed per client address, over all login names, within the window.
    pub per_address: i64,
}

/// A counted attempt: its rows, removed again if it succeeds or is never checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    login_row: i64,
    address_row: Option<i64>,
}

/// Counts an attempt for `login` (and `address`, if known) at `now`, unless one of them has
/// used up its limit; then `Err` with the seconds until the oldest counted attempt leaves
/// the window.
pub fn admit(
    conn: &mut DbConnection,
    login: &str,
    address: Option<&str>,
    now: NaiveDateTime,
    limits: Limits,
) -> QueryResult<Result<Attempt, u64>> {
    let since = now - limits.window;
    let admitted = conn.transaction::<_, diesel::result::Error, _>(|conn| {
        if let DbConnection::Pg(pg) = conn {
            lock(pg, login)?;
            if let Some(address) = address {
                lock(pg, address)?;
            }
        }
        // On SQLite this first write takes the write lock for the whole transaction.
        forget_before(conn, login, since)?;
        if let Some(address) = address {
            forget_before(conn, address, since)?;
        }
        let mut checks = vec![(login, limits.per_login)];
        checks.extend(address.map(|a| (a, limits.per_address)));
        for (key, limit) in checks {
            let (count, oldest) = recent(conn, key, since)?;
            if count >= limit {
                let until = oldest.unwrap_or(now) + limits.window;
                return Ok(Err((until - now).num_seconds().max(1) as u64));
            }
        }
        let login_row = insert(conn, login, now)?;
        let address_row = address.map(|a| insert(conn, a, now)).transpose()?;
        Ok(Ok(Attempt {
            login_row,
            address_row,
        }))
    })?;
    if let Err(e) = sweep(conn, now, since) {
        tracing::warn!(error = %e, "old login attempts were not swept");
    }
    Ok(admitted)
}

/// The attempt succeeded: the login name's count starts again, and the address is not
/// charged for it.
pub fn succeeded(conn: &mut DbConnection, login: &str, attempt: Attempt) -> QueryResult<()> {
    conn.transaction(|conn| {
        clear(conn, login)?;
        remove(conn, attempt.address_row)
    })
}

/// The attempt was never checked (the service was too busy): it does not count.
pub fn withdraw(conn: &mut DbConnection, attempt: Attempt) -> QueryResult<()> {
    conn.transaction(|conn| {
        remove(conn, Some(attempt.login_row))?;
        remove(conn, attempt.address_row)
    })
}

/// Forgets every counted attempt of a login name: an admin unlocks the account.
pub fn clear(conn: &mut DbConnection, login: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::login.eq(login)))
        .execute(conn)
        .map(drop)
}

/// Attempts of `key` since `since`: how many, and the oldest one's time.
fn recent(
    conn: &mut DbConnection,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    login_failures::table
        .filter(login_failures::login.eq(key))
        .filter(login_failures::failed_at.gt(since))
        .select((count_star(), min(login_failures::failed_at)))
        .first(conn)
}

fn forget_before(conn: &mut DbConnection, key: &str, since: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::login.eq(key))
            .filter(login_failures::failed_at.le(since)),
    )
    .execute(conn)
    .map(drop)
}

fn insert(conn: &mut DbConnection, key: &str, at: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::login.eq(key),
            login_failures::failed_at.eq(at),
        ))
        .returning(login_failures::id)
        .get_result(conn)
}

fn remove(conn: &mut DbConnection, row: Option<i64>) -> QueryResult<()> {
    if let Some(row) = row {
        diesel::delete(login_failures::table.find(row)).execute(conn)?;
    }
    Ok(())
}

fn lock(conn: &mut diesel::PgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<Text, _>(key)
        .execute(conn)
        .map(drop)
}

/// Unix seconds of this process's last sweep.
static LAST_SWEEP: AtomicI64 = AtomicI64::new(0);

/// Once a minute per instance, drops every attempt older than the window, so names and
/// addresses that never come back leave nothing behind. It runs on its own and, on
/// PostgreSQL, passes over rows an attempt holds, so it never waits for one.
fn sweep(conn: &mut DbConnection, now: NaiveDateTime, since: NaiveDateTime) -> QueryResult<()> {
    let now_s = now.and_utc().timestamp();
    let last = LAST_SWEEP.load(Ordering::Relaxed);
    if now_s - last < 60
        || LAST_SWEEP
            .compare_exchange(last, now_s, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return Ok(());
    }
    match conn {
        DbConnection::Pg(pg) => diesel::sql_query(
            "DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures \
             WHERE failed_at <= $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<diesel::sql_types::Timestamp, _>(since)
        .execute(pg)
        .map(drop),
        DbConnection::Sqlite(_) => {
            diesel::delete(login_failures::table.filter(login_failures::failed_at.le(since)))
                .execute(conn)
                .map(drop)
        }
    }
}
