-- +goose Up
-- Customers (uService): what the list sorts and filters on is kept on the
-- customers row itself (name_key, distributor_id, path), so every sort of an
-- MSP's or a distributor's customers is one index range, keyset-paged.
ALTER TABLE customers ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN distributor_id INTEGER;
ALTER TABLE customers ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN plan_type TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE customers ADD COLUMN modules TEXT NOT NULL DEFAULT 'training,phishing,policies,reports';
ALTER TABLE customers ADD COLUMN status_before_suspend TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN primary_color TEXT NOT NULL DEFAULT '';
UPDATE customers SET
    name_key = (SELECT LOWER(o.name) FROM orgs o WHERE o.id = customers.org_id),
    path = (SELECT o.path FROM orgs o WHERE o.id = customers.org_id),
    distributor_id = (SELECT m.parent_id FROM orgs m WHERE m.id = customers.msp_id);

DROP INDEX customers_msp;
CREATE INDEX customers_msp_name ON customers(msp_id, name_key, org_id);
CREATE INDEX customers_msp_domain ON customers(msp_id, domain, org_id);
CREATE INDEX customers_msp_users ON customers(msp_id, active_users, org_id);
CREATE INDEX customers_msp_status ON customers(msp_id, status, org_id);
CREATE INDEX customers_dist_name ON customers(distributor_id, name_key, org_id);
CREATE INDEX customers_dist_domain ON customers(distributor_id, domain, org_id);
CREATE INDEX customers_dist_users ON customers(distributor_id, active_users, org_id);
CREATE INDEX customers_dist_status ON customers(distributor_id, status, org_id);
CREATE INDEX customers_trial_end ON customers(status, trial_ends_at);

-- Every domain of a customer, the primary one included; unique within an MSP.
CREATE TABLE customer_domains (
    customer_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    msp_id      INTEGER NOT NULL,
    domain      TEXT    NOT NULL,
    is_primary  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, domain),
    UNIQUE (msp_id, domain)
);
INSERT INTO customer_domains (customer_id, msp_id, domain, is_primary)
    SELECT org_id, msp_id, domain, 1 FROM customers WHERE domain <> '';

-- The branding logo, apart from the row the lists read.
CREATE TABLE customer_logos (
    customer_id  INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Settings by organization: an MSP's rows are its customer defaults, a
-- customer's rows are overrides, a distributor's locked rows are imposed on
-- every customer of its MSPs.
CREATE TABLE org_settings (
    org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    locked     INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
);

-- A distributor decides whether its MSPs may delete customers themselves.
ALTER TABLE orgs ADD COLUMN lifecycle_by_distributor INTEGER NOT NULL DEFAULT 0;

-- Admin Login: a session acting inside a customer remembers where its person
-- really signed in, why, and until when.
ALTER TABLE sessions ADD COLUMN acting_from_org_id INTEGER;
ALTER TABLE sessions ADD COLUMN acting_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN acting_until INTEGER;

-- The change log by MSP subtree (an MSP and all its customers).
ALTER TABLE change_log ADD COLUMN msp_id INTEGER;
CREATE INDEX change_log_org_actor_action_time ON change_log(org_id, actor_id, action, created_at, id);
CREATE INDEX change_log_msp_time ON change_log(msp_id, created_at, id);
CREATE INDEX change_log_msp_action_time ON change_log(msp_id, action, created_at, id);
CREATE INDEX change_log_msp_actor_time ON change_log(msp_id, actor_id, created_at, id);
CREATE INDEX change_log_msp_actor_action_time ON change_log(msp_id, actor_id, action, created_at, id);
