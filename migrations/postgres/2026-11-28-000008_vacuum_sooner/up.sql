-- The quarterly report counts from indexes alone, which works only on table pages marked
-- all-visible; any new or changed row on a page clears that mark until the page is vacuumed,
-- and then every index entry on it costs a read of the table (measured: a report of 170 ms
-- took 365 ms after 40,000 new rows). PostgreSQL's default vacuums a table once a fifth of
-- it is new or changed: 200,000 rows of a million. These tables are vacuumed far sooner.
ALTER TABLE questions SET (autovacuum_vacuum_insert_scale_factor = 0.005,
                           autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE submissions SET (autovacuum_vacuum_insert_scale_factor = 0.005,
                             autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE submission_events SET (autovacuum_vacuum_insert_scale_factor = 0.005);
