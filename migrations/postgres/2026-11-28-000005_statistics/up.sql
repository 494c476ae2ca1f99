-- When a question was rejected, so that "open at the end of a window" can be judged later.
ALTER TABLE questions ADD COLUMN rejected_at TIMESTAMP;

-- Indexes for the quarterly statistics: each count reads one index range.
CREATE INDEX submissions_submitted_unit_idx ON submissions (submitted_at, unit_code);
CREATE INDEX submissions_published_unit_idx ON submissions (published_at, unit_code);
CREATE INDEX submission_events_action_idx ON submission_events (action, created_at, submission_id);
CREATE INDEX questions_received_unit_idx ON questions (received_at, unit_code);
CREATE INDEX questions_answered_idx ON questions (answered_at, due_at, unit_code);
CREATE INDEX obligations_unit_cadence_idx ON obligations (unit_code, cadence);
