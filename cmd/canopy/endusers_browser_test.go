package main

import (
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/chromedp/chromedp"
)

// Search as you type on a customer's end users: typing the start of an
// address narrows the list without a page load; ticking "anywhere" finds
// a piece from the middle of a name.
func TestBrowserEndUserSearch(t *testing.T) {
	t.Parallel()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
	ctx := browsertest.New(t, 1280, 900)
	must, text := browsertest.Helpers(t, ctx)
	must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`)))
	must(chromedp.Do(ctx, chromedp.Navigate(r.baseURL+"/customers?q=northwind"), chromedp.Click(`//td/a[text()="Northwind Traders"]`), chromedp.WaitVisible(`.tabs`)))
	page, err := chromedp.Run(ctx, chromedp.Location())
	must(err)
	page, _, _ = strings.Cut(page, "?")
	must(chromedp.Do(ctx, chromedp.Navigate(page+"/users"), chromedp.WaitVisible(`table.end-users`)))
	emails, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.end-users tbody tr td:first-child")].map(td => td.textContent)`))
	must(err)
	if len(emails) < 3 {
		t.Fatalf("Northwind's end users = %v; want several", emails)
	}
	// A user whose family name has five letters or more, and another.
	target, other := "", ""
	for _, e := range emails {
		_, family, _ := strings.Cut(strings.SplitN(e, "@", 2)[0], ".")
		if target == "" && len(family) >= 5 {
			target = e
		} else if other == "" {
			other = e
		}
	}
	if target == "" || other == "" {
		t.Fatalf("no user with a long family name among %v", emails)
	}
	// Mark the page: a full reload would lose the mark.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.searchMark = true`))
	must(err)
	must(chromedp.Do(ctx, chromedp.SendKeys(`#eu-q`, target[:len(target)-3]),
		chromedp.WaitNotPresent(`//table[contains(@class,"end-users")]//td[text()="`+other+`"]`)))
	if got := text(`table.end-users tbody`); !strings.Contains(got, target) {
		t.Errorf("after typing %q the list is %q", target[:len(target)-3], got)
	}
	if marked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.searchMark === true`)); err != nil || !marked {
		t.Errorf("the search reloaded the page (%v)", err)
	}
	browsertest.Screenshot(t, ctx, "end-users-search")
	// The middle of the name: nothing starts with it, so it is found anywhere.
	_, local, _ := strings.Cut(strings.SplitN(target, "@", 2)[0], ".")
	piece := local[1 : len(local)-1]
	_, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#eu-q").value = ""`))
	must(err)
	must(chromedp.Do(ctx, chromedp.SendKeys(`#eu-q`, piece),
		chromedp.WaitVisible(`//p[@role="status"][contains(., "contains")]`)))
	if got := text(`table.end-users tbody`); !strings.Contains(strings.ToLower(got), piece) {
		t.Errorf("contains %q: the list is %q", piece, got)
	}
}
