package app_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// BenchmarkPortalMagicLink (W2, in process): a magic-link request (lookups,
// the rate-limit count, the link and its outbox mail in one transaction)
// and a redeem (spend the link, open a portal session), for distinct end
// users of one customer.
func BenchmarkPortalMagicLink(b *testing.B) {
	for _, d := range storetest.Engines {
		b.Run(string(d), func(b *testing.B) {
			s := storetest.Open(b, d)
			f := setup(b, s)
			ctx := context.Background()
			const users = 2000
			var csv []byte
			for i := 0; i < users; i++ {
				csv = fmt.Appendf(csv, "u%d@alpha.example\n", i)
			}
			admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
			if _, n, err := f.app.ImportEndUsers(ctx, admin, f.custA.ID, bytesReader(csv)); err != nil || n != users {
				b.Fatal(n, err)
			}
			p, err := f.app.PortalOf(ctx, f.custA.TenantID)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("request", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := f.app.RequestPortalLink(ctx, p, fmt.Sprintf("u%d@alpha.example", i%users)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
			})
			var tokens []string
			for before := int64(0); ; {
				mails, err := s.RecentMail(ctx, "", before, 500)
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range mails {
					if tok := linkToken(m.Text); tok != "" {
						tokens = append(tokens, tok)
					}
				}
				if len(mails) < 500 {
					break
				}
				before = mails[len(mails)-1].ID
			}
			next := 0 // links are single use: later rounds take fresh ones
			b.Run("redeem", func(b *testing.B) {
				if next+b.N > len(tokens) {
					b.Skipf("only %d unspent links", len(tokens)-next)
				}
				for i := 0; i < b.N; i++ {
					if _, err := f.app.RedeemPortalLink(ctx, p, tokens[next]); err != nil {
						b.Fatal(err)
					}
					next++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "redeems/s")
			})
		})
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func linkToken(text string) string {
	_, after, ok := strings.Cut(text, "/link/")
	if !ok {
		return ""
	}
	return strings.Fields(after)[0]
}
