//! Webhook deliveries: claiming due deliveries so that one instance sends a given attempt,
//! recording what each attempt got, and disabling an endpoint that has failed for days. (The
//! deliveries are made by the fan-out, `db::fanout`.)
//!
//! Every write here runs in one short transaction that takes the write lock first (SQLite
//! `BEGIN IMMEDIATE`) or works row by row under PostgreSQL's locks, so several instances on one
//! database share the work without sending an attempt twice at once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};

use super::events as event_log;
use super::schema::{webhook_attempts, webhook_deliveries, webhooks};
use super::{portable_query as query, write_transaction, DbConnection, DbError};
use crate::domain::events::{self, EventType, NewEvent, SubjectKind};
use crate::domain::webhook::DISABLE_AFTER_DAYS;

/// A delivery claimed for one attempt, with what sending it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery.
    pub id: i64,
    /// Its webhook.
    pub webhook_id: String,
    /// The event's id: the `webhook-id` header.
    pub event_id: String,
    /// The exact body to send.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i32,
    /// Where to send it.
    pub url: String,
    /// The webhook's signing secret.
    pub secret: String,
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    webhook_id: String,
    #[diesel(sql_type = Text)]
    event_id: String,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Pending, due, not leased (or the lease ran out), and the webhook enabled.
const DUE: &str = "d.status = 'pending' AND d.next_attempt_at <= ? \
     AND (d.lease_until IS NULL OR d.lease_until <= ?) AND w.enabled";

/// Whether there is work, as one read answers it: the check an idle round makes before any
/// write transaction.
#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct Probe {
    /// Numbered events the fan-out has not passed on yet.
    #[diesel(sql_type = Bool)]
    pub new_events: bool,
    /// Deliveries due and free to claim.
    #[diesel(sql_type = Bool)]
    pub due: bool,
}

/// Looks for new events to pass on and for due deliveries, in one read.
pub fn probe(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Probe, DbError> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM events WHERE seq < {} AND seq > \
         COALESCE((SELECT seq FROM event_cursors WHERE name = 'webhooks'), 0)) AS new_events, \
         EXISTS (SELECT 1 FROM webhook_deliveries d \
         JOIN webhooks w ON w.id = d.webhook_id WHERE {DUE}) AS due",
        event_log::visible_below_sql(conn)
    );
    Ok(query(conn, &sql)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(now)
        .get_result(conn)?)
}

/// Claims up to `limit` due deliveries, oldest due first, leasing them until `lease_until`:
/// until then no instance claims them again, and if this one dies they become due again.
/// PostgreSQL skips rows another instance is claiming at the same moment.
fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let lock = match conn {
        DbConnection::Pg(pg) => {
            // Read the due deliveries in the order of their index and stop at the limit. With
            // statistics from before a burst (a table that had few pending rows), PostgreSQL
            // would otherwise collect and sort every due row at each claim: measured 10-20 ms
            // per claim with 20,000 due, against about 1 ms. It lasts until this transaction
            // ends, and the claim is its last statement.
            pg.batch_execute("SET LOCAL enable_sort = off")?;
            "FOR UPDATE OF d SKIP LOCKED"
        }
        DbConnection::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = ? WHERE id IN (\
         SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE {DUE} ORDER BY d.next_attempt_at LIMIT ? {lock}) \
         RETURNING id, webhook_id, event_id, payload, attempts"
    );
    let rows: Vec<ClaimedRow> = query(conn, &sql)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.webhook_id.as_str()).collect();
    let targets: BTreeMap<String, (String, String)> = webhooks::table
        .filter(webhooks::id.eq_any(ids))
        .select((webhooks::id, webhooks::url, webhooks::secret))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, url, secret)| (id, (url, secret)))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            // The webhook row was read in this transaction; it cannot be gone.
            let (url, secret) = targets.get(&row.webhook_id)?.clone();
            Some(Claimed {
                id: row.id,
                webhook_id: row.webhook_id,
                event_id: row.event_id,
                payload: row.payload,
                attempts: row.attempts,
                url,
                secret,
            })
        })
        .collect())
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The receiver took it.
    Succeeded,
    /// It failed and is tried again then.
    RetryAt(NaiveDateTime),
    /// It failed for the last time.
    Failed,
}

/// One attempt, as recorded.
#[derive(Debug, Clone)]
pub struct Attempted {
    /// The delivery.
    pub delivery_id: i64,
    /// Its webhook.
    pub webhook_id: String,
    /// Attempts made before this one, as claimed: the record is kept only if nobody recorded
    /// another attempt meanwhile.
    pub claimed_attempts: i32,
    /// When it was sent.
    pub attempted_at: NaiveDateTime,
    /// The receiver's status, when it answered.
    pub http_status: Option<i32>,
    /// What went wrong, when it did not answer (short, no secret).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// Where the delivery stands now.
    pub next: Next,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_attempts)]
struct NewAttempt<'a> {
    delivery_id: i64,
    webhook_id: &'a str,
    attempt: i32,
    attempted_at: NaiveDateTime,
    http_status: Option<i32>,
    error: Option<&'a str>,
    duration_ms: i64,
    next_attempt_at: Option<NaiveDateTime>,
}

/// What one [`settle`] did.
#[derive(Debug, Default)]
pub struct Settled {
    /// For each attempt given, in order: whether it was recorded (false when another instance
    /// had recorded an attempt of that delivery meanwhile, after this one's lease ran out).
    pub recorded: Vec<bool>,
    /// Deliveries claimed for their next attempt.
    pub claimed: Vec<Claimed>,
    /// Webhooks disabled because their deliveries have all failed for
    /// [`DISABLE_AFTER_DAYS`] days.
    pub disabled: Vec<String>,
}

/// In one transaction: records finished attempts (an attempt row each, the delivery's new
/// state, the webhooks' health), then claims up to `claim` due deliveries leased until
/// `lease_until`. One transaction per batch keeps the commits, and SQLite's fsyncs, few.
pub fn settle(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    done: &[Attempted],
    claim_limit: i64,
    lease_until: NaiveDateTime,
) -> Result<Settled, DbError> {
    write_transaction(conn, |conn| {
        let recorded = record(conn, done)?;
        let kept: Vec<&Attempted> = done
            .iter()
            .zip(&recorded)
            .filter_map(|(a, r)| r.then_some(a))
            .collect();
        let disabled = update_health(conn, now, &kept)?;
        let claimed = claim(conn, now, lease_until, claim_limit)?;
        Ok(Settled {
            recorded,
            claimed,
            disabled,
        })
    })
}

impl Next {
    /// The delivery's status and next attempt.
    fn stored(self) -> (&'static str, Option<NaiveDateTime>) {
        match self {
            Next::Succeeded => ("succeeded", None),
            Next::RetryAt(at) => ("pending", Some(at)),
            Next::Failed => ("failed", None),
        }
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Attempts recorded per UPDATE: 4 parameters each, far below both databases' limits.
const ATTEMPTS_PER_STATEMENT: usize = 250;

/// Moves each delivery on, one statement per [`ATTEMPTS_PER_STATEMENT`] attempts (a round trip
/// per delivery would cap a PostgreSQL instance near a thousand deliveries a second), and
/// inserts an attempt row for each delivery moved.
fn record(conn: &mut DbConnection, done: &[Attempted]) -> Result<Vec<bool>, DbError> {
    let mut moved: BTreeSet<i64> = BTreeSet::new();
    for chunk in done.chunks(ATTEMPTS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?, ?)"; chunk.len()].join(", ");
        // A delivery moves only from the state it was claimed in: if its lease ran out and
        // another instance recorded an attempt meanwhile, this one is not recorded twice.
        let sql = format!(
            "WITH v (id, attempts, status, next_at) AS (VALUES {values}) \
             UPDATE webhook_deliveries SET status = v.status, \
             attempts = webhook_deliveries.attempts + 1, next_attempt_at = v.next_at, \
             lease_until = NULL FROM v WHERE webhook_deliveries.id = v.id \
             AND webhook_deliveries.attempts = v.attempts \
             AND webhook_deliveries.status = 'pending' RETURNING webhook_deliveries.id AS id"
        );
        macro_rules! moved {
            ($c:expr, $base:expr, $backend:ty) => {{
                let mut q = $base.into_boxed::<$backend>();
                for a in chunk {
                    let (status, next_at) = a.next.stored();
                    q = q
                        .bind::<BigInt, _>(a.delivery_id)
                        .bind::<Integer, _>(a.claimed_attempts)
                        .bind::<Text, _>(status)
                        .bind::<Nullable<Timestamp>, _>(next_at);
                }
                q.load::<Id>($c)?
            }};
        }
        let base = query(conn, &sql);
        let ids = match conn {
            DbConnection::Pg(c) => moved!(c, base, diesel::pg::Pg),
            DbConnection::Sqlite(c) => moved!(c, base, diesel::sqlite::Sqlite),
        };
        moved.extend(ids.into_iter().map(|r| r.id));
    }
    let recorded: Vec<bool> = done
        .iter()
        .map(|a| moved.contains(&a.delivery_id))
        .collect();
    let attempts: Vec<NewAttempt> = done
        .iter()
        .zip(&recorded)
        .filter(|(_, kept)| **kept)
        .map(|(a, _)| NewAttempt {
            delivery_id: a.delivery_id,
            webhook_id: &a.webhook_id,
            attempt: a.claimed_attempts + 1,
            attempted_at: a.attempted_at,
            http_status: a.http_status,
            error: a.error.as_deref(),
            duration_ms: a.duration_ms,
            next_attempt_at: a.next.stored().1,
        })
        .collect();
    for chunk in attempts.chunks(ATTEMPTS_PER_STATEMENT) {
        match conn {
            DbConnection::Pg(c) => diesel::insert_into(webhook_attempts::table)
                .values(chunk)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(webhook_attempts::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(recorded)
}

/// Keeps each webhook's `failing_since`: set at the first failure after a success, cleared by a
/// success. A failure when it has been failing for [`DISABLE_AFTER_DAYS`] days or more disables
/// the webhook, gives up its pending deliveries (the events feed is the way to catch up) and
/// records a `webhook.disabled` event. Returns the webhooks disabled.
fn update_health(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    kept: &[&Attempted],
) -> Result<Vec<String>, DbError> {
    // Per webhook, in the order the attempts finished: (whether the last one succeeded,
    // whether any did).
    let mut by_webhook: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for a in kept {
        let ok = a.next == Next::Succeeded;
        let entry = by_webhook.entry(&a.webhook_id).or_insert((ok, false));
        entry.0 = ok;
        entry.1 |= ok;
    }
    let healthy: Vec<&str> = by_webhook
        .iter()
        .filter_map(|(id, (last_ok, _))| last_ok.then_some(*id))
        .collect();
    if !healthy.is_empty() {
        diesel::update(
            webhooks::table
                .filter(webhooks::id.eq_any(&healthy))
                .filter(webhooks::failing_since.is_not_null()),
        )
        .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    }
    let mut failing = Vec::new();
    for (id, (last_ok, any_ok)) in &by_webhook {
        if *last_ok {
            continue;
        }
        failing.push(*id);
        // After a success in this same batch the failing starts now; otherwise it goes on
        // from its first failure.
        let target = webhooks::table.filter(webhooks::id.eq(*id));
        if *any_ok {
            diesel::update(target)
                .set(webhooks::failing_since.eq(Some(now)))
                .execute(conn)?;
        } else {
            diesel::update(target.filter(webhooks::failing_since.is_null()))
                .set(webhooks::failing_since.eq(Some(now)))
                .execute(conn)?;
        }
    }
    if failing.is_empty() {
        return Ok(Vec::new());
    }
    let cutoff = now - Duration::days(DISABLE_AFTER_DAYS);
    let worn_out: Vec<(String, Option<String>, Option<NaiveDateTime>)> = webhooks::table
        .filter(webhooks::id.eq_any(&failing))
        .filter(webhooks::enabled.eq(true))
        .filter(webhooks::failing_since.le(cutoff))
        .select((webhooks::id, webhooks::unit_code, webhooks::failing_since))
        .load(conn)?;
    let mut disabled = Vec::with_capacity(worn_out.len());
    for (id, unit, since) in worn_out {
        let since = since.unwrap_or(cutoff);
        let reason = format!(
            "every delivery has failed since {} ({DISABLE_AFTER_DAYS} days or more)",
            events::wire_time(since)
        );
        diesel::update(webhooks::table.filter(webhooks::id.eq(&id)))
            .set((
                webhooks::enabled.eq(false),
                webhooks::disabled_reason.eq(Some(&reason)),
                webhooks::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::webhook_id.eq(&id))
                .filter(webhook_deliveries::status.eq("pending")),
        )
        .set((
            webhook_deliveries::status.eq("failed"),
            webhook_deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        let event = NewEvent::new(
            EventType::WebhookDisabled,
            now,
            unit,
            SubjectKind::Webhook,
            id.clone(),
        )
        .with("reason", reason.as_str())
        .with("failing_since", events::wire_time(since));
        event_log::record(conn, &event)?;
        disabled.push(id);
    }
    Ok(disabled)
}

/// Gives back deliveries claimed but not sent (the service is stopping): they are due again at
/// once, for this or another instance, instead of when their lease runs out.
pub fn release(conn: &mut DbConnection, claimed: &[(i64, i32)]) -> Result<(), DbError> {
    if claimed.is_empty() {
        return Ok(());
    }
    write_transaction(conn, |conn| {
        for (id, attempts) in claimed {
            query(
                conn,
                "UPDATE webhook_deliveries SET lease_until = NULL \
                 WHERE id = ? AND attempts = ? AND status = 'pending'",
            )
            .bind::<BigInt, _>(*id)
            .bind::<Integer, _>(*attempts)
            .execute(conn)?;
        }
        Ok(())
    })
}

#[derive(QueryableByName)]
struct Oldest {
    #[diesel(sql_type = Nullable<Timestamp>)]
    at: Option<NaiveDateTime>,
}

/// When the oldest delivery still pending for an enabled webhook was created.
pub fn oldest_pending(conn: &mut DbConnection) -> Result<Option<NaiveDateTime>, DbError> {
    let row: Oldest = diesel::sql_query(
        "SELECT MIN(d.created_at) AS at FROM webhook_deliveries d \
         JOIN webhooks w ON w.id = d.webhook_id WHERE d.status = 'pending' AND w.enabled",
    )
    .get_result(conn)?;
    Ok(row.at)
}
