-- A token names the version of its account's credentials; a password reset, a disable, a role
-- or unit change and a secret rotation move the version on, so every earlier token is refused.
ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_clients ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 1;
-- Old login attempts are swept by age across all login names.
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);
