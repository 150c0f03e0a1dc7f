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

// A person in two customers may change their email only if both allow it;
// the change is confirmed by a link to the new address, once.
func TestEmailChangeNeedsEveryCustomerToAllowIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		sys := canopy.System("test")
		pat, err := f.app.AddStaff(ctx, sys, canopy.ScopeOf(f.custA), app.NewStaff{OrgID: f.custA.ID, Name: "Pat", Email: "pat@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		// Pat also belongs to customer B (one person, two customers).
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			return tx.AddMembership(ctx, pat.ID, f.custB.ID, []string{string(canopy.RoleCustomerUser)}, f.clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		mspB := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := f.app.SetCustomerSetting(ctx, mspB, f.custB.ID, canopy.SettingEmailChange, "false", false); err != nil {
			t.Fatal(err)
		}
		v := app.Viewer{PersonID: pat.ID, Name: "Pat", Email: "pat@alpha.example", Org: f.custA, Roles: []canopy.Role{canopy.RoleCustomerUser},
			Actor: canopy.Actor{Kind: canopy.ActorPerson, PersonID: pat.ID, Name: "Pat"}}
		d, err := f.app.MyDetailsOf(ctx, v)
		if err != nil || len(d.EmailLockedBy) != 1 || d.EmailLockedBy[0] != "Beta" {
			t.Errorf("My Details: locked by %v, %v; want Beta", d.EmailLockedBy, err)
		}
		var fe canopy.FieldErrors
		if err := f.app.RequestEmailChange(ctx, v, "pat@new.example"); !errors.As(err, &fe) || !strings.Contains(fe["email"], "Beta does not allow") {
			t.Fatalf("request while Beta forbids it: %v", err)
		}
		if mails, _ := s.RecentMail(ctx, "pat@new.example", 0, 5); len(mails) != 0 {
			t.Error("a refused request sent mail")
		}
		if err := f.app.SetCustomerSetting(ctx, mspB, f.custB.ID, canopy.SettingEmailChange, "", true); err != nil {
			t.Fatal(err)
		}
		if err := f.app.RequestEmailChange(ctx, v, "Pat@New.example"); err != nil {
			t.Fatal(err)
		}
		mails, _ := s.RecentMail(ctx, "pat@new.example", 0, 5)
		if len(mails) != 1 {
			t.Fatalf("confirmation mails = %d", len(mails))
		}
		_, after, _ := strings.Cut(mails[0].Text, "/account/email/")
		token := strings.Fields(after)[0]
		if err := f.app.ConfirmEmailChange(ctx, token, "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PersonByEmail(ctx, "pat@new.example"); err != nil {
			t.Errorf("the new address: %v", err)
		}
		if err := f.app.ConfirmEmailChange(ctx, token, "", ""); !errors.Is(err, app.ErrEmailChangeUnusable) {
			t.Errorf("the link again: %v", err)
		}
		for _, c := range []canopy.Org{f.custA, f.custB} {
			entries, _ := s.Changes(ctx, canopy.ScopeOf(c), c.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionEmailChanged}})
			if len(entries) != 1 {
				t.Errorf("%s: email_changed entries = %d; want 1", c.Name, len(entries))
			}
		}
	})
}
