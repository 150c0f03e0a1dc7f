-- +goose Up
-- End-user search (PERFORMANCE.md W5).
--
-- Prefix search (email, full name or last name starts with the query,
-- case-insensitive) is a B-tree range: by customer for one customer, over
-- the whole table for an MSP, distributor or platform scope. The email
-- index also gives the (email, id) order the results are paged in; it
-- carries what the walk of a common prefix tests (see store/search.go), so
-- the walk reads no table row it does not return.
CREATE INDEX end_users_email ON end_users(email, id, customer_id, first_name, last_name);
CREATE INDEX end_users_name ON end_users(lower(first_name || ' ' || last_name));
CREATE INDEX end_users_last ON end_users(lower(last_name));
CREATE INDEX end_users_customer_name ON end_users(customer_id, lower(first_name || ' ' || last_name));
CREATE INDEX end_users_customer_last ON end_users(customer_id, lower(last_name));
-- The span of a customer's IDs (MIN and MAX in one seek each): a contains
-- search bounds the trigram index to its scope's span.
CREATE INDEX end_users_customer_id ON end_users(customer_id, id);

-- "Contains" search: a trigram full-text index over email and full name,
-- rowid = end_users.id. Contentless (the rows are read from end_users) with
-- contentless_delete so that triggers can keep it in step with plain DELETEs.
-- The trigram tokenizer folds case; a query of three or more characters
-- matches any substring.
CREATE VIRTUAL TABLE end_user_search USING fts5(
    email, name, content='', contentless_delete=1, tokenize='trigram');

INSERT INTO end_user_search(rowid, email, name)
    SELECT id, email, first_name || ' ' || last_name FROM end_users;
-- One segment instead of the many a bulk insert leaves: fewer b-trees to
-- read per query.
INSERT INTO end_user_search(end_user_search) VALUES ('optimize');

-- +goose StatementBegin
CREATE TRIGGER end_users_search_insert AFTER INSERT ON end_users BEGIN
    INSERT INTO end_user_search(rowid, email, name) VALUES (new.id, new.email, new.first_name || ' ' || new.last_name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER end_users_search_update AFTER UPDATE OF email, first_name, last_name ON end_users BEGIN
    DELETE FROM end_user_search WHERE rowid = old.id;
    INSERT INTO end_user_search(rowid, email, name) VALUES (new.id, new.email, new.first_name || ' ' || new.last_name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER end_users_search_delete AFTER DELETE ON end_users BEGIN
    DELETE FROM end_user_search WHERE rowid = old.id;
END;
-- +goose StatementEnd
