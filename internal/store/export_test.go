package store

import "context"

// ExecForTest runs a raw statement; tests use it to set up states the
// product never produces (e.g. a schema from a newer release).
func (tx *Tx) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := tx.tx.ExecContext(ctx, query, args...)
	return err
}
