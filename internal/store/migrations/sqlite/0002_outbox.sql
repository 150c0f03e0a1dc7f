-- +goose Up
-- The transactional outbox: a mail is written in the transaction of the
-- change that causes it, and a job delivers it with retries.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER,
    kind        TEXT    NOT NULL,
    to_addr     TEXT    NOT NULL,
    from_name   TEXT    NOT NULL DEFAULT '',
    subject     TEXT    NOT NULL,
    text_body   TEXT    NOT NULL,
    html_body   TEXT    NOT NULL DEFAULT '',
    message_id  TEXT    NOT NULL UNIQUE,
    state       TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','held','sent','failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX outbox_created ON outbox(created_at, id);
CREATE INDEX outbox_to ON outbox(to_addr, created_at);

-- Every delivery attempt, for the mailbox page and for support.
CREATE TABLE outbox_attempts (
    id        INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    ok        INTEGER NOT NULL,
    error     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_mail ON outbox_attempts(outbox_id, at);
