package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// My Details: name and phone; the email change is refused (and says by
// whom) while a customer forbids it, and otherwise confirmed by a link
// whose page spends nothing until Continue.
func TestMyDetailsPagesAndEmailChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		if code, _, _ := send(t, cora, "POST", w.srv.URL+"/account", url.Values{"name": {"Cora Diaz"}, "phone": {"+44 20 7946 0000"}}); code != 303 {
			t.Errorf("save details: %d", code)
		}
		if code, _, body := send(t, cora, "POST", w.srv.URL+"/account", url.Values{"name": {""}}); code != 422 || !strings.Contains(body, "Enter your name") {
			t.Errorf("empty name: %d", code)
		}
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := w.app.SetCustomerSetting(ctx, msp, w.custA.ID, canopy.SettingEmailChange, "false", false); err != nil {
			t.Fatal(err)
		}
		if _, body := fetch(t, cora, w.srv.URL+"/account"); !strings.Contains(body, "<strong>Alpha</strong> does not allow") || !strings.Contains(body, "Cora Diaz") {
			t.Error("My Details does not say which customer prevents the change")
		}
		if code, _, body := send(t, cora, "POST", w.srv.URL+"/account/email", url.Values{"email": {"cora@new.example"}}); code != 422 || !strings.Contains(body, "<strong>Alpha</strong> does not allow") {
			t.Errorf("change while forbidden: %d", code)
		}
		if err := w.app.SetCustomerSetting(ctx, msp, w.custA.ID, canopy.SettingEmailChange, "", true); err != nil {
			t.Fatal(err)
		}
		if code, loc, _ := send(t, cora, "POST", w.srv.URL+"/account/email", url.Values{"email": {"cora@new.example"}}); code != 303 || loc != "/account?done=email-sent" {
			t.Fatalf("change: %d %q", code, loc)
		}
		mails, _ := s.RecentMail(ctx, "cora@new.example", 0, 1)
		if len(mails) != 1 {
			t.Fatal("no confirmation mail")
		}
		_, after, _ := strings.Cut(mails[0].Text, "/account/email/")
		link := w.srv.URL + "/account/email/" + strings.Fields(after)[0]
		anon := &http.Client{}
		for i := 0; i < 2; i++ {
			if code, _, body := send(t, anon, "GET", link, nil); code != 200 || !strings.Contains(body, "Continue") {
				t.Fatalf("opening the link: %d", code)
			}
		}
		if code, _, body := send(t, anon, "POST", link, url.Values{}); code != 200 || !strings.Contains(body, "cora@new.example") {
			t.Errorf("Continue: %d", code)
		}
		if code, _, _ := send(t, anon, "POST", link, url.Values{}); code != 410 {
			t.Errorf("the link again: %d", code)
		}
		if _, err := s.PersonByEmail(ctx, "cora@new.example"); err != nil {
			t.Errorf("the new address: %v", err)
		}
	})
}
