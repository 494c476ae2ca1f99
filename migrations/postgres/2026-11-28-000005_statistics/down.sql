DROP INDEX obligations_unit_cadence_idx;
DROP INDEX questions_answered_idx;
DROP INDEX questions_received_unit_idx;
DROP INDEX submission_events_action_idx;
DROP INDEX submissions_published_unit_idx;
DROP INDEX submissions_submitted_unit_idx;
ALTER TABLE questions DROP COLUMN rejected_at;
