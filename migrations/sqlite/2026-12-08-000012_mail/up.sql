-- Mail: addresses of staff and units, the outbox of messages, and the reminders sent.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN notify_digest BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE units ADD COLUMN email TEXT;

-- One message to one recipient, queued in the transaction of the change that causes it and
-- sent by the mail worker. (cause, recipient) is unique: a cause never mails anyone twice.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    cause TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject_id TEXT,
    unit_code TEXT,
    data TEXT NOT NULL,
    -- The asker's access key for the link of a receipt or a re-sent key; cleared once the
    -- message is sent or has failed.
    secret TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    last_error TEXT,
    subject TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    UNIQUE (cause, recipient)
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_list_idx ON mail_outbox (status, created_at, id);
CREATE INDEX mail_outbox_created_idx ON mail_outbox (created_at, id);

-- Reminders and notices of obligation periods: one of each kind per period.
CREATE TABLE obligation_reminders (
    obligation_id BIGINT NOT NULL REFERENCES obligations (id) ON DELETE CASCADE,
    period_start DATE NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('due_soon', 'missed')),
    reminded_at TIMESTAMP NOT NULL,
    recipients INTEGER NOT NULL,
    PRIMARY KEY (obligation_id, period_start, kind)
);
