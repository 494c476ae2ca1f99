//! Who is calling and what they may do: the one place that decides, for every use case.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::submission::Actor;

/// A principal's role (SPEC §2). API clients act as officers of their unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts and reference data.
    Admin,
    /// The editorial board: reviews and publishes every unit's content; manages categories.
    Editor,
    /// Staff of one unit.
    Officer,
    /// Leadership dashboards: statistics and published content.
    Viewer,
}

impl Role {
    /// Every role, for listings and tests.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Editor, Role::Officer, Role::Viewer];

    /// The stored and wire form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Officer => "officer",
            Self::Viewer => "viewer",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether accounts of this role must belong to a unit.
    pub fn needs_unit(&self) -> bool {
        matches!(self, Self::Officer)
    }
}

/// Who is calling: a person's account or an agency's API client, as it is now in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `user:<id>` or `client:<client_id>`, as in the token's `sub`.
    pub subject: String,
    /// The role; an API client is an officer.
    pub role: Role,
    /// The unit an officer or client belongs to.
    pub unit: Option<String>,
}

/// The refusal of an action the principal's role does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden;

impl Principal {
    /// Whether this principal may perform `action`.
    pub fn can(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    /// Refuses unless this principal may perform `action`.
    pub fn require(&self, action: Action) -> Result<(), Forbidden> {
        if self.can(action) {
            Ok(())
        } else {
            Err(Forbidden)
        }
    }

    /// How this principal stands to a submission of `unit`; `None`: it may not see it.
    pub fn submission_actor(&self, unit: &str) -> Option<Actor> {
        submission_actor(self.role, self.unit.as_deref(), unit)
    }

    /// The user id, for a person's account.
    pub fn user_id(&self) -> Option<&str> {
        self.subject.strip_prefix("user:")
    }

    /// The user id of a person's account; an API client, which has no account of its own to
    /// change, is refused.
    pub fn require_person(&self) -> Result<&str, Forbidden> {
        self.user_id().ok_or(Forbidden)
    }
}

/// Something a principal may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create, list and change user accounts.
    ManageUsers,
    /// Create, list and revoke API clients.
    ManageClients,
    /// Create, rename, deactivate units.
    ManageUnits,
    /// Create and change content categories.
    ManageCategories,
    /// Set and remove holidays and make-up working days.
    ManageHolidays,
    /// Create and change obligations.
    ManageObligations,
    /// Read every unit's statistics and obligations.
    ReadAllStatistics,
    /// Read the mail outbox.
    ReadMail,
}

/// How a principal stands to one unit's item (a submission, a question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The editorial board (editors, admins): every unit's items.
    Board,
    /// An officer (or API client) of the item's own unit.
    OwnUnit,
}

/// How `role` (of `own_unit`) stands to an item of `item_unit`; `None` when it may not see
/// it at all. The one rule behind every single-item access check.
pub fn standing(role: Role, own_unit: Option<&str>, item_unit: Option<&str>) -> Option<Standing> {
    match role {
        Role::Admin | Role::Editor => Some(Standing::Board),
        Role::Officer if own_unit.is_some() && own_unit == item_unit => Some(Standing::OwnUnit),
        Role::Officer | Role::Viewer => None,
    }
}

/// How a principal stands to a unit's submission: `None` when it may not see it at all.
/// The board (editors, admins) sees every unit's items; an officer (or API client) its own
/// unit's; a viewer reads published content only, through the public endpoints.
pub fn submission_actor(role: Role, own_unit: Option<&str>, item_unit: &str) -> Option<Actor> {
    standing(role, own_unit, Some(item_unit)).map(|s| match s {
        Standing::Board => Actor::Board,
        Standing::OwnUnit => Actor::Owner,
    })
}

/// Whether `role` is the editorial board (editors and admins), which acts for every unit.
pub fn is_board(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Editor)
}

/// Whether `role` works with submissions at all (lists them, creates them).
pub fn handles_submissions(role: Role) -> bool {
    !matches!(role, Role::Viewer)
}

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match action {
        ManageUsers | ManageClients | ManageUnits | ManageHolidays | ReadMail => {
            role == Role::Admin
        }
        ManageCategories | ManageObligations => matches!(role, Role::Admin | Role::Editor),
        ReadAllStatistics => matches!(role, Role::Admin | Role::Editor | Role::Viewer),
    }
}

/// Which units' items a principal may read: statistics, obligations, staff lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitScope {
    /// Every unit: the board and viewers, when no unit is asked for.
    All,
    /// This unit only: the one asked for, or an officer's own.
    One(String),
    /// An officer asking for another unit than its own, answered as though it did not exist.
    OtherUnit,
    /// None at all.
    None,
}

/// The units whose statistics and obligations `role` (of `own_unit`) may read, when `asked`
/// names one unit or none (all it may see): every unit for the board and viewers; an
/// officer's own unit for an officer.
pub fn unit_scope(role: Role, own_unit: Option<&str>, asked: Option<&str>) -> UnitScope {
    if allows(role, Action::ReadAllStatistics) {
        return asked.map_or(UnitScope::All, |a| UnitScope::One(a.to_string()));
    }
    match (role, own_unit) {
        (Role::Officer, Some(own)) if asked.is_none_or(|a| a == own) => {
            UnitScope::One(own.to_string())
        }
        (Role::Officer, Some(_)) => UnitScope::OtherUnit,
        _ => UnitScope::None,
    }
}

impl UnitScope {
    /// The unit a staff list is narrowed to: `Some(None)` every unit, `Some(Some(u))` one
    /// unit, `None` nothing at all. An officer asking for another unit's items gets an empty
    /// list rather than an error (lists do not say what exists elsewhere).
    pub fn listed(self) -> Option<Option<String>> {
        match self {
            Self::All => Some(None),
            Self::One(unit) => Some(Some(unit)),
            Self::OtherUnit | Self::None => None,
        }
    }
}

impl Principal {
    /// The units whose statistics and obligations this principal may read (see
    /// [`unit_scope`]).
    pub fn unit_scope(&self, asked: Option<&str>) -> UnitScope {
        unit_scope(self.role, self.unit.as_deref(), asked)
    }
}

/// Which webhooks a principal manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookScope {
    /// Every webhook, for any unit or all of them: an admin.
    All,
    /// Its own, which receive only its unit's events: an agency portal's API client.
    Own {
        /// The client's subject (`client:<client_id>`), stored as the webhooks' owner.
        owner: String,
        /// The unit the client is bound to.
        unit: String,
    },
}

/// Which webhooks a principal (`subject`, `role`, `unit`) manages; `None`: none at all. People
/// other than admins have no webhooks: an officer's unit is followed by its portal's client.
pub fn webhook_scope(subject: &str, role: Role, unit: Option<&str>) -> Option<WebhookScope> {
    match (role, unit) {
        (Role::Admin, _) => Some(WebhookScope::All),
        (Role::Officer, Some(unit)) if subject.starts_with("client:") => Some(WebhookScope::Own {
            owner: subject.to_string(),
            unit: unit.to_string(),
        }),
        _ => None,
    }
}

impl Principal {
    /// Which webhooks this principal manages (see [`webhook_scope`]).
    pub fn webhook_scope(&self) -> Option<WebhookScope> {
        webhook_scope(&self.subject, self.role, self.unit.as_deref())
    }
}

#[cfg(test)]
mod webhook_scope_tests {
    use super::*;

    #[test]
    fn admins_manage_every_webhook_and_api_clients_their_own() {
        assert_eq!(
            webhook_scope("user:1", Role::Admin, None),
            Some(WebhookScope::All)
        );
        assert_eq!(
            webhook_scope("client:pc_1", Role::Officer, Some("a")),
            Some(WebhookScope::Own {
                owner: "client:pc_1".into(),
                unit: "a".into()
            })
        );
        assert_eq!(webhook_scope("user:2", Role::Officer, Some("a")), None);
        assert_eq!(webhook_scope("user:3", Role::Editor, None), None);
        assert_eq!(webhook_scope("user:4", Role::Viewer, None), None);
        assert_eq!(webhook_scope("client:pc_2", Role::Officer, None), None);
    }
}

#[cfg(test)]
mod unit_scope_tests {
    use super::*;

    #[test]
    fn the_board_and_viewers_read_every_unit_and_officers_their_own() {
        for role in [Role::Admin, Role::Editor, Role::Viewer] {
            assert_eq!(unit_scope(role, None, None), UnitScope::All);
            assert_eq!(
                unit_scope(role, None, Some("a")),
                UnitScope::One("a".into())
            );
        }
        let officer = |asked| unit_scope(Role::Officer, Some("a"), asked);
        assert_eq!(officer(None), UnitScope::One("a".into()));
        assert_eq!(officer(Some("a")), UnitScope::One("a".into()));
        assert_eq!(officer(Some("b")), UnitScope::OtherUnit);
        assert_eq!(unit_scope(Role::Officer, None, None), UnitScope::None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_accounts_units_and_holidays() {
        for action in [
            Action::ManageUsers,
            Action::ManageClients,
            Action::ManageUnits,
            Action::ManageHolidays,
        ] {
            for role in Role::ALL {
                assert_eq!(
                    allows(role, action),
                    role == Role::Admin,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn admins_and_editors_manage_categories() {
        assert!(allows(Role::Admin, Action::ManageCategories));
        assert!(allows(Role::Editor, Action::ManageCategories));
        assert!(!allows(Role::Officer, Action::ManageCategories));
        assert!(!allows(Role::Viewer, Action::ManageCategories));
    }

    #[test]
    fn officers_see_their_own_units_submissions_only_and_viewers_none() {
        assert_eq!(
            submission_actor(Role::Editor, None, "a"),
            Some(Actor::Board)
        );
        assert_eq!(submission_actor(Role::Admin, None, "a"), Some(Actor::Board));
        assert_eq!(
            submission_actor(Role::Officer, Some("a"), "a"),
            Some(Actor::Owner)
        );
        assert_eq!(submission_actor(Role::Officer, Some("b"), "a"), None);
        assert_eq!(submission_actor(Role::Officer, None, "a"), None);
        assert_eq!(submission_actor(Role::Viewer, None, "a"), None);
        assert!(!handles_submissions(Role::Viewer));
    }

    #[test]
    fn roles_round_trip_and_only_officers_need_a_unit() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(role.needs_unit(), role == Role::Officer);
        }
        assert_eq!(Role::parse("root"), None);
    }
}
