-- +goose Up
-- End users sign in to their customer's portal only by magic link: a
-- single-use link bound to one customer, then a portal session. Only hashes
-- of tokens are stored.
CREATE TABLE portal_links (
    token_hash  TEXT    PRIMARY KEY,
    end_user_id INTEGER NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX portal_links_user ON portal_links(end_user_id, created_at);

CREATE TABLE portal_sessions (
    token_hash   TEXT    PRIMARY KEY,
    end_user_id  INTEGER NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    customer_id  INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions(end_user_id);
