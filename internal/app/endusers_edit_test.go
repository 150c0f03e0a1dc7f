package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func ptr(s string) *string { return &s }

// Editing an end user: every bad input is refused by field and saves
// nothing; a save logs only the changed fields, before and after, once;
// the Active Users count does not move; a new address ends the old one's
// portal session and spends its unused links.
func TestUpdateEndUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		for _, e := range []string{"eve@alpha.example", "ian@alpha.example"} {
			if err := f.app.AddEndUserBy(ctx, admin, f.custA.ID, e, "Eve", "Lee"); err != nil {
				t.Fatal(err)
			}
		}
		page, err := f.app.EndUsers(ctx, admin, f.custA.ID, app.EndUserQuery{})
		users := page.Users
		if err != nil || len(users) != 2 {
			t.Fatalf("end users = %+v, %v", users, err)
		}
		eve := users[0]
		activeUsers := func() int {
			t.Helper()
			c, err := f.app.Customer(ctx, admin, f.custA.TenantID)
			if err != nil {
				t.Fatal(err)
			}
			return c.ActiveUsers
		}
		updates := func() int {
			t.Helper()
			entries, err := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionUpdateUser}})
			if err != nil {
				t.Fatal(err)
			}
			return len(entries)
		}
		// A portal session and an unused link of Eve's, to see them end.
		p, err := f.app.PortalOf(ctx, f.custA.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		link := func() string {
			mails, _ := s.RecentMail(ctx, "eve@alpha.example", 0, 1)
			_, after, _ := strings.Cut(mails[0].Text, "/link/")
			return strings.Fields(after)[0]
		}
		if err := f.app.RequestPortalLink(ctx, p, "eve@alpha.example"); err != nil {
			t.Fatal(err)
		}
		session, err := f.app.RedeemPortalLink(ctx, p, link())
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.RequestPortalLink(ctx, p, "eve@alpha.example"); err != nil {
			t.Fatal(err)
		}
		unused := link()

		long := strings.Repeat("é", 101)
		for _, c := range []struct {
			name  string
			in    app.EndUserChange
			field string
		}{
			{"no address", app.EndUserChange{Email: ptr("  ")}, "email"},
			{"not an address", app.EndUserChange{Email: ptr("eve at alpha"), FirstName: ptr("Evelyn")}, "email"},
			{"another end user's", app.EndUserChange{Email: ptr("IAN@alpha.example")}, "email"},
			{"outside the Domain Lock", app.EndUserChange{Email: ptr("eve@elsewhere.example")}, "email"},
			{"a long first name", app.EndUserChange{FirstName: ptr(long), Email: ptr("eve2@alpha.example")}, "first_name"},
			{"a long last name", app.EndUserChange{LastName: ptr(long)}, "last_name"},
		} {
			var fe canopy.FieldErrors
			if _, err := f.app.UpdateEndUser(ctx, admin, f.custA.ID, eve.ID, c.in); !errors.As(err, &fe) || fe[c.field] == "" {
				t.Errorf("%s: %v; want an error on %s", c.name, err, c.field)
			}
		}
		if got, _ := f.app.EndUser(ctx, admin, f.custA.ID, eve.ID); got != eve {
			t.Errorf("after refused edits: %+v; want %+v", got, eve)
		}
		if n := updates(); n != 0 {
			t.Errorf("refused edits logged %d entries", n)
		}
		if _, err := f.app.CheckPortalLink(ctx, p, unused); err != nil {
			t.Errorf("a refused edit spent the link: %v", err)
		}

		// The names alone: logged, the session lives on.
		got, err := f.app.UpdateEndUser(ctx, admin, f.custA.ID, eve.ID, app.EndUserChange{FirstName: ptr(" Evelyn "), LastName: ptr("Lee")})
		if err != nil || got.FirstName != "Evelyn" || got.Email != eve.Email {
			t.Fatalf("rename = %+v, %v", got, err)
		}
		if _, err := f.app.PortalUser(ctx, p, session); err != nil {
			t.Errorf("a new name ended the portal session: %v", err)
		}
		// Nothing changed: nothing logged.
		if _, err := f.app.UpdateEndUser(ctx, admin, f.custA.ID, eve.ID, app.EndUserChange{FirstName: ptr("Evelyn")}); err != nil {
			t.Fatal(err)
		}
		if n := updates(); n != 1 {
			t.Errorf("entries after a rename and a no-op = %d; want 1", n)
		}
		// A new address, in capitals: stored in lower case, the old
		// address's session and link end.
		got, err = f.app.UpdateEndUser(ctx, admin, f.custA.ID, eve.ID, app.EndUserChange{Email: ptr("Evelyn@Alpha.example")})
		if err != nil || got.Email != "evelyn@alpha.example" {
			t.Fatalf("new address = %+v, %v", got, err)
		}
		if _, err := f.app.PortalUser(ctx, p, session); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("the old address's portal session: %v", err)
		}
		if _, err := f.app.CheckPortalLink(ctx, p, unused); err == nil {
			t.Error("a link mailed to the old address still works")
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionUpdateUser}})
		if len(entries) != 2 || entries[0].TargetType != "end_user" || string(entries[0].Before) != `{"email":"eve@alpha.example"}` || string(entries[0].After) != `{"email":"evelyn@alpha.example"}` {
			t.Errorf("newest entry = %+v", entries[0])
		}
		if string(entries[1].Before) != `{"first_name":"Eve"}` || string(entries[1].After) != `{"first_name":"Evelyn"}` {
			t.Errorf("rename entry = %s → %s", entries[1].Before, entries[1].After)
		}
		// A deactivated end user stays deactivated and uncounted.
		if err := f.app.SetEndUserActive(ctx, admin, f.custA.ID, users[1].ID, false); err != nil {
			t.Fatal(err)
		}
		if got, err := f.app.UpdateEndUser(ctx, admin, f.custA.ID, users[1].ID, app.EndUserChange{LastName: ptr("Moss")}); err != nil || got.Active {
			t.Errorf("edit of a deactivated end user = %+v, %v", got, err)
		}
		if n := activeUsers(); n != 1 {
			t.Errorf("active users = %d; want 1", n)
		}
		if err := s.VerifyActiveUserCounts(ctx); err != nil {
			t.Error(err)
		}

		// Other tenants and a customer User without user management.
		mspB := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		adminB := app.Viewer{Org: f.custB, Roles: []canopy.Role{canopy.RoleCustomerAdmin}}
		userA := app.Viewer{Org: f.custA, Roles: []canopy.Role{canopy.RoleCustomerUser}}
		for _, c := range []struct {
			name     string
			v        app.Viewer
			customer canopy.OrgID
			want     error
		}{
			{"MSP B", mspB, f.custA.ID, canopy.ErrNotFound},
			{"customer B's admin", adminB, f.custA.ID, canopy.ErrNotFound},
			{"A's end user under customer B", mspB, f.custB.ID, canopy.ErrNotFound},
			{"a customer User", userA, f.custA.ID, canopy.ErrForbidden},
		} {
			if _, err := f.app.UpdateEndUser(ctx, c.v, c.customer, eve.ID, app.EndUserChange{FirstName: ptr("X")}); !errors.Is(err, c.want) {
				t.Errorf("%s edits: %v; want %v", c.name, err, c.want)
			}
			if _, err := f.app.EndUser(ctx, c.v, c.customer, eve.ID); !errors.Is(err, c.want) {
				t.Errorf("%s reads: %v; want %v", c.name, err, c.want)
			}
		}
		if _, err := f.app.UpdateEndUser(ctx, admin, f.custA.ID, 999999, app.EndUserChange{FirstName: ptr("X")}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("an unknown end user: %v", err)
		}
	})
}
