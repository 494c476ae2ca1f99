//! User accounts: creating, listing, changing, unlocking, and the account a token stands for.

use chrono::NaiveDateTime;
use diesel::Connection;
use rand::distr::{Alphanumeric, SampleString};

use crate::auth::{password, Account};
use crate::config::Secret;
use crate::db::accounts::{self, NewUser, UserChanges};
use crate::db::{login_failures, DbConnection};
use crate::domain::access::{Principal, Role};
use crate::domain::account::{user_login_key, UserId, Username};
use crate::domain::question::Email;
use crate::error::ApiError;
use crate::references::check_unit;
use crate::state::AppState;

pub use crate::db::accounts::{User, UserFilter};

/// A random password of letters and digits (about 119 bits).
pub fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

/// Hashes a new password or secret on the bounded password threads.
pub(crate) async fn hashed(state: &AppState, secret: String) -> Result<String, ApiError> {
    Ok(state
        .passwords
        .run(move || password::hash(&secret))
        .await??)
}

/// The account a token subject stands for now: from the cache when it was looked up
/// recently, else from the database (and then kept).
pub async fn principal(state: &AppState, subject: String) -> Result<Account, ApiError> {
    if let Some(cached) = state.accounts.get(&subject) {
        return Ok(cached);
    }
    let generation = state.accounts.generation();
    let lookup = subject.clone();
    let account = state
        .read(move |conn| Ok(accounts::principal(conn, &lookup)?))
        .await?;
    state.accounts.put(subject, account.clone(), generation);
    Ok(account)
}

/// A checked request for a new user account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Login name.
    pub username: Username,
    /// Role.
    pub role: Role,
    /// Unit code, required for officers.
    pub unit: Option<String>,
    /// Display name; the username when absent.
    pub display_name: Option<String>,
    /// Where mail for the person goes.
    pub email: Option<Email>,
    /// Whether the person wants the periodic digest.
    pub notify_digest: bool,
}

/// Creates a user with an already hashed password, in one transaction on `conn`: the
/// command line and the first start use it directly.
pub fn insert_user(
    conn: &mut DbConnection,
    account: &NewAccount,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<User, ApiError> {
    conn.transaction(|conn| {
        check_unit(conn, account.role, account.unit.as_deref())?;
        if accounts::find_login(conn, account.username.as_str())?.is_some() {
            return Err(ApiError::Conflict(format!(
                "The username {} is taken",
                account.username
            )));
        }
        let id = uuid::Uuid::new_v4().to_string();
        accounts::insert_user(
            conn,
            &NewUser {
                id: &id,
                username: account.username.as_str(),
                password_hash,
                role: account.role.as_str(),
                unit_code: account.unit.as_deref(),
                display_name: account
                    .display_name
                    .as_deref()
                    .unwrap_or(account.username.as_str()),
                disabled: false,
                created_at: now,
                updated_at: now,
                email: account.email.as_ref().map(Email::as_str),
                notify_digest: account.notify_digest,
            },
        )?;
        accounts::find_user(conn, &id)?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user {id} vanished after insert")))
    })
}

/// Creates a user account with `password` (already checked against the password rules).
pub async fn create_user(
    state: &AppState,
    account: NewAccount,
    password: String,
) -> Result<User, ApiError> {
    let hash = hashed(state, password).await?;
    let now = state.now();
    // Through the writer, as every change to accounts: it serialises them, so the username
    // check and the insert see the same table.
    state
        .write(move |conn| insert_user(conn, &account, &hash, now))
        .await
}

/// A page of users after the username `after`, by username: `limit + 1` rows, so that the
/// caller sees whether more follow.
pub async fn list_users(
    state: &AppState,
    filter: UserFilter,
    after: Option<String>,
    limit: usize,
) -> Result<Vec<User>, ApiError> {
    state
        .read(move |conn| {
            Ok(accounts::list_users(
                conn,
                &filter,
                after.as_deref(),
                limit as i64 + 1,
            )?)
        })
        .await
}

/// One user.
pub async fn get_user(state: &AppState, id: UserId) -> Result<User, ApiError> {
    state
        .read(move |conn| Ok(accounts::find_user(conn, id.as_str())?))
        .await?
        .ok_or_else(|| ApiError::not_found("User"))
}

/// A checked change to a user account.
#[derive(Debug, Default, Clone)]
pub struct AccountChange {
    /// New role.
    pub role: Option<Role>,
    /// New unit; `Some(None)` removes it.
    pub unit: Option<Option<String>>,
    /// New display name.
    pub display_name: Option<String>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// A new password (a reset), already checked against the password rules.
    pub password: Option<String>,
    /// New e-mail address; `Some(None)` removes it.
    pub email: Option<Option<Email>>,
    /// Digest on or off.
    pub notify_digest: Option<bool>,
}

/// Changes a user, keeping the rules: officers have an active unit, and the last enabled
/// admin can be neither disabled nor demoted. The user's cached account is dropped, so the
/// change applies on its next request.
pub async fn change_user(
    state: &AppState,
    id: UserId,
    change: AccountChange,
) -> Result<User, ApiError> {
    let password_hash = match change.password.clone() {
        Some(p) => Some(hashed(state, p).await?),
        None => None,
    };
    let now = state.now();
    let user_id = id.clone();
    let user = state
        .write(move |conn| apply_change(conn, user_id.as_str(), change, password_hash, now))
        .await?;
    state.accounts.forget(&id.subject());
    Ok(user)
}

fn apply_change(
    conn: &mut DbConnection,
    id: &str,
    change: AccountChange,
    password_hash: Option<String>,
    now: NaiveDateTime,
) -> Result<User, ApiError> {
    conn.transaction(|conn| {
        let user = accounts::find_user(conn, id)?.ok_or_else(|| ApiError::not_found("User"))?;
        let role = change.role.unwrap_or(user.role);
        let unit = change.unit.clone().unwrap_or(user.unit.clone());
        if change.role.is_some() || change.unit.is_some() {
            // A kept unit that has since been deactivated does not block other changes.
            let unit_changed = change.unit.is_some() && unit != user.unit;
            if unit_changed {
                check_unit(conn, role, unit.as_deref())?;
            } else if role.needs_unit() && unit.is_none() {
                check_unit(conn, role, None)?;
            }
        }
        let disabled = change.disabled.unwrap_or(user.disabled);
        let loses_admin =
            user.role == Role::Admin && !user.disabled && (role != Role::Admin || disabled);
        if loses_admin && accounts::count_active_admins(conn)? <= 1 {
            return Err(ApiError::Conflict(
                "This is the last enabled admin; make another admin first".into(),
            ));
        }
        // Every earlier token ends when what it was issued on changes. Enabling again does
        // not bring them back: disabling already moved the version on.
        let ends_tokens = password_hash.is_some()
            || (disabled && !user.disabled)
            || role != user.role
            || unit != user.unit;
        let changes = UserChanges {
            password_hash,
            role: change.role.map(|r| r.as_str().to_string()),
            unit_code: change.unit,
            display_name: change.display_name,
            disabled: change.disabled,
            email: change.email.map(|e| e.map(Email::into_inner)),
            notify_digest: change.notify_digest,
            updated_at: Some(now),
        };
        accounts::update_user(conn, id, &changes)?;
        if ends_tokens {
            accounts::bump_user_credentials(conn, id)?;
        }
        if changes.password_hash.is_some() {
            // A new password also lifts a lockout: the guesses were against the old one.
            login_failures::clear(conn, &user_login_key(&user.username))?;
        }
        accounts::find_user(conn, id)?.ok_or_else(|| ApiError::not_found("User"))
    })
}

/// A caller as `GET /auth/me` describes it: the principal, and for a person their account.
#[derive(Debug, Clone)]
pub struct Me {
    /// Who the token stands for now.
    pub principal: Principal,
    /// The person's account; `None` for an API client.
    pub user: Option<User>,
}

/// The caller: an API client as its token says, a person with their account as stored.
pub async fn me(state: &AppState, principal: Principal) -> Result<Me, ApiError> {
    let Some(id) = principal.user_id().map(str::to_string) else {
        return Ok(Me {
            principal,
            user: None,
        });
    };
    let user = state
        .read(move |conn| Ok(accounts::find_user(conn, &id)?))
        .await?
        .ok_or_else(gone)?;
    Ok(Me {
        principal,
        user: Some(user),
    })
}

/// A token whose account has gone since it was checked: the token is over.
fn gone() -> ApiError {
    ApiError::Unauthorized("The token is invalid or expired".into())
}

/// A checked change a person makes to their own account; absent fields stay as they are.
#[derive(Debug, Default, Clone)]
pub struct ProfileChange {
    /// New e-mail address; `Some(None)` removes it.
    pub email: Option<Option<Email>>,
    /// Digest on or off.
    pub notify_digest: Option<bool>,
    /// New display name.
    pub display_name: Option<String>,
}

/// A person changes their own e-mail address, digest setting or display name. None of these
/// is what a token is issued on, so the caller's tokens keep working. API clients have no
/// account to change (403).
pub async fn change_own_profile(
    state: &AppState,
    principal: Principal,
    change: ProfileChange,
) -> Result<Me, ApiError> {
    let id = principal.require_person()?.to_string();
    let change = AccountChange {
        email: change.email,
        notify_digest: change.notify_digest,
        display_name: change.display_name,
        ..AccountChange::default()
    };
    let now = state.now();
    let user = state
        .write(
            move |conn| match apply_change(conn, &id, change, None, now) {
                Err(ApiError::NotFound(_)) => Err(gone()),
                other => other,
            },
        )
        .await?;
    Ok(Me {
        principal,
        user: Some(user),
    })
}

/// Lifts a user's lockout: its counted login attempts are forgotten.
pub async fn unlock_user(state: &AppState, id: UserId) -> Result<(), ApiError> {
    state
        .write(move |conn| {
            let user = accounts::find_user(conn, id.as_str())?
                .ok_or_else(|| ApiError::not_found("User"))?;
            Ok(login_failures::clear(
                conn,
                &user_login_key(&user.username),
            )?)
        })
        .await
}

/// On a database with no user, creates `admin` with the given password or a generated one.
/// Returns the generated password, which the caller shows once.
pub fn bootstrap_admin(
    conn: &mut DbConnection,
    configured: Option<&Secret>,
    now: NaiveDateTime,
) -> anyhow::Result<Option<Option<String>>> {
    if accounts::count_users(conn)? > 0 {
        return Ok(None);
    }
    let (secret, generated) = match configured {
        Some(s) => {
            password::check_rules(s.expose())
                .map_err(|why| anyhow::anyhow!("PORTAL_ADMIN_PASSWORD {why}"))?;
            (s.expose().to_string(), false)
        }
        None => (random_password(), true),
    };
    let hash = password::hash(&secret)?;
    let account = NewAccount {
        username: Username::parse("admin").map_err(anyhow::Error::msg)?,
        role: Role::Admin,
        unit: None,
        display_name: Some("Administrator".into()),
        email: None,
        notify_digest: true,
    };
    insert_user(conn, &account, &hash, now)
        .map_err(|e| anyhow::anyhow!("cannot create admin: {e}"))?;
    Ok(Some(generated.then_some(secret)))
}
