DROP TABLE idempotency_keys;
DROP TABLE submission_events;
DROP TABLE submission_revisions;
DROP TABLE submissions;
