-- +goose Up
-- End-user search (PERFORMANCE.md W5): PostgreSQL's 0012 makes its email
-- index carry what the prefix walk tests. SQLite's end_users_email (0011)
-- already does, and SQLite reads a walked row's table record only when the
-- row is returned; nothing changes here. The number is kept in step with
-- PostgreSQL's.
SELECT 1;
