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

// The Users tab invites a pasted list with a result per address and lists
// pending invitations; a neighbour's customer, its invitations and their
// Resend and Remove are 404; the link's page spends nothing, its POST joins.
func TestInvitationPagesAndCrossTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		maya := w.client(t, w.staffA.ID, w.mspA.ID)
		cora := w.client(t, w.staffCus.ID, w.custA.ID)
		a := w.srv.URL + "/customers/" + w.custA.TenantID
		b := w.srv.URL + "/customers/" + w.custB.TenantID

		code, _, body := send(t, cora, "POST", a+"/invitations", url.Values{"addresses": {"ann@alpha.example, ann@alpha.example\nx@mailinator.com eve@else.example"}, "role": {"customer_user"}, "modules": {"training"}})
		if code != 200 || !strings.Contains(body, "1 of 4 addresses invited") || !strings.Contains(body, "disposable address") || !strings.Contains(body, "Domain Lock") || !strings.Contains(body, "Listed twice") {
			t.Fatalf("invite results: %d\n%s", code, between(body, "Invitation results", "Invite users"))
		}
		if !strings.Contains(between(body, "Pending invitations", "</table>"), "ann@alpha.example") {
			t.Error("ann is not listed as pending")
		}
		if code, _, body := send(t, cora, "POST", a+"/invitations", url.Values{"addresses": {strings.Repeat("z@alpha.example ", 10_001)}}); code != 422 || !strings.Contains(body, "invite at most 10000") {
			t.Errorf("10,001 addresses: %d", code)
		}
		// Customer B gets an invitation of its own; A's people cannot touch it.
		mspB := app.Viewer{Org: w.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Bea"}
		if _, err := w.app.InviteUsers(ctx, mspB, w.custB.ID, app.InviteInput{Addresses: "bob@beta.example"}); err != nil {
			t.Fatal(err)
		}
		bPending, _ := w.app.PendingInvitations(ctx, mspB, w.custB.ID)
		bInv := fmt.Sprint(bPending[0].ID)
		for _, c := range []struct {
			who    string
			client *http.Client
		}{{"MSP A", maya}, {"customer A", cora}} {
			for _, req := range []struct{ method, u string }{
				{"GET", b + "/users"}, {"POST", b + "/invitations"}, {"POST", b + "/invitations/" + bInv + "/resend"}, {"POST", b + "/invitations/" + bInv + "/remove"},
				{"POST", a + "/invitations/" + bInv + "/remove"}, {"POST", a + "/invitations/" + bInv + "/resend"},
			} {
				if code, _, body := send(t, c.client, req.method, req.u, url.Values{"addresses": {"q@beta.example"}}); code != 404 || strings.Contains(body, "bob@beta.example") {
					t.Errorf("%s %s %s: %d; want 404", c.who, req.method, strings.TrimPrefix(req.u, w.srv.URL), code)
				}
			}
		}
		// B's users are out of reach too.
		bea, err := w.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(w.custB), app.NewStaff{OrgID: w.custB.ID, Name: "Bea", Email: "bea@beta.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		for _, act := range []string{"deactivate", "reactivate", "remove"} {
			for _, u := range []string{b + fmt.Sprintf("/users/%d/", bea.ID) + act, a + fmt.Sprintf("/users/%d/", bea.ID) + act} {
				if code, _, _ := send(t, maya, "POST", u, url.Values{}); code != 404 {
					t.Errorf("MSP A POST %s: %d; want 404", strings.TrimPrefix(u, w.srv.URL), code)
				}
			}
		}
		if _, body := fetch(t, maya, a+"/users"); strings.Contains(body, "bea@beta.example") {
			t.Error("customer A's Users tab lists B's user")
		}
		// Cora (customer A's admin) is listed as active; Maya deactivates and reactivates her, seen in the lists.
		if code, _, _ := send(t, maya, "POST", a+fmt.Sprintf("/users/%d/deactivate", w.staffCus.ID), url.Values{}); code != 303 {
			t.Errorf("deactivate Cora: %d", code)
		}
		if _, body := fetch(t, maya, a+"/users"); !strings.Contains(between(body, "Deactivated users", "</table>"), "cora@alpha.example") {
			t.Error("Cora is not under Deactivated users")
		}
		if code, _, _ := send(t, maya, "POST", a+fmt.Sprintf("/users/%d/reactivate", w.staffCus.ID), url.Values{}); code != 303 {
			t.Errorf("reactivate Cora: %d", code)
		}
		if _, body := fetch(t, maya, a+"/users"); !strings.Contains(between(body, "Active users", "</table>"), "cora@alpha.example") {
			t.Error("Cora is not back under Active users")
		}
		if p, _ := w.app.PendingInvitations(ctx, mspB, w.custB.ID); len(p) != 1 {
			t.Error("customer B's invitation changed")
		}
		// The link: GET shows the form and spends nothing; POST joins.
		mails, _ := s.RecentMail(ctx, "ann@alpha.example", 0, 1)
		_, after, _ := strings.Cut(mails[0].Text, "/invitations/")
		link := w.srv.URL + "/invitations/" + strings.Fields(after)[0]
		anon := &http.Client{}
		for i := 0; i < 2; i++ {
			if code, _, body := send(t, anon, "GET", link, nil); code != 200 || !strings.Contains(body, "Join Alpha") {
				t.Fatalf("opening the link (%d): %d", i, code)
			}
		}
		if code, _, body := send(t, anon, "POST", link, url.Values{"name": {"Ann"}, "password": {"short"}, "confirm": {"short"}}); code != 422 || !strings.Contains(body, "field-error") {
			t.Errorf("a short password: %d", code)
		}
		if code, _, body := send(t, anon, "POST", link, url.Values{"name": {"Ann Lee"}, "password": {"violet tractor under moonlight"}, "confirm": {"violet tractor under moonlight"},
			"security_question": {"Name of your first pet?"}, "security_answer": {"Rex"}}); code != 200 || !strings.Contains(body, "You have joined the account") {
			t.Errorf("accepting: %d", code)
		}
		if code, _, body := send(t, anon, "GET", link, nil); code != 410 || !strings.Contains(body, "cannot be used") || !strings.Contains(body, "was used already") {
			t.Errorf("the spent link: %d", code)
		}
		if code, _, _ := send(t, anon, "GET", w.srv.URL+"/invitations/not-a-token", nil); code != 410 {
			t.Errorf("a made-up link: %d", code)
		}
	})
}
