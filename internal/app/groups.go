package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/canopy-channel/canopy/internal/canopy"
	"github.com/canopy-channel/canopy/internal/store"
)

// Groups lists a customer's groups with their members and managers.
func (a *App) Groups(ctx context.Context, v Viewer, customer canopy.OrgID) ([]store.Group, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return nil, err
	}
	if err := mayManage(v, c); err != nil {
		return nil, err
	}
	return a.store.GroupsOf(ctx, v.Scope(), c.ID, 1000)
}

// inCustomer runs fn in a transaction on a customer the viewer manages.
func (a *App) inCustomer(ctx context.Context, v Viewer, customer canopy.OrgID, fn func(tx *store.Tx, c canopy.Org) error) error {
	return a.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Org(ctx, v.Scope(), customer)
		if err != nil {
			return err
		}
		if c.Kind != canopy.KindCustomer {
			return fmt.Errorf("groups: %w", canopy.ErrNotFound)
		}
		if err := mayManage(v, c); err != nil {
			return err
		}
		return fn(tx, c)
	})
}

// CreateGroup adds a group of end users to a customer.
func (a *App) CreateGroup(ctx context.Context, v Viewer, customer canopy.OrgID, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return 0, canopy.FieldErrors{"name": "Name the group (at most 100 characters)."}
	}
	now := a.clock.Now()
	var id int64
	err := a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		var err error
		id, err = tx.CreateGroup(ctx, c.ID, name, now)
		if errors.Is(err, canopy.ErrConflict) {
			return canopy.FieldErrors{"name": c.Name + " has a group called " + name + " already."}
		}
		if err != nil {
			return err
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionAddUserGroup, "group", fmt.Sprint(id), name, nil, map[string]string{"name": name}, now))
		return err
	})
	return id, err
}

// AddGroupMembers adds end users, by address, to a group; it returns the
// addresses that are not end users of the customer (nothing is added then).
func (a *App) AddGroupMembers(ctx context.Context, v Viewer, customer canopy.OrgID, group int64, addresses string) error {
	emails := SplitList(strings.ToLower(addresses))
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		name, err := tx.GroupName(ctx, c.ID, group)
		if err != nil {
			return err // another customer's group is not found, whatever the input
		}
		if len(emails) == 0 || len(emails) > MaxInvitesAtOnce {
			return canopy.FieldErrors{"members": fmt.Sprintf("Enter 1 to %d end users' addresses.", MaxInvitesAtOnce)}
		}
		missing, err := tx.AddGroupMembers(ctx, c.ID, group, emails)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return canopy.FieldErrors{"members": "Not end users of " + c.Name + ": " + strings.Join(missing, ", ") + ". Nothing was added."}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionAddGroupMember, "group", fmt.Sprint(group), name, nil, map[string]any{"added": emails}, now))
		return err
	})
}

// SetGroupManagers makes the given users of the customer its group's
// managers (they get the group's weekly report).
func (a *App) SetGroupManagers(ctx context.Context, v Viewer, customer canopy.OrgID, group int64, people []canopy.PersonID) error {
	slices.Sort(people)
	people = slices.Compact(people)
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		name, err := tx.GroupName(ctx, c.ID, group)
		if err != nil {
			return err
		}
		refused, err := tx.SetGroupManagers(ctx, c.ID, group, people)
		if err != nil {
			return err
		}
		if len(refused) > 0 {
			return canopy.FieldErrors{"managers": "Group managers must be users of " + c.Name + "."}
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionSetGroupManagers, "group", fmt.Sprint(group), name, nil, map[string]any{"managers": people}, now))
		return err
	})
}

// GroupMembersPage is how many members a group page shows at once.
const GroupMembersPage = 100

// Group returns one group of a customer the viewer manages, with its
// managers, and a page of its members by email after afterEmail.
func (a *App) Group(ctx context.Context, v Viewer, customer canopy.OrgID, id int64, afterEmail string) (store.Group, []store.EndUser, error) {
	c, err := a.store.Org(ctx, v.Scope(), customer)
	if err != nil {
		return store.Group{}, nil, err
	}
	if c.Kind != canopy.KindCustomer {
		return store.Group{}, nil, fmt.Errorf("group: %w", canopy.ErrNotFound)
	}
	if err := mayManage(v, c); err != nil {
		return store.Group{}, nil, err
	}
	g, err := a.store.Group(ctx, v.Scope(), c.ID, id)
	if err != nil {
		return store.Group{}, nil, err
	}
	members, err := a.store.GroupMembers(ctx, v.Scope(), c.ID, id, strings.ToLower(afterEmail), GroupMembersPage)
	if err != nil {
		return store.Group{}, nil, err
	}
	return g, members, nil
}

// RemoveGroupMembers takes end users, by ID, out of a group. If any of
// them is not a member, nothing is removed and the field error says so;
// the removal is logged with the addresses.
func (a *App) RemoveGroupMembers(ctx context.Context, v Viewer, customer canopy.OrgID, group int64, endUsers []int64) error {
	slices.Sort(endUsers)
	endUsers = slices.Compact(endUsers)
	if len(endUsers) == 0 || len(endUsers) > MaxInvitesAtOnce {
		return canopy.FieldErrors{"members": fmt.Sprintf("Choose 1 to %d members to remove.", MaxInvitesAtOnce)}
	}
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		name, err := tx.GroupName(ctx, c.ID, group)
		if err != nil {
			return err
		}
		removed, err := tx.RemoveGroupMembers(ctx, c.ID, group, endUsers)
		if err != nil {
			return err
		}
		if len(removed) < len(endUsers) {
			return canopy.FieldErrors{"members": fmt.Sprintf("%d of the chosen end users are not members of %s (removed meanwhile?). Nothing was removed: reload the page and choose again.",
				len(endUsers)-len(removed), name)}
		}
		emails := make([]string, 0, len(removed))
		for _, id := range endUsers {
			emails = append(emails, removed[id])
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionRemoveGroupMember, "group", fmt.Sprint(group), name,
			map[string]any{"removed": emails}, nil, now))
		return err
	})
}

// DeleteGroup deletes a group of end users (the end users stay); the
// change log keeps its name, member count and managers.
func (a *App) DeleteGroup(ctx context.Context, v Viewer, customer canopy.OrgID, group int64) error {
	now := a.clock.Now()
	return a.inCustomer(ctx, v, customer, func(tx *store.Tx, c canopy.Org) error {
		g, err := tx.DeleteGroup(ctx, c.ID, group)
		if err != nil {
			return err
		}
		managers := make([]string, len(g.Managers))
		for i, m := range g.Managers {
			managers[i] = m.Email
		}
		_, err = tx.RecordChange(ctx, change(v.Actor, c, canopy.ActionRemoveUserGroup, "group", fmt.Sprint(group), g.Name,
			map[string]any{"name": g.Name, "members": g.Members, "managers": managers}, nil, now))
		return err
	})
}
