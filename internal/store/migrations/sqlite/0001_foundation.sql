-- +goose Up
-- The tenant tree. path is the materialized path of IDs ("/1/4/17/"): a
-- subtree is one range scan on orgs_path. It is set right after the insert,
-- in the same transaction, once the ID is known.
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    tenant_id   TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('platform','distributor','msp','customer','sub_account')),
    name        TEXT    NOT NULL,
    parent_id   INTEGER REFERENCES orgs(id) ON DELETE RESTRICT,
    path        TEXT    UNIQUE,
    depth       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id, name);
CREATE INDEX orgs_kind_path ON orgs(kind, path);

-- Customer-only attributes. msp_id is the owning MSP, kept for MSP-scoped lists.
CREATE TABLE customers (
    org_id        INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    msp_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE RESTRICT,
    domain        TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL CHECK (status IN ('trial','active','trial_expired','suspended')),
    trial_ends_at INTEGER,
    max_users     INTEGER,
    active_users  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customers_msp ON customers(msp_id);

-- People are staff and customer users (one email, many organizations).
CREATE TABLE people (
    id         INTEGER PRIMARY KEY,
    email      TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    phone      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A membership gives a person roles at a node; they apply to its subtree.
CREATE TABLE memberships (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    roles      TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL DEFAULT 'active',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, org_id)
);
CREATE INDEX memberships_org ON memberships(org_id, person_id);

-- End users of a customer: no password, magic-link sign-in only.
CREATE TABLE end_users (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    first_name  TEXT    NOT NULL DEFAULT '',
    last_name   TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active','deactivated')),
    source      TEXT    NOT NULL DEFAULT 'manual',
    external_id TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (customer_id, email)
);

CREATE TABLE user_groups (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    external_id TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (customer_id, name)
);

CREATE TABLE group_members (
    group_id    INTEGER NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    end_user_id INTEGER NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, end_user_id)
);
CREATE INDEX group_members_user ON group_members(end_user_id);

-- The change log. No foreign keys: entries outlive what they describe.
CREATE TABLE change_log (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL,
    org_path          TEXT    NOT NULL,
    actor_kind        TEXT    NOT NULL,
    actor_id          INTEGER,
    actor_name        TEXT    NOT NULL,
    on_behalf_of_id   INTEGER,
    on_behalf_of_name TEXT    NOT NULL DEFAULT '',
    action            TEXT    NOT NULL,
    target_type       TEXT    NOT NULL,
    target_id         TEXT    NOT NULL,
    target_name       TEXT    NOT NULL,
    before_json       TEXT,
    after_json        TEXT,
    ip                TEXT    NOT NULL DEFAULT '',
    user_agent        TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL
);
-- "This organization's entries, newest first", optionally by action or actor,
-- bounded by a time range.
CREATE INDEX change_log_org_time ON change_log(org_id, created_at, id);
CREATE INDEX change_log_org_action_time ON change_log(org_id, action, created_at, id);
CREATE INDEX change_log_org_actor_time ON change_log(org_id, actor_id, created_at, id);

-- Durable background work. A worker claims a job by compare-and-swap on
-- (state, lease); unique_key makes scheduled ticks and idempotent enqueues
-- happen once across replicas.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '{}',
    unique_key   TEXT    UNIQUE,
    state        TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','done','failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    run_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX jobs_ready ON jobs(state, run_at);

-- Server-side sessions; only a hash of the token is stored.
CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_person ON sessions(person_id);

-- Single-use sign-in links (the demo administrator's first link; later
-- registration, reset and magic links).
CREATE TABLE signin_links (
    token_hash TEXT    PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX signin_links_person ON signin_links(person_id);
