-- +goose Up
-- End users sign in to their customer's portal only by magic link: a
-- single-use link bound to one customer, then a portal session. Only hashes
-- of tokens are stored.
CREATE TABLE portal_links (
    token_hash  TEXT    PRIMARY KEY,
    end_user_id BIGINT NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX portal_links_user ON portal_links(end_user_id, created_at);

CREATE TABLE portal_sessions (
    token_hash   TEXT    PRIMARY KEY,
    end_user_id  BIGINT NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    customer_id  BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions(end_user_id);
