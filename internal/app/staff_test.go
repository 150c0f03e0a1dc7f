package app_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

func viewer(org canopy.Org, id canopy.PersonID, roles ...canopy.Role) app.Viewer {
	return app.Viewer{PersonID: id, Org: org, Roles: roles, Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: id, Name: "Admin"}}
}

var registerLink = regexp.MustCompile(`/register/([A-Za-z0-9_-]+)`)

// registrationToken reads the registration link out of the newest mail to addr.
func registrationToken(t *testing.T, s *store.Store, addr string) string {
	t.Helper()
	mails, err := s.RecentMail(context.Background(), addr, 0, 1)
	if err != nil || len(mails) == 0 {
		t.Fatalf("no mail to %s: %v", addr, err)
	}
	m := registerLink.FindStringSubmatch(mails[0].Text)
	if m == nil {
		t.Fatalf("no registration link in %q", mails[0].Text)
	}
	return m[1]
}

func TestCreateStaffValidatesAndSendsRegistrationMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		bad := []struct {
			name  string
			v     app.Viewer
			in    app.StaffInput
			field string
			kind  error
		}{
			{"malformed email", admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@", Roles: []canopy.Role{canopy.RoleMSPAccounts}}, "email", nil},
			{"missing name", admin, app.StaffInput{OrgID: f.mspA.ID, Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}}, "name", nil},
			{"unknown role", admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{"wizard"}}, "roles", nil},
			{"role above the caller", admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleDistributorAdmin}}, "roles", nil},
			{"no role", admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example"}, "roles", nil},
			{"MSP Accounts may not create users", viewer(f.mspA, 901, canopy.RoleMSPAccounts), app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}}, "", canopy.ErrForbidden},
			{"neighbour MSP", viewer(f.mspB, 902, canopy.RoleMSPAdmin), app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}}, "", canopy.ErrNotFound},
		}
		for _, c := range bad {
			_, err := f.app.CreateStaff(ctx, c.v, c.in)
			var fe canopy.FieldErrors
			switch {
			case c.kind != nil && !errors.Is(err, c.kind):
				t.Errorf("%s: err = %v; want %v", c.name, err, c.kind)
			case c.kind == nil && (!errors.As(err, &fe) || fe[c.field] == ""):
				t.Errorf("%s: err = %v; want a message for %q", c.name, err, c.field)
			}
		}
		if mails, _ := s.RecentMail(ctx, "", 0, 10); len(mails) != 0 {
			t.Fatalf("refused attempts queued %d mails", len(mails))
		}
		if _, err := s.CredentialsByEmail(ctx, "tom@a.example"); !errors.Is(err, canopy.ErrNotFound) {
			t.Fatalf("refused attempts stored a person: %v", err)
		}

		p, err := f.app.CreateStaff(ctx, admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom Okafor", Email: "Tom@A.example", Phone: "+44 20 7946 0000", Roles: []canopy.Role{canopy.RoleMSPAccounts}})
		if err != nil {
			t.Fatal(err)
		}
		creds, _ := s.CredentialsByEmail(ctx, "tom@a.example")
		if creds.ID != p.ID || !creds.Registered.IsZero() {
			t.Errorf("new staff = %+v; want Unregistered", creds)
		}
		mails, _ := s.RecentMail(ctx, "tom@a.example", 0, 10)
		if len(mails) != 1 || mails[0].Subject != "Finish setting up your Canopy account" || !strings.Contains(mails[0].Text, "MSP A has given you access") {
			t.Fatalf("registration mail = %+v", mails)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionAddUser, canopy.ActionGrantRole}})
		if len(entries) != 2 {
			t.Errorf("change log has %d entries; want add user and grant role", len(entries))
		}
		// The same address again at the same organization: refused by field.
		_, err = f.app.CreateStaff(ctx, admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}})
		var fe canopy.FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(fe["email"], "already has access") {
			t.Errorf("duplicate: err = %v", err)
		}
	})
}

func TestRegisterThenSignInWithLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		if _, err := f.app.CreateStaff(ctx, admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Tom Okafor", Email: "tom@a.example", Roles: []canopy.Role{canopy.RoleMSPAccounts}}); err != nil {
			t.Fatal(err)
		}
		token := registrationToken(t, s, "tom@a.example")
		// Unregistered: sign-in refused with the generic answer, reason recorded.
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", "anything at all here", "", ""); !errors.Is(err, app.ErrBadCredentials) {
			t.Errorf("unregistered sign-in: err = %v", err)
		}
		creds, _ := s.CredentialsByEmail(ctx, "tom@a.example")
		if creds.LastLoginError != "unregistered" {
			t.Errorf("last login error = %q; want unregistered", creds.LastLoginError)
		}
		reg, err := f.app.RegistrationFor(ctx, token)
		if err != nil || reg.Name != "Tom Okafor" {
			t.Fatalf("RegistrationFor = %+v, %v", reg, err)
		}
		bad := []struct {
			in    app.RegisterInput
			field string
		}{
			{app.RegisterInput{Password: "short", Confirm: "short", SecurityQuestion: "First pet?", SecurityAnswer: "Rex"}, "password"},
			{app.RegisterInput{Password: "violet tractor under moonlight", Confirm: "violet tractor under sunlight", SecurityQuestion: "First pet?", SecurityAnswer: "Rex"}, "confirm"},
			{app.RegisterInput{Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight", SecurityAnswer: "Rex"}, "security_question"},
			{app.RegisterInput{Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight", SecurityQuestion: "First pet?", SecurityAnswer: "R"}, "security_answer"},
		}
		for _, c := range bad {
			err := f.app.Register(ctx, token, c.in, "", "")
			var fe canopy.FieldErrors
			if !errors.As(err, &fe) || fe[c.field] == "" {
				t.Errorf("register %+v: err = %v; want a message for %s", c.in, err, c.field)
			}
		}
		good := app.RegisterInput{Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight", SecurityQuestion: "Name of your first pet?", SecurityAnswer: "  Rex  "}
		if err := f.app.Register(ctx, token, good, "127.0.0.1", "test"); err != nil {
			t.Fatalf("register: %v", err)
		}
		if err := f.app.Register(ctx, token, good, "", ""); !errors.Is(err, app.ErrRegistrationLinkUnusable) {
			t.Errorf("reused registration link: err = %v", err)
		}
		session, err := f.app.SignInPassword(ctx, "TOM@a.example", "violet tractor under moonlight", "127.0.0.1", "test")
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		v, err := f.app.Authenticate(ctx, session, "", "")
		if err != nil || v.Org.ID != f.mspA.ID || !v.Can(app.PermOrderCustomers) {
			t.Fatalf("session viewer = %+v, %v", v, err)
		}
		// Four wrong passwords: generic answer; the fifth locks.
		for i := 0; i < 4; i++ {
			if _, err := f.app.SignInPassword(ctx, "tom@a.example", "wrong password number", "", ""); !errors.Is(err, app.ErrBadCredentials) {
				t.Fatalf("wrong password %d: err = %v", i+1, err)
			}
		}
		_, err = f.app.SignInPassword(ctx, "tom@a.example", "wrong password number", "", "")
		var locked app.LockedError
		if !errors.As(err, &locked) || !locked.Until.Equal(f.clock.Now().Add(15*time.Minute)) {
			t.Fatalf("fifth wrong password: err = %v; want a lockout of 15 minutes", err)
		}
		// Even the right password is refused while locked, and says so.
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", "violet tractor under moonlight", "", ""); !errors.As(err, &locked) {
			t.Errorf("right password while locked: err = %v", err)
		}
		f.clock.Advance(16 * time.Minute)
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", "violet tractor under moonlight", "", ""); err != nil {
			t.Errorf("after the lockout: %v", err)
		}
		creds, _ = s.CredentialsByEmail(ctx, "tom@a.example")
		if creds.FailedLogins != 0 || creds.LastLoginError != "" || creds.LastLogin.IsZero() {
			t.Errorf("after success: %+v", creds)
		}
		// Unknown addresses get the same answer.
		if _, err := f.app.SignInPassword(ctx, "nobody@a.example", "violet tractor under moonlight", "", ""); !errors.Is(err, app.ErrBadCredentials) {
			t.Errorf("unknown address: err = %v", err)
		}
	})
}

func TestRegistrationLinkExpiresAfterSevenDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		if _, err := f.app.CreateStaff(ctx, admin, app.StaffInput{OrgID: f.mspA.ID, Name: "Ana", Email: "ana@a.example", Roles: []canopy.Role{canopy.RolePartnerMarketing}}); err != nil {
			t.Fatal(err)
		}
		token := registrationToken(t, s, "ana@a.example")
		f.clock.Advance(7*24*time.Hour - time.Minute)
		if _, err := f.app.RegistrationFor(ctx, token); err != nil {
			t.Fatalf("a minute before seven days: %v", err)
		}
		f.clock.Advance(2 * time.Minute)
		good := app.RegisterInput{Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight", SecurityQuestion: "Pet?", SecurityAnswer: "Rex"}
		if err := f.app.Register(ctx, token, good, "", ""); !errors.Is(err, app.ErrRegistrationLinkUnusable) {
			t.Errorf("after seven days: err = %v; want the link refused", err)
		}
	})
}

func TestUpdateStaffChangesRolesWithLogAndTakesEffectAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := viewer(f.mspA, 900, canopy.RoleMSPAdmin)
		v := registeredStaff(t, f, "tom@a.example")
		session, _ := f.app.SignInPassword(ctx, "tom@a.example", pw, "", "")
		var fe canopy.FieldErrors
		if err := f.app.UpdateStaff(ctx, admin, v.PersonID, app.StaffEdit{Name: "", Roles: nil}); !errors.As(err, &fe) || fe["name"] == "" || fe["roles"] == "" {
			t.Errorf("empty edit: err = %v", err)
		}
		if err := f.app.UpdateStaff(ctx, viewer(f.mspB, 901, canopy.RoleMSPAdmin), v.PersonID, app.StaffEdit{Name: "X", Roles: []canopy.Role{canopy.RoleMSPAdmin}}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("neighbour edits: err = %v", err)
		}
		f.clock.Advance(time.Second)
		err := f.app.UpdateStaff(ctx, admin, v.PersonID, app.StaffEdit{Name: "Tom O.", Phone: "+1 555 0100", Roles: []canopy.Role{canopy.RoleMSPImplementationLead}})
		if err != nil {
			t.Fatal(err)
		}
		after, err := f.app.Authenticate(ctx, session, "", "")
		if err != nil || after.Name != "Tom O." || !after.Can(app.PermManageCustomers) || after.Can(app.PermProspects) {
			t.Errorf("after edit: %+v, %v; want Implementation Lead rights on the next request", after.Roles, err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.mspA), f.mspA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionGrantRole, canopy.ActionRevokeRole, canopy.ActionUpdateUser}, Since: f.clock.Now()})
		got := map[canopy.Action]int{}
		for _, e := range entries {
			got[e.Action]++
		}
		if got[canopy.ActionGrantRole] != 1 || got[canopy.ActionRevokeRole] != 1 || got[canopy.ActionUpdateUser] != 1 {
			t.Errorf("change log for the edit = %v; want one grant, one revoke, one update", got)
		}
	})
}

// Ten wrong passwords at once: the account ends up locked, however the
// attempts interleave (the lock is decided inside the UPDATE).
func TestParallelWrongPasswordsStillLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		registeredStaff(t, f, "tom@a.example")
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.app.SignInPassword(ctx, "tom@a.example", "a wrong password guess", "", "")
			}()
		}
		wg.Wait()
		creds, _ := s.CredentialsByEmail(ctx, "tom@a.example")
		if creds.FailedLogins != 10 || !creds.LockedUntil.After(f.clock.Now()) {
			t.Errorf("after 10 parallel failures: count %d, locked until %v; want 10 and locked", creds.FailedLogins, creds.LockedUntil)
		}
		var locked app.LockedError
		if _, err := f.app.SignInPassword(ctx, "tom@a.example", pw, "", ""); !errors.As(err, &locked) {
			t.Errorf("right password while locked: %v", err)
		}
	})
}
