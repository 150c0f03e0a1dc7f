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

// One pasted list, one result per address: invited, or refused with its
// reason; one mail and one change-log entry per invitation, in the same
// transaction.
func TestInviteUsersReportsEveryAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya", Actor: canopy.Actor{Kind: canopy.ActorPerson, Name: "Maya"}}
		if _, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.custA), app.NewStaff{OrgID: f.custA.ID, Name: "Cora", Email: "cora@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerAdmin}}); err != nil {
			t.Fatal(err)
		}
		list := "ann@alpha.example, bob@alpha.example ann@alpha.example\nthrow@mailinator.com; eve@elsewhere.example, broken@, Cora@Alpha.example"
		results, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: list, Modules: []canopy.Module{"training"}})
		if err != nil {
			t.Fatal(err)
		}
		want := []app.InviteOutcome{app.Invited, app.Invited, app.RefusedDuplicate, app.RefusedDisposable, app.RefusedOutsideLock, app.RefusedMalformed, app.RefusedMember}
		if len(results) != len(want) {
			t.Fatalf("results = %+v", results)
		}
		for i, r := range results {
			if r.Outcome != want[i] || r.Reason == "" {
				t.Errorf("%s: %s (%q); want %s", r.Address, r.Outcome, r.Reason, want[i])
			}
		}
		mails, err := s.RecentMail(ctx, "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var invitationMails int
		for _, m := range mails {
			if strings.HasPrefix(m.Subject, "You are invited to Alpha") {
				invitationMails++
			}
		}
		if invitationMails != 2 {
			t.Errorf("invitation mails queued = %d; want 2", invitationMails)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionInviteSent}})
		if len(entries) != 2 {
			t.Errorf("invite_sent entries = %d; want 2", len(entries))
		}
		// Asked again: already pending. At the maximum of users: refused.
		results, _ = f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "ann@alpha.example"})
		if results[0].Outcome != app.RefusedPending {
			t.Errorf("second invitation of ann: %s", results[0].Outcome)
		}
		c, _ := f.app.Customer(ctx, admin, f.custA.TenantID)
		if _, err := f.app.UpdateCustomer(ctx, admin, c.ID, app.CustomerInput{Name: c.Name, Domain: c.Domain, Plan: c.Plan, Modules: c.Modules, MaxUsers: 4}); err != nil {
			t.Fatal(err)
		}
		results, _ = f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "dan@alpha.example fay@alpha.example"})
		if results[0].Outcome != app.Invited || results[1].Outcome != app.RefusedMaxUsers {
			t.Errorf("at 3 of 4 seats (Cora, Ann, Bob): %+v", results)
		}
		pending, err := f.app.PendingInvitations(ctx, admin, f.custA.ID)
		if err != nil || len(pending) != 3 || pending[0].Email != "dan@alpha.example" || pending[0].InviterName != "Maya" {
			t.Errorf("pending = %+v, %v", pending, err)
		}

		// Bad input: too many addresses, an Admin-only module for a User, a neighbour's customer.
		big := strings.Repeat("x@alpha.example ", app.MaxInvitesAtOnce+1)
		var fe canopy.FieldErrors
		if _, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: big}); !errors.As(err, &fe) || !strings.Contains(fe["addresses"], "at most 10000") {
			t.Errorf("10,001 addresses: %v", err)
		}
		if _, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "gil@alpha.example", Modules: []canopy.Module{"payment"}}); !errors.As(err, &fe) || fe["modules"] == "" {
			t.Errorf("a User with Payment: %v", err)
		}
		other := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if _, err := f.app.InviteUsers(ctx, other, f.custA.ID, app.InviteInput{Addresses: "hal@alpha.example"}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B invites to customer A: %v", err)
		}
		if _, err := f.app.PendingInvitations(ctx, other, f.custA.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B lists customer A's invitations: %v", err)
		}
		if pending, _ := f.app.PendingInvitations(ctx, admin, f.custA.ID); len(pending) != 3 {
			t.Errorf("after the refusals, pending invitations = %d; want still 3", len(pending))
		}
	})
}
