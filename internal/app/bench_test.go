package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/auth"
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

// BenchmarkSignIn (W1): password sign-in — argon2id check, session row,
// last-login update and change-log row — from 16 accounts in parallel.
// Ceiling in the same run: the bare argon2id check on both cores.
func BenchmarkSignIn(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			f := setupBench(b, s)
			ctx := context.Background()
			const users = 16
			admin := app.Viewer{PersonID: 1, Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Actor: canopy.System("bench")}
			for i := 0; i < users; i++ {
				email := fmt.Sprintf("user%d@alpha.example", i)
				if _, err := f.app.CreateStaff(ctx, admin, app.StaffInput{OrgID: f.mspA.ID, Name: fmt.Sprint("User ", i), Email: email, Roles: []canopy.Role{canopy.RoleMSPAccounts}}); err != nil {
					b.Fatal(err)
				}
				mails, _ := s.RecentMail(ctx, email, 0, 1)
				token := registerLink.FindStringSubmatch(mails[0].Text)[1]
				if err := f.app.Register(ctx, token, app.RegisterInput{Password: pw, Confirm: pw, SecurityQuestion: "Pet?", SecurityAnswer: "Rex"}, "", ""); err != nil {
					b.Fatal(err)
				}
			}
			var n atomic.Int64
			b.Run("SignInPassword", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						email := fmt.Sprintf("user%d@alpha.example", n.Add(1)%users)
						if _, err := f.app.SignInPassword(ctx, email, pw, "127.0.0.1", "bench"); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
			})
			hash := auth.HashPassword(pw)
			b.Run("ceiling-argon2id", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						auth.CheckPassword(hash, pw)
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
			})
		})
	}
}

// BenchmarkSessionCheck (W3, in process): Authenticate on every request —
// session, person and membership in one read, organization by primary key.
// Ceiling: the session read alone as a prepared statement is not exposed
// here, so the figure stands beside BenchmarkSubtreeCheck's PK read.
func BenchmarkSessionCheck(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			f := setupBench(b, s)
			ctx := context.Background()
			p, err := f.app.AddStaff(ctx, canopy.System("bench"), canopy.ScopeOf(f.mspA), app.NewStaff{OrgID: f.mspA.ID, Name: "B", Email: "b@alpha.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
			if err != nil {
				b.Fatal(err)
			}
			token, _ := f.app.IssueSigninLink(ctx, p.ID, f.mspA.ID, app.PurposeFirstSignIn, time.Hour)
			session, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "", "")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.app.Authenticate(ctx, session, "127.0.0.1", "bench"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}
