-- +goose Up
-- End-user search (PERFORMANCE.md W5): the walk of a common prefix at MSP,
-- distributor or platform scope (store/search.go) tests the email, the
-- names and the customer of every index row it passes. Carrying them in
-- the email index makes the walk an index-only scan: it read a heap row
-- for each of the ~13,000 index rows an MSP of 30,000 users passes on L.
DROP INDEX end_users_email;
CREATE INDEX end_users_email ON end_users((email COLLATE "C"), id) INCLUDE (customer_id, first_name, last_name);
