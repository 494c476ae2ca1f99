DROP TABLE question_replies;
DROP TABLE questions;
