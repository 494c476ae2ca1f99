//! Accent-folded word search over a table's `search_text`, through each backend's index.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::{DbBackend, DbConnection};

/// Matches above which a search walks the sort index instead of collecting every match.
const RARE_MATCHES: i64 = 1000;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A condition on `table` that holds when its `search_text` has every one of `terms`.
///
/// Both backends first probe their word index for up to 1,001 matches. Rare words (at most
/// 1,000 matches) are fetched through the index; common words walk the caller's sort order and
/// test each row, which finds a page within a few rows instead of collecting every match.
///
/// SQLite's word index is the table's FTS5 index (`<table>_fts`); its walk tests the folded
/// text for each word between spaces. PostgreSQL has a stored
/// `tsvector` with a GIN index, but its planner cannot estimate how many rows match a set of
/// words: with a newest-first `LIMIT` it walks the sort index and filters, which is right for
/// common words and reads the whole table for rare ones. So a quick probe through the GIN index
/// (stopping at 1,001 matches) decides: rare words fetch their few matches through the GIN
/// index first (`OFFSET 0` keeps the planner from undoing that); common words keep the walk,
/// which finds a page of matches within a few rows. Bodies are never read at query time.
///
/// `table` is one of this module's callers' table names, never input.
pub fn words<T: 'static>(
    conn: &mut DbConnection,
    table: &'static str,
    terms: &[String],
) -> QueryResult<Box<dyn BoxableExpression<T, DbBackend, SqlType = Bool>>> {
    match conn {
        DbConnection::Sqlite(lite) => {
            // Each term quoted, so no term is read as an FTS5 operator; all are required.
            let expr = terms
                .iter()
                .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" ");
            let probe: Count = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM {table}_fts \
                 WHERE {table}_fts MATCH ? LIMIT ?)"
            ))
            .bind::<Text, _>(&expr)
            .bind::<BigInt, _>(RARE_MATCHES + 1)
            .get_result(lite)?;
            if probe.n <= RARE_MATCHES {
                return Ok(Box::new(
                    sql::<Bool>(&format!(
                        "{table}.rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH "
                    ))
                    .bind::<Text, _>(expr)
                    .sql(")"),
                ));
            }
            // Common words: walk the sort order and test each row's folded text, which finds
            // a page within a few rows instead of collecting every match first.
            let mut condition: Box<dyn BoxableExpression<T, DbBackend, SqlType = Bool>> =
                Box::new(sql::<Bool>("1 = 1"));
            for term in terms {
                condition = Box::new(
                    condition.and(
                        sql::<Bool>(&format!("instr(' ' || {table}.search_text || ' ', "))
                            .bind::<Text, _>(format!(" {term} "))
                            .sql(") > 0"),
                    ),
                );
            }
            Ok(condition)
        }
        DbConnection::Pg(pg) => {
            let query = terms.join(" ");
            let probe: Count = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM {table} \
                 WHERE search_vector @@ plainto_tsquery('simple', $1) LIMIT $2) m"
            ))
            .bind::<Text, _>(&query)
            .bind::<BigInt, _>(RARE_MATCHES + 1)
            .get_result(pg)?;
            Ok(if probe.n <= RARE_MATCHES {
                Box::new(
                    sql::<Bool>(&format!(
                        "{table}.id IN (SELECT r.id FROM {table} r \
                         WHERE r.search_vector @@ plainto_tsquery('simple', "
                    ))
                    .bind::<Text, _>(query)
                    .sql(") OFFSET 0)"),
                )
            } else {
                Box::new(
                    sql::<Bool>(&format!(
                        "{table}.search_vector @@ plainto_tsquery('simple', "
                    ))
                    .bind::<Text, _>(query)
                    .sql(")"),
                )
            })
        }
    }
}
