CREATE TABLE questions (
    id TEXT PRIMARY KEY NOT NULL,
    tracking_code TEXT NOT NULL UNIQUE,
    access_key_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category_code TEXT REFERENCES categories (code),
    unit_code TEXT REFERENCES units (code),
    asker_name TEXT NOT NULL,
    asker_email TEXT,
    asker_phone TEXT,
    asker_address TEXT,
    asker_organization TEXT,
    publish_consent BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'assigned', 'answered', 'published', 'rejected')),
    rejection_note TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    received_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    published_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    rating_score INTEGER CHECK (rating_score BETWEEN 1 AND 5),
    rating_comment TEXT,
    rated_at TIMESTAMP
);

CREATE INDEX questions_unit_received_idx ON questions (unit_code, received_at);
CREATE INDEX questions_received_idx ON questions (received_at, id);
CREATE INDEX questions_status_due_idx ON questions (status, due_at);
CREATE INDEX questions_published_idx ON questions (status, published_at, id);

CREATE TABLE question_replies (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    question_id TEXT NOT NULL REFERENCES questions (id),
    body TEXT NOT NULL,
    unit_code TEXT,
    author TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX question_replies_question_idx ON question_replies (question_id, id);

CREATE VIRTUAL TABLE questions_fts USING fts5(
    search_text,
    content = 'questions',
    content_rowid = 'rowid',
    tokenize = 'unicode61'
);

CREATE TRIGGER questions_fts_insert AFTER INSERT ON questions BEGIN
    INSERT INTO questions_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE TRIGGER questions_fts_delete AFTER DELETE ON questions BEGIN
    INSERT INTO questions_fts (questions_fts, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
END;

CREATE TRIGGER questions_fts_update AFTER UPDATE OF search_text ON questions BEGIN
    INSERT INTO questions_fts (questions_fts, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO questions_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
