-- Every change of state. seq is given as a transaction's events are inserted, just before it
-- commits, by a writer that holds the database's write lock (SQLite) or the events advisory lock
-- (PostgreSQL) until the commit: seq increases in commit order.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    unit_code TEXT,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data TEXT NOT NULL
);
-- Only seq is indexed: every write pays for an index here. A read by unit or type walks a
-- bounded stretch of the log (db::events::SCAN_WINDOW).

-- Time-driven events are emitted once per subject: the mark is taken with the event.
CREATE TABLE event_marks (
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    marked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (type, subject_id)
);

-- How far a consumer of the log (the webhook fan-out) has read.
CREATE TABLE event_cursors (
    name TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO event_cursors (name, seq) VALUES ('webhooks', 0);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    unit_code TEXT REFERENCES units (code),
    description TEXT,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    owner TEXT,
    failing_since TIMESTAMP,
    disabled_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_owner_idx ON webhooks (owner);

-- One event to one webhook: what is sent, and where its attempts stand.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    http_status INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    next_attempt_at TIMESTAMP
);
CREATE INDEX webhook_attempts_webhook_idx ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id);
