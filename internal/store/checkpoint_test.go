package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/store"
)

// The writer leaves checkpoints to the Store's checkpointer: a commit never
// copies the WAL back itself, and once the checkpointer has run, the next
// write starts the WAL over, so the WAL stays small without any commit
// paying for it.
func TestCheckpointerKeepsTheWALShort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "canopy.db")
	ctx := context.Background()
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
			return err
		}
		return tx.ExecForTest(ctx, `CREATE TABLE checkpoint_probe (body TEXT NOT NULL)`)
	}); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d; want 0 (the checkpointer copies the WAL)", auto)
	}
	// 200 commits of two pages or more each: 400+ WAL frames, fewer than
	// SQLite's own 1,000-page autocheckpoint would copy back.
	body := strings.Repeat("x", 6000)
	for i := 0; i < 200; i++ {
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.ExecForTest(ctx, `INSERT INTO checkpoint_probe (body) VALUES ($1)`, body)
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for a checkpoint that began after the last commit.
	after := s.CheckpointsForTest() + 2
	for deadline := time.Now().Add(30 * time.Second); s.CheckpointsForTest() < after; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint ran within 30 s of the last commit")
		}
	}
	if err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.ExecForTest(ctx, `INSERT INTO checkpoint_probe (body) VALUES ('small')`)
	}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var busy, frames, copied int
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if frames > 20 {
		t.Errorf("WAL holds %d frames after a checkpoint and one small commit; want the WAL started over (a few frames)", frames)
	}
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM checkpoint_probe`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 201 {
		t.Errorf("%d rows; want 201", rows)
	}
}
