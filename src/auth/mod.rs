//! Authentication: tokens, password hashing, the `Principal` extractor, and the policy.

pub mod accounts;
pub mod password;
pub mod policy;
pub mod token;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;
use policy::{Action, Role};

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

impl Principal {
    /// Whether this principal may perform `action`.
    pub fn can(&self, action: Action) -> bool {
        policy::allows(self.role, action)
    }

    /// Refuses with 403 unless this principal may perform `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.can(action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// How this principal stands to a submission of `unit`; `None`: it may not see it.
    pub fn submission_actor(&self, unit: &str) -> Option<crate::domain::submission::Actor> {
        policy::submission_actor(self.role, self.unit.as_deref(), unit)
    }

    /// The user id, for a person's account.
    pub fn user_id(&self) -> Option<&str> {
        self.subject.strip_prefix("user:")
    }
}

/// How long a looked-up account is trusted before it is read again. Changes made through this
/// instance apply at once; changes made through another instance within this time.
const ACCOUNT_TTL: Duration = Duration::from_secs(10);

/// An account as a token is checked against: the principal and its credentials version;
/// `None` means disabled, revoked or gone.
type Account = Option<(Principal, i32)>;

/// Recently looked-up accounts by subject.
#[derive(Debug, Default)]
pub struct AccountCache {
    entries: Mutex<HashMap<String, (Instant, Account)>>,
}

impl AccountCache {
    fn get(&self, subject: &str) -> Option<Account> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(subject)
            .filter(|(at, _)| at.elapsed() < ACCOUNT_TTL)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, subject: String, principal: Account) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < ACCOUNT_TTL);
        }
        entries.insert(subject, (Instant::now(), principal));
    }

    /// Forgets a subject after its account changed, so the change applies on its next request.
    pub fn forget(&self, subject: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(subject);
    }
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("This action needs a bearer token".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("The Authorization header is not readable".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::Unauthorized(
            "The Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("The token is invalid or expired".into())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no app state")))?;
            let claims = state.tokens.verify(&token).ok_or_else(invalid_token)?;
            let account = match state.accounts.get(&claims.sub) {
                Some(cached) => cached,
                None => {
                    let subject = claims.sub.clone();
                    let account = db::run(&state.pool, move |conn| {
                        Ok(db::accounts::principal(conn, &subject)?)
                    })
                    .await?;
                    state.accounts.put(claims.sub, account.clone());
                    account
                }
            };
            // A token issued before the credentials last changed is over.
            match account {
                Some((principal, version)) if version == claims.cv => Ok(principal),
                _ => Err(invalid_token()),
            }
        })
    }
}
