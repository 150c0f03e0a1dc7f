package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// customerState is what a neighbour's requests must leave unchanged.
func customerState(t *testing.T, w world, s *store.Store, v app.Viewer, c canopy.Org) string {
	t.Helper()
	ctx := context.Background()
	pending, err := w.app.PendingInvitations(ctx, v, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	active, deactivated, err := w.app.AccountUsers(ctx, v, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	endUserPage, err := w.app.EndUsers(ctx, v, c.ID, app.EndUserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	endUsers := endUserPage.Users
	groups, err := w.app.Groups(ctx, v, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := w.app.SubAccounts(ctx, v, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := s.Changes(ctx, canopy.ScopeOf(c), c.ID, canopy.ChangeFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{pending, active, deactivated, endUsers, groups, subs, len(changes)})
	return string(b)
}

var customerRoute = regexp.MustCompile(`mux\.Handle\("(GET|POST) (/customers/\{tenant\}[^"]*)"`)

// Every page and API route of a customer — users, permissions,
// invitations, end users, groups, sub-accounts, settings, change log —
// asked about customer B by customer A's admin or by MSP A's staff is 404
// (the API may refuse a body it cannot read first), with B's objects' IDs
// under B's URL and under A's; B is unchanged. The page routes are read
// from routes.go and the API's from its OpenAPI document, so a new route
// cannot be missed.
func TestEveryCustomerRouteIsClosedToNeighbours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		ctx := context.Background()
		sys := canopy.System("test")
		bAdmin, err := w.app.AddStaff(ctx, sys, canopy.ScopeOf(w.custB), app.NewStaff{OrgID: w.custB.ID, Name: "Bea", Email: "bea@beta.example", Roles: []canopy.Role{canopy.RoleCustomerAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		mspB := app.Viewer{PersonID: 9999, Org: w.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Actor: sys}
		if _, err := w.app.InviteUsers(ctx, mspB, w.custB.ID, app.InviteInput{Addresses: "bob@beta.example"}); err != nil {
			t.Fatal(err)
		}
		if err := w.app.AddEndUserBy(ctx, mspB, w.custB.ID, "eve@beta.example", "Eve", ""); err != nil {
			t.Fatal(err)
		}
		groupID, err := w.app.CreateGroup(ctx, mspB, w.custB.ID, "Finance")
		if err != nil {
			t.Fatal(err)
		}
		sub, err := w.app.CreateSubAccount(ctx, mspB, w.custB.ID, 0, "Beta North")
		if err != nil {
			t.Fatal(err)
		}
		pending, _ := w.app.PendingInvitations(ctx, mspB, w.custB.ID)
		endUserPage, _ := w.app.EndUsers(ctx, mspB, w.custB.ID, app.EndUserQuery{})
		endUsers := endUserPage.Users
		if len(pending) != 1 || len(endUsers) != 1 {
			t.Fatal("setting up Beta failed")
		}
		// {id} means a different object per route family.
		idFor := func(route string) string {
			switch {
			case strings.Contains(route, "/invitations/{id}"):
				return fmt.Sprint(pending[0].ID)
			case strings.Contains(route, "/end-users/{id}"):
				return fmt.Sprint(endUsers[0].ID)
			case strings.Contains(route, "/groups/{id}"):
				return fmt.Sprint(groupID)
			case strings.Contains(route, "/sub-accounts/{id}"):
				return fmt.Sprint(sub.ID)
			}
			return fmt.Sprint(bAdmin.ID)
		}
		fill := func(route, tenant string) string {
			route = strings.ReplaceAll(route, "{tenant}", tenant)
			route = strings.ReplaceAll(route, "{id}", idFor(route))
			return strings.NewReplacer("{token}", "x", "{action}", "upgrade", "{key}", string(canopy.SettingEnforceTwoStep)).Replace(route)
		}
		before := customerState(t, w, s, mspB, w.custB)

		src, err := os.ReadFile("routes.go")
		if err != nil {
			t.Fatal(err)
		}
		type route struct{ method, path string }
		var pages []route
		for _, m := range customerRoute.FindAllStringSubmatch(string(src), -1) {
			if strings.HasSuffix(m[2], "/") { // a loop over actions: below
				continue
			}
			pages = append(pages, route{m[1], m[2]})
		}
		for _, act := range []string{"deactivate", "reactivate", "remove"} {
			pages = append(pages, route{"POST", "/customers/{tenant}/users/{id}/" + act})
		}
		if len(pages) < 35 {
			t.Fatalf("only %d customer routes read from routes.go", len(pages))
		}
		_, _, doc := apiCall(t, w.srv.Client(), "GET", w.srv.URL+"/api/v1/openapi.json", "")
		var spec struct {
			Paths map[string]map[string]json.RawMessage
		}
		if err := json.Unmarshal([]byte(doc), &spec); err != nil {
			t.Fatal(err)
		}
		var apis []route
		for p, ops := range spec.Paths {
			if !strings.Contains(p, "/customers/{tenant}") {
				continue
			}
			for m := range ops {
				apis = append(apis, route{strings.ToUpper(m), p})
			}
		}
		sort.Slice(apis, func(i, j int) bool { return apis[i].path+apis[i].method < apis[j].path+apis[j].method })
		t.Logf("%d page routes, %d API operations", len(pages), len(apis))
		if len(apis) < 30 {
			t.Fatalf("only %d customer operations in the OpenAPI document", len(apis))
		}

		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		uma, err := w.app.AddStaff(ctx, sys, canopy.ScopeOf(w.custA), app.NewStaff{OrgID: w.custA.ID, Name: "Uma", Email: "uma@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		umaC := w.client(t, uma.ID, w.custA.ID)
		for name, c := range map[string]*http.Client{"customer A's admin": cora, "MSP A's admin": maya, "customer A's User": umaC} {
			for _, tenant := range []string{w.custB.TenantID, w.custA.TenantID} {
				if c == umaC && tenant == w.custA.TenantID {
					continue // her own customer's routes refuse her (403 in the API): TestCustomerUserSeesOnlyWhatIsGranted
				}
				for _, r := range pages {
					if tenant == w.custA.TenantID && !strings.Contains(r.path, "{id}") {
						continue // A's own routes without B's IDs are A's business
					}
					u := w.srv.URL + fill(r.path, tenant)
					var form url.Values
					if r.method == "POST" {
						form = url.Values{"name": {"x"}, "email": {"x@beta.example"}, "addresses": {"x@beta.example"}, "role": {"customer_admin"}, "confirm": {"Beta"}, "value": {"false"}}
					}
					if code, _, _ := send(t, c, r.method, u, form); code != 404 {
						t.Errorf("%s: %s %s = %d; want 404", name, r.method, u, code)
					}
				}
				for _, r := range apis {
					if tenant == w.custA.TenantID && !strings.Contains(r.path, "{id}") {
						continue
					}
					u := w.srv.URL + fill(r.path, tenant)
					body := ""
					if r.method != "GET" && r.method != "DELETE" {
						body = `{}`
					}
					code, _, resp := apiCall(t, c, r.method, u, body)
					if code == 422 && strings.Contains(resp, `"detail":"validation failed"`) {
						continue // the body's shape was refused before any handler ran: it depends on no tenant's data
					}
					if code != 404 && !(code == 415 && strings.Contains(r.path, "import")) {
						t.Errorf("%s: %s %s = %d; want 404: %s", name, r.method, u, code, resp)
					}
				}
			}
		}
		if after := customerState(t, w, s, mspB, w.custB); after != before {
			t.Errorf("Beta changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}
