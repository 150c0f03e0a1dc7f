-- +goose Up
-- Staff sign-in state. A person is Unregistered until registered_at is set.
ALTER TABLE people ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN security_question TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN security_answer_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN registered_at INTEGER;
ALTER TABLE people ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE people ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN locked_until INTEGER;
ALTER TABLE people ADD COLUMN last_login_at INTEGER;
ALTER TABLE people ADD COLUMN last_login_error TEXT NOT NULL DEFAULT '';

-- One-time recovery codes for two-step verification, stored hashed.
CREATE TABLE recovery_codes (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (person_id, code_hash)
);
