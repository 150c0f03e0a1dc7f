package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// send makes a request with an optional form body and returns the status
// of the first response (redirects are not followed) and its body.
func send(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// Every customer page, form and export of MSP B's customer answers 404 to
// MSP A's staff and to customer A's admin, exactly like a customer that
// does not exist, and changes nothing. An Admin Login into customer A
// reaches customer A only.
func TestCustomerPagesCrossTenantAndAdminLoginBoundary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		b := "/customers/" + w.custB.TenantID
		a := "/customers/" + w.custA.TenantID
		forms := map[string]url.Values{
			"/edit":        {"name": {"Taken"}, "domain": {"beta.example"}, "plan": {"standard"}},
			"/settings":    {"key": {"domain_lock"}, "value": {"false"}},
			"/action":      {"action": {"upgrade"}},
			"/delete":      {"confirm": {"Beta"}},
			"/admin-login": {"reason": {"Looking around"}, "minutes": {"60"}},
		}
		for _, who := range []struct {
			name   string
			client *http.Client
		}{{"MSP A staff", maya}, {"customer A admin", cora}} {
			for _, p := range []string{"", "/edit", "/logo", "/configuration", "/users", "/changes", "/changes/export?format=csv",
				"/changes/export?format=jsonl", "/delete", "/admin-login"} {
				if code, _, body := send(t, who.client, "GET", w.srv.URL+b+p, nil); code != 404 || strings.Contains(body, "Beta") {
					t.Errorf("%s GET %s: %d (leaks name: %v); want 404", who.name, p, code, strings.Contains(body, "Beta"))
				}
			}
			for p, f := range forms {
				if code, _, _ := send(t, who.client, "POST", w.srv.URL+b+p, f); code != 404 {
					t.Errorf("%s POST %s: %d; want 404", who.name, p, code)
				}
			}
			for _, p := range []string{"/tenants/" + w.mspB.TenantID + "/changes", "/tenants/" + w.mspB.TenantID + "/changes/export"} {
				if code, _, _ := send(t, who.client, "GET", w.srv.URL+p, nil); code != 404 {
					t.Errorf("%s GET %s: %d; want 404", who.name, p, code)
				}
			}
		}
		// The same pages of MSP A's own customer open (the 404s above are not
		// a broken route); the logo alone is missing, as none was uploaded.
		for _, p := range []string{"", "/edit", "/configuration", "/users", "/changes", "/changes/export?format=csv",
			"/changes/export?format=jsonl", "/delete", "/admin-login"} {
			if code, _, _ := send(t, maya, "GET", w.srv.URL+a+p, nil); code != 200 {
				t.Errorf("MSP A staff GET own customer %s: %d; want 200", p, code)
			}
		}
		// Nothing about customer B changed.
		root := app.Viewer{Org: w.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		got, err := w.app.Customer(ctx, root, w.custB.TenantID)
		if err != nil || got.Status != canopy.StatusTrial || got.Name != "Beta" {
			t.Errorf("customer B after the attempts: %+v, %v", got.Org, err)
		}
		// MSP A's own customer opens; the list shows it and not B's.
		if code, _, body := send(t, maya, "GET", w.srv.URL+a, nil); code != 200 || !strings.Contains(body, "Alpha") {
			t.Errorf("MSP A opens its customer: %d", code)
		}
		if _, _, body := send(t, maya, "GET", w.srv.URL+"/customers", nil); !strings.Contains(body, "Alpha") || strings.Contains(body, "Beta") {
			t.Error("MSP A's customers list misses Alpha or shows Beta")
		}
		// A customer's admin is sent to their own account.
		if code, loc, _ := send(t, cora, "GET", w.srv.URL+"/customers", nil); code != 303 || loc != a {
			t.Errorf("customer admin's /customers: %d to %q; want 303 to %s", code, loc, a)
		}

		// Admin Login into customer A: that customer only.
		if code, loc, _ := send(t, maya, "POST", w.srv.URL+a+"/admin-login", url.Values{"reason": {"x"}}); code != 422 || loc != "" {
			t.Errorf("Admin Login without a real reason: %d; want 422", code)
		}
		if code, loc, _ := send(t, maya, "POST", w.srv.URL+a+"/admin-login", url.Values{"reason": {"Ticket 77: check the setup"}, "minutes": {"30"}}); code != 303 || loc != a {
			t.Fatalf("Admin Login: %d to %q", code, loc)
		}
		if code, _, body := send(t, maya, "GET", w.srv.URL+a, nil); code != 200 || !strings.Contains(body, "Acting in <strong>Alpha</strong> as <strong>Maya</strong>") {
			t.Errorf("under Admin Login the customer page: %d, banner present: %v", code, strings.Contains(body, "Acting in"))
		}
		for _, p := range []string{b, b + "/changes", "/tenants/" + w.mspA.TenantID, "/tenants/" + w.mspA.TenantID + "/changes", "/customers/new"} {
			if code, _, _ := send(t, maya, "GET", w.srv.URL+p, nil); code != 404 {
				t.Errorf("under Admin Login GET %s: %d; want 404", p, code)
			}
		}
		if code, loc, _ := send(t, maya, "GET", w.srv.URL+"/customers", nil); code != 303 || loc != a {
			t.Errorf("under Admin Login /customers: %d to %q", code, loc)
		}
		// A change under Admin Login carries both identities.
		if code, _, _ := send(t, maya, "POST", w.srv.URL+a+"/settings", url.Values{"key": {"domain_lock"}, "value": {"false"}}); code != 303 {
			t.Errorf("setting under Admin Login: %d", code)
		}
		if code, _, _ := send(t, maya, "POST", w.srv.URL+"/admin-login/end", url.Values{}); code != 303 {
			t.Errorf("ending Admin Login: %d", code)
		}
		if _, _, body := send(t, maya, "GET", w.srv.URL+"/customers", nil); strings.Contains(body, "Acting in") || !strings.Contains(body, "Alpha") {
			t.Error("after ending, the MSP view is not back")
		}
		entries, err := s.Changes(ctx, canopy.ScopeOf(w.custA), w.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionUpdateSettings, canopy.ActionAdminLoginStart, canopy.ActionAdminLoginEnd}})
		if err != nil || len(entries) != 3 {
			t.Fatalf("customer A's Admin Login entries: %d, %v", len(entries), err)
		}
		for _, e := range entries {
			if e.Actor.PersonID != w.staffA.ID {
				t.Errorf("%s by %q; want Maya", e.Action, e.Actor.Name)
			}
			if e.Action != canopy.ActionAdminLoginStart && e.Actor.OnBehalfOfName != "Alpha administrator (Admin Login)" {
				t.Errorf("%s on behalf of %q", e.Action, e.Actor.OnBehalfOfName)
			}
		}
	})
}
