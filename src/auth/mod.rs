//! Authentication: tokens, password hashing, account rules and the cache of checked accounts.

pub mod accounts;
pub mod password;
pub mod token;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::domain::access as policy;
pub use crate::domain::access::Principal;

/// How long a looked-up account is trusted before it is read again. Changes made through this
/// instance apply at once; changes made through another instance within this time.
const ACCOUNT_TTL: Duration = Duration::from_secs(10);

/// An account as a token is checked against: the principal and its credentials version;
/// `None` means disabled, revoked or gone.
pub type Account = Option<(Principal, i32)>;

/// Recently looked-up accounts by subject.
#[derive(Debug, Default)]
pub struct AccountCache {
    entries: Mutex<HashMap<String, (Instant, Account)>>,
}

impl AccountCache {
    /// The account of `subject` when it was looked up recently.
    pub fn get(&self, subject: &str) -> Option<Account> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(subject)
            .filter(|(at, _)| at.elapsed() < ACCOUNT_TTL)
            .map(|(_, p)| p.clone())
    }

    /// Remembers the account of `subject`.
    pub fn put(&self, subject: String, principal: Account) {
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
