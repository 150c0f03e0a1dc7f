-- +goose Up
-- Invitations to a customer account: one pending invitation per address and
-- customer; only a hash of the link's token is stored.
CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('customer_admin','customer_user')),
    modules      TEXT    NOT NULL DEFAULT '',
    sub_accounts TEXT    NOT NULL DEFAULT '',
    invited_by   INTEGER,
    inviter_name TEXT    NOT NULL DEFAULT '',
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX invitations_pending ON invitations(customer_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_customer ON invitations(customer_id, created_at);

-- What a customer User was granted: modules and sub-accounts (IDs), comma
-- separated; empty for Admins, who have everything.
ALTER TABLE memberships ADD COLUMN modules TEXT NOT NULL DEFAULT '';
ALTER TABLE memberships ADD COLUMN sub_accounts TEXT NOT NULL DEFAULT '';
