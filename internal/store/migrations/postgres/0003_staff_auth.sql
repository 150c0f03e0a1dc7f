-- +goose Up
-- Staff sign-in state. A person is Unregistered until registered_at is set.
ALTER TABLE people ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN security_question TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN security_answer_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN registered_at BIGINT;
ALTER TABLE people ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN totp_enabled_at BIGINT;
ALTER TABLE people ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN locked_until BIGINT;
ALTER TABLE people ADD COLUMN last_login_at BIGINT;
ALTER TABLE people ADD COLUMN last_login_error TEXT NOT NULL DEFAULT '';

-- One-time recovery codes for two-step verification, stored hashed.
CREATE TABLE recovery_codes (
    person_id BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (person_id, code_hash)
);
