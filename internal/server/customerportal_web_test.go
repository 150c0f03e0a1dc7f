package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// navOf returns the main navigation's link targets of a page.
func navOf(body string) []string {
	nav := between(body, `<nav aria-label="Main">`, `</nav>`)
	var out []string
	for _, part := range strings.Split(nav, `href="`)[1:] {
		out = append(out, part[:strings.Index(part, `"`)])
	}
	return out
}

// A customer User sees only the modules granted (and available to the
// customer) and only the sub-accounts granted; Admin-only pages (User
// Management, Configuration, Change log, Pricing, Payment) are absent from
// the navigation and refused by URL. Permissions are edited by an Admin,
// logged, and a neighbour's staff and admins get 404 on them.
func TestCustomerUserSeesOnlyWhatIsGranted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		sys, all := canopy.System("test"), canopy.ScopeOf(w.custA)
		uma, err := w.app.AddStaff(ctx, sys, all, app.NewStaff{OrgID: w.custA.ID, Name: "Uma", Email: "uma@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		coraV := app.Viewer{PersonID: w.staffCus.ID, Org: w.custA, Roles: []canopy.Role{canopy.RoleCustomerAdmin},
			Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: w.staffCus.ID, Name: "Cora"}}
		north, err := w.app.CreateSubAccount(ctx, coraV, w.custA.ID, 0, "North")
		if err != nil {
			t.Fatal(err)
		}
		north2, err := w.app.CreateSubAccount(ctx, coraV, w.custA.ID, north.ID, "North depot")
		if err != nil {
			t.Fatal(err)
		}
		south, err := w.app.CreateSubAccount(ctx, coraV, w.custA.ID, 0, "South")
		if err != nil {
			t.Fatal(err)
		}
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		base := w.srv.URL + "/customers/" + w.custA.TenantID

		// Cora grants Uma training and reports (reports is not one of
		// Alpha's modules by default) and the North sub-account.
		permURL := fmt.Sprintf("%s/users/%d/permissions", base, uma.ID)
		if code, _, body := send(t, cora, "GET", permURL, nil); code != 200 || !strings.Contains(body, "Permissions of Uma") {
			t.Fatalf("permissions page: %d", code)
		}
		if code, _, body := send(t, cora, "POST", permURL, url.Values{"role": {"customer_user"}, "modules": {"payment"}}); code != 422 || !strings.Contains(body, "for Admins only") {
			t.Errorf("granting Payment to a User: %d", code)
		}
		if code, _, body := send(t, cora, "POST", permURL, url.Values{"role": {"customer_user"}, "sub_accounts": {fmt.Sprint(w.custB.ID)}}); code != 422 || !strings.Contains(body, "Choose sub-accounts of Alpha") {
			t.Errorf("granting another customer as a sub-account: %d", code)
		}
		code, loc, _ := send(t, cora, "POST", permURL, url.Values{"role": {"customer_user"}, "modules": {"training", "phishing"}, "sub_accounts": {fmt.Sprint(north.ID)}})
		if code != 303 || !strings.Contains(loc, "done=permissions") {
			t.Fatalf("saving permissions: %d %s", code, loc)
		}
		if code, _, body := send(t, cora, "GET", base+"/users", nil); code != 200 || !strings.Contains(between(body, "Uma", "</tr>"), "Security awareness training, Phishing simulations") {
			t.Errorf("the Users tab shows Uma's modules: %d", code)
		}
		entries, err := s.Changes(ctx, canopy.ScopeOf(w.custA), w.custA.ID, canopy.ChangeFilter{ActorID: w.staffCus.ID, Actions: []canopy.Action{canopy.ActionGrantRole}})
		if err != nil || len(entries) != 1 || !strings.Contains(string(entries[0].After), "North") || entries[0].TargetName != "uma@alpha.example" {
			t.Errorf("grant_role entries = %+v, %v", entries, err)
		}
		if code, _, body := send(t, cora, "POST", fmt.Sprintf("%s/users/%d/permissions", base, w.staffCus.ID), url.Values{"role": {"customer_user"}}); code != 422 || !strings.Contains(body, "your own permissions") {
			t.Errorf("Cora demoting herself: %d", code)
		}

		// Alpha's modules are training, phishing, policies, reports; Uma
		// has training and phishing.
		umaC := w.client(t, uma.ID, w.custA.ID)
		code, body := fetch(t, umaC, w.srv.URL+"/")
		nav := strings.Join(navOf(body), " ")
		if code != 200 || !strings.Contains(nav, "/modules/training") || !strings.Contains(nav, "/modules/phishing") {
			t.Errorf("Uma's navigation %q (%d)", nav, code)
		}
		for _, absent := range []string{"/modules/policies", "/modules/reports", "/users", "/configuration", "/changes", "/pricing", "/payment", "/customers\"", "/settings", "/prospects", "/invoices"} {
			if strings.Contains(nav+" ", absent+" ") || strings.Contains(nav, absent+"/") || absent == "/customers\"" && strings.Contains(body, `href="/customers"`) {
				t.Errorf("Uma's navigation %q has %s", nav, absent)
			}
		}
		// Pages refuse what is not theirs as not found (the web never
		// tells forbidden from missing; the API answers 403 in one's own
		// account).
		refused := []string{"/modules/policies", "/modules/dark_web", "/modules/nonsense", "/pricing", "/payment",
			"/customers", "/prospects", "/settings", "/tenants/" + south.TenantID}
		for _, tab := range []string{"", "/users", "/configuration", "/changes", "/changes/export", "/edit", "/admin-login"} {
			refused = append(refused, "/customers/"+w.custA.TenantID+tab)
		}
		for _, p := range refused {
			if code, _ := fetch(t, umaC, w.srv.URL+p); code != 404 {
				t.Errorf("Uma GET %s = %d; want 404", p, code)
			}
		}
		for _, p := range []string{"/modules/training", "/modules/phishing", "/tenants/" + north.TenantID, "/tenants/" + north2.TenantID, "/account"} {
			if code, _ := fetch(t, umaC, w.srv.URL+p); code != 200 {
				t.Errorf("Uma GET %s = %d; want 200", p, code)
			}
		}
		if code, _, _ := send(t, umaC, "POST", base+"/invitations", url.Values{"addresses": {"x@alpha.example"}}); code != 404 {
			t.Errorf("Uma inviting: %d", code)
		}
		// Her account page lists North, not South.
		code, body = fetch(t, umaC, w.srv.URL+"/tenants/"+w.custA.TenantID)
		if code != 200 || !strings.Contains(body, "North") || strings.Contains(body, "South") {
			t.Errorf("Uma's account page (%d) lists the wrong sub-accounts: %s", code, between(body, "<main", "</main>"))
		}

		// A User granted no sub-accounts reaches the whole account.
		ned, err := w.app.AddStaff(ctx, sys, all, app.NewStaff{OrgID: w.custA.ID, Name: "Ned", Email: "ned@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		nedC := w.client(t, ned.ID, w.custA.ID)
		for _, sa := range []canopy.Org{north, north2, south} {
			if code, _ := fetch(t, nedC, w.srv.URL+"/tenants/"+sa.TenantID); code != 200 {
				t.Errorf("Ned (no sub-accounts chosen) GET %s = %d", sa.Name, code)
			}
		}
		if _, body := fetch(t, nedC, w.srv.URL+"/"); strings.Contains(body, "/modules/") {
			t.Error("Ned, granted no modules, has modules in his navigation")
		}

		// The change takes effect at her next page: Admin now.
		if code, _, _ := send(t, cora, "POST", permURL, url.Values{"role": {"customer_admin"}}); code != 303 {
			t.Fatalf("making Uma an Admin: %d", code)
		}
		for _, p := range []string{"/pricing", "/modules/policies", "/customers/" + w.custA.TenantID + "/users", "/tenants/" + south.TenantID} {
			if code, _ := fetch(t, umaC, w.srv.URL+p); code != 200 {
				t.Errorf("Uma as Admin GET %s = %d", p, code)
			}
		}
		if entries, _ := s.Changes(ctx, canopy.ScopeOf(w.custA), w.custA.ID, canopy.ChangeFilter{ActorID: w.staffCus.ID, Actions: []canopy.Action{canopy.ActionGrantRole, canopy.ActionRevokeRole}}); len(entries) != 2 {
			t.Errorf("Cora's permission entries = %d; want 2", len(entries))
		}

		// Partner staff keep the partner navigation; Pricing is not theirs.
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		if code, body := fetch(t, maya, w.srv.URL+"/"); code != 200 || !strings.Contains(strings.Join(navOf(body), " "), "/customers") {
			t.Errorf("Maya's navigation: %d %v", code, navOf(body))
		}
		if code, _ := fetch(t, maya, w.srv.URL+"/pricing"); code != 404 {
			t.Errorf("Maya GET /pricing = %d", code)
		}
		// Maya (above Alpha) may edit Uma's permissions; MSP B's staff and
		// Beta's admin get 404, and nothing changes.
		if code, _ := fetch(t, maya, permURL); code != 200 {
			t.Errorf("Maya opening Uma's permissions: %d", code)
		}
		bStaff, err := w.app.AddStaff(ctx, sys, canopy.ScopeOf(w.mspB), app.NewStaff{OrgID: w.mspB.ID, Name: "Bo", Email: "bo@b.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		bAdmin, err := w.app.AddStaff(ctx, sys, canopy.ScopeOf(w.custB), app.NewStaff{OrgID: w.custB.ID, Name: "Bea", Email: "bea@beta.example", Roles: []canopy.Role{canopy.RoleCustomerAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]canopy.OrgID{"MSP B": w.mspB.ID, "Beta's admin": w.custB.ID} {
			person := bStaff.ID
			if c == w.custB.ID {
				person = bAdmin.ID
			}
			nb := w.client(t, person, c)
			if code, _ := fetch(t, nb, permURL); code != 404 {
				t.Errorf("%s GET Uma's permissions = %d", name, code)
			}
			if code, _, _ := send(t, nb, "POST", permURL, url.Values{"role": {"customer_user"}}); code != 404 {
				t.Errorf("%s POST Uma's permissions = %d", name, code)
			}
			// Beta's own URL with Alpha's person: not found either.
			if code, _ := fetch(t, nb, fmt.Sprintf("%s/customers/%s/users/%d/permissions", w.srv.URL, w.custB.TenantID, uma.ID)); code != 404 {
				t.Errorf("%s GET Uma under Beta's URL = %d", name, code)
			}
			if code, _ := fetch(t, nb, w.srv.URL+"/tenants/"+north.TenantID); code != 404 {
				t.Errorf("%s GET Alpha's sub-account = %d", name, code)
			}
		}
		if u, err := w.app.AccountUser(ctx, coraV, w.custA.ID, uma.ID); err != nil || u.Role != canopy.RoleCustomerAdmin {
			t.Errorf("Uma after the neighbours' attempts: %+v, %v", u, err)
		}
	})
}
