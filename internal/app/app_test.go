package app_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type fixture struct {
	app        *app.App
	store      *store.Store
	clock      *canopy.ManualClock
	root       canopy.Org
	dist       canopy.Org
	mspA, mspB canopy.Org
	custA      canopy.Org
	custB      canopy.Org
}

func setup(t testing.TB, s *store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{store: s, clock: canopy.NewManualClock(t0)}
	f.app = app.New(app.Deps{Store: s, Clock: f.clock, SessionIdle: 30 * time.Minute, SessionMax: 12 * time.Hour})
	var err error
	must := func(o canopy.Org, e error) canopy.Org {
		t.Helper()
		if e != nil {
			t.Fatal(e)
		}
		return o
	}
	f.root, err = f.app.CreatePlatform(ctx, "Canopy")
	if err != nil {
		t.Fatal(err)
	}
	all := canopy.ScopeOf(f.root)
	sys := canopy.System("test")
	f.dist = must(f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: f.root.ID, Kind: canopy.KindDistributor, Name: "Dist"}))
	f.mspA = must(f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: f.dist.ID, Kind: canopy.KindMSP, Name: "MSP A"}))
	f.mspB = must(f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: f.dist.ID, Kind: canopy.KindMSP, Name: "MSP B"}))
	f.custA = must(f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: "Alpha", Domain: "Alpha.Example"}))
	f.custB = must(f.app.CreateOrg(ctx, sys, all, app.NewOrg{ParentID: f.mspB.ID, Kind: canopy.KindCustomer, Name: "Beta", Domain: "beta.example"}))
	return f
}

func TestCreateOrgValidatesAndLogsInTheSameTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		if f.custA.Domain != "alpha.example" || f.custA.Status != canopy.StatusTrial {
			t.Errorf("customer = %q %q; want lower-cased domain and trial status", f.custA.Domain, f.custA.Status)
		}
		actor := canopy.Actor{Kind: canopy.ActorPerson, PersonID: 1, Name: "Maya"}
		cases := []struct {
			name  string
			n     app.NewOrg
			field string
		}{
			{"empty name", app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: "  ", Domain: "x.example"}, "name"},
			{"bad domain", app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: "X", Domain: "not a domain"}, "domain"},
			{"platform kind", app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindPlatform, Name: "X"}, "kind"},
			{"unknown status", app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: "X", Domain: "x.example", Status: "gold"}, "status"},
		}
		for _, c := range cases {
			_, err := f.app.CreateOrg(ctx, actor, canopy.ScopeOf(f.mspA), c.n)
			var fe canopy.FieldErrors
			if !errors.As(err, &fe) || fe[c.field] == "" {
				t.Errorf("%s: err = %v; want a message for %q", c.name, err, c.field)
			}
		}
		// Nothing was stored by the refused attempts.
		list, _ := s.Orgs(ctx, canopy.ScopeOf(f.mspA), []canopy.OrgKind{canopy.KindCustomer}, 10)
		if len(list) != 1 {
			t.Errorf("MSP A has %d customers; want 1", len(list))
		}
		// MSP A's staff cannot create under MSP B: not found, not forbidden.
		_, err := f.app.CreateOrg(ctx, actor, canopy.ScopeOf(f.mspA), app.NewOrg{ParentID: f.mspB.ID, Kind: canopy.KindCustomer, Name: "X", Domain: "x.example"})
		if !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("create under neighbour: err = %v; want ErrNotFound", err)
		}
		// A successful creation has its entry.
		created, err := f.app.CreateOrg(ctx, actor, canopy.ScopeOf(f.mspA), app.NewOrg{ParentID: f.mspA.ID, Kind: canopy.KindCustomer, Name: "Gamma", Domain: "gamma.example"})
		if err != nil {
			t.Fatal(err)
		}
		entries, err := s.Changes(ctx, canopy.ScopeOf(f.mspA), created.ID, canopy.ChangeFilter{})
		if err != nil || len(entries) != 1 {
			t.Fatalf("change log = %v, %v; want one entry", entries, err)
		}
		e := entries[0]
		if e.Action != canopy.ActionCreateCustomer || e.Actor.Name != "Maya" || e.TargetName != "Gamma" || e.Before != nil || len(e.After) == 0 {
			t.Errorf("entry = %+v", e)
		}
	})
}

func TestTenantTreeShowsOnlyTheViewersSubtree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		v := app.Viewer{Org: f.mspA}
		tree, err := f.app.TenantTree(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		if len(tree.Nodes) != 1 || tree.Nodes[0].ID != f.mspA.ID || tree.Nodes[0].Children != 1 {
			t.Errorf("MSP A's tree = %+v; want MSP A with 1 customer", tree.Nodes)
		}
		if tree.Totals.Customers != 1 || tree.Totals.MSPs != 1 {
			t.Errorf("totals = %+v", tree.Totals)
		}
		if _, err := f.app.OrgByTenantID(ctx, v, f.custB.TenantID, 10); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("neighbour's customer: err = %v; want ErrNotFound", err)
		}
		if _, err := f.app.OrgByTenantID(ctx, v, "not-a-uuid", 10); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("malformed tenant ID: err = %v; want ErrNotFound", err)
		}
		page, err := f.app.OrgByTenantID(ctx, v, f.custA.TenantID, 10)
		if err != nil || len(page.Ancestors) != 1 || page.Ancestors[0].ID != f.mspA.ID {
			t.Errorf("own customer page = %+v, %v; breadcrumbs must stop at MSP A", page.Ancestors, err)
		}
		full, err := f.app.TenantTree(ctx, app.Viewer{Org: f.root})
		if err != nil || len(full.Nodes) != 4 || full.Nodes[0].Children != 1 || full.Nodes[1].Children != 2 {
			t.Errorf("platform tree = %+v, %v", full.Nodes, err)
		}
	})
}

func TestSigninLinkIsSingleUseAndSessionsExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		p, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), app.NewStaff{OrgID: f.mspA.ID, Name: "Maya", Email: "Maya@A.example", Roles: []canopy.Role{canopy.RoleMSPAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Email != "maya@a.example" {
			t.Errorf("email = %q; want lower case", p.Email)
		}
		token, err := f.app.IssueSigninLink(ctx, p.ID, f.mspA.ID, app.PurposeFirstSignIn, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.CheckSigninLink(ctx, token, app.PurposeFirstSignIn); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
		if err := f.app.CheckSigninLink(ctx, token, app.PurposeFirstSignIn); err != nil {
			t.Fatalf("checking must not spend the link: %v", err)
		}
		if _, err := f.app.RedeemSigninLink(ctx, token+"x", app.PurposeFirstSignIn, "", ""); !errors.Is(err, app.ErrLinkUnusable) {
			t.Errorf("tampered token: err = %v", err)
		}
		session, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "", ""); !errors.Is(err, app.ErrLinkUnusable) {
			t.Errorf("reused link: err = %v; want ErrLinkUnusable", err)
		}
		v, err := f.app.Authenticate(ctx, session, "127.0.0.1", "test")
		if err != nil || v.Org.ID != f.mspA.ID || v.Name != "Maya" {
			t.Fatalf("Authenticate = %+v, %v", v, err)
		}
		// The sign-in is in MSP A's change log.
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionSignIn}})
		if len(entries) != 1 || entries[0].Actor.PersonID != p.ID {
			t.Errorf("sign-in entries = %+v", entries)
		}
		// Activity keeps the session alive; 30 idle minutes end it.
		f.clock.Advance(20 * time.Minute)
		if _, err := f.app.Authenticate(ctx, session, "", ""); err != nil {
			t.Fatalf("after 20 active minutes: %v", err)
		}
		f.clock.Advance(29 * time.Minute)
		if _, err := f.app.Authenticate(ctx, session, "", ""); err != nil {
			t.Fatalf("29 minutes after the last request: %v", err)
		}
		f.clock.Advance(30 * time.Minute)
		if _, err := f.app.Authenticate(ctx, session, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("after 30 idle minutes: err = %v; want ErrUnauthenticated", err)
		}
		// An expired link is refused.
		late, _ := f.app.IssueSigninLink(ctx, p.ID, f.mspA.ID, app.PurposeFirstSignIn, time.Hour)
		f.clock.Advance(61 * time.Minute)
		if _, err := f.app.RedeemSigninLink(ctx, late, app.PurposeFirstSignIn, "", ""); !errors.Is(err, app.ErrLinkUnusable) {
			t.Errorf("expired link: err = %v", err)
		}
	})
}

func TestSessionAbsoluteLifetime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		p, _ := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.root), app.NewStaff{OrgID: f.root.ID, Name: "Root", Email: "root@example.com"})
		token, _ := f.app.IssueSigninLink(ctx, p.ID, f.root.ID, app.PurposeFirstSignIn, time.Hour)
		session, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 28; i++ { // a request every 25 minutes for 11h40m
			f.clock.Advance(25 * time.Minute)
			if _, err := f.app.Authenticate(ctx, session, "", ""); err != nil {
				t.Fatalf("active session ended after %d checks: %v", i, err)
			}
		}
		// 25 minutes later: not idle, but 12h05m after sign-in.
		f.clock.Advance(25 * time.Minute)
		if _, err := f.app.Authenticate(ctx, session, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("past the absolute lifetime: err = %v", err)
		}
	})
}

func TestAddEndUserKeepsActiveUsersCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		sys := canopy.System("test")
		for i, email := range []string{"a@alpha.example", "b@alpha.example", "c@alpha.example"} {
			if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.mspA), f.custA.ID, email, "A", "B", i != 2); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.mspA), f.custA.ID, "a@alpha.example", "", "", true); !errors.Is(err, canopy.ErrConflict) {
			t.Errorf("duplicate end user: err = %v; want ErrConflict", err)
		}
		if err := f.app.AddEndUser(ctx, sys, canopy.ScopeOf(f.mspA), f.custB.ID, "x@beta.example", "", "", true); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("end user for neighbour's customer: err = %v; want ErrNotFound", err)
		}
		got, _ := s.Org(ctx, canopy.ScopeOf(f.mspA), f.custA.ID)
		if got.ActiveUsers != 2 {
			t.Errorf("active users = %d; want 2", got.ActiveUsers)
		}
	})
}

func TestRemovedMembershipEndsTheSessionAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		p, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.mspA), app.NewStaff{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}})
		if err != nil {
			t.Fatal(err)
		}
		token, _ := f.app.IssueSigninLink(ctx, p.ID, f.mspA.ID, app.PurposeFirstSignIn, time.Hour)
		session, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "", "")
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.app.Authenticate(ctx, session, "", "")
		if err != nil || len(v.Roles) != 1 || v.Roles[0] != canopy.RoleMSPAccounts || !v.Can(app.PermOrderCustomers) || v.Can(app.PermManageStaff) {
			t.Fatalf("viewer = %+v, %v; want MSP Accounts rights", v, err)
		}
		admin := app.Viewer{PersonID: 999, Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: 999, Name: "Maya"}}
		accounts := app.Viewer{PersonID: p.ID, Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAccounts}}
		neighbour := app.Viewer{PersonID: 998, Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := f.app.RemoveAccess(ctx, accounts, p.ID, f.mspA.ID); !errors.Is(err, canopy.ErrForbidden) {
			t.Errorf("MSP Accounts removing access: err = %v; want ErrForbidden", err)
		}
		if err := f.app.RemoveAccess(ctx, neighbour, p.ID, f.mspA.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("neighbour MSP removing access: err = %v; want ErrNotFound", err)
		}
		if _, err := f.app.Authenticate(ctx, session, "", ""); err != nil {
			t.Fatalf("refused removals must leave the session: %v", err)
		}
		if err := f.app.RemoveAccess(ctx, admin, p.ID, f.mspA.ID); err != nil {
			t.Fatal(err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionRemoveUser, canopy.ActionRevokeRole}})
		if len(entries) != 2 || entries[0].Actor.Name != "Maya" {
			t.Errorf("change log = %+v; want remove user and revoke role by Maya", entries)
		}
		if _, err := f.app.Authenticate(ctx, session, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("after removal: err = %v; want ErrUnauthenticated on the very next request", err)
		}
	})
}

func TestSessionsListSignOutEverywhereAndRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		registeredStaff(t, f, "tom@a.example")
		laptop, _ := f.app.SignInPassword(ctx, "tom@a.example", pw, "10.0.0.1", "Laptop")
		phone, _ := f.app.SignInPassword(ctx, "tom@a.example", pw, "10.0.0.2", "Phone")
		v, err := f.app.Authenticate(ctx, laptop, "", "")
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.app.MySessions(ctx, v, laptop)
		if err != nil || len(list) != 3 { // registeredStaff signed in once too
			t.Fatalf("sessions = %d, %v; want 3", len(list), err)
		}
		current := 0
		for _, x := range list {
			if x.Current {
				current++
				if x.UserAgent != "Laptop" {
					t.Errorf("current session is %q", x.UserAgent)
				}
			}
		}
		if current != 1 {
			t.Errorf("%d sessions marked current", current)
		}
		if n, err := f.app.SignOutEverywhereElse(ctx, v, laptop); err != nil || n != 2 {
			t.Errorf("ended %d, %v; want 2", n, err)
		}
		if _, err := f.app.Authenticate(ctx, phone, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("phone session survived: %v", err)
		}
		rotated, err := f.app.RotateSession(ctx, laptop)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.Authenticate(ctx, laptop, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("old token still works after rotation: %v", err)
		}
		if _, err := f.app.Authenticate(ctx, rotated, "", ""); err != nil {
			t.Errorf("new token: %v", err)
		}
	})
}
