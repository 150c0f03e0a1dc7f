package main

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/canopy-channel/canopy/internal/browsertest"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// An MSP edits an end user from the row's Edit link (a bad address is
// refused beside its field; the save returns to the row), creates a group,
// opens its page, adds two end users, removes one — the Remove button asks
// first, and dismissing it removes nothing — and deletes the group after
// confirming.
func TestBrowserEditEndUserAndGroupPage(t *testing.T) {
	t.Parallel()
	r := startServe(t, map[string]string{"CANOPY_DATA_DIR": t.TempDir()})
	ctx := browsertest.New(t, 1280, 900)
	must, text := browsertest.Helpers(t, ctx)
	var accept atomic.Bool
	var asked atomic.Int32
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			asked.Add(1)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept.Load()})
		}
	}()
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		must(err)
		return s
	}
	rows := func(table string) string {
		return eval(`String(document.querySelectorAll("table.` + table + ` tbody tr").length)`)
	}
	must(chromedp.Do(ctx, chromedp.Navigate(r.signinURL), chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`.stat`),
		chromedp.Navigate(r.baseURL+"/customers"), chromedp.Click(`//td/a[text()="Northwind Traders"]`, chromedp.NodeVisible),
		chromedp.Click(`//nav[@class="tabs"]/a[text()="Users"]`, chromedp.NodeVisible), chromedp.WaitVisible(`table.end-users`)))
	first := eval(`document.querySelector("table.end-users tbody tr:nth-child(1) td").textContent`)
	second := eval(`document.querySelector("table.end-users tbody tr:nth-child(2) td").textContent`)
	rowID := eval(`document.querySelector("table.end-users tbody tr:nth-child(1)").id`)

	must(chromedp.Do(ctx, chromedp.Click(`table.end-users tbody tr:nth-child(1) a[aria-label^="Edit"]`), chromedp.WaitVisible(`#eu-edit-email`),
		chromedp.SetValue(`#eu-edit-email`, "not an address"), chromedp.Click(`form.end-user-edit button[type=submit]`), chromedp.WaitVisible(`#eu-edit-email-error`)))
	if msg := text(`#eu-edit-email-error`); !strings.Contains(msg, "Enter an email address") {
		t.Errorf("the email field's error = %q", msg)
	}
	browsertest.Screenshot(t, ctx, "end-user-edit-error")
	must(chromedp.Do(ctx, chromedp.SetValue(`#eu-edit-email`, first), chromedp.SetValue(`#eu-edit-first`, "Olive"),
		chromedp.Click(`form.end-user-edit button[type=submit]`), chromedp.WaitVisible(`//div[text()="End user saved."]`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must(err)
	if !strings.HasSuffix(loc, "#"+rowID) {
		t.Errorf("after the save: %s; want the row %s", loc, rowID)
	}
	if row := text("#" + rowID); !strings.Contains(row, "Olive") {
		t.Errorf("the row after the save = %q", row)
	}

	must(chromedp.Do(ctx, chromedp.SetValue(`#group-name`, "Finance"), chromedp.Click(`//button[text()="Create group"]`),
		chromedp.WaitVisible(`//div[text()="Group saved."]`), chromedp.Click(`//table[@class="groups"]//a[text()="Finance"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`#members-add`), chromedp.SetValue(`#members-add`, first+"\n"+second), chromedp.Click(`//button[text()="Add to group"]`),
		chromedp.WaitVisible(`table.group-members`)))
	if n := rows("group-members"); n != "2" {
		t.Fatalf("members after adding two = %s", n)
	}
	browsertest.Screenshot(t, ctx, "group-page")
	accept.Store(false)
	must(chromedp.Do(ctx, chromedp.Click(`table.group-members tbody tr:nth-child(1) button[name=only]`)))
	if n := rows("group-members"); asked.Load() != 1 || n != "2" {
		t.Errorf("after dismissing Remove: %d questions, %s members", asked.Load(), n)
	}
	accept.Store(true)
	must(chromedp.Do(ctx, chromedp.Click(`table.group-members tbody tr:nth-child(1) button[name=only]`),
		chromedp.WaitVisible(`//div[starts-with(text(),"Removed from the group")]`)))
	if n := rows("group-members"); n != "1" {
		t.Errorf("members after Remove = %s", n)
	}
	must(chromedp.Do(ctx, chromedp.Click(`//button[text()="Delete group"]`), chromedp.WaitVisible(`//div[starts-with(text(),"Group deleted")]`)))
	if asked.Load() != 3 {
		t.Errorf("questions asked = %d; want 3", asked.Load())
	}
	if strings.Contains(text(`main`), "Finance") {
		t.Error("the Users tab still lists Finance")
	}
}
