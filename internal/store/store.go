package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"
	_ "modernc.org/sqlite" // registers "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is the database. Reads go to a pool of readers; writes go through
// InTx. On SQLite there is exactly one writer connection (two concurrent
// writers collapse under load) and the readers are query-only connections to
// the same WAL file. On PostgreSQL both are the same pool.
type Store struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	// r runs reads on the reader pool; on SQLite both pools cache statements.
	r          querier
	w          querier // single writes outside a transaction
	readCache  *stmtCache
	writeCache *stmtCache
	batch      batcher       // InBatchedTx's queue (SQLite)
	ckpt       *checkpointer // SQLite: copies the WAL back, off the commit path
	// End-user search thresholds (search.go); tests lower them to drive
	// every plan over a few rows.
	searchCap, searchSmall int64
}

// Options tune Open.
type Options struct {
	// MaxReaders bounds the reader pool (SQLite) or the whole pool (PostgreSQL).
	// Zero picks a default from the number of CPUs.
	MaxReaders int
}

// Open connects to the database named by rawURL and checks that it answers.
// It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	readers := opts.MaxReaders
	if readers <= 0 {
		readers = max(4, 2*runtime.NumCPU())
	}
	s := &Store{dialect: t.dialect, searchCap: searchCap, searchSmall: searchSmallScope}
	switch t.dialect {
	case SQLite:
		if err := checkSQLiteDir(t.dsn); err != nil {
			return nil, err
		}
		s.write, err = sql.Open("sqlite", sqliteDSN(t.dsn, true))
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", t.dsn, err)
		}
		s.write.SetMaxOpenConns(1)
		s.write.SetMaxIdleConns(1)
		s.write.SetConnMaxLifetime(0)
		s.write.SetConnMaxIdleTime(0)
		// The writer creates the file and switches it to WAL before any
		// query-only reader opens it.
		if err := s.write.PingContext(ctx); err != nil {
			s.write.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", t.dsn, err)
		}
		s.read, err = sql.Open("sqlite", sqliteDSN(t.dsn, false))
		if err != nil {
			s.write.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", t.dsn, err)
		}
		s.read.SetMaxOpenConns(readers)
		s.read.SetMaxIdleConns(readers)
		s.read.SetConnMaxIdleTime(0)
		s.ckpt, err = startCheckpointer(t.dsn)
		if err != nil {
			s.read.Close()
			s.write.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", t.dsn, err)
		}
	case Postgres:
		db, err := sql.Open("pgx", t.dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(readers + 4)
		db.SetMaxIdleConns(readers + 4)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.write, s.read = db, db
	}
	if t.dialect == SQLite {
		s.readCache, s.writeCache = newStmtCache(s.read), newStmtCache(s.write)
	}
	s.r = reader{db: s.read, cache: s.readCache}
	s.w = reader{db: s.write, cache: s.writeCache}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.read.PingContext(pingCtx); err != nil {
		s.Close()
		return nil, fmt.Errorf("cannot reach the %s database: %v (check CANOPY_DATABASE_URL)", t.dialect, describeConnErr(err))
	}
	return s, nil
}

func describeConnErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 && strings.Contains(msg, "failed to connect") {
		return msg[i+3:]
	}
	return msg
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes every connection.
func (s *Store) Close() error {
	errs := []error{s.ckpt.close()}
	s.readCache.close()
	s.writeCache.close()
	if s.read != nil && s.read != s.write {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.read.PingContext(ctx) }

// querier is what both *sql.DB and *sql.Tx offer; read helpers take it so
// they serve the reader pool and a write transaction alike.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction. A change, its change-log entry, any outbox mail
// and any job it enqueues are written through one Tx and commit together.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	cache   *stmtCache
}

// InTx runs fn in a write transaction, committing if fn returns nil and
// rolling back otherwise. On SQLite the transaction holds the write lock from
// its start; a busy database is retried a few times before giving up.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.inTxOnce(ctx, fn)
		if err == nil || attempt >= 3 || !s.retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10*(attempt+1)) * time.Millisecond):
		}
	}
}

func (s *Store) inTxOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	if err = fn(&Tx{tx: sqlTx, dialect: s.dialect, cache: s.writeCache}); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.ckpt.committed()
	// The connection is free again: prepare what this transaction met.
	s.writeCache.prepareWanted(ctx)
	return nil
}

// retryable reports a transient conflict worth running the transaction again:
// SQLite busy/locked, PostgreSQL serialization failure or deadlock.
func (s *Store) retryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 40001") || strings.Contains(msg, "SQLSTATE 40P01")
}

// isUniqueViolation reports a unique-constraint failure on either engine.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return err != nil && strings.Contains(err.Error(), "SQLSTATE 23505")
}

// notFound turns sql.ErrNoRows into canopy.ErrNotFound with the operation.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, canopy.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// millis stores a time as unix milliseconds; the zero time is NULL.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMillis reads a nullable unix-millisecond column.
func fromMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
