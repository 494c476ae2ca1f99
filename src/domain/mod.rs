//! Rules with no I/O: the working-day calendar, reporting periods, text folding, reference kinds,
//! safe text for exported files.

pub mod access;
pub mod account;
pub mod calendar;
pub mod compliance;
pub mod content;
pub mod events;
pub mod export;
pub mod invalid;
pub mod mail;
pub mod period;
pub mod question;
pub mod reference;
pub mod submission;
pub mod text;
pub mod vn_format;
pub mod webhook;
