package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/api"
	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/benchtest"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/server"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
	"github.com/canopy-channel/canopy/internal/web"
)

// BenchmarkPortalMagicLinkHTTP (W2 over HTTP): the whole server (every
// middleware, the portal lookup, the page rendered) on 127.0.0.1:0, driven
// by net/http clients on 4×GOMAXPROCS goroutines over keep-alive
// connections: POST /portal/{tenant}/link for distinct end users of one
// customer, and the Continue button's POST /portal/{tenant}/link/{token}
// (its 303 is not followed). Every call is timed for the p99.
//
// All requests come from 127.0.0.1, so the server's per-address throttle
// (20 attempts a minute, the production default) would answer 429 to all
// but the first 20: the run raises it through Deps.AttemptsPerMinute, and
// the throttle stays in the path. The per-address link limit (three per
// 15 minutes) stays as it is: each run starts a fresh window on a manual
// clock and asks at most three links per address, and the run checks
// that every request mailed one. No job runner delivers the mail.
// Ceiling: GET /healthz through the same server and clients.
func BenchmarkPortalMagicLinkHTTP(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s, clock, srv, portal, emails := openPortalHTTPBench(b, d)
			users := len(emails)
			client := &http.Client{
				Transport:     &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			post := func(u string, form url.Values, want int) error {
				resp, err := client.PostForm(u, form)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					return fmt.Errorf("POST %s: %d; want %d", u, resp.StatusCode, want)
				}
				return nil
			}
			request := func(i int64) error {
				return post(portal+"/link", url.Values{"email": {emails[i%int64(users)]}}, http.StatusOK)
			}
			b.Run("request", func(b *testing.B) {
				if b.N > 3*users {
					b.Fatalf("b.N %d: at most %d links in one window", b.N, 3*users)
				}
				clock.Advance(app.PortalLinkTTL + time.Second)
				last := storetest.LastMailID(b, s)
				benchtest.Parallel(b, "requests", 4, request)
				if got := len(storetest.TokensAfter(b, s, last, "/link/")); got != b.N {
					b.Errorf("%d links mailed for %d requests", got, b.N)
				}
			})
			b.Run("redeem", func(b *testing.B) {
				if b.N > 3*users {
					b.Fatalf("b.N %d: at most %d links in one window", b.N, 3*users)
				}
				clock.Advance(app.PortalLinkTTL + time.Second)
				last := storetest.LastMailID(b, s)
				var next atomic.Int64
				var wg sync.WaitGroup
				for g := 0; g < 8; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
							if err := request(i); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				tokens := storetest.TokensAfter(b, s, last, "/link/")
				if len(tokens) != b.N {
					b.Fatalf("%d links mailed for %d requests", len(tokens), b.N)
				}
				benchtest.Parallel(b, "redeems", 4, func(i int64) error {
					return post(portal+"/link/"+tokens[i], url.Values{}, http.StatusSeeOther)
				})
			})
			b.Run("ceiling-healthz", func(b *testing.B) {
				benchtest.Parallel(b, "req", 4, func(int64) error {
					resp, err := client.Get(srv + "/healthz")
					if err != nil {
						return err
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					return nil
				})
			})
		})
	}
}

// openPortalHTTPBench serves a portal with magic links on and returns
// its store, clock, server URL and portal URL, with the addresses of
// active end users of its customer: customer Alpha with 20,000 imported
// end users on a fresh store or, when storetest.DatasetEnv(d) names a
// generated dataset (a copy: the runs add links, mails and sessions), its
// customer with the most active end users and 20,000 of their addresses.
func openPortalHTTPBench(b *testing.B, d store.Dialect) (*store.Store, *canopy.ManualClock, string, string, []string) {
	b.Helper()
	ctx := context.Background()
	clock := canopy.NewManualClock(time.Now())
	var a *app.App
	var s *store.Store
	var srv string
	var msp canopy.Org
	var tenant string
	var emails []string
	if ds, ok := storetest.OpenDataset(b, d); ok {
		s = ds.Store
		clock.Set(ds.Start(b))
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		a = app.New(app.Deps{Store: s, Log: log, Clock: clock})
		pages, err := web.New(a, log, web.Options{Version: "test"})
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(server.NewServer(server.Deps{Store: s, Web: pages, Log: log, AttemptsPerMinute: 1 << 30,
			API: api.Handler(api.Deps{App: a, Log: log, CookieName: web.SessionCookie})}))
		b.Cleanup(ts.Close)
		var c canopy.Customer
		c, emails = ds.BusiestCustomer(b, 20_000)
		srv, msp, tenant = ts.URL, c.MSP, c.TenantID
	} else {
		s = storetest.Open(b, d)
		w := newWorldWith(b, s, worldOptions{clock: clock, attemptsPerMinute: 1 << 30})
		var csv []byte
		for i := 0; i < 20_000; i++ {
			emails = append(emails, fmt.Sprintf("u%d@alpha.example", i))
			csv = fmt.Appendf(csv, "%s\n", emails[i])
		}
		admin := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if _, n, err := w.app.ImportEndUsers(ctx, admin, w.custA.ID, bytes.NewReader(csv)); err != nil || n != len(emails) {
			b.Fatal(n, err)
		}
		a, srv, msp, tenant = w.app, w.srv.URL, w.mspA, w.custA.TenantID
	}
	admin := app.Viewer{Org: msp, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
	c, err := a.Customer(ctx, admin, tenant)
	if err != nil {
		b.Fatal(err)
	}
	for _, key := range []canopy.SettingKey{canopy.SettingEndUserPortal, canopy.SettingMagicLink} {
		if err := a.SetCustomerSetting(ctx, admin, c.ID, key, "true", false); err != nil {
			b.Fatal(err)
		}
	}
	return s, clock, srv, srv + "/portal/" + tenant, emails
}
