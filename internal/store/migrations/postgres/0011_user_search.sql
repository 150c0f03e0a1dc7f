-- +goose Up
-- End-user search (PERFORMANCE.md W5).
--
-- Prefix search (email, full name or last name starts with the query,
-- case-insensitive) is a B-tree range: by customer for one customer, over
-- the whole table for an MSP, distributor or platform scope. The keys are
-- compared COLLATE "C" (byte order), so that "starts with" is one range
-- whatever the database's collation, and both engines page in the same
-- (email, id) order.
CREATE INDEX end_users_email ON end_users((email COLLATE "C"), id);
CREATE INDEX end_users_customer_email ON end_users(customer_id, (email COLLATE "C"), id);
CREATE INDEX end_users_name ON end_users((lower(first_name || ' ' || last_name) COLLATE "C"));
CREATE INDEX end_users_last ON end_users((lower(last_name) COLLATE "C"));
CREATE INDEX end_users_customer_name ON end_users(customer_id, (lower(first_name || ' ' || last_name) COLLATE "C"));
CREATE INDEX end_users_customer_last ON end_users(customer_id, (lower(last_name) COLLATE "C"));
-- The span of a customer's IDs (MIN and MAX in one seek each): a contains
-- search bounds its scan to its scope's span, and reads one customer's
-- users in ID order.
CREATE INDEX end_users_customer_id ON end_users(customer_id, id);

-- "Contains" search: trigram GIN indexes answer LIKE '%q%' (pg_trgm is a
-- trusted extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX end_users_email_trgm ON end_users USING gin (email gin_trgm_ops);
CREATE INDEX end_users_name_trgm ON end_users USING gin ((lower(first_name || ' ' || last_name)) gin_trgm_ops);
