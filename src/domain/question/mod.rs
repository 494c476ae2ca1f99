//! Citizen questions (SPEC §4): statuses, who may do what, and the asker's details.

mod asker;

pub use asker::{contact_given, initials, optional_email, optional_phone, Email, Phone};

use super::access::{standing, Principal, Role, Standing};
use super::account::{parse_name, parse_text};
use super::invalid::Invalid;
use chrono::NaiveDateTime;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = QuestionStatus)]
pub enum Status {
    /// Asked without a unit; the board routes it.
    Received,
    /// A unit is to answer it.
    Assigned,
    /// It has an official answer.
    Answered,
    /// Answered and shown in the public Q&A (only with the asker's consent).
    Published,
    /// Refused (off-topic, abusive, duplicate), with a reason the asker sees.
    Rejected,
}

/// A step on a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = QuestionAction)]
pub enum Action {
    /// Route (or re-route) to a unit.
    Assign,
    /// Answer, or add to an answer.
    Reply,
    /// Show in the public Q&A.
    Publish,
    /// Refuse, with a reason.
    Reject,
}

/// How the acting principal stands to the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An editor or admin.
    Board,
    /// An officer (or API client) of the unit the question is assigned to.
    AssignedUnit,
}

/// Why a step cannot happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The actor never takes this step (403).
    Forbidden,
    /// Not from the current status, or not without the asker's consent (409).
    InvalidTransition {
        /// Steps this actor could take now.
        allowed: Vec<Action>,
    },
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [
        Status::Received,
        Status::Assigned,
        Status::Answered,
        Status::Published,
        Status::Rejected,
    ];

    /// The stored and wire form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Assigned => "assigned",
            Self::Answered => "answered",
            Self::Published => "published",
            Self::Rejected => "rejected",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether an answer is still owed.
    pub fn awaits_answer(&self) -> bool {
        matches!(self, Self::Received | Self::Assigned)
    }
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [
        Action::Assign,
        Action::Reply,
        Action::Publish,
        Action::Reject,
    ];

    /// The wire form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Assign => "assign",
            Self::Reply => "reply",
            Self::Publish => "publish",
            Self::Reject => "reject",
        }
    }

    fn performed_by(&self, actor: Actor) -> bool {
        match self {
            Self::Assign | Self::Reject => actor == Actor::Board,
            Self::Reply | Self::Publish => true,
        }
    }
}

fn edge(from: Status, action: Action, publish_consent: bool) -> Option<Status> {
    use Action as A;
    use Status as S;
    match (from, action) {
        (S::Received | S::Assigned, A::Assign) => Some(S::Assigned),
        (S::Assigned | S::Answered, A::Reply) => Some(S::Answered),
        (S::Answered, A::Publish) if publish_consent => Some(S::Published),
        (S::Received | S::Assigned, A::Reject) => Some(S::Rejected),
        _ => None,
    }
}

/// The steps `actor` may take on a question in `status`.
pub fn allowed_actions(status: Status, actor: Actor, publish_consent: bool) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| a.performed_by(actor) && edge(status, *a, publish_consent).is_some())
        .collect()
}

/// Decides a step: the new status, or why not. Publishing needs the asker's consent.
pub fn transition(
    status: Status,
    action: Action,
    actor: Actor,
    publish_consent: bool,
) -> Result<Status, Refusal> {
    if !action.performed_by(actor) {
        return Err(Refusal::Forbidden);
    }
    edge(status, action, publish_consent).ok_or_else(|| Refusal::InvalidTransition {
        allowed: allowed_actions(status, actor, publish_consent),
    })
}

/// Letters for tracking codes: no 0/O, 1/I/L, so a code can be read aloud and typed back.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new tracking code like `Q24-7KX9M2` (the two digits are the year).
pub fn tracking_code(year: i32) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..6)
        .map(|_| *CODE_ALPHABET.choose(&mut rng).unwrap_or(&b'X') as char)
        .collect();
    format!("Q{:02}-{tail}", year.rem_euclid(100))
}

/// Normalises a tracking code as typed: upper case, no spaces.
pub fn normalize_tracking_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Longest title of a question.
pub const TITLE_MAX: usize = 300;
/// Longest question or reply.
pub const BODY_MAX: usize = 10_000;
/// Longest asker's name.
pub const NAME_MAX: usize = 200;
/// Longest postal address.
pub const ADDRESS_MAX: usize = 500;
/// Longest organisation name.
pub const ORGANIZATION_MAX: usize = 300;
/// Longest rating comment or rejection note.
pub const NOTE_MAX: usize = 2000;

/// A question's title: a name-like line, 1–300 characters.
pub fn parse_title(s: &str) -> Result<String, Invalid> {
    parse_name(s, TITLE_MAX)
}

/// The asker's name, 1–200 characters.
pub fn parse_asker_name(s: &str) -> Result<String, Invalid> {
    parse_name(s, NAME_MAX)
}

/// The text of a question or of a reply: trimmed, 1–10,000 characters.
pub fn parse_body(s: &str) -> Result<String, Invalid> {
    let body = parse_text(s, BODY_MAX)?;
    if body.is_empty() {
        Err(Invalid::required())
    } else {
        Ok(body)
    }
}

/// Optional free text up to `max` characters; blank counts as none.
pub fn optional_text(s: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    Ok(s.map(|v| parse_text(v, max))
        .transpose()?
        .filter(|v| !v.is_empty()))
}

/// The status a new question opens in: `assigned` when the asker named a unit, else
/// `received` (the board routes it).
pub fn opening_status(unit_named: bool) -> Status {
    if unit_named {
        Status::Assigned
    } else {
        Status::Received
    }
}

/// How many tracking codes are drawn for one question before giving up: with 31⁶ codes a
/// year, a second collision in a row already means something else is wrong.
pub const TRACKING_CODE_ATTEMPTS: usize = 8;

/// Working days to answer when neither the category nor the settings say otherwise.
pub const DEFAULT_ANSWER_DAYS: u32 = 15;

/// The working days to answer, from a category's or the configured figure.
pub fn answer_days(days: i32) -> u32 {
    u32::try_from(days).unwrap_or(DEFAULT_ANSWER_DAYS)
}

/// The working days from receipt to the first reply, kept with the question for the
/// statistics; `None` for a later reply, which leaves the first figure as it is.
pub fn first_reply_working_days(answered_at: Option<NaiveDateTime>, days: i64) -> Option<i32> {
    answered_at
        .is_none()
        .then(|| i32::try_from(days).unwrap_or(i32::MAX))
}

/// Lowest rating.
pub const RATING_MIN: i32 = 1;
/// Highest rating.
pub const RATING_MAX: i32 = 5;

/// An asker's score of the answer: 1 (poor) to 5 (excellent).
pub fn check_rating(score: i32) -> Result<i32, Invalid> {
    if (RATING_MIN..=RATING_MAX).contains(&score) {
        Ok(score)
    } else {
        Err(Invalid::new("out_of_range", "must be from 1 to 5"))
    }
}

/// The note of a step: a rejection needs a reason the asker will read; other steps take none
/// (a note given to them is still checked, and then dropped).
pub fn step_note(action: Action, note: Option<&str>) -> Result<Option<String>, Invalid> {
    let note = note.map(|n| parse_text(n, NOTE_MAX)).transpose()?;
    match (action, note) {
        (Action::Reject, Some(n)) if !n.is_empty() => Ok(Some(n)),
        (Action::Reject, _) => Err(Invalid::other("a rejection needs a reason for the asker")),
        _ => Ok(None),
    }
}

/// The unit of an `assign` step, which must name one; other steps take none.
pub fn step_unit(action: Action, unit: Option<String>) -> Result<Option<String>, Invalid> {
    match (action, unit) {
        (Action::Assign, Some(u)) => Ok(Some(u)),
        (Action::Assign, None) => Err(Invalid::other("name the unit to assign")),
        _ => Ok(None),
    }
}

/// Overdue: an answer is still owed, none was given, and the due time has passed. Derived as of
/// `now`, never stored; `db::questions::overdue` is the same rule as a query filter.
pub fn is_overdue(
    status: Status,
    answered_at: Option<NaiveDateTime>,
    due_at: NaiveDateTime,
    now: NaiveDateTime,
) -> bool {
    status.awaits_answer() && answered_at.is_none() && due_at < now
}

/// How a principal stands to a question of `unit`: the board to every question, an officer
/// (or API client) to its unit's; `None` when it may not see the question.
pub fn actor(principal: &Principal, unit: Option<&str>) -> Option<Actor> {
    standing(principal.role, principal.unit.as_deref(), unit).map(|s| match s {
        Standing::Board => Actor::Board,
        Standing::OwnUnit => Actor::AssignedUnit,
    })
}

/// Whether `role` works with questions at all: the board and officers; viewers do not see
/// the askers' contact details.
pub fn handles_questions(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Editor | Role::Officer)
}

/// Hex SHA-256 of an access key. Keys carry 256 random bits, so a fast hash is enough.
pub fn key_hash(key: &str) -> String {
    super::text::sha256_hex(key.as_bytes())
}

/// Whether `key` is the access key whose hash is `hash`. Compared in constant time, and a key
/// that is empty or too long to be one is simply wrong.
pub fn key_opens(hash: &str, key: &str) -> bool {
    if key.is_empty() || key.len() > 200 {
        return false;
    }
    let given = key_hash(key);
    hash.len() == given.len()
        && hash
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests;
