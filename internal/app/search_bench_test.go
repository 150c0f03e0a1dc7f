package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/benchtest"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// BenchmarkEndUserSearch (W5): the first 50-row page of an end-user search
// through the app, by prefix and by contains, for a common and a rare
// term, at the largest customer (25,000 users on L), at the largest MSP
// (≈170,000), at a middle MSP (the one nearest 30,000 users: big enough
// for the trigram index, small enough that most matches are elsewhere) and
// at the distributor (all 2,000,000). Beside each, the same statements the
// store ran (its planning count and the page), prepared on the bare pool.
// CANOPY_BENCH_EXPLAIN=1 prints each statement's plan.
func BenchmarkEndUserSearch(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			ds := openBenchDataset(b, d)
			ctx := context.Background()
			var midID canopy.OrgID
			if err := ds.bare.QueryRowContext(ctx, `SELECT msp_id FROM customers GROUP BY msp_id
				ORDER BY ABS(SUM(active_users) - 30000), msp_id LIMIT 1`).Scan(&midID); err != nil {
				b.Fatal(err)
			}
			mid, err := ds.store.Org(ctx, canopy.ScopeOf(ds.root), midID)
			if err != nil {
				b.Fatal(err)
			}
			scopes := []struct {
				name   string
				viewer app.Viewer
				one    bool // EndUsers of the viewer's own customer
			}{
				{"customer", viewer(ds.bigCust, 1, canopy.RoleCustomerAdmin), true},
				{"msp", viewer(ds.bigMSP, 1, canopy.RoleMSPAdmin), false},
				{"msp-30k", viewer(mid, 1, canopy.RoleMSPAdmin), false},
				{"distributor", viewer(ds.dist, 1, canopy.RoleDistributorAdmin), false},
			}
			// Names are one of 100 given × 100 family names, addresses
			// given.family@company-NNNN.example: "a" starts a quarter of
			// them, "lincoln.wa" one in 10,000; "son" is inside ≈8 % of
			// names, "ncoln.wal" inside one in 10,000.
			terms := []struct {
				name     string
				q        string
				contains bool
			}{
				{"prefix/common-a", "a", false},
				// "m" and "s" start as many names but lie deeper in the
				// email order, so a walk goes further before a page fills.
				{"prefix/common-m", "m", false},
				{"prefix/common-s", "s", false},
				{"prefix/rare-lincoln.wa", "lincoln.wa", false},
				{"contains/common-son", "son", true},
				{"contains/rare-ncoln.wal", "ncoln.wal", true},
			}
			for _, sc := range scopes {
				for _, term := range terms {
					q := app.EndUserQuery{Q: term.q, Contains: term.contains}
					search := func() (app.EndUserPage, error) {
						if sc.one {
							return ds.app.EndUsers(ctx, sc.viewer, sc.viewer.Org.ID, q)
						}
						return ds.app.SearchEndUsers(ctx, sc.viewer, q)
					}
					first, err := search()
					if err != nil {
						b.Fatal(err)
					}
					if len(first.Users) == 0 {
						b.Fatalf("%s %s: no rows", sc.name, term.name)
					}
					sq := store.EndUserSearch{Query: term.q, Contains: term.contains, Limit: 50}
					if sc.one {
						sq.Customer = sc.viewer.Org.ID
					}
					stmts, err := ds.store.EndUserSearchStatements(ctx, sc.viewer.Scope(), sq)
					if err != nil {
						b.Fatal(err)
					}
					name := sc.name + "/" + term.name
					for i, st := range stmts {
						ds.explain(b, fmt.Sprintf("search/%s/%d", name, i), st.Query, st.Args...)
					}
					b.Run(name, func(b *testing.B) {
						benchtest.Parallel(b, "searches", 1, func(int64) error {
							page, err := search()
							if err == nil && len(page.Users) != len(first.Users) {
								err = fmt.Errorf("%d rows, first run had %d", len(page.Users), len(first.Users))
							}
							return err
						})
						b.ReportMetric(float64(len(first.Users)), "rows")
					})
					b.Run(name+"/ceiling-bare-sql", func(b *testing.B) {
						// Prepared on SQLite, as the store's statement cache
						// does; on PostgreSQL run as the store runs them
						// (planned per run, see store.planned): a prepared
						// statement may settle on a generic plan.
						var prepared []func() error
						for _, st := range stmts {
							query := func(args ...any) (*sql.Rows, error) { return ds.bare.QueryContext(ctx, st.Query, args...) }
							if ds.dialect == store.SQLite {
								stmt, err := ds.bare.PrepareContext(ctx, st.Query)
								if err != nil {
									b.Fatal(err)
								}
								defer stmt.Close()
								query = func(args ...any) (*sql.Rows, error) { return stmt.QueryContext(ctx, args...) }
							}
							prepared = append(prepared, func() error {
								rows, err := query(st.Args...)
								if err != nil {
									return err
								}
								defer rows.Close()
								for rows.Next() {
								}
								return rows.Err()
							})
						}
						benchtest.Parallel(b, "searches", 1, func(int64) error {
							if ds.dialect == store.Postgres {
								return runSearchTx(ctx, ds.bare, stmts)
							}
							for _, run := range prepared {
								if err := run(); err != nil {
									return err
								}
							}
							return nil
						})
					})
				}
			}
		})
	}
}

// runSearchTx runs a PostgreSQL search's statements as the store does: in
// a read-only transaction after store.PostgresSearchSettings, each planned
// for its arguments.
func runSearchTx(ctx context.Context, db *sql.DB, stmts []store.Statement) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, store.PostgresSearchSettings); err != nil {
		return err
	}
	for _, st := range stmts {
		rows, err := tx.QueryContext(ctx, st.Query, st.Args...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return tx.Commit()
}
