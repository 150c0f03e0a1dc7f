package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// Admin Login moves a session into one customer as its administrator for a
// time box; when the box ends, the next request is back at the MSP and the
// end is logged once, by the time limit.
func TestAdminLoginIsTimeBoxedAndScoped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		maya, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), app.NewStaff{OrgID: f.mspA.ID, Name: "Maya", Email: "maya@a.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		token, _ := f.app.IssueSigninLink(ctx, maya.ID, f.mspA.ID, app.PurposeFirstSignIn, time.Hour)
		session, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.app.Authenticate(ctx, session, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.StartAdminLogin(ctx, v, session, f.custB.ID, "Looking at a neighbour", 0); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("Admin Login into another MSP's customer: %v; want ErrNotFound", err)
		}
		if _, err := f.app.StartAdminLogin(ctx, v, session, f.custA.ID, "Ticket 12: the customer asked for help", 20*time.Minute); err != nil {
			t.Fatal(err)
		}
		acting, err := f.app.Authenticate(ctx, session, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if acting.Org.ID != f.custA.ID || acting.Acting == nil || acting.Acting.FromOrg != f.mspA.ID ||
			len(acting.Roles) != 1 || acting.Roles[0] != canopy.RoleCustomerAdmin || acting.Actor.OnBehalfOfName != "Alpha administrator (Admin Login)" {
			t.Fatalf("acting viewer = org %d, acting %+v, roles %v, on behalf of %q", acting.Org.ID, acting.Acting, acting.Roles, acting.Actor.OnBehalfOfName)
		}
		if _, err := f.app.StartAdminLogin(ctx, acting, session, f.custA.ID, "Again, nested", 0); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("a second Admin Login inside the first (a customer admin has no Admin Login): %v; want ErrForbidden", err)
		}
		// Inside, nothing outside the customer is reachable.
		if _, err := f.app.Customer(ctx, acting, f.custB.TenantID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("reading customer B under Admin Login: %v", err)
		}
		if _, err := f.app.ChangeLog(ctx, acting, f.mspA.ID, canopy.ChangeFilter{}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("reading the MSP's change log under Admin Login: %v", err)
		}
		// 19 minutes in, still acting; at 20, back at the MSP.
		f.clock.Advance(19 * time.Minute)
		if v, err := f.app.Authenticate(ctx, session, "", ""); err != nil || v.Acting == nil {
			t.Fatalf("19 minutes in: acting %v, %v", v.Acting != nil, err)
		}
		f.clock.Advance(time.Minute)
		back, err := f.app.Authenticate(ctx, session, "", "")
		if err != nil || back.Acting != nil || back.Org.ID != f.mspA.ID {
			t.Fatalf("after the time box: org %d acting %v, %v", back.Org.ID, back.Acting != nil, err)
		}
		if _, err := f.app.Authenticate(ctx, session, "", ""); err != nil {
			t.Fatal(err)
		}
		ends, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionAdminLoginEnd}})
		if len(ends) != 1 || string(ends[0].After) != `{"how":"time limit reached","reason":"Ticket 12: the customer asked for help"}` {
			t.Errorf("end entries = %d: %s", len(ends), func() string {
				if len(ends) > 0 {
					return string(ends[0].After)
				}
				return ""
			}())
		}
		// Ending by hand when nothing is acting does nothing.
		if err := f.app.EndAdminLogin(ctx, back, session); err != nil {
			t.Errorf("ending when not acting: %v", err)
		}
	})
}
