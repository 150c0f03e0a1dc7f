package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/canopy-channel/canopy/internal/app"
	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
	"github.com/canopy-channel/canopy/internal/store/storetest"
)

// A group's members page by email with a keyset cursor; members leave one
// or several at a time, all or none; a deleted group takes its members
// and managers with it while the end users and Active Users stay; each
// change is logged; other tenants get not found and a customer User is
// refused.
func TestGroupMembersRemoveAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		admin := app.Viewer{Org: f.mspA, Roles: []canopy.Role{canopy.RoleMSPAdmin}, Name: "Maya"}
		var csv, emails strings.Builder
		for i := range 250 {
			fmt.Fprintf(&csv, "u%03d@alpha.example,U,%d\n", i, i)
			fmt.Fprintf(&emails, "u%03d@alpha.example ", i)
		}
		if _, n, err := f.app.ImportEndUsers(ctx, admin, f.custA.ID, strings.NewReader(csv.String())); err != nil || n != 250 {
			t.Fatalf("import = %d, %v", n, err)
		}
		cora, err := f.app.AddStaff(ctx, canopy.System("test"), canopy.ScopeOf(f.custA), app.NewStaff{OrgID: f.custA.ID, Name: "Cora", Email: "cora@alpha.example", Roles: []canopy.Role{canopy.RoleCustomerUser}})
		if err != nil {
			t.Fatal(err)
		}
		id, err := f.app.CreateGroup(ctx, admin, f.custA.ID, "Finance")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.app.AddGroupMembers(ctx, admin, f.custA.ID, id, emails.String()); err != nil {
			t.Fatal(err)
		}
		if err := f.app.SetGroupManagers(ctx, admin, f.custA.ID, id, []canopy.PersonID{cora.ID}); err != nil {
			t.Fatal(err)
		}
		// Paging: 100, 100, 50, in order, none twice.
		var all []store.EndUser
		after := ""
		for page := 0; ; page++ {
			g, members, err := f.app.Group(ctx, admin, f.custA.ID, id, after)
			if err != nil {
				t.Fatal(err)
			}
			if g.Name != "Finance" || g.Members != 250 || len(g.Managers) != 1 || g.Managers[0].ID != cora.ID {
				t.Fatalf("group = %+v", g)
			}
			all = append(all, members...)
			if len(members) < app.GroupMembersPage {
				break
			}
			after = members[len(members)-1].Email
		}
		if len(all) != 250 || all[0].Email != "u000@alpha.example" || all[249].Email != "u249@alpha.example" {
			t.Fatalf("paged members = %d, first %s", len(all), all[0].Email)
		}
		for i := 1; i < len(all); i++ {
			if all[i].Email <= all[i-1].Email {
				t.Fatalf("members out of order at %d: %s after %s", i, all[i].Email, all[i-1].Email)
			}
		}
		members := func() int {
			t.Helper()
			g, _, err := f.app.Group(ctx, admin, f.custA.ID, id, "")
			if err != nil {
				t.Fatal(err)
			}
			return g.Members
		}
		removals := func() []canopy.Change {
			entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionRemoveGroupMember}})
			return entries
		}

		// One, then several.
		if err := f.app.RemoveGroupMembers(ctx, admin, f.custA.ID, id, []int64{all[0].ID}); err != nil {
			t.Fatal(err)
		}
		if err := f.app.RemoveGroupMembers(ctx, admin, f.custA.ID, id, []int64{all[2].ID, all[1].ID, all[2].ID}); err != nil {
			t.Fatal(err)
		}
		if n := members(); n != 247 {
			t.Errorf("members after removing 3 = %d", n)
		}
		if e := removals(); len(e) != 2 || string(e[0].Before) != `{"removed":["u001@alpha.example","u002@alpha.example"]}` || e[0].TargetName != "Finance" {
			t.Errorf("removal entries = %+v", e)
		}
		// Bad input removes nothing: a non-member among members, another
		// customer's end user, none at all.
		if err := f.app.AddEndUserBy(ctx, app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}, f.custB.ID, "bob@beta.example", "", ""); err != nil {
			t.Fatal(err)
		}
		bob, _ := s.EndUserByEmail(ctx, f.custB.ID, "bob@beta.example")
		for _, ids := range [][]int64{{all[3].ID, all[0].ID}, {all[3].ID, bob.ID}, {all[3].ID, 999999}, nil} {
			var fe canopy.FieldErrors
			if err := f.app.RemoveGroupMembers(ctx, admin, f.custA.ID, id, ids); !errors.As(err, &fe) || fe["members"] == "" {
				t.Errorf("remove %v: %v; want a field error", ids, err)
			}
		}
		if n := members(); n != 247 {
			t.Errorf("members after refused removals = %d; want 247", n)
		}
		if n := len(removals()); n != 2 {
			t.Errorf("refused removals logged: %d entries", n)
		}

		// A group of customer B under customer A's ID, and other viewers.
		mspB := app.Viewer{Org: f.mspB, Roles: []canopy.Role{canopy.RoleMSPAdmin}}
		bGroup, err := f.app.CreateGroup(ctx, mspB, f.custB.ID, "Beta team")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.Group(ctx, admin, f.custA.ID, bGroup, ""); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("B's group under A: %v", err)
		}
		if err := f.app.RemoveGroupMembers(ctx, admin, f.custA.ID, bGroup, []int64{all[3].ID}); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("remove from B's group under A: %v", err)
		}
		if err := f.app.DeleteGroup(ctx, admin, f.custA.ID, bGroup); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("delete B's group under A: %v", err)
		}
		adminB := app.Viewer{Org: f.custB, Roles: []canopy.Role{canopy.RoleCustomerAdmin}}
		userA := app.Viewer{Org: f.custA, Roles: []canopy.Role{canopy.RoleCustomerUser}}
		for _, c := range []struct {
			name string
			v    app.Viewer
			want error
		}{{"MSP B", mspB, canopy.ErrNotFound}, {"customer B's admin", adminB, canopy.ErrNotFound}, {"a customer User", userA, canopy.ErrForbidden}} {
			if _, _, err := f.app.Group(ctx, c.v, f.custA.ID, id, ""); !errors.Is(err, c.want) {
				t.Errorf("%s reads the group: %v", c.name, err)
			}
			if err := f.app.RemoveGroupMembers(ctx, c.v, f.custA.ID, id, []int64{all[3].ID}); !errors.Is(err, c.want) {
				t.Errorf("%s removes a member: %v", c.name, err)
			}
			if err := f.app.DeleteGroup(ctx, c.v, f.custA.ID, id); !errors.Is(err, c.want) {
				t.Errorf("%s deletes the group: %v", c.name, err)
			}
		}
		if n := members(); n != 247 {
			t.Errorf("members after others' attempts = %d", n)
		}

		// Delete: the group, its members and managers go; the end users and
		// the Active Users count stay.
		if err := f.app.DeleteGroup(ctx, admin, f.custA.ID, id); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.Group(ctx, admin, f.custA.ID, id, ""); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("the deleted group: %v", err)
		}
		if err := f.app.DeleteGroup(ctx, admin, f.custA.ID, id); !errors.Is(err, canopy.ErrNotFound) {
			t.Errorf("deleted twice: %v", err)
		}
		if groups, _ := f.app.Groups(ctx, admin, f.custA.ID); len(groups) != 0 {
			t.Errorf("groups after delete = %+v", groups)
		}
		c, _ := f.app.Customer(ctx, admin, f.custA.TenantID)
		if c.ActiveUsers != 250 {
			t.Errorf("active users after delete = %d; want 250", c.ActiveUsers)
		}
		if err := s.VerifyActiveUserCounts(ctx); err != nil {
			t.Error(err)
		}
		entries, _ := s.Changes(ctx, canopy.ScopeOf(f.custA), f.custA.ID, canopy.ChangeFilter{Actions: []canopy.Action{canopy.ActionRemoveUserGroup}})
		if len(entries) != 1 || string(entries[0].Before) != `{"managers":["cora@alpha.example"],"members":247,"name":"Finance"}` || entries[0].After != nil {
			t.Errorf("delete entry = %+v", entries)
		}
		// The name is free again.
		if _, err := f.app.CreateGroup(ctx, admin, f.custA.ID, "Finance"); err != nil {
			t.Errorf("Finance again: %v", err)
		}
	})
}
