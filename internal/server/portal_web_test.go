package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// The end-user portal: the same answer for every address, a link only for
// active users of that customer inside its Domain Lock; the link's GET
// shows Continue and spends nothing, the POST signs in, once; a link is
// bound to its customer; the portal's switch closes it.
func TestEndUserPortalMagicLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		sys := canopy.System("test")
		scope := canopy.Scope{Root: canopy.PathIDs(w.custA.Path)[0], Path: "/" + strings.Split(strings.Trim(w.custA.Path, "/"), "/")[0] + "/"}
		for _, u := range []struct {
			cust   canopy.Org
			email  string
			active bool
		}{{w.custA, "eve@alpha.example", true}, {w.custA, "dee@alpha.example", false}, {w.custB, "bob@beta.example", true}} {
			if err := w.app.AddEndUser(ctx, sys, scope, u.cust.ID, u.email, "Eve", "Lee", u.active); err != nil {
				t.Fatal(err)
			}
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		pa := w.srv.URL + "/portal/" + w.custA.TenantID
		if code, _, body := send(t, browser, "GET", pa, nil); code != 200 || !strings.Contains(body, "Email me a sign-in link") {
			t.Fatalf("portal: %d", code)
		}
		answer := "If this address belongs to Alpha, a link is on its way"
		for _, addr := range []string{"eve@alpha.example", "nobody@alpha.example", "dee@alpha.example", "bob@beta.example"} {
			if code, _, body := send(t, browser, "POST", pa+"/link", url.Values{"email": {addr}}); code != 200 || !strings.Contains(body, answer) {
				t.Errorf("request for %s: %d, same answer %v", addr, code, strings.Contains(body, answer))
			}
		}
		for addr, want := range map[string]int{"eve@alpha.example": 1, "nobody@alpha.example": 0, "dee@alpha.example": 0, "bob@beta.example": 0} {
			if mails, _ := s.RecentMail(ctx, addr, 0, 5); len(mails) != want {
				t.Errorf("mails to %s = %d; want %d", addr, len(mails), want)
			}
		}
		if code, _, _ := send(t, browser, "POST", pa+"/link", url.Values{"email": {"not an address"}}); code != 422 {
			t.Errorf("a malformed address: %d", code)
		}
		mails, _ := s.RecentMail(ctx, "eve@alpha.example", 0, 1)
		_, after, _ := strings.Cut(mails[0].Text, "/link/")
		token := strings.Fields(after)[0]
		// Bound to its customer: the same token on customer B's portal is refused.
		if code, _, _ := send(t, browser, "POST", w.srv.URL+"/portal/"+w.custB.TenantID+"/link/"+token, url.Values{}); code != 410 {
			t.Errorf("A's link on B's portal: %d; want 410", code)
		}
		for i := 0; i < 2; i++ {
			if code, _, body := send(t, browser, "GET", pa+"/link/"+token, nil); code != 200 || !strings.Contains(body, "Continue") {
				t.Fatalf("opening the link (%d): %d", i, code)
			}
		}
		if code, loc, _ := send(t, browser, "POST", pa+"/link/"+token, url.Values{}); code != 303 || loc != "/portal/"+w.custA.TenantID {
			t.Fatalf("Continue: %d %q", code, loc)
		}
		if _, body := fetch(t, browser, pa); !strings.Contains(body, "Welcome, <strong>Eve Lee</strong>") || !strings.Contains(body, "Nothing is assigned to you yet") {
			t.Error("the portal home after sign-in lacks the user's name or the empty state")
		}
		if _, body := fetch(t, browser, w.srv.URL+"/portal/"+w.custB.TenantID); strings.Contains(body, "Welcome") {
			t.Error("A's portal session opens B's portal")
		}
		if code, _, _ := send(t, browser, "POST", pa+"/link/"+token, url.Values{}); code != 410 {
			t.Errorf("the link reused: %d; want 410", code)
		}
		// The staff pages know nothing of a portal session.
		if code, loc, _ := send(t, browser, "GET", w.srv.URL+"/customers", nil); code != 303 || loc != "/signin" {
			t.Errorf("staff pages with a portal session: %d %q", code, loc)
		}
		// Magic-link sign-in off: no form, no mail. Portal off: not found.
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := w.app.SetCustomerSetting(ctx, msp, w.custA.ID, canopy.SettingMagicLink, "false", false); err != nil {
			t.Fatal(err)
		}
		anon := &http.Client{}
		if _, body := fetch(t, anon, pa); !strings.Contains(body, "turned off") {
			t.Error("the portal does not say magic-link sign-in is off")
		}
		send(t, anon, "POST", pa+"/link", url.Values{"email": {"eve@alpha.example"}})
		if mails, _ := s.RecentMail(ctx, "eve@alpha.example", 0, 5); len(mails) != 1 {
			t.Errorf("a link was mailed with magic-link sign-in off (%d mails)", len(mails))
		}
		if err := w.app.SetCustomerSetting(ctx, msp, w.custA.ID, canopy.SettingEndUserPortal, "false", false); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := send(t, anon, "GET", pa, nil); code != 404 {
			t.Errorf("a closed portal: %d; want 404", code)
		}
		if code, _, _ := send(t, anon, "GET", w.srv.URL+"/portal/"+w.mspA.TenantID, nil); code != 404 {
			t.Errorf("an MSP's tenant ID as a portal: %d; want 404", code)
		}
	})
}

// End users on the Users tab: added (Domain Lock enforced by field),
// deactivated and reactivated with the Active Users count following; a
// neighbour's end users are out of reach.
func TestEndUsersOnTheUsersTab(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID
		if code, _, _ := send(t, maya, "POST", a+"/end-users", url.Values{"email": {"eve@alpha.example"}, "first_name": {"Eve"}}); code != 303 {
			t.Fatalf("add: %d", code)
		}
		if code, _, body := send(t, maya, "POST", a+"/end-users", url.Values{"email": {"eve@else.example"}}); code != 422 || !strings.Contains(body, "Domain Lock") {
			t.Errorf("outside the lock: %d", code)
		}
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		page, _ := w.app.EndUsers(ctx, msp, w.custA.ID, app.EndUserQuery{})
		id := page.Users[0].ID
		if _, body := fetch(t, maya, a+"/users"); !strings.Contains(body, "eve@alpha.example") || !strings.Contains(body, "1 are active") {
			t.Error("the Users tab lacks the end user or the count")
		}
		if code, _, _ := send(t, maya, "POST", a+"/end-users/"+fmt.Sprint(id)+"/deactivate", url.Values{}); code != 303 {
			t.Errorf("deactivate: %d", code)
		}
		if c, _ := w.app.Customer(ctx, msp, w.custA.TenantID); c.ActiveUsers != 0 {
			t.Errorf("active users after deactivation = %d", c.ActiveUsers)
		}
		b := w.srv.URL + "/customers/" + w.custB.TenantID
		for _, u := range []string{b + "/end-users", b + "/end-users/" + fmt.Sprint(id) + "/reactivate", a + "/end-users/999999/reactivate"} {
			if code, _, _ := send(t, maya, "POST", u, url.Values{"email": {"x@beta.example"}}); code != 404 {
				t.Errorf("POST %s: %d; want 404", strings.TrimPrefix(u, w.srv.URL), code)
			}
		}
	})
}

// The CSV import form: a report per row; a neighbour's customer is 404.
func TestEndUserImportPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		upload := func(u, content string) (int, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			fw, _ := mw.CreateFormFile("file", "users.csv")
			fw.Write([]byte(content))
			mw.Close()
			req, _ := http.NewRequest("POST", u, &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			resp, err := maya.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		code, body := upload(w.srv.URL+"/customers/"+w.custA.TenantID+"/end-users/import", "email,first,last\nann@alpha.example,Ann,Lee\nbroken\n")
		if code != 200 || !strings.Contains(body, "1 of 2 rows imported") || !strings.Contains(body, "Not an email address") {
			t.Errorf("import: %d\n%s", code, between(body, "Import report", "</table>"))
		}
		if code, _ := upload(w.srv.URL+"/customers/"+w.custB.TenantID+"/end-users/import", "bob@beta.example\n"); code != 404 {
			t.Errorf("import into MSP B's customer: %d; want 404", code)
		}
	})
}

// Groups on the Users tab: create, add end users, choose managers among the
// customer's users (the pencil); a neighbour's groups are out of reach.
func TestGroupsOnTheUsersTab(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := w.app.AddEndUserBy(ctx, msp, w.custA.ID, "eve@alpha.example", "Eve", ""); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := send(t, maya, "POST", a+"/groups", url.Values{"name": {"Finance"}}); code != 303 {
			t.Fatalf("create group: %d", code)
		}
		groups, _ := w.app.Groups(ctx, msp, w.custA.ID)
		g := a + "/groups/" + fmt.Sprint(groups[0].ID)
		if code, _, body := send(t, maya, "POST", g+"/members", url.Values{"members": {"nobody@alpha.example"}}); code != 422 || !strings.Contains(body, "Not end users of Alpha") {
			t.Errorf("a stranger as member: %d", code)
		}
		send(t, maya, "POST", g+"/members", url.Values{"members": {"eve@alpha.example"}})
		if code, _, _ := send(t, maya, "POST", g+"/managers", url.Values{"managers": {fmt.Sprint(w.staffCus.ID)}}); code != 303 {
			t.Errorf("set managers: %d", code)
		}
		if _, body := fetch(t, maya, a+"/users"); !strings.Contains(between(body, `<tr id="group-`, "<details"), "Cora") {
			t.Error("the group row does not show Cora as manager")
		}
		b := w.srv.URL + "/customers/" + w.custB.TenantID
		for _, u := range []string{b + "/groups", b + "/groups/" + fmt.Sprint(groups[0].ID) + "/managers", b + "/groups/" + fmt.Sprint(groups[0].ID) + "/members"} {
			if code, _, _ := send(t, maya, "POST", u, url.Values{"name": {"X"}}); code != 404 {
				t.Errorf("POST %s: %d; want 404", strings.TrimPrefix(u, w.srv.URL), code)
			}
		}
	})
}

// Sub-accounts on the Configuration tab; a neighbour's are out of reach.
func TestSubAccountPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID
		if code, _, _ := send(t, maya, "POST", a+"/sub-accounts", url.Values{"name": {"East"}}); code != 303 {
			t.Fatalf("create: %d", code)
		}
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		subs, _ := w.app.SubAccounts(ctx, msp, w.custA.ID)
		east := fmt.Sprint(subs[0].ID)
		if code, _, _ := send(t, maya, "POST", a+"/sub-accounts", url.Values{"name": {"Leeds"}, "parent": {east}}); code != 303 {
			t.Fatalf("nested: %d", code)
		}
		if _, body := fetch(t, maya, a+"/configuration"); !strings.Contains(body, `value="East"`) || !strings.Contains(body, `value="Leeds"`) {
			t.Error("the Configuration tab does not list the sub-accounts")
		}
		if code, _, body := send(t, maya, "POST", a+"/sub-accounts/"+east+"/delete", url.Values{}); code != 422 || !strings.Contains(body, "is not empty") {
			t.Errorf("deleting a non-empty sub-account: %d", code)
		}
		b := w.srv.URL + "/customers/" + w.custB.TenantID
		for _, u := range []string{b + "/sub-accounts", b + "/sub-accounts/" + east + "/rename", a + "/sub-accounts/999999/delete"} {
			if code, _, _ := send(t, maya, "POST", u, url.Values{"name": {"X"}}); code != 404 {
				t.Errorf("POST %s: %d; want 404", strings.TrimPrefix(u, w.srv.URL), code)
			}
		}
	})
}

// The portal shows the customer's branding to visitors who are not signed
// in: its logo and a stylesheet of its colour (the CSP forbids inline
// style); a customer without them gets neither.
func TestPortalBranding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		anon := &http.Client{}
		base := w.srv.URL + "/portal/" + w.custA.TenantID
		if _, body := fetch(t, anon, base); strings.Contains(body, "brand.css") || strings.Contains(body, "/logo") {
			t.Error("an unbranded portal links a logo or a brand stylesheet")
		}
		if code, _ := fetch(t, anon, base+"/logo"); code != 404 {
			t.Errorf("logo of a customer without one: %d", code)
		}
		maya := app.Viewer{PersonID: w.staffA.ID, Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Actor: canopy.System("test")}
		c, err := w.app.Customer(ctx, maya, w.custA.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.app.UpdateCustomer(ctx, maya, c.ID, app.CustomerInput{Name: c.Name, Domain: c.Domain, Plan: c.Plan, Modules: c.Modules,
			DisplayName: "Alpha Learning", PrimaryColor: "#AA3300"}); err != nil {
			t.Fatal(err)
		}
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
		if err := w.app.SetCustomerLogo(ctx, maya, c.ID, png); err != nil {
			t.Fatal(err)
		}
		_, body := fetch(t, anon, base)
		if !strings.Contains(body, "Alpha Learning") || !strings.Contains(body, base[len(w.srv.URL):]+"/brand.css") || !strings.Contains(body, base[len(w.srv.URL):]+"/logo") {
			t.Errorf("the branded portal page lacks its name, stylesheet or logo")
		}
		resp, err := anon.Get(base + "/logo")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("logo: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if code, css := fetch(t, anon, base+"/brand.css"); code != 200 || !strings.Contains(css, "#aa3300") {
			t.Errorf("brand.css: %d %q", code, css)
		}
		// Beta's portal shows none of Alpha's branding.
		if _, body := fetch(t, anon, w.srv.URL+"/portal/"+w.custB.TenantID); strings.Contains(body, "Alpha Learning") || strings.Contains(body, "brand.css") {
			t.Error("Beta's portal shows Alpha's branding")
		}
	})
}
