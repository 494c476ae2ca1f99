DROP INDEX login_failures_failed_at_idx;
ALTER TABLE api_clients DROP COLUMN credentials_version;
ALTER TABLE users DROP COLUMN credentials_version;
