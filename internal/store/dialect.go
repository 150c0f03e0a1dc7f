package store

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Dialect names the SQL engine behind a Store.
type Dialect string

// Supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// target is a parsed database URL.
type target struct {
	dialect Dialect
	// dsn is the driver DSN; for SQLite, the file path.
	dsn string
}

// parseURL accepts postgres://… and postgresql://… for PostgreSQL, and
// sqlite:PATH, sqlite://PATH, file:PATH or a bare path for SQLite.
func parseURL(raw string) (target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return target{}, fmt.Errorf("empty database URL: set CANOPY_DATABASE_URL to postgres://… or a SQLite file path")
	}
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return target{}, fmt.Errorf("database URL is not a valid URL: %v", err)
		}
		return target{dialect: Postgres, dsn: raw}, nil
	case strings.HasPrefix(raw, "sqlite://"):
		return target{dialect: SQLite, dsn: strings.TrimPrefix(raw, "sqlite://")}, nil
	case strings.HasPrefix(raw, "sqlite:"):
		return target{dialect: SQLite, dsn: strings.TrimPrefix(raw, "sqlite:")}, nil
	case strings.HasPrefix(raw, "file:"):
		return target{dialect: SQLite, dsn: strings.TrimPrefix(raw, "file:")}, nil
	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return target{}, fmt.Errorf("unsupported database URL scheme %q: use postgres:// or a SQLite file path", scheme)
	}
	return target{dialect: SQLite, dsn: raw}, nil
}

// sqliteDSN builds the modernc DSN for path. Writers take the lock when the
// transaction begins (_txlock=immediate): with deferred transactions,
// concurrent read-modify-write transactions fail with SQLITE_BUSY instead of
// waiting.
func sqliteDSN(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Set("_txlock", "immediate")
		// The checkpointer, not the committing writer, copies the WAL back
		// (checkpoint.go); after a burst the WAL file shrinks back to 64 MB.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		q.Add("_pragma", "journal_size_limit(67108864)")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// sqliteCheckpointDSN is the DSN of the checkpointer's connection: it
// writes no rows, but a checkpoint writes the database file, which a
// query-only connection may not.
func sqliteCheckpointDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	return "file:" + path + "?" + q.Encode()
}

// checkSQLiteDir makes sure the directory of path exists and is writable,
// so that a read-only data directory fails with one clear line.
func checkSQLiteDir(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("cannot create data directory %s: %v (set CANOPY_DATA_DIR to a writable directory)", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".canopy-write-check-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %v (set CANOPY_DATA_DIR to a writable directory)", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		f.Close()
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("database file %s is not writable: %v", path, err)
	}
	return nil
}

// rowsPerInsert is how many rows of cols values one multi-row INSERT
// takes. SQLite finds each numbered parameter by a linear scan, so a
// statement's cost grows with the square of its parameters: its
// statements stay near 350. PostgreSQL pays per round trip instead.
func (tx *Tx) rowsPerInsert(cols int) int {
	if tx.dialect == SQLite {
		return max(1, 350/cols)
	}
	return max(1, 5000/cols)
}
