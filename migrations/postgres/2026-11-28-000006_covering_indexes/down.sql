DROP INDEX questions_answered_idx;
CREATE INDEX questions_answered_idx ON questions (answered_at, due_at, unit_code);
