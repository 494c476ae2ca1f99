DROP TABLE obligation_reminders;
DROP TABLE mail_outbox;
ALTER TABLE units DROP COLUMN email;
ALTER TABLE users DROP COLUMN notify_digest;
ALTER TABLE users DROP COLUMN email;
