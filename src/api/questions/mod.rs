//! Citizen questions: asking and tracking (public), routing and answering (staff), public Q&A.

mod citizen;
mod public;
mod staff;

pub use citizen::*;
pub use public::*;
pub use staff::*;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::invalid::Invalid;
use crate::service::questions::Reply;

/// A time as Vietnam reads it, for the due dates an asker is shown.
fn vn(t: chrono::NaiveDateTime) -> DateTime<chrono::FixedOffset> {
    t.and_utc()
        .with_timezone(&crate::domain::calendar::vietnam_offset())
}

/// A rule of the domain as a declared check: its code and message, never the value.
fn rule<T>(checked: Result<T, Invalid>) -> Result<(), validator::ValidationError> {
    checked
        .map(|_| ())
        .map_err(|why| validator::ValidationError::new(why.code).with_message(why.message))
}

/// A reply, as the asker and the public see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyResponse {
    /// Text.
    pub body: String,
    /// The unit that answered, when an officer did; none when the board did.
    pub unit: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<Reply> for ReplyResponse {
    fn from(r: Reply) -> Self {
        Self {
            body: r.body,
            unit: r.unit_code,
            at: r.created_at.and_utc(),
        }
    }
}

/// The asker's rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingResponse {
    /// 1 (poor) to 5 (excellent).
    pub score: i32,
    /// Comment.
    pub comment: Option<String>,
}
