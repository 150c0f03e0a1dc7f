package main

import (
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// An end user opens the portal link copied from the customer's
// Configuration tab, asks for a magic link, finds it in the mailbox, opens
// it (Continue, nothing spent yet), signs in, and the link does not work twice.
func TestBrowserEndUserPortalMagicLink(t *testing.T) {
	t.Parallel()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
	ctx := browsertest.New(t, 1280, 900)
	must, text := browsertest.Helpers(t, ctx)
	must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`),
		chromedp.Navigate(r.baseURL+"/customers"), chromedp.Click(`//td/a[text()="Northwind Traders"]`, chromedp.NodeVisible),
		chromedp.Click(`//nav[@class="tabs"]/a[text()="Configuration"]`, chromedp.NodeVisible), chromedp.WaitVisible(`#portal-url`)))
	portal, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#portal-url").value`))
	must(err)

	must(chromedp.Do(ctx, chromedp.Navigate(portal), chromedp.WaitVisible(`#email`)))
	browsertest.Screenshot(t, ctx, "portal")
	must(chromedp.Do(ctx, chromedp.SendKeys(`#email`, "olivia.smith@northwind.example"), chromedp.Click(`form[action$="/link"] button`), chromedp.WaitVisible(`.notice.info`)))
	if msg := text(`.notice.info`); !strings.Contains(msg, "If this address belongs to Northwind Traders, a link is on its way") {
		t.Errorf("answer = %q", msg)
	}
	browsertest.Screenshot(t, ctx, "portal-requested")

	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/mailbox"),
		chromedp.Click(`//a[text()="Your sign-in link for Northwind Traders"]`, chromedp.NodeVisible), chromedp.WaitVisible(`pre.mailbody a`)))
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("pre.mailbody a").href`))
	must(err)
	for i := 0; i < 2; i++ { // opening it twice spends nothing
		must(chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(`//button[text()="Continue"]`)))
	}
	browsertest.Screenshot(t, ctx, "portal-continue")
	must(chromedp.Do(ctx, chromedp.Click(`//button[text()="Continue"]`), chromedp.WaitVisible(`//h2[text()="Your training"]`)))
	if body := text(`main`); !strings.Contains(body, "Welcome, Olivia Smith") || !strings.Contains(body, "Nothing is assigned to you yet") {
		t.Errorf("portal home = %q", body)
	}
	browsertest.Screenshot(t, ctx, "portal-home")
	must(chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(`.notice.error`)))
	if msg := text(`.notice.error`); !strings.Contains(msg, "expired") {
		t.Errorf("reused link = %q", msg)
	}
}
