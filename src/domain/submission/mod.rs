//! The editorial workflow of a submission (SPEC §4): statuses, actions, who may do what.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod item;

pub use item::{
    check_content, etag, initial_status, parse_idempotency_key, posting_unit, step_note, Content,
    ContentChange, FieldRefusal, IfMatch, NotPosted, Submission, MAX_ATTACHMENTS, MAX_BODY_BYTES,
    MAX_NOTE_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};

/// Where a submission is in the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SubmissionStatus)]
pub enum Status {
    /// Being written by its unit; not yet sent.
    Draft,
    /// Sent to the editorial board.
    Submitted,
    /// An editor is reviewing it.
    InReview,
    /// Sent back to the unit with a note, to be corrected and submitted again.
    Returned,
    /// On the portal.
    Published,
    /// Taken off the portal; can be published again.
    Unpublished,
    /// Refused for good.
    Rejected,
}

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SubmissionAction)]
pub enum Action {
    /// Send to the board (from draft or returned).
    Submit,
    /// Take back a submitted item to a draft.
    Withdraw,
    /// Start reviewing.
    StartReview,
    /// Put on the portal.
    Publish,
    /// Send back to the unit, with a note.
    Return,
    /// Refuse for good, with a note.
    Reject,
    /// Take off the portal, with a note.
    Unpublish,
}

/// How the acting principal relates to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An officer or API client of the item's unit.
    Owner,
    /// An editor or admin: the editorial board.
    Board,
}

/// Why a transition cannot happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The actor's role never performs this action (403).
    Forbidden,
    /// Not from the current status (409); these are the actions the actor could take now.
    InvalidTransition {
        /// Actions this actor may take from the current status.
        allowed: Vec<Action>,
    },
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// The stored and wire form.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Reads the stored form.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(Status {
    Draft => "draft",
    Submitted => "submitted",
    InReview => "in_review",
    Returned => "returned",
    Published => "published",
    Unpublished => "unpublished",
    Rejected => "rejected",
});

text_enum!(Action {
    Submit => "submit",
    Withdraw => "withdraw",
    StartReview => "start_review",
    Publish => "publish",
    Return => "return",
    Reject => "reject",
    Unpublish => "unpublish",
});

impl Action {
    /// Whether the action needs a note, which the unit sees.
    pub fn needs_note(&self) -> bool {
        matches!(self, Self::Return | Self::Reject | Self::Unpublish)
    }

    /// Who performs it. The board (editors, admins) may also act for a unit.
    fn performed_by(&self, actor: Actor) -> bool {
        match self {
            Self::Submit | Self::Withdraw => true,
            Self::StartReview | Self::Publish | Self::Return | Self::Reject | Self::Unpublish => {
                actor == Actor::Board
            }
        }
    }
}

/// The status an action leads to from `from`, if the workflow has that edge.
fn edge(from: Status, action: Action) -> Option<Status> {
    use Action as A;
    use Status as S;
    match (from, action) {
        (S::Draft | S::Returned, A::Submit) => Some(S::Submitted),
        (S::Submitted, A::Withdraw) => Some(S::Draft),
        (S::Submitted, A::StartReview) => Some(S::InReview),
        (S::Submitted | S::InReview | S::Unpublished, A::Publish) => Some(S::Published),
        (S::Submitted | S::InReview, A::Return) => Some(S::Returned),
        (S::Submitted | S::InReview, A::Reject) => Some(S::Rejected),
        (S::Published, A::Unpublish) => Some(S::Unpublished),
        _ => None,
    }
}

/// The actions `actor` may take from `status`, in a stable order.
pub fn allowed_actions(status: Status, actor: Actor) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|a| a.performed_by(actor) && edge(status, *a).is_some())
        .collect()
}

/// Decides a transition: the new status, or why not. A role that never performs the action is
/// refused first (403); otherwise an action the status does not allow is a conflict (409).
pub fn transition(status: Status, action: Action, actor: Actor) -> Result<Status, Refusal> {
    if !action.performed_by(actor) {
        return Err(Refusal::Forbidden);
    }
    edge(status, action).ok_or_else(|| Refusal::InvalidTransition {
        allowed: allowed_actions(status, actor),
    })
}

/// Whether `actor` may edit the content in `status`: the unit while it writes or corrects,
/// the board while it reviews (copy-editing).
pub fn editable(status: Status, actor: Actor) -> bool {
    match actor {
        Actor::Owner => matches!(status, Status::Draft | Status::Returned),
        Actor::Board => matches!(status, Status::Submitted | Status::InReview),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Status as S;

    /// Every edge of SPEC §4, as (from, action, to, board only).
    const EDGES: &[(Status, Action, Status, bool)] = &[
        (S::Draft, A::Submit, S::Submitted, false),
        (S::Returned, A::Submit, S::Submitted, false),
        (S::Submitted, A::Withdraw, S::Draft, false),
        (S::Submitted, A::StartReview, S::InReview, true),
        (S::Submitted, A::Publish, S::Published, true),
        (S::InReview, A::Publish, S::Published, true),
        (S::Unpublished, A::Publish, S::Published, true),
        (S::Submitted, A::Return, S::Returned, true),
        (S::InReview, A::Return, S::Returned, true),
        (S::Submitted, A::Reject, S::Rejected, true),
        (S::InReview, A::Reject, S::Rejected, true),
        (S::Published, A::Unpublish, S::Unpublished, true),
    ];

    /// Whether the table says only the board takes `action`; every edge of one action must
    /// agree, or the table itself is wrong.
    fn board_only(action: Action) -> bool {
        let flags: Vec<bool> = EDGES
            .iter()
            .filter(|(_, a, _, _)| *a == action)
            .map(|(_, _, _, board)| *board)
            .collect();
        assert!(!flags.is_empty(), "{action:?} has no edge in the table");
        assert!(
            flags.iter().all(|f| *f == flags[0]),
            "{action:?} is board only on some edges and not others"
        );
        flags[0]
    }

    #[test]
    fn every_status_action_and_actor_is_decided_as_the_spec_says() {
        for &from in Status::ALL {
            for &action in Action::ALL {
                for actor in [Actor::Owner, Actor::Board] {
                    let edge = EDGES.iter().find(|(f, a, _, _)| *f == from && *a == action);
                    let got = transition(from, action, actor);
                    match (edge, actor) {
                        _ if board_only(action) && actor == Actor::Owner => {
                            assert_eq!(got, Err(Refusal::Forbidden), "{from:?} {action:?}")
                        }
                        (Some((_, _, to, _)), _) => assert_eq!(got, Ok(*to), "{from:?} {action:?}"),
                        (None, _) => assert!(
                            matches!(got, Err(Refusal::InvalidTransition { .. })),
                            "{from:?} {action:?} {actor:?}: {got:?}"
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn the_unit_is_offered_exactly_the_steps_the_table_does_not_keep_for_the_board() {
        for &(from, action, _, board) in EDGES {
            assert_eq!(
                allowed_actions(from, Actor::Owner).contains(&action),
                !board,
                "{from:?} {action:?}"
            );
            assert!(allowed_actions(from, Actor::Board).contains(&action));
        }
    }

    #[test]
    fn an_invalid_transition_lists_what_the_actor_could_do() {
        assert_eq!(
            transition(S::Draft, A::Publish, Actor::Board),
            Err(Refusal::InvalidTransition {
                allowed: vec![A::Submit]
            })
        );
        assert_eq!(
            transition(S::Published, A::Submit, Actor::Owner),
            Err(Refusal::InvalidTransition { allowed: vec![] })
        );
        assert_eq!(
            allowed_actions(S::Submitted, Actor::Board),
            vec![
                A::Withdraw,
                A::StartReview,
                A::Publish,
                A::Return,
                A::Reject
            ]
        );
        assert_eq!(
            allowed_actions(S::Submitted, Actor::Owner),
            vec![A::Withdraw]
        );
    }

    #[test]
    fn rejected_is_final() {
        for &action in Action::ALL {
            assert!(transition(S::Rejected, action, Actor::Board).is_err());
        }
        assert!(allowed_actions(S::Rejected, Actor::Board).is_empty());
    }

    #[test]
    fn notes_are_needed_for_return_reject_and_unpublish() {
        let with_note: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(Action::needs_note)
            .collect();
        assert_eq!(with_note, vec![A::Return, A::Reject, A::Unpublish]);
    }

    #[test]
    fn the_unit_edits_drafts_and_returned_items_and_the_board_edits_under_review() {
        for &s in Status::ALL {
            assert_eq!(
                editable(s, Actor::Owner),
                matches!(s, S::Draft | S::Returned),
                "{s:?}"
            );
            assert_eq!(
                editable(s, Actor::Board),
                matches!(s, S::Submitted | S::InReview),
                "{s:?}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for &s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for &a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }
}
