//! Account rules shared by the API, the command line and start-up.

use std::net::IpAddr;

use base64::Engine;
use diesel::Connection;
use rand::distr::{Alphanumeric, SampleString};
use rand::RngCore;

use super::password;
use crate::config::Secret;
use crate::db::accounts::{self, NewUser, User, UserChanges};
use crate::db::{login_failures, units, DbConnection};
use crate::domain::access::Role;
use crate::domain::account::Username;
use crate::domain::reference::unit_refusal;
use crate::error::ApiError;

/// A checked request for a new user account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Login name.
    pub username: Username,
    /// Role.
    pub role: Role,
    /// Unit code, required for officers.
    pub unit: Option<String>,
    /// Display name.
    pub display_name: String,
}

/// The key a person's login attempts are counted under.
pub fn user_login_key(username: &str) -> String {
    format!("user:{username}")
}

/// The key an API client's login attempts are counted under.
pub fn client_login_key(client_id: &str) -> String {
    format!("client:{client_id}")
}

/// The key a client address's failed logins are counted under. An IPv6 client usually holds
/// a whole /64, so it counts as one address.
pub fn address_login_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => format!("addr:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("addr:{v4}"),
            None => {
                let s = v6.segments();
                format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// `n` random bytes from the OS generator, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A random password of letters and digits (about 119 bits).
pub fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

/// Checks that `unit` suits `role`: officers need one, and a named unit must exist and be active.
pub fn check_unit(conn: &mut DbConnection, role: Role, unit: Option<&str>) -> Result<(), ApiError> {
    match unit {
        None if role.needs_unit() => Err(ApiError::invalid_field(
            "unit",
            "an officer must belong to a unit",
        )),
        None => Ok(()),
        Some(code) => match unit_refusal(code, units::is_active(conn, code)?) {
            Some(why) => Err(ApiError::invalid_field("unit", why)),
            None => Ok(()),
        },
    }
}

/// Creates a user with an already hashed password.
pub fn create_user(
    conn: &mut DbConnection,
    account: &NewAccount,
    password_hash: &str,
    now: chrono::NaiveDateTime,
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
                display_name: &account.display_name,
                disabled: false,
                created_at: now,
                updated_at: now,
            },
        )?;
        accounts::find_user(conn, &id)?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user {id} vanished after insert")))
    })
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
    /// New password hash.
    pub password_hash: Option<String>,
}

/// Applies a change to a user, keeping the rules: officers have an active unit, and the last
/// enabled admin can be neither disabled nor demoted.
pub fn change_user(
    conn: &mut DbConnection,
    id: &str,
    change: AccountChange,
    now: chrono::NaiveDateTime,
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
        let ends_tokens = change.password_hash.is_some()
            || (disabled && !user.disabled)
            || role != user.role
            || unit != user.unit;
        let changes = UserChanges {
            password_hash: change.password_hash,
            role: change.role.map(|r| r.as_str().to_string()),
            unit_code: change.unit,
            display_name: change.display_name,
            disabled: change.disabled,
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

/// Lifts a user's lockout: its counted login attempts are forgotten.
pub fn unlock_user(conn: &mut DbConnection, id: &str) -> Result<(), ApiError> {
    let user = accounts::find_user(conn, id)?.ok_or_else(|| ApiError::not_found("User"))?;
    Ok(login_failures::clear(
        conn,
        &user_login_key(&user.username),
    )?)
}

/// Gives a client (by record id or client id) a new secret hash: tokens issued with the old
/// secret end and its counted login attempts are forgotten. A revoked client is a conflict.
pub fn rotate_client_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
) -> Result<accounts::ApiClient, ApiError> {
    conn.transaction(|conn| {
        let client =
            accounts::find_client(conn, id)?.ok_or_else(|| ApiError::not_found("API client"))?;
        if client.revoked_at.is_some() {
            return Err(ApiError::Conflict(
                "This API client is revoked; create a new one".into(),
            ));
        }
        accounts::rotate_client_secret(conn, &client.id, secret_hash)?;
        login_failures::clear(conn, &client_login_key(&client.client_id))?;
        accounts::find_client(conn, &client.id)?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("client {id} vanished in its rotation"))
        })
    })
}

/// On a database with no user, creates `admin` with the given password or a generated one.
/// Returns the generated password, which the caller shows once.
pub fn bootstrap_admin(
    conn: &mut DbConnection,
    configured: Option<&Secret>,
    now: chrono::NaiveDateTime,
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
        display_name: "Administrator".into(),
    };
    create_user(conn, &account, &hash, now)
        .map_err(|e| anyhow::anyhow!("cannot create admin: {e}"))?;
    Ok(Some(generated.then_some(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_bit_prefix() {
        let key = |a: &str| address_login_key(a.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "addr:203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "addr:203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "addr:2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2:aaaa::1"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }
}
