package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

type apiCustomer struct {
	TenantID      string   `json:"tenant_id"`
	Name          string   `json:"name"`
	Domain        string   `json:"domain"`
	ExtraDomains  []string `json:"extra_domains"`
	Status        string   `json:"status"`
	StatusLabel   string   `json:"status_label"`
	TrialEndsAt   *string  `json:"trial_ends_at"`
	TrialDaysLeft int      `json:"trial_days_left"`
	ActiveUsers   int      `json:"active_users"`
	MaxUsers      int      `json:"max_users"`
	Plan          string   `json:"plan"`
	DisplayName   string   `json:"display_name"`
	HasLogo       bool     `json:"has_logo"`
	Actions       []string `json:"actions"`
	MSP           struct {
		TenantID string `json:"tenant_id"`
		Name     string `json:"name"`
	} `json:"msp"`
}

type apiCustomerList struct {
	Items []apiCustomer `json:"items"`
	Next  *struct {
		AfterValue string `json:"after_value"`
		AfterID    int64  `json:"after_id"`
	} `json:"next"`
}

type apiChange struct {
	ID         int64           `json:"id"`
	Action     string          `json:"action"`
	Actor      string          `json:"actor"`
	ActorID    int64           `json:"actor_id"`
	OnBehalfOf string          `json:"on_behalf_of"`
	Target     string          `json:"target"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

type apiChanges struct {
	Items []apiChange `json:"items"`
	Next  *struct {
		BeforeAt string `json:"before_at"`
		BeforeID string `json:"before_id"`
	} `json:"next"`
}

type apiSetting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Locked bool   `json:"locked"`
}

type apiProblem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

// decodeJSON decodes body into a zeroed v, so fields left out of a
// response are not kept from an earlier one.
func decodeJSON(t *testing.T, what, body string, v any) {
	t.Helper()
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, body)
	}
}

// wantProblem checks a problem+json answer of status code naming the field
// location (if any).
func wantProblem(t *testing.T, what string, code int, ctype, body string, wantCode int, location string) apiProblem {
	t.Helper()
	var p apiProblem
	if code != wantCode || !strings.HasPrefix(ctype, "application/problem+json") {
		t.Errorf("%s = %d %s %s; want %d problem+json", what, code, ctype, body, wantCode)
		return p
	}
	decodeJSON(t, what, body, &p)
	if location == "" {
		return p
	}
	for _, e := range p.Errors {
		if e.Location == location {
			return p
		}
	}
	t.Errorf("%s: no error at %s in %s", what, location, body)
	return p
}

// apiRaw sends body with its own content type.
func apiRaw(t *testing.T, c *http.Client, method, u, ctype string, body []byte) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func pngImage(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func customerNames(l apiCustomerList) []string {
	var out []string
	for _, c := range l.Items {
		out = append(out, c.Name)
	}
	return out
}

func changeActions(l apiChanges) []string {
	var out []string
	for _, c := range l.Items {
		out = append(out, c.Action)
	}
	return out
}

// distributorAdmin adds an administrator at the world's distributor (MSP
// A's parent) and returns the distributor and a signed-in client.
func distributorAdmin(t *testing.T, w world, s *store.Store) (canopy.Org, *http.Client) {
	t.Helper()
	ctx := context.Background()
	root, err := s.Platform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dist, err := s.Org(ctx, canopy.ScopeOf(root), w.mspA.ParentID)
	if err != nil {
		t.Fatal(err)
	}
	dana, err := w.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(root),
		app.NewStaff{OrgID: dist.ID, Name: "Dana", Email: "dana@dist.example", Roles: []canopy.Role{canopy.RoleDistributorAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return dist, w.client(t, dana.ID, dist.ID)
}

func TestAPICustomersCreateEditActionsAndChangeLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		base := w.srv.URL + "/api/v1"

		code, _, body := apiCall(t, maya, "POST", base+"/customers",
			`{"name":"Gamma","domain":"Gamma.Example","extra_domains":["gamma.test"],"plan":"premium","max_users":10,"modules":["training"]}`)
		if code != 201 {
			t.Fatalf("create = %d %s", code, body)
		}
		var gamma apiCustomer
		decodeJSON(t, "create", body, &gamma)
		if gamma.Status != "trial" || gamma.Domain != "gamma.example" || gamma.TrialDaysLeft != 14 || gamma.MSP.TenantID != w.mspA.TenantID ||
			!slices.Equal(gamma.ExtraDomains, []string{"gamma.test"}) || !slices.Contains(gamma.Actions, "upgrade") {
			t.Errorf("created = %+v", gamma)
		}
		var list apiCustomerList
		_, _, body = apiCall(t, maya, "GET", base+"/customers?q=gam", "")
		decodeJSON(t, "list", body, &list)
		if len(list.Items) != 1 || list.Items[0].Name != "Gamma" || list.Items[0].Status != "trial" || list.Items[0].StatusLabel != "Free trial" {
			t.Errorf("list q=gam = %s", body)
		}

		// Refusals: 422 with the field, and nothing created.
		for _, c := range []struct{ name, body, location string }{
			{"malformed domain", `{"name":"Bad Domain Ltd","domain":"not a domain"}`, "body.domain"},
			{"duplicate domain", `{"name":"Dup Ltd","domain":"alpha.example"}`, "body.domain"},
			{"duplicate extra domain", `{"name":"Dup Ltd","domain":"dup.example","extra_domains":["gamma.test"]}`, "body.extra_domains"},
			{"unknown module", `{"name":"Dup Ltd","domain":"dup.example","modules":["teleport"]}`, "body.modules"},
			{"neighbour's MSP", `{"name":"Dup Ltd","domain":"dup.example","msp":"` + w.mspB.TenantID + `"}`, "body.msp"},
		} {
			code, ctype, body := apiCall(t, maya, "POST", base+"/customers", c.body)
			wantProblem(t, c.name, code, ctype, body, 422, c.location)
		}
		_, _, body = apiCall(t, maya, "GET", base+"/customers", "")
		decodeJSON(t, "list", body, &list)
		if got := customerNames(list); !slices.Equal(got, []string{"Alpha", "Gamma"}) {
			t.Errorf("customers after the refusals = %v", got)
		}
		if rows, _ := s.Customers(ctx, canopy.ScopeOf(w.mspB), canopy.KindMSP, store.CustomerQuery{}); len(rows) != 1 {
			t.Errorf("MSP B has %d customers; want its one", len(rows))
		}

		// Max users may not go below the active users.
		g, err := s.CustomerByTenantID(ctx, canopy.ScopeOf(w.mspA), gamma.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := w.app.AddEndUser(ctx, canopy.System("test"), canopy.ScopeOf(w.mspA), g.ID, fmt.Sprintf("u%d@gamma.example", i), "U", "Ser", true); err != nil {
				t.Fatal(err)
			}
		}
		gp := base + "/customers/" + gamma.TenantID
		code, ctype, body := apiCall(t, maya, "PATCH", gp, `{"max_users":2}`)
		if p := wantProblem(t, "max users below active", code, ctype, body, 422, "body.max_users"); len(p.Errors) > 0 && !strings.Contains(p.Errors[0].Message, "3 active users") {
			t.Errorf("max users message = %q", p.Errors[0].Message)
		}
		code, ctype, body = apiCall(t, maya, "PATCH", gp, `{"primary_color":"green"}`)
		wantProblem(t, "bad colour", code, ctype, body, 422, "body.primary_color")
		code, _, body = apiCall(t, maya, "PATCH", gp, `{"max_users":3,"display_name":"Gamma Group"}`)
		decodeJSON(t, "patch", body, &gamma)
		if code != 200 || gamma.MaxUsers != 3 || gamma.DisplayName != "Gamma Group" || gamma.Plan != "premium" || gamma.ActiveUsers != 3 ||
			!slices.Equal(gamma.ExtraDomains, []string{"gamma.test"}) {
			t.Errorf("patch = %d %s", code, body)
		}
		// PUT replaces: what is left out is emptied.
		code, _, body = apiCall(t, maya, "PUT", gp, `{"name":"Gamma","domain":"gamma.example","plan":"premium","max_users":3}`)
		decodeJSON(t, "put", body, &gamma)
		if code != 200 || gamma.DisplayName != "" || len(gamma.ExtraDomains) != 0 {
			t.Errorf("put = %d %s", code, body)
		}

		// Logo: stored, served, refused when not an image, removed.
		if code, _, body := apiRaw(t, maya, "PUT", gp+"/logo", "image/png", pngImage(t)); code != 204 {
			t.Errorf("put logo = %d %s", code, body)
		}
		if code, ctype, body := apiCall(t, maya, "GET", gp+"/logo", ""); code != 200 || ctype != "image/png" || !bytes.Equal([]byte(body), pngImage(t)) {
			t.Errorf("get logo = %d %s", code, ctype)
		}
		code, ctype, body = apiRaw(t, maya, "PUT", gp+"/logo", "image/png", []byte("not an image at all"))
		wantProblem(t, "logo that is not an image", code, ctype, body, 422, "body")
		code, ctype, body = apiRaw(t, maya, "PUT", gp+"/logo", "image/png", bytes.Repeat([]byte{0x89}, 300<<10))
		wantProblem(t, "logo over 256 KB", code, ctype, body, 422, "body")
		code, ctype, body = apiRaw(t, maya, "PUT", gp+"/logo", "text/plain", pngImage(t))
		wantProblem(t, "logo as text/plain", code, ctype, body, 415, "")
		if code, _, _ := apiCall(t, maya, "DELETE", gp+"/logo", ""); code != 204 {
			t.Errorf("delete logo = %d", code)
		}
		if code, _, _ := apiCall(t, maya, "GET", gp+"/logo", ""); code != 404 {
			t.Errorf("removed logo = %d; want 404", code)
		}

		// Status actions.
		code, ctype, body = apiCall(t, maya, "POST", gp+"/actions/extend_trial", `{"days":0}`)
		wantProblem(t, "extend by 0 days", code, ctype, body, 422, "body.days")
		code, _, body = apiCall(t, maya, "POST", gp+"/actions/extend_trial", `{"days":7}`)
		decodeJSON(t, "extend", body, &gamma)
		if code != 200 || gamma.TrialDaysLeft != 21 {
			t.Errorf("extend by 7 = %d %s", code, body)
		}
		code, _, body = apiCall(t, maya, "POST", gp+"/actions/upgrade", "")
		decodeJSON(t, "upgrade", body, &gamma)
		if code != 200 || gamma.Status != "active" || gamma.TrialEndsAt != nil || !slices.Equal(gamma.Actions, []string{"suspend"}) {
			t.Errorf("upgrade = %d %s", code, body)
		}
		code, ctype, body = apiCall(t, maya, "POST", gp+"/actions/upgrade", "")
		wantProblem(t, "upgrade an active customer", code, ctype, body, 422, "path.action")
		code, ctype, body = apiCall(t, maya, "POST", gp+"/actions/teleport", "")
		wantProblem(t, "unknown action", code, ctype, body, 422, "path.action")
		_, _, body = apiCall(t, maya, "GET", base+"/customers?status=active", "")
		decodeJSON(t, "list active", body, &list)
		if got := customerNames(list); !slices.Equal(got, []string{"Gamma"}) {
			t.Errorf("active customers = %v", got)
		}

		// The change log: creation and updates with before and after.
		var changes apiChanges
		code, _, body = apiCall(t, maya, "GET", base+"/orgs/"+gamma.TenantID+"/changes", "")
		decodeJSON(t, "changes", body, &changes)
		acts := changeActions(changes)
		if code != 200 || !slices.Contains(acts, "create_customer") || !slices.Contains(acts, "update_customer") || !slices.Contains(acts, "change_customer_status") {
			t.Fatalf("changes = %d %v", code, acts)
		}
		var sawMaxUsers bool
		for _, c := range changes.Items {
			switch c.Action {
			case "create_customer":
				var after map[string]any
				decodeJSON(t, "create after", string(c.After), &after)
				if after["name"] != "Gamma" || after["domain"] != "gamma.example" || c.Before != nil || c.Actor != "Maya" || c.ActorID != int64(w.staffA.ID) {
					t.Errorf("create entry = %+v", c)
				}
			case "update_customer":
				var before, after map[string]any
				if c.Before == nil || c.After == nil {
					continue
				}
				decodeJSON(t, "update before", string(c.Before), &before)
				decodeJSON(t, "update after", string(c.After), &after)
				if before["max_users"] == 10.0 && after["max_users"] == 3.0 && after["display_name"] == "Gamma Group" {
					sawMaxUsers = true
				}
			}
		}
		if !sawMaxUsers {
			t.Errorf("no update entry with max_users 10 → 3 in %s", body)
		}
		// Filters: repeated and comma-separated actions.
		_, _, body = apiCall(t, maya, "GET", base+"/orgs/"+gamma.TenantID+"/changes?action=create_customer,change_customer_status&action=expire_trial", "")
		decodeJSON(t, "filtered", body, &changes)
		for _, a := range changeActions(changes) {
			if a != "create_customer" && a != "change_customer_status" {
				t.Errorf("filtered changes hold %s", a)
			}
		}
		if len(changes.Items) != 3 { // create, extend, upgrade
			t.Errorf("filtered changes = %v", changeActions(changes))
		}
		// The MSP's log covers its customers.
		_, _, body = apiCall(t, maya, "GET", base+"/orgs/"+w.mspA.TenantID+"/changes?action=create_customer", "")
		decodeJSON(t, "msp changes", body, &changes)
		if len(changes.Items) != 2 { // Alpha (newWorld) and Gamma
			t.Errorf("MSP's create_customer entries = %d %s", len(changes.Items), body)
		}
		// Paging, newest first, each entry once.
		seen := map[int64]bool{}
		next := base + "/orgs/" + gamma.TenantID + "/changes?limit=2"
		for page := 0; next != "" && page < 20; page++ {
			_, _, body = apiCall(t, maya, "GET", next, "")
			decodeJSON(t, "page", body, &changes)
			for _, c := range changes.Items {
				if seen[c.ID] {
					t.Errorf("entry %d shown twice", c.ID)
				}
				seen[c.ID] = true
			}
			next = ""
			if changes.Next != nil {
				next = base + "/orgs/" + gamma.TenantID + "/changes?limit=2&before_at=" + url.QueryEscape(changes.Next.BeforeAt) + "&before_id=" + changes.Next.BeforeID
			}
		}
		_, _, body = apiCall(t, maya, "GET", base+"/orgs/"+gamma.TenantID+"/changes?limit=200", "")
		decodeJSON(t, "all", body, &changes)
		if len(seen) != len(changes.Items) || len(seen) < 8 {
			t.Errorf("paging saw %d entries; the log has %d", len(seen), len(changes.Items))
		}
		// Malformed filters: 422 naming the parameter.
		for _, c := range []struct{ query, location string }{
			{"action=create_customer,frobnicate", "query.action"},
			{"since=yesterday", "query.since"},
			{"since=2026-12-02&until=2026-12-01", "query.until"},
			{"actor=maya", "query.actor"},
			{"before_id=12&before_at=noon", "query.before_at"},
		} {
			code, ctype, body := apiCall(t, maya, "GET", base+"/orgs/"+gamma.TenantID+"/changes?"+c.query, "")
			wantProblem(t, c.query, code, ctype, body, 422, c.location)
		}

		// Keyset paging of the customers list, by name both ways.
		for _, name := range []string{"Delta", "Epsilon"} {
			if code, _, body := apiCall(t, maya, "POST", base+"/customers", `{"name":"`+name+`","domain":"`+strings.ToLower(name)+`.example"}`); code != 201 {
				t.Fatalf("create %s = %d %s", name, code, body)
			}
		}
		for _, dir := range []string{"asc", "desc"} {
			var names []string
			u := base + "/customers?limit=2&dir=" + dir
			for page := 0; u != "" && page < 10; page++ {
				_, _, body = apiCall(t, maya, "GET", u, "")
				decodeJSON(t, "page", body, &list)
				names = append(names, customerNames(list)...)
				u = ""
				if list.Next != nil {
					u = fmt.Sprintf("%s/customers?limit=2&dir=%s&after_value=%s&after_id=%d", base, dir, url.QueryEscape(list.Next.AfterValue), list.Next.AfterID)
				}
			}
			want := []string{"Alpha", "Delta", "Epsilon", "Gamma"}
			if dir == "desc" {
				slices.Reverse(want)
			}
			if !slices.Equal(names, want) {
				t.Errorf("paged %s = %v; want %v", dir, names, want)
			}
		}
		code, ctype, body = apiCall(t, maya, "GET", base+"/customers?sort=colour", "")
		wantProblem(t, "unknown sort", code, ctype, body, 422, "query.sort")
	})
}

func TestAPIChangeLogExportCSVAndJSONL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		base := w.srv.URL + "/api/v1"
		code, _, body := apiCall(t, maya, "POST", base+"/customers", `{"name":"=cmd|calc","domain":"calc.example"}`)
		if code != 201 {
			t.Fatalf("create = %d %s", code, body)
		}
		// Enough entries that the export spans many writes (the app buffers 32 KB).
		admin := app.Viewer{PersonID: w.staffA.ID, Name: "Maya", Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin},
			Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: w.staffA.ID, Name: "Maya"}}
		for i := range 150 {
			in := app.CustomerInput{Name: "Alpha", Domain: "alpha.example", DisplayName: fmt.Sprintf("Alpha branding, revision %03d, with some words to make the entry longer", i)}
			if _, err := w.app.UpdateCustomer(ctx, admin, w.custA.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		export := base + "/orgs/" + w.mspA.TenantID + "/changes/export"

		resp, err := maya.Get(export + "?format=csv")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || resp.ContentLength != -1 {
			t.Errorf("csv export = %d %q %q length %d; want a streamed attachment", resp.StatusCode, resp.Header.Get("Content-Type"),
				resp.Header.Get("Content-Disposition"), resp.ContentLength)
		}
		records, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil {
			t.Fatalf("csv export does not parse: %v", err)
		}
		if !slices.Equal(records[0], app.ExportColumns) {
			t.Errorf("csv header = %v", records[0])
		}
		target := slices.Index(app.ExportColumns, "target")
		var escaped, updates int
		for _, r := range records[1:] {
			switch {
			case r[target] == "'=cmd|calc":
				escaped++
			case r[target] == "=cmd|calc":
				t.Error("a formula cell went out unescaped")
			case r[2] == "update_customer":
				updates++
			}
		}
		if escaped != 1 || updates != 150 {
			t.Errorf("csv: %d escaped formula rows (want 1), %d updates (want 150)", escaped, updates)
		}

		resp, err = maya.Get(export + "?format=jsonl&action=create_customer")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("jsonl export = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var targets []string
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var e struct {
				Action string          `json:"action"`
				Target string          `json:"target"`
				After  json.RawMessage `json:"after"`
			}
			decodeJSON(t, "jsonl line", line, &e)
			if e.Action != "create_customer" || len(e.After) == 0 {
				t.Errorf("jsonl line = %s", line)
			}
			targets = append(targets, e.Target)
		}
		slices.Sort(targets)
		if !slices.Equal(targets, []string{"=cmd|calc", "Alpha"}) {
			t.Errorf("jsonl create_customer targets = %v", targets)
		}

		// Bad input is a problem, not a file.
		for _, c := range []struct{ query, location string }{
			{"action=frobnicate", "query.action"},
			{"format=xlsx", "query.format"},
			{"since=2026-12-02&until=2026-12-01", "query.until"},
		} {
			code, ctype, body := apiCall(t, maya, "GET", export+"?"+c.query, "")
			wantProblem(t, c.query, code, ctype, body, 422, c.location)
		}
		// A role without the change log gets a problem before any byte.
		tom, err := w.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(w.mspA), app.NewStaff{OrgID: w.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}})
		if err != nil {
			t.Fatal(err)
		}
		code, ctype, body := apiCall(t, w.client(t, tom.ID, w.mspA.ID), "GET", export, "")
		wantProblem(t, "export without the right", code, ctype, body, 403, "")
	})
}

// Every customer route asked about another MSP's customer answers 404, as
// for one that does not exist, and changes nothing.
func TestAPICustomerRoutesCrossTenant404(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		base := w.srv.URL + "/api/v1"
		type route struct{ method, path, ctype, body string }
		routes := func(cust canopy.Org) []route {
			p := base + "/customers/" + cust.TenantID
			return []route{
				{"GET", p, "", ""},
				{"PATCH", p, "application/json", `{"name":"Taken over"}`},
				{"PUT", p, "application/json", `{"name":"Taken over","domain":"taken.example"}`},
				{"POST", p + "/actions/upgrade", "", ""},
				{"POST", p + "/actions/suspend", "", ""},
				{"POST", p + "/actions/extend_trial", "application/json", `{"days":30}`},
				{"DELETE", p + "?confirm=" + url.QueryEscape(cust.Name), "", ""},
				{"DELETE", p, "application/json", `{"confirm":"` + cust.Name + `"}`},
				{"GET", p + "/settings", "", ""},
				{"PUT", p + "/settings/domain_lock", "application/json", `{"value":"false"}`},
				{"DELETE", p + "/settings/domain_lock", "", ""},
				{"GET", p + "/logo", "", ""},
				{"PUT", p + "/logo", "image/png", string(pngImage(t))},
				{"DELETE", p + "/logo", "", ""},
				{"POST", p + "/admin-login", "application/json", `{"reason":"Just looking around","minutes":30}`},
				{"GET", base + "/orgs/" + cust.TenantID + "/changes", "", ""},
				{"GET", base + "/orgs/" + cust.TenantID + "/changes/export", "", ""},
				{"GET", base + "/orgs/" + cust.TenantID + "/changes/export?format=jsonl", "", ""},
			}
		}
		mspRoutes := func(msp canopy.Org) []route {
			return []route{
				{"GET", base + "/customers?msp=" + msp.TenantID, "", ""},
				{"GET", base + "/msps/" + msp.TenantID + "/customer-defaults", "", ""},
				{"PUT", base + "/msps/" + msp.TenantID + "/customer-defaults/trial_days", "application/json", `{"value":"30"}`},
				{"DELETE", base + "/msps/" + msp.TenantID + "/customer-defaults/trial_days", "", ""},
				{"PUT", base + "/msps/" + msp.TenantID + "/customer-lifecycle", "application/json", `{"managed_by_distributor":true}`},
				{"GET", base + "/orgs/" + msp.TenantID + "/changes", "", ""},
			}
		}
		check := func(who string, c *http.Client, rs []route, leak ...string) {
			for _, r := range rs {
				code, ctype, body := apiRaw(t, c, r.method, r.path, r.ctype, []byte(r.body))
				if code != 404 || !strings.HasPrefix(ctype, "application/problem+json") {
					t.Errorf("%s: %s %s = %d %s; want 404 problem+json", who, r.method, r.path, code, ctype)
				}
				for _, l := range leak {
					if strings.Contains(body, l) {
						t.Errorf("%s: %s %s leaks %q", who, r.method, r.path, l)
					}
				}
			}
		}
		check("MSP A staff on MSP B's customer", maya, routes(w.custB), "Beta", "beta.example", "MSP B")
		check("MSP A staff on MSP B", maya, mspRoutes(w.mspB), "Beta", "MSP B")
		check("customer A's admin on customer B", cora, routes(w.custB), "Beta", "beta.example", "MSP B")
		check("customer A's admin on its MSP", cora, mspRoutes(w.mspA), "MSP B")
		check("unknown customer", maya, routes(canopy.Org{TenantID: "0190c6a2-0000-7000-8000-000000000000", Name: "Nobody"}))
		check("malformed tenant ID", maya, routes(canopy.Org{TenantID: "not-a-uuid", Name: "Nobody"}))

		// Nothing changed at customer B.
		b, err := s.CustomerByTenantID(ctx, canopy.ScopeOf(w.mspB), w.custB.TenantID)
		if err != nil {
			t.Fatalf("customer B after the attempts: %v", err)
		}
		if b.Name != "Beta" || b.Status != canopy.StatusTrial || b.HasLogo {
			t.Errorf("customer B changed: %+v", b)
		}
		changes, err := s.Changes(ctx, canopy.ScopeOf(w.mspB), w.custB.ID, canopy.ChangeFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 1 || changes[0].Action != canopy.ActionCreateCustomer {
			t.Errorf("customer B's log after the attempts: %d entries", len(changes))
		}
		// The same people reach their own.
		for _, c := range []struct {
			who    string
			client *http.Client
			path   string
		}{
			{"MSP A staff", maya, "/customers/" + w.custA.TenantID},
			{"MSP A staff", maya, "/customers/" + w.custA.TenantID + "/settings"},
			{"customer A's admin", cora, "/customers/" + w.custA.TenantID},
			{"customer A's admin", cora, "/customers/" + w.custA.TenantID + "/settings"},
			{"customer A's admin", cora, "/orgs/" + w.custA.TenantID + "/changes"},
		} {
			if code, _, body := apiCall(t, c.client, "GET", base+c.path, ""); code != 200 {
				t.Errorf("%s GET %s = %d %s", c.who, c.path, code, body)
			}
		}
		// A customer's admin changes its Configuration, but not what its MSP
		// sells it (details, branding, status).
		if code, _, body := apiCall(t, cora, "PUT", base+"/customers/"+w.custA.TenantID+"/settings/allow_email_change", `{"value":"false"}`); code != 200 {
			t.Errorf("customer admin changes own configuration = %d %s", code, body)
		}
		code, ctype, body := apiCall(t, cora, "PATCH", base+"/customers/"+w.custA.TenantID, `{"display_name":"Alpha Inc."}`)
		wantProblem(t, "customer admin edits own details", code, ctype, body, 403, "")
		code, ctype, body = apiCall(t, cora, "POST", base+"/customers/"+w.custA.TenantID+"/actions/upgrade", "")
		wantProblem(t, "customer admin upgrades itself", code, ctype, body, 403, "")
	})
}

func TestAPIDistributorLocksLifecycleAndDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		dist, dana := distributorAdmin(t, w, s)
		base := w.srv.URL + "/api/v1"
		settingsOf := func(c *http.Client, path string) map[string]apiSetting {
			t.Helper()
			code, _, body := apiCall(t, c, "GET", base+path, "")
			if code != 200 {
				t.Fatalf("GET %s = %d %s", path, code, body)
			}
			var out struct{ Items []apiSetting }
			decodeJSON(t, path, body, &out)
			m := map[string]apiSetting{}
			for _, s := range out.Items {
				m[s.Key] = s
			}
			return m
		}
		ap := "/customers/" + w.custA.TenantID

		// An MSP default, followed by new customers.
		code, ctype, body := apiCall(t, maya, "PUT", base+"/msps/"+w.mspA.TenantID+"/customer-defaults/trial_days", `{"value":"400"}`)
		wantProblem(t, "trial of 400 days", code, ctype, body, 422, "body.value")
		code, ctype, body = apiCall(t, maya, "PUT", base+"/msps/"+w.mspA.TenantID+"/customer-defaults/warp_drive", `{"value":"true"}`)
		wantProblem(t, "unknown setting", code, ctype, body, 422, "path.key")
		if code, _, body := apiCall(t, maya, "PUT", base+"/msps/"+w.mspA.TenantID+"/customer-defaults/trial_days", `{"value":"30"}`); code != 200 || !strings.Contains(body, `"value":"30"`) {
			t.Errorf("set trial default = %d %s", code, body)
		}
		_, _, body = apiCall(t, maya, "POST", base+"/customers", `{"name":"Gamma","domain":"gamma.example"}`)
		var gamma apiCustomer
		decodeJSON(t, "create", body, &gamma)
		if gamma.TrialDaysLeft != 30 {
			t.Errorf("new customer's trial = %d days; want the MSP's 30", gamma.TrialDaysLeft)
		}
		code, ctype, body = apiCall(t, maya, "PUT", base+ap+"/settings/trial_days", `{"value":"30"}`)
		wantProblem(t, "trial length per customer", code, ctype, body, 422, "path.key")

		// A customer override, then the distributor's lock overrules it.
		if code, _, body := apiCall(t, maya, "PUT", base+ap+"/settings/domain_lock", `{"value":"false"}`); code != 200 {
			t.Fatalf("override = %d %s", code, body)
		}
		if got := settingsOf(maya, ap+"/settings")["domain_lock"]; got.Value != "false" || got.Source != "customer" || got.Locked {
			t.Errorf("after override: %+v", got)
		}
		lockPath := base + "/distributors/" + dist.TenantID + "/locks/domain_lock"
		for _, m := range []string{"GET", "PUT"} {
			code, _, _ := apiCall(t, maya, m, base+"/distributors/"+dist.TenantID+"/locks", "")
			if m == "PUT" {
				code, _, _ = apiCall(t, maya, m, lockPath, `{"value":"true"}`)
			}
			if code != 404 {
				t.Errorf("MSP staff %s the distributor's locks = %d; want 404", m, code)
			}
		}
		if code, _, body := apiCall(t, dana, "PUT", lockPath, `{"value":"true"}`); code != 200 || !strings.Contains(body, `"key":"domain_lock","label":"Domain Lock","locked":true,"value":"true"`) {
			t.Errorf("lock = %d %s", code, body)
		}
		if got := settingsOf(maya, ap+"/settings")["domain_lock"]; got.Value != "true" || got.Source != "distributor" || !got.Locked {
			t.Errorf("after lock: %+v", got)
		}
		code, ctype, body = apiCall(t, maya, "PUT", base+ap+"/settings/domain_lock", `{"value":"false"}`)
		if p := wantProblem(t, "change a locked setting", code, ctype, body, 409, ""); !strings.Contains(p.Detail, "Domain Lock is locked by the distributor") {
			t.Errorf("locked detail = %q", p.Detail)
		}
		code, ctype, body = apiCall(t, maya, "DELETE", base+ap+"/settings/domain_lock", "")
		wantProblem(t, "reset a locked setting", code, ctype, body, 409, "")
		code, ctype, body = apiCall(t, maya, "PUT", base+"/msps/"+w.mspA.TenantID+"/customer-defaults/domain_lock", `{"value":"false"}`)
		wantProblem(t, "MSP default of a locked setting", code, ctype, body, 409, "")
		if code, _, _ := apiCall(t, dana, "DELETE", lockPath, ""); code != 204 {
			t.Errorf("unlock = %d", code)
		}
		if code, _, _ := apiCall(t, maya, "DELETE", base+ap+"/settings/domain_lock", ""); code != 204 {
			t.Errorf("reset after unlock = %d", code)
		}
		if got := settingsOf(maya, ap+"/settings")["domain_lock"]; got.Value != "true" || got.Source != "built_in" {
			t.Errorf("after reset: %+v", got)
		}

		// Lifecycle managed by the distributor: the MSP may not delete, the
		// distributor may.
		lifecycle := base + "/msps/" + w.mspA.TenantID + "/customer-lifecycle"
		code, ctype, body = apiCall(t, maya, "PUT", lifecycle, `{"managed_by_distributor":false}`)
		wantProblem(t, "MSP sets its own lifecycle", code, ctype, body, 403, "")
		if code, _, body := apiCall(t, dana, "PUT", lifecycle, `{"managed_by_distributor":true}`); code != 204 {
			t.Fatalf("lifecycle on = %d %s", code, body)
		}
		code, ctype, body = apiCall(t, maya, "DELETE", base+ap+"?confirm=Alpha", "")
		if p := wantProblem(t, "MSP deletes a distributor-managed customer", code, ctype, body, 403, ""); !strings.Contains(p.Detail, "distributor manages") ||
			!strings.Contains(p.Detail, "only the distributor can delete") {
			t.Errorf("refusal detail = %q; want the reason", p.Detail)
		}
		if code, _, _ := apiCall(t, maya, "GET", base+ap, ""); code != 200 {
			t.Errorf("customer after the refused delete = %d", code)
		}
		// The distributor lists one MSP's customers, and deletes.
		var list apiCustomerList
		_, _, body = apiCall(t, dana, "GET", base+"/customers?msp="+w.mspB.TenantID, "")
		decodeJSON(t, "dist list", body, &list)
		if got := customerNames(list); !slices.Equal(got, []string{"Beta"}) {
			t.Errorf("distributor's list of MSP B = %v", got)
		}
		code, ctype, body = apiCall(t, dana, "GET", base+"/customers?msp="+w.custA.TenantID, "")
		wantProblem(t, "msp filter naming a customer", code, ctype, body, 422, "query.msp")
		code, ctype, body = apiCall(t, dana, "DELETE", base+ap+"?confirm=Alfa", "")
		wantProblem(t, "delete with the wrong name", code, ctype, body, 422, "query.confirm")
		code, ctype, body = apiCall(t, dana, "DELETE", base+ap, `{"confirm":"Alfa"}`)
		wantProblem(t, "delete with the wrong name in the body", code, ctype, body, 422, "body.confirm")
		if code, _, body := apiCall(t, dana, "DELETE", base+ap, `{"confirm":"Alpha"}`); code != 204 {
			t.Fatalf("distributor deletes = %d %s", code, body)
		}
		if code, _, _ := apiCall(t, dana, "GET", base+ap, ""); code != 404 {
			t.Errorf("deleted customer = %d; want 404", code)
		}
		var changes apiChanges
		_, _, body = apiCall(t, maya, "GET", base+"/orgs/"+w.mspA.TenantID+"/changes?action=delete_customer", "")
		decodeJSON(t, "delete log", body, &changes)
		if len(changes.Items) != 1 || changes.Items[0].Target != "Alpha" || changes.Items[0].Actor != "Dana" || changes.Items[0].Before == nil {
			t.Errorf("deletion log = %s", body)
		}
	})
}

func TestAPIAdminLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		base := w.srv.URL + "/api/v1"
		ap := base + "/customers/" + w.custA.TenantID

		code, ctype, body := apiCall(t, maya, "POST", ap+"/admin-login", `{"reason":"hi"}`)
		wantProblem(t, "no real reason", code, ctype, body, 422, "body.reason")
		code, ctype, body = apiCall(t, maya, "POST", ap+"/admin-login", `{"reason":"Setting up SSO","minutes":1000}`)
		wantProblem(t, "too long", code, ctype, body, 422, "body.minutes")
		code, ctype, body = apiCall(t, cora, "POST", ap+"/admin-login", `{"reason":"Into myself"}`)
		wantProblem(t, "customer admin", code, ctype, body, 403, "")
		code, ctype, body = apiCall(t, maya, "POST", base+"/customers/"+w.mspA.TenantID+"/admin-login", `{"reason":"Into my own MSP"}`)
		wantProblem(t, "into an MSP", code, ctype, body, 404, "")

		if code, _, body := apiCall(t, maya, "POST", ap+"/admin-login", `{"reason":"Setting up SSO","minutes":30}`); code != 201 ||
			!strings.Contains(body, `"tenant_id":"`+w.custA.TenantID+`"`) || !strings.Contains(body, `"minutes":30`) {
			t.Fatalf("admin login = %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", base+"/me", ""); code != 200 || !strings.Contains(body, `"organization":"`+w.custA.TenantID+`"`) {
			t.Errorf("me under Admin Login = %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", ap, ""); code != 200 || !strings.Contains(body, `"name":"Alpha"`) {
			t.Errorf("own customer under Admin Login = %d %s", code, body)
		}
		for _, p := range []string{"/customers/" + w.custB.TenantID, "/customers?msp=" + w.mspA.TenantID, "/orgs/" + w.mspA.TenantID + "/changes",
			"/msps/" + w.mspA.TenantID + "/customer-defaults"} {
			code, ctype, body := apiCall(t, maya, "GET", base+p, "")
			wantProblem(t, "under Admin Login GET "+p, code, ctype, body, 404, "")
		}
		if code, _, body := apiCall(t, maya, "GET", base+"/customers", ""); code == 200 || strings.Contains(body, "Beta") {
			t.Errorf("customers list under Admin Login = %d %s", code, body)
		}
		code, ctype, body = apiCall(t, maya, "POST", ap+"/admin-login", `{"reason":"Once more, nested"}`)
		wantProblem(t, "Admin Login inside Admin Login", code, ctype, body, 403, "")
		// What is done inside is logged with both identities.
		if code, _, body := apiCall(t, maya, "PUT", ap+"/settings/allow_email_change", `{"value":"false"}`); code != 200 {
			t.Errorf("configuration under Admin Login = %d %s", code, body)
		}
		var changes apiChanges
		_, _, body = apiCall(t, maya, "GET", base+"/orgs/"+w.custA.TenantID+"/changes?action=admin_login_start,update_settings", "")
		decodeJSON(t, "changes", body, &changes)
		if len(changes.Items) != 2 || changes.Items[0].Action != "update_settings" || changes.Items[0].Actor != "Maya" ||
			changes.Items[0].OnBehalfOf != "Alpha administrator (Admin Login)" || !strings.Contains(string(changes.Items[1].After), "Setting up SSO") {
			t.Errorf("Admin Login entries = %s", body)
		}

		if code, _, _ := apiCall(t, maya, "DELETE", base+"/me/admin-login", ""); code != 204 {
			t.Errorf("end Admin Login = %d", code)
		}
		var list apiCustomerList
		code, _, body = apiCall(t, maya, "GET", base+"/customers", "")
		decodeJSON(t, "list after", body, &list)
		if code != 200 || !slices.Equal(customerNames(list), []string{"Alpha"}) {
			t.Errorf("customers after Admin Login = %d %s", code, body)
		}
		if code, _, body := apiCall(t, maya, "GET", base+"/me", ""); !strings.Contains(body, `"organization":"`+w.mspA.TenantID+`"`) {
			t.Errorf("me after Admin Login = %d %s", code, body)
		}
		_, _, body = apiCall(t, maya, "GET", base+"/orgs/"+w.custA.TenantID+"/changes?action=admin_login_end", "")
		decodeJSON(t, "end entry", body, &changes)
		if len(changes.Items) != 1 || !strings.Contains(string(changes.Items[0].After), `"how":"ended"`) {
			t.Errorf("end entry = %s", body)
		}
		// Ending when not acting is harmless.
		if code, _, _ := apiCall(t, maya, "DELETE", base+"/me/admin-login", ""); code != 204 {
			t.Errorf("end again = %d", code)
		}
	})
}
