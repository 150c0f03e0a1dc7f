package app_test

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/benchtest"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// BenchmarkPortalMagicLink (W2, in process): a magic-link request (the
// end user and their recent links read, then the link and its outbox mail
// in one transaction) and a redeem (spend the link, open a portal
// session), for distinct end users of one customer: on one goroutine
// ("serial") and on 4×GOMAXPROCS goroutines ("parallel"), each call timed
// for the p99. Every request mails a link: each run starts a fresh
// 15-minute window and asks at most three links per address. Ceiling: a
// bare transaction of three one-row INSERTs (portal link, outbox row, job)
// through the same store, one transaction (and commit) per call.
func BenchmarkPortalMagicLink(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			w := openPortalBench(b, d)
			s, f, p, emails := w.store, w.fixture, w.portal, w.emails
			ctx := context.Background()
			users := len(emails)
			firstUser, err := s.EndUserByEmail(ctx, p.Customer.ID, emails[0])
			if err != nil {
				b.Fatal(err)
			}
			address := func(i int64) string { return emails[i%int64(users)] }
			// mint requests n links in a fresh window and returns their tokens.
			mint := func(b *testing.B, n int) []string {
				f.clock.Advance(app.PortalLinkTTL + time.Second)
				if n > 3*users {
					b.Fatalf("%d links in one window: at most %d", n, 3*users)
				}
				last := storetest.LastMailID(b, s)
				for i := 0; i < n; i++ {
					if err := f.app.RequestPortalLink(ctx, p, address(int64(i))); err != nil {
						b.Fatal(err)
					}
				}
				tokens := storetest.TokensAfter(b, s, last, "/link/")
				if len(tokens) != n {
					b.Fatalf("%d links mailed for %d requests", len(tokens), n)
				}
				return tokens
			}
			for _, mode := range []string{"serial", "parallel"} {
				run := func(b *testing.B, unit string, fn func(i int64) error) {
					if mode == "serial" {
						benchtest.Serial(b, unit, fn)
						return
					}
					benchtest.Parallel(b, unit, 4, fn)
				}
				b.Run("request/"+mode, func(b *testing.B) {
					if b.N > 3*users {
						b.Fatalf("b.N %d: at most %d links in one window", b.N, 3*users)
					}
					f.clock.Advance(app.PortalLinkTTL + time.Second)
					last := storetest.LastMailID(b, s)
					run(b, "requests", func(i int64) error { return f.app.RequestPortalLink(ctx, p, address(i)) })
					b.StopTimer()
					if got := len(storetest.TokensAfter(b, s, last, "/link/")); got != b.N {
						b.Errorf("%d links mailed for %d requests", got, b.N)
					}
				})
				b.Run("redeem/"+mode, func(b *testing.B) {
					tokens := mint(b, b.N)
					run(b, "redeems", func(i int64) error {
						_, err := f.app.RedeemPortalLink(ctx, p, tokens[i])
						return err
					})
				})
			}
			var next atomic.Int64
			b.Run("ceiling-three-insert-tx", func(b *testing.B) {
				benchtest.Parallel(b, "txs", 4, func(int64) error {
					i := next.Add(1)
					now := f.clock.Now()
					return s.InTx(ctx, func(tx *store.Tx) error {
						if _, err := tx.ExecContext(ctx, `INSERT INTO portal_links (token_hash, end_user_id, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $4)`,
							fmt.Sprint("ceiling-", i), firstUser.ID, p.Customer.ID, now.UnixMilli()); err != nil {
							return err
						}
						if _, err := tx.AddMail(ctx, store.Mail{OrgID: p.Customer.ID, Kind: "ceiling", To: emails[0], Subject: "x", Text: "x",
							MessageID: fmt.Sprint("<ceiling-", i, ">")}, now); err != nil {
							return err
						}
						_, _, err := tx.EnqueueJob(ctx, store.NewJob{Kind: "ceiling", UniqueKey: fmt.Sprint("ceiling-", i)}, now)
						return err
					})
				})
			})
		})
	}
}

// portalBench is what a W2 benchmark drives: an open portal with magic
// links on, and the addresses of active end users of its customer.
type portalBench struct {
	store   *store.Store
	fixture struct {
		app   *app.App
		clock *canopy.ManualClock
	}
	portal app.Portal
	emails []string
}

// openPortalBench opens the portal of customer Alpha with 20,000 imported
// end users on a fresh store or, when storetest.DatasetEnv(d) names a
// generated dataset (a copy: the runs add links, mails and sessions), the
// portal of its customer with the most active end users, driven with
// 20,000 of their real addresses.
func openPortalBench(b *testing.B, d store.Dialect) portalBench {
	b.Helper()
	ctx := context.Background()
	var w portalBench
	var msp canopy.Org
	var tenant string
	if ds, ok := storetest.OpenDataset(b, d); ok {
		w.store = ds.Store
		w.fixture.clock = canopy.NewManualClock(ds.Start(b))
		w.fixture.app = app.New(app.Deps{Store: ds.Store, Clock: w.fixture.clock})
		var c canopy.Customer
		c, w.emails = ds.BusiestCustomer(b, 20_000)
		msp, tenant = c.MSP, c.TenantID
	} else {
		w.store = storetest.Open(b, d)
		f := setup(b, w.store)
		w.fixture.app, w.fixture.clock = f.app, f.clock
		var csv []byte
		for i := 0; i < 20_000; i++ {
			w.emails = append(w.emails, fmt.Sprintf("u%d@alpha.example", i))
			csv = fmt.Appendf(csv, "%s\n", w.emails[i])
		}
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if _, n, err := f.app.ImportEndUsers(ctx, admin, f.custA.ID, bytes.NewReader(csv)); err != nil || n != len(w.emails) {
			b.Fatal(n, err)
		}
		msp, tenant = f.mspA, f.custA.TenantID
	}
	admin := app.Viewer{Org: msp, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
	c, err := w.fixture.app.Customer(ctx, admin, tenant)
	if err != nil {
		b.Fatal(err)
	}
	for _, key := range []canopy.SettingKey{canopy.SettingEndUserPortal, canopy.SettingMagicLink} {
		if err := w.fixture.app.SetCustomerSetting(ctx, admin, c.ID, key, "true", false); err != nil {
			b.Fatal(err)
		}
	}
	if w.portal, err = w.fixture.app.PortalOf(ctx, tenant); err != nil {
		b.Fatal(err)
	}
	return w
}
