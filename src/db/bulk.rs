//! Loading many rows at once: multi-row inserts and a load that commits every so many rows.

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::{Connection, QueryResult};

use super::DbConnection;

/// Rows per INSERT statement: far below the bind-parameter limits of SQLite (32,766) and
/// PostgreSQL (65,535) at the width of these tables.
pub const ROWS_PER_STATEMENT: usize = 500;

/// Inserts rows with one multi-row statement per [`ROWS_PER_STATEMENT`] rows. The
/// multi-backend connection builds single-row inserts only, so each backend's own connection
/// builds the statement.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let conn: &mut $crate::db::DbConnection = $conn;
        let mut inserted = 0;
        for chunk in $rows.chunks($crate::db::bulk::ROWS_PER_STATEMENT) {
            inserted += match &mut *conn {
                $crate::db::DbConnection::Pg(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
                $crate::db::DbConnection::Sqlite(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
            };
        }
        diesel::QueryResult::Ok(inserted)
    }};
}

pub(crate) use insert_rows;

/// A long load of rows, committed every `per_transaction` rows. On SQLite it runs without an
/// fsync per commit (a load that fails can be run again; the connection is not a server's)
/// and with a large page cache, so index pages touched by many batches are written once; at
/// the end it leaves the rows in the database file, not in a write-ahead log of hundreds of
/// megabytes that the service's first writes would have to copy back.
pub struct BulkLoad {
    rows: usize,
    per_transaction: usize,
}

impl BulkLoad {
    /// Sets the connection up for a load and opens its first transaction.
    pub fn start(conn: &mut DbConnection, per_transaction: usize) -> QueryResult<Self> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")?;
        }
        <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?;
        Ok(Self {
            rows: 0,
            per_transaction,
        })
    }

    /// Counts `rows` more, and commits when a transaction's worth has gone in.
    pub fn step(&mut self, conn: &mut DbConnection, rows: usize) -> QueryResult<()> {
        self.rows += rows;
        if self.rows >= self.per_transaction {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?;
            self.rows = 0;
        }
        Ok(())
    }

    /// Commits the rest and, on SQLite, empties the write-ahead log into the database file.
    pub fn finish(self, conn: &mut DbConnection) -> QueryResult<()> {
        <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        Ok(())
    }
}
