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

// Groups of end users, with managers chosen among the customer's users.
func TestGroupsAndManagers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		cora, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.custA), app.NewStaff{OrgID: f.custA.ID, Name: "Cora", Email: "cora@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		outsider, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.custB), app.NewStaff{OrgID: f.custB.ID, Name: "Bea", Email: "bea@beta.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []string{"eve@alpha.example", "ian@alpha.example"} {
			if err := f.app.AddEndUserBy(ctx, admin, f.custA.ID, e, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		id, err := f.app.CreateGroup(ctx, admin, f.custA.ID, "Finance")
		if err != nil {
			t.Fatal(err)
		}
		var fe canopy.FieldErrors
		if _, err := f.app.CreateGroup(ctx, admin, f.custA.ID, " Finance "); !errors.As(err, &fe) || fe["name"] == "" {
			t.Errorf("a second Finance: %v", err)
		}
		if err := f.app.AddGroupMembers(ctx, admin, f.custA.ID, id, "eve@alpha.example, nobody@alpha.example"); !errors.As(err, &fe) || fe["members"] == "" {
			t.Errorf("a non-member address: %v", err)
		}
		if err := f.app.AddGroupMembers(ctx, admin, f.custA.ID, id, "eve@alpha.example ian@alpha.example"); err != nil {
			t.Fatal(err)
		}
		if err := f.app.SetGroupManagers(ctx, admin, f.custA.ID, id, []canopy.PersonID{cora.ID, outsider.ID}); !errors.As(err, &fe) || fe["managers"] == "" {
			t.Errorf("a manager from another customer: %v", err)
		}
		if err := f.app.SetGroupManagers(ctx, admin, f.custA.ID, id, []canopy.PersonID{cora.ID, cora.ID}); err != nil {
			t.Fatal(err)
		}
		groups, err := f.app.Groups(ctx, admin, f.custA.ID)
		if err != nil || len(groups) != 1 || groups[0].Members != 2 || len(groups[0].Managers) != 1 || groups[0].Managers[0].Name != "Cora" {
			t.Errorf("groups = %+v, %v", groups, err)
		}
		other := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		if _, err := f.app.Groups(ctx, other, f.custA.ID); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B lists A's groups: %v", err)
		}
		if err := f.app.SetGroupManagers(ctx, other, f.custA.ID, id, nil); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("MSP B edits A's group: %v", err)
		}
		if err := f.app.AddGroupMembers(ctx, admin, f.custB.ID, id, "bob@beta.example"); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("A's group through customer B: %v", err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionAddUserGroup, canopy.ActionAddGroupMember, canopy.ActionSetGroupManagers}})
		if len(entries) != 3 {
			t.Errorf("group entries = %d; want 3", len(entries))
		}
	})
}
