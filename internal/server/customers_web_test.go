package server_test

import (
	"context"
	"fmt"
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

// The Settings page: an MSP's default reaches its customers' Configuration
// as inherited; a distributor's lock shows there as locked and refuses the
// toggle; a distributor-managed lifecycle hides Delete customer from the
// MSP and refuses it by URL.
func TestSettingsPagesDefaultsLocksAndLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		distID := w.mspA.ParentID
		ids := canopy.PathIDs(w.mspA.Path) // platform, distributor, MSP
		platform := canopy.Scope{Root: ids[0], Path: fmt.Sprintf("/%d/", ids[0])}
		grace, err := w.app.AddStaff(ctx, canopy.System("test"), platform, app.NewStaff{OrgID: distID, Name: "Grace", Email: "grace@dist.example", Roles: []canopy.Role{canopy.RoleDistributorAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID

		// MSP default: Remove inactive users from reports off for all customers.
		if code, _, _ := send(t, maya, "POST", w.srv.URL+"/settings/defaults", url.Values{"key": {"reports_remove_inactive"}, "value": {"false"}}); code != 303 {
			t.Fatalf("set default: %d", code)
		}
		if code, _, body := send(t, maya, "POST", w.srv.URL+"/settings/defaults", url.Values{"key": {"trial_days"}, "value": {"0"}}); code != 422 || !strings.Contains(body, "Enter a number from 1 to 365") {
			t.Errorf("trial length 0: %d", code)
		}
		// The Create form starts from the MSP's defaults.
		send(t, maya, "POST", w.srv.URL+"/settings/defaults", url.Values{"key": {"domain_lock"}, "value": {"false"}})
		send(t, maya, "POST", w.srv.URL+"/settings/defaults", url.Values{"key": {"trial_days"}, "value": {"30"}})
		_, _, body := send(t, maya, "GET", w.srv.URL+"/customers/new", nil)
		if !strings.Contains(body, "free trial</strong> of 30 days") || !strings.Contains(body, `name="domain_lock" value="on">`) {
			t.Errorf("the Create form ignores the MSP's defaults (30-day trial, Domain Lock off)")
		}
		send(t, maya, "POST", w.srv.URL+"/settings/defaults", url.Values{"key": {"domain_lock"}, "reset": {"1"}})
		if _, _, body := send(t, maya, "GET", w.srv.URL+"/customers/new", nil); !strings.Contains(body, `name="domain_lock" value="on" checked>`) {
			t.Errorf("after reset, Domain Lock is not on in the Create form")
		}
		_, _, body = send(t, cora, "GET", a+"/configuration", nil)
		row := between(body, `id="setting-reports_remove_inactive"`, "</tr>")
		if !strings.Contains(row, "Off") || !strings.Contains(row, "Inherited from MSP A") {
			t.Errorf("customer's row after the MSP default: %q", row)
		}
		// The customer overrides, then resets to inherited.
		send(t, cora, "POST", a+"/settings", url.Values{"key": {"reports_remove_inactive"}, "value": {"true"}})
		_, _, body = send(t, cora, "GET", a+"/configuration", nil)
		if row := between(body, `id="setting-reports_remove_inactive"`, "</tr>"); !strings.Contains(row, "Overridden here") || !strings.Contains(row, "Reset to inherited") {
			t.Errorf("after override: %q", row)
		}
		send(t, cora, "POST", a+"/settings", url.Values{"key": {"reports_remove_inactive"}, "reset": {"1"}})
		_, _, body = send(t, cora, "GET", a+"/configuration", nil)
		if row := between(body, `id="setting-reports_remove_inactive"`, "</tr>"); !strings.Contains(row, "Inherited from MSP A") {
			t.Errorf("after reset: %q", row)
		}

		// The distributor locks Domain Lock on; the customer sees it locked and cannot change it.
		gc := w.client(t, grace.ID, distID)
		if code, _, _ := send(t, gc, "POST", w.srv.URL+"/settings/locks", url.Values{"key": {"domain_lock"}, "value": {"true"}}); code != 303 {
			t.Fatalf("lock: %d", code)
		}
		_, _, body = send(t, cora, "GET", a+"/configuration", nil)
		if row := between(body, `id="setting-domain_lock"`, "</tr>"); !strings.Contains(row, "Locked by Dist") || strings.Contains(row, "Turn off") {
			t.Errorf("locked row: %q", row)
		}
		if code, _, body := send(t, cora, "POST", a+"/settings", url.Values{"key": {"domain_lock"}, "value": {"false"}}); code != 409 || !strings.Contains(body, "cannot be changed here") {
			t.Errorf("changing a locked setting: %d", code)
		}
		if code, _, _ := send(t, maya, "POST", w.srv.URL+"/settings/locks", url.Values{"key": {"domain_lock"}, "unlock": {"1"}}); code != 404 {
			t.Errorf("an MSP unlocking the distributor's lock: %d; want 404", code)
		}

		// Lifecycle managed by the distributor: no Delete for the MSP, and the URL refuses.
		if _, _, body := send(t, maya, "GET", w.srv.URL+"/customers", nil); !strings.Contains(body, "Delete customer") {
			t.Error("the MSP's list lacks Delete customer before the lifecycle moves")
		}
		if code, _, _ := send(t, gc, "POST", w.srv.URL+"/settings/lifecycle", url.Values{"msp": {w.mspA.TenantID}, "on": {"true"}}); code != 303 {
			t.Fatalf("lifecycle: %d", code)
		}
		if _, _, body := send(t, maya, "GET", w.srv.URL+"/customers", nil); strings.Contains(body, "Delete customer") {
			t.Error("the MSP's list still offers Delete customer")
		}
		if code, _, body := send(t, maya, "POST", a+"/delete", url.Values{"confirm": {"Alpha"}}); code != 403 || !strings.Contains(body, "managed by Dist") {
			t.Errorf("MSP deletes anyway: %d", code)
		}
		if code, loc, _ := send(t, gc, "POST", a+"/delete", url.Values{"confirm": {"Alpha"}}); code != 303 || loc != "/customers?done=deleted" {
			t.Errorf("distributor deletes: %d to %q", code, loc)
		}
	})
}

// between returns the part of s from the first from up to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
