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

// SetSearchThresholdsForTest changes the end-user search thresholds: the
// prefix matches gathered before walking the email order, and the scope
// size up to which a contains search reads the scope's users.
func (s *Store) SetSearchThresholdsForTest(gatherCap, smallScope int64) {
	s.searchCap, s.searchSmall = gatherCap, smallScope
}

// CheckpointsForTest counts the checkpointer's completed checkpoints.
func (s *Store) CheckpointsForTest() int64 { return s.ckpt.runs.Load() }
