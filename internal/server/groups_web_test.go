package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// outsiders are the people who must not reach customer A's users: MSP B's
// staff, customer B's admin, and customer A's own User without user
// management.
type outsiders struct {
	mspB, adminB, userA *http.Client
}

func (w world) outsiders(t *testing.T) outsiders {
	t.Helper()
	ctx, sys := context.Background(), canopy.System("test")
	add := func(org canopy.Org, name, email string, role canopy.Role) *http.Client {
		p, err := w.app.AddStaff(ctx, sys, canopy.ScopeOf(org), app.NewStaff{OrgID: org.ID, Name: name, Email: email, Roles: []canopy.Role{role}})
		if err != nil {
			t.Fatal(err)
		}
		return w.client(t, p.ID, org.ID)
	}
	return outsiders{
		mspB:   add(w.mspB, "Bea", "bea@b.example", canopy.RoleMSPAdmin),
		adminB: add(w.custB, "Bob", "bob@beta.example", canopy.RoleCustomerAdmin),
		userA:  add(w.custA, "Ula", "ula@alpha.example", canopy.RoleCustomerUser),
	}
}

// The Edit link of an end user's row opens a form; errors appear beside
// their field with the typed values kept; a save returns to the same page
// of the list at the row. Outsiders get 404 and change nothing.
func TestEndUserEditPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		for _, e := range []string{"eve@alpha.example", "ian@alpha.example"} {
			if err := w.app.AddEndUserBy(ctx, msp, w.custA.ID, e, "Eve", "Lee"); err != nil {
				t.Fatal(err)
			}
		}
		eve, _ := s.EndUserByEmail(ctx, w.custA.ID, "eve@alpha.example")
		edit := fmt.Sprintf("%s/end-users/%d/edit", a, eve.ID)

		// The row carries its anchor and an Edit link that remembers the page.
		_, body := fetch(t, cora, a+"/users?after=a&done=x")
		row := between(body, fmt.Sprintf(`<tr id="end-user-%d">`, eve.ID), "</tr>")
		if !strings.Contains(row, fmt.Sprintf(`href="/customers/%s/end-users/%d/edit?back=after%%3da"`, w.custA.TenantID, eve.ID)) {
			t.Fatalf("the row's Edit link: %s", row)
		}
		code, body := fetch(t, cora, edit+"?back=after%3Da")
		if code != 200 || !strings.Contains(body, `value="eve@alpha.example"`) || !strings.Contains(body, `name="back" value="after=a"`) {
			t.Fatalf("edit page: %d", code)
		}

		// Another end user's address: the error beside the email field.
		code, _, body = send(t, cora, "POST", edit, url.Values{"email": {"ian@alpha.example"}, "first_name": {"Evelyn"}, "last_name": {"Lee"}, "back": {"after=a"}})
		field := between(body, `id="eu-edit-email"`, `id="eu-edit-first"`)
		if code != 422 || !strings.Contains(field, "ian@alpha.example is already an end user of Alpha") || !strings.Contains(field, `aria-invalid="true"`) {
			t.Errorf("a taken address: %d %s", code, field)
		}
		if !strings.Contains(body, `value="Evelyn"`) {
			t.Error("the typed first name was lost")
		}
		code, _, body = send(t, cora, "POST", edit, url.Values{"email": {"eve@elsewhere.example"}, "first_name": {strings.Repeat("x", 101)}})
		if code != 422 || !strings.Contains(between(body, `id="eu-edit-email"`, `id="eu-edit-first"`), "Domain Lock") ||
			!strings.Contains(between(body, `id="eu-edit-first"`, `id="eu-edit-last"`), "at most 100 characters") {
			t.Errorf("outside the lock, a long name: %d", code)
		}
		if got, _ := s.EndUserByEmail(ctx, w.custA.ID, "eve@alpha.example"); got != eve {
			t.Errorf("refused edits saved: %+v", got)
		}

		// A save returns to the same list page, at the row, with a notice.
		code, loc, _ := send(t, cora, "POST", edit, url.Values{"email": {"evelyn@alpha.example"}, "first_name": {"Evelyn"}, "last_name": {"Lee"}, "back": {"after=a&done=stale"}})
		want := fmt.Sprintf("/customers/%s/users?after=a&done=end-user-saved#end-user-%d", w.custA.TenantID, eve.ID)
		if code != 303 || loc != want {
			t.Errorf("save: %d %s; want 303 %s", code, loc, want)
		}
		if _, body := fetch(t, cora, w.srv.URL+want); !strings.Contains(body, "End user saved.") || !strings.Contains(body, "evelyn@alpha.example") {
			t.Error("the list after the save lacks the notice or the new address")
		}
		// A back value cannot send the browser elsewhere.
		_, loc, _ = send(t, cora, "POST", edit, url.Values{"email": {"evelyn@alpha.example"}, "back": {"//evil.example/x"}})
		if !strings.HasPrefix(loc, "/customers/"+w.custA.TenantID+"/users?") {
			t.Errorf("redirect after a crafted back: %s", loc)
		}

		// Outsiders: 404, nothing changed.
		o := w.outsiders(t)
		b := w.srv.URL + "/customers/" + w.custB.TenantID
		for _, c := range []struct {
			name   string
			client *http.Client
			u      string
		}{
			{"MSP B", o.mspB, edit}, {"customer B's admin", o.adminB, edit}, {"customer A's User", o.userA, edit},
			{"A's end user under B's URL", o.mspB, fmt.Sprintf("%s/end-users/%d/edit", b, eve.ID)},
			{"A's end user under B's URL (A's admin)", cora, fmt.Sprintf("%s/end-users/%d/edit", b, eve.ID)},
			{"an unknown end user", cora, a + "/end-users/999999/edit"},
		} {
			if code, _ := fetch(t, c.client, c.u); code != 404 {
				t.Errorf("%s: GET %d; want 404", c.name, code)
			}
			if code, _, _ := send(t, c.client, "POST", c.u, url.Values{"email": {"x@alpha.example"}}); code != 404 {
				t.Errorf("%s: POST %d; want 404", c.name, code)
			}
		}
		if _, err := s.EndUserByEmail(ctx, w.custA.ID, "evelyn@alpha.example"); err != nil {
			t.Errorf("after the outsiders: %v", err)
		}
	})
}

// The group page: members paged by email with a Remove button each and a
// Remove for the ticked ones, managers, adding members, and Delete (the
// button asks first). B's group under A's URL and outsiders get 404.
func TestGroupPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID
		msp := app.Viewer{Org: w.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		var csv, list strings.Builder
		for i := range 120 {
			fmt.Fprintf(&csv, "u%03d@alpha.example,U,%d\n", i, i)
			fmt.Fprintf(&list, "u%03d@alpha.example\n", i)
		}
		if _, _, err := w.app.ImportEndUsers(ctx, msp, w.custA.ID, strings.NewReader(csv.String())); err != nil {
			t.Fatal(err)
		}
		id, err := w.app.CreateGroup(ctx, msp, w.custA.ID, "Finance")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.app.AddGroupMembers(ctx, msp, w.custA.ID, id, list.String()); err != nil {
			t.Fatal(err)
		}
		g := fmt.Sprintf("%s/groups/%d", a, id)
		u := func(email string) string {
			eu, err := s.EndUserByEmail(ctx, w.custA.ID, email)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(eu.ID)
		}

		if _, body := fetch(t, maya, a+"/users"); !strings.Contains(body, fmt.Sprintf(`href="/customers/%s/groups/%d"`, w.custA.TenantID, id)) {
			t.Error("the Users tab does not link to the group page")
		}
		code, body := fetch(t, maya, g)
		if code != 200 || strings.Count(body, `name="only"`) != 100 || !strings.Contains(body, "120 members") || !strings.Contains(body, `data-confirm="Delete the group Finance?`) {
			t.Fatalf("group page: %d, %d Remove buttons", code, strings.Count(body, `name="only"`))
		}
		next, _, _ := strings.Cut(body, `">Next page</a>`)
		next = next[strings.LastIndex(next, `href="`)+len(`href="`):]
		if next != fmt.Sprintf("/customers/%s/groups/%d?after=u099%%40alpha.example#members", w.custA.TenantID, id) {
			t.Fatalf("next page link = %q", next)
		}
		_, body = fetch(t, maya, w.srv.URL+next)
		if strings.Count(body, `name="only"`) != 20 || !strings.Contains(body, "<td>u100@alpha.example</td>") || strings.Contains(body, "<td>u099@alpha.example</td>") {
			t.Errorf("second page: %d rows", strings.Count(body, `name="only"`))
		}

		// Remove one by its button (ticks ignored), then the ticked ones.
		code, loc, _ := send(t, maya, "POST", g+"/members/remove", url.Values{"only": {u("u000@alpha.example")}, "members": {u("u005@alpha.example")}})
		if code != 303 || !strings.HasPrefix(loc, fmt.Sprintf("/customers/%s/groups/%d?done=members-removed", w.custA.TenantID, id)) {
			t.Errorf("remove one: %d %s", code, loc)
		}
		if code, _, _ := send(t, maya, "POST", g+"/members/remove", url.Values{"members": {u("u001@alpha.example"), u("u002@alpha.example")}}); code != 303 {
			t.Errorf("remove ticked: %d", code)
		}
		// A stale choice or none: an error above the members, nothing removed.
		code, _, body = send(t, maya, "POST", g+"/members/remove", url.Values{"members": {u("u003@alpha.example"), u("u000@alpha.example")}})
		if code != 422 || !strings.Contains(between(body, `class="group-members-form"`, "<table"), "Nothing was removed") {
			t.Errorf("a stale choice: %d", code)
		}
		if code, _, _ := send(t, maya, "POST", g+"/members/remove", url.Values{}); code != 422 {
			t.Errorf("nothing ticked: %d", code)
		}
		if gr, _, _ := w.app.Group(ctx, msp, w.custA.ID, id, ""); gr.Members != 117 {
			t.Errorf("members = %d; want 117", gr.Members)
		}
		// The page's add and managers forms return to the page.
		code, loc, _ = send(t, maya, "POST", g+"/members", url.Values{"members": {"u000@alpha.example"}, "from": {"group"}})
		if code != 303 || !strings.HasPrefix(loc, fmt.Sprintf("/customers/%s/groups/%d?done=group-saved", w.custA.TenantID, id)) {
			t.Errorf("add from the page: %d %s", code, loc)
		}
		code, _, body = send(t, maya, "POST", g+"/members", url.Values{"members": {"nobody@alpha.example"}, "from": {"group"}})
		if code != 422 || !strings.Contains(between(body, `id="members-add"`, "</form>"), "Not end users of Alpha") {
			t.Errorf("a stranger from the page: %d", code)
		}
		if code, _, _ := send(t, maya, "POST", g+"/managers", url.Values{"managers": {fmt.Sprint(w.staffCus.ID)}, "from": {"group"}}); code != 303 {
			t.Errorf("managers from the page: %d", code)
		}
		if _, body := fetch(t, maya, g); !strings.Contains(body, "managed by Cora") || !strings.Contains(body, "118 members") {
			t.Error("the page does not show Cora as manager or the 118 members")
		}

		// Outsiders and B's group under A's URL: 404 everywhere, nothing changed.
		o := w.outsiders(t)
		bGroup, err := w.app.CreateGroup(ctx, app.Viewer{Org: w.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}, w.custB.ID, "Beta team")
		if err != nil {
			t.Fatal(err)
		}
		bUnderA := fmt.Sprintf("%s/groups/%d", a, bGroup)
		aUnderB := fmt.Sprintf("%s/customers/%s/groups/%d", w.srv.URL, w.custB.TenantID, id)
		for _, c := range []struct {
			name   string
			client *http.Client
			base   string
		}{
			{"MSP B", o.mspB, g}, {"customer B's admin", o.adminB, g}, {"customer A's User", o.userA, g},
			{"B's group under A's URL", maya, bUnderA}, {"A's group under B's URL", o.mspB, aUnderB},
		} {
			if code, _ := fetch(t, c.client, c.base); code != 404 {
				t.Errorf("%s: GET group %d; want 404", c.name, code)
			}
			for _, p := range []string{"/members/remove", "/delete", "/members", "/managers"} {
				if code, _, _ := send(t, c.client, "POST", c.base+p, url.Values{"only": {u("u010@alpha.example")}, "members": {"u010@alpha.example"}}); code != 404 {
					t.Errorf("%s: POST %s %d; want 404", c.name, p, code)
				}
			}
		}
		if gr, _, err := w.app.Group(ctx, msp, w.custA.ID, id, ""); err != nil || gr.Members != 118 || len(gr.Managers) != 1 {
			t.Errorf("A's group after the outsiders: %+v, %v", gr, err)
		}

		// Delete: back to the Users tab; the page is gone, the end users stay.
		code, loc, _ = send(t, maya, "POST", g+"/delete", url.Values{})
		if code != 303 || loc != "/customers/"+w.custA.TenantID+"/users?done=group-deleted#groups" {
			t.Errorf("delete: %d %s", code, loc)
		}
		if _, body := fetch(t, maya, w.srv.URL+loc); !strings.Contains(body, "Group deleted") || !strings.Contains(body, "120 are active") {
			t.Error("the Users tab after deleting lacks the notice or the end users")
		}
		if code, _ := fetch(t, maya, g); code != 404 {
			t.Errorf("the deleted group's page: %d", code)
		}
	})
}
