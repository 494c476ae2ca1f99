//! The rules' tests, kept apart so the rules read in one screen.

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
