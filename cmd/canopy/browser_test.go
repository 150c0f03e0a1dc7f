package main

import (
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// A person opens the printed link, presses Continue, lands on the dashboard
// and walks the tenant tree down to an MSP's customers — at desktop and
// phone widths.
func TestBrowserSignInAndTenantTree(t *testing.T) {
	t.Parallel()
	for _, size := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			// The link is single use: each run starts its own Canopy.
			r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
			ctx := browsertest.New(t, size.width, size.height)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.WaitVisible(`button[type=submit]`)))
			browsertest.Screenshot(t, ctx, size.name+"-signin-link")

			must(chromedp.Do(ctx, chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`)))
			heading, err := chromedp.Run(ctx, chromedp.Text(`h1`))
			must(err)
			if !strings.Contains(heading, "Welcome, Demo Administrator") {
				t.Errorf("dashboard heading = %q", heading)
			}
			browsertest.Screenshot(t, ctx, size.name+"-home")

			must(chromedp.Do(ctx, chromedp.Click(`nav a[href="/tenants"]`, chromedp.NodeVisible), chromedp.WaitVisible(`table.tree`)))
			browsertest.Screenshot(t, ctx, size.name+"-tree")

			must(chromedp.Do(ctx,
				chromedp.Click(`//a[text()="Brightwave IT"]`, chromedp.NodeVisible),
				chromedp.WaitVisible(`//h1[contains(., "Brightwave IT")]`),
			))
			body, err := chromedp.Run(ctx, chromedp.Text(`main`))
			must(err)
			for _, want := range []string{"Northwind Traders", "Free trial", "Trial expired", "Recent changes"} {
				if !strings.Contains(body, want) {
					t.Errorf("MSP page lacks %q", want)
				}
			}
			browsertest.Screenshot(t, ctx, size.name+"-msp")

			must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/prospects"), chromedp.WaitVisible(`//h2[text()="Not built yet"]`)))
			browsertest.Screenshot(t, ctx, size.name+"-prospects")
		})
	}
}
