CREATE TABLE submissions (
    id TEXT PRIMARY KEY NOT NULL,
    unit_code TEXT NOT NULL REFERENCES units (code),
    category_code TEXT NOT NULL REFERENCES categories (code),
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    source_ref TEXT,
    source_url TEXT,
    event_date DATE,
    attachments TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'in_review', 'returned', 'published', 'unpublished', 'rejected')),
    version INTEGER NOT NULL,
    author TEXT NOT NULL,
    search_text TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    published_at TIMESTAMP
);

CREATE INDEX submissions_unit_created_idx ON submissions (unit_code, created_at);
CREATE INDEX submissions_created_idx ON submissions (created_at, id);
CREATE INDEX submissions_status_created_idx ON submissions (status, created_at);
CREATE INDEX submissions_published_idx ON submissions (status, published_at, id);
CREATE INDEX submissions_unit_submitted_idx ON submissions (unit_code, submitted_at);

CREATE TABLE submission_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    version INTEGER NOT NULL,
    category_code TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    source_ref TEXT,
    source_url TEXT,
    event_date DATE,
    attachments TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (submission_id, version)
);

CREATE TABLE submission_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions (id),
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (submission_id, version)
);

CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
    status_code INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, key)
);

-- Accent-folded text search: an FTS5 index over search_text, kept in step by triggers.
CREATE VIRTUAL TABLE submissions_fts USING fts5(
    search_text,
    content = 'submissions',
    content_rowid = 'rowid',
    tokenize = 'unicode61'
);

CREATE TRIGGER submissions_fts_insert AFTER INSERT ON submissions BEGIN
    INSERT INTO submissions_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE TRIGGER submissions_fts_delete AFTER DELETE ON submissions BEGIN
    INSERT INTO submissions_fts (submissions_fts, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
END;

CREATE TRIGGER submissions_fts_update AFTER UPDATE OF search_text ON submissions BEGIN
    INSERT INTO submissions_fts (submissions_fts, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO submissions_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
