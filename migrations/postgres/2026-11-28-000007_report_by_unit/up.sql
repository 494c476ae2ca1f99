-- The quarterly report counts each unit's rows along indexes that start with the unit, so a
-- count reads one short index range per unit and nothing is sorted.
ALTER TABLE submission_events ADD COLUMN unit_code TEXT;
UPDATE submission_events e SET unit_code = s.unit_code FROM submissions s WHERE s.id = e.submission_id;
DROP INDEX submission_events_action_idx;
CREATE INDEX submission_events_unit_action_idx ON submission_events (unit_code, action, created_at);
DROP INDEX submissions_submitted_unit_idx;
DROP INDEX submissions_published_unit_idx;
CREATE INDEX submissions_unit_published_idx ON submissions (unit_code, published_at);
-- Obligations read a unit's items with their category and status from the index alone.
DROP INDEX submissions_unit_submitted_idx;
CREATE INDEX submissions_unit_submitted_idx ON submissions (unit_code, submitted_at, category_code, status, id);
DROP INDEX questions_received_unit_idx;
-- Working days from receipt to the first reply, counted when it is given.
ALTER TABLE questions ADD COLUMN answer_working_days INTEGER;
DROP INDEX questions_answered_idx;
CREATE INDEX questions_answered_idx ON questions (answered_at, due_at, received_at, unit_code, rejected_at, answer_working_days);
