//! Logging in: counting the attempt, checking the password off the executor, issuing a token.

use std::net::IpAddr;

use chrono::Duration;

use crate::auth::password;
use crate::db::{accounts, login_failures, DbConnection};
use crate::domain::access::Role;
use crate::domain::account::{
    address_login_key, client_login_key, user_login_key, Username, LOCKOUT_WINDOW_MINUTES,
    MAX_FAILURES,
};
use crate::error::ApiError;
use crate::state::AppState;

/// What a caller logs in with (no `Debug`: it holds a secret).
pub enum Credentials {
    /// A person's username and password.
    Password {
        /// Login name, as typed.
        username: String,
        /// Password.
        password: String,
    },
    /// An agency portal's client credentials.
    Client {
        /// The client's public id.
        client_id: String,
        /// Its secret.
        client_secret: String,
    },
}

impl Credentials {
    fn secret(&self) -> &str {
        match self {
            Self::Password { password, .. } => password,
            Self::Client { client_secret, .. } => client_secret,
        }
    }
}

/// An issued access token.
#[derive(Debug)]
pub struct Token {
    /// The signed token.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Login names as typed can be long; attempt counts keep a bounded prefix.
fn bounded(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Who a login would be, if its credentials verify.
struct LoginSubject {
    sub: String,
    role: Role,
    unit: Option<String>,
    credentials_version: i32,
}

/// What a login checks: the account's hash, if the login name exists and may log in.
struct LoginTarget {
    key: String,
    subject: Option<LoginSubject>,
    hash: Option<String>,
}

fn lookup(conn: &mut DbConnection, credentials: &Credentials) -> Result<LoginTarget, ApiError> {
    let (key, found) = match credentials {
        Credentials::Password { username, .. } => {
            let name = Username::parse(username).ok();
            let key = match &name {
                Some(n) => user_login_key(n.as_str()),
                None => user_login_key(&bounded(username)),
            };
            let found = match &name {
                Some(n) => accounts::find_login(conn, n.as_str())?,
                None => None,
            };
            let found = found
                .filter(|(user, _)| !user.disabled)
                .map(|(user, hash)| {
                    let subject = LoginSubject {
                        sub: format!("user:{}", user.id),
                        role: user.role,
                        unit: user.unit,
                        credentials_version: user.credentials_version,
                    };
                    (subject, hash)
                });
            (key, found)
        }
        Credentials::Client { client_id, .. } => {
            let key = client_login_key(&bounded(client_id));
            let found = accounts::find_client_login(conn, client_id)?
                .filter(|c| c.revoked_at.is_none())
                .map(|c| {
                    let subject = LoginSubject {
                        sub: format!("client:{}", c.client_id),
                        role: Role::Officer,
                        unit: Some(c.unit_code),
                        credentials_version: c.credentials_version,
                    };
                    (subject, c.secret_hash)
                });
            (key, found)
        }
    };
    let (subject, hash) = found.unzip();
    Ok(LoginTarget { key, subject, hash })
}

/// Logs in from `address` (when known): the attempt is counted first (429 when the name or
/// the address has used up its attempts), the secret is checked on the password threads
/// (503 when they stay busy; the attempt then does not count), and a token is issued.
///
/// The attempt is counted on a pooled connection, not in the group commit: its transaction
/// must commit before the password check starts, whatever the writer is batching, and a
/// burst of guesses must not take the writer's turns from questions and submissions.
pub async fn login(
    state: &AppState,
    credentials: Credentials,
    address: Option<IpAddr>,
) -> Result<Token, ApiError> {
    let address = address.map(address_login_key);
    let limits = login_failures::Limits {
        window: Duration::minutes(LOCKOUT_WINDOW_MINUTES),
        per_login: MAX_FAILURES,
        per_address: state.settings.login_failures_per_address,
    };
    let now = state.now();
    let (credentials, target, attempt) = state
        .read(move |conn| {
            let target = lookup(conn, &credentials)?;
            let attempt =
                login_failures::admit(conn, &target.key, address.as_deref(), now, limits)?
                    .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
            Ok((credentials, target, attempt))
        })
        .await?;

    let hash = target.hash;
    let checked = state
        .passwords
        .run(move || match &hash {
            Some(hash) => password::verify(credentials.secret(), hash),
            None => {
                // Same work for a name that does not exist, so timing does not tell.
                password::verify_dummy(credentials.secret());
                false
            }
        })
        .await;
    let verified = match checked {
        Ok(verified) => verified,
        Err(busy) => {
            state
                .read(move |conn| Ok(login_failures::withdraw(conn, attempt)?))
                .await?;
            return Err(busy.into());
        }
    };
    let Some(subject) = target.subject.filter(|_| verified) else {
        return Err(ApiError::InvalidCredentials);
    };
    let key = target.key;
    state
        .read(move |conn| Ok(login_failures::succeeded(conn, &key, attempt)?))
        .await?;
    state.accounts.forget(&subject.sub);
    let access_token = state.tokens.issue(
        subject.sub,
        subject.role,
        subject.unit,
        subject.credentials_version,
    )?;
    Ok(Token {
        access_token,
        expires_in: state.tokens.ttl_seconds,
    })
}
