//! Idempotency keys of `POST` requests, kept in the database so that they hold across instances.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel::Connection;

use super::schema::idempotency_keys;
use super::DbConnection;

/// How long a key is remembered.
pub const KEY_LIFETIME_HOURS: i64 = 24;
/// A request still "in progress" after this long is taken to have died, and may be redone.
pub const ABANDONED_AFTER_SECONDS: i64 = 60;

/// What a key says about a new request with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired): go ahead, then [`complete`] or [`release`] it.
    Fresh,
    /// The same request was answered before: answer this again.
    Replay {
        /// HTTP status of the first answer.
        status: u16,
        /// Body of the first answer.
        body: String,
    },
    /// The same key came with another request body.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    request_hash: String,
    state: String,
    status_code: Option<i32>,
    response_body: Option<String>,
    created_at: NaiveDateTime,
}

/// Claims `key` for `principal`'s request with hash `hash`.
pub fn claim(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Claim> {
    // Two rounds at most: the second after clearing an expired or abandoned key.
    for _ in 0..2 {
        // In a savepoint: on PostgreSQL a failed insert would otherwise abort the caller's
        // whole transaction.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::principal.eq(principal),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::request_hash.eq(hash),
                    idempotency_keys::state.eq("in_progress"),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => return Ok(Claim::Fresh),
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e),
        }
        let Some(row) = idempotency_keys::table
            .find((principal, key))
            .select(KeyRow::as_select())
            .first(conn)
            .optional()?
        else {
            continue;
        };
        let expired = row.created_at < now - Duration::hours(KEY_LIFETIME_HOURS);
        let abandoned = row.state == "in_progress"
            && row.created_at < now - Duration::seconds(ABANDONED_AFTER_SECONDS);
        if expired || abandoned {
            diesel::delete(
                idempotency_keys::table
                    .find((principal, key))
                    .filter(idempotency_keys::created_at.eq(row.created_at)),
            )
            .execute(conn)?;
            continue;
        }
        // While the first request runs its outcome is unknown, whatever this one carries.
        return Ok(
            match (row.state.as_str(), row.status_code, row.response_body) {
                ("done", _, _) if row.request_hash != hash => Claim::Mismatch,
                ("done", Some(status), Some(body)) => Claim::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                },
                _ => Claim::InProgress,
            },
        );
    }
    Ok(Claim::InProgress)
}

/// Stores the answer of a claimed key, so that retries get it again.
pub fn complete(
    conn: &mut DbConnection,
    principal: &str,
    key: &str,
    status: u16,
    body: &str,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((principal, key)))
        .set((
            idempotency_keys::state.eq("done"),
            idempotency_keys::status_code.eq(Some(i32::from(status))),
            idempotency_keys::response_body.eq(Some(body)),
        ))
        .execute(conn)
        .map(drop)
}

/// Forgets a claimed key whose request failed, so that a corrected retry can use it.
pub fn release(conn: &mut DbConnection, principal: &str, key: &str) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .find((principal, key))
            .filter(idempotency_keys::state.eq("in_progress")),
    )
    .execute(conn)
    .map(drop)
}
