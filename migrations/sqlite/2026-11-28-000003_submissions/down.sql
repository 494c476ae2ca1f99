DROP TRIGGER submissions_fts_update;
DROP TRIGGER submissions_fts_delete;
DROP TRIGGER submissions_fts_insert;
DROP TABLE submissions_fts;
DROP TABLE idempotency_keys;
DROP TABLE submission_events;
DROP TABLE submission_revisions;
DROP TABLE submissions;
