//! What every handler and use case can reach: the pool, the writer, the clock, the caches.

use crate::auth::password::PasswordPool;
use crate::auth::token::TokenKeys;
use crate::auth::AccountCache;
use crate::cache::PublicCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::questions::{Pending, Question};
use crate::db::writer::Writer;
use crate::db::{self, DbConnection, DbPool};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;

/// Largest request body accepted, JSON or not.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
pub struct AppState {
    /// Database connections.
    pub pool: DbPool,
    /// Where "now" comes from, for every deadline, overdue check and stored time.
    pub clock: Clock,
    /// The settings the service started with.
    pub settings: Settings,
    /// Request metrics.
    pub metrics: Metrics,
    /// Keys that sign and check access tokens.
    pub tokens: TokenKeys,
    /// The threads that hash and check passwords, a bounded number at once.
    pub passwords: PasswordPool,
    /// Recently checked accounts, so a token is not a database read on every request.
    pub accounts: AccountCache,
    /// The per-address limit on asking questions.
    pub question_limit: RateLimiter,
    /// Group commit for the high-volume inserts (questions, submissions).
    pub writer: Writer,
    /// Recently answered public article pages.
    pub public_cache: PublicCache,
    /// Units, categories and holidays as new questions are checked against them.
    pub references: crate::references::ReferenceCache,
    /// The limits on asking for a tracking key again: per client address, per e-mail, per
    /// tracking code.
    pub resend_limits: crate::ratelimit::ResendLimits,
    /// The wording of mail and pages.
    pub templates: crate::templates::Templates,
}

impl AppState {
    /// The current time (UTC) for deadlines and overdue checks.
    pub fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now()
    }
}

/// Database work with the service's error type, so that use cases need not name it.
impl AppState {
    /// Runs a read (or a write outside the group commit) on a pooled connection, off the
    /// async executor.
    pub async fn read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        db::run(&self.pool, work).await
    }

    /// Runs a change to existing rows in the first writer's next group commit.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        self.writer.write(work).await
    }

    /// Runs work that only adds rows in any writer's next group commit.
    pub async fn insert<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    {
        self.writer.insert(work).await
    }

    /// Stores a new question and its event in any writer's next group commit, with the
    /// group's other new questions (see [`Writer::insert_question`]); `None` when no free
    /// tracking code was drawn.
    pub async fn insert_question(&self, pending: Pending) -> Result<Option<Question>, ApiError> {
        Ok(self.writer.insert_question(pending).await?)
    }
}
