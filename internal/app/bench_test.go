package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// BenchmarkAuditedWrite (W8): a real audited change — an end user added to
// a customer inside the caller's scope: scope check, insert, maintained
// Active Users count and change-log entry in one transaction — spread over
// 100 customers of one MSP, as writes are in production (all on one
// customer, PostgreSQL would queue them on that customer's row lock).
// Ceiling: a transaction holding one INSERT (the change-log row alone).
func BenchmarkAuditedWrite(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			f := setupBench(b, s)
			ctx := context.Background()
			customers := []canopy.Org{f.custA}
			for i := 1; i < 100; i++ {
				c, err := f.app.CreateOrg(ctx, canopy.System("bench"), canopy.ScopeOf(f.mspA), app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: fmt.Sprint("Customer ", i), Domain: fmt.Sprintf("c%d.example", i)})
				if err != nil {
					b.Fatal(err)
				}
				customers = append(customers, c)
			}
			actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: 1, Name: "Bench", IP: "127.0.0.1"}
			var n atomic.Int64
			b.Run("AddEndUser", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						cust := customers[i%int64(len(customers))]
						if err := f.app.AddEndUser(ctx, actor, canopy.ScopeOf(f.mspA), cust.ID, fmt.Sprintf("user%d@%s", i, cust.Domain), "Bench", "User", true); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
			b.Run("ceiling-one-insert-tx", func(b *testing.B) {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						err := s.InTx(ctx, func(tx *store.Tx) error {
							_, err := tx.RecordChange(ctx, canopy.Change{OrgID: f.custA.ID, OrgPath: f.custA.Path, Actor: actor,
								Action: canopy.ActionUpdateCustomer, TargetType: "customer", TargetID: "x", TargetName: "x", At: f.clock.Now()})
							return err
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			})
		})
	}
}

func setupBench(b *testing.B, s *store.Store) fixture {
	ctx := context.Background()
	f := fixture{store: s, clock: canopy.NewManualClock(t0)}
	f.app = app.New(app.Deps{Store: s, Clock: f.clock})
	root, err := f.app.CreatePlatform(ctx, "Canopy")
	if err != nil {
		b.Fatal(err)
	}
	all, sys := canopy.ScopeOf(root), canopy.System("bench")
	dist, err := f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: root.ID, Kind: canopy.KindDistributor, Name: "D"})
	if err != nil {
		b.Fatal(err)
	}
	if f.mspA, err = f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: dist.ID, Kind: canopy.KindMSP, Name: "A"}); err != nil {
		b.Fatal(err)
	}
	if f.custA, err = f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: "Alpha", Domain: "alpha.example"}); err != nil {
		b.Fatal(err)
	}
	return f
}
