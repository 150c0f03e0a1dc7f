// Package store is the only package that speaks SQL. One concrete *Store
// serves SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL
// (pgx); dialect.go is the small seam between them. Every method that reads
// or writes tenant data takes the caller's canopy.Scope and puts it in the
// WHERE clause, so no query can return a row outside that subtree.
// Timestamps are stored as unix milliseconds on both engines.
package store
