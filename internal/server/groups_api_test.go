package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func postCSV(t *testing.T, c *http.Client, u, contentType, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// The JSON API of groups, end-user edits and the CSV import: field errors
// with their locations, nothing half-made; in the OpenAPI document; every
// new route on customer A's objects is 404 to MSP B's staff and customer
// B's admin, 403 or 404 to customer A's User, and B's group under A's
// URL is 404.
func TestAPIGroupsEndUserEditAndImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		a := w.srv.URL + "/api/v1/customers/" + w.custA.TenantID

		// CSV import: a report per line.
		code, _, body := postCSV(t, maya, a+"/end-users/import", "text/csv; charset=utf-8", "email,first,last\neve@alpha.example,Eve,Lee\nian@alpha.example,Ian\nnot-an-address\nout@else.example\n")
		var imp struct {
			Imported int
			Rows     []struct {
				Line     int
				Email    string
				Imported bool
				Reason   string
			}
		}
		json.Unmarshal([]byte(body), &imp)
		if code != 200 || imp.Imported != 2 || len(imp.Rows) != 4 || !imp.Rows[0].Imported || imp.Rows[2].Imported || imp.Rows[2].Line != 3 ||
			!strings.Contains(imp.Rows[3].Reason, "Domain Lock") {
			t.Fatalf("import: %d %s", code, body)
		}
		if code, ctype, body := postCSV(t, maya, a+"/end-users/import", "text/csv", "email,first name,last name\n"); code != 422 || !strings.HasPrefix(ctype, "application/problem+json") ||
			!strings.Contains(body, `"location":"body"`) || !strings.Contains(body, "The file is empty") {
			t.Errorf("a header alone: %d %s", code, body)
		}
		if code, ctype, _ := postCSV(t, maya, a+"/end-users/import", "text/csv", ""); code != 400 || !strings.HasPrefix(ctype, "application/problem+json") {
			t.Errorf("no body: %d", code)
		}
		if code, _, _ := postCSV(t, maya, a+"/end-users/import", "application/json", `{"x":1}`); code != 415 {
			t.Errorf("JSON to the import: %d; want 415", code)
		}
		eve, _ := s.EndUserByEmail(ctx, w.custA.ID, "eve@alpha.example")
		ian, _ := s.EndUserByEmail(ctx, w.custA.ID, "ian@alpha.example")
		eu := fmt.Sprintf("%s/end-users/%d", a, eve.ID)

		// PATCH an end user: left-out fields stay.
		code, _, body = apiCall(t, maya, "PATCH", eu, `{"first_name":"Evelyn"}`)
		if code != 200 || !strings.Contains(body, `"first_name":"Evelyn"`) || !strings.Contains(body, `"last_name":"Lee"`) || !strings.Contains(body, `"email":"eve@alpha.example"`) {
			t.Errorf("patch: %d %s", code, body)
		}
		for _, c := range []struct{ body, want string }{
			{`{"email":"ian@alpha.example","last_name":"X"}`, "already an end user"},
			{`{"email":"eve@else.example"}`, "Domain Lock"},
			{`{"email":"eve"}`, "Enter an email address"},
		} {
			code, ctype, body := apiCall(t, maya, "PATCH", eu, c.body)
			if code != 422 || !strings.HasPrefix(ctype, "application/problem+json") || !strings.Contains(body, `"location":"body.email"`) || !strings.Contains(body, c.want) {
				t.Errorf("patch %s: %d %s", c.body, code, body)
			}
		}
		if got, _ := s.EndUserByEmail(ctx, w.custA.ID, "eve@alpha.example"); got.LastName != "Lee" || got.FirstName != "Evelyn" {
			t.Errorf("after refused patches: %+v", got)
		}

		// Groups.
		code, _, body = apiCall(t, maya, "POST", a+"/groups", `{"name":"Finance"}`)
		var g struct {
			ID       int64
			Name     string
			Members  int
			Managers []struct{ ID int64 }
		}
		json.Unmarshal([]byte(body), &g)
		if code != 201 || g.ID == 0 || g.Name != "Finance" || g.Managers == nil {
			t.Fatalf("create group: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", a+"/groups", `{"name":" Finance "}`); code != 422 || !strings.Contains(body, `"location":"body.name"`) {
			t.Errorf("the same name: %d %s", code, body)
		}
		gu := fmt.Sprintf("%s/groups/%d", a, g.ID)
		if code, _, body := apiCall(t, maya, "POST", gu+"/members", `{"emails":["eve@alpha.example","nobody@alpha.example"]}`); code != 422 || !strings.Contains(body, `"location":"body.emails"`) {
			t.Errorf("a stranger as member: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", gu+"/members", `{"emails":["eve@alpha.example","IAN@alpha.example"]}`); code != 204 {
			t.Errorf("add members: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "PUT", gu+"/managers", fmt.Sprintf(`{"managers":[%d]}`, w.staffCus.ID)); code != 204 {
			t.Errorf("set managers: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", gu, ""); code != 200 || !strings.Contains(body, `"members":2`) || !strings.Contains(body, `"email":"cora@alpha.example"`) {
			t.Errorf("get group: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", gu+"/members", ""); code != 200 || !strings.Contains(body, "eve@alpha.example") || !strings.Contains(body, "ian@alpha.example") {
			t.Errorf("members: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", a+"/groups", ""); code != 200 || !strings.Contains(body, `"name":"Finance"`) {
			t.Errorf("list groups: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", gu+"/members/remove", fmt.Sprintf(`{"end_user_ids":[%d,999999]}`, eve.ID)); code != 422 || !strings.Contains(body, `"location":"body.end_user_ids"`) {
			t.Errorf("remove a non-member: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "POST", gu+"/members/remove", fmt.Sprintf(`{"end_user_ids":[%d]}`, eve.ID)); code != 204 {
			t.Errorf("remove: %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", gu+"/members", ""); code != 200 || strings.Contains(body, "eve@alpha.example") || !strings.Contains(body, "ian@alpha.example") {
			t.Errorf("members after removal: %d %s", code, body)
		}

		// The OpenAPI document lists the new operations.
		_, _, doc := apiCall(t, w.srv.Client(), "GET", w.srv.URL+"/api/v1/openapi.json", "")
		for _, op := range []string{"list-groups", "create-group", "get-group", "get-group-members", "add-group-members", "remove-group-members",
			"set-group-managers", "delete-group", "update-end-user", "import-end-users", `"text/csv"`} {
			if !strings.Contains(doc, op) {
				t.Errorf("the OpenAPI document lacks %s", op)
			}
		}

		// Outsiders, and B's group under A's URL.
		o := w.outsiders(t)
		bGroup, err := w.app.CreateGroup(ctx, app.Viewer{Org: w.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}, w.custB.ID, "Beta team")
		if err != nil {
			t.Fatal(err)
		}
		routes := func(groupURL string) []struct{ method, u, body string } {
			return []struct{ method, u, body string }{
				{"GET", a + "/groups", ""}, {"POST", a + "/groups", `{"name":"X"}`}, {"GET", groupURL, ""}, {"GET", groupURL + "/members", ""},
				{"POST", groupURL + "/members", `{"emails":["eve@alpha.example"]}`}, {"POST", groupURL + "/members/remove", fmt.Sprintf(`{"end_user_ids":[%d]}`, ian.ID)},
				{"PUT", groupURL + "/managers", `{"managers":[]}`}, {"DELETE", groupURL, ""},
				{"PATCH", eu, `{"first_name":"X"}`}, {"POST", a + "/end-users/import", "zed@alpha.example\n"},
			}
		}
		call := func(c *http.Client, method, u, body string) (int, string) {
			if strings.HasSuffix(u, "/import") {
				code, _, b := postCSV(t, c, u, "text/csv", body)
				return code, b
			}
			code, _, b := apiCall(t, c, method, u, body)
			return code, b
		}
		for _, who := range []struct {
			name   string
			client *http.Client
			ok     map[int]bool
		}{
			{"MSP B", o.mspB, map[int]bool{404: true}}, {"customer B's admin", o.adminB, map[int]bool{404: true}},
			{"customer A's User", o.userA, map[int]bool{403: true, 404: true}},
		} {
			for _, r := range routes(gu) {
				if code, body := call(who.client, r.method, r.u, r.body); !who.ok[code] {
					t.Errorf("%s: %s %s = %d %s", who.name, r.method, strings.TrimPrefix(r.u, w.srv.URL), code, body)
				}
			}
		}
		bUnderA := fmt.Sprintf("%s/groups/%d", a, bGroup)
		for _, r := range routes(bUnderA)[2:8] {
			if code, body := call(maya, r.method, r.u, r.body); code != 404 {
				t.Errorf("B's group under A: %s %s = %d %s", r.method, strings.TrimPrefix(r.u, w.srv.URL), code, body)
			}
		}
		b := w.srv.URL + "/api/v1/customers/" + w.custB.TenantID
		for _, r := range []struct{ method, u, body string }{
			{"GET", fmt.Sprintf("%s/groups/%d", b, g.ID), ""}, {"DELETE", fmt.Sprintf("%s/groups/%d", b, g.ID), ""},
			{"PATCH", fmt.Sprintf("%s/end-users/%d", b, eve.ID), `{"first_name":"X"}`}, {"POST", b + "/end-users/import", "bob@beta.example\n"},
		} {
			if code, body := call(maya, r.method, r.u, r.body); code != 404 {
				t.Errorf("MSP A on customer B: %s %s = %d %s", r.method, strings.TrimPrefix(r.u, w.srv.URL), code, body)
			}
		}
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if gr, _, err := w.app.Group(ctx, msp, w.custA.ID, g.ID, ""); err != nil || gr.Members != 1 || len(gr.Managers) != 1 {
			t.Errorf("A's group after the outsiders: %+v, %v", gr, err)
		}
		if got, _ := s.EndUserByEmail(ctx, w.custA.ID, "eve@alpha.example"); got.FirstName != "Evelyn" {
			t.Errorf("A's end user after the outsiders: %+v", got)
		}
		if _, err := s.EndUserByEmail(ctx, w.custA.ID, "zed@alpha.example"); err == nil {
			t.Error("an outsider's import added an end user")
		}

		// Delete.
		if code, _, body := apiCall(t, maya, "DELETE", gu, ""); code != 204 {
			t.Errorf("delete: %d %s", code, body)
		}
		if code, _, _ := apiCall(t, maya, "GET", gu, ""); code != 404 {
			t.Errorf("the deleted group: %d", code)
		}
	})
}
