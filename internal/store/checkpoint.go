package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the checkpointer looks for committed WAL
// frames to copy into the database file.
const checkpointEvery = 100 * time.Millisecond

// walCapFrames bounds the WAL (64 MB of 4 KB pages). Under steady load
// some reader is always in the WAL, so PASSIVE checkpoints trail the last
// commit and the WAL never starts over; past the cap a RESTART checkpoint
// waits for the readers and holds new writers (a stall of milliseconds)
// until the WAL can start over.
const walCapFrames = 16384

// checkpointer copies SQLite's WAL into the database file off the commit
// path. With SQLite's default wal_autocheckpoint (1,000 pages), the commit
// that crosses the mark runs the checkpoint itself: it copies the WAL and
// fsyncs both files while holding the single writer, so every writer queued
// behind it waits (it was most of the p99 of a magic-link request). The
// writer runs with wal_autocheckpoint(0) instead, and this goroutine runs
// PASSIVE checkpoints on a connection of its own, which wait for no reader
// and block no writer. When a checkpoint has copied the whole WAL, the
// writer's next transaction starts the WAL over from its beginning, so the
// WAL holds what is committed between two checkpoints, and at most
// walCapFrames under load that keeps readers in it; journal_size_limit
// gives the file back after a burst. The last connection to close
// checkpoints the rest.
type checkpointer struct {
	db    *sql.DB
	dirty atomic.Bool // a transaction committed since the last checkpoint
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once    // Close may be called more than once
	runs  atomic.Int64 // checkpoints that ran without an error (tests read it)
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", sqliteCheckpointDSN(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer that the WAL has grown.
func (c *checkpointer) committed() {
	if c != nil && !c.dirty.Load() {
		c.dirty.Store(true)
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for idle := 0; ; idle++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		// Writes outside InTx (single statements, bulk loads) do not mark
		// the WAL dirty: a checkpoint every few seconds catches them.
		if !c.dirty.Swap(false) && idle < 30 {
			continue
		}
		idle = 0
		if err := c.checkpoint(context.Background()); err == nil {
			c.runs.Add(1)
		}
	}
}

// checkpoint runs one PASSIVE checkpoint, and a RESTART one when the WAL
// is past walCapFrames. A checkpoint that cannot run (another one is
// running) is left for the next round.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, frames, copied int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if frames > walCapFrames {
		if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.db.Close()
	})
	return err
}
