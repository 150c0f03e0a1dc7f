package store

import (
	"context"
	"database/sql"
)

// ExecForTest runs a raw statement; tests use it to set up states the
// product never produces (e.g. a schema from a newer release).
func (tx *Tx) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := tx.tx.ExecContext(ctx, query, args...)
	return err
}

// ReaderForBenchmark exposes the reader pool so benchmarks can measure the
// bare statement beside the store method (their ceiling).
func (s *Store) ReaderForBenchmark() *sql.DB { return s.read }
