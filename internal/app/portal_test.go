package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// A magic link expires after 15 minutes; an address gets at most three
// links in 15 minutes; a deactivated user's link no longer signs in.
func TestPortalLinksExpireAndAreRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		if err := f.app.AddEndUser(ctx, canopy.System("test"), canopy.ScopeOf(f.root), f.custA.ID, "eve@alpha.example", "Eve", "Lee", true); err != nil {
			t.Fatal(err)
		}
		p, err := f.app.PortalOf(ctx, f.custA.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		links := func() []string {
			mails, _ := s.RecentMail(ctx, "eve@alpha.example", 0, 100)
			var out []string
			for _, m := range mails {
				_, after, _ := strings.Cut(m.Text, "/link/")
				out = append(out, strings.Fields(after)[0])
			}
			return out
		}
		for i := 0; i < 5; i++ {
			if err := f.app.RequestPortalLink(ctx, p, "Eve@Alpha.example"); err != nil {
				t.Fatal(err)
			}
		}
		if got := links(); len(got) != 3 {
			t.Errorf("links mailed for 5 requests in a minute = %d; want 3", len(got))
		}
		first := links()[0]
		f.clock.Advance(app.PortalLinkTTL)
		if _, err := f.app.RedeemPortalLink(ctx, p, first); !errors.Is(err, app.ErrPortalLinkUnusable) {
			t.Errorf("a link 15 minutes old: %v", err)
		}
		// A new window: a new link works.
		if err := f.app.RequestPortalLink(ctx, p, "eve@alpha.example"); err != nil {
			t.Fatal(err)
		}
		fresh := links()[0]
		if _, err := f.app.CheckPortalLink(ctx, p, fresh); err != nil {
			t.Fatalf("a fresh link: %v", err)
		}
		session, err := f.app.RedeemPortalLink(ctx, p, fresh)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := f.app.PortalUser(ctx, p, session); err != nil || u.Email != "eve@alpha.example" {
			t.Errorf("portal user = %+v, %v", u, err)
		}
		if _, err := f.app.PortalUser(ctx, p, session+"x"); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("a tampered session: %v", err)
		}
		f.clock.Advance(9 * time.Hour)
		if _, err := f.app.PortalUser(ctx, p, session); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("a portal session after 9 hours: %v", err)
		}
	})
}
