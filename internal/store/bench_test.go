package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
	"github.com/google/uuid"
)

// benchStore opens the database named by CANOPY_BENCH_<ENGINE> (a dataset
// built by `canopy demo --size L`), or builds a tree of 1 distributor,
// 20 MSPs and 2,000 customers in a fresh one.
func benchStore(b *testing.B, d store.Dialect) (*store.Store, []canopy.Org) {
	b.Helper()
	ctx := context.Background()
	var s *store.Store
	if url := os.Getenv("CANOPY_BENCH_" + map[store.Dialect]string{store.SQLite: "SQLITE", store.Postgres: "POSTGRES"}[d]); url != "" {
		var err error
		if s, err = store.Open(ctx, url, store.Options{}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil { // a dataset built by an older binary
			b.Fatal(err)
		}
	} else {
		s = storetest.Open(b, d)
		now := time.Now()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			root, err := tx.CreatePlatform(ctx, uuid.NewString(), "P", now)
			if err != nil {
				return err
			}
			all := canopy.ScopeOf(root)
			dist, err := tx.CreateOrg(ctx, all, canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindDistributor, Name: "D", ParentID: root.ID}, now)
			if err != nil {
				return err
			}
			for m := 0; m < 20; m++ {
				msp, err := tx.CreateOrg(ctx, all, canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindMSP, Name: fmt.Sprint("M", m), ParentID: dist.ID}, now)
				if err != nil {
					return err
				}
				for c := 0; c < 100; c++ {
					if _, err := tx.CreateOrg(ctx, all, canopy.Org{TenantID: uuid.NewString(), Kind: canopy.KindCustomer, Name: fmt.Sprint("C", c), ParentID: msp.ID, Status: canopy.StatusActive}, now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	root, err := s.Platform(ctx)
	if err != nil {
		b.Fatal(err)
	}
	orgs, err := s.Orgs(ctx, canopy.ScopeOf(root), []canopy.OrgKind{canopy.KindMSP, canopy.KindCustomer}, 1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	return s, orgs
}

// BenchmarkSubtreeCheck: "may the staff of this MSP touch that
// organization?" — one primary-key read and a prefix test, whatever the
// number of tenants. Ceiling: the same primary-key read as a prepared
// statement on database/sql, without the store.
func BenchmarkSubtreeCheck(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s, orgs := benchStore(b, d)
			ctx := context.Background()
			var msp canopy.Org
			for _, o := range orgs {
				if o.Kind == canopy.KindMSP {
					msp = o
					break
				}
			}
			scope := canopy.ScopeOf(msp)
			b.Run("InScope", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						if _, err := s.InScope(ctx, scope, orgs[i%len(orgs)].ID); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
			b.Run("ceiling-bare-pk-read", func(b *testing.B) {
				stmt, err := s.ReaderForBenchmark().PrepareContext(ctx, `SELECT path FROM orgs WHERE id = $1`)
				if err != nil {
					b.Fatal(err)
				}
				defer stmt.Close()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					var path string
					for pb.Next() {
						i++
						if err := stmt.QueryRowContext(ctx, orgs[i%len(orgs)].ID).Scan(&path); err != nil && err != sql.ErrNoRows {
							b.Fatal(err)
						}
					}
				})
			})
		})
	}
}

// BenchmarkStaffList (W4): one 50-row page of the staff list at the
// organization with the most staff, for each offered sort, both
// directions. Ceiling: the primary-key read of BenchmarkSubtreeCheck.
func BenchmarkStaffList(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s, orgs := benchStore(b, d)
			ctx := context.Background()
			root, _ := s.Platform(ctx)
			all := canopy.ScopeOf(root)
			// The organization with the most staff (the distributor on L).
			best, bestN := orgs[0], -1
			candidates, _ := s.Orgs(ctx, all, []canopy.OrgKind{canopy.KindDistributor, canopy.KindMSP}, 1000)
			for _, o := range candidates {
				rows, err := s.StaffAt(ctx, all, o.ID, store.StaffQuery{Limit: 200})
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) > bestN {
					best, bestN = o, len(rows)
				}
			}
			scope := canopy.ScopeOf(best)
			for _, sort := range []string{"name", "email", "status", "last_login"} {
				for _, desc := range []bool{false, true} {
					b.Run(fmt.Sprintf("%s-desc=%v", sort, desc), func(b *testing.B) {
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if _, err := s.StaffAt(ctx, scope, best.ID, store.StaffQuery{Sort: sort, Desc: desc, Limit: 50}); err != nil {
									b.Fatal(err)
								}
							}
						})
						b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
					})
				}
			}
		})
	}
}
