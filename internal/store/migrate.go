package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationFiles embed.FS

// MigrationFS returns the migrations of one engine (for tests and tools).
func MigrationFS(d Dialect) (fs.FS, error) {
	return fs.Sub(migrationFiles, "migrations/"+string(d))
}

func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := MigrationFS(s.dialect)
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	gooseDialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		// A table lock (not an advisory lock) so that replicas starting at once
		// apply each migration exactly once, also on PostgreSQL-compatible
		// distributed SQL.
		locker, err := lock.NewPostgresTableLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithLocker(locker))
	}
	return goose.NewProvider(gooseDialect, s.write, fsys, opts...)
}

// ErrSchemaTooNew means the database was migrated by a newer Canopy.
var ErrSchemaTooNew = errors.New("database schema is newer than this Canopy")

// SchemaVersion reports the database's migration version and the newest one
// this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		known = sources[len(sources)-1].Version
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, known, fmt.Errorf("read schema version: %w", err)
	}
	return current, known, nil
}

// Migrate applies every pending migration. It is idempotent and safe to run
// from several replicas at once. It refuses a database migrated by a newer
// Canopy rather than running against a schema it does not understand.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, err
	}
	current, known, err := s.SchemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	if current > known {
		return 0, fmt.Errorf("%w: the database is at migration %d but this binary knows only up to %d; run a Canopy at least as new as the one that migrated it", ErrSchemaTooNew, current, known)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// MigrationsCurrent reports whether every known migration is applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	current, known, err := s.SchemaVersion(ctx)
	if err != nil {
		return false, err
	}
	return current == known, nil
}
