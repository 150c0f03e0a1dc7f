-- +goose Up
-- A requested change of a person's email, confirmed from the new address;
-- only a hash of the link's token is stored.
CREATE TABLE email_changes (
    token_hash TEXT    PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    new_email  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_changes_person ON email_changes(person_id);
