package main

import (
	"strings"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/auth"

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

// The administrator creates a user; the registration mail appears in the
// Mailbox; the new user registers through its link, signs out and signs
// in with the new password. Bad input shows next to its field.
func TestBrowserCreateUserRegisterAndSignIn(t *testing.T) {
	t.Parallel()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
	ctx := browsertest.New(t, 1280, 900)
	must, text := browsertest.Helpers(t, ctx)
	must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`)))

	// A malformed address is refused next to its field, and what was typed stays.
	must(chromedp.Do(ctx,
		chromedp.Navigate(r.baseURL+"/users/new"),
		chromedp.SendKeys(`#name`, "Pat Lee"),
		chromedp.SendKeys(`#email`, "pat@"),
		chromedp.Click(`input[value="platform_admin"]`),
		chromedp.Click(`form[action="/users/new"] button[type=submit]`),
		chromedp.WaitVisible(`.field-error`),
	))
	if msg := text(`.field-error`); !strings.Contains(msg, "email address") {
		t.Errorf("field error = %q", msg)
	}
	browsertest.Screenshot(t, ctx, "user-new-error")
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#email`, "pat@canopy.example"),
		chromedp.Click(`form[action="/users/new"] button[type=submit]`),
		chromedp.WaitVisible(`.notice.info`),
	))
	if msg := text(`.notice.info`); !strings.Contains(msg, "registration email") {
		t.Errorf("notice = %q", msg)
	}

	// The registration mail is in the outbox; its link opens the registration page.
	must(chromedp.Do(ctx,
		chromedp.Navigate(r.baseURL+"/mailbox"),
		chromedp.Click(`//a[text()="Finish setting up your Canopy account"]`),
		chromedp.WaitVisible(`pre.mailbody a`),
	))
	browsertest.Screenshot(t, ctx, "mailbox-registration")
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("pre.mailbody a").href`))
	must(err)
	must(chromedp.Do(ctx, chromedp.Click(`form[action="/signout"] button`), chromedp.WaitVisible(`#email`)))

	must(chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "violet tractor under moonlight"),
		chromedp.SendKeys(`#confirm`, "violet tractor under sunlight"),
		chromedp.SetValue(`#security_question`, "What was the name of your first pet?"),
		chromedp.SendKeys(`#security_answer`, "Rex"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.field-error`),
	))
	if msg := text(`.field-error`); !strings.Contains(msg, "not the same") {
		t.Errorf("mismatch error = %q", msg)
	}
	browsertest.Screenshot(t, ctx, "register-error")
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#password`, "violet tractor under moonlight"),
		chromedp.SendKeys(`#confirm`, "violet tractor under moonlight"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.notice.info`),
	))
	if msg := text(`.notice.info`); !strings.Contains(msg, "account is ready") {
		t.Errorf("after registration: %q", msg)
	}

	// A wrong password: one generic message. The right one: the dashboard.
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#email`, "pat@canopy.example"),
		chromedp.SendKeys(`#password`, "not my password at all"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.notice.error`),
	))
	if msg := text(`.notice.error`); !strings.Contains(msg, "not right") {
		t.Errorf("wrong password message = %q", msg)
	}
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#password`, "violet tractor under moonlight"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.stat`),
	))
	if h := text(`h1`); !strings.Contains(h, "Welcome, Pat Lee") {
		t.Errorf("after sign-in: %q", h)
	}

	// Enrol TOTP: read the manual key, answer with the current code, get
	// ten recovery codes once.
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/account/two-step"), chromedp.WaitVisible(`#manual-key`)))
	browsertest.Screenshot(t, ctx, "two-step-enrol")
	secret := text(`#manual-key`)
	code, err := auth.TOTPCode(secret, time.Now())
	must(err)
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#code`, code),
		chromedp.Click(`form[action="/account/two-step"] button`),
		chromedp.WaitVisible(`ul.codes`),
	))
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("ul.codes li").length`))
	must(err)
	if codes != 10 {
		t.Errorf("recovery codes shown = %d; want 10", codes)
	}
	browsertest.Screenshot(t, ctx, "two-step-codes")

	// Sign out; the password now leads to the code step. The next step's
	// code is used: the enrolment code cannot be replayed.
	must(chromedp.Do(ctx, chromedp.Click(`form[action="/signout"] button`), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "pat@canopy.example"),
		chromedp.SendKeys(`#password`, "violet tractor under moonlight"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`form[action="/signin/code"]`),
		chromedp.SendKeys(`#code`, code),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.notice.error`),
	))
	if msg := text(`.notice.error`); !strings.Contains(msg, "used already") {
		t.Errorf("replayed code message = %q", msg)
	}
	next, err := auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	must(err)
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#code`, next),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.stat`),
	))
	if h := text(`h1`); !strings.Contains(h, "Welcome, Pat Lee") {
		t.Errorf("after two-step sign-in: %q", h)
	}

	// The staff list filters as you type, without a page load.
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/users"), chromedp.WaitVisible(`#results table`)))
	browsertest.Screenshot(t, ctx, "users")
	if rows := text(`#results tbody`); !strings.Contains(rows, "Demo Administrator") || !strings.Contains(rows, "Pat Lee") {
		t.Errorf("users list = %q", rows)
	}
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`#q`, "pat"),
		chromedp.WaitNotPresent(`//td/a[text()="Demo Administrator"]`),
	))
	if rows := text(`#results tbody`); !strings.Contains(rows, "Pat Lee") {
		t.Errorf("after typing 'pat': %q", rows)
	}
	if u, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(u, "q=pat") {
		t.Errorf("URL after search = %q, %v; want q=pat kept in it", u, err)
	}
	browsertest.Screenshot(t, ctx, "users-search")
}
