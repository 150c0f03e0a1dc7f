package main

import (
	"bytes"
	"encoding/csv"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// A platform administrator creates a customer (a free trial in the list),
// brands it with a logo, upgrades it, signs in to it with Admin Login, makes
// a change under the banner, ends the Admin Login, and finds both
// identities in the customer's change log, whose CSV export parses.
func TestBrowserCustomerLifecycle(t *testing.T) {
	t.Parallel()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
	ctx := browsertest.New(t, 1280, 900)
	must, text := browsertest.Helpers(t, ctx)
	must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`)))

	// The customers list of the demo tree, sorted by active users, most first.
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/customers"), chromedp.WaitVisible(`table.customers`)))
	browsertest.Screenshot(t, ctx, "customers")
	must(chromedp.Do(ctx, chromedp.Click(`//th/a[text()="Active users"]`), chromedp.WaitVisible(`th[aria-sort=ascending]`),
		chromedp.Click(`//th/a[text()="Active users"]`), chromedp.WaitVisible(`th[aria-sort=descending]`)))
	if first := text(`table.customers tbody tr:first-child td:first-child`); first != "Northwind Traders" {
		t.Errorf("most active users first = %q; want Northwind Traders (14)", first)
	}

	// Create: a malformed domain is refused next to its field; then it works.
	must(chromedp.Do(ctx,
		chromedp.Navigate(r.baseURL+"/customers/new"),
		chromedp.WaitVisible(`#name`),
		chromedp.SetValue(`#msp`, ""),
	))
	mspValue, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#msp option")].find(o => o.textContent === "Brightwave IT").value`))
	must(err)
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#msp`, mspValue),
		chromedp.SendKeys(`#name`, "Globex Corporation"),
		chromedp.SendKeys(`#domain`, "globex"),
		chromedp.Click(`form[action="/customers/new"] button[type=submit]`),
		chromedp.WaitVisible(`.field-error`),
	))
	if msg := text(`.field-error`); !strings.Contains(msg, "domain such as example.com") {
		t.Errorf("domain error = %q", msg)
	}
	browsertest.Screenshot(t, ctx, "customer-new-error")
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#domain`, "globex.example"),
		chromedp.Click(`form[action="/customers/new"] button[type=submit]`),
		chromedp.WaitVisible(`.tabs`),
	))
	if h := text(`h1`); !strings.Contains(h, "Globex Corporation") || !strings.Contains(h, "Free trial") {
		t.Errorf("new customer heading = %q", h)
	}
	customerURL, err := chromedp.Run(ctx, chromedp.Location())
	must(err)
	customerURL, _, _ = strings.Cut(customerURL, "?")
	browsertest.Screenshot(t, ctx, "customer-details")

	// It is in the list as a free trial; the search finds it as you type.
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/customers"), chromedp.WaitVisible(`#q`),
		chromedp.SendKeys(`#q`, "glob"), chromedp.WaitNotPresent(`//td/a[text()="Northwind Traders"]`)))
	if row := text(`table.customers tbody`); !strings.Contains(row, "Globex Corporation") || !strings.Contains(row, "Free trial") || !strings.Contains(row, "14 days left") {
		t.Errorf("list row = %q", row)
	}
	browsertest.Screenshot(t, ctx, "customers-search")

	// Edit branding, with a logo.
	logo := filepath.Join(t.TempDir(), "logo.png")
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 30, 30, 255})
	var buf bytes.Buffer
	must(png.Encode(&buf, img))
	must(os.WriteFile(logo, buf.Bytes(), 0o644))
	must(chromedp.Do(ctx,
		chromedp.Navigate(customerURL+"/edit"),
		chromedp.WaitVisible(`#display_name`),
		chromedp.SendKeys(`#display_name`, "Globex"),
		chromedp.SendKeys(`#primary_color`, "#aa3300"),
		chromedp.SetUploadFiles(`#logo`, []string{logo}),
		chromedp.Click(`form[enctype] button[type=submit]`),
		chromedp.WaitVisible(`.notice.info`),
	))
	if got := text(`main`); !strings.Contains(got, "Globex #aa3300") || !strings.Contains(got, "logo uploaded") {
		t.Errorf("details after branding = %q", got)
	}
	browsertest.Screenshot(t, ctx, "customer-branded")

	// Upgrade from the Action menu.
	must(chromedp.Do(ctx,
		chromedp.Click(`details.menu summary`),
		chromedp.Click(`//button[text()="Upgrade to full account"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`//h1/span[text()="Active"]`),
	))

	// Admin Login with a reason: the banner shows on every page.
	must(chromedp.Do(ctx,
		chromedp.Navigate(customerURL+"/admin-login"),
		chromedp.WaitVisible(`#reason`),
		chromedp.SendKeys(`#reason`, "Ticket 4821: set up Globex's portal"),
		chromedp.Click(`form[action$="/admin-login"] button[type=submit]`),
		chromedp.WaitVisible(`.acting`),
	))
	if banner := text(`.acting`); !strings.Contains(banner, "Acting in Globex Corporation as Demo Administrator") {
		t.Errorf("banner = %q", banner)
	}
	browsertest.Screenshot(t, ctx, "admin-login")
	// A change under Admin Login: turn off email changes.
	must(chromedp.Do(ctx,
		chromedp.Navigate(customerURL+"/configuration"),
		chromedp.WaitVisible(`#setting-allow_email_change`),
		chromedp.Click(`#setting-allow_email_change button[type=submit]`),
		chromedp.WaitVisible(`.notice.info`),
	))
	if row := text(`#setting-allow_email_change`); !strings.Contains(row, "Off") || !strings.Contains(row, "Overridden here") {
		t.Errorf("setting row = %q", row)
	}
	browsertest.Screenshot(t, ctx, "admin-login-configuration")
	// The Admin Login reaches nothing outside the customer.
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/tenants"), chromedp.WaitVisible(`h1`)))
	if body := text(`main`); strings.Contains(body, "Brightwave IT") {
		t.Errorf("the tenant tree under Admin Login shows the MSP: %q", body)
	}
	must(chromedp.Do(ctx, chromedp.Click(`.acting button`), chromedp.WaitNotPresent(`.acting`)))

	// The change log shows both identities; the CSV export parses.
	must(chromedp.Do(ctx, chromedp.Navigate(customerURL+"/changes"), chromedp.WaitVisible(`table.changelog`)))
	log := text(`table.changelog`)
	for _, want := range []string{"Admin Login started", "Admin Login ended", "Update settings", "as Globex Corporation administrator (Admin Login)", "Change customer status", "Create customer"} {
		if !strings.Contains(log, want) {
			t.Errorf("change log lacks %q:\n%s", want, log)
		}
	}
	browsertest.Screenshot(t, ctx, "customer-changes")
	exported, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("#export-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	must(err)
	records, err := csv.NewReader(strings.NewReader(exported)).ReadAll()
	must(err)
	if len(records) < 6 || records[0][0] != "id" || records[0][2] != "action" {
		t.Fatalf("export = %d records, header %v", len(records), records[0])
	}
	var actingRows int
	for _, rec := range records[1:] {
		if rec[6] == "Demo Administrator" && rec[7] == "Globex Corporation administrator (Admin Login)" {
			actingRows++
		}
	}
	if actingRows < 2 {
		t.Errorf("export rows carrying both identities = %d; want the setting change and the end at least", actingRows)
	}

	// Filtering by two actions keeps only those.
	must(chromedp.Do(ctx,
		chromedp.Click(`input[value="admin_login_start"]`),
		chromedp.Click(`input[value="admin_login_end"]`),
		chromedp.Click(`.changes-filter button[type=submit]`),
	))
	// The filtered page's export link carries the filter.
	must(chromedp.Do(ctx, chromedp.WaitVisible(`a#export-csv[href*="action=admin_login_end"]`), chromedp.WaitVisible(`table.changelog`)))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.changelog tbody tr").length`))
	must(err)
	if rows != 2 {
		t.Errorf("rows for Admin Login started + ended = %d; want 2", rows)
	}
	browsertest.Screenshot(t, ctx, "customer-changes-filtered")

	// The Users tab: a pasted list, a result per address, the pending list.
	must(chromedp.Do(ctx,
		chromedp.Navigate(customerURL+"/users"),
		chromedp.WaitVisible(`#addresses`),
		chromedp.SendKeys(`#addresses`, "ann@globex.example, throw@mailinator.com\nann@globex.example"),
		chromedp.Click(`form[action$="/invitations"] button[type=submit]`),
		chromedp.WaitVisible(`table.invite-results`),
	))
	if got := text(`table.invite-results`); !strings.Contains(got, "Invited") || !strings.Contains(got, "disposable address") || !strings.Contains(got, "Listed twice") {
		t.Errorf("invite results = %q", got)
	}
	if got := text(`table.pending`); !strings.Contains(got, "ann@globex.example") {
		t.Errorf("pending = %q", got)
	}
	browsertest.Screenshot(t, ctx, "customer-users-invited")
	must(chromedp.Do(ctx, chromedp.SendKeys(`#group-name`, "Finance"), chromedp.Click(`form[action$="/groups"] button`), chromedp.WaitVisible(`table.groups`),
		chromedp.Click(`table.groups details.menu summary`), chromedp.WaitVisible(`table.groups .menu-items`)))
	browsertest.Screenshot(t, ctx, "customer-groups")

	// At phone width the list keeps its columns reachable and its buttons usable.
	must(chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(r.baseURL+"/customers"), chromedp.WaitVisible(`table.customers`)))
	browsertest.Screenshot(t, ctx, "phone-customers")
	must(chromedp.Do(ctx, chromedp.Navigate(customerURL+"/configuration"), chromedp.WaitVisible(`#portal-url`)))
	browsertest.Screenshot(t, ctx, "phone-configuration")
}
