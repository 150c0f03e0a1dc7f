package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// Sub-accounts: create, nest, rename, delete only when empty; another
// customer's and another MSP's are out of reach.
func TestSubAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		east, err := f.app.CreateSubAccount(ctx, admin, f.custA.ID, 0, "East")
		if err != nil {
			t.Fatal(err)
		}
		site, err := f.app.CreateSubAccount(ctx, admin, f.custA.ID, east.ID, "East / Leeds")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.RenameSubAccount(ctx, admin, f.custA.ID, site.ID, "Leeds"); err != nil {
			t.Fatal(err)
		}
		list, err := f.app.SubAccounts(ctx, admin, f.custA.ID)
		if err != nil || len(list) != 2 || list[0].Name != "East" || list[1].Name != "Leeds" || list[1].ParentID != east.ID {
			t.Errorf("sub-accounts = %+v, %v", list, err)
		}
		var fe canopy.FieldErrors
		if err := f.app.DeleteSubAccount(ctx, admin, f.custA.ID, east.ID); !errors.As(err, &fe) {
			t.Errorf("deleting a sub-account with a child: %v", err)
		}
		if err := f.app.DeleteSubAccount(ctx, admin, f.custA.ID, site.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.app.DeleteSubAccount(ctx, admin, f.custA.ID, east.ID); err != nil {
			t.Fatal(err)
		}
		bSub, err := f.app.CreateSubAccount(ctx, app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}, f.custB.ID, 0, "West")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.CreateSubAccount(ctx, admin, f.custA.ID, bSub.ID, "Sneaky"); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("nesting under another customer's sub-account: %v", err)
		}
		if err := f.app.RenameSubAccount(ctx, admin, f.custB.ID, bSub.ID, "Mine"); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("renaming MSP B's sub-account: %v", err)
		}
		if err := f.app.DeleteSubAccount(ctx, admin, f.custA.ID, bSub.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("deleting B's sub-account through A: %v", err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionCreateSubAccount, canopy.ActionUpdateOrg, canopy.ActionDeleteSubAccount}})
		if len(entries) != 5 {
			t.Errorf("sub-account entries = %d; want 5", len(entries))
		}
	})
}

// An invitation grants only sub-accounts of its own customer.
func TestInvitationSubAccountsBelongToTheCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		east, err := f.app.CreateSubAccount(ctx, admin, f.custA.ID, 0, "East")
		if err != nil {
			t.Fatal(err)
		}
		west, err := f.app.CreateSubAccount(ctx, app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}, f.custB.ID, 0, "West")
		if err != nil {
			t.Fatal(err)
		}
		var fe canopy.FieldErrors
		if _, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "ann@alpha.example", SubAccounts: []canopy.OrgID{west.ID}}); !errors.As(err, &fe) || fe["sub_accounts"] == "" {
			t.Errorf("another customer's sub-account: %v", err)
		}
		results, err := f.app.InviteUsers(ctx, admin, f.custA.ID, app.InviteInput{Addresses: "ann@alpha.example", SubAccounts: []canopy.OrgID{east.ID}})
		if err != nil || results[0].Outcome != app.Invited {
			t.Fatalf("own sub-account: %+v, %v", results, err)
		}
		pending, _ := f.app.PendingInvitations(ctx, admin, f.custA.ID)
		if len(pending) != 1 || len(pending[0].SubAccounts) != 1 || pending[0].SubAccounts[0] != east.ID {
			t.Errorf("pending = %+v", pending)
		}
	})
}
