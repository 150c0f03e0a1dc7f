package app_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/benchtest"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// These benchmarks (PERFORMANCE.md W4, W9, W10, W12) need a generated
// dataset: go run ./bench/gen -size L -db /tmp/canopy-L.db, then
// CANOPY_BENCH_SQLITE=/tmp/canopy-L.db (or CANOPY_BENCH_POSTGRES=URL).
// Without one they are skipped: a handful of rows says nothing about
// index ranges over millions. Each app figure stands beside its ceiling
// measured in the same run: the same SELECT, prepared once, on a bare
// *sql.DB opened on the same database.

// benchDataset is an opened dataset: the store, an app on the wall clock,
// a bare connection pool, and the organizations the benchmarks read.
type benchDataset struct {
	dialect  store.Dialect
	store    *store.Store
	app      *app.App
	bare     *sql.DB
	root     canopy.Org
	dist     canopy.Org
	bigMSP   canopy.Org // the MSP with the most customers
	bigCust  canopy.Org // the customer with the most active users
	mspCount int
}

func openBenchDataset(b *testing.B, d store.Dialect) *benchDataset {
	b.Helper()
	env := "CANOPY_BENCH_" + map[store.Dialect]string{store.SQLite: "SQLITE", store.Postgres: "POSTGRES"}[d]
	url := os.Getenv(env)
	if url == "" {
		b.Skipf("%s is not set: these benchmarks need a generated dataset (go run ./bench/gen)", env)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var bare *sql.DB
	if d == store.SQLite {
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
		bare, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=query_only(1)")
	} else {
		bare, err = sql.Open("pgx", url)
	}
	if err != nil {
		b.Fatal(err)
	}
	bare.SetMaxOpenConns(8)
	bare.SetMaxIdleConns(8)
	b.Cleanup(func() { bare.Close() })
	ds := &benchDataset{dialect: d, store: s, bare: bare, app: app.New(app.Deps{Store: s, Clock: canopy.SystemClock{}})}
	if ds.root, err = s.Platform(ctx); err != nil {
		b.Fatal(err)
	}
	all := canopy.ScopeOf(ds.root)
	dists, err := s.Orgs(ctx, all, []canopy.OrgKind{canopy.KindDistributor}, 10)
	if err != nil || len(dists) == 0 {
		b.Fatalf("no distributor: %v", err)
	}
	ds.dist = dists[0]
	var mspID, custID canopy.OrgID
	if err := bare.QueryRowContext(ctx, `SELECT msp_id, COUNT(*) FROM customers GROUP BY msp_id ORDER BY COUNT(*) DESC, msp_id LIMIT 1`).Scan(&mspID, &ds.mspCount); err != nil {
		b.Fatal(err)
	}
	if err := bare.QueryRowContext(ctx, `SELECT org_id FROM customers ORDER BY active_users DESC, org_id LIMIT 1`).Scan(&custID); err != nil {
		b.Fatal(err)
	}
	if ds.bigMSP, err = s.Org(ctx, all, mspID); err != nil {
		b.Fatal(err)
	}
	if ds.bigCust, err = s.Org(ctx, all, custID); err != nil {
		b.Fatal(err)
	}
	return ds
}

// explain logs the plan of a bare query (EXPLAIN QUERY PLAN on SQLite,
// EXPLAIN on PostgreSQL) so that a run shows which index each sort and
// filter reads; plans and a missing index are what the figures explain.
func (ds *benchDataset) explain(b *testing.B, name, query string, args ...any) string {
	b.Helper()
	prefix := "EXPLAIN QUERY PLAN "
	if ds.dialect == store.Postgres {
		prefix = "EXPLAIN "
	}
	rows, err := ds.bare.Query(prefix+query, args...)
	if err != nil {
		b.Fatalf("explain %s: %v", name, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	plan := strings.Join(lines, " | ")
	if os.Getenv("CANOPY_BENCH_EXPLAIN") != "" {
		fmt.Printf("PLAN %s/%s: %s\n", ds.dialect, name, plan)
	}
	return plan
}

// bareCustomers is store.Customers' SELECT for a scope, sort and cursor.
// bareCustomers is the very query Store.Customers runs, for the ceiling.
func bareCustomers(kind canopy.OrgKind, scope canopy.Scope, sort string, desc bool, after store.CustomerRow, limit int) (string, []any) {
	query, args, _ := store.CustomersSQL(scope, kind, store.CustomerQuery{Sort: sort, Desc: desc, AfterValue: after.SortValue, AfterID: after.ID, Limit: limit})
	return query, args
}

func scanBareCustomers(rows *sql.Rows) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, created, msp int64
		var depth, users int
		var tenant, name, path, domain, status, mspName, mspTenant string
		var trial sql.NullInt64
		var sortValue any
		if err := rows.Scan(&id, &tenant, &name, &path, &depth, &created, &msp, &domain, &status, &trial, &users, &mspName, &mspTenant, &sortValue); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// BenchmarkCustomersList (W4, W12): one 50-row page of the customers list
// through app.Customers for the largest MSP (≈2,000 customers on L) and
// for the distributor (all 20,000), for every offered sort in both
// directions, first page and a keyset page in the middle of the list;
// beside it the same SELECT on the bare pool.
func BenchmarkCustomersList(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			ds := openBenchDataset(b, d)
			ctx := context.Background()
			scopes := []struct {
				name   string
				viewer app.Viewer
			}{
				{"msp", viewer(ds.bigMSP, 1, canopy.RoleMSPAdmin)},
				{"distributor", viewer(ds.dist, 1, canopy.RoleDistributorAdmin)},
			}
			for _, sc := range scopes {
				for _, sort := range []string{"name", "domain", "active_users", "status"} {
					for _, desc := range []bool{false, true} {
						// The cursor of the middle page: walk there once.
						q := store.CustomerQuery{Sort: sort, Desc: desc, Limit: 200}
						var total int
						var middle store.CustomerRow
						for {
							page, err := ds.app.Customers(ctx, sc.viewer, q)
							if err != nil {
								b.Fatal(err)
							}
							total += len(page.Rows)
							if !page.More {
								break
							}
							last := page.Rows[len(page.Rows)-1]
							q.AfterValue, q.AfterID = last.SortValue, last.ID
						}
						q = store.CustomerQuery{Sort: sort, Desc: desc, Limit: 200}
						for seen := 0; seen+200 <= total/2; seen += 200 {
							page, _ := ds.app.Customers(ctx, sc.viewer, q)
							middle = page.Rows[len(page.Rows)-1]
							q.AfterValue, q.AfterID = middle.SortValue, middle.ID
						}
						for _, deep := range []bool{false, true} {
							after := store.CustomerRow{}
							pageName := "first"
							if deep {
								after, pageName = middle, fmt.Sprintf("deep@%d", total/2)
							}
							name := fmt.Sprintf("%s/%s-desc=%v/%s", sc.name, sort, desc, pageName)
							query, args := bareCustomers(sc.viewer.Org.Kind, sc.viewer.Scope(), sort, desc, after, 51)
							plan := ds.explain(b, "customers/"+name, query, args...)
							b.Run(name, func(b *testing.B) {
								if strings.Contains(plan, "TEMP B-TREE") {
									b.Logf("plan sorts: %s", plan)
								}
								q := store.CustomerQuery{Sort: sort, Desc: desc, Limit: 50, AfterValue: after.SortValue, AfterID: after.ID}
								benchtest.Parallel(b, "pages", 1, func(int64) error {
									page, err := ds.app.Customers(ctx, sc.viewer, q)
									if err == nil && len(page.Rows) != 50 {
										err = fmt.Errorf("page of %d rows", len(page.Rows))
									}
									return err
								})
							})
							b.Run(name+"/ceiling-bare-sql", func(b *testing.B) {
								stmt, err := ds.bare.PrepareContext(ctx, query)
								if err != nil {
									b.Fatal(err)
								}
								defer stmt.Close()
								benchtest.Parallel(b, "pages", 1, func(int64) error {
									rows, err := stmt.QueryContext(ctx, args...)
									if err != nil {
										return err
									}
									n, err := scanBareCustomers(rows)
									if err == nil && n != 51 {
										err = fmt.Errorf("bare page of %d rows", n)
									}
									return err
								})
							})
						}
					}
				}
			}
		})
	}
}

const bareChangeColumns = `id, org_id, org_path, actor_kind, COALESCE(actor_id, 0), actor_name,
		COALESCE(on_behalf_of_id, 0), on_behalf_of_name, action, target_type, target_id, target_name,
		before_json, after_json, ip, user_agent, created_at`

// bareChanges is store.Changes' SELECT (page) or store.EachChange's
// (stream, limit 0) for org in scope matching f.
func bareChanges(scope canopy.Scope, org canopy.OrgID, f canopy.ChangeFilter, limit int) (string, []any) {
	lo, hi := scope.Bounds()
	args := []any{int64(org), lo, hi}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := `org_id = $1 AND org_path >= $2 AND org_path < $3`
	if f.MSPSubtree {
		where = `msp_id = $1 AND org_path >= $2 AND org_path < $3`
	}
	if !f.Since.IsZero() {
		where += ` AND created_at >= ` + arg(f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where += ` AND created_at < ` + arg(f.Until.UnixMilli())
	}
	if f.ActorID != 0 {
		where += ` AND actor_id = ` + arg(int64(f.ActorID))
	}
	order := ` ORDER BY created_at DESC, id DESC`
	if limit == 0 {
		if len(f.Actions) > 0 {
			ph := make([]string, len(f.Actions))
			for i, a := range f.Actions {
				ph[i] = arg(string(a))
			}
			where += ` AND action IN (` + strings.Join(ph, ", ") + `)`
		}
		return `SELECT ` + bareChangeColumns + ` FROM change_log WHERE ` + where + order, args
	}
	switch len(f.Actions) {
	case 0:
		return `SELECT ` + bareChangeColumns + ` FROM change_log WHERE ` + where + order + ` LIMIT ` + arg(limit), args
	case 1:
		a := arg(string(f.Actions[0]))
		return `SELECT ` + bareChangeColumns + ` FROM change_log WHERE ` + where + ` AND action = ` + a + order + ` LIMIT ` + arg(limit), args
	}
	lim := arg(limit)
	parts := make([]string, len(f.Actions))
	for i, a := range f.Actions {
		parts[i] = fmt.Sprintf(`SELECT * FROM (SELECT %s FROM change_log WHERE %s AND action = %s%s LIMIT %s) a%d`, bareChangeColumns, where, arg(string(a)), order, lim, i)
	}
	return `SELECT * FROM (` + strings.Join(parts, ` UNION ALL `) + `) u` + order + ` LIMIT ` + lim, args
}

func scanBareChanges(rows *sql.Rows, each func()) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, org, actor, behalf, at int64
		var path, kind, actorName, behalfName, action, ttype, tid, tname, ip, ua string
		var before, after sql.NullString
		if err := rows.Scan(&id, &org, &path, &kind, &actor, &actorName, &behalf, &behalfName, &action, &ttype, &tid, &tname, &before, &after, &ip, &ua, &at); err != nil {
			return n, err
		}
		if each != nil {
			each()
		}
		n++
	}
	return n, rows.Err()
}

// changeLogTargets are the logs the change-log benchmarks read: the
// customer with the most users and the largest MSP with its customers.
type changeLogTarget struct {
	name   string
	viewer app.Viewer
	org    canopy.Org
	base   canopy.ChangeFilter
	actor  canopy.PersonID // a person with entries there
	newest time.Time
	rows   int64
}

func (ds *benchDataset) changeLogTargets(b *testing.B) []changeLogTarget {
	b.Helper()
	ctx := context.Background()
	targets := []changeLogTarget{
		{name: "customer", viewer: viewer(ds.bigMSP, 1, canopy.RoleMSPAdmin), org: ds.bigCust},
		{name: "msp", viewer: viewer(ds.bigMSP, 1, canopy.RoleMSPAdmin), org: ds.bigMSP, base: canopy.ChangeFilter{MSPSubtree: true}},
	}
	if !canopy.ScopeOf(ds.bigMSP).Contains(ds.bigCust.Path) {
		targets[0].viewer = viewer(ds.root, 1, canopy.RolePlatformAdmin)
	}
	for i := range targets {
		t := &targets[i]
		col := "org_id"
		if t.base.MSPSubtree {
			col = "msp_id"
		}
		var at int64
		err := ds.bare.QueryRowContext(ctx, `SELECT actor_id, created_at FROM change_log WHERE `+col+` = $1 AND actor_id IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1`, int64(t.org.ID)).Scan(&t.actor, &at)
		if err != nil {
			b.Fatal(err)
		}
		t.newest = time.UnixMilli(at).UTC()
		if err := ds.bare.QueryRowContext(ctx, `SELECT COUNT(*) FROM change_log WHERE `+col+` = $1`, int64(t.org.ID)).Scan(&t.rows); err != nil {
			b.Fatal(err)
		}
	}
	return targets
}

// BenchmarkChangeLogPage (W9): the 50 newest entries through app.ChangeLog
// for every offered filter combination, on the biggest customer's log and
// on the largest MSP's (MSPSubtree), beside the bare SELECT.
func BenchmarkChangeLogPage(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			ds := openBenchDataset(b, d)
			ctx := context.Background()
			for _, t := range ds.changeLogTargets(b) {
				three := []canopy.Action{canopy.ActionAddUser, canopy.ActionSignIn, canopy.ActionUpdateUser}
				// A month a year ago: a range deep in the log.
				since, until := t.newest.AddDate(-1, 0, 0), t.newest.AddDate(-1, 1, 0)
				filters := []struct {
					name string
					f    canopy.ChangeFilter
				}{
					{"none", canopy.ChangeFilter{}},
					{"one-action", canopy.ChangeFilter{Actions: three[:1]}},
					{"three-actions", canopy.ChangeFilter{Actions: three}},
					{"rare-action", canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionRevokeAPIKey}}},
					{"actor", canopy.ChangeFilter{ActorID: t.actor}},
					{"actor+actions", canopy.ChangeFilter{ActorID: t.actor, Actions: three}},
					{"time-range", canopy.ChangeFilter{Since: since, Until: until}},
					{"time-range+actions", canopy.ChangeFilter{Since: since, Until: until, Actions: three}},
				}
				for _, fc := range filters {
					f := fc.f
					f.MSPSubtree = t.base.MSPSubtree
					f.Limit = 50
					name := fmt.Sprintf("%s(%d rows)/%s", t.name, t.rows, fc.name)
					query, args := bareChanges(t.viewer.Scope(), t.org.ID, f, 51)
					ds.explain(b, "changes/"+name, query, args...)
					b.Run(name, func(b *testing.B) {
						benchtest.Parallel(b, "pages", 1, func(int64) error {
							_, err := ds.app.ChangeLog(ctx, t.viewer, t.org.ID, f)
							return err
						})
					})
					b.Run(name+"/ceiling-bare-sql", func(b *testing.B) {
						stmt, err := ds.bare.PrepareContext(ctx, query)
						if err != nil {
							b.Fatal(err)
						}
						defer stmt.Close()
						benchtest.Parallel(b, "pages", 1, func(int64) error {
							rows, err := stmt.QueryContext(ctx, args...)
							if err != nil {
								return err
							}
							_, err = scanBareChanges(rows, nil)
							return err
						})
					})
				}
			}
		})
	}
}

// firstByteWriter remembers when the first byte reached it.
type firstByteWriter struct {
	w     io.Writer
	first time.Time
	bytes int64
}

func (f *firstByteWriter) Write(p []byte) (int, error) {
	if f.first.IsZero() {
		f.first = time.Now()
	}
	f.bytes += int64(len(p))
	return f.w.Write(p)
}

// exportOnce streams one export and returns its rows (counted from the
// output), time to first byte and bytes.
func exportOnce(b *testing.B, ds *benchDataset, t changeLogTarget, format string) (int64, time.Duration, int64) {
	b.Helper()
	var lines int64
	counter := writerFunc(func(p []byte) (int, error) {
		for _, c := range p {
			if c == '\n' {
				lines++
			}
		}
		return len(p), nil
	})
	w := &firstByteWriter{w: counter}
	start := time.Now()
	if err := ds.app.ExportChangeLog(context.Background(), t.viewer, t.org.ID, t.base, format, w); err != nil {
		b.Fatal(err)
	}
	if format == app.FormatCSV {
		lines-- // the header
	}
	return lines, w.first.Sub(start), w.bytes
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BenchmarkChangeLogExport (W10): the whole log of the biggest customer
// and of the largest MSP streamed as CSV and JSON Lines, in rows/s with
// the time to first byte; beside it the bare SELECT scanned to the end
// and the same rows written by encoding/csv with no store in between.
// Then a customer with 1,000,000 entries (loaded with the BulkLoader if
// the dataset has fewer) exported while the peak RSS is measured.
func BenchmarkChangeLogExport(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			ds := openBenchDataset(b, d)
			targets := ds.changeLogTargets(b)
			targets = append(targets, ds.millionRowTarget(b))
			for _, t := range targets {
				name := fmt.Sprintf("%s(%d rows)", t.name, t.rows)
				for _, format := range []string{app.FormatCSV, app.FormatJSONL} {
					b.Run(name+"/"+format, func(b *testing.B) {
						var rows int64
						var ttfb time.Duration
						peak := int64(0)
						for i := 0; i < b.N; i++ {
							resetPeakRSS()
							n, first, _ := exportOnce(b, ds, t, format)
							if n != t.rows {
								b.Fatalf("exported %d rows; the log has %d", n, t.rows)
							}
							rows += n
							ttfb += first
							peak = max(peak, procStatusKB("VmHWM"))
						}
						b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
						b.ReportMetric(float64(ttfb.Microseconds())/1000/float64(b.N), "first-byte-ms")
						b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
					})
				}
				b.Run(name+"/ceiling-bare-sql", func(b *testing.B) {
					query, args := bareChanges(t.viewer.Scope(), t.org.ID, t.base, 0)
					var rows int64
					for i := 0; i < b.N; i++ {
						r, err := ds.bare.Query(query, args...)
						if err != nil {
							b.Fatal(err)
						}
						n, err := scanBareChanges(r, nil)
						if err != nil {
							b.Fatal(err)
						}
						rows += int64(n)
					}
					b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		})
	}
}

// millionRowTarget returns the dataset's last customer with its log grown
// to 1,000,000 entries by the BulkLoader (once; a later run finds them),
// spread over the two years before now, IDs in time order.
func (ds *benchDataset) millionRowTarget(b *testing.B) changeLogTarget {
	b.Helper()
	ctx := context.Background()
	const want = 1_000_000
	var id canopy.OrgID
	if err := ds.bare.QueryRowContext(ctx, `SELECT MAX(org_id) FROM customers`).Scan(&id); err != nil {
		b.Fatal(err)
	}
	cust, err := ds.store.Org(ctx, canopy.ScopeOf(ds.root), id)
	if err != nil {
		b.Fatal(err)
	}
	var have int64
	if err := ds.bare.QueryRowContext(ctx, `SELECT COUNT(*) FROM change_log WHERE org_id = $1`, int64(id)).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have < want {
		var actor canopy.PersonID
		var actorName string
		err := ds.bare.QueryRowContext(ctx, `SELECT p.id, p.name FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.org_id = $1 LIMIT 1`, int64(cust.ParentID)).Scan(&actor, &actorName)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		missing := want - int(have)
		err = ds.store.BulkLoad(ctx, store.BulkOptions{}, func(l *store.BulkLoader) error {
			first := l.NextChangeID()
			from := time.Now().AddDate(-2, 0, 0)
			step := 2 * 365 * 24 * time.Hour / time.Duration(missing)
			actions := []canopy.Action{canopy.ActionSignIn, canopy.ActionAddUser, canopy.ActionUpdateUser, canopy.ActionAddGroupMember}
			const batch = 50_000
			rows := make([]canopy.Change, 0, batch)
			for i := 0; i < missing; i++ {
				email := fmt.Sprintf("user%d@%s", i%5000, cust.Domain)
				rows = append(rows, canopy.Change{ID: first + canopy.ChangeID(i), OrgID: cust.ID, OrgPath: cust.Path,
					Actor:  canopy.Actor{Kind: canopy.ActorPerson, PersonID: actor, Name: actorName, IP: "203.0.113.7"},
					Action: actions[i%len(actions)], TargetType: "end_user", TargetID: strconv.Itoa(i % 5000), TargetName: email,
					After: []byte(`{"email":"` + email + `","status":"active"}`), At: from.Add(time.Duration(i) * step)})
				if len(rows) == batch || i == missing-1 {
					if err := l.Changes(ctx, rows); err != nil {
						return err
					}
					rows = rows[:0]
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("loaded %d change-log rows for customer %d in %v\n", missing, cust.ID, time.Since(start).Round(time.Millisecond))
		have = want
	}
	msp, err := ds.store.Org(ctx, canopy.ScopeOf(ds.root), cust.ParentID)
	if err != nil {
		b.Fatal(err)
	}
	return changeLogTarget{name: "customer-1M", viewer: viewer(msp, 1, canopy.RoleMSPAdmin), org: cust, rows: have}
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux:
// writing 5 to clear_refs), so each export's peak is its own.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// procStatusKB reads a kB field of /proc/self/status (0 when unavailable).
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
