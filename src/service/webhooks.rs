//! The webhook use cases: register, list, read, change and delete webhooks, list their
//! delivery attempts, and queue a test event.
//!
//! Admins manage every webhook, for one unit's events or every unit's; an agency portal's API
//! client manages its own, which receive only its unit's events. Anyone else has none. A
//! webhook another client owns answers 404 to a client, as though it did not exist.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use diesel::Connection;

use crate::config::Environment;
use crate::db::webhooks::{self as store, NewDelivery, NewWebhook, WebhookChanges};
use crate::db::DbConnection;
use crate::domain::access::{Principal, Role, WebhookScope};
use crate::domain::account::parse_text;
use crate::domain::events::{parse_subscription, to_json, EventType, NewEvent, SubjectKind};
use crate::domain::webhook::{address_allowed, new_secret, url_refusal};
use crate::error::{ApiError, FieldError};
use crate::references::check_unit;
use crate::state::AppState;

pub use crate::db::webhooks::{Attempt, Webhook};

/// Longest description.
pub const MAX_DESCRIPTION: usize = 500;
/// Most webhooks one API client may have.
pub const MAX_PER_CLIENT: i64 = 20;
/// Most webhooks the service keeps in all.
pub const MAX_WEBHOOKS: i64 = 200;
/// How long a webhook's host name may take to resolve when it is saved.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// A webhook with its secret, answered only when it is created or its secret rotated.
pub struct WithSecret {
    /// The webhook.
    pub webhook: Webhook,
    /// The secret in clear, when it was just made.
    pub secret: Option<String>,
}

impl fmt::Debug for WithSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithSecret")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

/// A webhook to register, as sent.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Where to send events.
    pub url: String,
    /// Event types, or `["*"]`.
    pub events: Vec<String>,
    /// Only this unit's events (an API client's own unit whatever it names).
    pub unit: Option<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// Changes to a webhook, as sent: `None` keeps a field, `Some(None)` clears the description.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// A new URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// Turn sending on or off; turning it on again forgets past failures.
    pub enabled: Option<bool>,
    /// A new description, or `Some(None)` for none.
    pub description: Option<Option<String>>,
    /// Give the webhook a new secret, answered this once.
    pub rotate_secret: bool,
}

fn scope(principal: &Principal) -> Result<WebhookScope, ApiError> {
    principal.webhook_scope().ok_or(ApiError::Forbidden)
}

fn visible(scope: &WebhookScope, webhook: &Webhook) -> bool {
    match scope {
        WebhookScope::All => true,
        WebhookScope::Own { owner, .. } => webhook.owner.as_deref() == Some(owner.as_str()),
    }
}

/// The webhook `id` as `scope` may see it, read in the caller's transaction.
fn find_visible(
    conn: &mut DbConnection,
    scope: &WebhookScope,
    id: &str,
) -> Result<Webhook, ApiError> {
    store::find(conn, id)?
        .filter(|w| visible(scope, w))
        .ok_or_else(|| ApiError::not_found("Webhook"))
}

/// Why a URL may not receive webhooks, checked as the webhook is saved: its form
/// (`https://` in production), then, unless private addresses are allowed, every address its
/// host resolves to. Each delivery checks the addresses again.
async fn url_problem(state: &AppState, url: &str) -> Option<String> {
    let https_required = state.settings.environment == Environment::Production;
    if let Some(why) = url_refusal(url, https_required) {
        return Some(why);
    }
    if state.settings.webhook_allow_private {
        return None;
    }
    let parsed = url::Url::parse(url).ok()?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match parsed.host()? {
        url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
        url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        url::Host::Domain(name) => {
            match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port))).await
            {
                Ok(Ok(found)) => found.map(|a: SocketAddr| a.ip()).collect(),
                Ok(Err(_)) => Vec::new(),
                Err(_) => {
                    return Some(format!(
                        "its host name did not resolve within {} seconds",
                        RESOLVE_TIMEOUT.as_secs()
                    ))
                }
            }
        }
    };
    if addresses.is_empty() {
        return Some("its host name does not resolve".into());
    }
    if addresses.iter().any(|ip| !address_allowed(*ip, false)) {
        return Some(
            "its host is a loopback, private, link-local or unique-local address (or resolves \
             to one), which webhooks may not reach; PORTAL_WEBHOOK_ALLOW_PRIVATE=true allows \
             them"
                .into(),
        );
    }
    None
}

fn check_events(names: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    parse_subscription(names).unwrap_or_else(|(i, why)| {
        errors.push(FieldError::new(format!("events[{i}]"), why));
        Vec::new()
    })
}

fn check_description(text: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    match text.map(|t| parse_text(t, MAX_DESCRIPTION)) {
        Some(Ok(t)) if !t.is_empty() => Some(t),
        Some(Err(why)) => {
            errors.push(FieldError::new("description", why));
            None
        }
        _ => None,
    }
}

fn refuse_if_any(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Registers a webhook and answers it with its new secret. An API client's webhook gets the
/// client's unit and the client as owner; an admin's the unit named, or every unit.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    registration: Registration,
) -> Result<WithSecret, ApiError> {
    let scope = scope(principal)?;
    let mut errors = Vec::new();
    let events = check_events(&registration.events, &mut errors);
    let description = check_description(registration.description.as_deref(), &mut errors);
    let (unit, owner) = match &scope {
        WebhookScope::All => (registration.unit, None),
        WebhookScope::Own { owner, unit } => {
            if registration.unit.as_ref().is_some_and(|u| u != unit) {
                errors.push(FieldError::new(
                    "unit",
                    "an API client's webhooks receive its own unit's events only",
                ));
            }
            (Some(unit.clone()), Some(owner.clone()))
        }
    };
    // Name resolution waits on the network: it runs here, never on the writer.
    if let Some(why) = url_problem(state, &registration.url).await {
        errors.push(FieldError::new("url", why));
    }
    refuse_if_any(errors)?;
    let url = registration.url;
    let secret = new_secret();
    let id = format!("wh_{}", uuid::Uuid::new_v4().simple());
    let now = state.now();
    let stored_secret = secret.clone();
    let webhook = state
        .write(move |conn| {
            conn.transaction(|conn| {
                if owner.is_none() {
                    check_unit(conn, Role::Admin, unit.as_deref())?;
                }
                check_room(conn, owner.as_deref())?;
                store::insert(
                    conn,
                    &NewWebhook {
                        id: &id,
                        url: &url,
                        events: &events,
                        unit: unit.as_deref(),
                        description: description.as_deref(),
                        secret: &stored_secret,
                        owner: owner.as_deref(),
                        now,
                    },
                )?;
                store::find(conn, &id)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("webhook {id} vanished after insert"))
                })
            })
        })
        .await?;
    Ok(WithSecret {
        webhook,
        secret: Some(secret),
    })
}

/// Refuses a new webhook beyond the client's or the service's bound.
fn check_room(conn: &mut DbConnection, owner: Option<&str>) -> Result<(), ApiError> {
    if owner.is_some() && store::count(conn, owner)? >= MAX_PER_CLIENT {
        return Err(ApiError::Conflict(format!(
            "An API client may have at most {MAX_PER_CLIENT} webhooks; delete one to add another"
        )));
    }
    if store::count(conn, None)? >= MAX_WEBHOOKS {
        return Err(ApiError::Conflict(format!(
            "The service keeps at most {MAX_WEBHOOKS} webhooks; delete one to add another"
        )));
    }
    Ok(())
}

/// The webhooks the principal manages, oldest first: every one for an admin, a client's own.
pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<Webhook>, ApiError> {
    let owner = match scope(principal)? {
        WebhookScope::All => None,
        WebhookScope::Own { owner, .. } => Some(owner),
    };
    state
        .read(move |conn| Ok(store::list(conn, owner.as_deref())?))
        .await
}

/// One webhook the principal manages.
pub async fn get(state: &AppState, principal: &Principal, id: String) -> Result<Webhook, ApiError> {
    let scope = scope(principal)?;
    state
        .read(move |conn| find_visible(conn, &scope, &id))
        .await
}

/// Changes a webhook; with `rotate_secret` the answer carries its new secret.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: String,
    update: Update,
) -> Result<WithSecret, ApiError> {
    let scope = scope(principal)?;
    let mut errors = Vec::new();
    let events = update
        .events
        .as_deref()
        .map(|names| check_events(names, &mut errors));
    let description = update
        .description
        .as_ref()
        .map(|d| check_description(d.as_deref(), &mut errors));
    if let Some(url) = &update.url {
        if let Some(why) = url_problem(state, url).await {
            errors.push(FieldError::new("url", why));
        }
    }
    refuse_if_any(errors)?;
    let secret = update.rotate_secret.then(new_secret);
    let stored_secret = secret.clone();
    let now = state.now();
    let webhook = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let current = find_visible(conn, &scope, &id)?;
                let mut changes = match &events {
                    Some(events) => WebhookChanges::default().events(events),
                    None => WebhookChanges::default(),
                };
                changes.url = update.url;
                changes.description = description;
                changes.secret = stored_secret;
                changes.enabled = update.enabled;
                if update.enabled == Some(true) && !current.enabled {
                    // Enabled again: the failures that disabled it are behind it.
                    changes.failing_since = Some(None);
                    changes.disabled_reason = Some(None);
                }
                changes.updated_at = Some(now);
                store::update(conn, &current.id, &changes)?;
                store::find(conn, &current.id)?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("webhook {id} vanished in its update"))
                })
            })
        })
        .await?;
    Ok(WithSecret { webhook, secret })
}

/// Deletes a webhook with its queued deliveries and its record of attempts.
pub async fn delete(state: &AppState, principal: &Principal, id: String) -> Result<(), ApiError> {
    let scope = scope(principal)?;
    state
        .write(move |conn| {
            conn.transaction(|conn| {
                let webhook = find_visible(conn, &scope, &id)?;
                store::delete(conn, &webhook.id)?;
                Ok(())
            })
        })
        .await
}

/// The attempts made for a webhook, newest first, before attempt `before` (or from the
/// newest), up to `limit + 1` (one more, to know whether more follow).
pub async fn attempts(
    state: &AppState,
    principal: &Principal,
    id: String,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<Attempt>, ApiError> {
    let scope = scope(principal)?;
    state
        .read(move |conn| {
            let webhook = find_visible(conn, &scope, &id)?;
            Ok(store::attempts(
                conn,
                &webhook.id,
                before,
                limit as i64 + 1,
            )?)
        })
        .await
}

/// Whether an attempt delivered: the receiver answered 2xx in time.
pub fn succeeded(attempt: &Attempt) -> bool {
    attempt.error.is_none() && attempt.http_status.is_some_and(|s| (200..300).contains(&s))
}

/// Queues a `webhook.test` event for this webhook only; answers the event's id. The event is
/// not in the feed and goes to no other webhook. A disabled webhook is a conflict: nothing is
/// sent to it.
pub async fn send_test(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<String, ApiError> {
    let scope = scope(principal)?;
    let now = state.now();
    state
        .write(move |conn| {
            conn.transaction(|conn| {
                let webhook = find_visible(conn, &scope, &id)?;
                if !webhook.enabled {
                    return Err(ApiError::Conflict(
                        "The webhook is disabled; enable it to send it a test".into(),
                    ));
                }
                let event = NewEvent::new(
                    EventType::WebhookTest,
                    now,
                    webhook.unit.clone(),
                    SubjectKind::Webhook,
                    &webhook.id,
                )
                .with("webhook_id", webhook.id.as_str())
                .with(
                    "message",
                    "A test sent on request: your endpoint receives and verifies events.",
                );
                let payload = to_json(None, &event).to_string();
                store::insert_delivery(
                    conn,
                    &NewDelivery {
                        webhook_id: &webhook.id,
                        event_id: &event.id,
                        event_type: event.kind.as_str(),
                        payload: &payload,
                        now,
                    },
                )?;
                Ok(event.id)
            })
        })
        .await
}
