package store

import (
	"context"
	"fmt"
	"sync"
)

// maxBatch bounds how many callers share one commit, so that a caller's
// wait stays a few milliseconds however long the queue.
const maxBatch = 64

// batcher groups concurrent write transactions on SQLite's single writer
// into one commit (group commit). A caller that finds no batch running
// leads: it takes the queue, runs it and hands the lead to the first
// caller queued meanwhile. Nothing waits for a batch to fill: under light
// load every batch holds one call and costs what InTx does.
type batcher struct {
	mu    sync.Mutex
	busy  bool
	queue []*batchCall
}

type batchCall struct {
	ctx   context.Context
	fn    func(tx *Tx) error
	err   error
	panic any
	lead  chan bool // true: lead the next batch; false: done
}

// InBatchedTx runs fn like InTx: its statements commit together or not at
// all, and an error from fn rolls all of them back. On SQLite, concurrent
// callers share one transaction and one commit: each fn runs in a
// savepoint of its own, so a failing fn undoes only its own statements,
// and a later fn sees an earlier one's writes as it would after a commit.
// It is for small, hot, independent writes (a magic link and its mail, a
// redeemed link) where the commit, not the statements, is the cost. On
// PostgreSQL, which runs writers concurrently, it is InTx.
func (s *Store) InBatchedTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.dialect != SQLite {
		return s.InTx(ctx, fn)
	}
	c := &batchCall{ctx: ctx, fn: fn, lead: make(chan bool, 1)}
	b := &s.batch
	b.mu.Lock()
	b.queue = append(b.queue, c)
	leads := !b.busy
	b.busy = true
	b.mu.Unlock()
	if !leads && !<-c.lead {
		return c.result()
	}
	// Leading: this call heads the queue.
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	calls := b.queue[:n:n]
	b.queue = append([]*batchCall(nil), b.queue[n:]...)
	b.mu.Unlock()
	s.runBatch(calls)
	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].lead <- true
	} else {
		b.busy = false
	}
	b.mu.Unlock()
	for _, o := range calls[1:] {
		o.lead <- false
	}
	return c.result()
}

func (c *batchCall) result() error {
	if c.panic != nil {
		panic(c.panic)
	}
	return c.err
}

// runBatch runs calls in one transaction, each in its own savepoint (a
// batch of one needs none), and commits once. A failed commit, or a
// savepoint that cannot be rolled back, fails every call.
func (s *Store) runBatch(calls []*batchCall) {
	if len(calls) == 1 {
		c := calls[0]
		func() {
			defer func() {
				if p := recover(); p != nil {
					c.panic = p
				}
			}()
			c.err = s.InTx(c.ctx, c.fn)
		}()
		return
	}
	// The transaction outlives any one caller's context; each fn's
	// statements still run under its own.
	ctx := context.WithoutCancel(calls[0].ctx)
	err := s.InTx(ctx, func(tx *Tx) error {
		for _, c := range calls {
			c.err, c.panic = nil, nil
			if err := runSavepoint(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, c := range calls {
			c.err, c.panic = err, nil
		}
	}
}

// runSavepoint runs one call of a batch between SAVEPOINT and RELEASE,
// rolling back to the savepoint if fn fails or panics; fn's outcome goes
// to c, and the error returned is one of the savepoint statements', which
// ends the whole batch.
func runSavepoint(ctx context.Context, tx *Tx, c *batchCall) error {
	if c.err = c.ctx.Err(); c.err != nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT batched`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				c.panic = p
			}
		}()
		c.err = c.fn(tx)
	}()
	if c.err != nil || c.panic != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO batched`); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE batched`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}
