DROP TRIGGER questions_fts_update;
DROP TRIGGER questions_fts_delete;
DROP TRIGGER questions_fts_insert;
DROP TABLE questions_fts;
DROP TABLE question_replies;
DROP TABLE questions;
