package main

import (
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// An administrator invites three addresses (one disposable, one listed
// twice) as Users with one module, sees a result per address, the invited
// person opens the mail's link, accepts, signs in, and finds only the
// granted module in the navigation; the others are refused by URL.
func TestBrowserInviteAcceptAndModuleLimits(t *testing.T) {
	t.Parallel()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
	ctx := browsertest.New(t, 1280, 900)
	must, text := browsertest.Helpers(t, ctx)
	must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`),
		chromedp.Navigate(r.baseURL+"/customers"), chromedp.Click(`//td/a[text()="Northwind Traders"]`, chromedp.NodeVisible),
		chromedp.Click(`//nav[@class="tabs"]/a[text()="Users"]`, chromedp.NodeVisible), chromedp.WaitVisible(`#addresses`)))
	customerURL, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname.replace(/\/users$/, "")`))
	must(err)

	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#addresses`, "nina.patel@northwind.example, someone@mailinator.com\nNina.Patel@northwind.example"),
		chromedp.Click(`//label[contains(., "Security awareness training")]/input`),
		chromedp.Click(`//button[text()="Send invites"]`), chromedp.WaitVisible(`table.invite-results`)))
	browsertest.Screenshot(t, ctx, "invite-results")
	results := text(`table.invite-results tbody`)
	for _, want := range []string{"nina.patel@northwind.example", "Invited", "someone@mailinator.com", "A disposable address", "Listed twice"} {
		if !strings.Contains(results, want) {
			t.Errorf("results %q lack %q", results, want)
		}
	}
	if !strings.Contains(text(`main`), "1 of 3 addresses invited") {
		t.Error("the results do not say 1 of 3 addresses invited")
	}
	if pending := text(`table.pending`); !strings.Contains(pending, "nina.patel@northwind.example") || strings.Contains(pending, "mailinator") {
		t.Errorf("pending invitations = %q", pending)
	}

	// The invited person opens the mail and accepts.
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/mailbox"),
		chromedp.Click(`//a[text()="You are invited to Northwind Traders on Canopy"]`, chromedp.NodeVisible), chromedp.WaitVisible(`pre.mailbody a`)))
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("pre.mailbody a").href`))
	must(err)
	must(chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(`#name`)))
	if h := text(`h1`); h != "Join Northwind Traders" {
		t.Errorf("invitation page heading %q", h)
	}
	const pw = "copper kettle above the harbour"
	must(chromedp.Do(ctx, chromedp.SendKeys(`#name`, "Nina Patel"), chromedp.SendKeys(`#password`, pw), chromedp.SendKeys(`#confirm`, pw),
		chromedp.SetValue(`#security_question`, "What was the name of your first pet?"), chromedp.SendKeys(`#security_answer`, "Biscuit")))
	browsertest.Screenshot(t, ctx, "invite-accept")
	must(chromedp.Do(ctx, chromedp.Click(`//button[text()="Accept the invitation"]`), chromedp.WaitVisible(`.notice`)))
	if msg := text(`.notice`); !strings.Contains(msg, "You have joined the account") {
		t.Fatalf("after accepting: %q (%s)", msg, text(`main`))
	}

	// Nina signs in as a User: only her module is in the navigation.
	must(chromedp.Do(ctx, chromedp.SendKeys(`#email`, "nina.patel@northwind.example"), chromedp.SendKeys(`#password`, pw),
		chromedp.Click(`//button[text()="Sign in"]`), chromedp.WaitVisible(`//h1[text()="Welcome, Nina Patel"]`)))
	browsertest.Screenshot(t, ctx, "user-home")
	nav := text(`nav[aria-label=Main]`)
	if !strings.Contains(nav, "Training") {
		t.Errorf("navigation %q lacks the granted module", nav)
	}
	for _, absent := range []string{"Phishing", "Policies", "Reports", "User Management", "Configuration", "Pricing", "Payment", "Customers", "Settings"} {
		if strings.Contains(nav, absent) {
			t.Errorf("navigation %q shows %s", nav, absent)
		}
	}
	must(chromedp.Do(ctx, chromedp.Click(`//nav[@aria-label="Main"]//a[text()="Training"]`), chromedp.WaitVisible(`//h1[text()="Security awareness training"]`)))
	for _, p := range []string{"/modules/phishing", "/modules/policies", customerURL + "/users", customerURL + "/configuration", "/pricing", "/payment", "/customers"} {
		must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+p), chromedp.WaitVisible(`h1`)))
		if h := text(`h1`); h != "Page not found" {
			t.Errorf("%s shows %q to a User", p, h)
		}
	}
	browsertest.Screenshot(t, ctx, "user-refused")
}
