//! Webhooks as their owners manage them, the deliveries queued for them, and the attempts made.
//!
//! Sending is the outbox's work; this module registers, changes and lists.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{webhook_attempts, webhook_deliveries, webhooks};
use super::DbConnection;

/// A webhook as stored. Its `Debug` leaves the secret out.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// `wh_` and 32 hex digits.
    pub id: String,
    /// Where events are sent.
    pub url: String,
    /// Subscribed event types, or `["*"]`.
    pub events: Vec<String>,
    /// Only this unit's events; `None`: every unit's (admin-made webhooks only).
    pub unit: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// `whsec_` and base64: the key of every signature.
    pub secret: String,
    /// Whether events are sent to it.
    pub enabled: bool,
    /// The API client (`client:<client_id>`) that made it; `None` for an admin's.
    pub owner: Option<String>,
    /// Since when every delivery has failed, if they do.
    pub failing_since: Option<NaiveDateTime>,
    /// Why it was disabled, when the service disabled it.
    pub disabled_reason: Option<String>,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: NaiveDateTime,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("unit", &self.unit)
            .field("enabled", &self.enabled)
            .field("owner", &self.owner)
            .field("failing_since", &self.failing_since)
            .field("disabled_reason", &self.disabled_reason)
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    id: String,
    url: String,
    events: String,
    unit_code: Option<String>,
    description: Option<String>,
    secret: String,
    enabled: bool,
    owner: Option<String>,
    failing_since: Option<NaiveDateTime>,
    disabled_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl WebhookRow {
    fn into_webhook(self) -> QueryResult<Webhook> {
        let events = serde_json::from_str(&self.events).map_err(|_| {
            diesel::result::Error::DeserializationError(
                format!("webhook {} has no JSON list of events", self.id).into(),
            )
        })?;
        Ok(Webhook {
            id: self.id,
            url: self.url,
            events,
            unit: self.unit_code,
            description: self.description,
            secret: self.secret,
            enabled: self.enabled,
            owner: self.owner,
            failing_since: self.failing_since,
            disabled_reason: self.disabled_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The stored form of a list of event types: a JSON array.
fn events_text(events: &[String]) -> String {
    serde_json::Value::from(events.to_vec()).to_string()
}

/// A webhook to insert.
#[derive(Clone, Copy)]
pub struct NewWebhook<'a> {
    /// `wh_` and 32 hex digits.
    pub id: &'a str,
    /// Where events are sent.
    pub url: &'a str,
    /// Subscribed event types, or `["*"]`.
    pub events: &'a [String],
    /// Only this unit's events, or every unit's.
    pub unit: Option<&'a str>,
    /// What it is for.
    pub description: Option<&'a str>,
    /// `whsec_` and base64.
    pub secret: &'a str,
    /// The API client that makes it; `None` for an admin.
    pub owner: Option<&'a str>,
    /// Creation time (UTC).
    pub now: NaiveDateTime,
}

/// Inserts a new, enabled webhook.
pub fn insert(conn: &mut DbConnection, new: &NewWebhook<'_>) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(new.id),
            webhooks::url.eq(new.url),
            webhooks::events.eq(events_text(new.events)),
            webhooks::unit_code.eq(new.unit),
            webhooks::description.eq(new.description),
            webhooks::secret.eq(new.secret),
            webhooks::enabled.eq(true),
            webhooks::owner.eq(new.owner),
            webhooks::created_at.eq(new.now),
            webhooks::updated_at.eq(new.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One webhook by id.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Webhook>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?
        .map(WebhookRow::into_webhook)
        .transpose()
}

/// The webhooks of one owner (`Some`), or every webhook (`None`), oldest first.
pub fn list(conn: &mut DbConnection, owner: Option<&str>) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table
        .select(WebhookRow::as_select())
        .order((webhooks::created_at.asc(), webhooks::id.asc()))
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(webhooks::owner.eq(owner.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(WebhookRow::into_webhook)
        .collect()
}

/// How many webhooks one owner has (`Some`), or how many there are in all (`None`).
pub fn count(conn: &mut DbConnection, owner: Option<&str>) -> QueryResult<i64> {
    match owner {
        Some(owner) => webhooks::table
            .filter(webhooks::owner.eq(owner))
            .count()
            .get_result(conn),
        None => webhooks::table.count().get_result(conn),
    }
}

/// Changes to a webhook: `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    /// Where events are sent.
    pub url: Option<String>,
    /// Subscribed types, as stored (see [`WebhookChanges::events`]).
    events: Option<String>,
    /// What it is for.
    pub description: Option<Option<String>>,
    /// A new secret.
    pub secret: Option<String>,
    /// Whether events are sent to it.
    pub enabled: Option<bool>,
    /// Since when deliveries fail.
    pub failing_since: Option<Option<NaiveDateTime>>,
    /// Why the service disabled it.
    pub disabled_reason: Option<Option<String>>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

impl fmt::Debug for WebhookChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookChanges")
            .field("url", &self.url)
            .field("events", &self.events)
            .field("enabled", &self.enabled)
            .field("secret_changed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

impl WebhookChanges {
    /// Sets the subscribed event types.
    pub fn events(mut self, events: &[String]) -> Self {
        self.events = Some(events_text(events));
        self
    }
}

/// Applies changes to a webhook; false when there is no such webhook.
pub fn update(conn: &mut DbConnection, id: &str, changes: &WebhookChanges) -> QueryResult<bool> {
    let n = diesel::update(webhooks::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(n > 0)
}

/// Deletes a webhook with its deliveries and their attempts; false when there is no such
/// webhook.
pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    // The foreign keys cascade too; deleting explicitly does not depend on them being on.
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::webhook_id.eq(id)))
        .execute(conn)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    let n = diesel::delete(webhooks::table.find(id)).execute(conn)?;
    Ok(n > 0)
}

/// A delivery to queue: one event for one webhook, to be sent from `next_attempt_at` on.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    /// The webhook.
    pub webhook_id: &'a str,
    /// The event's id, the `webhook-id` header.
    pub event_id: &'a str,
    /// The event's type.
    pub event_type: &'a str,
    /// The exact JSON body to send.
    pub payload: &'a str,
    /// When it is queued, and due.
    pub now: NaiveDateTime,
}

/// Queues a pending delivery, due at once.
pub fn insert_delivery(conn: &mut DbConnection, new: &NewDelivery<'_>) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::webhook_id.eq(new.webhook_id),
            webhook_deliveries::event_id.eq(new.event_id),
            webhook_deliveries::event_type.eq(new.event_type),
            webhook_deliveries::payload.eq(new.payload),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(Some(new.now)),
            webhook_deliveries::created_at.eq(new.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One attempt to send a delivery, with the event it carried.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Attempt {
    /// Increases with every attempt made.
    pub id: i64,
    /// The delivery it belongs to.
    pub delivery_id: i64,
    /// 1 for the first attempt of a delivery.
    pub attempt: i32,
    /// When it was made (UTC).
    pub attempted_at: NaiveDateTime,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<i32>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// When the next attempt is due; `None` when there is none.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
}

/// The attempts made for a webhook, newest first, from before attempt `before` (or from the
/// newest), up to `limit`.
pub fn attempts(
    conn: &mut DbConnection,
    webhook_id: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Attempt>> {
    let mut query = webhook_attempts::table
        .inner_join(webhook_deliveries::table)
        .filter(webhook_attempts::webhook_id.eq(webhook_id.to_string()))
        .select((
            webhook_attempts::id,
            webhook_attempts::delivery_id,
            webhook_attempts::attempt,
            webhook_attempts::attempted_at,
            webhook_attempts::http_status,
            webhook_attempts::error,
            webhook_attempts::duration_ms,
            webhook_attempts::next_attempt_at,
            webhook_deliveries::event_id,
            webhook_deliveries::event_type,
        ))
        .order(webhook_attempts::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_attempts::id.lt(before));
    }
    query.load(conn)
}
