package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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

// invitationToken reads the newest invitation link mailed to addr.
func invitationToken(t *testing.T, s *store.Store, addr string) string {
	t.Helper()
	return storetest.TokenInMail(t, s, addr, "/invitations/")
}

// Resend gives a new link and kills the old one; Remove kills the link;
// accepting asks a new person for name and password, makes them an Active
// User with their modules, and spends the link; a link expires in 7 days.
func TestInvitationResendRemoveAcceptAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya", Actor: canopy.Actor{Kind: canopy.ActorPerson, Name: "Maya"}}
		if _, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "ann@alpha.example bob@alpha.example cy@alpha.example", Modules: []canopy.Module{"training", "reports"}}); err != nil {
			t.Fatal(err)
		}
		pending, _ := f.app.PendingInvitations(ctx, admin, f.custA.ID)
		ids := map[string]int64{}
		for _, p := range pending {
			ids[p.Email] = p.ID
		}
		first := invitationToken(t, s, "ann@alpha.example")
		f.clock.Advance(time.Minute)
		if err := f.app.ResendInvitation(ctx, admin, f.custA.ID, ids["ann@alpha.example"]); err != nil {
			t.Fatal(err)
		}
		second := invitationToken(t, s, "ann@alpha.example")
		if second == first {
			t.Fatal("the resent mail carries the old link")
		}
		if _, _, _, err := f.app.InvitationFor(ctx, first); !errors.Is(err, app.ErrInvitationUnusable) {
			t.Errorf("the old link after a resend: %v", err)
		}
		// Removing Bob's invitation kills his link.
		bobToken := invitationToken(t, s, "bob@alpha.example")
		if err := f.app.RemoveInvitation(ctx, admin, f.custA.ID, ids["bob@alpha.example"]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.AcceptInvitation(ctx, bobToken, app.AcceptInput{Name: "Bob", Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight"}, "", ""); !errors.Is(err, app.ErrInvitationUnusable) {
			t.Errorf("accepting a removed invitation: %v", err)
		}
		// Accepting: bad input first, then Ann is an Active User with her modules.
		var fe canopy.FieldErrors
		if _, err := f.app.AcceptInvitation(ctx, second, app.AcceptInput{Name: "", Password: "short", Confirm: "short"}, "", ""); !errors.As(err, &fe) || fe["name"] == "" || fe["password"] == "" {
			t.Errorf("accepting without a name and with a short password: %v", err)
		}
		if _, err := f.app.AcceptInvitation(ctx, second, app.AcceptInput{Name: "Ann Lee", Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight"}, "", ""); !errors.As(err, &fe) || fe["security_question"] == "" || fe["security_answer"] == "" {
			t.Errorf("accepting without a security question: %v", err)
		}
		ann, err := f.app.AcceptInvitation(ctx, second, app.AcceptInput{Name: "Ann Lee", Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight",
			SecurityQuestion: "Name of your first pet?", SecurityAnswer: " Rex  the Dog "}, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.MembershipsOf(ctx, ann)
		if err != nil || len(ms) != 1 || ms[0].Org.ID != f.custA.ID || len(ms[0].Roles) != 1 || ms[0].Roles[0] != string(canopy.RoleCustomerUser) || ms[0].Status != "active" {
			t.Errorf("Ann's memberships = %+v, %v", ms, err)
		}
		if _, err := f.app.SignInPassword(ctx, "ann@alpha.example", "violet tractor under moonlight", "", ""); err != nil {
			t.Errorf("Ann signs in with her new password: %v", err)
		}
		if cr, err := s.CredentialsByEmail(ctx, "ann@alpha.example"); err != nil || cr.SecurityQuestion != "Name of your first pet?" || cr.SecurityAnswerHash == "" {
			t.Errorf("Ann's security question = %q, %v", cr.SecurityQuestion, err)
		}
		if _, err := f.app.AcceptInvitation(ctx, second, app.AcceptInput{Name: "Ann", Password: "violet tractor under moonlight", Confirm: "violet tractor under moonlight"}, "", ""); !errors.Is(err, app.ErrInvitationUnusable) {
			t.Errorf("the spent link again: %v", err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionInviteResent, canopy.ActionInviteRevoked, canopy.ActionInviteAccepted, canopy.ActionAddUser}})
		if len(entries) != 4 {
			t.Errorf("resent/revoked/accepted/add-user entries = %d; want 4", len(entries))
		}
		// Cy's link dies after seven days.
		cyToken := invitationToken(t, s, "cy@alpha.example")
		f.clock.Advance(app.InviteTTL)
		if _, _, _, err := f.app.InvitationFor(ctx, cyToken); !errors.Is(err, app.ErrInvitationUnusable) {
			t.Errorf("a link after seven days: %v", err)
		}
		if st, err := f.app.StaleInvitationFor(ctx, cyToken); err != nil || st.Expired.IsZero() || st.Customer != "Alpha" || st.Inviter == "" {
			t.Errorf("the expired link says who to ask: %+v, %v", st, err)
		}
		// Another MSP can neither resend nor remove.
		other := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := f.app.ResendInvitation(ctx, other, f.custA.ID, ids["cy@alpha.example"]); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B resends: %v", err)
		}
		if err := f.app.RemoveInvitation(ctx, other, f.custA.ID, ids["cy@alpha.example"]); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B removes: %v", err)
		}
	})
}

// Deactivate keeps the user under Deactivated and signs them out;
// Reactivate brings them back; Remove takes them off the account, and they
// may be invited again.
func TestAccountUsersDeactivateReactivateRemove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		cora, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.custA), app.NewStaff{OrgID: f.custA.ID, Name: "Cora", Email: "cora@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		token, _ := f.app.IssueSigninLink(ctx, cora.ID, f.custA.ID, app.PurposeFirstSignIn, time.Hour)
		session, err := f.app.RedeemSigninLink(ctx, token, app.PurposeFirstSignIn, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.SetAccountUserActive(ctx, admin, f.custA.ID, cora.ID, false); err != nil {
			t.Fatal(err)
		}
		active, deactivated, err := f.app.AccountUsers(ctx, admin, f.custA.ID)
		if err != nil || len(active) != 0 || len(deactivated) != 1 || deactivated[0].Email != "cora@alpha.example" {
			t.Errorf("after deactivation: active %d, deactivated %+v, %v", len(active), deactivated, err)
		}
		if _, err := f.app.Authenticate(ctx, session, "", ""); !errors.Is(err, canopy.ErrUnauthenticated) {
			t.Errorf("a deactivated user's session: %v", err)
		}
		if err := f.app.SetAccountUserActive(ctx, admin, f.custA.ID, cora.ID, true); err != nil {
			t.Fatal(err)
		}
		if active, _, _ := f.app.AccountUsers(ctx, admin, f.custA.ID); len(active) != 1 {
			t.Errorf("after reactivation: %d active", len(active))
		}
		other := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if err := f.app.SetAccountUserActive(ctx, other, f.custA.ID, cora.ID, false); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B deactivates A's user: %v", err)
		}
		if err := f.app.RemoveAccountUser(ctx, other, f.custA.ID, cora.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B removes A's user: %v", err)
		}
		if _, _, err := f.app.AccountUsers(ctx, other, f.custA.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B lists A's users: %v", err)
		}
		if err := f.app.RemoveAccountUser(ctx, admin, f.custA.ID, cora.ID); err != nil {
			t.Fatal(err)
		}
		if active, deactivated, _ := f.app.AccountUsers(ctx, admin, f.custA.ID); len(active)+len(deactivated) != 0 {
			t.Error("the removed user is still listed")
		}
		results, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "cora@alpha.example"})
		if err != nil || results[0].Outcome != app.Invited {
			t.Errorf("inviting the removed user again: %+v, %v", results, err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionDeactivateUser, canopy.ActionReactivateUser, canopy.ActionRemoveUser}})
		if len(entries) != 3 {
			t.Errorf("deactivate/reactivate/remove entries = %d; want 3", len(entries))
		}
	})
}
