//! Authentication: tokens, password hashing and the cache of checked accounts.

pub mod password;
pub mod token;

use std::time::Duration;

use crate::cache::TtlCache;
pub use crate::domain::access as policy;
pub use crate::domain::access::Principal;

/// How long a looked-up account is trusted before it is read again. Changes made through this
/// instance apply at once; changes made through another instance within this time.
const ACCOUNT_TTL: Duration = Duration::from_secs(10);

/// Most accounts kept at once.
const ACCOUNT_ENTRIES: usize = 10_000;

/// An account as a token is checked against: the principal and its credentials version;
/// `None` means disabled, revoked or gone.
pub type Account = Option<(Principal, i32)>;

/// Recently looked-up accounts by subject.
#[derive(Debug)]
pub struct AccountCache(TtlCache<String, Account>);

impl Default for AccountCache {
    fn default() -> Self {
        Self(TtlCache::new(ACCOUNT_TTL, ACCOUNT_ENTRIES))
    }
}

impl AccountCache {
    /// The account of `subject` when it was looked up recently.
    pub fn get(&self, subject: &str) -> Option<Account> {
        self.0.get(subject)
    }

    /// Marks the start of a lookup; pass the mark to [`AccountCache::put`].
    pub fn generation(&self) -> u64 {
        self.0.generation()
    }

    /// Remembers the account of `subject`, unless an account changed since `generation`.
    pub fn put(&self, subject: String, account: Account, generation: u64) {
        self.0.put(subject, account, generation);
    }

    /// Forgets a subject after its account changed, so the change applies on its next request.
    pub fn forget(&self, subject: &str) {
        self.0.invalidate(subject);
    }
}
