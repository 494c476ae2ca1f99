-- The quarterly report reads answered and overdue questions from the index alone.
DROP INDEX questions_answered_idx;
CREATE INDEX questions_answered_idx ON questions (answered_at, due_at, received_at, unit_code, rejected_at);
