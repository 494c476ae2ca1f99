//! Citizen questions (SPEC §4): statuses, who may do what, and the asker's details.

mod asker;

pub use asker::{contact_given, initials, optional_email, optional_phone, Email, Phone};

use super::access::{standing, Principal, Role, Standing};
use super::account::{parse_name, parse_text};
use super::invalid::Invalid;
use chrono::NaiveDateTime;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
mod tests {
    use super::*;
    use Action as A;
    use Status as S;

    /// Who may take a step at all.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Who {
        /// Only the board.
        Board,
        /// The board and the assigned unit.
        Both,
    }

    /// SPEC §4, every status by every action: (from, action, who may, to, needs consent).
    /// `to` is `None` where the step does not exist from that status.
    const TABLE: &[(Status, Action, Who, Option<Status>, bool)] = &[
        (S::Received, A::Assign, Who::Board, Some(S::Assigned), false),
        (S::Received, A::Reply, Who::Both, None, false),
        (S::Received, A::Publish, Who::Both, None, false),
        (S::Received, A::Reject, Who::Board, Some(S::Rejected), false),
        (S::Assigned, A::Assign, Who::Board, Some(S::Assigned), false),
        (S::Assigned, A::Reply, Who::Both, Some(S::Answered), false),
        (S::Assigned, A::Publish, Who::Both, None, false),
        (S::Assigned, A::Reject, Who::Board, Some(S::Rejected), false),
        (S::Answered, A::Assign, Who::Board, None, false),
        (S::Answered, A::Reply, Who::Both, Some(S::Answered), false),
        (S::Answered, A::Publish, Who::Both, Some(S::Published), true),
        (S::Answered, A::Reject, Who::Board, None, false),
        (S::Published, A::Assign, Who::Board, None, false),
        (S::Published, A::Reply, Who::Both, None, false),
        (S::Published, A::Publish, Who::Both, None, false),
        (S::Published, A::Reject, Who::Board, None, false),
        (S::Rejected, A::Assign, Who::Board, None, false),
        (S::Rejected, A::Reply, Who::Both, None, false),
        (S::Rejected, A::Publish, Who::Both, None, false),
        (S::Rejected, A::Reject, Who::Board, None, false),
    ];

    fn may(who: Who, actor: Actor) -> bool {
        who == Who::Both || actor == Actor::Board
    }

    #[test]
    fn the_table_names_every_status_and_action_once() {
        for from in Status::ALL {
            for action in Action::ALL {
                let rows = TABLE
                    .iter()
                    .filter(|r| r.0 == from && r.1 == action)
                    .count();
                assert_eq!(rows, 1, "{from:?} {action:?}");
            }
        }
    }

    #[test]
    fn every_status_action_actor_and_consent_is_decided_as_the_table_says() {
        for &(from, action, who, to, needs_consent) in TABLE {
            for actor in [Actor::Board, Actor::AssignedUnit] {
                for consent in [true, false] {
                    let got = transition(from, action, actor, consent);
                    let case = format!("{from:?} {action:?} {actor:?} consent={consent}");
                    if !may(who, actor) {
                        assert_eq!(got, Err(Refusal::Forbidden), "{case}");
                        continue;
                    }
                    match to {
                        Some(to) if !needs_consent || consent => {
                            assert_eq!(got, Ok(to), "{case}")
                        }
                        _ => assert!(
                            matches!(got, Err(Refusal::InvalidTransition { .. })),
                            "{case}: {got:?}"
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn allowed_actions_are_the_tables_possible_steps_for_the_actor() {
        for from in Status::ALL {
            for actor in [Actor::Board, Actor::AssignedUnit] {
                for consent in [true, false] {
                    let expected: Vec<Action> = TABLE
                        .iter()
                        .filter(|r| r.0 == from && may(r.2, actor))
                        .filter(|r| r.3.is_some() && (!r.4 || consent))
                        .map(|r| r.1)
                        .collect();
                    assert_eq!(
                        allowed_actions(from, actor, consent),
                        expected,
                        "{from:?} {actor:?} consent={consent}"
                    );
                }
            }
        }
    }

    #[test]
    fn allowed_actions_follow_status_role_and_consent() {
        assert_eq!(
            allowed_actions(S::Received, Actor::Board, true),
            [A::Assign, A::Reject]
        );
        assert_eq!(
            allowed_actions(S::Assigned, Actor::AssignedUnit, true),
            [A::Reply]
        );
        assert_eq!(
            allowed_actions(S::Answered, Actor::AssignedUnit, true),
            [A::Reply, A::Publish]
        );
        assert_eq!(
            allowed_actions(S::Answered, Actor::Board, false),
            [A::Reply]
        );
        assert!(allowed_actions(S::Rejected, Actor::Board, true).is_empty());
        assert!(allowed_actions(S::Published, Actor::Board, true).is_empty());
    }

    #[test]
    fn tracking_codes_are_readable_aloud() {
        for _ in 0..200 {
            let code = tracking_code(2024);
            assert!(code.starts_with("Q24-") && code.len() == 10, "{code}");
            assert!(!code[4..].chars().any(|c| "01OIL".contains(c)), "{code}");
        }
        assert_eq!(normalize_tracking_code(" q24-7kx9m2 "), "Q24-7KX9M2");
    }

    #[test]
    fn a_question_opens_assigned_only_when_a_unit_is_named() {
        assert_eq!(opening_status(true), S::Assigned);
        assert_eq!(opening_status(false), S::Received);
    }

    #[test]
    fn only_the_first_reply_records_its_working_days() {
        let at = chrono::DateTime::from_timestamp(1_767_225_600, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(first_reply_working_days(None, 3), Some(3));
        assert_eq!(first_reply_working_days(None, i64::MAX), Some(i32::MAX));
        assert_eq!(first_reply_working_days(Some(at), 3), None);
    }

    #[test]
    fn ratings_run_from_one_to_five() {
        assert_eq!(check_rating(1), Ok(1));
        assert_eq!(check_rating(5), Ok(5));
        for bad in [0, 6, -1] {
            assert_eq!(check_rating(bad).unwrap_err().code, "out_of_range");
        }
    }

    #[test]
    fn a_rejection_needs_a_reason_and_an_assignment_a_unit() {
        assert!(step_note(A::Reject, None).is_err());
        assert!(step_note(A::Reject, Some("  ")).is_err());
        assert_eq!(
            step_note(A::Reject, Some(" Trùng lặp ")),
            Ok(Some("Trùng lặp".into()))
        );
        assert_eq!(step_note(A::Publish, Some("x")), Ok(None));
        assert!(step_note(A::Publish, Some(&"x".repeat(NOTE_MAX + 1))).is_err());
        assert!(step_unit(A::Assign, None).is_err());
        assert_eq!(step_unit(A::Reject, Some("u".into())), Ok(None));
    }

    #[test]
    fn overdue_is_open_unanswered_and_past_due() {
        let t = |s: i64| {
            chrono::DateTime::from_timestamp(1_767_225_600 + s, 0)
                .unwrap()
                .naive_utc()
        };
        assert!(is_overdue(S::Assigned, None, t(0), t(1)));
        assert!(is_overdue(S::Received, None, t(0), t(1)));
        assert!(!is_overdue(S::Assigned, None, t(1), t(1)));
        assert!(!is_overdue(S::Answered, Some(t(2)), t(0), t(5)));
        assert!(!is_overdue(S::Rejected, None, t(0), t(5)));
    }

    #[test]
    fn the_board_sees_every_question_and_an_officer_its_units() {
        let p = |role, unit: Option<&str>| Principal {
            subject: "user:x".into(),
            role,
            unit: unit.map(str::to_string),
        };
        let officer = p(Role::Officer, Some("a"));
        assert_eq!(actor(&p(Role::Editor, None), Some("a")), Some(Actor::Board));
        assert_eq!(actor(&officer, Some("a")), Some(Actor::AssignedUnit));
        assert_eq!(actor(&officer, Some("b")), None);
        assert_eq!(actor(&officer, None), None);
        assert_eq!(actor(&p(Role::Officer, None), None), None);
        assert_eq!(actor(&p(Role::Viewer, None), Some("a")), None);
        let listed = |p: &Principal, asked: Option<&str>| {
            handles_questions(p.role).then(|| p.unit_scope(asked).listed())
        };
        assert_eq!(
            listed(&p(Role::Admin, None), Some("b")),
            Some(Some(Some("b".into())))
        );
        assert_eq!(listed(&officer, None), Some(Some(Some("a".into()))));
        assert_eq!(listed(&officer, Some("b")), Some(None));
        assert_eq!(listed(&p(Role::Officer, None), None), Some(None));
        assert_eq!(listed(&p(Role::Viewer, None), None), None);
    }
}
