//! HTTP handlers, grouped by resource; routes and the OpenAPI document come from [`routes`].

pub mod auth;
pub mod calendar;
pub mod clients;
pub mod extract;
pub mod health;
pub mod obligations;
pub mod public;
pub mod questions;
pub mod reference;
pub mod stats;
pub mod submissions;
pub mod users;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::scope;

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::calendar::day_start_utc;
use crate::error::{ApiError, FieldError};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route; the same registration yields the OpenAPI paths.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .service(auth::token)
            .service(auth::me)
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
            .service(calendar::deadline),
    )
    .service(health::live)
    .service(health::ready)
    .service(health::metrics);
}

/// One page of a list; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null when there is none.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// A whole, bounded list answered as a single page.
    pub fn complete(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// Cuts rows fetched as `limit + 1` down to the page; when more follow, returns the cursor
/// that continues after the page's last row.
pub fn split_page<R>(
    rows: &mut Vec<R>,
    limit: usize,
    cursor: impl Fn(&R) -> String,
) -> Option<String> {
    (rows.len() > limit).then(|| {
        rows.truncate(limit);
        cursor(&rows[limit - 1])
    })
}

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

/// Checks `?limit=`: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn page_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT as u32).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::InvalidParameter(FieldError::new(
            "limit",
            format!("must be from 1 to {MAX_LIMIT}"),
        ))),
    }
}

/// An opaque position in a list: the sort key of the last item served, base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor that continues after `key`.
    pub fn encode(key: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    }

    /// Reads a cursor given back by a client.
    pub fn decode(s: &str) -> Result<Self, ApiError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Self)
            .ok_or_else(|| {
                ApiError::InvalidParameter(FieldError::new(
                    "cursor",
                    "is not a cursor this API gave",
                ))
            })
    }

    /// The sort key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Reads a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
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
