//! portal-api: the service behind a provincial e-portal.

pub mod api;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod cors;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod headers;
pub mod mail;
pub mod malloc;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod ratelimit;
pub mod references;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod templates;
