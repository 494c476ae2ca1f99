//! Use cases: one function per thing a user does. Each checks, decides with the rules of
//! `domain`, and writes through `db`, choosing once whether the write goes through the group
//! commit. Handlers in `api` parse, make one call here, and map the answer.

pub mod accounts;
pub mod calendar;
pub mod clients;
pub mod events;
pub mod health;
pub mod login;
pub mod mail;
pub mod obligations;
pub mod public;
pub mod questions;
pub mod reference;
pub mod report;
pub mod submissions;
pub mod webhooks;
