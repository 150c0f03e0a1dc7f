package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each distinct SQL text once per pool. database/sql
// would otherwise prepare every statement anew; on SQLite that parse was a
// quarter of the CPU of an audited write. (pgx caches prepared statements
// per connection by itself, so PostgreSQL does not use this.)
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool // met inside transactions, to prepare after commit
}

// maxCachedStatements bounds the cache: queries built with variable IN
// lists have a bounded but large number of shapes.
const maxCachedStatements = 1000

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// lookup returns the prepared statement for query, or nil. It never
// prepares: inside a transaction on SQLite's single writer connection,
// preparing on the pool would wait for the connection the transaction
// holds. Instead the query is remembered and prepared by prepareWanted.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[query]
	if st == nil && len(c.stmts)+len(c.wanted) < maxCachedStatements {
		c.wanted[query] = true
	}
	return st
}

// get returns the prepared statement for query, preparing it if needed. It
// must not be called while the caller holds the pool's only connection.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if st := c.lookup(query); st != nil || c == nil {
		return st
	}
	c.prepareWanted(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query]
}

// prepareWanted prepares the queries met since the last call. No lock is
// held while preparing, so a transaction in progress is never blocked.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range queries {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // the query runs unprepared and reports its own error
		}
		c.mu.Lock()
		if c.stmts == nil || c.stmts[q] != nil {
			st.Close()
		} else {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	clear(c.wanted)
}

// reader runs read queries on the reader pool through the cache.
type reader struct {
	db    *sql.DB
	cache *stmtCache
}

func (r reader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := r.cache.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.db.ExecContext(ctx, query, args...)
}

func (r reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.cache.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.db.QueryContext(ctx, query, args...)
}

func (r reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := r.cache.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, query, args...)
}

// Tx runs statements through the writer's cache, bound to the transaction.

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.cache.lookup(query); st != nil {
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.cache.lookup(query); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.cache.lookup(query); st != nil {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}
