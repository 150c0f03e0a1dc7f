package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
	"github.com/chromedp/chromedp"
)

// In Chromium, on a server whose clock the test moves: an end user asks
// for a magic link, opens it (Continue; nothing spent), signs in, cannot
// use it twice, and a second link opened 16 minutes later has expired.
func TestBrowserPortalMagicLinkExpiresOnTheClock(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	clock := canopy.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	w := newWorldAt(t, s, clock)
	ctx := context.Background()
	admin := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Actor: canopy.System("test")}
	if err := w.app.AddEndUserBy(ctx, admin, w.custA.ID, "eve@alpha.example", "Eve", "Adams"); err != nil {
		t.Fatal(err)
	}
	link := func() string {
		t.Helper()
		return w.srv.URL + "/portal/" + w.custA.TenantID + "/link/" + storetest.TokenInMail(t, s, "eve@alpha.example", "/portal/"+w.custA.TenantID+"/link/")
	}
	b := browsertest.New(t, 1024, 768)
	must, text := browsertest.Helpers(t, b)
	request := func() {
		t.Helper()
		must(chromedp.Do(b, chromedp.Navigate(w.srv.URL+"/portal/"+w.custA.TenantID), chromedp.WaitVisible(`#email`),
			chromedp.SendKeys(`#email`, "eve@alpha.example"), chromedp.Click(`form[action$="/link"] button`), chromedp.WaitVisible(`.notice.info`)))
		if msg := text(`.notice.info`); !strings.Contains(msg, "If this address belongs to Alpha, a link is on its way") {
			t.Errorf("answer = %q", msg)
		}
	}
	request()
	first := link()
	must(chromedp.Do(b, chromedp.Navigate(first), chromedp.WaitVisible(`//button[text()="Continue"]`),
		chromedp.Click(`//button[text()="Continue"]`), chromedp.WaitVisible(`//h2[text()="Your training"]`)))
	if body := text(`main`); !strings.Contains(body, "Welcome, Eve Adams") {
		t.Errorf("portal home = %q", body)
	}
	must(chromedp.Do(b, chromedp.Navigate(first), chromedp.WaitVisible(`.notice.error`)))
	if msg := text(`.notice.error`); !strings.Contains(msg, "expired") {
		t.Errorf("the used link = %q", msg)
	}

	must(chromedp.Do(b, chromedp.Navigate(w.srv.URL+"/portal/"+w.custA.TenantID), chromedp.Click(`//button[text()="Sign out"]`), chromedp.WaitVisible(`#email`)))
	clock.Advance(time.Minute)
	request()
	second := link()
	if second == first {
		t.Fatal("no second link was mailed")
	}
	clock.Advance(app.PortalLinkTTL + time.Minute)
	must(chromedp.Do(b, chromedp.Navigate(second), chromedp.WaitVisible(`.notice.error`)))
	if msg := text(`.notice.error`); !strings.Contains(msg, "expired") {
		t.Errorf("the link after 16 minutes = %q", msg)
	}
	if strings.Contains(text(`main`), "Continue") {
		t.Error("an expired link still offers Continue")
	}
}
