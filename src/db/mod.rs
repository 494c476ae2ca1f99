//! The database: one connection type over SQLite and PostgreSQL, its pool and migrations.

pub mod accounts;
pub mod bulk;
pub mod categories;
pub mod deliveries;
pub mod digest;
pub mod error;
pub mod events;
pub mod fanout;
pub mod holidays;
pub mod idempotency;
pub mod login_failures;
pub mod mail;
pub mod obligations;
pub mod page;
pub mod questions;
pub mod reminders;
pub mod schema;
pub mod search;
pub mod seed;
pub mod stats;
pub mod submissions;
pub mod timed;
pub mod units;
pub mod webhooks;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use error::{DbError, FromDb};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever database `DATABASE_URL` names; queries are written once for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, the production database.
    Pg(PgConnection),
    /// Embedded SQLite, the zero-configuration default.
    Sqlite(SqliteConnection),
}

/// The backend type of [`DbConnection`], for boxed queries.
pub type DbBackend = <DbConnection as diesel::Connection>::Backend;

/// The pool handlers draw connections from.
pub type DbPool = r2d2::Pool<ConnectionManager>;

/// Which backend a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres(String),
    /// `sqlite://PATH`, a file path.
    Sqlite(PathBuf),
}

impl Backend {
    /// Reads the backend from the URL scheme; anything else is refused rather than guessed.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_string()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" {
                anyhow::bail!("DATABASE_URL must name a SQLite file, e.g. sqlite://data/portal.db");
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else {
            anyhow::bail!(
                "DATABASE_URL must start with sqlite:// or postgres:// (got a URL with another scheme)"
            )
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// An r2d2 manager that opens the backend chosen from the URL, with our per-connection settings.
///
/// diesel's derived `establish` tries each backend in turn and hides the real error
/// (a refused PostgreSQL connection would read as a bad URL), so the choice is made here.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    backend: Backend,
}

impl ConnectionManager {
    /// A manager for this backend.
    pub fn new(backend: Backend) -> Self {
        Self { backend }
    }
}

/// SQLite settings each pooled connection needs; WAL is set once, before the pool.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA journal_size_limit = 67108864;";

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.backend {
            Backend::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Pg)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_CONNECTION_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Opens the pool: creates the SQLite folder and sets WAL first, then fills the pool.
pub fn connect(url: &str, size: u32) -> anyhow::Result<DbPool> {
    let backend = Backend::from_url(url)?;
    if let Backend::Sqlite(path) = &backend {
        prepare_sqlite_file(path)?;
    }
    // A PostgreSQL connection can die with the server or the network, and diesel cannot tell
    // a dead one from a live one without asking: each checkout pings, so a dead connection is
    // replaced instead of failing request after request once the server is back. An SQLite
    // connection is a file handle and does not die.
    let ping_on_checkout = matches!(backend, Backend::Postgres(_));
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(ping_on_checkout)
        .build(ConnectionManager::new(backend.clone()))
        .with_context(|| format!("cannot connect to the {} database", backend.name()))
}

fn prepare_sqlite_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    // Setting WAL from every pooled connection raced and gave "database is locked";
    // it is a property of the file, so one connection sets it once.
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
    conn.batch_execute("PRAGMA journal_mode = WAL;")
        .context("cannot switch the SQLite database to WAL")?;
    Ok(())
}

/// Applies pending migrations of the connection's backend; returns how many ran.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.len())
}

/// Runs blocking database work off the async executor, with a pooled connection.
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    E: FromDb,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(DbError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|e| DbError::Internal(format!("blocking task failed: {e}")))?
}

/// Checks that the database answers, for the readiness probe.
pub fn ping(pool: &DbPool, database_url: &str) -> Result<(), DbError> {
    // A deleted SQLite file would be re-created empty by the next new connection:
    // that is not a ready service.
    if let Ok(Backend::Sqlite(path)) = Backend::from_url(database_url) {
        if !path.exists() {
            return Err(DbError::Missing);
        }
    }
    let mut conn = pool.get_timeout(Duration::from_secs(2))?;
    conn.ping().map_err(|_| DbError::NoAnswer)
}

/// Runs `work` in a transaction that writes. On SQLite it begins `IMMEDIATE`, taking the
/// write lock first (waiting up to `busy_timeout`): a deferred transaction that reads first
/// cannot become a writer once another connection has committed since.
pub(crate) fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => Manager::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                return Err(DbError::Internal(format!(
                    "{e}; and the rollback failed: {rollback}"
                )));
            }
            Err(e)
        }
    }
}

/// A statement in the placeholder style of the connection's backend: written with `?`, which
/// PostgreSQL gets as `$1`, `$2`, ... (none of these statements has a `?` inside a literal).
fn portable_query(conn: &DbConnection, sql: &str) -> diesel::query_builder::SqlQuery {
    match conn {
        DbConnection::Sqlite(_) => diesel::sql_query(sql),
        DbConnection::Pg(_) => diesel::sql_query(numbered(sql)),
    }
}

/// `?` placeholders as PostgreSQL numbers them.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgresql() {
        assert_eq!(
            numbered("UPDATE t SET a = ? WHERE b = ? AND c IN (?, ?)"),
            "UPDATE t SET a = $1 WHERE b = $2 AND c IN ($3, $4)"
        );
    }
}
