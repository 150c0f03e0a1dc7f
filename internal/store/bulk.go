package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Bulk loading fills a database with millions of rows whose IDs the caller
// already knows (the S and L datasets of PERFORMANCE.md). It bypasses the
// use cases on purpose: no change-log entry per row, no RETURNING, no
// per-row transaction. Building an index once over loaded rows is several
// times faster than maintaining it row by row (≈200k rows/s against 23–66k
// measured), so the secondary indexes of the big tables are dropped while
// those tables are loaded empty and rebuilt from their own catalog
// definitions afterwards. Foreign keys are checked once at the end in the
// same spirit: SQLite runs PRAGMA foreign_key_check, PostgreSQL re-adds the
// constraints it dropped, which validates them with one join.

// Table names the loader writes, in load order.
const (
	tableOrgs         = "orgs"
	tableCustomers    = "customers"
	tableDomains      = "customer_domains"
	tablePeople       = "people"
	tableMemberships  = "memberships"
	tableEndUsers     = "end_users"
	tableUserGroups   = "user_groups"
	tableGroupMembers = "group_members"
	tableChangeLog    = "change_log"
)

// bulkTable is a table the loader fills: its columns in insert order.
type bulkTable struct {
	name    string
	columns []string
	// identity: an "id" column whose PostgreSQL sequence must move past the
	// explicit IDs loaded, or the next ordinary insert would collide.
	identity bool
	// deferrable: a big table whose secondary indexes (and, on PostgreSQL,
	// foreign keys) are dropped while it loads empty and rebuilt afterwards.
	// The small tables keep theirs: rebuilding would cost more than it saves.
	// On SQLite its triggers are dropped too, and restore rebuilds after
	// the load what they would have maintained row by row.
	deferrable bool
	restore    []string
}

// bulkTables lists the tables in load order. It is a function so that no
// package-level slice can be modified by accident.
func bulkTables() []bulkTable {
	return []bulkTable{
		{name: tableOrgs, identity: true, columns: []string{
			"id", "tenant_id", "kind", "name", "parent_id", "path", "depth", "created_at", "updated_at"}},
		{name: tableCustomers, columns: []string{
			"org_id", "msp_id", "distributor_id", "path", "name_key", "domain", "status", "trial_ends_at", "active_users"}},
		{name: tableDomains, columns: []string{
			"customer_id", "msp_id", "domain", "is_primary"}},
		{name: tablePeople, identity: true, columns: []string{
			"id", "email", "name", "phone", "created_at", "updated_at"}},
		{name: tableMemberships, deferrable: true, columns: []string{
			"person_id", "org_id", "roles", "status", "created_at"}},
		{name: tableEndUsers, identity: true, deferrable: true, restore: sqliteSearchRebuild(), columns: []string{
			"id", "customer_id", "email", "first_name", "last_name", "status", "source", "external_id", "created_at", "updated_at"}},
		{name: tableUserGroups, identity: true, deferrable: true, columns: []string{
			"id", "customer_id", "name", "external_id", "created_at"}},
		{name: tableGroupMembers, deferrable: true, columns: []string{
			"group_id", "end_user_id"}},
		{name: tableChangeLog, identity: true, deferrable: true, columns: []string{
			"id", "org_id", "org_path", "msp_id", "actor_kind", "actor_id", "actor_name", "on_behalf_of_id", "on_behalf_of_name",
			"action", "target_type", "target_id", "target_name", "before_json", "after_json", "ip", "user_agent", "created_at"}},
	}
}

// bulkChunkRows is how many rows one SQLite transaction carries: large
// enough that commits cost nothing, small enough to bound the WAL.
const bulkChunkRows = 50_000

// BulkOptions tune BulkLoad.
type BulkOptions struct {
	// Progress, when set, is told about each finishing step (an index
	// build, the foreign-key check, ANALYZE) as it completes.
	Progress func(step string, elapsed time.Duration)
}

// BulkLoader inserts rows with explicit IDs inside Store.BulkLoad. Rows are
// stored as given, apart from emails and domains, which are lower-cased as
// everywhere else; the caller is responsible for consistent IDs, paths and
// maintained counts (customers.active_users). It is not safe for concurrent use.
type BulkLoader struct {
	dialect  Dialect
	conn     *sql.Conn
	progress func(string, time.Duration)
	tables   map[string]bulkTable
	order    []string
	nextID   map[string]int64
	loaded   map[string]int64

	// What prepare changed, so that finish undoes exactly that.
	pragmas  []pragmaValue
	indexes  []schemaObject
	fks      []schemaObject
	triggers []schemaObject // SQLite
	restores []schemaObject // SQLite: rebuilds of what the dropped triggers maintain
	sessions []string       // PostgreSQL settings to RESET
}

// pragmaValue is a SQLite connection setting and the value to restore.
type pragmaValue struct{ name, old string }

// schemaObject is an index or constraint definition read from the catalog.
type schemaObject struct{ table, name, definition string }

// BulkLoad runs fn with a loader on the writer connection, holding it for
// the whole load (on SQLite no other write can interleave). Before fn runs,
// the secondary indexes of the big tables that are still empty are dropped;
// afterwards — also when fn fails — they are rebuilt from the definitions
// the catalog held, so the schema stays exactly what the migrations made.
// After a successful load it checks foreign keys, moves PostgreSQL identity
// sequences past the loaded IDs and runs ANALYZE. A failed load keeps the
// rows written so far. Use it on a database no one else is using: while it
// runs, queries on those tables lose their indexes.
func (s *Store) BulkLoad(ctx context.Context, opts BulkOptions, fn func(b *BulkLoader) error) (err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	defer conn.Close()
	b := &BulkLoader{
		dialect:  s.dialect,
		conn:     conn,
		progress: opts.Progress,
		tables:   map[string]bulkTable{},
		nextID:   map[string]int64{},
		loaded:   map[string]int64{},
	}
	for _, t := range bulkTables() {
		b.tables[t.name] = t
		b.order = append(b.order, t.name)
	}
	// Undoing the preparation must happen even when ctx was canceled:
	// leaving a database without its indexes would be worse than the delay.
	cleanupCtx := context.WithoutCancel(ctx)
	if err := b.prepare(ctx); err != nil {
		return errors.Join(fmt.Errorf("bulk load: %w", err), b.finish(cleanupCtx, false))
	}
	defer func() {
		if p := recover(); p != nil {
			b.finish(cleanupCtx, false)
			panic(p)
		}
	}()
	loadErr := fn(b)
	return errors.Join(loadErr, b.finish(cleanupCtx, loadErr == nil))
}

// prepare records the next free IDs, tunes the connection for loading and
// drops the deferrable tables' secondary indexes (and PostgreSQL foreign
// keys) when those tables are empty.
func (b *BulkLoader) prepare(ctx context.Context) error {
	for _, name := range b.order {
		t := b.tables[name]
		if t.identity {
			var maxID int64
			if err := b.conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+name).Scan(&maxID); err != nil {
				return fmt.Errorf("next id of %s: %w", name, err)
			}
			b.nextID[name] = maxID + 1
		}
	}
	if b.dialect == SQLite {
		// foreign_keys cannot change inside a transaction, so it is set here
		// for the whole load and the keys are checked once at the end.
		// synchronous=OFF: a crash mid-load loses a dataset that is rebuilt
		// anyway. threads lets CREATE INDEX sort on every core, and a small
		// cache keeps its in-memory sort runs small: on dataset S (5 M
		// change-log rows) an 8 MiB cache built the three change-log indexes
		// in 17–18 s where 64 MiB took 25–27 s (the list merge of a large
		// run misses the CPU cache).
		settings := [][2]string{
			{"foreign_keys", "0"},
			{"synchronous", "0"},
			{"cache_size", "-8192"},
			{"threads", strconv.Itoa(min(runtime.NumCPU(), 8))},
		}
		for _, kv := range settings {
			var old string
			if err := b.conn.QueryRowContext(ctx, `PRAGMA `+kv[0]).Scan(&old); err != nil {
				return fmt.Errorf("read pragma %s: %w", kv[0], err)
			}
			if _, err := b.conn.ExecContext(ctx, `PRAGMA `+kv[0]+` = `+kv[1]); err != nil {
				return fmt.Errorf("set pragma %s: %w", kv[0], err)
			}
			b.pragmas = append(b.pragmas, pragmaValue{kv[0], old})
		}
	} else {
		for _, set := range []string{`SET synchronous_commit = off`, `SET maintenance_work_mem = '256MB'`} {
			if _, err := b.conn.ExecContext(ctx, set); err != nil {
				return fmt.Errorf("%s: %w", set, err)
			}
			b.sessions = append(b.sessions, strings.Fields(set)[1])
		}
	}
	for _, name := range b.order {
		if !b.tables[name].deferrable {
			continue
		}
		var rows int
		if err := b.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+name+` LIMIT 1) x`).Scan(&rows); err != nil {
			return fmt.Errorf("check %s: %w", name, err)
		}
		if rows > 0 {
			continue // rebuilding over existing rows could cost more than it saves
		}
		if b.dialect == Postgres {
			fks, err := foreignKeys(ctx, b.conn, name)
			if err != nil {
				return err
			}
			for _, fk := range fks {
				if _, err := b.conn.ExecContext(ctx, `ALTER TABLE `+quoteIdent(fk.table)+` DROP CONSTRAINT `+quoteIdent(fk.name)); err != nil {
					return fmt.Errorf("drop constraint %s: %w", fk.name, err)
				}
				b.fks = append(b.fks, fk)
			}
		}
		if b.dialect == SQLite {
			// A trigger maintaining a derived table (the search index) costs
			// more per row than the insert itself; the derived table is
			// rebuilt in one statement afterwards.
			triggers, err := triggerDefinitions(ctx, b.conn, name)
			if err != nil {
				return err
			}
			for _, tr := range triggers {
				if _, err := b.conn.ExecContext(ctx, `DROP TRIGGER `+quoteIdent(tr.name)); err != nil {
					return fmt.Errorf("drop trigger %s: %w", tr.name, err)
				}
				b.triggers = append(b.triggers, tr)
			}
			if len(triggers) > 0 {
				for _, st := range b.tables[name].restore {
					b.restores = append(b.restores, schemaObject{table: name, name: "derived of " + name, definition: st})
				}
			}
		}
		indexes, err := indexDefinitions(ctx, b.conn, b.dialect, name)
		if err != nil {
			return err
		}
		for _, ix := range indexes {
			if _, err := b.conn.ExecContext(ctx, `DROP INDEX `+quoteIdent(ix.name)); err != nil {
				return fmt.Errorf("drop index %s: %w", ix.name, err)
			}
			b.indexes = append(b.indexes, ix)
		}
	}
	return nil
}

// finish rebuilds what prepare dropped and restores the connection. After a
// successful load it also checks foreign keys, moves identity sequences and
// refreshes planner statistics.
func (b *BulkLoader) finish(ctx context.Context, loaded bool) error {
	var errs []error
	step := func(name string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			errs = append(errs, fmt.Errorf("bulk load: %s: %w", name, err))
			return
		}
		if b.progress != nil {
			b.progress(name, time.Since(start))
		}
	}
	for _, tr := range b.triggers {
		step("trigger "+tr.name, func() error {
			_, err := b.conn.ExecContext(ctx, tr.definition)
			return err
		})
	}
	b.triggers = nil
	for _, st := range b.restores {
		step("rebuild "+st.name, func() error {
			_, err := b.conn.ExecContext(ctx, st.definition)
			return err
		})
	}
	b.restores = nil
	for _, ix := range b.indexes {
		step("index "+ix.name, func() error {
			_, err := b.conn.ExecContext(ctx, ix.definition)
			return err
		})
	}
	b.indexes = nil
	if b.dialect == Postgres {
		for _, fk := range b.fks {
			step("foreign key "+fk.name, func() error {
				_, err := b.conn.ExecContext(ctx, `ALTER TABLE `+quoteIdent(fk.table)+` ADD CONSTRAINT `+quoteIdent(fk.name)+` `+fk.definition)
				return err
			})
		}
		b.fks = nil
	}
	if loaded {
		if b.dialect == SQLite {
			step("foreign key check", func() error { return b.checkForeignKeys(ctx) })
		} else {
			step("identity sequences", func() error { return b.resetSequences(ctx) })
		}
		step("analyze", func() error { return b.analyze(ctx) })
	}
	for i := len(b.pragmas) - 1; i >= 0; i-- {
		p := b.pragmas[i]
		if _, err := b.conn.ExecContext(ctx, `PRAGMA `+p.name+` = `+p.old); err != nil {
			errs = append(errs, fmt.Errorf("bulk load: restore pragma %s: %w", p.name, err))
		}
	}
	b.pragmas = nil
	for _, name := range b.sessions {
		if _, err := b.conn.ExecContext(ctx, `RESET `+name); err != nil {
			errs = append(errs, fmt.Errorf("bulk load: reset %s: %w", name, err))
		}
	}
	b.sessions = nil
	if b.dialect == SQLite {
		// The index builds went through the WAL; give the space back.
		if _, err := b.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			errs = append(errs, fmt.Errorf("bulk load: checkpoint: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkForeignKeys runs SQLite's foreign-key check on every table loaded.
func (b *BulkLoader) checkForeignKeys(ctx context.Context) error {
	for _, name := range b.order {
		if b.loaded[name] == 0 {
			continue
		}
		rows, err := b.conn.QueryContext(ctx, `PRAGMA foreign_key_check(`+quoteIdent(name)+`)`)
		if err != nil {
			return err
		}
		var violations []string
		for rows.Next() {
			var table, parent string
			var rowid sql.NullInt64
			var fkid int
			if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
				rows.Close()
				return err
			}
			if len(violations) < 5 {
				violations = append(violations, fmt.Sprintf("%s row %d → %s", table, rowid.Int64, parent))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(violations) > 0 {
			return fmt.Errorf("rows without their parent: %s", strings.Join(violations, "; "))
		}
	}
	return nil
}

// resetSequences moves each loaded identity sequence past the largest ID,
// so the next ordinary INSERT … RETURNING id does not collide.
func (b *BulkLoader) resetSequences(ctx context.Context) error {
	for _, name := range b.order {
		if !b.tables[name].identity || b.loaded[name] == 0 {
			continue
		}
		_, err := b.conn.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'),
			COALESCE((SELECT MAX(id) FROM `+name+`), 0) + 1, false)`, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// analyze refreshes planner statistics of the loaded tables. On SQLite a
// sampling limit keeps ANALYZE from reading every index entry of millions of
// rows; the estimates it gives are what the planner needs.
func (b *BulkLoader) analyze(ctx context.Context) error {
	var names []string
	for _, name := range b.order {
		if b.loaded[name] > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if b.dialect == Postgres {
		_, err := b.conn.ExecContext(ctx, `ANALYZE `+strings.Join(names, ", "))
		return err
	}
	var old string
	if err := b.conn.QueryRowContext(ctx, `PRAGMA analysis_limit`).Scan(&old); err != nil {
		return err
	}
	if _, err := b.conn.ExecContext(ctx, `PRAGMA analysis_limit = 1000`); err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if _, err := b.conn.ExecContext(ctx, `ANALYZE `+quoteIdent(name)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if _, err := b.conn.ExecContext(ctx, `PRAGMA analysis_limit = `+old); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Dialect reports the engine being loaded.
func (b *BulkLoader) Dialect() Dialect { return b.dialect }

// NextOrgID is the first organization ID that was free when the load began.
// The caller assigns IDs upwards from here; the same holds for the other
// Next…ID methods.
func (b *BulkLoader) NextOrgID() canopy.OrgID { return canopy.OrgID(b.nextID[tableOrgs]) }

// NextPersonID is the first free people ID.
func (b *BulkLoader) NextPersonID() canopy.PersonID { return canopy.PersonID(b.nextID[tablePeople]) }

// NextEndUserID is the first free end-user ID.
func (b *BulkLoader) NextEndUserID() int64 { return b.nextID[tableEndUsers] }

// NextGroupID is the first free user-group ID.
func (b *BulkLoader) NextGroupID() int64 { return b.nextID[tableUserGroups] }

// NextChangeID is the first free change-log ID. Change IDs grow with time,
// so callers load entries oldest first.
func (b *BulkLoader) NextChangeID() canopy.ChangeID { return canopy.ChangeID(b.nextID[tableChangeLog]) }

// Loaded reports how many rows this loader has written to table.
func (b *BulkLoader) Loaded(table string) int64 { return b.loaded[table] }

// Orgs inserts tenant-tree nodes with their ID, ParentID (0 for a root),
// Path, Depth and Created set. Customer attributes go in through Customers.
func (b *BulkLoader) Orgs(ctx context.Context, rows []canopy.Org) error {
	return b.insert(ctx, tableOrgs, len(rows), func(i int, v []any) []any {
		o := &rows[i]
		at := o.Created.UnixMilli()
		return append(v, int64(o.ID), o.TenantID, string(o.Kind), o.Name, nullInt(int64(o.ParentID)), o.Path, int64(o.Depth), at, at)
	})
}

// Customers inserts the customer attributes of customer nodes already
// loaded through Orgs; ParentID is the owning MSP and ActiveUsers must equal
// the number of active end users loaded for the customer.
func (b *BulkLoader) Customers(ctx context.Context, rows []canopy.Org) error {
	err := b.insert(ctx, tableCustomers, len(rows), func(i int, v []any) []any {
		o := &rows[i]
		return append(v, int64(o.ID), int64(o.ParentID), int64(canopy.DistributorOfPath(o.Path)), o.Path, strings.ToLower(o.Name),
			strings.ToLower(o.Domain), string(o.Status), millis(o.TrialEndsAt), int64(o.ActiveUsers))
	})
	if err != nil {
		return err
	}
	// Every domain is also a row of customer_domains (unique per MSP).
	return b.insert(ctx, tableDomains, len(rows), func(i int, v []any) []any {
		o := &rows[i]
		return append(v, int64(o.ID), int64(o.ParentID), strings.ToLower(o.Domain), true)
	})
}

// BulkPerson is a row of people for BulkLoader.People.
type BulkPerson struct {
	Person
	Created time.Time
}

// People inserts people with their IDs.
func (b *BulkLoader) People(ctx context.Context, rows []BulkPerson) error {
	return b.insert(ctx, tablePeople, len(rows), func(i int, v []any) []any {
		p := &rows[i]
		at := p.Created.UnixMilli()
		return append(v, int64(p.ID), strings.ToLower(p.Email), p.Name, p.Phone, at, at)
	})
}

// BulkMembership is a row of memberships for BulkLoader.Memberships.
type BulkMembership struct {
	PersonID canopy.PersonID
	OrgID    canopy.OrgID
	Roles    []string
	Status   string // "active" when empty
	Created  time.Time
}

// Memberships inserts memberships; roles are stored comma-separated, as
// Tx.AddMembership does.
func (b *BulkLoader) Memberships(ctx context.Context, rows []BulkMembership) error {
	return b.insert(ctx, tableMemberships, len(rows), func(i int, v []any) []any {
		m := &rows[i]
		status := m.Status
		if status == "" {
			status = "active"
		}
		return append(v, int64(m.PersonID), int64(m.OrgID), strings.Join(m.Roles, ","), status, m.Created.UnixMilli())
	})
}

// BulkEndUser is a row of end_users for BulkLoader.EndUsers.
type BulkEndUser struct {
	ID         int64
	CustomerID canopy.OrgID
	Email      string
	FirstName  string
	LastName   string
	Status     string // "active" or "deactivated"
	Source     string // "manual" when empty
	ExternalID string // NULL when empty
	Created    time.Time
	Updated    time.Time
}

// EndUsers inserts end users with their IDs.
func (b *BulkLoader) EndUsers(ctx context.Context, rows []BulkEndUser) error {
	return b.insert(ctx, tableEndUsers, len(rows), func(i int, v []any) []any {
		u := &rows[i]
		source := u.Source
		if source == "" {
			source = "manual"
		}
		return append(v, u.ID, int64(u.CustomerID), strings.ToLower(u.Email), u.FirstName, u.LastName, u.Status,
			source, nullString(u.ExternalID), u.Created.UnixMilli(), u.Updated.UnixMilli())
	})
}

// BulkGroup is a row of user_groups for BulkLoader.Groups.
type BulkGroup struct {
	ID         int64
	CustomerID canopy.OrgID
	Name       string
	ExternalID string // NULL when empty
	Created    time.Time
}

// Groups inserts user groups with their IDs.
func (b *BulkLoader) Groups(ctx context.Context, rows []BulkGroup) error {
	return b.insert(ctx, tableUserGroups, len(rows), func(i int, v []any) []any {
		g := &rows[i]
		return append(v, g.ID, int64(g.CustomerID), g.Name, nullString(g.ExternalID), g.Created.UnixMilli())
	})
}

// BulkGroupMember is a row of group_members for BulkLoader.GroupMembers.
type BulkGroupMember struct {
	GroupID   int64
	EndUserID int64
}

// GroupMembers inserts group memberships. Rows sorted by (GroupID,
// EndUserID) load fastest: the primary key then grows at its end.
func (b *BulkLoader) GroupMembers(ctx context.Context, rows []BulkGroupMember) error {
	return b.insert(ctx, tableGroupMembers, len(rows), func(i int, v []any) []any {
		return append(v, rows[i].GroupID, rows[i].EndUserID)
	})
}

// Changes inserts change-log entries with their IDs (oldest first).
func (b *BulkLoader) Changes(ctx context.Context, rows []canopy.Change) error {
	return b.insert(ctx, tableChangeLog, len(rows), func(i int, v []any) []any {
		c := &rows[i]
		return append(v, int64(c.ID), int64(c.OrgID), c.OrgPath, nullInt(int64(canopy.MSPOfPath(c.OrgPath))), string(c.Actor.Kind), nullInt(int64(c.Actor.PersonID)),
			c.Actor.Name, nullInt(int64(c.Actor.OnBehalfOfID)), c.Actor.OnBehalfOfName, string(c.Action),
			c.TargetType, c.TargetID, c.TargetName, nullJSON(c.Before), nullJSON(c.After),
			c.Actor.IP, c.Actor.UserAgent, c.At.UnixMilli())
	})
}

// insert writes n rows of table; row appends the column values of row i.
func (b *BulkLoader) insert(ctx context.Context, table string, n int, row func(i int, v []any) []any) error {
	if n == 0 {
		return nil
	}
	t := b.tables[table]
	var err error
	if b.dialect == Postgres {
		err = b.copyRows(ctx, t, n, row)
	} else {
		err = b.insertRows(ctx, t, n, row)
	}
	if err != nil {
		return fmt.Errorf("bulk load %s: %w", table, err)
	}
	b.loaded[table] += int64(n)
	return nil
}

// rowsPerStatement sizes SQLite's multi-row INSERT: about 1,600 values per
// statement (≈100 change-log rows) measured fastest; far below SQLite's
// limit of 32,766 variables.
func rowsPerStatement(columns int) int { return max(1, min(500, 1600/columns)) }

// insertSQL is a multi-row INSERT for rows rows. It uses anonymous ?
// parameters, not $N: SQLite resolves each named parameter through a linear
// list, which made binding quadratic (7k rows/s instead of 290k measured
// with 500-row statements).
func insertSQL(t bulkTable, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.columns)), ", ") + ")"
	var q strings.Builder
	q.Grow(64 + rows*(len(one)+2))
	q.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(one)
	}
	return q.String()
}

// insertRows loads rows into SQLite: one transaction per chunk, one
// prepared multi-row INSERT reused within it.
func (b *BulkLoader) insertRows(ctx context.Context, t bulkTable, n int, row func(int, []any) []any) error {
	per := rowsPerStatement(len(t.columns))
	full := insertSQL(t, per)
	args := make([]any, 0, per*len(t.columns))
	for start := 0; start < n; start += bulkChunkRows {
		end := min(n, start+bulkChunkRows)
		err := func() (err error) {
			tx, err := b.conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer func() {
				if err != nil {
					tx.Rollback()
				}
			}()
			i := start
			if end-start >= per {
				st, err := tx.PrepareContext(ctx, full)
				if err != nil {
					return err
				}
				defer st.Close()
				for ; i+per <= end; i += per {
					args = args[:0]
					for j := i; j < i+per; j++ {
						args = row(j, args)
					}
					if _, err := st.ExecContext(ctx, args...); err != nil {
						return err
					}
				}
			}
			if i < end {
				args = args[:0]
				for j := i; j < end; j++ {
					args = row(j, args)
				}
				if _, err := tx.ExecContext(ctx, insertSQL(t, end-i), args...); err != nil {
					return err
				}
			}
			return tx.Commit()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// copyRows loads rows into PostgreSQL with COPY (binary), reached through
// the pgx connection under database/sql.
func (b *BulkLoader) copyRows(ctx context.Context, t bulkTable, n int, row func(int, []any) []any) error {
	return b.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("COPY needs a pgx connection, have %T", driverConn)
		}
		src := &rowSource{n: n, next: -1, row: row}
		copied, err := c.Conn().CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, src)
		if err != nil {
			return err
		}
		if copied != int64(n) {
			return fmt.Errorf("COPY wrote %d of %d rows", copied, n)
		}
		return nil
	})
}

// rowSource feeds COPY one row at a time from a reused value slice; pgx
// encodes each row before asking for the next.
type rowSource struct {
	n, next int
	row     func(int, []any) []any
	values  []any
}

func (r *rowSource) Next() bool { r.next++; return r.next < r.n }

func (r *rowSource) Values() ([]any, error) {
	r.values = r.row(r.next, r.values[:0])
	return r.values, nil
}

func (r *rowSource) Err() error { return nil }

// quoteIdent quotes an SQL identifier for both engines.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// indexDefinitions reads the secondary indexes of table (every table when
// table is empty) from the catalog, with the statement that recreates each:
// sqlite_master keeps the CREATE INDEX text of the migration verbatim,
// pg_get_indexdef reconstructs it. Indexes that back a primary key or a
// UNIQUE constraint are not listed; they stay in place during a load.
func indexDefinitions(ctx context.Context, q querier, d Dialect, table string) ([]schemaObject, error) {
	query := `SELECT tbl_name, name, sql FROM sqlite_master
		WHERE type = 'index' AND sql IS NOT NULL AND ($1 = '' OR tbl_name = $1) ORDER BY tbl_name, name`
	if d == Postgres {
		query = `SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
			FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_class t ON t.oid = x.indrelid
			WHERE t.relnamespace = current_schema()::regnamespace AND t.relkind = 'r'
			  AND ($1 = '' OR t.relname = $1)
			  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
			ORDER BY t.relname, i.relname`
	}
	rows, err := q.QueryContext(ctx, query, table)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.table, &o.name, &o.definition); err != nil {
			return nil, fmt.Errorf("list indexes: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// triggerDefinitions reads the triggers on a SQLite table with the
// statements that recreate them (sqlite_master keeps them verbatim).
func triggerDefinitions(ctx context.Context, q querier, table string) ([]schemaObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1 ORDER BY name`, table)
	if err != nil {
		return nil, fmt.Errorf("list triggers of %s: %w", table, err)
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		o := schemaObject{table: table}
		if err := rows.Scan(&o.name, &o.definition); err != nil {
			return nil, fmt.Errorf("list triggers of %s: %w", table, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// foreignKeys reads the foreign keys of a PostgreSQL table from the catalog.
func foreignKeys(ctx context.Context, q querier, table string) ([]schemaObject, error) {
	rows, err := q.QueryContext(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND conrelid = $1::regclass ORDER BY conname`, table)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys of %s: %w", table, err)
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		o := schemaObject{table: table}
		if err := rows.Scan(&o.name, &o.definition); err != nil {
			return nil, fmt.Errorf("list foreign keys of %s: %w", table, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Index is a secondary index of the schema.
type Index struct {
	Table string
	Name  string
}

// Indexes lists the secondary indexes of every table (not those that back
// a primary key or UNIQUE constraint). Tests use it to check that a bulk
// load left the schema as the migrations made it.
func (s *Store) Indexes(ctx context.Context) ([]Index, error) {
	defs, err := indexDefinitions(ctx, s.read, s.dialect, "")
	if err != nil {
		return nil, err
	}
	out := make([]Index, len(defs))
	for i, d := range defs {
		out[i] = Index{Table: d.table, Name: d.name}
	}
	return out, nil
}

// CountRows counts the rows of one of the tables a bulk load fills. It
// reads the whole table: it is for tests and tools, not for requests.
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	known := false
	for _, t := range bulkTables() {
		known = known || t.name == table
	}
	if !known {
		return 0, fmt.Errorf("count rows of %q: %w", table, canopy.ErrInvalid)
	}
	var n int64
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", table, err)
	}
	return n, nil
}

// VerifyActiveUserCounts checks the maintained customers.active_users
// against a count of each customer's active end users, over the whole
// database. It returns an error naming up to five customers that disagree.
func (s *Store) VerifyActiveUserCounts(ctx context.Context) error {
	rows, err := s.read.QueryContext(ctx, `SELECT c.org_id, c.active_users, COALESCE(u.n, 0)
		FROM customers c
		LEFT JOIN (SELECT customer_id, COUNT(*) AS n FROM end_users WHERE status = 'active' GROUP BY customer_id) u
		  ON u.customer_id = c.org_id
		WHERE c.active_users <> COALESCE(u.n, 0)
		ORDER BY c.org_id LIMIT 5`)
	if err != nil {
		return fmt.Errorf("verify active users: %w", err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var id canopy.OrgID
		var stored, counted int64
		if err := rows.Scan(&id, &stored, &counted); err != nil {
			return fmt.Errorf("verify active users: %w", err)
		}
		bad = append(bad, fmt.Sprintf("customer %d says %d, has %d", id, stored, counted))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify active users: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("active user counts disagree: %s", strings.Join(bad, "; "))
	}
	return nil
}

// VerifyOrgPaths checks the tenant tree over the whole database: every
// root's path is "/id/" at depth 0, and every other node's path is its
// parent's path plus its own ID, one level deeper. It returns an error
// naming up to five nodes that break this.
func (s *Store) VerifyOrgPaths(ctx context.Context) error {
	rows, err := s.read.QueryContext(ctx, `SELECT o.id, COALESCE(o.path, '') FROM orgs o
		LEFT JOIN orgs p ON p.id = o.parent_id
		WHERE o.path IS NULL
		   OR (o.parent_id IS NULL AND (o.path <> '/' || o.id || '/' OR o.depth <> 0))
		   OR (o.parent_id IS NOT NULL AND (p.id IS NULL OR o.path <> p.path || o.id || '/' OR o.depth <> p.depth + 1))
		ORDER BY o.id LIMIT 5`)
	if err != nil {
		return fmt.Errorf("verify org paths: %w", err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var id canopy.OrgID
		var path string
		if err := rows.Scan(&id, &path); err != nil {
			return fmt.Errorf("verify org paths: %w", err)
		}
		bad = append(bad, fmt.Sprintf("org %d at %q", id, path))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify org paths: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("org paths inconsistent with their parents: %s", strings.Join(bad, "; "))
	}
	return nil
}
