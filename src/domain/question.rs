//! Citizen questions (SPEC §4): statuses, who may do what, and the asker's details.

use super::invalid::Invalid;
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

/// Checks an e-mail address for form only: one `@`, a dotted domain, no spaces.
pub fn parse_email(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let bad = || {
        Invalid::new(
            "invalid_email",
            "must be an e-mail address like ten@example.vn",
        )
    };
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(bad());
    }
    Ok(s.to_string())
}

/// Checks a Vietnamese phone number: `0` or `+84` then 9 digits; spaces and dots allowed.
/// Stored as typed without the spaces and dots.
pub fn parse_phone(s: &str) -> Result<String, Invalid> {
    let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
    let digits = compact
        .strip_prefix("+84")
        .or_else(|| compact.strip_prefix('0'));
    match digits {
        Some(d) if d.len() == 9 && d.chars().all(|c| c.is_ascii_digit()) => Ok(compact),
        _ => Err(Invalid::new(
            "invalid_phone",
            "must be a Vietnamese phone number: 0 or +84 followed by 9 digits",
        )),
    }
}

/// A name shortened to initials for the public, e.g. `Nguyễn Văn An` → `N. V. A.`
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Status as S;

    /// Every edge of SPEC §4: (from, action, to, board only, needs consent).
    const EDGES: &[(Status, Action, Status, bool, bool)] = &[
        (S::Received, A::Assign, S::Assigned, true, false),
        (S::Assigned, A::Assign, S::Assigned, true, false),
        (S::Assigned, A::Reply, S::Answered, false, false),
        (S::Answered, A::Reply, S::Answered, false, false),
        (S::Answered, A::Publish, S::Published, false, true),
        (S::Received, A::Reject, S::Rejected, true, false),
        (S::Assigned, A::Reject, S::Rejected, true, false),
    ];

    #[test]
    fn every_status_action_actor_and_consent_is_decided_as_the_spec_says() {
        for from in Status::ALL {
            for action in Action::ALL {
                for actor in [Actor::Board, Actor::AssignedUnit] {
                    for consent in [true, false] {
                        let got = transition(from, action, actor, consent);
                        let edge = EDGES.iter().find(|e| e.0 == from && e.1 == action);
                        let board_only = matches!(action, A::Assign | A::Reject);
                        if board_only && actor != Actor::Board {
                            assert_eq!(got, Err(Refusal::Forbidden), "{from:?} {action:?}");
                            continue;
                        }
                        match edge {
                            Some(e) if !e.4 || consent => {
                                assert_eq!(got, Ok(e.2), "{from:?} {action:?} {actor:?} {consent}")
                            }
                            _ => assert!(
                                matches!(got, Err(Refusal::InvalidTransition { .. })),
                                "{from:?} {action:?} {actor:?} {consent}: {got:?}"
                            ),
                        }
                    }
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
    fn contact_details_are_checked_for_form() {
        assert_eq!(parse_phone("0912 345.678").unwrap(), "0912345678");
        assert_eq!(parse_phone("+84 912 345 678").unwrap(), "+84912345678");
        for bad in [
            "912345678",
            "091234567",
            "+8491234567",
            "0912-345-678",
            "09123456789",
        ] {
            assert!(parse_phone(bad).is_err(), "{bad}");
        }
        assert!(parse_email("an.nguyen@binhphuoc.gov.vn").is_ok());
        for bad in [
            "an", "an@", "@x.vn", "an@x", "a n@x.vn", "an@x..vn", "a@b@c.vn",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_shorten_to_initials() {
        assert_eq!(initials("Nguyễn Văn An"), "N. V. A.");
        assert_eq!(initials("  đặng   thị  "), "Đ. T.");
        assert_eq!(initials(""), "");
    }
}
