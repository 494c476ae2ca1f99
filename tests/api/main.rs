//! Integration tests: each starts the service on a fresh database and calls it over HTTP.
//! On SQLite by default; on PostgreSQL when `PORTAL_TEST_POSTGRES_URL` is set.

mod accounts;
mod admin_writes;
mod auth;
mod calendar;
mod concurrency;
mod errors;
mod events;
mod headers;
mod health;
mod helpers;
mod hostile;
mod links;
mod mail;
mod mail_timed;
mod matrix;
mod openapi;
mod questions;
mod reference;
mod security;
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;
mod stats;
mod submissions;
mod timed_events;
mod tracking_page;
#[allow(dead_code)]
#[path = "../support/webhook_receiver.rs"]
mod webhook_receiver;
mod webhooks;
mod webhooks_admin;
