//! HTTP handlers, grouped by resource; routes and the OpenAPI document come from [`routes`].

pub mod auth;
pub mod calendar;
pub mod clients;
pub mod events;
pub mod extract;
pub mod health;
pub mod mail;
pub mod obligations;
pub mod page;
pub mod principal;
pub mod public;
pub mod questions;
pub mod reference;
pub mod stats;
pub mod submissions;
pub mod tracking_page;
pub mod users;
pub mod webhooks;

pub use page::{page_limit, split_page, Cursor, Page, DEFAULT_LIMIT, MAX_LIMIT};

use serde::{Deserialize, Deserializer};
use utoipa_actix_web::scope;

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::calendar::day_start_utc;
use crate::domain::invalid::Invalid;
use crate::domain::question::Email;
use crate::error::{ApiError, FieldError};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route; the same registration yields the OpenAPI paths.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .service(auth::token)
            .service(auth::me)
            .service(auth::update_me)
            .service(users::create_user)
            .service(users::list_users)
            .service(users::get_user)
            .service(users::update_user)
            .service(users::unlock_user)
            .service(clients::create_client)
            .service(clients::list_clients)
            .service(clients::delete_client)
            .service(clients::rotate_secret)
            .service(submissions::create_submission)
            .service(submissions::list_submissions)
            .service(submissions::get_submission)
            .service(submissions::update_submission)
            .service(submissions::transition_submission)
            .service(submissions::submission_history)
            .service(public::list_articles)
            .service(public::get_article)
            .service(public::feed)
            .service(questions::ask)
            .service(questions::track)
            .service(questions::rate)
            .service(mail::resend)
            .service(questions::list_questions)
            .service(questions::get_question)
            .service(questions::reply)
            .service(questions::transition_question)
            .service(questions::list_public_questions)
            .service(questions::get_public_question)
            .service(obligations::list_obligations)
            .service(obligations::obligation_status)
            .service(obligations::create_obligation)
            .service(obligations::update_obligation)
            .service(stats::quarterly)
            .service(stats::overview)
            .service(reference::list_units)
            .service(reference::create_unit)
            .service(reference::get_unit)
            .service(reference::update_unit)
            .service(reference::list_categories)
            .service(reference::create_category)
            .service(reference::update_category)
            .service(calendar::list_holidays)
            .service(calendar::put_holiday)
            .service(calendar::delete_holiday)
            .service(calendar::deadline)
            .service(events::list_events)
            .service(webhooks::create_webhook)
            .service(webhooks::list_webhooks)
            .service(webhooks::get_webhook)
            .service(webhooks::update_webhook)
            .service(webhooks::delete_webhook)
            .service(webhooks::list_deliveries)
            .service(webhooks::test_webhook)
            .service(mail::list_mail),
    )
    .service(health::live)
    .service(health::ready)
    .service(health::metrics);
}

/// The address of the client that sent `req`, as the rate limits count it: the socket peer,
/// or what a trusted proxy in front says in `X-Forwarded-For`.
pub fn client_of(
    req: &actix_web::HttpRequest,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    crate::ratelimit::client_address(req.peer_addr().map(|a| a.ip()), forwarded, trusted)
}

/// Reads a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A nullable e-mail address of a change: absent stays absent (`None`), `null` clears it
/// (`Some(None)`), anything else is parsed.
pub fn email_change(value: Option<Option<String>>) -> Result<Option<Option<Email>>, Invalid> {
    value
        .map(|v| v.as_deref().map(Email::parse).transpose())
        .transpose()
}

/// Turns an inclusive range of Vietnamese calendar days into UTC bounds `[from, to)`.
pub fn date_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(Option<NaiveDateTime>, Option<NaiveDateTime>), ApiError> {
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::InvalidParameter(FieldError::new(
                "from",
                "must not be after `to`",
            )));
        }
    }
    Ok((
        from.map(day_start_utc),
        to.and_then(|t| t.succ_opt()).map(day_start_utc),
    ))
}
